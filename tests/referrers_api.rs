//! The native referrers path: a registry that answers `GET /v2/<name>/referrers/<digest>`.
//! Debian's distribution 2.8 does not, so this test puts a small spec-following front in front of
//! the real registry: it answers the referrers API from the manifests with a `subject` it has
//! seen stored, and forwards everything else. modelseal must then use the API and write no
//! tag-schema index.

mod common;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use common::{json_of, modelseal};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Front {
    upstream: String,
    /// subject digest → referrer descriptors
    referrers: Arc<Mutex<HashMap<String, Vec<Value>>>>,
    api_calls: Arc<Mutex<usize>>,
}

async fn handle(State(front): State<Front>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if parts.method == Method::GET && path.contains("/referrers/") {
        *front.api_calls.lock().unwrap() += 1;
        let digest = path.rsplit('/').next().unwrap_or_default().to_string();
        let wanted = parts
            .uri
            .query()
            .and_then(|q| q.strip_prefix("artifactType="))
            .map(|t| t.replace("%2F", "/"));
        let list: Vec<Value> = front
            .referrers
            .lock()
            .unwrap()
            .get(&digest)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| wanted.as_deref().is_none_or(|t| d["artifactType"] == t))
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": list});
        return Response::builder()
            .header("content-type", "application/vnd.oci.image.index.v1+json")
            .body(Body::from(index.to_string()))
            .unwrap();
    }
    let body: Bytes = axum::body::to_bytes(body, 64 << 20)
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
        if k != "host" {
            headers.insert(k.clone(), v.clone());
        }
    }
    let upstream = reqwest::Client::new()
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let status = upstream.status();
    let mut response = Response::builder().status(status);
    for (k, v) in upstream.headers() {
        response = response.header(k, v);
    }
    if parts.method == Method::PUT
        && path.contains("/manifests/")
        && status.is_success()
        && let Ok(m) = serde_json::from_slice::<Value>(&body)
        && let Some(subject) = m["subject"]["digest"].as_str()
    {
        let descriptor = json!({
            "mediaType": m["mediaType"],
            "digest": format!("sha256:{}", hex::encode(Sha256::digest(&body))),
            "size": body.len(),
            "artifactType": m["artifactType"],
            "annotations": m["annotations"],
        });
        front
            .referrers
            .lock()
            .unwrap()
            .entry(subject.to_string())
            .or_default()
            .push(descriptor);
        response = response.header("OCI-Subject", subject);
    }
    response
        .body(Body::from(upstream.bytes().await.unwrap_or_default()))
        .unwrap_or_else(|_| {
            Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::empty())
                .unwrap()
        })
}

fn start_front(upstream: String) -> (String, Front) {
    let front = Front {
        upstream,
        ..Default::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = front.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().fallback(handle).with_state(state);
            axum::serve(listener, app).await.unwrap();
        });
    });
    (addr, front)
}

#[test]
fn with_the_referrers_api_attach_writes_no_tag_schema_index_and_discover_uses_the_api() {
    let registry = std::env::var("MODELSEAL_TEST_REGISTRY").expect("run under scripts/registry.sh");
    let (front_addr, front) = start_front(registry.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), b"{\"native\": true}").unwrap();
    std::fs::write(dir.path().join("model.scitt"), b"statement").unwrap();
    let reference = format!("{front_addr}/native/api:v1");
    modelseal()
        .current_dir(dir.path())
        .args(["push", &reference, "manifest.json"])
        .assert()
        .success();
    let attached = modelseal()
        .current_dir(dir.path())
        .args(["attach", "--output", "json", &reference, "model.scitt"])
        .assert()
        .success();
    let referrer = json_of(&attached.get_output().stdout)["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let tree = modelseal()
        .args(["discover", "--format", "json", &reference])
        .assert()
        .success();
    assert_eq!(
        json_of(&tree.get_output().stdout)["manifests"][0]["digest"],
        referrer.as_str()
    );
    assert!(
        *front.api_calls.lock().unwrap() >= 2,
        "the referrers API was not used"
    );
    let tags = std::process::Command::new("curl")
        .args(["-sf", &format!("http://{registry}/v2/native/api/tags/list")])
        .output()
        .unwrap();
    let tags = json_of(&tags.stdout);
    assert!(
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t.as_str().unwrap().starts_with("sha256-")),
        "a tag-schema index was written although the registry has the referrers API: {tags}"
    );
}
