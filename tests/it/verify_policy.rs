//! `discover --verify` with a trust policy, against an OCI layout and the real registry: the
//! seed's real artifact, and each way a published model can be wrong.

use crate::common::phi::{DID, discover_verify, phi, phi_policy, publish_seed};
use crate::common::registry;
use crate::common::{keygen, modelseal};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::path::{Path, PathBuf};

#[test]
fn the_seed_artifact_meets_a_policy_trusting_microsoft_azure_and_datatrails() {
    let dir = tempfile::tempdir().unwrap();
    let policy = phi_policy(
        dir.path(),
        &["ccf-service-key.pem", "mmr-service-key.pem"],
        2,
    );
    let layout = publish_seed(dir.path(), &phi("2ts-statement.scitt"));
    discover_verify(&layout, &policy)
        .success()
        .stdout(contains("issuer esrp-cts-cp.confidential-ledger.azure.com, subject scitt.ccf.signature.v1, logged 2025-06-19T22:05:41Z"))
        .stdout(contains("issuer https://github.com/robinbryce/veracity"))
        .stdout(contains(
            "policy receipts: receipts verified by the keys of 2 distinct policy service(s)",
        ))
        .stdout(contains("✔ policy met"));
}

#[test]
fn a_receipt_from_a_service_the_policy_does_not_trust_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let policy = phi_policy(dir.path(), &["ccf-service-key.pem"], 1);
    let layout = publish_seed(dir.path(), &phi("2ts-statement.scitt"));
    discover_verify(&layout, &policy)
        .code(1)
        .stdout(contains("✘ receipt 2"))
        .stdout(contains("policy NOT met"));
}

#[test]
fn a_missing_required_receipt_fails_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = phi_policy(
        dir.path(),
        &["ccf-service-key.pem", "mmr-service-key.pem"],
        2,
    );
    let layout = publish_seed(dir.path(), &phi("1ts-statement.scitt"));
    discover_verify(&layout, &policy)
        .code(1)
        .stdout(contains("1 distinct policy service(s)"))
        .stdout(contains("the policy requires 2"));
}

#[test]
fn a_receipt_for_another_statement_stapled_on_fails() {
    let dir = tempfile::tempdir().unwrap();
    let policy = phi_policy(
        dir.path(),
        &["ccf-service-key.pem", "mmr-service-key.pem"],
        1,
    );
    // Our own statement over the seed manifest, with the Phi statement's CCF receipt stapled on.
    let (key, _) = keygen(dir.path(), "ES256");
    let ours = dir.path().join("ours.cose");
    modelseal()
        .arg("sign")
        .arg(phi("model-manifest.json"))
        .arg("--key")
        .arg(&key)
        .args(["--issuer", DID, "--subject", "x", "-o"])
        .arg(&ours)
        .assert()
        .success();
    let receipt = dir.path().join("ccf.receipt");
    let one =
        modelseal::core::cose::Sign1::parse(&std::fs::read(phi("1ts-statement.scitt")).unwrap())
            .unwrap();
    std::fs::write(&receipt, &one.receipts().unwrap()[0]).unwrap();
    let stapled = dir.path().join("stapled.scitt");
    modelseal()
        .arg("staple")
        .arg(&ours)
        .arg(&receipt)
        .arg("--no-check")
        .arg("-o")
        .arg(&stapled)
        .assert()
        .success();
    let layout = publish_seed(dir.path(), &stapled);
    discover_verify(&layout, &policy)
        .code(1)
        .stdout(contains("the receipt is for another statement"))
        .stdout(contains("policy NOT met"));
}

#[test]
fn a_statement_from_an_untrusted_key_or_for_another_manifest_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    // A policy that trusts this key: a statement over another manifest still fails the binding.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, format!("version = 1\n[[policy]]\nname = \"dev\"\nscopes = [\"*\"]\n[[policy.issuers]]\nkey = \"{}\"\n", public.display())).unwrap();
    let other = dir.path().join("other.json");
    std::fs::write(&other, b"{\"_type\": \"https://in-toto.io/Statement/v1\"}").unwrap();
    let wrong = dir.path().join("wrong.cose");
    modelseal()
        .arg("sign")
        .arg(&other)
        .arg("--key")
        .arg(&key)
        .args(["--issuer", "me", "--subject", "x", "-o"])
        .arg(&wrong)
        .assert()
        .success();
    let layout = publish_seed(dir.path(), &wrong);
    discover_verify(&layout, &policy)
        .code(1)
        .stdout(contains("✘ payload: differs from the given payload"));
    // The seed statement under a policy that trusts only this key: untrusted signer.
    let dir2 = tempfile::tempdir().unwrap();
    let layout2 = publish_seed(dir2.path(), &phi("signed-statement.scitt"));
    discover_verify(&layout2, &policy)
        .code(1)
        .stdout(contains("✘ signature"));
}

#[test]
fn without_a_policy_verification_fails_closed_and_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let layout = publish_seed(dir.path(), &phi("2ts-statement.scitt"));
    modelseal()
        .args(["discover", "--oci-layout", "--verify", &layout])
        .env_remove("MODELSEAL_POLICY")
        .env("HOME", dir.path())
        .assert()
        .code(2)
        .stderr(contains("no trust policy"))
        .stderr(contains("policy init"));
}

#[test]
fn policy_init_writes_a_working_policy_for_a_dev_key_and_show_explains_it() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let manifest = dir.path().join("manifest.json");
    modelseal()
        .args(["hash", "examples/tiny-model", "-o"])
        .arg(&manifest)
        .assert()
        .success();
    let statement = dir.path().join("model.cose");
    modelseal()
        .arg("sign")
        .arg(&manifest)
        .arg("--key")
        .arg(&key)
        .args([
            "--issuer",
            "https://publisher.example",
            "--subject",
            "tiny",
            "-o",
        ])
        .arg(&statement)
        .assert()
        .success();
    let layout = format!("{}:v1", dir.path().join("layout").display());
    modelseal()
        .args(["push", "--oci-layout", &layout])
        .arg(&manifest)
        .assert()
        .success();
    modelseal()
        .args(["attach", "--oci-layout", &layout])
        .arg(&statement)
        .assert()
        .success();
    let policy = dir.path().join("conf/policy.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .args(["--issuer", "https://publisher.example", "-o"])
        .arg(&policy)
        .assert()
        .success();
    discover_verify(&layout, &policy)
        .success()
        .stdout(contains("✔ policy met"));
    modelseal()
        .args(["policy", "show", "--oci-layout", &layout, "--policy"])
        .arg(&policy)
        .assert()
        .success()
        .stdout(contains("iss https://publisher.example"))
        .stdout(contains("matched: * (catch-all)"));
    // The example (no flags) is written and commented; an issuer claim the statement lacks fails.
    let example = dir.path().join("example.toml");
    modelseal()
        .args(["policy", "init", "-o"])
        .arg(&example)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&example)
            .unwrap()
            .contains("# Whose statements are trusted")
    );
    let strict = dir.path().join("strict.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .args(["--issuer", "https://someone.else", "-o"])
        .arg(&strict)
        .assert()
        .success();
    discover_verify(&layout, &strict)
        .code(1)
        .stdout(contains("✘ policy iss"));
}

/// A dev-key publication of examples/tiny-model whose artifact carries the model files too:
/// (layout reference, policy, model copy). `tamper` edits config.json after it was hashed.
fn publish_tiny_with_files(dir: &Path, tamper: bool) -> (String, PathBuf, PathBuf) {
    let (key, public) = keygen(dir, "ES256");
    let model = dir.join("model");
    crate::common::copy_dir(Path::new("examples/tiny-model"), &model);
    modelseal()
        .current_dir(&model)
        .args(["hash", ".", "-o", "manifest.json"])
        .assert()
        .success();
    modelseal()
        .current_dir(&model)
        .args(["sign", "manifest.json", "--key"])
        .arg(&key)
        .args([
            "--issuer",
            "https://publisher.example",
            "--subject",
            "tiny",
            "-o",
            "../model.cose",
        ])
        .assert()
        .success();
    if tamper {
        std::fs::write(model.join("config.json"), b"{\"tampered\": true}").unwrap();
    }
    let layout = format!("{}:v1", dir.join("layout").display());
    let mut push = modelseal();
    push.current_dir(&model).args([
        "push",
        "--oci-layout",
        &layout,
        "manifest.json:application/vnd.in-toto+json",
    ]);
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "README.md",
    ] {
        push.arg(format!("{f}:application/octet-stream"));
    }
    push.assert().success();
    modelseal()
        .args(["attach", "--oci-layout", &layout])
        .arg(dir.join("model.cose"))
        .assert()
        .success();
    let policy = dir.join("policy.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .args(["--issuer", "https://publisher.example", "-o"])
        .arg(&policy)
        .assert()
        .success();
    (layout, policy, model)
}

#[test]
fn pull_verify_writes_a_verified_model_and_nothing_of_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, policy, _) = publish_tiny_with_files(dir.path(), false);
    let out = dir.path().join("pulled");
    modelseal()
        .args(["pull", "--oci-layout", &layout, "--verify", "--policy"])
        .arg(&policy)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "README.md",
        "manifest.json",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(Path::new("examples/tiny-model").join(f))
                .unwrap_or_else(|_| std::fs::read(dir.path().join("model").join(f)).unwrap()),
            "{f}"
        );
    }
    let bad = tempfile::tempdir().unwrap();
    let (layout, policy, _) = publish_tiny_with_files(bad.path(), true);
    let out = bad.path().join("pulled");
    modelseal()
        .args(["pull", "--oci-layout", &layout, "--verify", "--policy"])
        .arg(&policy)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stdout(contains("modified: [\"config.json\"]"))
        .stdout(contains("nothing was written"));
    assert_eq!(
        std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0),
        0,
        "files were written for a model that failed verification"
    );
}

#[test]
fn pull_verify_of_an_unverified_artifact_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, _) = publish_tiny_with_files(dir.path(), false);
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, stranger) = keygen(elsewhere.path(), "ES384");
    let policy = dir.path().join("stranger.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&stranger)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
    let out = dir.path().join("pulled");
    modelseal()
        .args(["pull", "--oci-layout", &layout, "--verify", "--policy"])
        .arg(&policy)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stdout(contains("policy NOT met"));
    assert!(!out.exists());
}

#[test]
fn verify_model_checks_files_on_disk_against_the_verified_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, policy, model) = publish_tiny_with_files(dir.path(), false);
    let verify = |m: &Path| {
        let mut c = modelseal();
        c.args(["verify-model"])
            .arg(m)
            .args(["--oci-layout", "--manifest", &layout, "--policy"])
            .arg(&policy);
        c
    };
    verify(&model)
        .assert()
        .success()
        .stdout(contains("✔ policy met"));
    std::fs::write(model.join("tokenizer.json"), b"{}").unwrap();
    verify(&model)
        .assert()
        .code(1)
        .stdout(contains("modified: tokenizer.json"));
}

#[test]
fn publish_then_verify_end_to_end_on_the_real_registry() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "EdDSA");
    let reference = format!("{registry}/published/tiny:v1");
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            &reference,
            "--files",
            "--key",
        ])
        .arg(&key)
        .args([
            "--issuer",
            "https://publisher.example",
            "--subject",
            "example/tiny-model",
        ])
        .assert()
        .success()
        // No --ts: a bare signed statement, not labelled transparent (issue 19).
        .stdout(contains("scitt/signed-statement"))
        .stdout(contains("transparent-statement").not());
    let policy = dir.path().join("policy.toml");
    modelseal()
        .args([
            "policy",
            "init",
            "--scope",
            &format!("{registry}/published/*"),
            "--issuer-key",
        ])
        .arg(&public)
        .args([
            "--issuer",
            "https://publisher.example",
            "--subject",
            "example/tiny-model",
            "-o",
        ])
        .arg(&policy)
        .assert()
        .success();
    // Verified as a statement like any other: a policy without receipts accepts it…
    modelseal()
        .args(["discover", "--verify", &reference, "--policy"])
        .arg(&policy)
        .assert()
        .success()
        .stdout(contains("✔ scitt/signed-statement"))
        .stdout(contains("✔ policy met"));
    // …one that wants a receipt does not.
    let (_, service) = keygen(dir.path(), "ES256");
    let strict = dir.path().join("strict.toml");
    modelseal()
        .args([
            "policy",
            "init",
            "--scope",
            &format!("{registry}/published/*"),
        ])
        .arg("--issuer-key")
        .arg(&public)
        .args([
            "--issuer",
            "https://publisher.example",
            "--min-receipts",
            "1",
        ])
        .arg("--ts-key")
        .arg(&service)
        .arg("-o")
        .arg(&strict)
        .assert()
        .success();
    modelseal()
        .args(["discover", "--verify", &reference, "--policy"])
        .arg(&strict)
        .assert()
        .code(1)
        .stdout(contains("the policy requires 1"));
    let out = dir.path().join("pulled");
    modelseal()
        .args(["pull", "--verify", &reference, "--policy"])
        .arg(&policy)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "README.md",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(Path::new("examples/tiny-model").join(f)).unwrap(),
            "{f}"
        );
    }
    // The pulled model also passes verify-model; a scope the policy does not cover is refused.
    modelseal()
        .arg("verify-model")
        .arg(&out)
        .args(["--manifest", &reference, "--policy"])
        .arg(&policy)
        .assert()
        .success();
    modelseal()
        .args([
            "discover",
            "--verify",
            &format!("{registry}/elsewhere/tiny:v1"),
            "--policy",
        ])
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(contains("no policy scope covers"));
}

#[test]
fn the_seed_artifact_meets_the_policy_on_the_real_registry_too() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let policy = phi_policy(
        dir.path(),
        &["ccf-service-key.pem", "mmr-service-key.pem"],
        2,
    );
    let reference = format!("{registry}/seed/verified:v1");
    modelseal()
        .args(["push", &reference])
        .arg(phi("model-manifest.json"))
        .assert()
        .success();
    modelseal()
        .args(["attach", &reference])
        .arg(phi("2ts-statement.scitt"))
        .assert()
        .success();
    // An unrelated referrer is shown but does not count against the policy.
    modelseal()
        .args(["attach", &reference, "--artifact-type", "example/sbom"])
        .arg(format!(
            "{}:application/json",
            phi("model-manifest.json").display()
        ))
        .assert()
        .success();
    modelseal()
        .args(["discover", "--verify", &reference, "--policy"])
        .arg(&policy)
        .assert()
        .success()
        .stdout(contains("· example/sbom"))
        .stdout(contains("✔ scitt/transparent-statement"))
        .stdout(contains("✔ policy met"));
}

#[test]
fn policy_init_refuses_a_policy_that_would_not_load_naming_the_file_it_would_write() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let policy = dir.path().join("policy.toml");
    modelseal()
        .args(["policy", "init", "--scope", "host/repo*", "--issuer-key"])
        .arg(&public)
        .arg("-o")
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(contains(format!("{}: policy 'default'", policy.display())))
        .stderr(contains("may only stand alone"))
        // (The test dir is a .tmpXXX one: only it, not a probe file beside the policy.)
        .stderr(contains("/.tmp").count(1));
    assert!(!policy.exists());
    // Nothing else was left beside it either.
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "only the key pair"
    );
}
