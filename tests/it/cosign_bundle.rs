//! `publish --also-sigstore-bundle` and `seal --also-sigstore-bundle`: beside the transparent
//! statement, a Sigstore bundle v0.3 in cosign's exact referrer shape (`cosign attest
//! --new-bundle-format`, cosign's specs/BUNDLE_SPEC.md), whose DSSE in-toto statement has the
//! pushed manifest's digest as subject and model-signing's predicate. Checked field by field on
//! the real registry, verified by `discover --verify` only on the artifact it names, refused when
//! copied onto another artifact; parsed and its DSSE signature checked by sigstore-python (the
//! `interop_` test, run by scripts/interop.sh).

use crate::common::publish::ISSUER;
use crate::common::{json_of, keygen, modelseal, registry, sha256_digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal::core::crypto::PublicKey;
use modelseal::oci::manifest::Descriptor;
use modelseal::oci::open::open;
use modelseal::oci::reference::Selector;
use modelseal::oci::registry::Connection;
use modelseal::oci::target::{ReadTarget, Target};
use predicates::str::contains;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
const EPOCH: &str = "1700000000";
const CREATED: &str = "2023-11-14T22:13:20Z";

fn model(dir: &Path) -> PathBuf {
    let m = dir.join("tiny");
    std::fs::create_dir_all(m.join("src")).unwrap();
    std::fs::write(m.join("model.safetensors"), b"\x00weights\x01".repeat(64)).unwrap();
    std::fs::write(m.join("config.json"), br#"{"torch_dtype":"bfloat16"}"#).unwrap();
    std::fs::write(m.join("README.md"), b"# tiny\n").unwrap();
    std::fs::write(m.join("src/infer.py"), b"print('hi')\n").unwrap();
    m
}

/// A policy trusting `public` for [`ISSUER`] everywhere that requires both a transparent
/// statement and a Sigstore bundle to verify.
fn policy(dir: &Path, name: &str, public: &Path) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "version = 2\n[[policy]]\nname = \"models\"\nscopes = [\"*\"]\n\
             required_artifact_types = [\"scitt/transparent-statement\", \"{BUNDLE_TYPE}\"]\n\
             [[policy.issuers]]\nkey = \"{}\"\niss = \"{ISSUER}\"\n",
            public.display()
        ),
    )
    .unwrap();
    path
}

fn connection() -> Connection {
    Connection {
        plain_http: true,
        ..Default::default()
    }
}

/// What a registry or layout holds for the Sigstore bundle referrers of `reference`: each
/// referrer's descriptor (as listed), manifest bytes, and the bundle blob.
struct Attached {
    subject: Descriptor,
    listed: Descriptor,
    manifest: Vec<u8>,
    config: Vec<u8>,
    bundle: Vec<u8>,
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

async fn blob<T: Target>(target: &T, d: &Descriptor) -> Vec<u8> {
    modelseal::oci::documents::fetch_small_blob(target, d, 1 << 20)
        .await
        .unwrap()
}

fn bundles_of(reference: &str, layout: bool) -> Vec<Attached> {
    rt().block_on(async {
        let (target, selector) = open(reference, layout, &connection(), false).await.unwrap();
        let subject = target.resolve(&selector.unwrap()).await.unwrap();
        let mut found = Vec::new();
        for listed in target.referrers(&subject, None).await.unwrap() {
            if listed.artifact_type.as_deref() != Some(BUNDLE_TYPE) {
                continue;
            }
            let manifest = target.fetch_manifest(&listed).await.unwrap();
            let m = json_of(&manifest);
            let layer: Descriptor = serde_json::from_value(m["layers"][0].clone()).unwrap();
            let config: Descriptor = serde_json::from_value(m["config"].clone()).unwrap();
            found.push(Attached {
                subject: subject.clone(),
                listed,
                config: blob(&target, &config).await,
                bundle: blob(&target, &layer).await,
                manifest,
            });
        }
        found
    })
}

/// Copies a referrer manifest onto another subject (`to`), as anyone who can push can: the same
/// layer, now listed as a referrer of `to`.
fn move_referrer(reference: &str, layout: bool, manifest: &[u8], to: &str) {
    rt().block_on(async {
        let (target, _) = open(reference, layout, &connection(), false).await.unwrap();
        let to = target
            .resolve(&Selector::Tag(to.into()))
            .await
            .unwrap()
            .bare();
        let mut m = json_of(manifest);
        m["subject"] = serde_json::to_value(&to).unwrap();
        target
            .push_manifest(
                &serde_json::to_vec(&m).unwrap(),
                "application/vnd.oci.image.manifest.v1+json",
                None,
            )
            .await
            .unwrap();
    });
}

/// Asserts cosign's shape on one bundle referrer and returns the in-toto statement it signs,
/// checked to verify with `public` over the DSSE PAE.
fn assert_cosign_shape(a: &Attached, public: &Path, name: &str) -> Value {
    let m = json_of(&a.manifest);
    let layer_digest = sha256_digest(&a.bundle);
    assert_eq!(
        m,
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": BUNDLE_TYPE,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2
            },
            "layers": [{"mediaType": BUNDLE_TYPE, "digest": layer_digest, "size": a.bundle.len()}],
            "subject": {
                "mediaType": a.subject.media_type,
                "digest": a.subject.digest,
                "size": a.subject.size
            },
            "annotations": {
                "dev.sigstore.bundle.content": "dsse-envelope",
                "dev.sigstore.bundle.predicateType": PREDICATE_TYPE,
                "org.opencontainers.image.created": CREATED
            }
        })
    );
    assert_eq!(a.config, b"{}");
    // The referrers list names it by its artifact type, with the manifest's annotations.
    assert_eq!(a.listed.digest, sha256_digest(&a.manifest));
    assert_eq!(
        a.listed.media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        serde_json::to_value(&a.listed.annotations).unwrap(),
        m["annotations"]
    );

    let bundle = json_of(&a.bundle);
    let pem = std::fs::read_to_string(public).unwrap();
    let hint = hex::encode(modelseal::core::manifest::sha256(pem.as_bytes()));
    assert_eq!(bundle["mediaType"], BUNDLE_TYPE);
    assert_eq!(
        bundle["verificationMaterial"],
        json!({"publicKey": {"hint": hint}, "tlogEntries": []})
    );
    let envelope = &bundle["dsseEnvelope"];
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(envelope["signatures"].as_array().unwrap().len(), 1);
    let payload = B64.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let sig = B64
        .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let key = PublicKey::from_pem(&pem).unwrap();
    key.verify_der_ecdsa(
        &modelseal::core::sigstore::pae("application/vnd.in-toto+json", &payload),
        &sig,
    )
    .expect("the DSSE signature verifies with the publisher's key");
    let statement = json_of(&payload);
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["subject"],
        json!([{"name": name, "digest": {"sha256": &a.subject.digest[7..]}}])
    );
    assert_eq!(statement["predicateType"], PREDICATE_TYPE);
    statement
}

fn discover_verify(policy: &Path, target: &[&str]) -> assert_cmd::assert::Assert {
    modelseal()
        .args(["discover", "--verify", "--policy"])
        .arg(policy)
        .args(target)
        .assert()
}

/// The one-line reason `discover --verify` gives when the policy is not met.
fn reason(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout)
        .lines()
        .find(|l| l.contains("policy NOT met"))
        .unwrap_or_else(|| panic!("no reason in {:?}", out.get_output()))
        .to_string()
}

fn publish(m: &Path, target: &[&str], key: &Path, epoch: &str, bundle: bool) -> String {
    let out = modelseal()
        .env("SOURCE_DATE_EPOCH", epoch)
        .args(["--format", "json", "publish"])
        .arg(m)
        .args(target)
        .arg("--key")
        .arg(key)
        .args(["--issuer", ISSUER])
        .args(if bundle {
            &["--also-sigstore-bundle"][..]
        } else {
            &[][..]
        })
        .assert()
        .success();
    json_of(&out.get_output().stdout)["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn publish_attaches_cosigns_bundle_shape_verified_here_refused_when_moved() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let policy = policy(dir.path(), "policy.toml", &public);
    let m = model(dir.path());
    let v1 = format!("{reg}/cosign/tiny:v1");
    let digest = publish(&m, &[&v1], &key, EPOCH, true);

    let attached = bundles_of(&v1, false);
    assert_eq!(attached.len(), 1, "exactly one bundle referrer");
    assert_eq!(attached[0].subject.digest, digest);
    let statement = assert_cosign_shape(&attached[0], &public, &format!("{reg}/cosign/tiny"));
    // The predicate is model-signing's manifest of the model, as `hash` writes it.
    let hashed = modelseal().arg("hash").arg(&m).assert().success();
    assert_eq!(
        statement["predicate"],
        json_of(&hashed.get_output().stdout)["predicate"]
    );
    // The registry has no referrers API: the tag-schema index lists the bundle with its
    // artifact type and annotations (cosign#4422: tools filter on them).
    let index = modelseal()
        .args([
            "manifest",
            "fetch",
            &format!("{reg}/cosign/tiny:sha256-{}", &digest[7..]),
        ])
        .assert()
        .success();
    let index = json_of(&index.get_output().stdout);
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["artifactType"] == BUNDLE_TYPE)
        .expect("the bundle in the referrers index");
    assert_eq!(entry["digest"], attached[0].listed.digest.as_str());
    assert_eq!(
        entry["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );
    assert_eq!(
        entry["annotations"]["dev.sigstore.bundle.predicateType"],
        PREDICATE_TYPE
    );

    // Our verifier: the bundle is checked (signature, subject, predicate) and the policy that
    // requires it is met.
    discover_verify(&policy, &[&v1])
        .success()
        .stdout(contains(format!("✔ {BUNDLE_TYPE}")))
        .stdout(contains(format!(
            "subject: the DSSE statement's subject is this artifact's manifest {digest}"
        )))
        .stdout(contains("payload: the predicate lists the same model"))
        .stdout(contains("✔ policy met"));
    // pull --verify judges the same referrers.
    modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .arg(&v1)
        .arg("-o")
        .arg(dir.path().join("pulled"))
        .assert()
        .success();

    // The same model published again (another creation time: another manifest), without a
    // bundle; the v1 bundle copied onto it as a referrer. Same model, same signer: only the
    // binding to the manifest digest tells it is not this artifact's.
    let v2 = format!("{reg}/cosign/tiny:v2");
    let other = publish(&m, &[&v2], &key, "1700000999", false);
    assert_ne!(other, digest);
    discover_verify(&policy, &[&v2])
        .code(1)
        .stdout(contains(format!("no {BUNDLE_TYPE} referrer is attached")));
    move_referrer(&v1, false, &attached[0].manifest, "v2");
    assert_eq!(bundles_of(&v2, false).len(), 1);
    let refused = discover_verify(&policy, &[&v2]).code(1);
    let line = reason(&refused);
    assert!(
        line.contains(&format!(
            "subject: the bundle's DSSE subject is {digest} ({reg}/cosign/tiny), not this artifact's manifest {other}: it was made for another artifact"
        )),
        "{line}"
    );
    // Still fine where it belongs.
    discover_verify(&policy, &[&v1]).success();
}

#[test]
fn layout_bundle_needs_a_policy_issuer_key_and_an_ecdsa_signer() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES384");
    let m = model(dir.path());
    let layout = dir.path().join("oci");
    let v1 = format!("{}:v1", layout.display());
    let digest = publish(&m, &["--oci-layout", &v1], &key, EPOCH, true);
    let attached = bundles_of(&v1, true);
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].subject.digest, digest);
    assert_cosign_shape(&attached[0], &public, "oci");
    discover_verify(
        &policy(dir.path(), "ours.toml", &public),
        &["--oci-layout", &v1],
    )
    .success()
    .stdout(contains("DSSE signature by the policy issuer key"));

    // Another publisher's key in the policy: the statement fails as well, the bundle says why.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, stranger) = keygen(&other, "ES256");
    let refused = discover_verify(
        &policy(dir.path(), "theirs.toml", &stranger),
        &["--oci-layout", &v1],
    )
    .code(1);
    assert!(
        reason(&refused).contains("signature: not signed by a policy issuer key"),
        "{}",
        reason(&refused)
    );

    // Ed25519 cannot sign a bundle cosign or model-signing verifies: refused before anything
    // is pushed.
    let (ed, _) = keygen(dir.path(), "EdDSA");
    let empty = dir.path().join("empty");
    modelseal()
        .arg("publish")
        .arg(&m)
        .args(["--oci-layout", &format!("{}:v1", empty.display())])
        .arg("--key")
        .arg(&ed)
        .args(["--issuer", ISSUER, "--also-sigstore-bundle"])
        .assert()
        .failure()
        .stderr(contains("ECDSA"));
    assert!(!empty.join("index.json").exists(), "nothing pushed");
}

#[test]
fn seal_of_a_modelpack_artifact_also_attaches_the_bundle() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let policy = policy(dir.path(), "policy.toml", &public);
    let m = model(dir.path());
    // Pushed without modelseal's signing (as modctl or KitOps would), at two creation times.
    let pushed: Vec<String> = [("v1", EPOCH), ("v2", "1700000999")]
        .iter()
        .map(|(tag, epoch)| {
            let out = modelseal()
                .env("SOURCE_DATE_EPOCH", epoch)
                .args(["--format", "json", "push", "--modelpack"])
                .arg(&m)
                .arg(format!("{reg}/cosign/pack:{tag}"))
                .assert()
                .success();
            json_of(&out.get_output().stdout)["digest"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_ne!(pushed[0], pushed[1]);
    let v1 = format!("{reg}/cosign/pack:v1");
    modelseal()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["seal", &v1, "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--also-sigstore-bundle"])
        .assert()
        .success()
        .stdout(contains(BUNDLE_TYPE));
    let attached = bundles_of(&v1, false);
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].subject.digest, pushed[0]);
    assert_eq!(
        attached[0].subject.media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );
    let statement = assert_cosign_shape(&attached[0], &public, &format!("{reg}/cosign/pack"));
    let from_oci = modelseal()
        .args(["hash", "--from-oci", &v1])
        .assert()
        .success();
    assert_eq!(
        statement["predicate"],
        json_of(&from_oci.get_output().stdout)["predicate"]
    );
    discover_verify(&policy, &[&v1])
        .success()
        .stdout(contains(format!("✔ {BUNDLE_TYPE}")));
    modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .arg(&v1)
        .arg("-o")
        .arg(dir.path().join("pulled"))
        .assert()
        .success();
    assert_eq!(
        std::fs::read(dir.path().join("pulled/src/infer.py")).unwrap(),
        b"print('hi')\n"
    );

    // v2 sealed without a bundle; v1's bundle copied onto it is refused by its binding.
    let v2 = format!("{reg}/cosign/pack:v2");
    modelseal()
        .args(["seal", &v2, "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER])
        .assert()
        .success();
    move_referrer(&v1, false, &attached[0].manifest, "v2");
    let refused = discover_verify(&policy, &[&v2]).code(1);
    assert!(
        reason(&refused).contains(&format!(
            "not this artifact's manifest {}: it was made for another artifact",
            pushed[1]
        )),
        "{}",
        reason(&refused)
    );
}

fn peer_python() -> PathBuf {
    PathBuf::from(
        std::env::var("MODELSEAL_PEER_VENV")
            .expect("needs the interop venv: run scripts/interop.sh"),
    )
    .join("bin/python")
}

/// sigstore-python 4.5.1 (model-signing's dependency) reads our bundle with the protobuf-specs
/// model its `sigstore.models.Bundle` wraps (strict: unknown fields refused), verifies the DSSE
/// signature with its own DSSE code and our key, and matches the statement's subject against
/// the manifest digest as its verifier does. Its `Bundle` wrapper itself models only keyless
/// bundles (a certificate and one log entry): it refuses a key bundle for that, and for nothing
/// else.
#[test]
#[ignore = "needs sigstore-python: run scripts/interop.sh"]
fn interop_sigstore_python_parses_our_cosign_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let m = model(dir.path());
    let v1 = format!("{}:v1", dir.path().join("oci").display());
    let digest = publish(&m, &["--oci-layout", &v1], &key, EPOCH, true);
    let attached = bundles_of(&v1, true);
    assert_eq!(attached.len(), 1);
    let bundle = dir.path().join("bundle.sigstore.json");
    std::fs::write(&bundle, &attached[0].bundle).unwrap();
    let script = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sigstore_models.bundle.v1 import Bundle as BundleModel
from sigstore.models import Bundle, InvalidBundle
from sigstore import dsse
from sigstore.hashes import Hashed
from sigstore_models.common.v1 import HashAlgorithm

raw = open(sys.argv[1], "rb").read()
model = BundleModel.from_json(raw)
envelope = dsse.Envelope(model.dsse_envelope)
payload = dsse._verify(load_pem_public_key(open(sys.argv[2], "rb").read()), envelope)
statement = dsse.Statement(payload)
want = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(sys.argv[3]))
other = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes(32))
try:
    Bundle.from_json(raw)
    wrapper = "accepted"
except InvalidBundle as e:
    wrapper = str(e)
print(json.dumps({
    "mediaType": model.media_type,
    "payloadType": model.dsse_envelope.payload_type,
    "signatures": len(model.dsse_envelope.signatures),
    "hint": model.verification_material.public_key.hint,
    "tlogEntries": len(model.verification_material.tlog_entries),
    "subject": [{"name": s.name, "sha256": s.digest.root.get("sha256")} for s in statement._inner.subjects],
    "predicateType": statement._inner.predicate_type,
    "matchesManifest": statement._matches_digest(want),
    "matchesOther": statement._matches_digest(other),
    "wrapper": wrapper,
}))
"#;
    let out = std::process::Command::new(peer_python())
        .args(["-c", script])
        .arg(&bundle)
        .arg(&public)
        .arg(&digest[7..])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sigstore-python refused our bundle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = std::fs::read(&public).unwrap();
    assert_eq!(
        json_of(&out.stdout),
        json!({
            "mediaType": BUNDLE_TYPE,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": 1,
            "hint": hex::encode(modelseal::core::manifest::sha256(&pem)),
            "tlogEntries": 0,
            "subject": [{"name": "oci", "sha256": &digest[7..]}],
            "predicateType": PREDICATE_TYPE,
            "matchesManifest": true,
            "matchesOther": false,
            "wrapper": "expected certificate in bundle",
        })
    );
}
