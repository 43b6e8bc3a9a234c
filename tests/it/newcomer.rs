//! Issue 19, a newcomer's first 15 minutes: one meaning per flag (old spellings warned about,
//! still working), a `publish` that can be run again, reports that say what they hold, and
//! errors that say what to do next — each through the binary, against the real registry where
//! one is needed (`scripts/registry.sh`).

use crate::common::{json_of, keygen, modelseal};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::path::{Path, PathBuf};

fn registry() -> String {
    std::env::var("MODELSEAL_TEST_REGISTRY").expect("run under scripts/registry.sh")
}

const ISS: &str = "https://publisher.example";

/// A publisher in `dir`: its key pair and an embedded log at `dir/ts` that accepts it.
fn publisher(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (key, public) = keygen(dir, "ES256");
    let ts = dir.join("ts");
    modelseal()
        .args(["ts", "init", "--dir"])
        .arg(&ts)
        .arg("--issuer-key")
        .arg(&public)
        .args(["--issuer", ISS])
        .assert()
        .success();
    (key, public, ts)
}

/// A publisher in `dir` (see [`publisher`]) that published the tiny model to
/// `newcomer/REPO:v1` with a receipt from its log; and that reference.
fn published(dir: &Path, repo: &str) -> (PathBuf, PathBuf, PathBuf, String) {
    let (key, public, ts) = publisher(dir);
    let reference = format!("{}/newcomer/{repo}:v1", registry());
    publish(
        &key,
        &reference,
        &["--ts", &format!("local:{}", ts.display())],
    )
    .success();
    (key, public, ts, reference)
}

/// `dir/policy.toml` for `newcomer/*`: statements by `issuer_key` claiming [`ISS`], bound to
/// the reference, with a receipt by `service_key`.
fn policy_for(dir: &Path, issuer_key: &Path, service_key: &Path) -> PathBuf {
    let policy = dir.join("policy.toml");
    modelseal()
        .args([
            "policy",
            "init",
            "--scope",
            &format!("{}/newcomer/*", registry()),
        ])
        .arg("--issuer-key")
        .arg(issuer_key)
        .args(["--issuer", ISS, "--bind-subject", "--min-receipts", "1"])
        .arg("--ts-key")
        .arg(service_key)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
    policy
}

/// `publish examples/tiny-model REFERENCE --files` signed by `key`, with `extra` arguments.
fn publish(key: &Path, reference: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            reference,
            "--files",
            "--key",
        ])
        .arg(key)
        .args(["--issuer", ISS])
        .args(extra)
        .assert()
}

#[test]
fn output_json_still_selects_the_style_with_a_deprecation_warning() {
    let model = Path::new("examples/tiny-model");
    let old = modelseal()
        .args(["--output", "json", "hash"])
        .arg(model)
        .assert()
        .success()
        .stderr(contains(
            "warning: `--output json` is deprecated: use `--format json`",
        ));
    let new = modelseal()
        .args(["hash", "--format", "json"])
        .arg(model)
        .assert()
        .success()
        .stderr(contains("deprecated").not());
    assert_eq!(old.get_output().stdout, new.get_output().stdout);
    json_of(&new.get_output().stdout);
}

#[test]
fn output_is_a_path_on_every_command_that_writes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    // What tripped a newcomer: `hash ./m --output manifest.json`.
    modelseal()
        .args(["hash", "examples/tiny-model", "--output"])
        .arg(&manifest)
        .assert()
        .success();
    json_of(&std::fs::read(&manifest).unwrap());
    // The old long names still work: --out, pull's --output-dir.
    let (key, public) = keygen(dir.path(), "ES256");
    modelseal()
        .arg("sign")
        .arg(&manifest)
        .arg("--key")
        .arg(&key)
        .args(["--issuer", "i", "--subject", "s", "--out"])
        .arg(dir.path().join("m.cose"))
        .assert()
        .success();
    // sign --format sigstore-bundle: now --sigstore-bundle; the old spelling warns.
    modelseal()
        .args([
            "sign",
            "examples/tiny-model",
            "--format",
            "sigstore-bundle",
            "--key",
        ])
        .arg(&key)
        .arg("-o")
        .arg(dir.path().join("model.sig"))
        .assert()
        .success()
        .stderr(contains("use `sign --sigstore-bundle`"));
    modelseal()
        .args(["verify"])
        .arg(dir.path().join("model.sig"))
        .arg("--key")
        .arg(&public)
        .args(["--model", "examples/tiny-model"])
        .assert()
        .success();
    // --format table is discover's alone.
    modelseal()
        .args(["--format", "table", "hash", "examples/tiny-model"])
        .assert()
        .code(2)
        .stderr(contains("--format table is for discover"));
}

#[test]
fn publish_keeps_the_statement_and_a_rerun_reuses_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _, ts) = publisher(dir.path());
    let local = format!("local:{}", ts.display());
    let reference = format!("{}/newcomer/rerun:v1", registry());
    let kept = dir.path().join("tiny.scitt");
    let publish_args = ["--ts", &local, "-o", kept.to_str().unwrap()];
    let first = publish(&key, &reference, &publish_args)
        .success()
        .stderr(contains("registered with"))
        .stderr(contains("wrote the statement (1 receipt(s))"));
    let first_out = String::from_utf8_lossy(&first.get_output().stdout).to_string();
    let statement = std::fs::read(&kept).unwrap();
    assert_eq!(
        modelseal::core::cose::Sign1::parse(&statement)
            .unwrap()
            .receipts()
            .unwrap()
            .len(),
        1
    );
    // Again: nothing pushed, signed, registered or attached twice, and it says so.
    let again = publish(&key, &reference, &publish_args)
        .success()
        .stderr(contains("reusing the statement an earlier run attached"))
        .stderr(contains("the tag already holds this artifact"))
        .stderr(contains("the statement is attached already"))
        .stderr(contains("registered with").not());
    assert_eq!(
        String::from_utf8_lossy(&again.get_output().stdout),
        first_out,
        "the same artifact and the one statement"
    );
    assert_eq!(std::fs::read(&kept).unwrap(), statement);
    // The log holds one entry: a new registration of another statement is entry 1.
    let other = dir.path().join("other.cose");
    modelseal()
        .args(["sign", "examples/tiny-model/config.json", "--key"])
        .arg(&key)
        .args(["--issuer", ISS, "--subject", "other", "-o"])
        .arg(&other)
        .assert()
        .success();
    modelseal()
        .arg("register")
        .arg(&other)
        .args(["--ts", &local, "-o"])
        .arg(dir.path().join("other.scitt"))
        .assert()
        .success()
        .stderr(contains("entry 1 of 2"));
    // The same model under another tag: its blobs are in the repository already.
    let v2 = format!("{}/newcomer/rerun:v2", registry());
    publish(&key, &v2, &[])
        .success()
        .stderr(contains("already in the registry: not sent again"));
    // attach labels a statement by what it holds, as publish does.
    for (file, artifact_type) in [
        (&other, "scitt/signed-statement"),
        (&kept, "scitt/transparent-statement"),
    ] {
        let attached = modelseal()
            .args(["attach", "--format", "json", &v2])
            .arg(file)
            .assert()
            .success();
        assert_eq!(
            json_of(&attached.get_output().stdout)["artifactType"],
            artifact_type
        );
    }
    // discover counts each statement's receipts.
    modelseal()
        .args(["discover", &reference])
        .assert()
        .success()
        .stdout(contains("(1 receipt)"));
    modelseal()
        .args(["discover", &v2])
        .assert()
        .success()
        .stdout(contains("scitt/signed-statement"))
        .stdout(contains("(0 receipts)"))
        .stdout(contains("(1 receipt)"));
    let json = modelseal()
        .args(["discover", "--format", "json", &reference])
        .assert()
        .success();
    let json = json_of(&json.get_output().stdout);
    let digest = json["manifests"][0]["digest"].as_str().unwrap();
    assert_eq!(json["receipts"][digest], 1, "{json}");
}

#[test]
fn reports_policy_show_in_text_pull_verify_json_with_its_verification_paths_relative() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public, ts, reference) = published(dir.path(), "reports");
    let policy = policy_for(dir.path(), &public, &ts.join("service.pub"));
    // Text under text: no JSON, and the policy file as the user would name it.
    modelseal()
        .current_dir(dir.path())
        .args(["policy", "show", &reference, "--policy", "policy.toml"])
        .assert()
        .success()
        .stdout(contains("→ policy 'default' (level strict) of policy.toml"))
        .stdout(contains("receipts required: 1"))
        .stdout(contains("issuer 1: es256.pub,"))
        .stdout(contains("{\"").not());
    let shown = modelseal()
        .current_dir(dir.path())
        .args(["policy", "show", "--format", "json", &reference, "--policy"])
        .arg(&policy) // absolute, under the current directory: shown relative
        .assert()
        .success();
    let shown = json_of(&shown.get_output().stdout);
    assert_eq!(shown["file"], "policy.toml");
    assert_eq!(shown["issuers"][0]["source"], "es256.pub", "{shown}");
    // pull --verify --format json: the files (relative) and the verification they rest on.
    let pulled = modelseal()
        .current_dir(dir.path())
        .args([
            "pull", "--verify", "--format", "json", &reference, "-o", "out",
        ])
        .arg("--policy")
        .arg(&policy)
        .assert()
        .success();
    let pulled = json_of(&pulled.get_output().stdout);
    assert_eq!(pulled["verified"], true, "{pulled}");
    assert_eq!(
        pulled["verification"]["statements"]["verified"], true,
        "{pulled}"
    );
    assert_eq!(pulled["verification"]["files"]["matched"], 4, "{pulled}");
    let files: Vec<&str> = pulled["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"out/config.json"), "{files:?}");
    // Plain pull prints the same relative paths, in text as in JSON.
    modelseal()
        .current_dir(dir.path())
        .args(["pull", &reference, "-o"])
        .arg(dir.path().join("plain"))
        .assert()
        .success()
        .stderr(contains("Downloaded plain/config.json"));
}

#[test]
fn errors_name_the_policy_services_kid_and_the_key_file_tried() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _, ts, reference) = published(dir.path(), "errors");
    // A policy with another service's key, and another issuer key.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, wrong_service) = keygen(&other, "ES256");
    let (_, wrong_issuer) = keygen(dir.path(), "EdDSA");
    let policy = policy_for(dir.path(), &wrong_issuer, &wrong_service);
    let service_kid = {
        let pem = std::fs::read_to_string(ts.join("service.pub")).unwrap();
        let key = modelseal::core::crypto::PublicKey::from_pem(&pem).unwrap();
        hex::encode(modelseal::core::cose::key_thumbprint(&key).unwrap())
    };
    modelseal()
        .args(["discover", "--verify", &reference, "--policy"])
        .arg(&policy)
        .assert()
        .code(1)
        .stdout(contains(format!(
            "the receipt's kid {service_kid} is not among the policy's services (service-1: kid "
        )))
        .stdout(contains(format!("(key tried: {})", wrong_issuer.display())));
    // verify names the key file it tried, as given.
    let statement = dir.path().join("s.scitt");
    modelseal()
        .args(["publish", "examples/tiny-model", &reference, "--key"])
        .arg(&key)
        .args(["--issuer", ISS, "-o"])
        .arg(&statement)
        .assert()
        .success();
    modelseal()
        .arg("verify")
        .arg(&statement)
        .arg("--key")
        .arg(&wrong_issuer)
        .assert()
        .code(1)
        .stdout(contains(format!("(key tried: {})", wrong_issuer.display())));
    // …and, pinned to another service's key, which kid the receipt names.
    modelseal()
        .arg("verify")
        .arg(&statement)
        .arg("--key")
        .arg(key.with_extension("pub"))
        .arg("--ts-key")
        .arg(&wrong_service)
        .assert()
        .code(1)
        .stdout(contains("✔ signature"))
        .stdout(contains(format!(
            "the receipt's kid {service_kid} is not among the trusted service keys (kid "
        )));
}

#[test]
fn a_missing_file_has_one_wording_and_a_missing_key_the_key_generate_hint() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.cose");
    let wording = format!("error: {}: no such file or directory", missing.display());
    for args in [
        vec!["verify", missing.to_str().unwrap()],
        vec!["print-cose", missing.to_str().unwrap()],
        vec![
            "register",
            missing.to_str().unwrap(),
            "--ts",
            "local:ts",
            "-o",
            "x",
        ],
    ] {
        modelseal()
            .args(&args)
            .assert()
            .code(2)
            .stderr(contains(wording.as_str()))
            .stderr(contains("key generate").not());
    }
    let no_model = dir.path().join("no-model");
    let no_policy = dir.path().join("policy.toml");
    for args in [
        vec!["hash", no_model.to_str().unwrap()],
        vec![
            "publish",
            no_model.to_str().unwrap(),
            "layout:v1",
            "--oci-layout",
        ],
        vec![
            "policy",
            "show",
            "r/m:v1",
            "--policy",
            no_policy.to_str().unwrap(),
        ],
        vec!["policy", "lint", no_policy.to_str().unwrap()],
        vec![
            "discover",
            "--verify",
            "r/m:v1",
            "--policy",
            no_policy.to_str().unwrap(),
        ],
    ] {
        let missing = if args[0] == "hash" || args[0] == "publish" {
            &no_model
        } else {
            &no_policy
        };
        let mut cmd = modelseal();
        cmd.args(&args);
        if args[0] == "publish" {
            let (key, _) = keygen(dir.path(), "ES256");
            cmd.arg("--key").arg(key).args(["--issuer", "i"]);
        }
        cmd.assert().code(2).stderr(contains(format!(
            "error: {}: no such file or directory",
            missing.display()
        )));
    }
    // A policy that names a key that is not there says which, and who named it.
    std::fs::write(
        &no_policy,
        "version = 2\n[[policy]]\nname = \"p\"\nscopes = [\"*\"]\n[[policy.issuers]]\nkey = \"gone.pub\"\n",
    )
    .unwrap();
    modelseal()
        .args(["policy", "show", "r/m:v1", "--policy"])
        .arg(&no_policy)
        .assert()
        .code(2)
        .stderr(contains(format!(
            "{}: no such file or directory (",
            dir.path().join("gone.pub").display()
        )))
        .stderr(contains("named by the policy)"));
    let key = dir.path().join("publisher.key");
    modelseal()
        .args([
            "sign",
            "examples/tiny-model",
            "--issuer",
            "i",
            "--subject",
            "s",
            "-o",
            "x",
            "--key",
        ])
        .arg(&key)
        .assert()
        .code(2)
        .stderr(contains(format!(
            "error: {}: no such file or directory",
            key.display()
        )))
        .stderr(contains(
            "hint: make a key pair with `modelseal key generate -o NAME`",
        ));
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(dir.path().join("publisher.pub"))
        .arg("-o")
        .arg(dir.path().join("p.toml"))
        .assert()
        .code(2)
        .stderr(contains("publisher.pub: no such file or directory"))
        .stderr(contains(
            "hint: make a key pair with `modelseal key generate",
        ));
}

#[test]
fn not_found_says_whether_the_repository_or_the_tag_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "ES256");
    let reference = format!("{}/newcomer/found:v1", registry());
    publish(&key, &reference, &[]).success();
    modelseal()
        .args(["pull", &format!("{}/newcomer/found:v9", registry()), "-o"])
        .arg(dir.path().join("a"))
        .assert()
        .code(2)
        .stderr(contains(
            "not found: the repository newcomer/found exists, but has no tag v9",
        ));
    modelseal()
        .args([
            "discover",
            &format!("{}/newcomer/never-pushed:v1", registry()),
        ])
        .assert()
        .code(2)
        .stderr(contains(format!(
            "not found: no repository newcomer/never-pushed on {}",
            registry()
        )));
}

/// `modelseal … | head`: a reader that stops reading is not a crash. The text report of a long
/// statement goes to a pipe whose reader is already gone; the command ends with its own exit
/// code and no panic on stderr (as `--format json` already did).
#[test]
fn a_reader_that_stops_reading_text_output_is_not_a_crash() {
    use std::process::{Command, Stdio};
    let statement = crate::common::vector("scitt-for-phi/2ts-statement.scitt");
    for format in ["text", "json"] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
            .args(["--format", format, "print-cose"])
            .arg(&statement)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before the first line
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "--format {format}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "--format {format}: {stderr}");
    }
}
