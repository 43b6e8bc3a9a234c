//! `modelseal ts serve`: the embedded log over HTTP, speaking SCRAPI (draft-ietf-scitt-scrapi):
//! `POST /entries` (201 with the receipt), `GET /entries/{id}`, `/.well-known/scitt-keys`
//! (COSE_KeySet) and `/{kid}`, plus the older `/.well-known/transparency-configuration` and
//! `/jwks` for CCF-style clients — one kid everywhere. Registrations that arrive together are
//! appended in one durable transaction (group commit); errors are concise problem details.

use super::TransparencyLog;
use crate::core::cose::cose_key;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use ciborium::Value;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Bound on a registration body: statements are documents, never models.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Registrations committed together at most.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<u64, String>>;

#[derive(Clone)]
struct Service {
    log: Arc<TransparencyLog>,
    queue: mpsc::Sender<(Vec<u8>, Reply)>,
    base: String,
    limits: ServeLimits,
    /// Bodies being read at once: small ones (declared at most `SMALL_BODY_BYTES`) and the
    /// others, apart, so that stalled large uploads never block an ordinary registration.
    small_bodies: Arc<tokio::sync::Semaphore>,
    large_bodies: Arc<tokio::sync::Semaphore>,
}

/// A body declared (Content-Length) at most this long counts as small: a signed statement is
/// usually a few kilobytes.
pub const SMALL_BODY_BYTES: u64 = 64 * 1024;

/// What `ts serve` bears from its clients. Memory held by bodies being read is at most
/// `small_bodies * SMALL_BODY_BYTES + large_bodies * MAX_BODY_BYTES` (4 + 32 MiB by default).
#[derive(Clone, Copy, Debug)]
pub struct ServeLimits {
    /// A client must send its request headers within this long (else the connection closes).
    pub header_read: std::time::Duration,
    /// ... and its whole body within this long (else 408).
    pub body_read: std::time::Duration,
    /// Connections open at once; beyond, 503 with Retry-After and the connection closes.
    pub connections: usize,
    /// Small bodies read at once; beyond, 503 with Retry-After.
    pub small_bodies: usize,
    /// Other bodies read at once; beyond, 503 with Retry-After.
    pub large_bodies: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read: std::time::Duration::from_secs(10),
            body_read: std::time::Duration::from_secs(30),
            connections: 1024,
            small_bodies: 64,
            large_bodies: 8,
        }
    }
}

fn busy(what: &str) -> Response {
    let mut r = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Busy",
        format!("too many {what} at once; retry"),
    );
    r.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    r
}

fn problem(status: StatusCode, title: &str, detail: impl Into<String>) -> Response {
    let map = Value::Map(vec![
        (Value::from(-1), Value::Text(title.into())),
        (Value::from(-2), Value::Text(detail.into())),
    ]);
    let mut body = Vec::new();
    ciborium::into_writer(&map, &mut body).expect("CBOR to memory");
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/concise-problem-details+cbor",
        )],
        body,
    )
        .into_response()
}

fn receipt_response(service: &Service, status: StatusCode, index: u64) -> Response {
    match service.log.receipt(index) {
        Ok(r) => (
            status,
            [
                (header::CONTENT_TYPE, "application/cose".to_string()),
                (
                    header::LOCATION,
                    format!("{}/entries/{index}", service.base),
                ),
            ],
            r,
        )
            .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "Receipt", e.to_string()),
    }
}

async fn register(
    State(service): State<Service>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.starts_with("application/cose") {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Malformed request",
            "Content-Type must be application/cose",
        );
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Malformed request",
            format!("a statement is at most {MAX_BODY_BYTES} bytes"),
        );
    }
    // A permit for the body's class, or 503: the memory bodies hold is bounded.
    let small = declared.is_some_and(|n| n <= SMALL_BODY_BYTES);
    let (pool, limit) = if small {
        (&service.small_bodies, SMALL_BODY_BYTES as usize)
    } else {
        (&service.large_bodies, MAX_BODY_BYTES)
    };
    let Ok(_permit) = pool.clone().try_acquire_owned() else {
        return busy("uploads");
    };
    // Read with our own bound so an oversize body also gets problem details, and within the
    // body deadline so a stalled client gives its permit back.
    let body =
        match tokio::time::timeout(service.limits.body_read, axum::body::to_bytes(body, limit))
            .await
        {
            Err(_) => {
                return problem(
                    StatusCode::REQUEST_TIMEOUT,
                    "Timeout",
                    format!(
                        "the statement did not arrive within {} s",
                        service.limits.body_read.as_secs()
                    ),
                );
            }
            Ok(Err(_)) => {
                return problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Malformed request",
                    format!("a statement is at most {MAX_BODY_BYTES} bytes"),
                );
            }
            Ok(Ok(body)) => body,
        };
    // Admit before queueing, so one bad statement never fails a batch.
    if let Err(e) = service.log.policy().admit(&body, service.log.issuer_keys()) {
        return problem(StatusCode::BAD_REQUEST, "Rejected", e.to_string());
    }
    let (tx, rx) = oneshot::channel();
    if service.queue.send((body.to_vec(), tx)).await.is_err() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "the log is shutting down",
        );
    }
    match rx.await {
        Ok(Ok(index)) => receipt_response(&service, StatusCode::CREATED, index),
        Ok(Err(e)) => problem(StatusCode::BAD_REQUEST, "Rejected", e),
        Err(_) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            "the committer stopped",
        ),
    }
}

async fn entry(State(service): State<Service>, UrlPath(id): UrlPath<String>) -> Response {
    match id.parse::<u64>() {
        Ok(index) if index < service.log.size() => {
            receipt_response(&service, StatusCode::OK, index)
        }
        _ => problem(StatusCode::NOT_FOUND, "Not Found", format!("no entry {id}")),
    }
}

/// `GET /consistency/{old_size}`: a consistency receipt from that tree size to the current one.
async fn consistency(State(service): State<Service>, UrlPath(old): UrlPath<String>) -> Response {
    match old
        .parse::<u64>()
        .ok()
        .map(|o| service.log.consistency(o, crate::core::clock::now()))
    {
        Some(Ok(r)) => ([(header::CONTENT_TYPE, "application/cose")], r).into_response(),
        _ => problem(
            StatusCode::NOT_FOUND,
            "Not Found",
            format!("no tree of size {old} to prove consistency from"),
        ),
    }
}

fn key_set(service: &Service) -> Value {
    Value::Array(
        cose_key(&service.log.public_key(), Some(service.log.kid()))
            .into_iter()
            .collect(),
    )
}

fn cbor(value: &Value) -> Response {
    let mut body = Vec::new();
    ciborium::into_writer(value, &mut body).expect("CBOR to memory");
    ([(header::CONTENT_TYPE, "application/cbor")], body).into_response()
}

async fn keys(State(service): State<Service>) -> Response {
    cbor(&key_set(&service))
}

async fn key_by_id(State(service): State<Service>, UrlPath(kid): UrlPath<String>) -> Response {
    let ours = service.log.kid();
    let matches = kid.as_bytes() == ours
        || base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&kid)
            .is_ok_and(|k| k == ours);
    match (matches, cose_key(&service.log.public_key(), Some(ours))) {
        (true, Some(k)) => cbor(&k),
        _ => problem(
            StatusCode::NOT_FOUND,
            "No such key",
            format!("no key {kid}"),
        ),
    }
}

async fn configuration(State(service): State<Service>) -> Response {
    cbor(&Value::Map(vec![
        (
            Value::Text("issuer".into()),
            Value::Text(service.log.issuer()),
        ),
        (
            Value::Text("jwks_uri".into()),
            Value::Text(format!("{}/jwks", service.base)),
        ),
    ]))
}

async fn jwks(State(service): State<Service>) -> Response {
    let key = service.log.public_key();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let kid = String::from_utf8_lossy(service.log.kid()).to_string();
    let jwk = match key.ec_coordinates() {
        Some((x, y)) => {
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&x), "y": b64(&y), "kid": kid, "alg": "ES256"})
        }
        None => serde_json::json!({}),
    };
    axum::Json(serde_json::json!({"keys": [jwk]})).into_response()
}

/// Takes whatever registrations are queued (up to MAX_BATCH) and appends them in one durable
/// commit; each waiter gets its index once the batch is on disk.
async fn committer(log: Arc<TransparencyLog>, mut queue: mpsc::Receiver<(Vec<u8>, Reply)>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let statements: Vec<Vec<u8>> = batch.iter().map(|(s, _)| s.clone()).collect();
        let log2 = log.clone();
        let result = tokio::task::spawn_blocking(move || log2.append(&statements)).await;
        match result {
            Ok(Ok(indexes)) => {
                for ((_, reply), index) in batch.into_iter().zip(indexes) {
                    let _ = reply.send(Ok(index));
                }
            }
            Ok(Err(e)) => {
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
            Err(e) => {
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// The SCRAPI router over `log`; `base` is the URL clients reach it at (for Location headers).
pub fn router(log: Arc<TransparencyLog>, base: String) -> Router {
    router_with(log, base, ServeLimits::default())
}

/// [`router`] with given limits on bodies being read.
pub fn router_with(log: Arc<TransparencyLog>, base: String, limits: ServeLimits) -> Router {
    let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
    tokio::spawn(committer(log.clone(), rx));
    let service = Service {
        log,
        queue: tx,
        base,
        limits,
        small_bodies: Arc::new(tokio::sync::Semaphore::new(limits.small_bodies)),
        large_bodies: Arc::new(tokio::sync::Semaphore::new(limits.large_bodies)),
    };
    Router::new()
        .route("/entries", post(register))
        .route("/entries/{id}", get(entry))
        .route("/consistency/{old}", get(consistency))
        .route("/.well-known/scitt-keys", get(keys))
        .route("/.well-known/scitt-keys/{kid}", get(key_by_id))
        .route(
            "/.well-known/transparency-configuration",
            get(configuration),
        )
        .route("/jwks", get(jwks))
        .layer(DefaultBodyLimit::disable())
        .with_state(service)
}

/// Serves `app` on `listener` until `shutdown` completes, bounding what clients can hold:
/// headers must arrive within `limits.header_read`, at most `limits.connections` connections
/// are open (beyond, a 503 with Retry-After and the connection closes), and the router's own
/// body limits apply (see [`router_with`]). HTTP/1.1, keep-alive.
/// Binds `listen` (`host:port`) and serves `log` there with the default limits until
/// `shutdown` resolves; `on_listening` gets the service's base URL (`http://host:port`) once it
/// is bound.
pub async fn serve_at(
    log: Arc<TransparencyLog>,
    listen: &str,
    on_listening: impl FnOnce(&str),
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("listening on {listen}: {e}")))?;
    let base = format!("http://{}", listener.local_addr()?);
    log.serve_as(&base);
    on_listening(&base);
    let limits = ServeLimits::default();
    serve(listener, router_with(log, base, limits), limits, shutdown).await
}

/// Serves `app` on `listener` until `shutdown` completes, with `limits`: at most
/// `limits.connections` connections at once (others get a 503 with Retry-After and are closed),
/// request headers within `limits.header_read`. Accept errors (out of descriptors) are waited out,
/// not returned.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.connections));
    let service = hyper_util::service::TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a little, keep serving.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tokio::spawn(refuse_busy(stream));
            continue;
        };
        let service = service.clone();
        let header_read = limits.header_read;
        tokio::spawn(async move {
            let _permit = permit;
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A 503 with Retry-After written straight to a connection over the cap, which then closes.
async fn refuse_busy(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        stream.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
    )
    .await;
    let _ = stream.shutdown().await;
}
