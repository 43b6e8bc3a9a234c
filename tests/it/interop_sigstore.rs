//! Sigstore bundles both ways with the real `model-signing` 1.1.1: `model_signing verify key`
//! accepts the bundles `modelseal sign --sigstore-bundle` (and the library's
//! `write_bundle`) writes, and `modelseal verify` (and the library's `read_bundle` +
//! `verify_bundle`) accepts the bundles `model_signing sign key` writes. Run by
//! `scripts/interop.sh` (`MODELSEAL_PEER_VENV` = a venv with model-signing 1.1.1).

use crate::common::{keygen, modelseal};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal::core::crypto::{Algorithm, PrivateKey};
use modelseal::core::manifest::{HashConfig, ModelManifest, NoProgress, hash_model};
use modelseal::core::sigstore::{
    IN_TOTO_PAYLOAD_TYPE, pae_compat, read_bundle, verify_bundle, write_bundle,
};
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
            .args(["--sigstore-bundle", "-o"])
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

/// A small xorshift generator seeded from the clock: each run tries different models (the seed is
/// printed so a failure can be replayed with `MODELSEAL_SEED`).
struct Rng(u64);
impl Rng {
    fn new() -> Self {
        let seed = std::env::var("MODELSEAL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("MODELSEAL_SEED={seed}");
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A random model: 2–6 files of 0–200 kB, some under nested directories. Returns the files.
fn random_model(dir: &Path, rng: &mut Rng) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for i in 0..2 + rng.below(5) {
        let rel = match rng.below(3) {
            0 => format!("f{i}.bin"),
            1 => format!("layer{}/w{i}.safetensors", rng.below(2)),
            _ => format!("deep/er/n{i}.json"),
        };
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let len = if rng.below(4) == 0 {
            0
        } else {
            rng.below(200_000) as usize
        };
        std::fs::write(&path, rng.bytes(len)).unwrap();
        files.push(path);
    }
    files
}

fn peer_verify(bundle: &Path, public: &Path, model: &Path) -> Output {
    Command::new(peer())
        .args(["verify", "key", "--signature"])
        .arg(bundle)
        .arg("--public_key")
        .arg(public)
        .arg(model)
        .output()
        .unwrap()
}

/// The statement with its `ignore_paths` in a fixed order (the peer writes a set).
fn normalised(mut m: ModelManifest) -> ModelManifest {
    m.serialization.ignore_paths.sort();
    m
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn model_signing_verifies_bundles_from_the_library_for_every_curve() {
    let mut rng = Rng::new();
    let dir = tempfile::tempdir().unwrap();
    for (round, alg) in [
        Algorithm::ES256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
    ]
    .into_iter()
    .enumerate()
    {
        let model = dir.path().join(format!("model-{round}"));
        let files = random_model(&model, &mut rng);
        let manifest = hash_model(&model, &HashConfig::default(), &NoProgress).unwrap();
        let key = PrivateKey::generate(alg).unwrap();
        let public = dir.path().join(format!("pub-{round}.pem"));
        std::fs::write(&public, key.public_key().to_spki_pem()).unwrap();
        let bundle = dir.path().join(format!("model-{round}.sig"));
        std::fs::write(&bundle, write_bundle(&manifest.to_json(), &key).unwrap()).unwrap();

        let out = peer_verify(&bundle, &public, &model);
        assert!(
            out.status.success(),
            "{alg}: peer refused our bundle: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Another key: the peer's hint check refuses it.
        let other = dir.path().join(format!("other-{round}.pem"));
        let other_key = PrivateKey::generate(alg).unwrap().public_key();
        std::fs::write(&other, other_key.to_spki_pem()).unwrap();
        assert!(!peer_verify(&bundle, &other, &model).status.success());
        // A tampered file.
        let victim = &files[rng.below(files.len() as u64) as usize];
        let mut bytes = std::fs::read(victim).unwrap();
        match bytes.first_mut() {
            Some(b) => *b ^= 1,
            None => bytes.push(0),
        }
        std::fs::write(victim, bytes).unwrap();
        assert!(
            !peer_verify(&bundle, &public, &model).status.success(),
            "{alg}: peer accepted a tampered model"
        );
    }
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn model_signing_also_accepts_a_signature_over_the_pre_1_0_pae() {
    // Checks our reading of the peer's fallback (`pae_compat`), which `verify_bundle` copies.
    let mut rng = Rng::new();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    random_model(&model, &mut rng);
    let statement = hash_model(&model, &HashConfig::default(), &NoProgress)
        .unwrap()
        .to_json();
    let key = PrivateKey::generate(Algorithm::ES256).unwrap();
    let public = dir.path().join("pub.pem");
    std::fs::write(&public, key.public_key().to_spki_pem()).unwrap();
    let proper = String::from_utf8(write_bundle(&statement, &key).unwrap()).unwrap();
    let old_sig = B64.encode(
        read_bundle(proper.as_bytes()).unwrap().signatures[0]
            .sig
            .clone(),
    );
    let compat_sig = B64.encode(
        key.sign_der(&pae_compat(IN_TOTO_PAYLOAD_TYPE, &statement))
            .unwrap(),
    );
    let bundle = dir.path().join("model.sig");
    std::fs::write(&bundle, proper.replace(&old_sig, &compat_sig)).unwrap();
    let out = peer_verify(&bundle, &public, &model);
    assert!(
        out.status.success(),
        "peer refused a pre-1.0 PAE signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = read_bundle(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(verify_bundle(&ours, &key.public_key()).unwrap(), statement);
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn the_library_verifies_bundles_model_signing_makes_over_random_models() {
    let mut rng = Rng::new();
    let dir = tempfile::tempdir().unwrap();
    for (round, alg) in [
        Algorithm::ES256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
    ]
    .into_iter()
    .enumerate()
    {
        // The peer signs with a key we generated: it reads our PKCS#8 PEM.
        let key = PrivateKey::generate(alg).unwrap();
        let private = dir.path().join(format!("key-{round}.pem"));
        std::fs::write(&private, key.to_pkcs8_pem().as_bytes()).unwrap();
        let model = dir.path().join(format!("model-{round}"));
        random_model(&model, &mut rng);
        let bundle = dir.path().join(format!("peer-{round}.sig"));
        let out = Command::new(peer())
            .args(["sign", "key", "--private_key"])
            .arg(&private)
            .arg("--signature")
            .arg(&bundle)
            .arg(&model)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{alg}: peer could not sign: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let read = read_bundle(&std::fs::read(&bundle).unwrap()).unwrap();
        assert!(!read.has_certificate);
        assert_eq!(read.tlog_entries, 0);
        assert_eq!(read.signatures.len(), 1);
        let statement = verify_bundle(&read, &key.public_key()).unwrap();
        let signed = ModelManifest::from_json(&statement).unwrap();
        let fresh = hash_model(&model, &HashConfig::default(), &NoProgress).unwrap();
        assert_eq!(normalised(signed), normalised(fresh), "{alg}");

        // The peer's bundle and ours differ only in the signature.
        let blank = |b: &[u8]| {
            let s = String::from_utf8(b.to_vec()).unwrap();
            let start = s.find("\"sig\":\"").unwrap() + 7;
            let end = start + s[start..].find('"').unwrap();
            format!("{}{}", &s[..start], &s[end..])
        };
        assert_eq!(
            blank(&write_bundle(&statement, &key).unwrap()),
            blank(&std::fs::read(&bundle).unwrap()),
            "{alg}"
        );

        let other = PrivateKey::generate(alg).unwrap().public_key();
        assert!(verify_bundle(&read, &other).is_err());
    }
}
