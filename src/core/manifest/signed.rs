//! The model files against the manifest a statement signs: the one check `verify --model`,
//! `verify-model` and `pull --verify` make. Copies of the signed manifest itself among the files
//! (as `pull` leaves `model-manifest.json` beside the model) are not model files, and are
//! recognised the same way everywhere: never a name the manifest lists, then the same size, then
//! the same bytes (streamed, or compared by digest where a registry already proved them).

use super::check::{CheckReport, compare};
use super::engine::{HashConfig, Progress, hash_model};
use super::{ManifestError, ModelManifest};
use std::io::Read;
use std::path::Path;

/// Whether an entry named `name` (a root-relative POSIX path) of `size` bytes is a copy of the
/// signed manifest rather than a model file. `same_bytes` is asked only when the name is not one
/// the manifest lists and the sizes agree.
pub fn is_manifest_copy_entry<E>(
    signed: &ModelManifest,
    manifest_bytes: &[u8],
    name: &str,
    size: u64,
    same_bytes: impl FnOnce() -> Result<bool, E>,
) -> Result<bool, E> {
    let method = signed.serialization.method;
    if size != manifest_bytes.len() as u64
        || signed.resources.iter().any(|r| r.file_name(method) == name)
    {
        return Ok(false);
    }
    same_bytes()
}

/// Whether the file at `path` holds exactly `manifest`: sizes are compared first, then the
/// bytes, streaming (a model file is never read whole). Anything but a regular file is not.
pub fn is_manifest_copy(path: &Path, manifest: &[u8]) -> std::io::Result<bool> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() || meta.len() != manifest.len() as u64 {
        return Ok(false);
    }
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 << 10];
    let mut at = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(at == manifest.len());
        }
        if manifest.get(at..at + n) != Some(&buf[..n]) {
            return Ok(false);
        }
        at += n;
    }
}

/// The files under `dir` that are copies of the signed manifest, as root-relative POSIX paths
/// (the way `ignore_paths` names them). `ignore`d paths are not entered, symlinks not followed.
pub fn manifest_copies(
    dir: &Path,
    signed: &ModelManifest,
    manifest_bytes: &[u8],
    ignore: &[String],
) -> Result<Vec<String>, ManifestError> {
    struct Walk<'a> {
        signed: &'a ModelManifest,
        bytes: &'a [u8],
        ignore: Vec<Vec<&'a str>>,
        found: Vec<String>,
    }
    impl Walk<'_> {
        fn visit(&mut self, dir: &Path, rel: &mut Vec<String>) -> Result<(), ManifestError> {
            let entries = std::fs::read_dir(dir).map_err(|e| ManifestError::io(dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| ManifestError::io(dir, e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue; // hashing names it as an error
                };
                rel.push(name);
                let ignored = self.ignore.iter().any(|ig| {
                    !ig.is_empty()
                        && rel.len() >= ig.len()
                        && ig.iter().zip(rel.iter()).all(|(a, b)| a == b)
                });
                let path = entry.path();
                let io = |e| ManifestError::io(&path, e);
                let kind = entry.file_type().map_err(io)?;
                if ignored {
                } else if kind.is_dir() {
                    self.visit(&path, rel)?;
                } else if kind.is_file() {
                    let name = rel.join("/");
                    let size = entry.metadata().map_err(io)?.len();
                    let copy = is_manifest_copy_entry(self.signed, self.bytes, &name, size, || {
                        is_manifest_copy(&path, self.bytes)
                    })
                    .map_err(io)?;
                    if copy {
                        self.found.push(name);
                    }
                }
                rel.pop();
            }
            Ok(())
        }
    }
    let mut walk = Walk {
        signed,
        bytes: manifest_bytes,
        ignore: ignore
            .iter()
            .map(|p| {
                p.split('/')
                    .filter(|c| !c.is_empty() && *c != ".")
                    .collect()
            })
            .collect(),
        found: Vec::new(),
    };
    if std::fs::metadata(dir)
        .map_err(|e| ManifestError::io(dir, e))?
        .is_dir()
    {
        walk.visit(dir, &mut Vec::new())?;
    }
    walk.found.sort();
    Ok(walk.found)
}

/// The model at `dir` (a directory or a single file) against the signed manifest, hashed the
/// way the manifest says (streaming). Left out: the manifest's own `ignore_paths`, copies of the
/// manifest (`manifest_bytes`) anywhere in the tree, and `also_ignore`.
pub fn check_signed_model(
    dir: &Path,
    signed: &ModelManifest,
    manifest_bytes: &[u8],
    also_ignore: &[String],
    progress: &dyn Progress,
) -> Result<CheckReport, ManifestError> {
    let mut ignore = signed.serialization.ignore_paths.clone();
    ignore.extend(also_ignore.iter().cloned());
    let copies = manifest_copies(dir, signed, manifest_bytes, &ignore)?;
    ignore.extend(copies);
    let config = HashConfig {
        ignore_paths: ignore,
        ..HashConfig::from_manifest(signed)
    };
    Ok(compare(signed, &hash_model(dir, &config, progress)?))
}

impl CheckReport {
    /// One reason per kind of difference (`modified: a, b`), for verdicts.
    pub fn reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.subject_mismatch {
            reasons.push("the manifest's subject digest does not match its own resources".into());
        }
        for (what, names) in [
            ("modified", &self.modified),
            ("missing", &self.missing),
            ("extra", &self.extra),
        ] {
            if !names.is_empty() {
                reasons.push(format!("{what}: {}", names.join(", ")));
            }
        }
        reasons
    }
}
