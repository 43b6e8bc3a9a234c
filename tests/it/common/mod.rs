//! Shared by the integration tests: the binary, the shared vectors, and statement comparison.

pub mod front;
pub mod hostile;
pub mod phi;
pub mod publish;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The test registry `scripts/registry.sh` starts (Debian's docker-registry on loopback).
pub fn registry() -> String {
    std::env::var("MODELSEAL_TEST_REGISTRY")
        .expect("run under scripts/registry.sh (scripts/test.sh does)")
}

/// `sha256:HEX` of `bytes`: an OCI digest.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(modelseal::core::manifest::sha256(bytes))
    )
}

/// Serves `router` on a free 127.0.0.1 port from a thread of its own, on a runtime of `workers`
/// threads (a front that sleeps in a handler holds only its own request): returns `host:port`.
/// The fronts and stand-in services tests put before the real registry or a `ts serve`.
pub fn serve_router(router: axum::Router, workers: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    addr
}

pub fn modelseal() -> Command {
    Command::cargo_bin("modelseal").expect("binary built")
}

/// A file under `../shared/vectors/` (beside the repository), used in place.
pub fn vector(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/vectors")
        .join(rel);
    assert!(p.exists(), "missing shared vector {}", p.display());
    p
}

pub fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Field-for-field equality of two model-signing statements. The only liberties are the ones the
/// peer takes itself: `ignore_paths` is a set, and `shard_size` a number that may be written as a
/// float.
pub fn assert_same_statement(ours: &Value, peer: &Value) {
    fn normalise(v: &Value) -> Value {
        let mut v = v.clone();
        let ser = &mut v["predicate"]["serialization"];
        if let Some(paths) = ser.get_mut("ignore_paths").and_then(Value::as_array_mut) {
            paths.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
        if let Some(size) = ser.get("shard_size").and_then(Value::as_f64) {
            ser["shard_size"] = Value::from(size);
        }
        v
    }
    let (a, b) = (normalise(ours), normalise(peer));
    assert_eq!(
        a,
        b,
        "statements differ\n ours: {}\n peer: {}",
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap()
    );
}

/// Copies a directory tree (files and dirs only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A fresh key pair from `modelseal key generate`: (`<alg>.key`, `<alg>.pub`) in `dir`.
pub fn keygen(dir: &Path, alg: &str) -> (PathBuf, PathBuf) {
    let name = dir.join(alg.to_lowercase());
    modelseal()
        .args(["key", "generate", "--alg", alg, "-o"])
        .arg(&name)
        .assert()
        .success();
    (name.with_extension("key"), name.with_extension("pub"))
}
pub mod pki;
pub mod raw_cose;
pub mod scitt;
pub mod ts_server;
pub mod wire;
