//! Interop with the real peer, sigstore's `model-signing` 1.1.1 from PyPI. Run by
//! `scripts/interop.sh`, which makes the venv and sets `MODELSEAL_PEER_VENV`; plain `cargo test`
//! skips these (they are `#[ignore]`d) because they need the peer installed.

use crate::common::*;
use serde_json::{Value, json};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const NEEDS_PEER: &str = "needs model-signing: run scripts/interop.sh";

fn venv() -> PathBuf {
    PathBuf::from(std::env::var("MODELSEAL_PEER_VENV").expect(NEEDS_PEER))
}

/// The peer's statements for many (model, config) jobs, in one Python process.
fn peer_statements(jobs: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/peer_manifest.py");
    let mut child = Command::new(venv().join("bin/python"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("peer python runs");
    serde_json::to_writer(child.stdin.take().unwrap(), jobs).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "peer script failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Our CLI arguments for the same job.
fn our_args(job: &Value) -> Vec<String> {
    let model = job["model"].as_str().unwrap();
    let mut args = vec!["hash".to_string(), model.to_string()];
    let alg = job.get("hash").and_then(Value::as_str).unwrap_or("sha256");
    args.extend([
        "--hash".into(),
        if alg == "blake2" {
            "blake2b".into()
        } else {
            alg.to_string()
        },
    ]);
    if job.get("method").and_then(Value::as_str) == Some("shards") {
        args.extend(["--shard-size".into(), job["shard_size"].to_string()]);
    }
    for p in job
        .get("ignore_paths")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        args.extend([
            "--ignore-paths".into(),
            format!("{model}/{}", p.as_str().unwrap()),
        ]);
    }
    if job.get("ignore_git_paths") == Some(&json!(false)) {
        args.push("--no-ignore-git-paths".into());
    }
    if job.get("allow_symlinks") == Some(&json!(true)) {
        args.push("--allow-symlinks".into());
    }
    args
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

/// Deterministic, incompressible-looking bytes.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761).rotate_left(seed as u32) as u8 ^ seed)
        .collect()
}

/// The generated models: each stresses one thing the two implementations could disagree on.
fn models(root: &Path) -> Vec<PathBuf> {
    let nested = root.join("nested");
    for (i, rel) in [
        "a/b/c/deep.bin",
        "a/b.txt",
        "a-b/x",
        "a.txt",
        "a/b/z",
        "z/a/b/c/d/e/f.json",
    ]
    .iter()
    .enumerate()
    {
        write(&nested, rel, &pattern(100 + i * 37, i as u8));
    }
    fs::create_dir_all(nested.join("empty-dir/inner")).unwrap();

    let empties = root.join("empties");
    write(&empties, "empty.bin", b"");
    write(&empties, "sub/empty.txt", b"");
    write(&empties, "one.bin", b"1");

    // Shard size 1000 in the jobs: one file below, one exactly two shards, one 2.5 shards, one large.
    let large = root.join("large");
    write(&large, "small.bin", &pattern(999, 1));
    write(&large, "exact.bin", &pattern(2000, 2));
    write(&large, "partial.bin", &pattern(2500, 3));
    write(
        &large,
        "weights/model-00001.safetensors",
        &pattern((3 << 20) + 17, 4),
    );

    let unicode = root.join("unicode");
    for (i, rel) in [
        "é.txt",
        "e\u{301}.txt",
        "日本語/モデル.bin",
        "🤖.json",
        "sp ace.txt",
        "Ω/α",
        "a:b.txt",
        "Zebra",
        "zebra",
    ]
    .iter()
    .enumerate()
    {
        write(&unicode, rel, &pattern(10 + i, i as u8));
    }

    let hidden = root.join("hidden");
    write(&hidden, ".hidden", b"h");
    write(&hidden, ".git/HEAD", b"ref: refs/heads/main\n");
    write(&hidden, ".github/workflows/ci.yml", b"on: push\n");
    write(&hidden, ".gitignore", b"*.tmp\n");
    write(&hidden, ".gitattributes", b"*.bin filter=lfs\n");
    write(&hidden, "sub/.gitignore", b"nested is signed\n");
    write(&hidden, "notes/todo.md", b"ignore me\n");
    write(&hidden, "scratch.tmp", b"ignore me too\n");
    write(&hidden, "model.bin", &pattern(1234, 9));

    let links = root.join("links");
    write(&links, "real/weights.bin", &pattern(3000, 5));
    symlink("real/weights.bin", links.join("weights.bin")).unwrap();

    vec![nested, empties, large, unicode, hidden, links]
}

fn jobs_for(model: &Path) -> Vec<Value> {
    let m = model.to_str().unwrap();
    let mut jobs = vec![];
    for hash in ["sha256", "blake2", "blake3"] {
        jobs.push(json!({"model": m, "hash": hash, "method": "files"}));
        jobs.push(json!({"model": m, "hash": hash, "method": "shards", "shard_size": 1000}));
    }
    // One-byte shards: every byte its own resource (only on the small models: a 3 MiB file would
    // make three million).
    if !model.ends_with("large") {
        jobs.push(json!({"model": m, "method": "shards", "shard_size": 1}));
    }
    jobs.push(json!({"model": m, "ignore_git_paths": false}));
    jobs.push(json!({"model": m, "ignore_paths": ["notes", "scratch.tmp", "a/b"]}));
    if model.ends_with("links") {
        for j in &mut jobs {
            j["allow_symlinks"] = json!(true);
        }
    }
    jobs
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn manifests_equal_the_peers_on_generated_models() {
    let dir = tempfile::tempdir().unwrap();
    let mut jobs: Vec<Value> = models(dir.path())
        .iter()
        .flat_map(|m| jobs_for(m))
        .collect();
    // A single-file model.
    let single = dir.path().join("large/weights/model-00001.safetensors");
    jobs.push(json!({"model": single, "method": "files"}));
    jobs.push(json!({"model": single, "method": "shards", "shard_size": 1 << 20}));

    let peer = peer_statements(&jobs);
    assert_eq!(peer.len(), jobs.len());
    for (job, expected) in jobs.iter().zip(&peer) {
        assert!(
            expected.get("error").is_none(),
            "peer failed on {job}: {expected}"
        );
        let out = modelseal().args(our_args(job)).output().unwrap();
        assert!(
            out.status.success(),
            "{job}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("same statement: {job}");
        assert_same_statement(&json_of(&out.stdout), expected);
    }
    eprintln!("{} configurations compared", jobs.len());
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn both_refuse_a_symlink_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let links = &models(dir.path())[5];
    let job = json!({"model": links, "method": "files"});
    let peer = peer_statements(std::slice::from_ref(&job));
    assert!(
        peer[0]["error"].as_str().unwrap().contains("symlink"),
        "{}",
        peer[0]
    );
    modelseal().args(our_args(&job)).assert().code(2);
}

fn peer_cli() -> Command {
    Command::new(venv().join("bin/model_signing"))
}

#[test]
#[ignore = "needs model-signing: run scripts/interop.sh"]
fn peer_cli_signatures_check_against_our_hashing_and_both_catch_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny-model");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tiny-model"),
        &model,
    );
    let key = dir.path().join("key.pem");
    let pubkey = dir.path().join("key.pub");
    let sig = dir.path().join("model.sig");
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
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        key.to_str().unwrap(),
    ]);
    openssl(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-pubout",
        "-out",
        pubkey.to_str().unwrap(),
    ]);
    let status = peer_cli()
        .args(["sign", "key"])
        .arg(&model)
        .arg("--private_key")
        .arg(&key)
        .arg("--signature")
        .arg(&sig)
        .status()
        .unwrap();
    assert!(status.success());

    // The statement the peer signed is exactly ours.
    let bundle = json_of(&fs::read(&sig).unwrap());
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let ours = modelseal().arg("hash").arg(&model).output().unwrap();
    assert_same_statement(&json_of(&ours.stdout), &json_of(&payload));
    modelseal()
        .args(["hash", "--check"])
        .arg(&sig)
        .arg(&model)
        .assert()
        .success();

    // The peer's own verify: it accepts the model as signed (so a broken call cannot pass for a
    // rejection below), and rejects it once a file changes.
    let peer_verify = || {
        peer_cli()
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public_key")
            .arg(&pubkey)
            .arg("--signature")
            .arg(&sig)
            .output()
            .unwrap()
    };
    let before = peer_verify();
    assert!(
        before.status.success(),
        "the peer must accept its own signature: {}",
        String::from_utf8_lossy(&before.stderr)
    );
    fs::write(model.join("config.json"), b"{\"evil\": 1}").unwrap();
    modelseal()
        .args(["hash", "--check"])
        .arg(&sig)
        .arg(&model)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("modified: config.json"));
    let after = peer_verify();
    assert!(
        !after.status.success(),
        "the peer must reject the tampered model too"
    );
}
