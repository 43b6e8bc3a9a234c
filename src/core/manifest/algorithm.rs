//! The three hash functions model-signing offers, under the names it writes into manifests.

use blake2::Blake2b512;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// A hash function model-signing offers for resources (`hash_type` in its manifests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum HashAlgorithm {
    /// SHA-256 (32 bytes), model-signing's default.
    #[default]
    Sha256,
    /// BLAKE2b with its full 64-byte output, as Python's `hashlib.blake2b()`.
    Blake2b,
    /// BLAKE3 with its default 32-byte output (no sharding: see
    /// [`HashConfig::effective_serialization`](super::HashConfig::effective_serialization)).
    Blake3,
}

impl HashAlgorithm {
    /// Every algorithm, in the order help texts list them.
    pub const ALL: [HashAlgorithm; 3] = [Self::Sha256, Self::Blake2b, Self::Blake3];

    /// The `hash_type` / `algorithm` string model-signing writes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Blake2b => "blake2b",
            Self::Blake3 => "blake3",
        }
    }

    /// The digest length in bytes: 32 (SHA-256, BLAKE3) or 64 (BLAKE2b).
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Blake3 => 32,
            Self::Blake2b => 64,
        }
    }

    /// A fresh incremental hasher for this algorithm.
    pub fn hasher(self) -> StreamHasher {
        match self {
            Self::Sha256 => StreamHasher::Sha256(Sha256::new()),
            Self::Blake2b => StreamHasher::Blake2b(Box::new(Blake2b512::new())),
            Self::Blake3 => StreamHasher::Blake3(Box::new(blake3::Hasher::new())),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sha256" => Ok(Self::Sha256),
            // model-signing's API calls it "blake2" but records "blake2b".
            "blake2b" | "blake2" => Ok(Self::Blake2b),
            "blake3" => Ok(Self::Blake3),
            other => Err(format!(
                "unknown hash algorithm `{other}` (expected sha256, blake2b or blake3)"
            )),
        }
    }
}

/// An incremental hash of one file or shard.
pub enum StreamHasher {
    /// SHA-256 state.
    Sha256(Sha256),
    /// BLAKE2b-512 state.
    Blake2b(Box<Blake2b512>),
    /// BLAKE3 state.
    Blake3(Box<blake3::Hasher>),
}

impl StreamHasher {
    /// BLAKE3 spreads one large buffer over all cores; the others are inherently sequential.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Blake2b(h) => h.update(data),
            Self::Blake3(h) if data.len() >= BLAKE3_PARALLEL_MIN => {
                h.update_rayon(data);
            }
            Self::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The digest of everything passed to [`update`](Self::update): [`HashAlgorithm::digest_len`]
    /// bytes.
    pub fn finalize(self) -> Vec<u8> {
        match self {
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Blake2b(h) => h.finalize().to_vec(),
            Self::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// Streams `reader` through `algorithm`, handing each block to `sink` as it passes (to write it
/// somewhere, or count it): the one read-and-hash loop for files, blobs and downloads. Returns
/// the digest and the number of bytes. Read errors go through `read_error`, so that a caller can
/// name the file it was reading, apart from the one `sink` writes.
pub fn hash_stream<E>(
    algorithm: HashAlgorithm,
    mut reader: impl std::io::Read,
    mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    read_error: impl Fn(std::io::Error) -> E,
) -> Result<(Vec<u8>, u64), E> {
    let mut hasher = algorithm.hasher();
    let mut size = 0u64;
    let mut buf = vec![0u8; STREAM_BLOCK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        hasher.update(&buf[..n]);
        sink(&buf[..n])?;
        size += n as u64;
    }
    Ok((hasher.finalize(), size))
}

/// The block [`hash_stream`] reads at a time.
const STREAM_BLOCK: usize = 1 << 20;

/// Below this, splitting a BLAKE3 update across threads costs more than it saves (the blake3
/// crate's own guidance is "at least 128 KiB").
const BLAKE3_PARALLEL_MIN: usize = 128 * 1024;

/// SHA-256 of `data`, as raw bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(alg: HashAlgorithm, data: &[u8]) -> String {
        let mut h = alg.hasher();
        h.update(data);
        hex::encode(h.finalize())
    }

    #[test]
    fn digests_match_known_answers() {
        assert_eq!(
            hex_of(HashAlgorithm::Sha256, b"hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        // Python: hashlib.blake2b(b"").hexdigest()
        assert!(hex_of(HashAlgorithm::Blake2b, b"").starts_with("786a02f742015903"));
        assert_eq!(
            hex_of(HashAlgorithm::Blake3, b""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn parallel_blake3_equals_sequential() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut seq = blake3::Hasher::new();
        seq.update(&data);
        assert_eq!(
            hex_of(HashAlgorithm::Blake3, &data),
            hex::encode(seq.finalize().as_bytes())
        );
    }

    #[test]
    fn accepts_model_signing_api_name_for_blake2() {
        assert_eq!(
            "blake2".parse::<HashAlgorithm>().unwrap(),
            HashAlgorithm::Blake2b
        );
        assert!("md5".parse::<HashAlgorithm>().is_err());
    }
}
