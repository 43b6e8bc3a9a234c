//! Issue 10, cases 5, 6 and 9 — "nothing unverified reaches disk, really" — end to end through
//! the CLI (and `modelseal::flows::verify_model`): symlinks planted in the output directory,
//! duplicate titles at publish and pull, an all-or-nothing move, non-empty output directories,
//! artifacts without model files, and the digest fast path that fails before downloading.
//! OCI layouts for speed; the symlink attack also against the real registry.

use crate::common::publish::{
    ISSUER, attach, dev_trust, hash_and_sign, push_layers, retitle_layer, snapshot,
};
use crate::common::registry;
use crate::common::{copy_dir, modelseal};
use predicates::str::contains;
use std::path::{Path, PathBuf};

const MODEL_FILES: [&str; 4] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "README.md",
];

/// A copy of examples/tiny-model in `dir/model`.
fn tiny(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    copy_dir(Path::new("examples/tiny-model"), &model);
    model
}

fn layout_args(reference: &str) -> [&str; 2] {
    ["--oci-layout", reference]
}

/// A signed artifact in `dir/layout:v1` with the manifest and the tiny model's files as layers
/// (the way `publish --files` lays it out, titled `manifest.json`): (reference, policy, model).
fn signed_tiny(dir: &Path) -> (String, PathBuf, PathBuf) {
    let (key, policy) = dev_trust(dir);
    let model = tiny(dir);
    let (_, statement) = hash_and_sign(&model, &key);
    let reference = format!("{}:v1", dir.join("layout").display());
    let mut layers = vec!["manifest.json:application/vnd.in-toto+json".to_string()];
    layers.extend(
        MODEL_FILES
            .iter()
            .map(|f| format!("{f}:application/octet-stream")),
    );
    let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
    push_layers(&model, &layout_args(&reference), &layers);
    attach(&layout_args(&reference), &statement);
    (reference, policy, model)
}

fn pull_verify(reference: &str, policy: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = modelseal();
    c.args(["pull", "--oci-layout", reference, "--verify", "--policy"])
        .arg(policy)
        .arg("-o")
        .arg(out);
    c
}

// ---- case 5: a symlink already in the output directory ----

/// The artifact of the attack: the signed manifest, plus a layer titled `cache/pwned.json` whose
/// bytes are the manifest's (so no file check looks at it). Pushed to `target` from `dir/model`.
fn symlink_attack(dir: &Path, target: &[&str]) -> PathBuf {
    let (key, policy) = dev_trust(dir);
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("weights.bin"), b"weights").unwrap();
    let (manifest, statement) = hash_and_sign(&model, &key);
    std::fs::create_dir(model.join("cache")).unwrap();
    std::fs::copy(&manifest, model.join("cache/pwned.json")).unwrap();
    push_layers(
        &model,
        target,
        &[
            "manifest.json:application/vnd.in-toto+json",
            "cache/pwned.json:application/octet-stream",
        ],
    );
    attach(target, &statement);
    policy
}

/// OUTPUT with `cache -> ../outside`: (output, outside).
fn planted_output(dir: &Path) -> (PathBuf, PathBuf) {
    let (out, outside) = (dir.join("out"), dir.join("outside"));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink("../outside", out.join("cache")).unwrap();
    (out, outside)
}

fn assert_symlink_attack_refused(target: &[&str], policy: &Path, out: &Path, outside: &Path) {
    let before = snapshot(out);
    let pull = |force: bool| {
        let mut c = modelseal();
        c.arg("pull")
            .args(target)
            .args(["--verify", "--policy"])
            .arg(policy)
            .arg("-o")
            .arg(out);
        if force {
            c.arg("--force");
        }
        c.assert()
    };
    // The directory is not empty (it holds the link): refused as such.
    pull(false).code(2).stderr(contains("not empty"));
    assert!(snapshot(outside).is_empty(), "a file landed outside OUTPUT");
    assert_eq!(snapshot(out), before);
    // Forced: the destination is checked against OUTPUT, and refused.
    pull(true)
        .code(2)
        .stderr(contains("cache"))
        .stderr(contains("leaves the output directory"));
    assert!(snapshot(outside).is_empty(), "a file landed outside OUTPUT");
    assert_eq!(snapshot(out), before, "OUTPUT changed");
}

#[test]
fn pull_verify_does_not_write_through_a_symlink_planted_in_the_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    let policy = symlink_attack(dir.path(), &layout_args(&reference));
    let (out, outside) = planted_output(dir.path());
    assert_symlink_attack_refused(&layout_args(&reference), &policy, &out, &outside);
}

#[test]
fn pull_verify_does_not_write_through_a_symlink_on_the_real_registry() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("{registry}/pull-safety/symlink:v1");
    let policy = symlink_attack(dir.path(), &[&reference]);
    let (out, outside) = planted_output(dir.path());
    assert_symlink_attack_refused(&[&reference], &policy, &out, &outside);
    // Into an empty directory the same artifact is fine: the copy of the manifest lands inside.
    let clean = dir.path().join("clean");
    modelseal()
        .args(["pull", &reference, "--verify", "--policy"])
        .arg(&policy)
        .arg("-o")
        .arg(&clean)
        .assert()
        .success()
        .stderr(contains("only the signed manifest"));
    assert!(clean.join("cache/pwned.json").is_file());
}

// ---- case 9: duplicate titles, all-or-nothing, non-empty output, no model files ----

#[test]
fn publish_refuses_a_model_that_holds_its_own_model_manifest_json() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = dev_trust(dir.path());
    let model = tiny(dir.path());
    std::fs::write(
        model.join("model-manifest.json"),
        b"{\"an\": \"old manifest\"}",
    )
    .unwrap();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    modelseal()
        .arg("publish")
        .arg(&model)
        .args(["--oci-layout", &reference, "--files", "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "tiny"])
        .assert()
        .code(2)
        .stderr(contains("its own model-manifest.json"));
    assert!(
        !dir.path().join("layout/index.json").exists(),
        "something was published"
    );
}

#[test]
fn pull_refuses_two_layers_with_one_title_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("a.json"), b"{\"a\": 1}").unwrap();
    std::fs::write(work.join("b.json"), b"{\"b\": 2}").unwrap();
    let reference = format!("{}:v1", work.join("layout").display());
    push_layers(
        work,
        &layout_args(&reference),
        &["a.json:application/json", "b.json:application/json"],
    );
    // `./a.json` is `a.json` once normalised.
    retitle_layer(&work.join("layout"), "v1", "b.json", "./a.json");
    let out = work.join("out");
    modelseal()
        .args(["pull", "--oci-layout", &reference, "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("given to two layers"));
    assert!(!out.exists(), "the output directory was made");
}

#[test]
fn pull_verify_refuses_the_duplicate_manifest_title_before_writing_anything() {
    // The issue's case: a model holding its own model-manifest.json, published by hand so that
    // the signed manifest and the model's file are both titled model-manifest.json.
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let model = tiny(dir.path());
    std::fs::write(
        model.join("model-manifest.json"),
        b"{\"an\": \"old manifest\"}",
    )
    .unwrap();
    let (_, statement) = hash_and_sign(&model, &key);
    let layout = dir.path().join("layout");
    let reference = format!("{}:v1", layout.display());
    let mut layers = vec!["manifest.json:application/vnd.in-toto+json".to_string()];
    layers.extend(
        MODEL_FILES
            .iter()
            .chain(&["model-manifest.json"])
            .map(|f| format!("{f}:application/octet-stream")),
    );
    let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
    push_layers(&model, &layout_args(&reference), &layers);
    retitle_layer(&layout, "v1", "manifest.json", "model-manifest.json");
    attach(&layout_args(&reference), &statement);
    let out = dir.path().join("out");
    pull_verify(&reference, &policy, &out)
        .assert()
        .code(2)
        .stderr(contains(
            "layer title 'model-manifest.json' is given to two layers",
        ));
    assert!(!out.exists(), "something reached the output directory");
}

#[test]
fn plain_pull_refuses_to_overwrite_a_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, _, model) = signed_tiny(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("config.json"), b"mine").unwrap();
    std::fs::write(out.join("notes.txt"), b"unrelated").unwrap();
    let before = snapshot(&out);
    modelseal()
        .args(["pull", "--oci-layout", &reference, "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("config.json: already exists; use --force"));
    assert_eq!(snapshot(&out), before, "the output directory changed");
    modelseal()
        .args(["pull", "--oci-layout", &reference, "--force", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("config.json")).unwrap(),
        std::fs::read(model.join("config.json")).unwrap()
    );
    assert!(
        out.join("notes.txt").exists(),
        "plain pull keeps other files"
    );
}

#[test]
fn pull_verify_refuses_a_non_empty_directory_unless_forced_and_then_verifies_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, policy, model) = signed_tiny(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("config.json"), b"{\"old\": true}").unwrap();
    std::fs::write(out.join("notes.txt"), b"unrelated").unwrap();
    std::fs::create_dir(out.join("sub")).unwrap();
    std::fs::write(out.join("sub/keep.bin"), b"unrelated too").unwrap();
    let before = snapshot(&out);

    pull_verify(&reference, &policy, &out)
        .assert()
        .code(2)
        .stderr(contains("not empty"))
        .stderr(contains("--force"));
    assert_eq!(snapshot(&out), before);

    // Forced: every file moves in (config.json overwritten), then the directory as it ends up has
    // unrelated files, so the move is undone: OUTPUT is exactly as before.
    pull_verify(&reference, &policy, &out)
        .arg("--force")
        .assert()
        .code(1)
        .stdout(contains("notes.txt"))
        .stdout(contains("sub/keep.bin"))
        .stdout(contains("left as it was"));
    assert_eq!(snapshot(&out), before, "OUTPUT was not restored");

    // Forced into a directory that holds only an old copy of a model file: it ends up verified,
    // and verify-model agrees.
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    std::fs::remove_dir_all(out.join("sub")).unwrap();
    pull_verify(&reference, &policy, &out)
        .arg("--force")
        .assert()
        .success();
    for f in MODEL_FILES {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(model.join(f)).unwrap(),
            "{f}"
        );
    }
    modelseal()
        .arg("verify-model")
        .arg(&out)
        .args(["--oci-layout", "--manifest", &reference, "--policy"])
        .arg(&policy)
        .assert()
        .success();
}

#[test]
fn pull_verify_of_an_artifact_without_model_files_warns_or_with_require_files_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let model = tiny(dir.path());
    let reference = format!("{}:v1", dir.path().join("layout").display());
    modelseal()
        .arg("publish")
        .arg(&model)
        .args(["--oci-layout", &reference, "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "tiny"])
        .assert()
        .success();
    let out = dir.path().join("out");
    pull_verify(&reference, &policy, &out)
        .assert()
        .success()
        .stderr(contains(
            "warning: the artifact carries only the signed manifest, no model files",
        ));
    assert!(out.join("model-manifest.json").is_file());
    let strict = dir.path().join("strict");
    pull_verify(&reference, &policy, &strict)
        .arg("--require-files")
        .assert()
        .code(1)
        .stdout(contains("only the signed manifest, no model files"));
    assert!(!strict.exists());
}

// ---- case 6: no whole-file reads, no second pass ----

#[test]
fn pull_verify_compares_layer_digests_with_the_signed_manifest_before_downloading() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let model = tiny(dir.path());
    let (_, statement) = hash_and_sign(&model, &key);
    std::fs::write(model.join("config.json"), b"{\"tampered\": true}").unwrap();
    let layout = dir.path().join("layout");
    let reference = format!("{}:v1", layout.display());
    let mut layers = vec!["manifest.json:application/vnd.in-toto+json".to_string()];
    layers.extend(
        MODEL_FILES
            .iter()
            .map(|f| format!("{f}:application/octet-stream")),
    );
    let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
    push_layers(&model, &layout_args(&reference), &layers);
    attach(&layout_args(&reference), &statement);
    // The tampered blob is not even there: a pull that downloads before comparing fails on it
    // (exit 2, not found); comparing digests first refuses the artifact without fetching.
    let tampered = modelseal::core::manifest::sha256(b"{\"tampered\": true}");
    std::fs::remove_file(layout.join("blobs/sha256").join(hex::encode(tampered))).unwrap();
    let out = dir.path().join("out");
    pull_verify(&reference, &policy, &out)
        .assert()
        .code(1)
        .stdout(contains("modified: [\"config.json\"]"))
        .stdout(contains("nothing was written"));
    assert!(!out.exists());
}

#[test]
fn a_sharded_manifest_is_checked_by_hashing_the_staged_files() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let model = tiny(dir.path());
    modelseal()
        .current_dir(&model)
        .args(["hash", ".", "--shard-size", "1000", "-o", "manifest.json"])
        .assert()
        .success();
    let statement = dir.path().join("model.cose");
    modelseal()
        .current_dir(&model)
        .args(["sign", "manifest.json", "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "tiny", "-o"])
        .arg(&statement)
        .assert()
        .success();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    let mut layers = vec!["manifest.json:application/vnd.in-toto+json".to_string()];
    layers.extend(
        MODEL_FILES
            .iter()
            .map(|f| format!("{f}:application/octet-stream")),
    );
    let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
    push_layers(&model, &layout_args(&reference), &layers);
    attach(&layout_args(&reference), &statement);
    let out = dir.path().join("out");
    pull_verify(&reference, &policy, &out).assert().success();
    for f in MODEL_FILES {
        assert!(out.join(f).is_file(), "{f}");
    }
}

#[test]
fn verify_model_streams_past_same_size_files_and_finds_manifest_copies_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let model = tiny(dir.path());
    // A model file exactly as long as the manifest (its length does not depend on the files'
    // contents), which is not a copy of it.
    std::fs::write(model.join("pad.bin"), b"x").unwrap();
    let (manifest, _) = hash_and_sign(&model, &key);
    let len = std::fs::metadata(&manifest).unwrap().len() as usize;
    std::fs::write(model.join("pad.bin"), vec![b'{'; len]).unwrap();
    let (manifest, statement) = hash_and_sign(&model, &key);
    let manifest_bytes = std::fs::read(&manifest).unwrap();
    assert_eq!(manifest_bytes.len(), len);
    let reference = format!("{}:v1", dir.path().join("layout").display());
    push_layers(
        &model,
        &layout_args(&reference),
        &["manifest.json:application/vnd.in-toto+json"],
    );
    attach(&layout_args(&reference), &statement);
    // A copy of the manifest deeper in the tree (where `pull --verify` puts a nested title).
    std::fs::create_dir(model.join("meta")).unwrap();
    std::fs::write(model.join("meta/model-manifest.json"), &manifest_bytes).unwrap();

    use modelseal::core::manifest::is_manifest_copy;
    use modelseal::flows::{ModelCheck, verify_model};
    assert!(!is_manifest_copy(&model.join("pad.bin"), &manifest_bytes).unwrap());
    let mut last_differs = manifest_bytes.clone();
    *last_differs.last_mut().unwrap() ^= 1;
    std::fs::write(dir.path().join("near"), &last_differs).unwrap();
    assert!(!is_manifest_copy(&dir.path().join("near"), &manifest_bytes).unwrap());
    assert!(is_manifest_copy(&model.join("meta/model-manifest.json"), &manifest_bytes).unwrap());

    let check = ModelCheck {
        model_dir: model.clone(),
        manifest_ref: reference.clone(),
        oci_layout: true,
        policy: Some(policy.clone()),
    };
    let verdict = verify_model(&check).unwrap();
    assert!(verdict.verified, "{:?}", verdict.reasons);
    // The same-size file still counts: changing it fails the check.
    std::fs::write(model.join("pad.bin"), &manifest_bytes[..len - 1]).unwrap();
    let verdict = verify_model(&check).unwrap();
    assert!(!verdict.verified);
    assert_eq!(verdict.reasons, ["modified: pad.bin"]);
    modelseal()
        .arg("verify-model")
        .arg(&model)
        .args(["--oci-layout", "--manifest", &reference, "--policy"])
        .arg(&policy)
        .assert()
        .code(1)
        .stdout(contains("modified: pad.bin"));
}

// ---- the library call behind `pull --verify` ----

#[test]
fn pull_verified_is_a_library_call_with_the_same_rules() {
    use modelseal::core::policy::TrustPolicy;
    use modelseal::flows::pull_verified::{ONLY_MANIFEST, VerifiedPullOptions, pull_verified_from};
    use modelseal::oci::ReadTarget;
    use modelseal::oci::open::open;
    use modelseal::oci::registry::Connection;
    use modelseal::oci::stage::PullError;
    use modelseal::oci::target::Quiet;

    let dir = tempfile::tempdir().unwrap();
    let reference = format!("{}:v1", dir.path().join("layout").display());
    let policy_path = symlink_attack(dir.path(), &layout_args(&reference));
    let (out, outside) = planted_output(dir.path());
    let policy = TrustPolicy::load(&policy_path).unwrap();
    let (selection, artifact) = policy.select_reference(&reference, true).unwrap();
    let scope = selection.policy.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (target, selector) = open(&reference, true, &Connection::default(), false)
            .await
            .unwrap();
        let subject = target.resolve(&selector.unwrap()).await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let forced = VerifiedPullOptions {
            force: true,
            require_files: false,
        };
        let refused = pull_verified_from(
            &target, &subject, &scope, &artifact, now, &out, forced, &Quiet,
        )
        .await;
        assert!(
            matches!(refused, Err(PullError::Destination { .. })),
            "{:?}",
            refused.map(|p| p.written)
        );
        assert!(snapshot(&outside).is_empty());
        let clean = dir.path().join("clean");
        let pulled = pull_verified_from(
            &target,
            &subject,
            &scope,
            &artifact,
            now,
            &clean,
            VerifiedPullOptions::default(),
            &Quiet,
        )
        .await
        .unwrap();
        assert!(pulled.verified, "{:?}", pulled.reasons);
        assert_eq!(pulled.warnings, [ONLY_MANIFEST]);
        assert_eq!(pulled.written.len(), 2);
        let strict = VerifiedPullOptions {
            force: false,
            require_files: true,
        };
        let other = dir.path().join("strict");
        let pulled = pull_verified_from(
            &target, &subject, &scope, &artifact, now, &other, strict, &Quiet,
        )
        .await
        .unwrap();
        assert!(!pulled.verified);
        assert_eq!(pulled.reasons, [ONLY_MANIFEST]);
        assert!(!other.exists());
    });
}
