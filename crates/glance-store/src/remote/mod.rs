//! What the drivers of remote stores (Swift, S3, HTTP) share: one HTTP client with
//! the TLS options operators set, streaming request bodies, and helpers to read
//! answers without ever holding an image in memory.

mod client;
pub mod ssrf;
mod tls;

pub use tls::client_config as tls_client_config;

pub use client::{
    body_stream, empty_body, full_body, read_small_body, AddressFilter, ChannelBody, HttpClient,
    RequestBody, Response, TlsOptions,
};
