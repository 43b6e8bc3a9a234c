//! `modelseal hash` against the real outputs of model-signing 1.1.1 in ../shared/vectors.

use crate::common::*;
use serde_json::Value;

fn hash(args: &[&std::ffi::OsStr]) -> Value {
    let out = modelseal().arg("hash").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out.stdout)
}

fn statement(rel: &str) -> Value {
    json_of(&std::fs::read(vector(rel)).unwrap())
}

#[test]
fn files_manifest_equals_peer_statement() {
    let ours = hash(&[vector("model-signing/01-files-key/model").as_os_str()]);
    assert_same_statement(
        &ours,
        &statement("model-signing/01-files-key/statement.json"),
    );
}

#[test]
fn shards_manifest_equals_peer_statement() {
    let model = vector("model-signing/02-shards-key/model");
    let ours = hash(&[model.as_os_str(), "--shard-size".as_ref(), "300".as_ref()]);
    assert_same_statement(
        &ours,
        &statement("model-signing/02-shards-key/statement.json"),
    );
}

#[test]
fn ignore_paths_and_signature_inside_model_equal_peer_statement() {
    let model = vector("model-signing/03-ignore-paths-key/model");
    let mut args = vec![model.clone().into_os_string()];
    for p in ["notes", "scratch.tmp", "model.sig"] {
        args.push("--ignore-paths".into());
        args.push(model.join(p).into_os_string());
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let ours = hash(&args);
    assert_same_statement(
        &ours,
        &statement("model-signing/03-ignore-paths-key/statement.json"),
    );
}

#[test]
fn ignore_paths_are_resolved_against_the_current_directory() {
    let vectors = vector("model-signing/03-ignore-paths-key");
    let out = modelseal()
        .current_dir(&vectors)
        .args([
            "hash",
            "model",
            "--ignore-paths",
            "model/notes",
            "--ignore-paths",
        ])
        .args(["model/scratch.tmp", "--ignore-paths", "model/model.sig"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_same_statement(
        &json_of(&out.stdout),
        &statement("model-signing/03-ignore-paths-key/statement.json"),
    );
}

/// The peer's own dump of four hashing configurations of the edge-case model.
fn expected_statements() -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(vector(
        "model-signing/04-edge-cases-key/expected-statements.txt",
    ))
    .unwrap();
    text.split("### ")
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let (label, json) = s.split_once('\n').unwrap();
            (label.trim().to_string(), json_of(json.as_bytes()))
        })
        .collect()
}

#[test]
fn edge_cases_equal_peer_for_every_hash_and_serialization() {
    let model = vector("model-signing/04-edge-cases-key/model");
    let cases = expected_statements();
    assert_eq!(cases.len(), 4);
    for (label, expected) in cases {
        let extra: &[&str] = match label.as_str() {
            "files-sha256" => &[],
            "files-blake2" => &["--hash", "blake2b"],
            "files-blake3" => &["--hash", "blake3"],
            "shards-sha256-size1" => &["--shard-size", "1"],
            other => panic!("unexpected case {other}"),
        };
        let mut args = vec![model.as_os_str()];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        assert_same_statement(&hash(&args), &expected);
    }
    assert_same_statement(
        &hash(&[model.as_os_str()]),
        &statement("model-signing/04-edge-cases-key/statement.json"),
    );
}

#[test]
fn check_accepts_peer_bundles_and_statements() {
    for (dir, extra) in [
        ("01-files-key", "model.sig"),
        ("02-shards-key", "model.sig"),
        ("03-ignore-paths-key", "model/model.sig"),
        ("04-edge-cases-key", "model.sig"),
        ("01-files-key", "statement.json"),
    ] {
        let base = vector(&format!("model-signing/{dir}"));
        modelseal()
            .args(["hash", "--check"])
            .arg(base.join(extra))
            .arg(base.join("model"))
            .assert()
            .success()
            .stdout(predicates::str::contains("✔"));
    }
}

#[test]
fn reads_the_legacy_digests_manifest_the_seed_signed() {
    let manifest =
        modelseal::core::manifest::read_manifest(&vector("scitt-for-phi/model-manifest.json"))
            .unwrap();
    assert_eq!(
        manifest.format,
        modelseal::core::manifest::ManifestFormat::LegacyDigests
    );
    assert!(manifest.resources.iter().any(|r| r.name == "config.json"));
}
