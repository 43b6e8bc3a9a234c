//! A front for the real registry that breaks transfers the way links and proxies do, and counts
//! the blob bytes that cross it.
//!
//! Uploads: like nginx with request buffering, a whole request is received before anything is
//! forwarded, and a cut falls *between* requests (distribution 2.8 cancels a session whose PATCH
//! body was cut part-way, so a byte-level cut there tests the registry, not the client). Every
//! `cut_upload_every` bytes of upload bodies the connection is dropped without an answer and
//! without forwarding, so the client must ask the session where it stands. (Forwarding first
//! and losing the answer would make distribution cancel the session at the next status query:
//! its `_state` token then names a stale offset.) Downloads: the body is cut at the byte, every
//! `cut_download_every` bytes.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What the front does to traffic.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub cut_upload_every: Option<u64>,
    pub cut_download_every: Option<u64>,
    /// Cuts made at most (uploads and downloads together); `None`: no limit.
    pub max_cuts: Option<u64>,
    /// 413 to any upload body larger than this (a proxy's `client_max_body_size`).
    pub max_body: Option<u64>,
    /// Every request needs a Bearer token from the front's `/token`; each token is refused (401)
    /// after this many upload PATCHes/PUTs made with it (it "expired").
    pub token_expires_after: Option<u64>,
    /// Forward blob GETs without their `Range` header (a registry that ignores ranges).
    pub ignore_range: bool,
    /// Every request needs a Bearer token (as with `token_expires_after`), and the token in use
    /// expires (401) on the first upload status query (`GET …/uploads/<id>`) made with it, once.
    pub expire_token_on_status_query: bool,
    /// As above, on the first closing `PUT …/uploads/<id>?digest=` of a chunked upload (empty
    /// body), once.
    pub expire_token_on_final_put: bool,
    /// Each blob request (a blob GET, an upload PATCH or PUT) is held this long before it is
    /// forwarded, so requests that may overlap do.
    pub hold_blob_requests: Option<Duration>,
}

/// What crossed the front.
#[derive(Debug, Default)]
pub struct Wire {
    /// Bytes of upload bodies (PATCH/PUT/POST under `/blobs/uploads/`) received.
    pub upload_bytes: AtomicU64,
    /// Bytes of blob bodies sent to clients.
    pub download_bytes: AtomicU64,
    /// Connections cut.
    pub cuts: AtomicU64,
    /// 401s answered to an expired token.
    pub expired: AtomicU64,
    /// Requests with a `Range` header on a blob GET.
    pub ranged_gets: AtomicU64,
    /// Requests `POST …/uploads/?mount=` answered by the registry with 201.
    pub mounts: AtomicU64,
    /// While set, each chunk of a blob GET body is held back 20 ms (a slow link).
    pub slow: AtomicBool,
    /// Blob requests (GETs until their body is sent, upload PATCHes and PUTs until answered)
    /// in flight now, and the most at any one time.
    pub in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
    /// 401s answered by `expire_token_on_status_query` and `expire_token_on_final_put`.
    pub expired_on_status_query: AtomicU64,
    pub expired_on_final_put: AtomicU64,
    since_upload_cut: AtomicU64,
    since_download_cut: AtomicU64,
    token_generation: AtomicU64,
    uses_of_token: AtomicU64,
}

#[derive(Clone)]
struct Front {
    upstream: String,
    me: Arc<std::sync::Mutex<String>>,
    faults: Faults,
    wire: Arc<Wire>,
    http: reqwest::Client,
}

fn answer(status: u16) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .unwrap()
}

/// A 401 that names the front's own token realm.
fn unauthorized(front: &Front) -> Response {
    let realm = format!(
        "Bearer realm=\"http://{}/token\",service=\"front\"",
        front.me.lock().unwrap()
    );
    Response::builder()
        .status(401)
        .header("www-authenticate", realm)
        .body(Body::empty())
        .unwrap()
}

/// Counts a blob request in flight for as long as it lives.
struct InFlight(Arc<Wire>);

impl InFlight {
    fn new(wire: &Arc<Wire>) -> InFlight {
        let now = wire.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        wire.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(wire.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Drops the connection with no answer: the handler unwinds, and hyper closes the socket.
fn cut() -> ! {
    std::panic::resume_unwind(Box::new("connection cut by the test front"))
}

async fn handle(State(front): State<Front>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let wire = &front.wire;
    let faults = &front.faults;
    if faults.token_expires_after.is_some()
        || faults.expire_token_on_status_query
        || faults.expire_token_on_final_put
    {
        let generation = wire.token_generation.load(Ordering::SeqCst);
        if path == "/token" {
            wire.uses_of_token.store(0, Ordering::SeqCst);
            return Response::builder()
                .body(Body::from(format!(r#"{{"token":"t{generation}"}}"#)))
                .unwrap();
        }
        let good = format!("Bearer t{generation}");
        if parts
            .headers
            .get("authorization")
            .is_none_or(|v| v.as_bytes() != good.as_bytes())
        {
            if parts.headers.contains_key("authorization") {
                wire.expired.fetch_add(1, Ordering::SeqCst);
            }
            return unauthorized(&front);
        }
        let session = path.contains("/blobs/uploads/") && !path.ends_with("/uploads/");
        let status_query = session && parts.method == Method::GET;
        let final_put = session
            && parts.method == Method::PUT
            && query.contains("digest=")
            && parts
                .headers
                .get("content-length")
                .is_none_or(|v| v.as_bytes() == b"0");
        let once = |on: bool, count: &AtomicU64| {
            on && count
                .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        };
        if once(
            faults.expire_token_on_status_query && status_query,
            &wire.expired_on_status_query,
        ) || once(
            faults.expire_token_on_final_put && final_put,
            &wire.expired_on_final_put,
        ) {
            wire.token_generation.fetch_add(1, Ordering::SeqCst);
            wire.expired.fetch_add(1, Ordering::SeqCst);
            return unauthorized(&front);
        }
        let upload = path.contains("/blobs/uploads/")
            && (parts.method == Method::PATCH || parts.method == Method::PUT);
        if let Some(after) = faults.token_expires_after
            && upload
            && wire.uses_of_token.fetch_add(1, Ordering::SeqCst) + 1 >= after
        {
            wire.token_generation.fetch_add(1, Ordering::SeqCst);
        }
    }
    let blob_get = parts.method == Method::GET && path.contains("/blobs/sha256:");
    let blob_upload = path.contains("/blobs/uploads/")
        && (parts.method == Method::PATCH || parts.method == Method::PUT);
    let in_flight = (blob_get || blob_upload).then(|| InFlight::new(wire));
    if let Some(hold) = faults.hold_blob_requests
        && in_flight.is_some()
    {
        tokio::time::sleep(hold).await;
    }
    let body: Bytes = axum::body::to_bytes(body, 1 << 30)
        .await
        .unwrap_or_default();
    let upload = path.contains("/blobs/uploads/") && parts.method != Method::GET;
    if upload {
        if front
            .faults
            .max_body
            .is_some_and(|max| body.len() as u64 > max)
        {
            return answer(413);
        }
        wire.upload_bytes
            .fetch_add(body.len() as u64, Ordering::SeqCst);
    }
    if upload && let Some(every) = front.faults.cut_upload_every {
        let since = wire
            .since_upload_cut
            .fetch_add(body.len() as u64, Ordering::SeqCst)
            + body.len() as u64;
        let spent = front
            .faults
            .max_cuts
            .is_some_and(|m| wire.cuts.load(Ordering::SeqCst) >= m);
        if since >= every && !spent {
            wire.since_upload_cut.store(0, Ordering::SeqCst);
            wire.cuts.fetch_add(1, Ordering::SeqCst);
            cut();
        }
    }
    let url = format!(
        "http://{}{}",
        front.upstream,
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut headers = HeaderMap::new();
    for (k, v) in &parts.headers {
        if blob_get && k == "range" {
            wire.ranged_gets.fetch_add(1, Ordering::SeqCst);
            if front.faults.ignore_range {
                continue;
            }
        }
        headers.insert(k.clone(), v.clone());
    }
    let Ok(upstream) = front
        .http
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body)
        .send()
        .await
    else {
        return answer(502);
    };
    let status = upstream.status();
    if parts.method == Method::POST && query.contains("mount=") && status == StatusCode::CREATED {
        wire.mounts.fetch_add(1, Ordering::SeqCst);
    }
    let mut response = Response::builder().status(status);
    for (k, v) in upstream.headers() {
        response = response.header(k, v);
    }
    if !blob_get || !status.is_success() {
        let body = upstream.bytes().await.unwrap_or_default();
        drop(in_flight);
        return response.body(Body::from(body)).unwrap();
    }
    let every = front.faults.cut_download_every;
    let max_cuts = front.faults.max_cuts;
    let wire = front.wire.clone();
    let stream = upstream.bytes_stream().flat_map(move |chunk| {
        let wire = wire.clone();
        let items: Vec<Result<Bytes, std::io::Error>> = match chunk {
            Err(e) => vec![Err(std::io::Error::other(e))],
            Ok(chunk) => {
                let n = chunk.len() as u64;
                let since = wire.since_download_cut.load(Ordering::SeqCst);
                let spent = max_cuts.is_some_and(|m| wire.cuts.load(Ordering::SeqCst) >= m);
                match every {
                    Some(every) if since + n >= every && !spent => {
                        let keep = (every - since) as usize;
                        wire.since_download_cut.store(0, Ordering::SeqCst);
                        wire.cuts.fetch_add(1, Ordering::SeqCst);
                        wire.download_bytes.fetch_add(keep as u64, Ordering::SeqCst);
                        vec![Ok(chunk.slice(..keep)), Err(std::io::Error::other("cut"))]
                    }
                    _ => {
                        wire.since_download_cut.fetch_add(n, Ordering::SeqCst);
                        wire.download_bytes.fetch_add(n, Ordering::SeqCst);
                        vec![Ok(chunk)]
                    }
                }
            }
        };
        futures_util::stream::iter(items)
    });
    let slow_wire = front.wire.clone();
    let stream = stream.then(move |item| {
        // Held by the body: the GET is in flight until its last byte is sent (or it is dropped).
        let _in_flight = &in_flight;
        let slow = slow_wire.slow.load(Ordering::SeqCst);
        async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            item
        }
    });
    response.body(Body::from_stream(stream)).unwrap()
}

/// Starts a front to `upstream` on 127.0.0.1; returns its host:port and its counters.
pub fn start(upstream: String, faults: Faults) -> (String, Arc<Wire>) {
    let wire = Arc::new(Wire::default());
    // Its own address, known once it listens (nothing reaches it before `start` returns).
    let me = Arc::new(std::sync::Mutex::new(String::new()));
    let state = Front {
        upstream,
        me: me.clone(),
        faults,
        wire: wire.clone(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let addr = super::serve_router(axum::Router::new().fallback(handle).with_state(state), 4);
    *me.lock().unwrap() = addr.clone();
    (addr, wire)
}
