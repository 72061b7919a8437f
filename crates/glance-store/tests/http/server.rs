//! The web server the http store tests read from: hyper on 127.0.0.1, an
//! ephemeral port, one image served several ways, every request logged.
//!
//! Routes:
//! - `/ranged/image`    GET and HEAD; honours `Range: bytes=a-b` with a 206
//! - `/plain/image`     ignores `Range`: always 200 and the whole image
//! - `/no-head/image`   HEAD answers 405, GET works
//! - `/chunked/image`   no Content-Length (chunked body)
//! - `/protected/image` as `/ranged/image`, with Basic auth glance:s3cr3t-pw
//! - `/redirect/N`      N > 0: a redirect (301, 302, 303, 307, 308 in turn) to
//!   `/redirect/N-1`; `/redirect/0` is `/ranged/image`
//! - `/loop`            redirects to itself
//! - `/to/TARGET`       302 with `Location: TARGET` (the rest of the path)
//! - anything else      404

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, LOCATION, RANGE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// Larger than any chunk, odd so ranges do not fall on round numbers.
pub const IMAGE_LEN: usize = 3 * 1024 * 1024 + 7;
/// `glance:s3cr3t-pw`, base64.
const BASIC_AUTH: &str = "Basic Z2xhbmNlOnMzY3IzdC1wdw==";

pub use glance_store::behaviour::pattern;

type Body = BoxBody<Bytes, Infallible>;

struct State {
    image: Bytes,
    /// "METHOD path", the Range header if any, the status answered.
    log: Mutex<Vec<(String, Option<String>, u16)>>,
}

pub struct TestServer {
    pub port: u16,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(State {
            image: Bytes::from(pattern(IMAGE_LEN)),
            log: Mutex::new(Vec::new()),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&state, request)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        TestServer { port, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> Vec<(String, Option<String>, u16)> {
        self.state.log.lock().expect("log lock").clone()
    }

    /// "METHOD path" of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .map(|(request, _, _)| request)
            .collect()
    }

    /// "METHOD path RANGE -> STATUS" of the requests that carried a Range.
    pub fn requests_with_range(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter_map(|(request, range, status)| {
                range.map(|range| format!("{request} {range} -> {status}"))
            })
            .collect()
    }

    /// How many requests start with `prefix` ("GET /redirect/").
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(state: &State, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let range = request
        .headers()
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = route(state, &request, &path, range.as_deref());
    let line = format!("{} {path}", request.method());
    state
        .log
        .lock()
        .expect("log lock")
        .push((line, range, response.status().as_u16()));
    response
}

fn route(
    state: &State,
    request: &Request<Incoming>,
    path: &str,
    range: Option<&str>,
) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    if let Some(target) = path.strip_prefix("/to/") {
        return redirect(StatusCode::FOUND, target);
    }
    if let Some(n) = path.strip_prefix("/redirect/") {
        let Ok(n) = n.parse::<usize>() else {
            return status(StatusCode::NOT_FOUND);
        };
        if n == 0 {
            return image(state, head, range, true);
        }
        let codes = [301, 302, 303, 307, 308];
        let code = StatusCode::from_u16(codes[n % codes.len()]).expect("redirect status");
        return redirect(code, &format!("/redirect/{}", n - 1));
    }
    match path {
        "/ranged/image" => image(state, head, range, true),
        "/plain/image" => image(state, head, None, false),
        "/no-head/image" if head => status(StatusCode::METHOD_NOT_ALLOWED),
        "/no-head/image" => image(state, head, range, true),
        "/chunked/image" => {
            let chunks = state
                .image
                .chunks(64 * 1024)
                .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
                .collect::<Vec<Result<Frame<Bytes>, Infallible>>>();
            Response::new(StreamBody::new(stream::iter(chunks)).boxed())
        }
        "/protected/image" => {
            let authorized = request
                .headers()
                .get(AUTHORIZATION)
                .is_some_and(|v| v.as_bytes() == BASIC_AUTH.as_bytes());
            if authorized {
                image(state, head, range, true)
            } else {
                status(StatusCode::UNAUTHORIZED)
            }
        }
        "/loop" => redirect(StatusCode::FOUND, "/loop"),
        _ => status(StatusCode::NOT_FOUND),
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let mut response = Response::new(Empty::new().boxed());
    *response.status_mut() = code;
    response
}

fn redirect(code: StatusCode, target: &str) -> Response<Body> {
    let mut response = status(code);
    response
        .headers_mut()
        .insert(LOCATION, target.parse().expect("Location value"));
    response
}

/// The image, or the part `Range: bytes=a-b` names when `ranges` is on.
fn image(state: &State, head: bool, range: Option<&str>, ranges: bool) -> Response<Body> {
    let len = state.image.len();
    let wanted = range.filter(|_| ranges).map(|r| {
        let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
        let (a, b) = (
            a.parse::<usize>().ok()?,
            b.parse::<usize>().ok()?.min(len - 1),
        );
        (a <= b).then_some((a, b))
    });
    let (code, body, content_range) = match wanted {
        None => (StatusCode::OK, state.image.clone(), None),
        Some(None) => return status(StatusCode::RANGE_NOT_SATISFIABLE),
        Some(Some((a, b))) => (
            StatusCode::PARTIAL_CONTENT,
            state.image.slice(a..=b),
            Some(format!("bytes {a}-{b}/{len}")),
        ),
    };
    let length = body.len();
    let mut response = if head {
        status(code)
    } else {
        let mut r = Response::new(Full::new(body).boxed());
        *r.status_mut() = code;
        r
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, length.into());
    if let Some(value) = content_range {
        headers.insert(CONTENT_RANGE, value.parse().expect("Content-Range value"));
    }
    response
}
