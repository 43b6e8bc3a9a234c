//! HMAC-signed model folders, as a `sign_model.py`-style guide makes them: a shared secret
//! (`MODEL_SIGNING_KEY`), `FILE.sig` beside each model file, and `model_signatures.json` at the
//! models root. modelseal reads and writes exactly those files, so either side verifies the
//! other's, and [`migration_manifest`] is the way up to a signed, logged statement.
//!
//! A shared secret is weaker than a signature: anyone who can verify can also forge. The
//! comparison is constant-time; files are streamed, never read whole; the key never leaves the
//! process.
//!
//! ```
//! use modelseal::compat::hmac::{HmacKey, sign_file, verify_file};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("key"), "a shared secret\n")?;
//! let key = HmacKey::from_file(&dir.path().join("key"))?;
//! let model = dir.path().join("model.safetensors");
//! std::fs::write(&model, b"weights")?;
//!
//! let sig = sign_file(&key, &model, "2026-01-01T00:00:00Z")?; // writes model.safetensors.sig
//! assert_eq!(sig.file_size, 7);
//! assert!(verify_file(&key, &model, "model.safetensors").verified);
//!
//! std::fs::write(&model, b"Weights")?;
//! let changed = verify_file(&key, &model, "model.safetensors");
//! assert_eq!((changed.verified, changed.detail.as_str()), (false, "Signature mismatch"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::core::manifest::{HashConfig, ModelManifest, NoProgress, hash_model};
use hmac::{Hmac, Mac};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The file extensions signed by default (the guide's `*.pth *.pt *.onnx *.pb *.h5 *.safetensors`).
pub const DEFAULT_EXTENSIONS: [&str; 6] = ["pth", "pt", "onnx", "pb", "h5", "safetensors"];
/// The index at the models root.
pub const INDEX_FILE: &str = "model_signatures.json";
/// What the guide calls the algorithm (HMAC-SHA256).
pub const ALGORITHM: &str = "sha256";
/// A `.sig` or index file is a small JSON document.
const MAX_SIG_BYTES: u64 = 1 << 20;
const MAX_INDEX_BYTES: u64 = 64 << 20;

type HmacSha256 = Hmac<Sha256>;

/// The shared secret. Its bytes are never printed (`Debug` is redacted).
pub struct HmacKey(Vec<u8>);

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(<redacted>)")
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl HmacKey {
    /// `MODEL_SIGNING_KEY` as the guide uses it: the value's UTF-8 bytes.
    pub fn from_env() -> Result<Self, HmacError> {
        match std::env::var("MODEL_SIGNING_KEY") {
            Ok(v) if !v.is_empty() => Ok(HmacKey(v.into_bytes())),
            _ => Err(HmacError::NoKey),
        }
    }

    /// A key file's bytes, without one trailing newline (as `echo` leaves it).
    pub fn from_file(path: &Path) -> Result<Self, HmacError> {
        let mut bytes = crate::core::input::read_bounded(path, MAX_SIG_BYTES)
            .map_err(|e| HmacError::io(path, e))?;
        if bytes.ends_with(b"\r\n") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"\n") {
            bytes.pop();
        }
        if bytes.is_empty() {
            return Err(HmacError::EmptyKeyFile(path.to_path_buf()));
        }
        Ok(HmacKey(bytes))
    }
}

/// Why HMAC signing or verification of a models folder could not run (a mismatch is a
/// [`FileVerdict`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum HmacError {
    /// `MODEL_SIGNING_KEY` is unset or empty.
    #[error("MODEL_SIGNING_KEY not set (or give --key-file FILE)")]
    NoKey,
    /// The key file holds nothing but (at most) one trailing newline.
    #[error("{0}: the key file is empty")]
    EmptyKeyFile(PathBuf),
    /// Reading or writing `path` failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory being read or written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A signature file cannot be used, or (from [`migration_manifest`]) a file changed after its
    /// HMAC verified.
    #[error("{path}: not a signature file: {reason}")]
    BadSignatureFile {
        /// The signature file, or the model file that changed.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The models root given is not a directory.
    #[error("{0}: not a directory")]
    NotADirectory(PathBuf),
    /// Hashing the folder for the migration manifest failed.
    #[error(transparent)]
    Manifest(#[from] crate::core::manifest::ManifestError),
}

impl HmacError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        HmacError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `FILE.sig`, and each entry of `model_signatures.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignatureFile {
    /// The file's base name (the guide signs names, not paths).
    pub file: String,
    /// HMAC-SHA256 of the file's bytes, lowercase hex (64 characters).
    pub signature: String,
    /// Always [`ALGORITHM`] (`"sha256"`); anything else is refused.
    pub algorithm: String,
    /// When it was signed, as the signer wrote it (RFC 3339 text); informational.
    pub signed_at: String,
    /// The file's size in bytes when signed; a different size fails verification.
    pub file_size: u64,
}

/// `model_signatures.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignatureIndex {
    /// When the index was written (RFC 3339 text); informational.
    pub created_at: String,
    /// Written as [`ALGORITHM`] (`"sha256"`); not read on verification (each entry's is).
    pub algorithm: String,
    /// How many entries `signatures` has when written; not read on verification.
    pub total_files: usize,
    /// Each model file's signature, keyed by its root-relative POSIX path.
    pub signatures: BTreeMap<String, SignatureFile>,
}

/// One file's verification.
#[derive(Clone, Debug, Serialize)]
pub struct FileVerdict {
    /// The model file, relative to the models root (or as given for a single file).
    pub file: String,
    /// Whether the HMAC matched the key, the name and the size.
    pub verified: bool,
    /// "ok", or the guide's message: "Signature file not found", "Signature mismatch", ...
    pub detail: String,
    /// SHA-256 of the bytes whose HMAC was checked (for the migration manifest).
    #[serde(skip)]
    pub sha256: Option<Vec<u8>>,
}

/// HMAC-SHA256 and SHA-256 of a file in one streaming pass, and its size.
fn mac_file(key: &HmacKey, path: &Path) -> Result<(HmacSha256, Vec<u8>, u64), HmacError> {
    let mut file = std::fs::File::open(path).map_err(|e| HmacError::io(path, e))?;
    let mut mac = HmacSha256::new_from_slice(&key.0).expect("HMAC takes keys of any length");
    let mut sha = Sha256::new();
    let (mut size, mut buf) = (0u64, vec![0u8; 1 << 20]);
    loop {
        let n = file.read(&mut buf).map_err(|e| HmacError::io(path, e))?;
        if n == 0 {
            break;
        }
        mac.update(&buf[..n]);
        sha.update(&buf[..n]);
        size += n as u64;
    }
    Ok((mac, sha.finalize().to_vec(), size))
}

fn sig_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

fn base_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn pretty(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("serialisable");
    bytes.push(b'\n');
    bytes
}

/// Signs one file: writes `FILE.sig` (atomically) and returns what it holds. `signed_at` is
/// written as given. Fails when the file cannot be read or the `.sig` cannot be written.
pub fn sign_file(key: &HmacKey, file: &Path, signed_at: &str) -> Result<SignatureFile, HmacError> {
    let (mac, _, size) = mac_file(key, file)?;
    let sig = SignatureFile {
        file: base_name(file),
        signature: hex::encode(mac.finalize().into_bytes()),
        algorithm: ALGORITHM.into(),
        signed_at: signed_at.into(),
        file_size: size,
    };
    let path = sig_path(file);
    crate::core::atomic_file::write_atomic(&path, &pretty(&sig))
        .map_err(|e| HmacError::io(&path, e))?;
    Ok(sig)
}

/// Verifies one file against `FILE.sig` beside it: the algorithm must be `sha256`, the `.sig`'s
/// `file` the file's base name, its size and HMAC the file's. Never fails: every problem (no
/// `.sig`, unreadable file) is a verdict with `verified: false`, shown as `shown_as`.
pub fn verify_file(key: &HmacKey, file: &Path, shown_as: &str) -> FileVerdict {
    let verdict = |verified: bool, detail: String, sha256| FileVerdict {
        file: shown_as.into(),
        verified,
        detail,
        sha256,
    };
    let path = sig_path(file);
    let bytes = match crate::core::input::read_bounded(&path, MAX_SIG_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return verdict(false, "Signature file not found".into(), None);
        }
        Err(e) => return verdict(false, format!("{}: {e}", path.display()), None),
    };
    let sig: SignatureFile = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => return verdict(false, format!("unreadable signature file: {e}"), None),
    };
    check(key, file, &sig, shown_as)
}

fn check(key: &HmacKey, file: &Path, sig: &SignatureFile, shown_as: &str) -> FileVerdict {
    let verdict = |verified: bool, detail: String, sha256| FileVerdict {
        file: shown_as.into(),
        verified,
        detail,
        sha256,
    };
    if sig.algorithm != ALGORITHM {
        return verdict(
            false,
            format!("unsupported algorithm '{}' (only sha256)", sig.algorithm),
            None,
        );
    }
    if sig.file != base_name(file) {
        return verdict(
            false,
            format!("the signature is for '{}', not this file", sig.file),
            None,
        );
    }
    let Ok(expected) = hex::decode(&sig.signature) else {
        return verdict(false, "the signature is not hex".into(), None);
    };
    let (mac, sha256, size) = match mac_file(key, file) {
        Ok(m) => m,
        Err(e) => return verdict(false, e.to_string(), None),
    };
    if size != sig.file_size {
        return verdict(
            false,
            format!("Signature mismatch (size {size}, signed {})", sig.file_size),
            None,
        );
    }
    // `verify_slice` compares in constant time.
    match mac.verify_slice(&expected) {
        Ok(()) => verdict(true, "ok".into(), Some(sha256)),
        Err(_) => verdict(false, "Signature mismatch".into(), None),
    }
}

/// The model files under `dir` the guide signs: by extension, recursively unless told otherwise,
/// as root-relative POSIX paths, sorted. Symlinks are not followed.
pub fn model_files(
    dir: &Path,
    extensions: &[&str],
    recursive: bool,
) -> Result<Vec<String>, HmacError> {
    if !dir.is_dir() {
        return Err(HmacError::NotADirectory(dir.to_path_buf()));
    }
    let mut out = Vec::new();
    walk(
        dir,
        |_| recursive,
        |name, kind| {
            if kind.is_file()
                && Path::new(&name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
            {
                out.push(name);
            }
        },
    )?;
    out.sort();
    Ok(out)
}

/// Every entry under `dir` but directories, as a root-relative POSIX path with its kind, entering
/// the directories `enter` names (symlinks are not followed).
fn walk(
    dir: &Path,
    mut enter: impl FnMut(&str) -> bool,
    mut visit: impl FnMut(String, std::fs::FileType),
) -> Result<(), HmacError> {
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let here = dir.join(&rel);
        for entry in std::fs::read_dir(&here).map_err(|e| HmacError::io(&here, e))? {
            let entry = entry.map_err(|e| HmacError::io(&here, e))?;
            let kind = entry
                .file_type()
                .map_err(|e| HmacError::io(&entry.path(), e))?;
            let child = rel.join(entry.file_name());
            let name = posix(&child);
            if kind.is_dir() {
                if enter(&name) {
                    pending.push(child);
                }
            } else {
                visit(name, kind);
            }
        }
    }
    Ok(())
}

fn posix(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Signs every file of `files` (root-relative paths under `dir`, in parallel), then writes
/// `model_signatures.json` at `dir`; `now` is written as each `signed_at` and as `created_at`.
/// Stops at the first file that cannot be signed (`.sig` files already written stay).
pub fn sign_all(
    key: &HmacKey,
    dir: &Path,
    files: &[String],
    now: &str,
) -> Result<SignatureIndex, HmacError> {
    let signed: Vec<(String, SignatureFile)> = files
        .par_iter()
        .map(|rel| Ok((rel.clone(), sign_file(key, &dir.join(rel), now)?)))
        .collect::<Result<_, HmacError>>()?;
    let index = SignatureIndex {
        created_at: now.into(),
        algorithm: ALGORITHM.into(),
        total_files: signed.len(),
        signatures: signed.into_iter().collect(),
    };
    let path = dir.join(INDEX_FILE);
    crate::core::atomic_file::write_atomic(&path, &pretty(&index))
        .map_err(|e| HmacError::io(&path, e))?;
    Ok(index)
}

/// Verifies every model file in `files` (root-relative, as [`model_files`] lists them) against
/// the `.sig` beside it (in parallel). When `model_signatures.json` is there, each entry for a
/// path *not* in `files` is checked too: a listed file that is gone, or whose entry does not
/// verify, fails. An entry for a path in `files` is not compared with its `.sig` (the `.sig` is
/// what counts), and an unreadable index is one failed verdict. Verdicts are sorted by file.
pub fn verify_all(key: &HmacKey, dir: &Path, files: &[String]) -> Vec<FileVerdict> {
    let mut verdicts: Vec<FileVerdict> = files
        .par_iter()
        .map(|rel| verify_file(key, &dir.join(rel), rel))
        .collect();
    let index_path = dir.join(INDEX_FILE);
    let index = match crate::core::input::read_bounded(&index_path, MAX_INDEX_BYTES) {
        Ok(bytes) => serde_json::from_slice::<SignatureIndex>(&bytes)
            .map_err(|e| format!("{INDEX_FILE}: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return verdicts,
        Err(e) => Err(format!("{INDEX_FILE}: {e}")),
    };
    match index {
        Err(detail) => verdicts.push(FileVerdict {
            file: INDEX_FILE.into(),
            verified: false,
            detail,
            sha256: None,
        }),
        Ok(index) => {
            for (rel, entry) in &index.signatures {
                if !files.contains(rel) {
                    let path = dir.join(rel);
                    let mut v = if path.is_file() {
                        check(key, &path, entry, rel)
                    } else {
                        FileVerdict {
                            file: rel.clone(),
                            verified: false,
                            detail: format!("listed in {INDEX_FILE} but missing"),
                            sha256: None,
                        }
                    };
                    // Listed but not a model file by extension: checked, never counted as covered.
                    v.sha256 = None;
                    verdicts.push(v);
                }
            }
        }
    }
    verdicts.sort_by(|a, b| a.file.cmp(&b.file));
    verdicts
}

/// The way up: a model-signing manifest of `dir` covering exactly the files whose HMAC verified
/// (every other file goes into `ignore_paths`: never authenticated, so never endorsed). The
/// manifest is hashed after the HMAC pass and its digests compared with that pass, so a file
/// changed in between is refused rather than endorsed.
///
/// `also_ignore` are files to leave out besides (the statement being written, when it lies in
/// `dir`). Returns the manifest and the files it does not cover.
pub fn migration_manifest(
    dir: &Path,
    verified: &[FileVerdict],
    also_ignore: &[String],
) -> Result<(ModelManifest, Vec<String>), HmacError> {
    let covered: BTreeMap<&str, &[u8]> = verified
        .iter()
        .filter(|v| v.verified)
        .filter_map(|v| v.sha256.as_deref().map(|d| (v.file.as_str(), d)))
        .collect();
    let mut others = Vec::new();
    walk(
        dir,
        // .git and the like are ignored by default anyway
        |name| !crate::core::manifest::GIT_PATHS.contains(&name),
        |name, _| {
            if !covered.contains_key(name.as_str()) {
                others.push(name);
            }
        },
    )?;
    others.extend(also_ignore.iter().cloned());
    others.sort();
    others.dedup();
    let config = HashConfig {
        ignore_paths: others.clone(),
        ..HashConfig::default()
    };
    let manifest = hash_model(dir, &config, &NoProgress)?;
    for r in &manifest.resources {
        if covered.get(r.name.as_str()).copied() != Some(r.digest.as_slice()) {
            return Err(HmacError::BadSignatureFile {
                path: dir.join(&r.name),
                reason: "the file changed after its HMAC was verified".into(),
            });
        }
    }
    Ok((manifest, others))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.pt");
        std::fs::write(&file, b"what do ya want for nothing?").unwrap();
        let sig = sign_file(&HmacKey(b"Jefe".to_vec()), &file, "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            sig.signature,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(sig.file, "m.pt");
        assert_eq!(sig.file_size, 28);
        let ok = verify_file(&HmacKey(b"Jefe".to_vec()), &file, "m.pt");
        assert!(ok.verified, "{}", ok.detail);
        let wrong = verify_file(&HmacKey(b"jefe".to_vec()), &file, "m.pt");
        assert_eq!(wrong.detail, "Signature mismatch");
        assert!(format!("{:?}", HmacKey(b"secret".to_vec())).contains("redacted"));
    }
}
