//! What `push` and `attach` share: `FILE[:TYPE]` arguments, annotations, and the report.

use super::output::Output;
use anyhow::{Result, bail};
use modelseal::core::x509::format_unix_time;
use modelseal::oci::manifest::{Annotations, Descriptor};
use modelseal::oci::ops::{ArtifactSpec, LayerFile};
use modelseal::oci::registry::TransferCounts;
use serde::Serialize;
use std::path::PathBuf;

/// `FILE[:TYPE]` arguments. A suffix counts as a media type only if it looks like one
/// (`type/subtype`), so `C:\` style or odd file names stay file names.
pub fn layer_files(args: &[String], default_type: &str) -> Result<Vec<LayerFile>> {
    args.iter()
        .map(|arg| {
            let (path, media_type) = match arg.rsplit_once(':') {
                Some((p, t)) if t.contains('/') && !p.is_empty() => (p, t),
                _ => (arg.as_str(), default_type),
            };
            let file = PathBuf::from(path);
            if !file.is_file() {
                bail!("{path}: not a file");
            }
            Ok(LayerFile {
                path: file,
                title: path.to_string(),
                media_type: media_type.to_string(),
                digest: None,
            })
        })
        .collect()
}

/// Annotations from KEY=VALUE, and the creation time: SOURCE_DATE_EPOCH when set, else now.
pub fn artifact_spec(
    artifact_type: &str,
    annotations: &[String],
    subject: Option<Descriptor>,
) -> Result<ArtifactSpec> {
    let mut map = Annotations::new();
    for a in annotations {
        let Some((k, v)) = a.split_once('=') else {
            bail!("annotation '{a}' is not KEY=VALUE")
        };
        map.insert(k.to_string(), v.to_string());
    }
    Ok(ArtifactSpec {
        artifact_type: artifact_type.to_string(),
        annotations: map,
        created: format_unix_time(modelseal::core::clock::signing_time()),
        subject,
    })
}

pub fn report(
    out: &Output,
    verb: &str,
    reference: &str,
    d: &Descriptor,
    artifact_type: &str,
    transfer: Option<TransferCounts>,
) {
    if out.is_json() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Pushed<'a> {
            reference: &'a str,
            media_type: &'a str,
            digest: &'a str,
            size: u64,
            artifact_type: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            transfer: Option<TransferCounts>,
        }
        out.json(&Pushed {
            reference,
            media_type: &d.media_type,
            digest: &d.digest,
            size: d.size,
            artifact_type,
            transfer,
        });
    } else {
        sayln!("{verb} {reference}");
        sayln!("ArtifactType: {artifact_type}");
        sayln!("Digest: {}", d.digest);
    }
}
