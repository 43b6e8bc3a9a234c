//! The workflow layer called as a library, the way a release job and a model server call it:
//! `flows::publish` to an OCI layout and to a real registry (`scripts/registry.sh`), then
//! `flows::pull_verified` into an empty directory, `flows::verify_model` on what was pulled, and
//! a tampered copy refused with its reasons.

use crate::common::registry;
use modelseal::core::crypto::{Algorithm, PrivateKey};
use modelseal::flows::{self, Artifact, ModelCheck, PublishRequest, PullVerifiedRequest, Silent};
use std::path::{Path, PathBuf};

const ISSUER: &str = "https://publisher.example";

/// A signing key, and a strict policy trusting it for every scope.
fn publisher(dir: &Path) -> (PrivateKey, PathBuf) {
    let key = PrivateKey::generate(Algorithm::ES256).unwrap();
    let public = dir.join("publisher.pub");
    std::fs::write(&public, key.public_key().to_spki_pem()).unwrap();
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 2\n\n[[policy]]\nname = \"release\"\nscopes = [\"*\"]\nlevel = \"strict\"\n\
             min_receipts = 0\n\n[[policy.issuers]]\nkey = {:?}\niss = {ISSUER:?}\n",
            public.display().to_string()
        ),
    )
    .unwrap();
    (key, policy)
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Publishes the tiny model with its files to `reference`, pulls it verified, verifies the pulled
/// copy, then tampers with it and sees it refused.
fn publish_pull_verify(dir: &Path, reference: &str, oci_layout: bool) {
    let (key, policy) = publisher(dir);
    let mut request = PublishRequest::new("examples/tiny-model", reference, key, ISSUER);
    request.oci_layout = oci_layout;
    request.files = true;
    let published = block_on(flows::publish(&request, &Silent)).unwrap();
    assert!(published.attached.digest.starts_with("sha256:"));
    assert_eq!(published.attached.referrers.len(), 1);
    assert_eq!(published.attached.manifest.resources.len(), 4);

    let artifact = Artifact {
        reference: reference.into(),
        oci_layout,
        policy: Some(policy.clone()),
        ..Default::default()
    };
    let verdict = block_on(flows::verify_artifact(&artifact)).unwrap();
    assert!(verdict.verified, "{:?}", verdict.reasons);

    let pulled_dir = dir.join("pulled");
    let pulled = block_on(flows::pull_verified(
        &PullVerifiedRequest {
            artifact,
            output_dir: pulled_dir.clone(),
            ..Default::default()
        },
        &Silent,
    ))
    .unwrap();
    assert!(pulled.verified, "{:?}", pulled.reasons);
    assert_eq!(pulled.digest, published.attached.digest);
    assert_eq!(pulled.files.as_ref().unwrap().matched, 4);
    assert!(pulled_dir.join("model.safetensors").is_file());
    // The signed manifest came along; it is a copy of the manifest, not a model file.
    assert!(pulled_dir.join("model-manifest.json").is_file());

    let check = ModelCheck {
        model_dir: pulled_dir.clone(),
        manifest_ref: reference.into(),
        oci_layout,
        policy: Some(policy),
    };
    let verdict = flows::verify_model(&check).unwrap();
    assert!(verdict.verified, "{:?}", verdict.reasons);
    assert_eq!(verdict.files.as_ref().unwrap().matched, 4);

    std::fs::write(pulled_dir.join("model.safetensors"), b"not the weights").unwrap();
    let verdict = flows::verify_model(&check).unwrap();
    assert!(!verdict.verified && verdict.enforced);
    assert_eq!(verdict.reasons, ["modified: model.safetensors"]);
}

#[test]
fn a_model_published_to_a_layout_pulls_verified_and_a_tampered_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    publish_pull_verify(dir.path(), &reference, true);
}

#[test]
fn a_model_published_to_a_registry_pulls_verified_and_a_tampered_copy_is_refused() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "");
    let reference = format!("{registry}/flows/{repo}:v1");
    publish_pull_verify(dir.path(), &reference, false);
}

#[test]
fn publish_refuses_a_reference_without_a_tag_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = publisher(dir.path());
    let mut request = PublishRequest::new(
        "examples/tiny-model",
        dir.path().join("layout").display().to_string(),
        key,
        ISSUER,
    );
    request.oci_layout = true;
    let err = block_on(flows::publish(&request, &Silent)).unwrap_err();
    assert!(matches!(err, flows::FlowError::NeedTag(_)), "{err}");
    assert!(!dir.path().join("layout").exists());
}

#[test]
fn pull_verified_writes_nothing_when_the_policy_trusts_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    let (key, _) = publisher(dir.path());
    let mut request = PublishRequest::new("examples/tiny-model", &reference, key, ISSUER);
    request.oci_layout = true;
    request.files = true;
    block_on(flows::publish(&request, &Silent)).unwrap();
    // Another publisher's policy: the statement does not meet it.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, policy) = publisher(&other);
    let out = dir.path().join("pulled");
    let pulled = block_on(flows::pull_verified(
        &PullVerifiedRequest {
            artifact: Artifact {
                reference,
                oci_layout: true,
                policy: Some(policy),
                ..Default::default()
            },
            output_dir: out.clone(),
            ..Default::default()
        },
        &Silent,
    ))
    .unwrap();
    assert!(!pulled.verified && pulled.enforced);
    assert!(pulled.written.is_empty());
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}
