//! Several real `glance-api` processes on one database and one image directory,
//! spoken to over loopback HTTP/1.1 with a minimal blocking client (one request per
//! connection), so tests can fire requests at them from many threads at once.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_glance-api");

/// One answer: status, lower-cased headers, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A `glance-api` process; killed when dropped.
pub struct Node {
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl Node {
    /// Starts a node on a free port with `[database] connection = url`, the
    /// filesystem store in `images`, identity from trusted headers, and waits until
    /// it answers (or panics with its log).
    pub fn start(url: &str, images: &Path, home: &Path) -> Node {
        let port = free_port();
        let conf = home.join(format!("node-{port}.conf"));
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\n\
                 [database]\nconnection = {url}\nmax_retries = 0\n\
                 [glance_store]\nfilesystem_store_datadir = {}\n\
                 [paste_deploy]\nflavor = trusted-auth\n",
                images.display()
            ),
        )
        .unwrap();
        let log = home.join(format!("node-{port}.log"));
        let child = Command::new(BIN)
            .arg("--config-file")
            .arg(&conf)
            .arg("--data-dir")
            .arg(home.join(format!("data-{port}")))
            .env("HOME", home)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("glance-api starts");
        Node { port, child, log }
    }

    /// Waits until the node answers `GET /versions`.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(r) = try_request(self.port, "GET", "/versions", &[], &[]) {
                if r.status == 200 {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("node on {} exited ({status}): {}", self.port, self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("node on {} never answered: {}", self.port, self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A request as project `p-shared` with the member and admin roles.
    pub fn call(&self, method: &str, path: &str, body: &[u8], content_type: &str) -> Reply {
        let headers = [
            ("X-Identity-Status", "Confirmed"),
            ("X-Project-Id", "p-shared"),
            ("X-User-Id", "u-shared"),
            ("X-Roles", "admin,member,reader"),
            ("Content-Type", content_type),
        ];
        try_request(self.port, method, path, &headers, body).unwrap_or_else(|| {
            panic!(
                "{method} {path} on {}: no answer; {}",
                self.port,
                self.log()
            )
        })
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.call(
            method,
            path,
            body.to_string().as_bytes(),
            "application/json",
        )
    }

    pub fn patch(&self, path: &str, ops: &Value) -> Reply {
        let media = "application/openstack-images-v2.1-json-patch";
        self.call("PATCH", path, ops.to_string().as_bytes(), media)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], "application/json")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One request on its own connection; None when nothing answers.
fn try_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
