//! A model server that verifies every model before it serves it, several at once: each model's
//! statements are checked against the trust policy and its files on disk against the signed
//! manifest, concurrently on a multi-threaded runtime (the library's futures are `Send`), and a
//! model that does not verify is never marked ready. The readiness routes follow the KServe /
//! Open Inference Protocol v2 (`GET /v2/models/NAME/ready`).
//!
//!   cargo run --example serve_verified -- POLICY [--oci-layout] NAME=MODEL_DIR@MANIFEST_REF...
//!
//! then `curl 127.0.0.1:PORT/v2/models/NAME/ready`: 200 when verified, 503 with the reasons.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use modelseal::flows::{ModelCheck, verify_model_async};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a model stands after its check.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Verified: it may be served.
    Ready,
    /// Not verified under the policy: the reasons.
    Refused(String),
    /// The check could not run (no policy, registry down…): not served either.
    Failed(String),
}

/// Checks every model at once, each on its own task; returns each model's status by name.
pub async fn verify_all(models: Vec<(String, ModelCheck)>) -> BTreeMap<String, Status> {
    let now = modelseal::core::clock::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, check) in models {
        // `tokio::spawn` needs a `Send` future: the library's are.
        tasks.spawn(async move {
            let status = match verify_model_async(&check, now).await {
                Ok(v) if v.verified => Status::Ready,
                Ok(v) => Status::Refused(v.reasons.join("; ")),
                Err(e) => Status::Failed(e.to_string()),
            };
            (name, status)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (name, status) = done.expect("a verification task panicked");
        out.insert(name, status);
    }
    out
}

/// The HTTP routes over the statuses: `/v2/models/{name}/ready` and `/v2/models` (names and
/// statuses as JSON).
pub fn router(statuses: BTreeMap<String, Status>) -> axum::Router {
    async fn ready(
        State(statuses): State<Arc<BTreeMap<String, Status>>>,
        Path(name): Path<String>,
    ) -> (StatusCode, String) {
        match statuses.get(&name) {
            Some(Status::Ready) => (StatusCode::OK, "ready\n".into()),
            Some(Status::Refused(why)) => {
                (StatusCode::SERVICE_UNAVAILABLE, format!("refused: {why}\n"))
            }
            Some(Status::Failed(why)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not verified: {why}\n"),
            ),
            None => (StatusCode::NOT_FOUND, format!("no model {name}\n")),
        }
    }
    async fn list(
        State(statuses): State<Arc<BTreeMap<String, Status>>>,
    ) -> axum::Json<serde_json::Value> {
        let models: Vec<_> = statuses
            .iter()
            .map(|(name, s)| serde_json::json!({"name": name, "ready": *s == Status::Ready}))
            .collect();
        axum::Json(serde_json::json!({ "models": models }))
    }
    axum::Router::new()
        .route("/v2/models", get(list))
        .route("/v2/models/{name}/ready", get(ready))
        .with_state(Arc::new(statuses))
}

/// `NAME=MODEL_DIR@MANIFEST_REF` (the reference's own `@digest`, if any, stays in it: the split
/// is at the first `@`).
fn parse_model(
    spec: &str,
    policy: &std::path::Path,
    oci_layout: bool,
) -> Option<(String, ModelCheck)> {
    let (name, rest) = spec.split_once('=')?;
    let (dir, reference) = rest.split_once('@')?;
    Some((
        name.to_string(),
        ModelCheck {
            model_dir: dir.into(),
            manifest_ref: reference.to_string(),
            oci_layout,
            policy: Some(policy.to_path_buf()),
        },
    ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: serve_verified POLICY [--oci-layout] NAME=MODEL_DIR@MANIFEST_REF...";
    let Some((policy, rest)) = args.split_first() else {
        eprintln!("{usage}");
        return std::process::ExitCode::from(2);
    };
    let oci_layout = rest.iter().any(|a| a == "--oci-layout");
    let mut models = Vec::new();
    for spec in rest.iter().filter(|a| *a != "--oci-layout") {
        let Some(model) = parse_model(spec, policy.as_ref(), oci_layout) else {
            eprintln!("not NAME=MODEL_DIR@MANIFEST_REF: {spec}\n{usage}");
            return std::process::ExitCode::from(2);
        };
        models.push(model);
    }
    let statuses = verify_all(models).await;
    for (name, status) in &statuses {
        eprintln!("{name}: {status:?}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    println!("http://{}", listener.local_addr().expect("bound"));
    axum::serve(listener, router(statuses))
        .await
        .expect("the server runs");
    std::process::ExitCode::SUCCESS
}
