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

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
    // Read with our own bound so an oversize body also gets problem details.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Malformed request",
            format!("a statement is at most {MAX_BODY_BYTES} bytes"),
        );
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
        .map(|o| service.log.consistency(o, now()))
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
            Value::Text(service.log.issuer().into()),
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
    let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
    tokio::spawn(committer(log.clone(), rx));
    let service = Service {
        log,
        queue: tx,
        base,
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
