//! Who is calling and what they may do: the request context, the layers that build
//! it from a request, the policy engine and property protections.
//!
//! The identity mode is chosen like upstream by `[paste_deploy] flavor`: `noauth`
//! (every request is a full admin without a project), `trusted-auth` (identity
//! headers set by a fronting proxy are trusted) and `keystone` (tokens validated
//! against Keystone, see [`keystone`]). All of them produce the same
//! [`RequestContext`], which [`policy`] rules and [`protections`] judge.

mod context;
pub mod keystone;
mod mode;
pub mod policy;
pub mod protections;

pub use context::RequestContext;
pub use mode::{AuthError, AuthMode, Authenticator, Flavor, IdentityHeaders};
