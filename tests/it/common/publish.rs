//! Publishing signed artifacts for tests, including ones no honest publisher makes (titles that
//! collide or lead through symlinks), and looking at directories before and after.

use super::{keygen, modelseal};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const ISSUER: &str = "https://publisher.example";

/// A dev key (`dir/es256.key`) and a policy (`dir/policy.toml`) trusting it for [`ISSUER`] in
/// every scope.
pub fn dev_trust(dir: &Path) -> (PathBuf, PathBuf) {
    let (key, public) = keygen(dir, "ES256");
    let policy = dir.join("policy.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .args(["--issuer", ISSUER, "-o"])
        .arg(&policy)
        .assert()
        .success();
    (key, policy)
}

/// `hash . -o manifest.json` in `model`, signed with `key`: (manifest, statement). The manifest
/// file lies in the model but is left out of it (as `hash -o` does).
pub fn hash_and_sign(model: &Path, key: &Path) -> (PathBuf, PathBuf) {
    modelseal()
        .current_dir(model)
        .args(["hash", ".", "-o", "manifest.json"])
        .assert()
        .success();
    let statement = model.with_extension("cose");
    modelseal()
        .current_dir(model)
        .args(["sign", "manifest.json", "--key"])
        .arg(key)
        .args(["--issuer", ISSUER, "--subject", "test", "-o"])
        .arg(&statement)
        .assert()
        .success();
    (model.join("manifest.json"), statement)
}

/// Pushes `layers` (`FILE[:TYPE]`, titled as typed, from `cwd`) to `target` (e.g.
/// `["--oci-layout", "DIR:v1"]` or `["HOST/REPO:v1"]`).
pub fn push_layers(cwd: &Path, target: &[&str], layers: &[&str]) {
    modelseal()
        .current_dir(cwd)
        .arg("push")
        .args(target)
        .args(layers)
        .assert()
        .success();
}

/// Attaches `statement` to `target`.
pub fn attach(target: &[&str], statement: &Path) {
    modelseal()
        .arg("attach")
        .args(target)
        .arg(statement)
        .assert()
        .success();
}

/// Attaches `file` to `target` as a referrer of `artifact_type`.
pub fn attach_as(target: &[&str], artifact_type: &str, file: &Path) {
    modelseal()
        .args(["attach", "--artifact-type", artifact_type])
        .args(target)
        .arg(file)
        .assert()
        .success();
}

/// Renames a layer's title in the manifest an OCI layout tags `tag` (rewriting the manifest blob
/// and index.json), to make artifacts `push` would not: two layers with one title.
pub fn retitle_layer(layout: &Path, tag: &str, from: &str, to: &str) {
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .expect("tag in index.json");
    let old = entry["digest"].as_str().unwrap().to_string();
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&old)).unwrap()).unwrap();
    let layer = manifest["layers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["annotations"]["org.opencontainers.image.title"] == from)
        .expect("layer titled `from`");
    layer["annotations"]["org.opencontainers.image.title"] = to.into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    std::fs::write(blob(&digest), &bytes).unwrap();
    entry["digest"] = digest.into();
    entry["size"] = bytes.len().into();
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Everything under `dir` (not following symlinks): path → file bytes, `dir/`, or `-> target`.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn visit(root: &Path, dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let kind = e.file_type().unwrap();
            if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                into.insert(rel, format!("-> {}", target.display()).into_bytes());
            } else if kind.is_dir() {
                into.insert(format!("{rel}/"), Vec::new());
                visit(root, &path, into);
            } else {
                into.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut all = BTreeMap::new();
    visit(dir, dir, &mut all);
    all
}
