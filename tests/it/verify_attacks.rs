//! Attacks on the verifier, each reproduced end to end (CLI, and the library where it has the same
//! path): every one of them was accepted once. docs/threat-model.md names these tests.

use crate::common::phi::{discover_verify, phi, phi_policy, publish_seed};
use crate::common::{copy_dir, keygen, modelseal};
use modelseal::flows::{ModelCheck, verify_model};
use predicates::str::contains;
use std::path::{Path, PathBuf};

/// The tiny example model, copied so that it can be altered.
fn model_copy(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    copy_dir(Path::new("examples/tiny-model"), &model);
    model
}

/// `hash MODEL -o FILE`, then `push` that manifest as an artifact to an OCI layout.
fn push_manifest_of(model: &Path, layout: &str, manifest: &Path) {
    modelseal()
        .arg("hash")
        .arg(model)
        .arg("-o")
        .arg(manifest)
        .assert()
        .success();
    modelseal()
        .args(["push", "--oci-layout", layout])
        .arg(format!(
            "{}:application/vnd.in-toto+json",
            manifest.display()
        ))
        .assert()
        .success();
}

fn policy_for_key(dir: &Path, public: &Path) -> PathBuf {
    let policy = dir.join("policy.toml");
    modelseal()
        .args(["policy", "init", "--scope", "*", "--issuer-key"])
        .arg(public)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
    policy
}

// Case 1: a statement's iat is a claim. The real Microsoft statement's leaf expired on
// 2026-02-18, after it was logged on 2025-06-19: its receipts prove that time; without them the
// leaf is judged now, and has expired.
#[test]
fn the_real_statement_verifies_through_its_receipts_and_fails_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.der");
    let s =
        modelseal::core::cose::Sign1::parse(&std::fs::read(phi("signed-statement.scitt")).unwrap())
            .unwrap();
    std::fs::write(&root, &s.x5chain().unwrap()[2]).unwrap();
    let verify = |statement: &Path| {
        let mut cmd = modelseal();
        cmd.arg("verify")
            .arg(statement)
            .arg("--cert")
            .arg(&root)
            .args(["--ts-key"])
            .arg(phi("ccf-service-key.pem"))
            .args(["--ts-key"])
            .arg(phi("mmr-service-key.pem"))
            .arg("--payload")
            .arg(phi("model-manifest.json"));
        cmd.assert()
    };
    verify(&phi("2ts-statement.scitt"))
        .success()
        .stdout(contains("registration time proven by verified receipt 1"));
    verify(&phi("signed-statement.scitt"))
        .code(1)
        .stdout(contains("✘ certificate chain"))
        .stdout(contains("had expired"))
        .stdout(contains("no trusted time"));
    // The MMR receipt states no time: stapled alone, it proves inclusion but no time.
    let mmr_only = dir.path().join("mmr-only.scitt");
    modelseal()
        .arg("staple")
        .arg(phi("signed-statement.scitt"))
        .arg(phi("datatrails-mmr.receipt"))
        .arg("--ts-key")
        .arg(phi("mmr-service-key.pem"))
        .arg("-o")
        .arg(&mmr_only)
        .assert()
        .success();
    verify(&mmr_only)
        .code(1)
        .stdout(contains("✔ receipt 1: profile MMR"))
        .stdout(contains("had expired"))
        .stdout(contains("no trusted time"));
    // A receipt from a service nobody trusts proves nothing: the same, through discover --verify.
    let policy = phi_policy(dir.path(), &[], 0);
    discover_verify(
        &publish_seed(dir.path(), &phi("2ts-statement.scitt")),
        &policy,
    )
    .code(1)
    .stdout(contains("had expired"))
    .stdout(contains("no trusted time"));
}

// Case 3: a publisher's genuine Sigstore bundle for model X, attached to model Y.
#[test]
fn a_sigstore_bundle_for_another_model_does_not_vouch_for_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let genuine = model_copy(dir.path(), "genuine");
    let backdoored = model_copy(dir.path(), "backdoored");
    std::fs::write(backdoored.join("config.json"), b"{\"backdoor\": true}").unwrap();
    let bundle = dir.path().join("model.sig");
    modelseal()
        .arg("sign")
        .arg(&genuine)
        .arg("--key")
        .arg(&key)
        .args(["--sigstore-bundle", "-o"])
        .arg(&bundle)
        .assert()
        .success();
    let policy = policy_for_key(dir.path(), &public);

    // The bundle attached to the model it signs: verified (so the refusal below is the binding).
    let good = format!("{}:v1", dir.path().join("good").display());
    push_manifest_of(&genuine, &good, &dir.path().join("genuine.json"));
    modelseal()
        .args(["attach", "--oci-layout", &good])
        .arg(&bundle)
        .assert()
        .success();
    discover_verify(&good, &policy)
        .success()
        .stdout(contains("the bundle signs the same model"));

    // The same bundle attached to the backdoored model's manifest.
    let bad = format!("{}:v1", dir.path().join("bad").display());
    push_manifest_of(&backdoored, &bad, &dir.path().join("backdoored.json"));
    modelseal()
        .args(["attach", "--oci-layout", &bad])
        .arg(&bundle)
        .assert()
        .success();
    discover_verify(&bad, &policy)
        .code(1)
        .stdout(contains("the bundle signs another model"))
        .stdout(contains("modified: config.json"));
    let out = dir.path().join("pulled");
    modelseal()
        .args(["pull", "--oci-layout", "--verify", &bad, "-o"])
        .arg(&out)
        .arg("--policy")
        .arg(&policy)
        .assert()
        .code(1);
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "pull --verify wrote something"
    );
    let verdict = verify_model(&ModelCheck {
        model_dir: backdoored.clone(),
        manifest_ref: bad.clone(),
        oci_layout: true,
        policy: Some(policy.clone()),
    })
    .unwrap();
    assert!(!verdict.verified, "{:?}", verdict.reasons);
}

// Case 4: one service key running two logs is one service, whatever `iss` its receipts claim.
#[test]
fn two_receipts_from_one_service_key_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (publisher_key, publisher_pub) = keygen(d, "ES256");
    let (service_key, service_pub) = keygen(d, "ES384");
    let other = d.join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, other_pub) = keygen(&other, "ES256");
    for log in ["log-a", "log-b"] {
        modelseal()
            .args(["ts", "init", "--dir"])
            .arg(d.join(log))
            .arg("--key")
            .arg(&service_key)
            .arg("--issuer-key")
            .arg(&publisher_pub)
            .assert()
            .success();
    }
    let layout = format!("{}:v1", d.join("layout").display());
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            "--oci-layout",
            &layout,
            "--key",
        ])
        .arg(&publisher_key)
        .args(["--issuer", "dev", "--subject", "tiny", "--ts"])
        .arg(format!("local:{}", d.join("log-a").display()))
        .arg("--ts")
        .arg(format!("local:{}", d.join("log-b").display()))
        .assert()
        .success();
    let write_policy = |services: &[(&str, &Path)], min: usize| {
        let mut text = format!(
            "version = 1\n[[policy]]\nname = \"dev\"\nscopes = [\"*\"]\nmin_receipts = {min}\n\
             [[policy.issuers]]\nkey = \"{}\"\n",
            publisher_pub.display()
        );
        for (name, key) in services {
            text.push_str(&format!(
                "[[policy.transparency_services]]\nname = \"{name}\"\nkey = \"{}\"\n",
                key.display()
            ));
        }
        let path = d.join("policy.toml");
        std::fs::write(&path, text).unwrap();
        path
    };
    // Services A (the key both logs use) and B (a key that signed nothing): one service.
    let policy = write_policy(&[("a", &service_pub), ("b", &other_pub)], 2);
    discover_verify(&layout, &policy)
        .code(1)
        .stdout(contains("1 distinct policy service(s) (a)"))
        .stdout(contains("the policy requires 2"));
    // One service is what there is.
    let policy = write_policy(&[("a", &service_pub), ("b", &other_pub)], 1);
    discover_verify(&layout, &policy).success();
    // A policy that lists the same key under two names is refused when it loads.
    let policy = write_policy(&[("a", &service_pub), ("b", &service_pub)], 2);
    discover_verify(&layout, &policy)
        .code(2)
        .stderr(contains("share a key"));
}
