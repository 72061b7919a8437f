//! A TCP relay in front of Swift for the tests that need to see or break traffic:
//! it records the head of every request it relays, and when armed it cuts the
//! connection that carries the next `n` answer bytes, as a network failure would.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Relay {
    pub port: u16,
    /// Request heads (request line and headers), in arrival order.
    heads: Arc<Mutex<Vec<String>>>,
    /// Answer bytes still allowed through before a cut; negative when disarmed.
    budget: Arc<AtomicI64>,
}

impl Relay {
    pub async fn start(upstream: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let budget = Arc::new(AtomicI64::new(-1));
        let (h, b, upstream) = (heads.clone(), budget.clone(), upstream.to_string());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream).await.unwrap();
                tokio::spawn(relay(client, server, h.clone(), b.clone()));
            }
        });
        Relay {
            port,
            heads,
            budget,
        }
    }

    /// The next connection to carry `bytes` more answer bytes is cut right there.
    pub fn cut_after(&self, bytes: i64) {
        self.budget.store(bytes, Ordering::SeqCst);
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    pub fn count(&self, request_line_start: &str) -> usize {
        self.heads()
            .iter()
            .filter(|h| h.starts_with(request_line_start))
            .count()
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    heads: Arc<Mutex<Vec<String>>>,
    budget: Arc<AtomicI64>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upward = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // Request heads start with a method; body bytes are recorded only when
            // they happen to look like one, which the tests' bodies never do.
            let text = String::from_utf8_lossy(&buf[..n]);
            for method in ["GET ", "PUT ", "HEAD ", "DELETE ", "POST "] {
                if let Some(at) = text.find(method) {
                    let head = text[at..].split("\r\n\r\n").next().unwrap_or_default();
                    heads.lock().unwrap().push(head.to_string());
                    break;
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let left = budget.load(Ordering::SeqCst);
        if left >= 0 {
            if (n as i64) > left {
                budget.store(-1, Ordering::SeqCst);
                let _ = client_write.write_all(&buf[..left as usize]).await;
                break;
            }
            budget.fetch_sub(n as i64, Ordering::SeqCst);
        }
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    upward.abort();
}
