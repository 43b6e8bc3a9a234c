//! `modelseal hash` as a user meets it: reports, exit codes, errors that name the file, and no
//! partial output.

use crate::common::*;
use predicates::str::contains;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

fn tiny_model_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny-model");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tiny-model"),
        &model,
    );
    (dir, model)
}

fn manifest_of(model: &Path, dest: &Path, extra: &[&str]) {
    modelseal()
        .arg("hash")
        .arg(model)
        .arg("-o")
        .arg(dest)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn check_names_every_modified_missing_and_extra_file() {
    let (dir, model) = tiny_model_copy();
    let manifest = dir.path().join("manifest.json");
    manifest_of(&model, &manifest, &[]);
    modelseal()
        .args(["hash", "--check"])
        .arg(&manifest)
        .arg(&model)
        .assert()
        .success();

    fs::write(model.join("config.json"), b"{\"tampered\": true}").unwrap();
    fs::remove_file(model.join("tokenizer.json")).unwrap();
    fs::write(model.join("backdoor.py"), b"import os").unwrap();
    modelseal()
        .args(["hash", "--check"])
        .arg(&manifest)
        .arg(&model)
        .assert()
        .code(1)
        .stdout(contains("modified: config.json"))
        .stdout(contains("missing: tokenizer.json"))
        .stdout(contains("extra: backdoor.py"))
        .stdout(contains("1 modified, 1 missing, 1 extra"));
}

#[test]
fn check_reports_json_for_scripts() {
    let (dir, model) = tiny_model_copy();
    let manifest = dir.path().join("manifest.json");
    manifest_of(&model, &manifest, &["--shard-size", "1000"]);
    // Growing a file adds a shard: the file is reported once, as modified.
    let mut weights = fs::read(model.join("model.safetensors")).unwrap();
    weights.extend_from_slice(&[0; 10]);
    fs::write(model.join("model.safetensors"), weights).unwrap();
    let out = modelseal()
        .args(["--format", "json", "hash", "--check"])
        .arg(&manifest)
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out.stdout);
    assert_eq!(report["ok"], false);
    assert_eq!(report["modified"], serde_json::json!(["model.safetensors"]));
    assert_eq!(report["missing"], serde_json::json!([]));
    assert_eq!(report["matched"], 3);
}

#[test]
fn check_detects_a_manifest_edited_to_match_a_tampered_model() {
    let (dir, model) = tiny_model_copy();
    let manifest = dir.path().join("manifest.json");
    manifest_of(&model, &manifest, &[]);
    fs::write(model.join("config.json"), b"{}").unwrap();
    // The attacker rewrites the resource digest but cannot fix the subject without re-signing.
    let text = fs::read_to_string(&manifest).unwrap();
    let mut doc = json_of(text.as_bytes());
    for r in doc["predicate"]["resources"].as_array_mut().unwrap() {
        if r["name"] == "config.json" {
            r["digest"] = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".into();
        }
    }
    fs::write(&manifest, serde_json::to_vec(&doc).unwrap()).unwrap();
    modelseal()
        .args(["hash", "--check"])
        .arg(&manifest)
        .arg(&model)
        .assert()
        .code(1)
        .stdout(contains("subject digest does not match"));
}

#[test]
fn output_file_inside_the_model_is_left_out_like_a_signature() {
    let (_dir, model) = tiny_model_copy();
    let inside = model.join("manifest.json");
    manifest_of(&model, &inside, &[]);
    let doc = json_of(&fs::read(&inside).unwrap());
    let names: Vec<&str> = doc["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"manifest.json"), "{names:?}");
    let ignored = doc["predicate"]["serialization"]["ignore_paths"]
        .as_array()
        .unwrap();
    assert!(ignored.contains(&"manifest.json".into()));
    // And a check against it passes, even though the file is now in the model.
    modelseal()
        .args(["hash", "--check"])
        .arg(&inside)
        .arg(&model)
        .assert()
        .success();
}

#[test]
fn single_file_model_is_resource_dot_named_after_the_file() {
    let (_dir, model) = tiny_model_copy();
    let out = modelseal()
        .arg("hash")
        .arg(model.join("model.safetensors"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc = json_of(&out.stdout);
    assert_eq!(doc["subject"][0]["name"], "model.safetensors");
    assert_eq!(doc["predicate"]["resources"][0]["name"], ".");
}

#[test]
fn missing_model_is_an_error_naming_it() {
    modelseal()
        .args(["hash", "/no/such/model"])
        .assert()
        .code(2)
        .stderr(contains("/no/such/model"))
        .stderr(contains("no such file"));
}

#[test]
fn symlink_is_refused_by_name_and_no_output_is_written() {
    let (dir, model) = tiny_model_copy();
    symlink("config.json", model.join("alias.json")).unwrap();
    let dest = dir.path().join("out.json");
    fs::write(&dest, b"previous").unwrap();
    modelseal()
        .arg("hash")
        .arg(&model)
        .arg("-o")
        .arg(&dest)
        .assert()
        .code(2)
        .stderr(contains("alias.json"))
        .stderr(contains("--allow-symlinks"));
    assert_eq!(
        fs::read(&dest).unwrap(),
        b"previous",
        "output must be untouched"
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temp files left: {leftovers:?}");
    modelseal()
        .arg("hash")
        .arg(&model)
        .arg("--allow-symlinks")
        .assert()
        .success();
}

#[test]
fn symlink_escaping_the_model_is_refused_even_with_allow_symlinks() {
    let (dir, model) = tiny_model_copy();
    fs::write(dir.path().join("outside.txt"), b"secret").unwrap();
    symlink("../outside.txt", model.join("weights.bin")).unwrap();
    modelseal()
        .arg("hash")
        .arg(&model)
        .arg("--allow-symlinks")
        .assert()
        .code(2)
        .stderr(contains("weights.bin"))
        .stderr(contains("outside the model"));
    modelseal()
        .arg("hash")
        .arg(&model)
        .arg("--allow-external-symlinks")
        .assert()
        .success();
}

#[test]
fn special_file_is_refused_by_name() {
    let (_dir, model) = tiny_model_copy();
    let fifo = model.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    modelseal()
        .arg("hash")
        .arg(&model)
        .assert()
        .code(2)
        .stderr(contains("pipe"))
        .stderr(contains("not a regular file"));
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let (_dir, model) = tiny_model_copy();
    // A dangling link cannot be opened by anyone, root included (chmod 000 does not stop root).
    symlink("gone.bin", model.join("weights.bin")).unwrap();
    modelseal()
        .arg("hash")
        .arg(&model)
        .arg("--allow-symlinks")
        .assert()
        .code(2)
        .stderr(contains("weights.bin"));
}

#[test]
fn invalid_manifest_is_an_error_naming_it() {
    let (dir, model) = tiny_model_copy();
    let bogus = dir.path().join("bogus.json");
    fs::write(&bogus, b"{\"predicateType\": 3").unwrap();
    modelseal()
        .args(["hash", "--check"])
        .arg(&bogus)
        .arg(&model)
        .assert()
        .code(2)
        .stderr(contains("bogus.json"))
        .stderr(contains("not a model manifest"));
}

#[test]
fn help_shows_examples() {
    modelseal()
        .args(["hash", "--help"])
        .assert()
        .success()
        .stdout(contains("Examples:"));
}

#[test]
fn check_follows_links_out_of_the_model_only_when_asked() {
    let (dir, model) = tiny_model_copy();
    let manifest = dir.path().join("manifest.json");
    symlink("model.safetensors", model.join("alias.safetensors")).unwrap();
    manifest_of(&model, &manifest, &["--allow-symlinks"]);
    modelseal()
        .args(["hash", "--check"])
        .arg(&manifest)
        .arg(&model)
        .assert()
        .success();
    // Same bytes, but now reached through a link that leaves the model.
    fs::copy(
        model.join("model.safetensors"),
        dir.path().join("elsewhere.bin"),
    )
    .unwrap();
    fs::remove_file(model.join("alias.safetensors")).unwrap();
    symlink("../elsewhere.bin", model.join("alias.safetensors")).unwrap();
    modelseal()
        .args(["hash", "--check"])
        .arg(&manifest)
        .arg(&model)
        .assert()
        .code(2)
        .stderr(contains("outside the model"));
    modelseal()
        .args(["hash", "--allow-external-symlinks", "--check"])
        .arg(&manifest)
        .arg(&model)
        .assert()
        .success();
}

#[test]
fn a_file_name_that_is_not_utf8_is_an_error_naming_it_and_nothing_is_written() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, model) = tiny_model_copy();
    fs::write(model.join(std::ffi::OsStr::from_bytes(b"w\xff.bin")), b"x").unwrap();
    let dest = dir.path().join("out.json");
    modelseal()
        .arg("hash")
        .arg(&model)
        .arg("-o")
        .arg(&dest)
        .assert()
        .code(2)
        .stderr(contains("w\u{fffd}.bin"))
        .stderr(contains("not valid UTF-8"));
    assert!(!dest.exists(), "no output for a model that cannot be named");
}

#[test]
fn an_ignored_directory_is_not_entered() {
    // Inside it, things hashing would refuse (a symlink out of the model, a FIFO): ignored, the
    // directory is never read, so the hash succeeds and lists nothing from it.
    let (dir, model) = tiny_model_copy();
    let cache = model.join("cache");
    fs::create_dir_all(cache.join("deep")).unwrap();
    symlink("/etc/passwd", cache.join("deep/escape")).unwrap();
    let fifo = cache.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    modelseal()
        .arg("hash")
        .arg(&model)
        .assert()
        .code(2)
        .stderr(contains("cache"));
    let out = modelseal()
        .current_dir(dir.path())
        .args(["hash", "tiny-model", "--ignore-paths", "tiny-model/cache"])
        .assert()
        .success();
    let statement = json_of(&out.get_output().stdout);
    let names: Vec<&str> = statement["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("cache")), "{names:?}");
    assert!(names.contains(&"config.json"), "{names:?}");
}
