//! Hostile servers on loopback, for what a real server will not do on demand: accept and never
//! answer, record what a proxy or a token realm is sent, answer every request with whatever a
//! closure makes (redirect loops, endless bodies).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A TCP listener that accepts every connection and never answers: returns its host:port.
pub fn silent() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // kept open, never read or written
        }
    });
    addr
}

/// What a recorder saw of each request: its first line and its headers (lowercase names).
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub line: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A listener that records each request's head and answers `status` with an empty body
/// (a proxy that refuses, a token realm that says no): returns host:port and what it saw.
pub fn recorder(status: u16) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = Seen::default();
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                request.line = line.trim_end().to_string();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        request
                            .headers
                            .push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                log.lock().unwrap().push(request);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            });
        }
    });
    (addr, seen)
}

pub type Answer = dyn Fn(&Request<Body>) -> Response + Send + Sync;

/// What every request is told, and the heads of the requests seen so far.
type ServerState = (Arc<Answer>, Arc<Mutex<Vec<Seen>>>);

/// An HTTP server answering every request with `answer` (which may stream an endless body):
/// returns its host:port. Every request's head is recorded in the returned list.
pub fn server(answer: Arc<Answer>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let state = (answer, seen.clone());
    async fn handle(State((answer, seen)): State<ServerState>, request: Request) -> Response {
        seen.lock().unwrap().push(Seen {
            line: format!("{} {}", request.method(), request.uri()),
            headers: request
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                .collect(),
        });
        answer(&request)
    }
    let addr = super::serve_router(axum::Router::new().fallback(handle).with_state(state), 2);
    (addr, seen)
}

/// A body of `total` bytes of `fill`, made as it is sent (never held in memory), with or
/// without a Content-Length.
pub fn endless(total: u64, fill: u8, content_length: bool, status: u16, ct: &str) -> Response {
    const CHUNK: usize = 1 << 20;
    let stream = futures_util::stream::unfold(0u64, move |sent| async move {
        if sent >= total {
            return None;
        }
        let n = (total - sent).min(CHUNK as u64) as usize;
        Some((
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![fill; n])),
            sent + n as u64,
        ))
    });
    let mut r = Response::builder()
        .status(status)
        .header("content-type", ct);
    if content_length {
        r = r.header("content-length", total.to_string());
    }
    r.body(Body::from_stream(stream)).unwrap()
}
