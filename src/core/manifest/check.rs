//! Comparing a model on disk with a manifest, file by file.

use super::engine::{HashConfig, Progress, hash_model};
use super::{ManifestError, ModelManifest};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What differs between a manifest and a model, by file name (shards are folded into their file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Files whose content (any shard) differs from the manifest.
    pub modified: Vec<String>,
    /// Files the manifest lists that the model lacks.
    pub missing: Vec<String>,
    /// Files in the model that the manifest does not list (ignored paths excepted).
    pub extra: Vec<String>,
    /// Files that match.
    pub matched: usize,
    /// The manifest's stated subject digest disagrees with its own resources: it was edited.
    pub subject_mismatch: bool,
}

impl CheckReport {
    /// True when nothing is modified, missing or extra and the subject digest agrees: the model is
    /// exactly what the manifest describes.
    pub fn is_match(&self) -> bool {
        self.modified.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && !self.subject_mismatch
    }
}

/// Hashes `model` the way `manifest` says it was hashed, and compares.
pub fn check_model(
    manifest: &ModelManifest,
    model: &Path,
    progress: &dyn Progress,
) -> Result<CheckReport, ManifestError> {
    let actual = hash_model(model, &HashConfig::from_manifest(manifest), progress)?;
    Ok(compare(manifest, &actual))
}

/// Compares two manifests made with the same serialization.
pub fn compare(expected: &ModelManifest, actual: &ModelManifest) -> CheckReport {
    let by_file = |m: &ModelManifest| {
        let mut files: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for r in &m.resources {
            let file = r.file_name(m.serialization.method).to_string();
            files
                .entry(file)
                .or_default()
                .push((r.name.clone(), r.digest.clone()));
        }
        for resources in files.values_mut() {
            resources.sort();
        }
        files
    };
    let want = by_file(expected);
    let have = by_file(actual);
    let mut report = CheckReport {
        subject_mismatch: expected
            .stated_subject_digest
            .is_some_and(|d| d != expected.computed_subject_digest()),
        ..CheckReport::default()
    };
    for (file, resources) in &want {
        match have.get(file) {
            None => report.missing.push(file.clone()),
            Some(found) if found != resources => report.modified.push(file.clone()),
            Some(_) => report.matched += 1,
        }
    }
    report.extra = have
        .keys()
        .filter(|f| !want.contains_key(*f))
        .cloned()
        .collect();
    report
}
