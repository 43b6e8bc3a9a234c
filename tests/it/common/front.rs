//! A small HTTP front for the real registry, for faults and features distribution 2.8 lacks:
//! each request goes to `intercept` first (which may answer it), else to the registry; `observe`
//! sees every forwarded request with the registry's status and may add response headers.
//! Host is kept, so the registry's upload Locations point back at the front.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use std::sync::Arc;

pub type Intercept =
    dyn Fn(&Method, &str, Option<&str>, &HeaderMap) -> Option<Response> + Send + Sync;
pub type Observe = dyn Fn(&Method, &str, &[u8], StatusCode) -> Vec<(String, String)> + Send + Sync;

#[derive(Clone)]
struct Front {
    upstream: String,
    intercept: Arc<Intercept>,
    observe: Arc<Observe>,
}

async fn handle(State(front): State<Front>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if let Some(answer) = (front.intercept)(&parts.method, &path, parts.uri.query(), &parts.headers)
    {
        return answer;
    }
    let body: Bytes = axum::body::to_bytes(body, 256 << 20)
        .await
        .unwrap_or_default();
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
        headers.insert(k.clone(), v.clone());
    }
    let Ok(upstream) = reqwest::Client::new()
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body.clone())
        .send()
        .await
    else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .unwrap();
    };
    let status = upstream.status();
    let mut response = Response::builder().status(status);
    for (k, v) in upstream.headers() {
        response = response.header(k, v);
    }
    for (k, v) in (front.observe)(&parts.method, &path, &body, status) {
        response = response.header(k, v);
    }
    response
        .body(Body::from(upstream.bytes().await.unwrap_or_default()))
        .unwrap()
}

/// Starts a front on 127.0.0.1; returns its host:port.
pub fn start(upstream: String, intercept: Arc<Intercept>, observe: Arc<Observe>) -> String {
    let state = Front {
        upstream,
        intercept,
        observe,
    };
    // Enough workers that an `intercept` which sleeps (to widen a race, or to hold requests
    // while they are counted) holds only its own request, whatever the machine's cores.
    super::serve_router(axum::Router::new().fallback(handle).with_state(state), 16)
}

/// A front that answers the referrers API (distribution spec 1.1) from the manifests with a
/// `subject` it has seen stored, and adds `OCI-Subject` to their PUT answers; with
/// `wants_token`, every request needs a Bearer token from its `/token` realm, as on ACR/GHCR.
/// Returns its host:port and a count of referrers-API calls.
pub fn referrers_front(
    upstream: String,
    wants_token: bool,
) -> (String, Arc<std::sync::Mutex<usize>>) {
    use axum::body::Body;
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::sync::Mutex;
    let front_addr: Arc<Mutex<String>> = Arc::default();
    let realm_host = front_addr.clone();
    let referrers: Arc<Mutex<HashMap<String, Vec<Value>>>> = Arc::default();
    let api_calls = Arc::new(Mutex::new(0usize));
    let (seen, calls) = (referrers.clone(), api_calls.clone());
    let intercept = Arc::new(
        move |method: &Method, path: &str, query: Option<&str>, headers: &axum::http::HeaderMap| {
            if *method == Method::GET && path == "/token" {
                return Some(
                    Response::builder()
                        .body(Body::from(r#"{"token":"pull-token"}"#))
                        .unwrap(),
                );
            }
            // A token registry challenges every request that lacks the token, /v2/ included.
            let authorised = headers
                .get("authorization")
                .is_some_and(|v| v == "Bearer pull-token");
            if wants_token && !authorised {
                let realm = format!(
                    "Bearer realm=\"http://{}/token\",service=\"front\"",
                    realm_host.lock().unwrap()
                );
                return Some(
                    Response::builder()
                        .status(401)
                        .header("www-authenticate", realm)
                        .body(Body::empty())
                        .unwrap(),
                );
            }
            if *method != Method::GET || !path.contains("/referrers/") {
                return None;
            }
            *calls.lock().unwrap() += 1;
            let digest = path.rsplit('/').next().unwrap_or_default();
            let wanted = query
                .and_then(|q| q.strip_prefix("artifactType="))
                .map(|t| t.replace("%2F", "/"));
            let list: Vec<Value> = seen
                .lock()
                .unwrap()
                .get(digest)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|d| wanted.as_deref().is_none_or(|t| d["artifactType"] == t))
                .collect();
            let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": list});
            Some(
                Response::builder()
                    .header("content-type", "application/vnd.oci.image.index.v1+json")
                    .body(Body::from(index.to_string()))
                    .unwrap(),
            )
        },
    );
    let observe = Arc::new(
        move |method: &Method, path: &str, body: &[u8], status: axum::http::StatusCode| {
            if *method != Method::PUT || !path.contains("/manifests/") || !status.is_success() {
                return Vec::new();
            }
            let Ok(m) = serde_json::from_slice::<Value>(body) else {
                return Vec::new();
            };
            let Some(subject) = m["subject"]["digest"].as_str() else {
                return Vec::new();
            };
            let descriptor = json!({
                "mediaType": m["mediaType"],
                "digest": format!("sha256:{}", hex::encode(Sha256::digest(body))),
                "size": body.len(),
                "artifactType": m["artifactType"],
                "annotations": m["annotations"],
            });
            referrers
                .lock()
                .unwrap()
                .entry(subject.to_string())
                .or_default()
                .push(descriptor);
            vec![("OCI-Subject".to_string(), subject.to_string())]
        },
    );
    let started = start(upstream, intercept, observe);
    *front_addr.lock().unwrap() = started.clone();
    (started, api_calls)
}
