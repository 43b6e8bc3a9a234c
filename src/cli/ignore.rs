//! Paths to leave out of a manifest, named on the command line (`hash --ignore-paths`, the
//! statement `sign` is about to write inside the model), resolved the way model-signing's CLI
//! resolves them.

use super::output::Output;
use anyhow::{Context, Result, bail};
use modelseal::core::manifest::{HashConfig, ModelManifest, hash_model};
use std::path::{Component, Path, PathBuf};

/// The manifest of `model` with `modelseal hash`'s defaults, leaving out `exclude` (the signature
/// about to be written) when it lies inside the model, as model-signing does.
pub fn default_manifest(
    model: &Path,
    exclude: Option<&PathBuf>,
    out: &Output,
) -> Result<ModelManifest> {
    let config = HashConfig {
        ignore_paths: relative_to_model(model, exclude.into_iter())?,
        ..HashConfig::default()
    };
    let progress = out.hashing_progress("hashing");
    Ok(hash_model(model, &config, &progress)?)
}

/// model-signing's CLI rule: an ignore path is resolved against the current directory, then made
/// relative to the (resolved) model; paths outside the model are dropped.
pub fn relative_to_model<'a>(
    model: &Path,
    paths: impl Iterator<Item = &'a PathBuf>,
) -> Result<Vec<String>> {
    let paths: Vec<_> = paths.collect();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let root = std::fs::canonicalize(model)
        .with_context(|| format!("{}: cannot open the model", model.display()))?;
    let mut rel = Vec::new();
    for p in paths {
        let resolved = resolve(p)?;
        if let Ok(r) = resolved.strip_prefix(&root) {
            let Some(s) = r.to_str() else {
                bail!("{}: ignore path is not valid UTF-8", p.display());
            };
            rel.push(s.to_string());
        }
    }
    Ok(rel)
}

/// Like Python's `Path.resolve()`: follows symlinks where the path exists, normalises the rest.
fn resolve(p: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(p).with_context(|| format!("{}: cannot resolve", p.display()))?;
    // Resolve the longest existing prefix, then append the remaining components lexically.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.iter().rev() {
        match Path::new(name).components().next() {
            Some(Component::ParentDir) => {
                resolved.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => resolved.push(name),
        }
    }
    Ok(resolved)
}
