//! Transfers of big blobs over imperfect links (issue 17), against the real registry: chunked
//! and resumed uploads, ranged and resumed downloads, a pull killed and run again, expiring
//! tokens, a front refusing big bodies, and cross-repository mounts. Faults come from a front
//! (`common/wire.rs`) that also counts the blob bytes crossing it.

use crate::common::registry;
use crate::common::wire;

use crate::common::publish::{ISSUER, dev_trust};
use crate::common::{json_of, modelseal};
use std::path::Path;
use std::sync::atomic::Ordering;
use wire::Faults;

const MIB: u64 = 1 << 20;
/// No transfer here takes a minute on loopback; one that does is stuck.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(90);

/// `size` bytes that do not repeat in any way a registry could deduplicate.
fn model(dir: &Path, name: &str, size: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(size as usize);
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ size;
    while (bytes.len() as u64) < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(size as usize);
    std::fs::write(dir.join(name), &bytes).unwrap();
    bytes
}

/// `model.bin` of `size` bytes in `dir`, pushed to `repo:v1` on the registry, and a front with
/// `faults` before the registry: the model's bytes, the front's address and its counters.
fn pushed_behind(
    dir: &Path,
    repo: &str,
    size: u64,
    faults: Faults,
) -> (Vec<u8>, String, std::sync::Arc<wire::Wire>) {
    let bytes = model(dir, "model.bin", size);
    push(dir, &format!("{}/{repo}:v1", registry()), "model.bin", &[]);
    let (front, wire) = wire::start(registry(), faults);
    (bytes, front, wire)
}

/// Download cuts at the byte every `every` bytes.
fn download_cuts(every: u64) -> Faults {
    Faults {
        cut_download_every: Some(every),
        ..Default::default()
    }
}

fn push(dir: &Path, reference: &str, file: &str, extra: &[&str]) -> serde_json::Value {
    let out = modelseal()
        .current_dir(dir)
        .args(["--format", "json", "push", reference])
        .arg(format!("{file}:application/octet-stream"))
        .args(["--artifact-type", "example/model"])
        .args(extra)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "push failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out.stdout)
}

fn pull(reference: &str, out_dir: &Path) -> serde_json::Value {
    let out = modelseal()
        .args(["--format", "json", "pull", reference, "-o"])
        .arg(out_dir)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pull failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out.stdout)
}

#[test]
fn a_push_cut_every_few_mib_resumes_and_resends_at_most_a_chunk_per_cut() {
    let dir = tempfile::tempdir().unwrap();
    let size = 48 * MIB;
    let chunk = 4 * MIB;
    let bytes = model(dir.path(), "model.bin", size);
    let (front, wire) = wire::start(
        registry(),
        Faults {
            cut_upload_every: Some(10 * MIB),
            ..Default::default()
        },
    );
    let report = push(
        dir.path(),
        &format!("{front}/transfer/cut-push:v1"),
        "model.bin",
        &["--chunk-size", "4M"],
    );
    let cuts = wire.cuts.load(Ordering::SeqCst);
    assert!(cuts >= 4, "the front cut {cuts} times");
    let sent = wire.upload_bytes.load(Ordering::SeqCst);
    let resent = sent - size - 2; // the config blob is "{}"
    assert!(
        resent <= cuts * chunk,
        "{resent} bytes re-sent over {cuts} cuts (chunk {chunk})"
    );
    assert_eq!(report["transfer"]["resent"], resent, "{report}");
    // Straight from the registry: the blob is whole.
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/cut-push:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

#[test]
fn after_each_cut_the_chunks_of_the_rest_of_the_push_are_halved_down_to_4_mib() {
    let dir = tempfile::tempdir().unwrap();
    let size = 48 * MIB;
    let bytes = model(dir.path(), "model.bin", size);
    let (front, wire) = wire::start(
        registry(),
        Faults {
            cut_upload_every: Some(10 * MIB),
            ..Default::default()
        },
    );
    let report = push(
        dir.path(),
        &format!("{front}/transfer/halved:v1"),
        "model.bin",
        &["--chunk-size", "16M"],
    );
    let cuts = wire.cuts.load(Ordering::SeqCst);
    assert!(cuts >= 4, "the front cut {cuts} times");
    // Each cut costs the chunk it took: 16 MiB, then 8, then 4 each (at 16 MiB throughout,
    // it would be 16 each).
    let resent = report["transfer"]["resent"].as_u64().unwrap();
    assert_eq!(
        resent,
        (16 + 8 + 4 * (cuts - 2)) * MIB,
        "{report}, {cuts} cuts"
    );
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/halved:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

#[test]
fn a_push_cut_on_its_first_chunk_resumes_in_the_same_session() {
    // The session is empty when asked, and distribution says `Range: 0-0` for that.
    let dir = tempfile::tempdir().unwrap();
    let bytes = model(dir.path(), "model.bin", 10 * MIB);
    let (front, wire) = wire::start(
        registry(),
        Faults {
            cut_upload_every: Some(3 * MIB),
            max_cuts: Some(1),
            ..Default::default()
        },
    );
    let report = push(
        dir.path(),
        &format!("{front}/transfer/first-chunk:v1"),
        "model.bin",
        &["--chunk-size", "4M"],
    );
    assert_eq!(wire.cuts.load(Ordering::SeqCst), 1);
    assert_eq!(report["transfer"]["resent"], 4 * MIB, "{report}");
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/first-chunk:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

#[test]
fn a_pull_cut_at_the_byte_every_few_mib_continues_with_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let size = 40 * MIB;
    let (bytes, front, wire) = pushed_behind(
        dir.path(),
        "transfer/cut-pull",
        size,
        download_cuts(7 * MIB),
    );
    let out = dir.path().join("out");
    let report = pull(&format!("{front}/transfer/cut-pull:v1"), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
    let cuts = wire.cuts.load(Ordering::SeqCst);
    assert!(cuts >= 5, "the front cut {cuts} times");
    assert!(wire.ranged_gets.load(Ordering::SeqCst) >= cuts);
    // Nothing is fetched twice but what was on the wire when the link broke (bytes the front
    // wrote that never reached the client): well under a MiB per cut.
    let crossed = wire.download_bytes.load(Ordering::SeqCst);
    assert!(
        crossed < size + 2 + cuts * MIB,
        "{crossed} bytes crossed the front for {size} over {cuts} cuts"
    );
    assert_eq!(report["transfer"]["resumed"], 0, "{report}");
    assert!(!out.join(".modelseal-partial").exists());
}

#[test]
fn a_registry_that_ignores_range_is_read_from_the_start_and_the_pull_still_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let size = 12 * MIB;
    let (bytes, front, wire) = pushed_behind(
        dir.path(),
        "transfer/no-range",
        size,
        Faults {
            cut_download_every: Some(9 * MIB),
            max_cuts: Some(1),
            ignore_range: true,
            ..Default::default()
        },
    );
    let out = dir.path().join("out");
    pull(&format!("{front}/transfer/no-range:v1"), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
    assert!(wire.download_bytes.load(Ordering::SeqCst) > size);
}

#[test]
fn a_pull_killed_mid_way_resumes_on_the_next_run_and_fetches_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let size = 24 * MIB;
    let (bytes, front, wire) =
        pushed_behind(dir.path(), "transfer/killed", size, Faults::default());
    wire.slow.store(true, Ordering::SeqCst);
    let reference = format!("{front}/transfer/killed:v1");
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
        .args(["pull", &reference, "-o"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let partial_dir = out.join(".modelseal-partial");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let held = loop {
        let held: u64 = std::fs::read_dir(&partial_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if held >= 4 * MIB {
            break held;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pull made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();
    assert!(
        !out.join("model.bin").exists(),
        "nothing unverified is placed"
    );
    wire.slow.store(false, Ordering::SeqCst);
    let before = wire.download_bytes.load(Ordering::SeqCst);
    let report = pull(&reference, &out);
    let second = wire.download_bytes.load(Ordering::SeqCst) - before;
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
    assert!(
        second <= size - held + 2,
        "the second run fetched {second} bytes; {held} were on disk"
    );
    assert!(report["transfer"]["resumed"].as_u64().unwrap() >= held);
    assert!(!partial_dir.exists());
}

#[test]
fn a_token_that_expires_mid_upload_is_renewed_and_the_upload_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let size = 20 * MIB;
    let bytes = model(dir.path(), "model.bin", size);
    let (front, wire) = wire::start(
        registry(),
        Faults {
            token_expires_after: Some(2),
            ..Default::default()
        },
    );
    push(
        dir.path(),
        &format!("{front}/transfer/token:v1"),
        "model.bin",
        &["--chunk-size", "2M"],
    );
    assert!(wire.expired.load(Ordering::SeqCst) >= 2, "no token expired");
    // One body per PATCH: a 401 costs the chunk it refused, never the upload.
    let sent = wire.upload_bytes.load(Ordering::SeqCst);
    assert!(sent <= size + 2 + wire.expired.load(Ordering::SeqCst) * 2 * MIB);
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/token:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

#[test]
fn a_front_that_refuses_big_bodies_takes_a_chunked_push() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = model(dir.path(), "model.bin", 10 * MIB);
    let (front, _) = wire::start(
        registry(),
        Faults {
            max_body: Some(4 * MIB),
            ..Default::default()
        },
    );
    let reference = format!("{front}/transfer/max-body:v1");
    // Monolithic (the blob is under the default chunk size): refused.
    modelseal()
        .current_dir(dir.path())
        .args(["push", &reference, "model.bin:application/octet-stream"])
        .args(["--artifact-type", "example/model"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("413"));
    push(dir.path(), &reference, "model.bin", &["--chunk-size", "3M"]);
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/max-body:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

#[test]
fn copy_between_two_repositories_of_one_registry_mounts_and_uploads_no_blob_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, front, wire) =
        pushed_behind(dir.path(), "transfer/mount-a", 6 * MIB, Faults::default());
    let out = modelseal()
        .args(["--format", "json", "copy"])
        .arg(format!("{front}/transfer/mount-a:v1"))
        .arg(format!("{front}/transfer/mount-b:v1"))
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(wire.upload_bytes.load(Ordering::SeqCst), 0);
    assert_eq!(wire.download_bytes.load(Ordering::SeqCst), 0);
    assert_eq!(wire.mounts.load(Ordering::SeqCst), 2, "config and layer");
    assert_eq!(json_of(&out.stdout)["transfer"]["mounted"], 2);
    // push --mount-from: the same for a push of a file that repository has.
    push(
        dir.path(),
        &format!("{front}/transfer/mount-c:v1"),
        "model.bin",
        &["--mount-from", "transfer/mount-a"],
    );
    assert_eq!(wire.upload_bytes.load(Ordering::SeqCst), 0);
    let pulled = dir.path().join("out");
    pull(&format!("{}/transfer/mount-c:v1", registry()), &pulled);
    assert!(std::fs::read(pulled.join("model.bin")).unwrap() == bytes);
}

#[test]
fn copy_between_registries_pipes_blobs_through_memory_and_resumes_after_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let size = 24 * MIB;
    // The source's downloads are cut at the byte: the pipe asks it for the rest.
    let (bytes, source, source_wire) =
        pushed_behind(dir.path(), "transfer/pipe-a", size, download_cuts(7 * MIB));
    // The destination is the same registry behind the cutting front (another host to the
    // client, so nothing is mounted): every blob byte crosses it, and uploads are cut.
    let (front, wire) = wire::start(
        registry(),
        Faults {
            cut_upload_every: Some(10 * MIB),
            ..Default::default()
        },
    );
    // No usable temp dir: a copy that put a blob on disk would fail.
    let out = modelseal()
        .env("TMPDIR", dir.path().join("no-such-dir"))
        .arg("copy")
        .arg(format!("{source}/transfer/pipe-a:v1"))
        .arg(format!("{front}/transfer/pipe-b:v1"))
        .args(["--chunk-size", "4M"])
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(source_wire.cuts.load(Ordering::SeqCst) >= 2);
    assert!(source_wire.ranged_gets.load(Ordering::SeqCst) >= 1);
    let cuts = wire.cuts.load(Ordering::SeqCst);
    assert!(cuts >= 2, "the front cut {cuts} times");
    let sent = wire.upload_bytes.load(Ordering::SeqCst);
    // A cut at the source is healed by the pipe (a ranged GET for the rest) and costs the
    // upload nothing; a cut at the destination costs at most the chunk in flight.
    assert!(
        sent >= size && sent - size <= cuts * 4 * MIB + 2,
        "{sent} bytes sent for {size} over {cuts} cuts"
    );
    let pulled = dir.path().join("out");
    pull(&format!("{}/transfer/pipe-b:v1", registry()), &pulled);
    assert!(std::fs::read(pulled.join("model.bin")).unwrap() == bytes);
}

/// The digests of a referrer tree, depth first.
fn tree_digests(v: &serde_json::Value, out: &mut Vec<String>) {
    for m in v["manifests"].as_array().into_iter().flatten() {
        out.push(m["digest"].as_str().unwrap().to_string());
        tree_digests(m, out);
    }
}

fn discover(reference: &str) -> Vec<String> {
    let out = modelseal()
        .args(["discover", "--format", "json", "--depth", "4", reference])
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut digests = Vec::new();
    tree_digests(&json_of(&out.stdout), &mut digests);
    digests.sort();
    digests
}

#[test]
fn a_backup_to_tar_restored_to_another_repository_has_the_same_tree_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = model(dir.path(), "model.bin", 3 * MIB);
    std::fs::write(dir.path().join("a.scitt"), b"one").unwrap();
    std::fs::write(dir.path().join("b.scitt"), b"two").unwrap();
    let source = format!("{}/transfer/backup-src:v1", registry());
    let pushed = push(dir.path(), &source, "model.bin", &[]);
    for s in ["a.scitt", "b.scitt"] {
        modelseal()
            .current_dir(dir.path())
            .args(["attach", &source, s])
            .assert()
            .success();
    }
    let tar = dir.path().join("backup.tar");
    modelseal()
        .args(["backup", &source])
        .arg(&tar)
        .timeout(LIMIT)
        .assert()
        .success();
    // Without its referrers: the artifact alone.
    let bare = dir.path().join("bare");
    modelseal()
        .args(["backup", "--exclude-referrers", &source])
        .arg(&bare)
        .assert()
        .success();
    let restored = format!("{}/transfer/backup-dst:v1", registry());
    let out = modelseal()
        .args(["--format", "json", "restore"])
        .arg(&tar)
        .arg(&restored)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out.stdout)["digest"], pushed["digest"]);
    let tree = discover(&source);
    assert_eq!(tree.len(), 2);
    assert_eq!(discover(&restored), tree);
    let pulled = dir.path().join("out");
    pull(&restored, &pulled);
    assert!(std::fs::read(pulled.join("model.bin")).unwrap() == bytes);
    // The bare backup restores the artifact with no referrers.
    let alone = format!("{}/transfer/backup-bare:v1", registry());
    modelseal()
        .args(["restore"])
        .arg(&bare)
        .arg(&alone)
        .assert()
        .success();
    assert!(discover(&alone).is_empty());
}

// A backup pipes each blob from the registry into the layout (one pass, no scratch file): a
// source cut at the byte every few MiB is continued with `Range`, nothing is fetched twice but
// what was on the wire at each cut, and every blob in the layout has its digest.
#[test]
fn a_backup_cut_at_the_byte_continues_with_ranges_and_every_layout_blob_checks_out() {
    let dir = tempfile::tempdir().unwrap();
    let size = 24 * MIB;
    let (_, front, wire) = pushed_behind(
        dir.path(),
        "transfer/backup-cut",
        size,
        download_cuts(5 * MIB),
    );
    let out = dir.path().join("layout");
    modelseal()
        .args(["backup", &format!("{front}/transfer/backup-cut:v1")])
        .arg(&out)
        .timeout(LIMIT)
        .assert()
        .success();
    let cuts = wire.cuts.load(Ordering::SeqCst);
    assert!(cuts >= 4, "the front cut {cuts} times");
    let crossed = wire.download_bytes.load(Ordering::SeqCst);
    assert!(
        crossed < size + 64 * 1024 + cuts * MIB,
        "{crossed} bytes crossed the front for {size} over {cuts} cuts"
    );
    let blobs = out.join("blobs/sha256");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(!name.starts_with('.'), "a scratch file was left: {name}");
        let digest = crate::common::sha256_digest(&std::fs::read(&path).unwrap());
        assert_eq!(digest, format!("sha256:{name}"));
    }
}

/// For `scripts/bench/transfer.sh`: bytes on the wire for a push and a pull with a cut every
/// `BENCH_CUT_MIB` (default 32), as a ratio to the model's size. The model is the files in
/// `BENCH_MODEL_DIR`, or else one file of `BENCH_WIRE_MIB` (default 256); `BENCH_CHUNK` is
/// passed as `--chunk-size` when set; `BENCH_MODELSEAL` is the binary to run (else this
/// build's). Ignored in the test run.
#[test]
#[ignore]
fn bytes_on_the_wire_with_cuts() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let every = env("BENCH_CUT_MIB", 32) * MIB;
    let dir = tempfile::tempdir().unwrap();
    let model_dir = match std::env::var_os("BENCH_MODEL_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            model(dir.path(), "model.bin", env("BENCH_WIRE_MIB", 256) * MIB);
            dir.path().to_path_buf()
        }
    };
    let mut files: Vec<String> = std::fs::read_dir(&model_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let size: u64 = files
        .iter()
        .map(|f| std::fs::metadata(model_dir.join(f)).unwrap().len())
        .sum();
    let (front, wire) = wire::start(
        registry(),
        Faults {
            cut_upload_every: Some(every),
            cut_download_every: Some(every),
            ..Default::default()
        },
    );
    // A repository of its own per run: a second run (another binary) finds no blob there.
    let reference = format!("{front}/bench/wire-{}:v1", std::process::id());
    let chunk = std::env::var("BENCH_CHUNK").ok().filter(|c| !c.is_empty());
    let bin = std::env::var_os("BENCH_MODELSEAL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("modelseal"));
    let out = std::process::Command::new(&bin)
        .current_dir(&model_dir)
        .args(["--output", "json", "push", &reference])
        .args(
            files
                .iter()
                .map(|f| format!("{f}:application/octet-stream")),
        )
        .args(["--artifact-type", "example/model"])
        .args(chunk.iter().flat_map(|c| ["--chunk-size", c.as_str()]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "push failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resent = json_of(&out.stdout)["transfer"]["resent"].as_u64().unwrap();
    let (up, up_cuts) = (
        wire.upload_bytes.load(Ordering::SeqCst),
        wire.cuts.load(Ordering::SeqCst),
    );
    let pulled = std::process::Command::new(&bin)
        .args(["pull", &reference, "-o"])
        .arg(dir.path().join("out"))
        .status()
        .unwrap();
    assert!(pulled.success());
    let down = wire.download_bytes.load(Ordering::SeqCst);
    let down_cuts = wire.cuts.load(Ordering::SeqCst) - up_cuts;
    println!(
        "wire: {} MiB, a cut every {} MiB, chunk {}: push {:.4}x the model's bytes ({up_cuts} cuts, {:.1} MiB resent), pull {:.4}x ({down_cuts} cuts)",
        size / MIB,
        every / MIB,
        chunk.as_deref().unwrap_or("default"),
        up as f64 / size as f64,
        resent as f64 / MIB as f64,
        down as f64 / size as f64
    );
}

#[test]
fn a_signed_model_backed_up_and_restored_elsewhere_passes_discover_verify_with_the_same_digests() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let source = format!("{}/transfer/signed-src:v1", registry());
    modelseal()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", dir.path())
        .args(["publish", "examples/tiny-model", &source, "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "test", "--files"])
        .assert()
        .success();
    let tar = dir.path().join("signed.tar");
    modelseal()
        .args(["backup", &source])
        .arg(&tar)
        .assert()
        .success();
    let restored = format!("{}/transfer/signed-dst:v1", registry());
    modelseal()
        .args(["restore"])
        .arg(&tar)
        .arg(&restored)
        .assert()
        .success();
    let verify = |reference: &str| {
        let out = modelseal()
            .args([
                "--format", "json", "discover", "--verify", reference, "--policy",
            ])
            .arg(&policy)
            .timeout(LIMIT)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "discover --verify {reference}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    verify(&source);
    verify(&restored);
    assert_eq!(discover(&restored), discover(&source));
    assert!(!discover(&source).is_empty());
}

/// Four 1 MiB files pushed to `reference` with `--concurrency n`, and their bytes.
fn push_four(dir: &Path, reference: &str, n: &str) -> Vec<Vec<u8>> {
    let files: Vec<Vec<u8>> = (0..4)
        .map(|i| model(dir, &format!("part-{i}.bin"), MIB + i))
        .collect();
    modelseal()
        .current_dir(dir)
        .args(["push", reference])
        .args((0..4).map(|i| format!("part-{i}.bin:application/octet-stream")))
        .args(["--artifact-type", "example/model", "--concurrency", n])
        .timeout(LIMIT)
        .assert()
        .success();
    files
}

/// A front that holds each blob request a while, so blobs moved at once overlap there.
fn holding_front() -> (String, std::sync::Arc<wire::Wire>) {
    wire::start(
        registry(),
        Faults {
            hold_blob_requests: Some(std::time::Duration::from_millis(150)),
            ..Default::default()
        },
    )
}

#[test]
fn push_with_concurrency_n_has_at_most_n_blob_uploads_in_flight_and_one_serialises() {
    let dir = tempfile::tempdir().unwrap();
    let (front, wire) = holding_front();
    push_four(dir.path(), &format!("{front}/transfer/conc-push-1:v1"), "1");
    assert_eq!(wire.max_in_flight.load(Ordering::SeqCst), 1);
    wire.max_in_flight.store(0, Ordering::SeqCst);
    push_four(dir.path(), &format!("{front}/transfer/conc-push-2:v1"), "2");
    assert_eq!(wire.max_in_flight.load(Ordering::SeqCst), 2);
}

#[test]
fn pull_with_concurrency_n_has_at_most_n_blob_downloads_in_flight_and_one_serialises() {
    let dir = tempfile::tempdir().unwrap();
    let files = push_four(
        dir.path(),
        &format!("{}/transfer/conc-pull:v1", registry()),
        "4",
    );
    let (front, wire) = holding_front();
    for n in ["1", "2"] {
        wire.max_in_flight.store(0, Ordering::SeqCst);
        let out = dir.path().join(format!("out-{n}"));
        modelseal()
            .args(["pull", &format!("{front}/transfer/conc-pull:v1"), "-o"])
            .arg(&out)
            .args(["--concurrency", n])
            .timeout(LIMIT)
            .assert()
            .success();
        assert_eq!(
            wire.max_in_flight.load(Ordering::SeqCst),
            n.parse::<u64>().unwrap(),
            "--concurrency {n}"
        );
        for (i, bytes) in files.iter().enumerate() {
            assert!(std::fs::read(out.join(format!("part-{i}.bin"))).unwrap() == *bytes);
        }
    }
}

#[test]
fn copy_with_concurrency_n_has_at_most_n_blobs_in_flight_and_one_serialises() {
    let dir = tempfile::tempdir().unwrap();
    push_four(
        dir.path(),
        &format!("{}/transfer/conc-copy:v1", registry()),
        "4",
    );
    let (front, wire) = holding_front();
    // Both sides through the one front, named once by address and once as localhost: two
    // registries to modelseal (no mount), one count of blob requests in flight. A blob copied
    // between registries is piped: its download and its upload are in flight together, so N
    // blobs at once are 2N requests.
    let port = front.rsplit_once(':').unwrap().1;
    for n in ["1", "2"] {
        wire.max_in_flight.store(0, Ordering::SeqCst);
        modelseal()
            .args(["copy", &format!("{front}/transfer/conc-copy:v1")])
            .arg(format!("localhost:{port}/transfer/conc-copy-{n}:v1"))
            .args(["--concurrency", n])
            .timeout(LIMIT)
            .assert()
            .success();
        assert_eq!(
            wire.max_in_flight.load(Ordering::SeqCst),
            2 * n.parse::<u64>().unwrap(),
            "--concurrency {n}"
        );
    }
    assert_eq!(wire.mounts.load(Ordering::SeqCst), 0);
    assert!(wire.upload_bytes.load(Ordering::SeqCst) > 8 * MIB);
}

#[test]
fn a_401_on_the_upload_status_query_is_answered_with_a_new_token_and_the_upload_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let size = 10 * MIB;
    let bytes = model(dir.path(), "model.bin", size);
    let (front, wire) = wire::start(
        registry(),
        Faults {
            cut_upload_every: Some(5 * MIB),
            max_cuts: Some(1),
            expire_token_on_status_query: true,
            ..Default::default()
        },
    );
    let report = push(
        dir.path(),
        &format!("{front}/transfer/status-401:v1"),
        "model.bin",
        &["--chunk-size", "2M"],
    );
    assert_eq!(wire.cuts.load(Ordering::SeqCst), 1);
    assert_eq!(wire.expired_on_status_query.load(Ordering::SeqCst), 1);
    // The same session went on: only the chunk the cut took was sent again.
    assert_eq!(report["transfer"]["resent"], 2 * MIB, "{report}");
    assert_eq!(wire.upload_bytes.load(Ordering::SeqCst), size + 2 + 2 * MIB);
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/status-401:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

#[test]
fn a_401_on_the_closing_put_is_answered_with_a_new_token_and_the_push_completes() {
    let dir = tempfile::tempdir().unwrap();
    let size = 6 * MIB;
    let bytes = model(dir.path(), "model.bin", size);
    let (front, wire) = wire::start(
        registry(),
        Faults {
            expire_token_on_final_put: true,
            ..Default::default()
        },
    );
    let report = push(
        dir.path(),
        &format!("{front}/transfer/put-401:v1"),
        "model.bin",
        &["--chunk-size", "2M"],
    );
    assert_eq!(wire.expired_on_final_put.load(Ordering::SeqCst), 1);
    assert_eq!(report["transfer"]["resent"], 0, "{report}");
    let out = dir.path().join("out");
    pull(&format!("{}/transfer/put-401:v1", registry()), &out);
    assert!(std::fs::read(out.join("model.bin")).unwrap() == bytes);
}

// A layer may carry the digest its caller already took (publish's model manifest), so the file
// is read once. If the file changed since, the target must refuse the bytes, not store them
// under the old digest (nor, as when the file was hashed again, push a layer the signed
// manifest does not name): on a registry and in a layout, with no manifest written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_after_its_digest_was_taken_is_refused_by_registry_and_layout() {
    use modelseal::oci::{media, open, ops, registry::Connection, target::Quiet};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("weights.bin");
    std::fs::write(&file, vec![1u8; 3 << 20]).unwrap();
    let digest_then = crate::common::sha256_digest(&std::fs::read(&file).unwrap());
    std::fs::write(&file, vec![2u8; 3 << 20]).unwrap(); // same size, other bytes
    let layer = |digest: Option<String>| ops::LayerFile {
        path: file.clone(),
        title: "weights.bin".into(),
        media_type: media::MODEL_FILE_LAYER.into(),
        digest,
    };
    let spec = ops::ArtifactSpec {
        artifact_type: media::MODEL_MANIFEST_ARTIFACT.into(),
        created: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    let layout = dir.path().join("layout");
    let references = [
        (format!("{}/changed/file:v1", registry()), false),
        (format!("{}:v1", layout.display()), true),
    ];
    for (reference, oci_layout) in &references {
        let (target, _) = open::open(reference, *oci_layout, &Connection::default(), true)
            .await
            .unwrap();
        let err = ops::push_artifact(
            &target,
            &[layer(Some(digest_then.clone()))],
            &spec,
            Some("v1"),
            &Quiet,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(&digest_then) || err.to_lowercase().contains("digest"),
            "{reference}: {err}"
        );
        let tagged = modelseal()
            .args(["discover", reference])
            .args(oci_layout.then_some("--oci-layout"))
            .assert();
        tagged.failure();
        // Control: without a digest the file is hashed as it is now, and the push goes through.
        ops::push_artifact(&target, &[layer(None)], &spec, Some("v1"), &Quiet)
            .await
            .unwrap();
    }
}
