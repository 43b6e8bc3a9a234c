//! Trust policy version 2, end to end: scopes by whole segments, the most specific scope, claims
//! bound to the reference (a re-tag or a renamed artifact does not pass), levels, did:x509
//! issuers without a root file, `policy show` and `policy lint`.

use crate::common::phi::{DID, discover_verify, phi, publish_seed};
use crate::common::{json_of, keygen, modelseal};

use modelseal::flows::{ModelCheck, verify_model};
use predicates::str::contains;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A version-2 policy trusting `public`, with `sub` bound to the reference, over `scopes`.
fn bound_policy(dir: &Path, public: &Path, scopes: &str, level: &str) -> PathBuf {
    write(
        dir,
        "policy.toml",
        &format!(
            "version = 2\n[[policy]]\nname = \"bound\"\nscopes = [{scopes}]\nlevel = \"{level}\"\n\
             [[policy.issuers]]\nkey = \"{}\"\nsub = \"{{repository}}:{{tag}}\"\n",
            public.display()
        ),
    )
}

fn publish(dir: &Path, key: &Path, reference: &str, subject: &str, layout: bool) {
    let mut cmd = modelseal();
    cmd.args(["publish", "examples/tiny-model", reference, "--key"])
        .arg(key)
        .args(["--issuer", "dev", "--subject", subject, "--files"]);
    if layout {
        cmd.arg("--oci-layout");
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", dir)
        .assert()
        .success();
}

#[test]
fn scopes_cover_whole_segments_and_fail_closed_naming_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let policy = write(
        dir.path(),
        "policy.toml",
        &format!(
            "version = 2\n\
             [[policy]]\nname = \"models\"\nscopes = [\"localhost:5000/models/*\"]\n[[policy.issuers]]\nkey = \"{k}\"\n\
             [[policy]]\nname = \"llama\"\nscopes = [\"localhost:5000/models/llama\"]\n[[policy.issuers]]\nkey = \"{k}\"\n",
            k = public.display()
        ),
    );
    let show = |reference: &str| {
        let mut cmd = modelseal();
        cmd.args(["policy", "show", reference, "--policy"])
            .arg(&policy);
        cmd.assert()
    };
    for outside in [
        "localhost:5000/models-evil/llama:v1",
        "localhost:5000/modelsx:v1",
        "127.0.0.1:5000/models/llama:v1",
    ] {
        show(outside)
            .code(2)
            .stderr(contains("no policy scope covers"))
            .stderr(contains(
                "the policy's scopes: \"localhost:5000/models/*\" (policy 'models')",
            ));
    }
    // The most specific scope wins, whatever the order; hosts compare case-insensitively.
    show("LOCALHOST:5000/models/llama:v1")
        .success()
        .stdout(contains("policy 'llama'"))
        .stdout(contains(
            "matched: localhost:5000/models/llama (exact repository)",
        ))
        .stdout(contains(
            "lost:    localhost:5000/models/* of policy 'models'",
        ));
    show("localhost:5000/models/team/phi:v1")
        .success()
        .stdout(contains("policy 'models'"));
    // Verification fails closed before any network: no registry listens on port 5000 here.
    modelseal()
        .args([
            "discover",
            "--verify",
            "localhost:5000/models-evil/x:v1",
            "--policy",
        ])
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(contains(
            "no policy scope covers localhost:5000/models-evil/x",
        ));
}

#[test]
fn version_1_prefixes_keep_loading_with_segment_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let policy = write(
        dir.path(),
        "policy.toml",
        &format!(
            "version = 1\n[[policy]]\nname = \"old\"\nscopes = [\"localhost:5000/models*\"]\n[[policy.issuers]]\nkey = \"{}\"\n",
            public.display()
        ),
    );
    let show = |reference: &str| {
        let mut cmd = modelseal();
        cmd.args(["policy", "show", reference, "--policy"])
            .arg(&policy);
        cmd.assert()
    };
    show("localhost:5000/models/llama:v1").success();
    show("localhost:5000/models:v1").success();
    show("localhost:5000/models-evil/llama:v1").code(2);
}

/// The re-tag attack: `copy -r llama:v1 llama:v2` gives v2 v1's statement.
#[test]
fn a_statement_for_one_tag_or_repository_does_not_pass_as_another() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let llama = d.join("llama");
    let toy = d.join("toy");
    publish(
        d,
        &key,
        &format!("{}:v1", llama.display()),
        "llama:v1",
        true,
    );
    publish(d, &key, &format!("{}:v1", toy.display()), "toy:v1", true);
    for (from, to) in [
        (
            format!("{}:v1", llama.display()),
            format!("{}:v2", llama.display()),
        ),
        (
            format!("{}:v1", toy.display()),
            format!("{}:latest", llama.display()),
        ),
    ] {
        modelseal()
            .args([
                "copy",
                "-r",
                "--from-oci-layout",
                "--to-oci-layout",
                &from,
                &to,
            ])
            .assert()
            .success();
    }
    let policy = bound_policy(d, &public, "\"*\"", "strict");
    discover_verify(&format!("{}:v1", llama.display()), &policy).success();
    discover_verify(&format!("{}:v2", llama.display()), &policy)
        .code(1)
        .stdout(contains("statement sub llama:v1 ≠ required llama:v2"));
    discover_verify(&format!("{}:latest", llama.display()), &policy)
        .code(1)
        .stdout(contains("statement sub toy:v1 ≠ required llama:latest"));
    let out = d.join("pulled");
    modelseal()
        .args(["pull", "--oci-layout", "--verify"])
        .arg(format!("{}:v2", llama.display()))
        .arg("-o")
        .arg(&out)
        .arg("--policy")
        .arg(&policy)
        .assert()
        .code(1);
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
    let verdict = verify_model(&ModelCheck {
        model_dir: "examples/tiny-model".into(),
        manifest_ref: format!("{}:v2", llama.display()),
        oci_layout: true,
        policy: Some(policy.clone()),
    })
    .unwrap();
    assert!(!verdict.verified);
    // By digest there is no tag to bind to: the message says to verify by tag.
    let digest = {
        let out = modelseal()
            .args(["manifest", "fetch", "--oci-layout"])
            .arg(format!("{}:v1", llama.display()))
            .assert()
            .success();
        format!(
            "sha256:{}",
            hex::encode(modelseal::core::manifest::sha256(&out.get_output().stdout))
        )
    };
    discover_verify(&format!("{}@{digest}", llama.display()), &policy)
        .code(1)
        .stdout(contains("verify by tag"));
}

#[test]
fn the_re_tag_is_refused_on_the_real_registry() {
    let Ok(registry) = std::env::var("MODELSEAL_TEST_REGISTRY") else {
        eprintln!("MODELSEAL_TEST_REGISTRY not set: run under scripts/registry.sh");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let repo = format!("{registry}/policy-v2/llama");
    publish(d, &key, &format!("{repo}:v1"), "policy-v2/llama:v1", false);
    modelseal()
        .args(["copy", "-r", &format!("{repo}:v1"), &format!("{repo}:v2")])
        .assert()
        .success();
    let policy = bound_policy(d, &public, &format!("\"{registry}/policy-v2/*\""), "strict");
    let pull = |tag: &str, out: &Path| {
        let mut cmd = modelseal();
        cmd.args(["pull", "--verify", &format!("{repo}:{tag}"), "--policy"])
            .arg(&policy)
            .arg("-o")
            .arg(out);
        cmd.assert()
    };
    pull("v1", &d.join("v1")).success();
    pull("v2", &d.join("v2")).code(1).stdout(contains(
        "statement sub policy-v2/llama:v1 ≠ required policy-v2/llama:v2",
    ));
    assert!(!d.join("v2").join("config.json").exists());
}

#[test]
fn audit_reports_without_blocking_and_skip_is_refused_on_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let llama = d.join("llama");
    publish(
        d,
        &key,
        &format!("{}:v1", llama.display()),
        "other:v1",
        true,
    );
    let policy = bound_policy(d, &public, "\"*\"", "audit");
    discover_verify(&format!("{}:v1", llama.display()), &policy)
        .success()
        .stdout(contains(
            "⚠ policy NOT met (level audit: reported, not enforced)",
        ))
        .stdout(contains("statement sub other:v1 ≠ required llama:v1"));
    let out = modelseal()
        .args(["discover", "--oci-layout", "--verify", "--format", "json"])
        .arg(format!("{}:v1", llama.display()))
        .arg("--policy")
        .arg(&policy)
        .assert()
        .success();
    let json = json_of(&out.get_output().stdout);
    assert_eq!(json["verified"], false);
    assert_eq!(json["enforced"], false);
    assert_eq!(json["level"], "audit");

    let skip = bound_policy(d, &public, "\"*\"", "skip");
    discover_verify(&format!("{}:v1", llama.display()), &skip)
        .code(2)
        .stderr(contains("skip"));
    modelseal()
        .args([
            "policy",
            "init",
            "--scope",
            "*",
            "--level",
            "skip",
            "--issuer-key",
        ])
        .arg(&public)
        .arg("-o")
        .arg(d.join("skip.toml"))
        .assert()
        .code(2);
    assert!(
        !d.join("skip.toml").exists(),
        "a policy that cannot load was written"
    );
}

#[test]
fn the_seed_artifact_passes_under_the_did_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for key in ["ccf-service-key.pem", "mmr-service-key.pem"] {
        std::fs::copy(phi(key), d.join(key)).unwrap();
    }
    let policy = write(
        d,
        "policy.toml",
        &format!(
            "version = 2\n[[policy]]\nname = \"phi\"\nscopes = [\"*\"]\nmin_receipts = 2\n\
             [[policy.issuers]]\niss = \"{DID}\"\n\
             [[policy.transparency_services]]\nname = \"azure\"\nkey = \"ccf-service-key.pem\"\n\
             [[policy.transparency_services]]\nname = \"datatrails\"\nkey = \"mmr-service-key.pem\"\n"
        ),
    );
    let layout = publish_seed(d, &phi("2ts-statement.scitt"));
    discover_verify(&layout, &policy)
        .success()
        .stdout(contains("resolves against the validated chain"))
        .stdout(contains("✔ policy met"));
    // Another DID (another CA fingerprint) does not vouch for it.
    let other = policy.with_file_name("other.toml");
    std::fs::write(
        &other,
        std::fs::read_to_string(&policy)
            .unwrap()
            .replace("I__iuL25", "J__iuL25"),
    )
    .unwrap();
    discover_verify(&layout, &other).code(1);
}

#[test]
fn policy_lint_names_each_finding_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let policy = write(
        dir.path(),
        "policy.toml",
        &format!(
            "version = 2\n\
             [[policy]]\nname = \"a\"\nscopes = [\"ghcr.io/org/*\"]\n[[policy.issuers]]\nkey = \"{k}\"\n\
             [[policy]]\nname = \"b\"\nscopes = [\"ghcr.io/org/*\"]\n[[policy.issuers]]\nsub = \"x\"\n",
            k = public.display()
        ),
    );
    modelseal()
        .args(["policy", "lint"])
        .arg(&policy)
        .assert()
        .code(1)
        .stdout(contains(
            "policy.toml:9: policy 'b': scope ghcr.io/org/* is unreachable",
        ))
        .stdout(contains(
            "policy.toml:10: policy 'b': issuer 1 has no identity",
        ));
    let clean = write(
        dir.path(),
        "clean.toml",
        &format!(
            "version = 2\n[[policy]]\nname = \"a\"\nscopes = [\"*\"]\n[[policy.issuers]]\nkey = \"{}\"\n",
            public.display()
        ),
    );
    modelseal()
        .args(["policy", "lint"])
        .arg(&clean)
        .assert()
        .success()
        .stdout(contains("no findings"));
}

#[test]
fn publish_signs_its_destination_and_bind_subject_holds_it_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let tiny = d.join("tiny");
    modelseal()
        .args(["publish", "examples/tiny-model", "--oci-layout", "--key"])
        .arg(&key)
        .args(["--issuer", "dev"])
        .arg(format!("{}:v1", tiny.display()))
        .assert()
        .success();
    let policy = d.join("bound.toml");
    modelseal()
        .args(["policy", "init", "--bind-subject", "--issuer-key"])
        .arg(&public)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&policy)
            .unwrap()
            .contains("sub = \"{repository}:{tag}\"")
    );
    discover_verify(&format!("{}:v1", tiny.display()), &policy)
        .success()
        .stdout(contains("tiny:v1, as the policy requires"));
    modelseal()
        .args(["copy", "-r", "--from-oci-layout", "--to-oci-layout"])
        .arg(format!("{}:v1", tiny.display()))
        .arg(format!("{}:v2", tiny.display()))
        .assert()
        .success();
    discover_verify(&format!("{}:v2", tiny.display()), &policy)
        .code(1)
        .stdout(contains("statement sub tiny:v1 ≠ required tiny:v2"));
}
