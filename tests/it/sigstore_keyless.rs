//! Sigstore keyless verification (issue 14), on real bundles: the keyless model-signing bundles
//! model-transparency keeps (tests/data/model-signing-keyless, signed on public-good production)
//! and, where a model bundle cannot show a case, sigstore-conformance's assets used in place.
//! Through `verify`, `discover --verify`, `pull --verify`, `verify-model` and
//! `modelseal::verify::verify_model`, under a policy issuer of kind `sigstore`.

use crate::common::publish::{attach_as, push_layers};
use crate::common::{json_of, modelseal};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal::verify::{ModelCheck, verify_model};
use serde_json::Value;
use std::path::{Path, PathBuf};

const IDENTITY: &str = "stefanb@us.ibm.com";
const OIDC_ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";
const VERSIONS: [&str; 4] = ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];
const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

fn case(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/model-signing-keyless")
        .join(version)
}

fn conformance(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/sigstore-conformance/test/assets/bundle-verify")
        .join(name);
    assert!(p.exists(), "missing conformance asset {}", p.display());
    p
}

/// The conformance suite's signer (its OIDC beacon workflow).
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn verify_json(args: &[&str]) -> (i32, Value) {
    let out = modelseal()
        .args(["--format", "json", "verify"])
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    (code, json_of(&out.stdout))
}

fn keyless_args<'a>(version: &str, identity: &'a str, issuer: &'a str) -> Vec<String> {
    let c = case(version);
    vec![
        c.join("model.sig").display().to_string(),
        "--model".into(),
        c.join("model").display().to_string(),
        "--certificate-identity".into(),
        identity.into(),
        "--certificate-oidc-issuer".into(),
        issuer.into(),
    ]
}

fn failed_check(report: &Value, what: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["what"] == what && c["outcome"] == "fail")
        .unwrap_or_else(|| panic!("no failed {what} check in {report:#}"))["detail"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `verify` of the v1.1.0 model bundle with `identity`, `issuer` and `extra` flags, which must be
/// refused (exit 1) at the signature: returns why, and the report.
fn refused_v110(identity: &str, issuer: &str, extra: &[&str]) -> (String, Value) {
    let mut args = keyless_args("v1.1.0", identity, issuer);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, report) = verify_json(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verified"], false);
    (failed_check(&report, "signature"), report)
}

/// The production trusted root with `edit` applied, written to `dir/trusted_root.json`.
fn edited_root(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut root: Value =
        serde_json::from_str(sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT)
            .unwrap();
    edit(&mut root);
    let path = dir.join("trusted_root.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&root).unwrap()).unwrap();
    path
}

// ---- verify FILE --model DIR ----

#[test]
fn every_keyless_model_signing_bundle_verifies_with_its_model() {
    for version in VERSIONS {
        let args = keyless_args(version, IDENTITY, OIDC_ISSUER);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, report) = verify_json(&args);
        assert_eq!(code, 0, "{version}: {report:#}");
        assert_eq!(report["kind"], "sigstore-bundle");
        assert_eq!(report["subject"], IDENTITY);
        assert_eq!(report["issuer"], OIDC_ISSUER);
        let receipt = &report["receipts"][0];
        assert_eq!(receipt["profile"], "Rekor", "{version}");
        assert_eq!(receipt["issuer"], "https://rekor.sigstore.dev");
        assert!(receipt["issued_at"].as_i64().unwrap() > 1_700_000_000);
        assert_eq!(report["model"]["matched"], 2, "{version}");
    }
}

#[test]
fn a_regexp_identity_must_match_the_whole_identity() {
    let c = case("v1.1.0");
    let run = |re: &str| {
        verify_json(&[
            c.join("model.sig").to_str().unwrap(),
            "--certificate-identity-regexp",
            re,
            "--certificate-oidc-issuer",
            OIDC_ISSUER,
        ])
    };
    assert_eq!(run(r"[a-z]+@us\.ibm\.com").0, 0);
    let (code, report) = run(r"stefanb@us\.ibm");
    assert_eq!(code, 1);
    assert!(failed_check(&report, "signature").contains("does not match"));
}

#[test]
fn a_wrong_identity_is_refused() {
    let (why, _) = refused_v110("mallory@us.ibm.com", OIDC_ISSUER, &[]);
    assert!(
        why.contains("mallory@us.ibm.com") && why.contains(IDENTITY),
        "{why}"
    );
}

#[test]
fn a_wrong_oidc_issuer_is_refused() {
    let (why, _) = refused_v110(IDENTITY, "https://accounts.google.com", &[]);
    assert!(
        why.contains("accounts.google.com") && why.contains(OIDC_ISSUER),
        "{why}"
    );
}

#[test]
fn an_entry_from_an_untrusted_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Production's Fulcio still trusted, but its Rekor replaced by staging's: the certificate is
    // fine, the log entry is from a log this root does not trust.
    let staging: Value =
        serde_json::from_str(sigstore_verify::trust_root::SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
    let root = edited_root(dir.path(), |r| r["tlogs"] = staging["tlogs"].clone());
    let root = root.display().to_string();
    let (why, report) = refused_v110(IDENTITY, OIDC_ISSUER, &["--trusted-root", &root]);
    assert_eq!(report["receipts"], serde_json::json!([]));
    assert!(why.contains("log"), "{why}");
    // And the whole staging root (another instance) refuses it too.
    refused_v110(IDENTITY, OIDC_ISSUER, &["--staging"]);
}

#[test]
fn a_certificate_outside_its_validity_at_the_logged_time_is_refused() {
    // sigstore-conformance's real bundles: a certificate expired before its entry was logged,
    // and a SET whose time falls outside the certificate's validity.
    for name in [
        "intoto-expired-certificate_fail",
        "intoto-set-outside-signing-cert-validity_fail",
    ] {
        let dir = conformance(name);
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            conformance("a.txt")
        };
        let mut args = vec![
            dir.join("bundle.sigstore.json").display().to_string(),
            "--artifact".into(),
            artifact.display().to_string(),
            "--certificate-identity".into(),
            BEACON.into(),
            "--certificate-oidc-issuer".into(),
            GITHUB.into(),
        ];
        if dir.join("trusted_root.json").exists() {
            args.extend([
                "--trusted-root".into(),
                dir.join("trusted_root.json").display().to_string(),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, report) = verify_json(&args);
        assert_eq!(code, 1, "{name}: {report:#}");
        let why = failed_check(&report, "signature");
        assert!(
            why.contains("CertExpired") || why.contains("CertNotValidYet"),
            "{name}: {why}"
        );
    }
    // A model bundle whose CA the root only trusts until before the entry was logged: the
    // logged time, not the clock, is what the chain is judged at.
    let dir = tempfile::tempdir().unwrap();
    let root = edited_root(dir.path(), |r| {
        for ca in r["certificateAuthorities"].as_array_mut().unwrap() {
            ca["validFor"]["end"] = "2025-01-01T00:00:00Z".into();
        }
    });
    let root = root.display().to_string();
    let (why, _) = refused_v110(IDENTITY, OIDC_ISSUER, &["--trusted-root", &root]);
    assert!(
        why.contains("2025-10-10T02:12:20Z"),
        "judged at the logged time: {why}"
    );
}

#[test]
fn a_changed_model_file_or_payload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    crate::common::copy_dir(&case("v1.0.0").join("model"), &model);
    std::fs::write(model.join("signme-1"), b"changed\n").unwrap();
    let mut args = keyless_args("v1.0.0", IDENTITY, OIDC_ISSUER);
    args[2] = model.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, report) = verify_json(&args);
    assert_eq!(code, 1);
    assert!(failed_check(&report, "model files").contains("signme-1"));

    // The payload re-encoded with another file digest: the signature no longer covers it.
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(case("v1.0.0").join("model.sig")).unwrap()).unwrap();
    let payload = B64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(payload)
        .unwrap()
        .replacen("f6310066", "f6310067", 1);
    bundle["dsseEnvelope"]["payload"] = B64.encode(text).into();
    let tampered = dir.path().join("model.sig");
    std::fs::write(&tampered, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let mut args = keyless_args("v1.0.0", IDENTITY, OIDC_ISSUER);
    args[0] = tampered.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(verify_json(&args).0, 1);
}

#[test]
fn a_keyless_bundle_without_an_identity_cannot_be_checked() {
    let c = case("v1.1.0");
    let out = modelseal()
        .arg("verify")
        .arg(c.join("model.sig"))
        .arg("--model")
        .arg(c.join("model"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--certificate-identity"));
    let out = modelseal()
        .arg("verify")
        .arg(c.join("model.sig"))
        .args(["--certificate-identity", IDENTITY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--certificate-oidc-issuer"));
}

// ---- under a trust policy: discover --verify, pull --verify, verify-model, the library ----

/// A policy with one `sigstore` issuer and, optionally, Rekor as a required service.
fn policy(dir: &Path, identity: &str, issuer: &str, rekor_root: Option<&str>) -> PathBuf {
    let receipts = if rekor_root.is_some() {
        "min_receipts = 1\n"
    } else {
        ""
    };
    let mut text = format!(
        "version = 2\n[[policy]]\nname = \"keyless\"\nscopes = [\"*\"]\n{receipts}\
         [[policy.issuers]]\nkind = \"sigstore\"\nidentity = \"{identity}\"\noidc_issuer = \"{issuer}\"\n"
    );
    if let Some(root) = rekor_root {
        text.push_str(&format!(
            "[[policy.transparency_services]]\nname = \"rekor\"\ntrusted_root = \"{root}\"\n"
        ));
    }
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The model manifest (the bundle's DSSE payload, byte for byte) and the model files pushed to
/// an OCI layout, the bundle attached as a referrer; returns the layout reference.
fn publish(dir: &Path, version: &str) -> String {
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(case(version).join("model.sig")).unwrap()).unwrap();
    let payload = B64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let stage = dir.join("stage");
    crate::common::copy_dir(&case(version).join("model"), &stage);
    std::fs::write(stage.join("model-manifest.json"), payload).unwrap();
    let reference = format!("{}:v1", dir.join("layout").display());
    push_layers(
        &stage,
        &["--oci-layout", &reference],
        &[
            "model-manifest.json:application/vnd.in-toto+json",
            "signme-1:application/octet-stream",
            "signme-2:application/octet-stream",
        ],
    );
    attach_as(
        &["--oci-layout", &reference],
        BUNDLE_TYPE,
        &case(version).join("model.sig"),
    );
    reference
}

fn discover(reference: &str, policy: &Path) -> (i32, String) {
    let out = modelseal()
        .args([
            "discover",
            "--oci-layout",
            "--verify",
            reference,
            "--policy",
        ])
        .arg(policy)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn discover_verify_accepts_a_keyless_bundle_under_a_sigstore_issuer_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let reference = publish(dir.path(), "v1.0.1");
    let good = policy(
        dir.path(),
        IDENTITY,
        OIDC_ISSUER,
        Some("sigstore-production"),
    );
    let (code, text) = discover(&reference, &good);
    assert_eq!(code, 0, "{text}");
    for (identity, issuer, root, what) in [
        ("mallory@us.ibm.com", OIDC_ISSUER, None, "identity"),
        (IDENTITY, GITHUB, None, "issuer"),
        // Rekor required, but counted only for a service whose key verified the entry: the
        // staging log's keys never did.
        (IDENTITY, OIDC_ISSUER, Some("sigstore-staging"), "receipts"),
    ] {
        let sub = dir.path().join(what);
        std::fs::create_dir_all(&sub).unwrap();
        let p = policy(&sub, identity, issuer, root);
        let (code, text) = discover(&reference, &p);
        assert_eq!(code, 1, "{what}: {text}");
    }
}

#[test]
fn pull_verify_checks_the_keyless_bundle_and_the_pulled_files() {
    let dir = tempfile::tempdir().unwrap();
    let reference = publish(dir.path(), "v1.0.0");
    let good = policy(
        dir.path(),
        IDENTITY,
        OIDC_ISSUER,
        Some("sigstore-production"),
    );
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--oci-layout", &reference, "--verify", "--policy"])
        .arg(&good)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("signme-1")).unwrap(),
        std::fs::read(case("v1.0.0").join("model/signme-1")).unwrap()
    );
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let wrong = policy(&bad, "mallory@us.ibm.com", OIDC_ISSUER, None);
    modelseal()
        .args(["pull", "--oci-layout", &reference, "--verify", "--policy"])
        .arg(&wrong)
        .arg("-o")
        .arg(bad.join("out"))
        .assert()
        .code(1);
}

#[test]
fn verify_model_cli_and_library_accept_the_keyless_model_and_refuse_a_changed_one() {
    let dir = tempfile::tempdir().unwrap();
    let reference = publish(dir.path(), "v1.1.0");
    let good = policy(
        dir.path(),
        IDENTITY,
        OIDC_ISSUER,
        Some("sigstore-production"),
    );
    modelseal()
        .arg("verify-model")
        .arg(case("v1.1.0").join("model"))
        .args(["--manifest", &reference, "--oci-layout", "--policy"])
        .arg(&good)
        .assert()
        .success();
    let check = |model: PathBuf, policy: &Path| {
        verify_model(&ModelCheck {
            model_dir: model,
            manifest_ref: reference.clone(),
            oci_layout: true,
            policy: Some(policy.to_path_buf()),
        })
        .unwrap()
    };
    let verdict = check(case("v1.1.0").join("model"), &good);
    assert!(verdict.verified, "{:?}", verdict.reasons);

    let changed = dir.path().join("changed");
    crate::common::copy_dir(&case("v1.1.0").join("model"), &changed);
    std::fs::write(changed.join("signme-2"), b"other\n").unwrap();
    let verdict = check(changed, &good);
    assert!(!verdict.verified && verdict.enforced);
    assert!(
        verdict.reasons.iter().any(|r| r.contains("signme-2")),
        "{:?}",
        verdict.reasons
    );

    let sub = dir.path().join("wrong");
    std::fs::create_dir_all(&sub).unwrap();
    let wrong = policy(&sub, IDENTITY, "https://accounts.google.com", None);
    let verdict = check(case("v1.1.0").join("model"), &wrong);
    assert!(!verdict.verified);
    assert!(
        verdict.reasons.iter().any(|r| r.contains("OIDC issuer")),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn policy_show_and_lint_know_sigstore_issuers() {
    let dir = tempfile::tempdir().unwrap();
    let good = policy(
        dir.path(),
        IDENTITY,
        OIDC_ISSUER,
        Some("sigstore-production"),
    );
    let out = modelseal()
        .args([
            "--format",
            "json",
            "policy",
            "show",
            "example.com/models/x:v1",
            "--policy",
        ])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = json_of(&out.stdout);
    assert_eq!(shown["issuers"][0]["identity"], "sigstore");
    assert_eq!(shown["issuers"][0]["certificate_identity"], IDENTITY);
    assert_eq!(shown["issuers"][0]["oidc_issuer"], OIDC_ISSUER);
    assert_eq!(shown["required_artifact_types"][0], BUNDLE_TYPE);
    assert_eq!(
        shown["transparency_services"][0]["profile"],
        serde_json::Value::Null
    );

    let loose = dir.path().join("loose.toml");
    std::fs::write(
        &loose,
        format!(
            "version = 2\n[[policy]]\nname = \"loose\"\nscopes = [\"*\"]\n[[policy.issuers]]\n\
             kind = \"sigstore\"\nidentity_regexp = \".*\"\noidc_issuer = \"{GITHUB}\"\n"
        ),
    )
    .unwrap();
    let out = modelseal()
        .args(["policy", "lint"])
        .arg(&loose)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("identity_regexp"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for (body, expected) in [
        ("kind = \"sigstore\"\noidc_issuer = \"x\"\n", "identity"),
        ("kind = \"sigstore\"\nidentity = \"a\"\n", "oidc_issuer"),
        (
            "kind = \"sigstore\"\nidentity = \"a\"\nidentity_regexp = \"a\"\noidc_issuer = \"x\"\n",
            "not both",
        ),
        (
            "kind = \"fulcio\"\nidentity = \"a\"\n",
            "unknown issuer kind",
        ),
        (
            "key = \"k.pem\"\nidentity = \"a\"\n",
            "belong to issuers of kind",
        ),
        (
            "kind = \"sigstore\"\nidentity = \"a\"\noidc_issuer = \"x\"\ntrusted_root = \"missing.json\"\n",
            "missing.json",
        ),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(
            &bad,
            format!("version = 2\n[[policy]]\nname = \"b\"\nscopes = [\"*\"]\n[[policy.issuers]]\n{body}"),
        )
        .unwrap();
        let out = modelseal()
            .args(["policy", "show", "example.com/x:v1", "--policy"])
            .arg(&bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert!(err.contains(expected), "{body}: {err}");
    }
}

#[test]
fn a_genuine_keyless_bundle_attached_to_another_model_does_not_vouch_for_it() {
    // The publisher's real bundle for v1.0.0 attached to an artifact whose manifest describes
    // other files: the signature and log entry verify, the binding does not.
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage");
    crate::common::copy_dir(&case("v1.0.0").join("model"), &stage);
    std::fs::write(stage.join("signme-1"), b"backdoor\n").unwrap();
    modelseal()
        .current_dir(&stage)
        .args(["hash", ".", "-o", "model-manifest.json"])
        .assert()
        .success();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    push_layers(
        &stage,
        &["--oci-layout", &reference],
        &["model-manifest.json:application/vnd.in-toto+json"],
    );
    attach_as(
        &["--oci-layout", &reference],
        BUNDLE_TYPE,
        &case("v1.0.0").join("model.sig"),
    );
    let good = policy(
        dir.path(),
        IDENTITY,
        OIDC_ISSUER,
        Some("sigstore-production"),
    );
    let (code, text) = discover(&reference, &good);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("another model"), "{text}");
}

#[test]
fn the_library_verifies_a_keyless_bundle_and_its_model_with_the_core_verifier() {
    use modelseal::core::sigstore::keyless::{IdentityRule, KeylessIdentity, SigstoreTrust};
    use modelseal::core::verify::{TrustInputs, VerifyRequest, verify};
    let bundle = std::fs::read(case("v1.0.1").join("model.sig")).unwrap();
    let model = case("v1.0.1").join("model");
    let trust_with = |identity: IdentityRule| TrustInputs {
        sigstore_identities: vec![KeylessIdentity {
            identity,
            oidc_issuer: OIDC_ISSUER.into(),
            trust: SigstoreTrust::production().unwrap(),
        }],
        ..TrustInputs::default()
    };
    let run = |trust: &TrustInputs| {
        verify(&VerifyRequest {
            bytes: &bundle,
            trust,
            payload: None,
            model: Some(&model),
            statement: None,
            artifact: None,
            now: modelseal::core::clock::now(),
        })
        .unwrap()
    };
    let report = run(&trust_with(
        IdentityRule::regexp(r"[a-z]+@us\.ibm\.com").unwrap(),
    ));
    assert!(report.verified, "{:#?}", report.verdict);
    assert_eq!(report.subject.as_deref(), Some(IDENTITY));
    assert_eq!(report.receipts.len(), 1);
    assert!(report.receipts[0].verified_by.is_some());
    assert_eq!(report.model.as_ref().unwrap().matched, 2);
    let report = run(&trust_with(IdentityRule::Exact("alice@us.ibm.com".into())));
    assert!(!report.verified);
}

#[test]
fn a_policy_trusted_root_file_is_read_beside_the_policy_and_decides_which_log_counts() {
    let dir = tempfile::tempdir().unwrap();
    let reference = publish(dir.path(), "v1.1.0");
    let staging: Value =
        serde_json::from_str(sigstore_verify::trust_root::SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
    for (name, swap_logs, expected) in [("private", false, 0), ("wrong-log", true, 1)] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        edited_root(&sub, |r| {
            if swap_logs {
                r["tlogs"] = staging["tlogs"].clone();
            }
        });
        let p = sub.join("policy.toml");
        std::fs::write(
            &p,
            format!(
                "version = 2\n[[policy]]\nname = \"{name}\"\nscopes = [\"*\"]\n[[policy.issuers]]\n\
                 kind = \"sigstore\"\nidentity = \"{IDENTITY}\"\noidc_issuer = \"{OIDC_ISSUER}\"\n\
                 trusted_root = \"trusted_root.json\"\n"
            ),
        )
        .unwrap();
        let (code, text) = discover(&reference, &p);
        assert_eq!(code, expected, "{name}: {text}");
    }
}
