//! The library call a model server makes before loading (`modelseal::flows::verify_model`), and
//! the `verify_before_load` example built on it (compiled in: its `guarded_load`).

#[path = "../../examples/verify_before_load.rs"]
#[allow(dead_code)]
mod verify_before_load;

use crate::common::{copy_dir, keygen, modelseal};
use modelseal::flows::{ModelCheck, verify_model};
use std::path::Path;

#[test]
fn a_server_loads_a_verified_model_and_refuses_a_tampered_one_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let layout = format!("{}:v1", dir.path().join("layout").display());
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
    let policy = dir.path().join("policy.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
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
