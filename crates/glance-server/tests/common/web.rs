//! A web server on loopback for the tests that make the API fetch data
//! (http locations, web-download, the legacy import task).

use axum::routing::get;
use axum::Router;

/// Serves `data` at `/image.raw` on a free port of 127.0.0.1; returns the port.
pub async fn serve_image(data: Vec<u8>) -> u16 {
    let app = Router::new().route("/image.raw", get(move || async move { data.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}
