//! Sigstore bundles both ways with the real `model-signing` 1.1.1: `model_signing verify key`
//! accepts the bundles `modelseal sign --format sigstore-bundle` writes, and `modelseal verify`
//! accepts the bundles `model_signing sign key` writes. Run by `scripts/interop.sh`.

mod common;

use common::{keygen, modelseal};
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::Command;

fn peer() -> PathBuf {
    PathBuf::from(
        std::env::var("MODELSEAL_PEER_VENV").expect("needs model-signing: run scripts/interop.sh"),
    )
    .join("bin/model_signing")
}

/// A small model with a nested directory and an empty file, different per seed.
fn model(root: &Path, seed: u8) -> PathBuf {
    let dir = root.join(format!("model-{seed}"));
    std::fs::create_dir_all(dir.join("weights/shard")).unwrap();
    std::fs::write(dir.join("config.json"), format!("{{\"seed\": {seed}}}")).unwrap();
    std::fs::write(
        dir.join("weights/shard/0.bin"),
        vec![seed; 100_000 + seed as usize],
    )
    .unwrap();
    std::fs::write(dir.join("weights/empty"), b"").unwrap();
    dir
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn model_signing_verifies_our_bundles_and_refuses_a_tampered_model() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, alg) in [(1u8, "ES256"), (2, "ES384")] {
        let model = model(dir.path(), seed);
        let (private, public) = keygen(dir.path(), alg);
        let bundle = dir.path().join(format!("model-{seed}.sig"));
        modelseal()
            .arg("sign")
            .arg(&model)
            .arg("--key")
            .arg(&private)
            .args(["--format", "sigstore-bundle", "-o"])
            .arg(&bundle)
            .assert()
            .success();
        let verify = |model: &Path| {
            Command::new(peer())
                .args(["verify", "key", "--signature"])
                .arg(&bundle)
                .arg("--public_key")
                .arg(&public)
                .arg(model)
                .output()
                .unwrap()
        };
        let out = verify(&model);
        assert!(
            out.status.success(),
            "{alg}: peer refused our bundle: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(model.join("weights/empty"), b"no longer empty").unwrap();
        assert!(
            !verify(&model).status.success(),
            "{alg}: peer accepted a tampered model"
        );
    }
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn we_verify_bundles_model_signing_makes_and_check_the_model_they_sign() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("ec.pem");
    let public = dir.path().join("pub.pem");
    let openssl = |args: &[&str]| {
        assert!(
            Command::new("openssl")
                .args(args)
                .status()
                .unwrap()
                .success()
        )
    };
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        private.to_str().unwrap(),
    ]);
    openssl(&[
        "ec",
        "-in",
        private.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    for seed in [3u8, 4] {
        let model = model(dir.path(), seed);
        let bundle = dir.path().join(format!("peer-{seed}.sig"));
        let status = Command::new(peer())
            .args(["sign", "key", "--private_key"])
            .arg(&private)
            .arg("--signature")
            .arg(&bundle)
            .arg(&model)
            .status()
            .unwrap();
        assert!(status.success());
        modelseal()
            .arg("verify")
            .arg(&bundle)
            .arg("--key")
            .arg(&public)
            .arg("--model")
            .arg(&model)
            .assert()
            .success()
            .stdout(contains("Sigstore bundle"))
            .stdout(contains("3 files match"));
        std::fs::remove_file(model.join("config.json")).unwrap();
        modelseal()
            .arg("verify")
            .arg(&bundle)
            .arg("--key")
            .arg(&public)
            .arg("--model")
            .arg(&model)
            .assert()
            .code(1)
            .stdout(contains("missing: config.json"));
    }
}
