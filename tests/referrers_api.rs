//! The native referrers path: a registry that answers `GET /v2/<name>/referrers/<digest>`.
//! Debian's distribution 2.8 does not, so a small spec-following front (tests/common/front.rs)
//! answers the referrers API from the manifests with a `subject` it has seen stored, and forwards
//! everything else to the real registry. modelseal must then use the API and write no tag-schema
//! index.

mod common;
#[path = "common/front.rs"]
mod front;

use axum::body::Body;
use axum::http::Method;
use axum::response::Response;
use common::{json_of, modelseal};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[test]
fn with_the_referrers_api_attach_writes_no_tag_schema_index_and_discover_uses_the_api() {
    native_path("native/api", false);
}

#[test]
fn a_referrers_api_behind_a_bearer_token_is_found_too() {
    // As on ACR and GHCR: the API answers 401 with a Bearer challenge; the token realm is served
    // by the same front.
    native_path("native/token", true);
}

fn native_path(repo: &str, wants_token: bool) {
    let registry = std::env::var("MODELSEAL_TEST_REGISTRY").expect("run under scripts/registry.sh");
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
    let started = front::start(registry.clone(), intercept, observe);
    *front_addr.lock().unwrap() = started.clone();
    let front_addr = started;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), b"{\"native\": true}").unwrap();
    std::fs::write(dir.path().join("model.scitt"), b"statement").unwrap();
    let reference = format!("{front_addr}/{repo}:v1");
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
        *api_calls.lock().unwrap() >= 2,
        "the referrers API was not used"
    );
    let tags = std::process::Command::new("curl")
        .args(["-sf", &format!("http://{registry}/v2/{repo}/tags/list")])
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
