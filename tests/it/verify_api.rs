//! The library call a model server makes before loading (`modelseal::flows::verify_model`), and
//! the `verify_before_load` example built on it (compiled in: its `guarded_load`).

#[path = "../../examples/verify_before_load.rs"]
#[allow(dead_code)]
mod verify_before_load;

use crate::common::{copy_dir, keygen, modelseal};
use modelseal::flows::{ModelCheck, verify_model};
use std::path::Path;

/// The tiny model published (signed, no receipt) to an OCI layout in `dir`, and a policy
/// trusting its key: (layout reference, policy).
fn published_tiny(dir: &Path) -> (String, std::path::PathBuf) {
    let (key, public) = keygen(dir, "ES256");
    let layout = format!("{}:v1", dir.join("layout").display());
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            &layout,
            "--oci-layout",
            "--key",
        ])
        .arg(&key)
        .args(["--issuer", "https://publisher.example", "--subject", "tiny"])
        .assert()
        .success();
    let policy = dir.join("policy.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
    (layout, policy)
}

#[test]
fn a_server_loads_a_verified_model_and_refuses_a_tampered_one_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, policy) = published_tiny(dir.path());
    let weights = dir.path().join("weights");
    copy_dir(Path::new("examples/tiny-model"), &weights);
    let check = ModelCheck {
        model_dir: weights.clone(),
        manifest_ref: layout.clone(),
        oci_layout: true,
        policy: Some(policy.clone()),
    };
    let verdict = verify_model(&check).unwrap();
    assert!(verdict.verified, "{:?}", verdict.reasons);
    assert_eq!(verdict.files.as_ref().unwrap().matched, 4);

    std::fs::write(weights.join("model.safetensors"), b"not the weights").unwrap();
    let verdict = verify_model(&check).unwrap();
    assert!(!verdict.verified);
    assert_eq!(
        verdict.reasons,
        vec!["modified: model.safetensors".to_string()]
    );

    // The example program guards its load the same way: refused, no load. Its code is compiled
    // into this test, so the check does not depend on the example binary having been built.
    match verify_before_load::guarded_load(&check) {
        verify_before_load::Load::Refused(reasons) => {
            assert!(reasons.contains("modified: model.safetensors"), "{reasons}")
        }
        other => panic!("the example did not refuse: {other:?}"),
    }

    // No policy at all: an error, not a verdict.
    let none = ModelCheck {
        policy: Some(dir.path().join("missing.toml")),
        ..check
    };
    assert!(verify_model(&none).is_err());
}

#[path = "../../examples/serve_verified.rs"]
#[allow(dead_code)]
mod serve_verified;

/// The `serve_verified` example: three models checked at once on spawned tasks (which only
/// compiles because the library's futures are `Send`); only the verified one is ready over HTTP.
#[test]
fn a_server_verifies_several_models_concurrently_and_serves_only_the_verified() {
    use serve_verified::Status;
    let dir = tempfile::tempdir().unwrap();
    let (layout, policy) = published_tiny(dir.path());
    let good = dir.path().join("good");
    let tampered = dir.path().join("tampered");
    copy_dir(Path::new("examples/tiny-model"), &good);
    copy_dir(Path::new("examples/tiny-model"), &tampered);
    std::fs::write(tampered.join("tokenizer.json"), b"{}").unwrap();
    let check = |model: &Path, reference: &str| ModelCheck {
        model_dir: model.to_path_buf(),
        manifest_ref: reference.to_string(),
        oci_layout: true,
        policy: Some(policy.clone()),
    };
    let models = vec![
        ("good".to_string(), check(&good, &layout)),
        ("tampered".to_string(), check(&tampered, &layout)),
        (
            "unpublished".to_string(),
            check(&good, &layout.replace(":v1", ":v2")),
        ),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let statuses = runtime.block_on(serve_verified::verify_all(models));
    assert_eq!(statuses["good"], Status::Ready);
    assert_eq!(
        statuses["tampered"],
        Status::Refused("modified: tokenizer.json".into())
    );
    assert!(
        matches!(&statuses["unpublished"], Status::Failed(why) if why.contains("v2")),
        "{:?}",
        statuses["unpublished"]
    );
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, serve_verified::router(statuses)).await });
        let ready = |name: &'static str| {
            let url = format!("{base}/v2/models/{name}/ready");
            async move {
                let r = reqwest::get(url).await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        assert_eq!(ready("good").await, (200, "ready\n".into()));
        let (code, body) = ready("tampered").await;
        assert_eq!(code, 503);
        assert!(body.contains("modified: tokenizer.json"), "{body}");
        assert_eq!(ready("unpublished").await.0, 503);
        assert_eq!(ready("absent").await.0, 404);
    });
}
