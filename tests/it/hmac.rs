//! `modelseal hmac`: the guide's HMAC folders both ways against an independent Python HMAC
//! implementation, every refusal with its message and exit code, and `migrate` to a statement.

use crate::common::{keygen, modelseal};
use predicates::str::contains;
use std::path::Path;
use std::process::Command;

const SECRET: &str = "s3cret-shared-by-everyone";

/// A models root: two signed kinds of file in nested directories, and a file the guide ignores.
fn models(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("models");
    std::fs::create_dir_all(root.join("vision")).unwrap();
    std::fs::write(root.join("classifier.pt"), vec![7u8; 3 << 20]).unwrap();
    std::fs::write(root.join("vision/detector.onnx"), b"onnx bytes").unwrap();
    std::fs::write(root.join("notes.txt"), b"not a model file").unwrap();
    root
}

fn hmac(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = modelseal();
    cmd.arg("hmac").args(args).env("MODEL_SIGNING_KEY", SECRET);
    cmd
}

/// The guide's own few lines, in Python: verify (`mode` "verify") or sign ("sign") a file.
fn python(mode: &str, file: &Path) -> std::process::Output {
    let script = r#"
import hmac, hashlib, json, os, sys, datetime
mode, path = sys.argv[1], sys.argv[2]
key = os.environ["MODEL_SIGNING_KEY"].encode()
data = open(path, "rb").read()
mac = hmac.new(key, data, hashlib.sha256).hexdigest()
if mode == "sign":
    json.dump({"file": os.path.basename(path), "signature": mac, "algorithm": "sha256",
               "signed_at": datetime.datetime.utcnow().isoformat() + "Z", "file_size": len(data)},
              open(path + ".sig", "w"), indent=2)
else:
    sig = json.load(open(path + ".sig"))
    ok = hmac.compare_digest(sig["signature"], mac) and sig["file_size"] == len(data)
    sys.exit(0 if ok else 1)
"#;
    Command::new("python3")
        .args(["-c", script, mode])
        .arg(file)
        .env("MODEL_SIGNING_KEY", SECRET)
        .output()
        .expect("python3 runs")
}

#[test]
fn our_signatures_verify_with_python_and_theirs_with_ours() {
    let dir = tempfile::tempdir().unwrap();
    let root = models(dir.path());
    hmac(&["sign-all", "--models-dir"])
        .arg(&root)
        .assert()
        .success();
    for f in ["classifier.pt", "vision/detector.onnx"] {
        let out = python("verify", &root.join(f));
        assert!(out.status.success(), "python refuses our {f}: {out:?}");
    }
    assert!(
        !root.join("notes.txt.sig").exists(),
        "only model files are signed"
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("model_signatures.json")).unwrap())
            .unwrap();
    assert_eq!(index["total_files"], 2);
    assert_eq!(index["algorithm"], "sha256");
    assert!(index["signatures"]["vision/detector.onnx"]["signature"].is_string());

    // Theirs with ours.
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("m.safetensors"), b"weights").unwrap();
    assert!(
        python("sign", &theirs.join("m.safetensors"))
            .status
            .success()
    );
    hmac(&["verify", "--model"])
        .arg(theirs.join("m.safetensors"))
        .assert()
        .success();
    // And Python refuses what we signed once the file changes.
    std::fs::write(root.join("vision/detector.onnx"), b"onnx bytez").unwrap();
    assert!(
        !python("verify", &root.join("vision/detector.onnx"))
            .status
            .success()
    );
}

#[test]
fn each_failure_has_its_message_and_exit_code_and_the_key_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let root = models(dir.path());
    hmac(&["sign-all", "--models-dir"])
        .arg(&root)
        .assert()
        .success();
    let all = |root: &Path| {
        let mut cmd = hmac(&["verify-all", "--verbose", "--models-dir"]);
        cmd.arg(root);
        cmd.assert()
    };
    let ok = all(&root).success().stdout(contains("✔ 2/2 verified"));
    let text = String::from_utf8_lossy(&ok.get_output().stdout).to_string();
    assert!(!text.contains(SECRET));

    // Tampered: one byte flipped, same size.
    let mut bytes = std::fs::read(root.join("classifier.pt")).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(root.join("classifier.pt"), &bytes).unwrap();
    let failed = all(&root)
        .code(1)
        .stdout(contains("✘ classifier.pt: Signature mismatch"));
    let out = failed.get_output();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    bytes[1000] ^= 1;
    std::fs::write(root.join("classifier.pt"), &bytes).unwrap();

    // A missing .sig.
    std::fs::remove_file(root.join("vision/detector.onnx.sig")).unwrap();
    all(&root)
        .code(1)
        .stdout(contains("✘ vision/detector.onnx: Signature file not found"));

    // A wrong key from a file; no key at all.
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, "another secret\n").unwrap();
    modelseal()
        .args(["hmac", "verify", "--key-file"])
        .arg(&wrong)
        .arg("--model")
        .arg(root.join("classifier.pt"))
        .assert()
        .code(1)
        .stdout(contains("Signature mismatch"));
    modelseal()
        .args(["hmac", "verify", "--model"])
        .arg(root.join("classifier.pt"))
        .env_remove("MODEL_SIGNING_KEY")
        .assert()
        .code(2)
        .stderr(contains("MODEL_SIGNING_KEY not set"));
}

#[test]
fn migrate_signs_exactly_the_verified_files_or_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = models(dir.path());
    let (key, public) = keygen(dir.path(), "ES256");
    hmac(&["sign-all", "--models-dir"])
        .arg(&root)
        .assert()
        .success();
    let statement = dir.path().join("models.cose");
    let migrate = |out: &Path| {
        let mut cmd = hmac(&["migrate", "--models-dir"]);
        cmd.arg(&root)
            .arg("--key")
            .arg(&key)
            .args([
                "--issuer",
                "https://publisher.example",
                "--subject",
                "models",
                "-o",
            ])
            .arg(out);
        cmd.assert()
    };
    migrate(&statement)
        .success()
        .stdout(contains("not covered"))
        .stdout(contains("notes.txt"));
    modelseal()
        .arg("verify")
        .arg(&statement)
        .arg("--key")
        .arg(&public)
        .arg("--model")
        .arg(&root)
        .assert()
        .success()
        .stdout(contains("2 files match the signed manifest"))
        .stdout(contains("not covered by it"));

    // One signature fails: nothing is written, nothing in the folder changes.
    std::fs::write(root.join("vision/detector.onnx"), b"swapped").unwrap();
    let before: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let refused = dir.path().join("refused.cose");
    migrate(&refused)
        .code(1)
        .stdout(contains("Signature mismatch"))
        .stdout(contains("nothing was written"));
    assert!(!refused.exists());
    let after: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before, after);
}
