//! Concurrent `attach`es on a registry without the referrers API (Debian's distribution 2.8)
//! share one tag-schema index, which the registry cannot update conditionally. The README
//! promises that none drops another's entry: racing attaches, on the real registry and through a
//! front that delays one writer's index PUT, all end up listed.

use crate::common::front;
use crate::common::registry;

use crate::common::{json_of, modelseal};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Pushes a fresh subject at `reference`, then runs `writers` attaches of distinct files at
/// once; returns how many referrers discover lists afterwards.
fn race(dir: &Path, reference: &str, writers: usize) -> usize {
    std::fs::write(dir.join("manifest.json"), reference.as_bytes()).unwrap();
    modelseal()
        .current_dir(dir)
        .args(["push", reference, "manifest.json"])
        .assert()
        .success();
    let children: Vec<_> = (0..writers)
        .map(|i| {
            let file = format!("statement-{i}.scitt");
            std::fs::write(dir.join(&file), format!("{reference} {i}")).unwrap();
            std::process::Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
                .current_dir(dir)
                .args(["attach", "-q", reference, &file])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "an attach failed");
    }
    let tree = modelseal()
        .args(["discover", "--format", "json", reference])
        .assert()
        .success();
    json_of(&tree.get_output().stdout)["manifests"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn racing_attaches_keep_every_entry_on_the_real_registry() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    for round in 0..5 {
        let listed = race(dir.path(), &format!("{registry}/race/plain:r{round}"), 2);
        assert_eq!(listed, 2, "round {round}: a racing attach dropped an entry");
    }
}

#[test]
fn a_writer_whose_index_put_is_slow_does_not_drop_the_other() {
    let dir = tempfile::tempdir().unwrap();
    // The first index PUT (tag sha256-<hex>) waits 400 ms before it reaches the registry: the
    // other writer reads, writes and checks in that time, and is then overwritten.
    let delayed = Arc::new(AtomicBool::new(false));
    let flag = delayed.clone();
    let intercept = Arc::new(
        move |method: &axum::http::Method,
              path: &str,
              _q: Option<&str>,
              _h: &axum::http::HeaderMap| {
            if *method == axum::http::Method::PUT
                && path.contains("/manifests/sha256-")
                && !flag.swap(true, Ordering::SeqCst)
            {
                std::thread::sleep(Duration::from_millis(400));
            }
            None
        },
    );
    let slow = front::start(
        registry(),
        intercept,
        Arc::new(|_: &axum::http::Method, _: &str, _: &[u8], _| Vec::new()),
    );
    let listed = race(dir.path(), &format!("{slow}/race/slow:v1"), 2);
    assert!(delayed.load(Ordering::SeqCst), "no index PUT was delayed");
    assert_eq!(listed, 2, "the slow writer's PUT dropped the other's entry");
}
