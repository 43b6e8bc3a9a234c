//! The hashing engine: one code path for whole files and for shards, spread over all cores.
//!
//! Each unit of work (a file, or a shard of one) is read with positional reads into a per-thread
//! buffer, so memory stays at one buffer per core whatever the model's size. Units are handed out
//! largest first so that a big file does not start last and leave the other cores idle.

use super::walk::{self, Components, ModelFile, SymlinkPolicy, components_of};
use super::{HashAlgorithm, ManifestError, ModelManifest, Resource, SerializationInfo};
use rayon::prelude::*;
use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// How a model is cut into resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serialization {
    /// One digest per file.
    Files,
    /// Every file cut into `shard_size`-byte shards (the last one short), one digest per shard.
    Shards { shard_size: u64 },
}

/// model-signing's default shard size (`1_000_000_000`, not a power of two).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// Paths model-signing leaves out of every model by default (at the model root only).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// Everything that decides which bytes are hashed and how.
#[derive(Clone, Debug)]
pub struct HashConfig {
    pub algorithm: HashAlgorithm,
    pub serialization: Serialization,
    pub symlinks: SymlinkPolicy,
    /// Root-relative POSIX paths to leave out (a directory leaves out everything under it).
    pub ignore_paths: Vec<String>,
    /// Also leave out [`GIT_PATHS`], as model-signing does unless told otherwise.
    pub ignore_git_paths: bool,
}

impl Default for HashConfig {
    fn default() -> Self {
        HashConfig {
            algorithm: HashAlgorithm::Sha256,
            serialization: Serialization::Files,
            symlinks: SymlinkPolicy::Refuse,
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
        }
    }
}

impl HashConfig {
    /// The configuration that reproduces `manifest`, for checking a model against it.
    pub fn from_manifest(manifest: &ModelManifest) -> Self {
        let s = &manifest.serialization;
        HashConfig {
            algorithm: s.hash_type,
            serialization: s.method,
            symlinks: if s.allow_symlinks {
                SymlinkPolicy::Anywhere
            } else {
                SymlinkPolicy::Refuse
            },
            ignore_paths: s.ignore_paths.clone(),
            // Already listed in `ignore_paths` when the signer ignored them.
            ignore_git_paths: false,
        }
    }

    /// model-signing has no BLAKE3 shards: asked for them it hashes whole files, and so do we.
    pub fn effective_serialization(&self) -> Serialization {
        match (self.algorithm, self.serialization) {
            (HashAlgorithm::Blake3, Serialization::Shards { .. }) => Serialization::Files,
            (_, s) => s,
        }
    }
}

/// Told how much there is to hash, then of each block as it is hashed. Called from many threads.
pub trait Progress: Sync {
    fn start(&self, _total_bytes: u64) {}
    fn advance(&self, bytes: u64);
}

/// For callers that do not show progress.
pub struct NoProgress;
impl Progress for NoProgress {
    fn advance(&self, _bytes: u64) {}
}

/// Hashes the model at `model` (a directory, or a single file) into its manifest.
pub fn hash_model(
    model: &Path,
    config: &HashConfig,
    progress: &dyn Progress,
) -> Result<ModelManifest, ManifestError> {
    let serialization = config.effective_serialization();
    if serialization == (Serialization::Shards { shard_size: 0 }) {
        return Err(ManifestError::ZeroShardSize);
    }
    let ignore_paths = recorded_ignore_paths(config);
    let ignore: Vec<Components> = ignore_paths.iter().map(|p| components_of(p)).collect();
    let files = walk::walk(model, &ignore, config.symlinks)?;
    let units = plan_units(&files, serialization);
    progress.start(units.iter().map(|u| u.end - u.start).sum());

    let algorithm = config.algorithm;
    let mut by_size: Vec<usize> = (0..units.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(units[i].end - units[i].start));
    let mut digests: Vec<(usize, Vec<u8>)> = by_size
        .par_iter()
        .with_max_len(1)
        .map(|&i| {
            let unit = &units[i];
            hash_unit(&files[unit.file], unit, algorithm, progress).map(|d| (i, d))
        })
        .collect::<Result<_, _>>()?;
    digests.sort_unstable_by_key(|(i, _)| *i);

    let resources = units
        .iter()
        .zip(digests)
        .map(|(unit, (_, digest))| {
            unit.resource(&files[unit.file], algorithm, serialization, digest)
        })
        .collect();
    Ok(ModelManifest::new(
        model_name(model),
        SerializationInfo {
            method: serialization,
            hash_type: algorithm,
            allow_symlinks: config.symlinks.allows_symlinks(),
            ignore_paths,
        },
        resources,
    ))
}

/// The ignore list as model-signing records it: user paths plus git paths, as a sorted set.
fn recorded_ignore_paths(config: &HashConfig) -> Vec<String> {
    let git = config
        .ignore_git_paths
        .then_some(GIT_PATHS.iter().map(|s| s.to_string()));
    let mut paths: Vec<String> = config
        .ignore_paths
        .iter()
        .map(|p| components_of(p).join("/"))
        .filter(|p| !p.is_empty())
        .chain(git.into_iter().flatten())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The subject name: the model path's last component, or the real directory's name for `.`.
fn model_name(model: &Path) -> String {
    match model.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => std::fs::canonicalize(model)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    }
}

/// A byte range of one file, hashed as one resource.
struct Unit {
    file: usize,
    start: u64,
    end: u64,
}

impl Unit {
    fn resource(
        &self,
        file: &ModelFile,
        algorithm: HashAlgorithm,
        serialization: Serialization,
        digest: Vec<u8>,
    ) -> Resource {
        match serialization {
            Serialization::Files => Resource {
                name: file.name(),
                algorithm: algorithm.name().to_string(),
                digest,
            },
            Serialization::Shards { shard_size } => Resource {
                name: format!("{}:{}:{}", file.name(), self.start, self.end),
                algorithm: format!("{}-sharded-{shard_size}", algorithm.name()),
                digest,
            },
        }
    }
}

/// Work units in manifest order. Empty files have no shards (model-signing lists none for them).
fn plan_units(files: &[ModelFile], serialization: Serialization) -> Vec<Unit> {
    let mut units = Vec::new();
    for (i, f) in files.iter().enumerate() {
        match serialization {
            Serialization::Files => units.push(Unit {
                file: i,
                start: 0,
                end: f.size,
            }),
            Serialization::Shards { shard_size } => {
                let mut start = 0;
                while start < f.size {
                    let end = f.size.min(start + shard_size);
                    units.push(Unit {
                        file: i,
                        start,
                        end,
                    });
                    start = end;
                }
            }
        }
    }
    units
}

/// Bytes read per call. Large enough that syscall cost vanishes, small enough to stay in L2 while
/// the hash consumes it (measured with scripts/bench/hash.sh).
const READ_BLOCK: usize = 1 << 20;
/// BLAKE3 hashes one block on all cores, so it wants more per block to split.
const READ_BLOCK_BLAKE3: usize = 8 << 20;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn hash_unit(
    file: &ModelFile,
    unit: &Unit,
    algorithm: HashAlgorithm,
    progress: &dyn Progress,
) -> Result<Vec<u8>, ManifestError> {
    let io_err = |e: io::Error| ManifestError::io(&file.path, e);
    let handle = File::open(&file.path).map_err(io_err)?;
    let block = match algorithm {
        HashAlgorithm::Blake3 => READ_BLOCK_BLAKE3,
        _ => READ_BLOCK,
    };
    let mut hasher = algorithm.hasher();
    BUFFER.with_borrow_mut(|buf| -> Result<(), ManifestError> {
        let want = block.min((unit.end - unit.start) as usize).max(1);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let mut pos = unit.start;
        while pos < unit.end {
            let len = buf.len().min((unit.end - pos) as usize);
            let n = match handle.read_at(&mut buf[..len], pos) {
                Ok(0) => return Err(changed(file, &handle)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            hasher.update(&buf[..n]);
            progress.advance(n as u64);
            pos += n as u64;
        }
        Ok(())
    })?;
    let now = handle.metadata().map_err(io_err)?.len();
    if now != file.size {
        return Err(changed(file, &handle));
    }
    Ok(hasher.finalize())
}

fn changed(file: &ModelFile, handle: &File) -> ManifestError {
    ManifestError::ChangedWhileHashing {
        path: file.path.clone(),
        expected: file.size,
        found: handle.metadata().map(|m| m.len()).unwrap_or(0),
    }
}
