//! Faults a real registry does not produce on demand: a connection dropped in the middle of an
//! upload (a TCP proxy in the test cuts it), and a registry that serves bytes that are not the
//! blob it names (its storage is corrupted on disk). The registry itself is the real one.

use crate::common::front;
use crate::common::registry;

use crate::common::modelseal;
use predicates::str::contains;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A TCP proxy to `upstream` that cuts the first connection which has sent more than `limit`
/// bytes towards the registry (i.e. mid-upload), once. Returns its address and the cut count.
fn cutting_proxy(upstream: String, limit: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let cuts = Arc::new(AtomicUsize::new(0));
    let armed = Arc::new(AtomicBool::new(true));
    let cuts_out = cuts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (armed, cuts) = (armed.clone(), cuts.clone());
            std::thread::spawn(move || pipe(s2, c2)); // registry → client, untouched
            std::thread::spawn(move || {
                let (mut from, mut to) = (client, server);
                let mut sent = 0usize;
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match from.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    sent += n;
                    if sent > limit && armed.swap(false, Ordering::SeqCst) {
                        cuts.fetch_add(1, Ordering::SeqCst);
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                        return;
                    }
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            });
        }
    });
    (addr, cuts_out)
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

#[test]
fn an_upload_cut_mid_way_is_restarted_and_the_artifact_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let weights: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("weights.bin"), &weights).unwrap();
    let (proxy, cuts) = cutting_proxy(registry(), 1_000_000);
    let through_proxy = format!("{proxy}/faults/cut:v1");
    modelseal()
        .current_dir(dir.path())
        .args([
            "push",
            &through_proxy,
            "weights.bin:application/octet-stream",
            "--artifact-type",
            "example/weights",
        ])
        .assert()
        .success();
    assert_eq!(
        cuts.load(Ordering::SeqCst),
        1,
        "the proxy did not cut an upload"
    );
    // Straight from the registry: the blob is whole.
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", &format!("{}/faults/cut:v1", registry()), "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(out.join("weights.bin")).unwrap(), weights);
}

#[test]
fn a_registry_serving_wrong_bytes_for_a_blob_is_caught_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.bin"), vec![9u8; 200_000]).unwrap();
    let reference = format!("{}/faults/corrupt:v1", registry());
    modelseal()
        .current_dir(dir.path())
        .args([
            "push",
            &reference,
            "model.bin:application/octet-stream",
            "--artifact-type",
            "example/model",
        ])
        .assert()
        .success();
    let storage = Path::new(&std::env::var("MODELSEAL_TEST_REGISTRY_DIR").unwrap())
        .join("storage/docker/registry/v2/blobs/sha256");
    let digest = hex::encode(modelseal::core::manifest::sha256(&vec![9u8; 200_000]));
    let data = storage.join(&digest[..2]).join(&digest).join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[1234] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", &reference, "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("digest mismatch"));
    assert!(!out.join("model.bin").exists());
}

#[test]
fn a_500_on_an_upload_is_retried_and_the_push_succeeds() {
    // The registry answers the first commit of the layer's upload (PUT .../blobs/uploads/...
    // ?digest=<the layer>) with a 500; every commit of that blob is counted.
    let weights = vec![5u8; 300_000];
    let layer = format!(
        "sha256:{}",
        hex::encode(modelseal::core::manifest::sha256(&weights))
    );
    let commits = Arc::new(AtomicUsize::new(0));
    let count = commits.clone();
    let intercept = Arc::new(
        move |method: &axum::http::Method,
              path: &str,
              q: Option<&str>,
              _h: &axum::http::HeaderMap| {
            let commit = *method == axum::http::Method::PUT
                && path.contains("/blobs/uploads/")
                && q.is_some_and(|q| q.contains(&layer.replace(':', "%3A")) || q.contains(&layer));
            (commit && count.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
                axum::response::Response::builder()
                    .status(500)
                    .body(axum::body::Body::from(
                        "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"injected\"}]}",
                    ))
                    .unwrap()
            })
        },
    );
    let front = front::start(
        registry(),
        intercept,
        Arc::new(|_: &axum::http::Method, _: &str, _: &[u8], _| Vec::new()),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.bin"), &weights).unwrap();
    modelseal()
        .current_dir(dir.path())
        .args([
            "push",
            &format!("{front}/faults/five-hundred:v1"),
            "w.bin:application/octet-stream",
            "--artifact-type",
            "example/w",
        ])
        .assert()
        .success();
    assert_eq!(
        commits.load(Ordering::SeqCst),
        2,
        "the layer's upload should be committed twice: the 500, then the retry"
    );
    let out = dir.path().join("out");
    modelseal()
        .args([
            "pull",
            &format!("{}/faults/five-hundred:v1", registry()),
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("w.bin")).unwrap(),
        vec![5u8; 300_000]
    );
}
