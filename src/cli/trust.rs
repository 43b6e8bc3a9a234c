//! Loading keys and certificates named on the command line (`--key`, `--cert`, `--ts-key`,
//! `--trust-store`), with errors that name the file.

use anyhow::{Context, Result, bail};
use modelseal::core::crypto::{MAX_KEY_FILE_BYTES, NamedKey, PrivateKey, read_public_keys};
use modelseal::core::input::read_bounded;
use std::path::{Path, PathBuf};

/// A file named on the command line that is not there: one wording for every command (the
/// hasher's own, `ManifestError::NotFound`).
#[derive(Debug, thiserror::Error)]
#[error("{}: no such file or directory", .0.display())]
pub struct Missing(pub PathBuf);

/// A key file that is not there (the error hint says how to make one).
#[derive(Debug, thiserror::Error)]
#[error("{}: no such file or directory", .0.display())]
pub struct MissingKey(pub PathBuf);

/// A whole input file of at most `max` bytes; a missing one is [`Missing`].
pub fn read_input(path: &Path, max: u64) -> Result<Vec<u8>> {
    read_bounded(path, max).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::Error::new(Missing(path.to_path_buf()))
        } else {
            anyhow::Error::new(e).context(format!("{}: cannot read", path.display()))
        }
    })
}

pub fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    if !path.exists() {
        return Err(MissingKey(path.to_path_buf()).into());
    }
    read_input(path, MAX_KEY_FILE_BYTES)
}

pub fn private_key(path: &Path) -> Result<PrivateKey> {
    let bytes = zeroize::Zeroizing::new(read_key_file(path)?);
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not a PEM file", path.display()))?;
    PrivateKey::from_pem(text)
        .with_context(|| format!("{}: not a usable private key", path.display()))
}

/// Every public key in the given files (PEM keys or certificates, JWK, JWKS).
pub fn public_keys(paths: &[PathBuf]) -> Result<Vec<NamedKey>> {
    let mut keys = Vec::new();
    for p in paths {
        let found = read_public_keys(&read_key_file(p)?)
            .with_context(|| format!("{}: no public key", p.display()))?;
        keys.extend(found);
    }
    Ok(keys)
}

/// Service keys from `--ts-key` files and `--trust-store` directories.
pub fn service_keys(files: &[PathBuf], stores: &[PathBuf]) -> Result<Vec<NamedKey>> {
    let mut keys = public_keys(files)?;
    for dir in stores {
        let found = modelseal::core::verify::read_trust_store(dir)
            .with_context(|| format!("{}: cannot read the trust store", dir.display()))?;
        keys.extend(found.into_iter().flat_map(|(_, k)| k));
    }
    Ok(keys)
}

/// DER certificates from PEM (any number of CERTIFICATE blocks) or a single DER file.
/// The x5chain to sign with: the certificates of `path` (PEM, leaf first), whose leaf must be
/// the certificate of `key` (a chain for another key would make every verifier refuse later).
pub fn x5chain_for(path: Option<&Path>, key: &PrivateKey) -> Result<Vec<Vec<u8>>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let chain = certificates(&[path.to_path_buf()])?;
    let leaf = modelseal::core::crypto::PublicKey::from_certificate_der(&chain[0])
        .with_context(|| format!("{}: the first certificate", path.display()))?;
    if leaf != key.public_key() {
        bail!(
            "{}: the x5chain's first certificate is not for the signing key",
            path.display()
        );
    }
    Ok(chain)
}

pub fn certificates(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut certs = Vec::new();
    for p in paths {
        let found = modelseal::core::x509::read_certificates(&read_key_file(p)?)
            .with_context(|| format!("{}: no certificate", p.display()))?;
        certs.extend(found);
    }
    Ok(certs)
}

/// `--ts SERVICE` values: `local:DIR` or an http(s) URL.
pub fn services(names: &[String]) -> Result<Vec<modelseal::flows::Service>> {
    Ok(names.iter().map(|n| n.parse()).collect::<Result<_, _>>()?)
}

/// Pinned transparency-service keys from `--ts-key` files.
pub fn pinned_service_keys(paths: &[PathBuf]) -> Result<Vec<modelseal::core::crypto::PublicKey>> {
    Ok(public_keys(paths)?.into_iter().map(|k| k.key).collect())
}
