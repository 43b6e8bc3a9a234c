//! Tar layers (plain, gzip, zstd) extracted into a staging directory, refusing whatever could
//! write outside the output directory or be more than files: absolute paths, `..`, links of
//! either kind, device files and FIFOs, a path twice, and more bytes or entries than the
//! limits. Nothing is written where the entry says; each file goes to a fresh staging file and
//! the caller moves it into place with every other pulled file ([`Stage::commit`]).
//!
//! [`Stage::commit`]: super::stage::Stage::commit

use super::modelpack::Packing;
use super::stage::{PullError, Result, title_path};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What one archive may hold at most.
#[derive(Clone, Copy, Debug)]
pub struct ArchiveLimits {
    /// Bytes of file content, all entries together (a gzip or zstd bomb stops here).
    pub max_bytes: u64,
    /// Entries of any kind (files, directories, links), counted before any is written.
    pub max_entries: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_bytes: 1 << 40,
            max_entries: 100_000,
        }
    }
}

fn refused(layer: &str, entry: &str, reason: impl Into<String>) -> PullError {
    PullError::Title {
        title: format!("{entry} (in tar layer {layer})"),
        reason: reason.into(),
    }
}

/// Extracts the archive at `archive` (packed as `packing`; `Raw` is not an archive) into new
/// files under `staging` (which must exist), returning each staged file with the relative path
/// it belongs at. `layer` names the layer in errors.
pub fn extract(
    archive: &Path,
    packing: Packing,
    staging: &Path,
    layer: &str,
    limits: ArchiveLimits,
) -> Result<Vec<(PathBuf, PathBuf)>> {
    let io = |e: std::io::Error| PullError::Oci(super::OciError::io(archive, e));
    let file = std::fs::File::open(archive).map_err(io)?;
    let reader: Box<dyn Read> = match packing {
        Packing::Tar => Box::new(file),
        Packing::TarGzip => Box::new(flate2::read::GzDecoder::new(file)),
        Packing::TarZstd => Box::new(zstd::stream::read::Decoder::new(file).map_err(io)?),
        Packing::Raw => return Err(refused(layer, "", "is not an archive")),
    };
    let mut tar = tar::Archive::new(reader);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut total: u64 = 0;
    for (i, entry) in tar.entries().map_err(io)?.enumerate() {
        let mut entry = entry.map_err(io)?;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if i >= limits.max_entries {
            return Err(refused(
                layer,
                &raw_path,
                format!("is past the limit of {} entries", limits.max_entries),
            ));
        }
        use tar::EntryType as T;
        match entry.header().entry_type() {
            T::Regular | T::Continuous => {}
            T::Directory => continue,
            T::Symlink | T::Link => {
                return Err(refused(
                    layer,
                    &raw_path,
                    "is a link: links are not extracted",
                ));
            }
            T::Char | T::Block | T::Fifo => {
                return Err(refused(
                    layer,
                    &raw_path,
                    "is a device file or FIFO: only regular files are extracted",
                ));
            }
            other => {
                return Err(refused(
                    layer,
                    &raw_path,
                    format!("has entry type {other:?}: only regular files are extracted"),
                ));
            }
        }
        let rel = title_path(&raw_path, false).map_err(|e| match e {
            PullError::Title { reason, .. } => refused(layer, &raw_path, reason),
            other => other,
        })?;
        if !seen.insert(rel.clone()) {
            return Err(refused(layer, &raw_path, "appears twice in the archive"));
        }
        let left = limits.max_bytes - total;
        let too_big = || {
            refused(
                layer,
                &raw_path,
                format!(
                    "takes the archive past the limit of {} bytes",
                    limits.max_bytes
                ),
            )
        };
        if entry.size() > left {
            return Err(too_big());
        }
        let staged = staging.join(format!("{}", out.len()));
        let mut dest = std::fs::File::create_new(&staged)
            .map_err(|e| PullError::Oci(super::OciError::io(&staged, e)))?;
        let copied = std::io::copy(&mut (&mut entry).take(left + 1), &mut dest).map_err(io)?;
        if copied > left {
            return Err(too_big());
        }
        total += copied;
        out.push((staged, rel));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn archives_past_the_byte_or_entry_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar");
        std::fs::write(&archive, tar_of(&[("a", b"0123456789"), ("b", b"x")])).unwrap();
        let staging = dir.path().join("s");
        std::fs::create_dir(&staging).unwrap();
        let small = ArchiveLimits {
            max_bytes: 10,
            max_entries: 10,
        };
        let e = extract(&archive, Packing::Tar, &staging, "l", small).unwrap_err();
        assert!(e.to_string().contains("limit of 10 bytes"), "{e}");
        let few = ArchiveLimits {
            max_bytes: 100,
            max_entries: 1,
        };
        std::fs::remove_dir_all(&staging).unwrap();
        std::fs::create_dir(&staging).unwrap();
        let e = extract(&archive, Packing::Tar, &staging, "l", few).unwrap_err();
        assert!(e.to_string().contains("limit of 1 entries"), "{e}");
        std::fs::remove_dir_all(&staging).unwrap();
        std::fs::create_dir(&staging).unwrap();
        let ok = extract(
            &archive,
            Packing::Tar,
            &staging,
            "l",
            ArchiveLimits::default(),
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(std::fs::read(&ok[0].0).unwrap(), b"0123456789");
    }
}
