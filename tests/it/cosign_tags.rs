//! cosign's tag-based signatures and attestations (what `cosign sign --key` before cosign 3 and
//! Tekton Chains store): `sha256-<hex>.sig` and `.att` beside a model artifact on the real
//! registry, made here byte for byte as cosign lays them out (go-containerregistry's manifest and
//! config, a simple-signing payload signed with an ECDSA P-256 key, a DSSE envelope over an SLSA
//! provenance statement). discover shows them; discover --verify checks them under a policy
//! issuer of kind "cosign"; a wrong key, a signature moved to another artifact, and an
//! attestation moved with it are refused; copy -r carries them along.

use crate::common::{keygen, modelseal};
use crate::common::{registry, sha256_digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal::core::crypto::PrivateKey;
use modelseal::oci::Target;
use modelseal::oci::manifest::Descriptor;
use modelseal::oci::registry::Connection;
use modelseal::oci::target::{BlobSource, no_progress};
use predicates::str::contains;
use serde_json::json;

use std::path::{Path, PathBuf};

/// A model-manifest artifact at `reference` (the tiny model's manifest as its in-toto layer,
/// `label` as an annotation so that each is another manifest); returns its manifest digest.
fn push_model(dir: &Path, reference: &str, label: &str) -> String {
    let manifest = dir.join("model-manifest.json");
    modelseal()
        .args(["hash", "examples/tiny-model", "-o"])
        .arg(&manifest)
        .assert()
        .success();
    modelseal()
        .current_dir(dir)
        .args([
            "push",
            reference,
            "model-manifest.json:application/vnd.in-toto+json",
            "-a",
            &format!("org.opencontainers.image.title={label}"),
        ])
        .assert()
        .success();
    let out = modelseal()
        .args(["manifest", "fetch", reference])
        .assert()
        .success();
    sha256_digest(&out.get_output().stdout)
}

/// A layer of a cosign tag: its media type, bytes and annotations.
struct Layer {
    media_type: &'static str,
    bytes: Vec<u8>,
    annotations: serde_json::Value,
}

/// Pushes a cosign tag `tag` in `repository` holding `layers`, as cosign writes it: an OCI image
/// manifest whose config is go-containerregistry's empty image with the layers' diff IDs.
fn push_cosign_tag(repository: &str, tag: &str, layers: &[Layer]) {
    let config = serde_json::to_vec(&json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": layers.iter().map(|_| json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| sha256_digest(&l.bytes)).collect::<Vec<_>>()},
        "config": {}
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": sha256_digest(&config)
        },
        "layers": layers.iter().map(|l| json!({
            "mediaType": l.media_type,
            "size": l.bytes.len(),
            "digest": sha256_digest(&l.bytes),
            "annotations": l.annotations
        })).collect::<Vec<_>>()
    }))
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (target, _) = modelseal::oci::open::open(
            &format!("{repository}:{tag}"),
            false,
            &Connection {
                plain_http: true,
                username: None,
                password: None,
                ..Default::default()
            },
            false,
        )
        .await
        .unwrap();
        let blobs = std::iter::once((&config, "application/vnd.oci.image.config.v1+json"))
            .chain(layers.iter().map(|l| (&l.bytes, l.media_type)));
        for (bytes, media_type) in blobs {
            let d = Descriptor::of(media_type, bytes);
            target
                .push_blob(&d, BlobSource::Bytes(bytes), &no_progress())
                .await
                .unwrap();
        }
        target
            .push_manifest(
                &manifest,
                "application/vnd.oci.image.manifest.v1+json",
                Some(tag),
            )
            .await
            .unwrap();
    });
}

fn tag_for(digest: &str, suffix: &str) -> String {
    format!("{}.{suffix}", digest.replacen(':', "-", 1))
}

/// cosign's signature over `digest`: the simple-signing payload exactly as cosign marshals it.
fn signature_layer(key: &PrivateKey, repository: &str, digest: &str) -> Layer {
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{repository}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes();
    let signature = B64.encode(key.sign_der(&payload).unwrap());
    Layer {
        media_type: "application/vnd.dev.cosign.simplesigning.v1+json",
        bytes: payload,
        annotations: json!({"dev.cosignproject.cosign/signature": signature}),
    }
}

/// A Tekton Chains-style SLSA v0.2 provenance attestation for `digest`, in a DSSE envelope.
fn provenance_layer(key: &PrivateKey, repository: &str, digest: &str) -> Layer {
    let statement = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": repository, "digest": {"sha256": &digest[7..]}}],
        "predicate": {
            "builder": {"id": "https://tekton.dev/chains/v2"},
            "buildType": "tekton.dev/v1beta1/TaskRun",
            "materials": [{"uri": "git+https://git.example/models/tiny.git", "digest": {"sha1": "0d3c3a1f"}}]
        }
    }))
    .unwrap();
    let payload_type = "application/vnd.in-toto+json";
    let pae = modelseal::core::sigstore::pae(payload_type, &statement);
    let envelope = serde_json::to_vec(&json!({
        "payloadType": payload_type,
        "payload": B64.encode(&statement),
        "signatures": [{"keyid": "", "sig": B64.encode(key.sign_der(&pae).unwrap())}]
    }))
    .unwrap();
    Layer {
        media_type: "application/vnd.dsse.envelope.v1+json",
        bytes: envelope,
        annotations: json!({
            "dev.cosignproject.cosign/signature": "",
            "predicateType": "https://slsa.dev/provenance/v0.2"
        }),
    }
}

fn cosign_policy(dir: &Path, name: &str, public: &Path, required: Option<&str>) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let required = required
        .map(|r| format!("required_artifact_types = {r}\n"))
        .unwrap_or_default();
    std::fs::write(
        &path,
        format!(
            "version = 2\n[[policy]]\nname = \"{name}\"\nscopes = [\"*\"]\n{required}\
             [[policy.issuers]]\nkind = \"cosign\"\nkey = {:?}\n",
            public.display().to_string()
        ),
    )
    .unwrap();
    path
}

fn discover_verify(reference: &str, policy: &Path) -> assert_cmd::assert::Assert {
    modelseal()
        .args(["discover", "--verify", reference, "--policy"])
        .arg(policy)
        .assert()
}

#[test]
fn cosign_signatures_and_attestations_are_shown_checked_refused_when_moved_and_copied() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let registry = registry();
    let repo = format!("{registry}/cosign/tiny");
    let (private, public) = keygen(d, "ES256");
    let key = PrivateKey::from_pem(&std::fs::read_to_string(&private).unwrap()).unwrap();
    std::fs::create_dir_all(d.join("other")).unwrap();
    let (_, other_public) = keygen(&d.join("other"), "ES256");

    let a = push_model(d, &format!("{repo}:a"), "a");
    push_cosign_tag(
        &repo,
        &tag_for(&a, "sig"),
        &[signature_layer(&key, &repo, &a)],
    );
    push_cosign_tag(
        &repo,
        &tag_for(&a, "att"),
        &[provenance_layer(&key, &repo, &a)],
    );

    // discover shows both, unverified, with the build's lineage.
    modelseal()
        .args(["discover", &format!("{repo}:a")])
        .assert()
        .success()
        .stdout(contains("· cosign signature"))
        .stdout(contains(format!("says it signs {a}")))
        .stdout(contains(
            "cosign attestation (https://slsa.dev/provenance/v0.2)",
        ))
        .stdout(contains("builder: https://tekton.dev/chains/v2"))
        .stdout(contains(
            "material: git+https://git.example/models/tiny.git@sha1:0d3c3a1f",
        ));

    // Verified with the key; the attestation too when the policy requires one.
    let policy = cosign_policy(d, "cosign", &public, None);
    let both = cosign_policy(
        d,
        "both",
        &public,
        Some(r#"["cosign/signature", "cosign/attestation"]"#),
    );
    discover_verify(&format!("{repo}:a"), &policy)
        .success()
        .stdout(contains("✔ cosign signature"))
        .stdout(contains("signed by"))
        .stdout(contains("✔ policy met"));
    discover_verify(&format!("{repo}:a"), &both)
        .success()
        .stdout(contains("✔ cosign attestation"));

    // Another key: refused.
    let wrong = cosign_policy(d, "wrong", &other_public, None);
    discover_verify(&format!("{repo}:a"), &wrong)
        .code(1)
        .stdout(contains("no cosign signature by a policy key holds"))
        .stdout(contains("does not verify with the given key"));

    // Moved: the signature and attestation of A stored under B's tags do not vouch for B.
    let b = push_model(d, &format!("{repo}:b"), "b");
    assert_ne!(a, b);
    push_cosign_tag(
        &repo,
        &tag_for(&b, "sig"),
        &[signature_layer(&key, &repo, &a)],
    );
    push_cosign_tag(
        &repo,
        &tag_for(&b, "att"),
        &[provenance_layer(&key, &repo, &a)],
    );
    discover_verify(&format!("{repo}:b"), &policy)
        .code(1)
        .stdout(contains(format!("signs {a}, not this artifact ({b})")));
    discover_verify(&format!("{repo}:b"), &both)
        .code(1)
        .stdout(contains("no cosign attestation by a policy key holds"))
        .stdout(contains(format!(
            "no subject of the attestation is this artifact ({b})"
        )));
    // Without any: the policy names the tag it looked for.
    let c = push_model(d, &format!("{repo}:c"), "c");
    discover_verify(&format!("{repo}:c"), &policy)
        .code(1)
        .stdout(contains(format!(
            "no cosign signature is stored beside it (tag {})",
            tag_for(&c, "sig")
        )));

    // copy -r carries the tags; the copy verifies in its new repository.
    let copy = format!("{registry}/cosign/copied:a");
    modelseal()
        .args(["copy", "-r", &format!("{repo}:a"), &copy])
        .assert()
        .success();
    discover_verify(&copy, &both)
        .success()
        .stdout(contains("✔ cosign signature"))
        .stdout(contains("✔ cosign attestation"));
}

#[test]
fn a_cosign_issuer_is_a_key_alone_and_lint_knows_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "version = 2\n[[policy]]\nname = \"p\"\nscopes = [\"*\"]\n[[policy.issuers]]\nkind = \"cosign\"\nkey = {:?}\niss = \"x\"\n",
            public.display().to_string()
        ),
    )
    .unwrap();
    modelseal()
        .args(["policy", "show", "r.example/m:v1", "--policy"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains("a cosign issuer is a key alone"));
    let good = cosign_policy(dir.path(), "good", &public, None);
    modelseal()
        .args(["policy", "lint"])
        .arg(&good)
        .assert()
        .success();
    modelseal()
        .args(["policy", "show", "r.example/m:v1", "--policy"])
        .arg(&good)
        .assert()
        .success()
        .stdout(contains("cosign key: "))
        .stdout(contains("referrers required: cosign/signature"));
}
