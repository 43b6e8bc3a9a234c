//! The hashing engine through the library API: what a model server calls.

use modelseal::core::manifest::{
    HashAlgorithm, HashConfig, ManifestError, NoProgress, Progress, Serialization, hash_model,
};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

/// Changes the file under hashing after the first block has been read.
struct Saboteur {
    file: PathBuf,
    grow: bool,
    once: Once,
}

impl Progress for Saboteur {
    fn advance(&self, _bytes: u64) {
        self.once.call_once(|| {
            let f = OpenOptions::new().append(true).open(&self.file).unwrap();
            if self.grow {
                (&f).write_all(&[1; 4096]).unwrap();
            } else {
                f.set_len(10).unwrap();
            }
        });
    }
}

fn big_model() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("weights.bin");
    fs::write(&file, vec![7u8; 5 << 20]).unwrap();
    (dir, file)
}

#[test]
fn file_that_grows_while_hashed_is_an_error() {
    let (dir, file) = big_model();
    let spy = Saboteur {
        file: file.clone(),
        grow: true,
        once: Once::new(),
    };
    let err = hash_model(dir.path(), &HashConfig::default(), &spy).unwrap_err();
    assert!(
        matches!(err, ManifestError::ChangedWhileHashing { ref path, .. } if path == &file),
        "{err}"
    );
    assert!(err.to_string().contains("weights.bin"));
}

#[test]
fn file_that_shrinks_while_hashed_is_an_error() {
    let (dir, file) = big_model();
    let spy = Saboteur {
        file,
        grow: false,
        once: Once::new(),
    };
    let config = HashConfig {
        serialization: Serialization::Shards {
            shard_size: 3 << 20,
        },
        ..HashConfig::default()
    };
    let err = hash_model(dir.path(), &config, &spy).unwrap_err();
    assert!(
        matches!(err, ManifestError::ChangedWhileHashing { .. }),
        "{err}"
    );
}

#[test]
fn shards_and_files_agree_on_content_and_differ_in_form() {
    let (dir, _file) = big_model();
    let files = hash_model(dir.path(), &HashConfig::default(), &NoProgress).unwrap();
    let shards = hash_model(
        dir.path(),
        &HashConfig {
            serialization: Serialization::Shards {
                shard_size: 2 << 20,
            },
            ..HashConfig::default()
        },
        &NoProgress,
    )
    .unwrap();
    let names: Vec<&str> = shards.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "weights.bin:0:2097152",
            "weights.bin:2097152:4194304",
            "weights.bin:4194304:5242880"
        ]
    );
    assert_eq!(files.resources.len(), 1);
    assert_ne!(
        files.computed_subject_digest(),
        shards.computed_subject_digest()
    );
}

#[test]
fn blake3_shards_fall_back_to_files_like_the_peer() {
    let (dir, _file) = big_model();
    let config = HashConfig {
        algorithm: HashAlgorithm::Blake3,
        serialization: Serialization::Shards {
            shard_size: 1 << 20,
        },
        ..HashConfig::default()
    };
    let m = hash_model(dir.path(), &config, &NoProgress).unwrap();
    assert_eq!(m.serialization.method, Serialization::Files);
    assert_eq!(m.resources[0].algorithm, "blake3");
}

#[test]
fn progress_counts_every_byte_once() {
    use std::sync::atomic::{AtomicU64, Ordering};
    struct Count(AtomicU64, AtomicU64);
    impl Progress for Count {
        fn start(&self, total: u64) {
            self.0.store(total, Ordering::SeqCst);
        }
        fn advance(&self, n: u64) {
            self.1.fetch_add(n, Ordering::SeqCst);
        }
    }
    let (dir, _file) = big_model();
    fs::write(dir.path().join("small"), b"abc").unwrap();
    let count = Count(AtomicU64::new(0), AtomicU64::new(0));
    hash_model(dir.path(), &HashConfig::default(), &count).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), (5 << 20) + 3);
    assert_eq!(count.1.load(Ordering::SeqCst), (5 << 20) + 3);
}

#[test]
fn blake3_of_a_large_file_read_ahead_equals_the_plain_digest() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..(21u32 << 20) + 5)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(dir.path().join("big.bin"), &data).unwrap();
    let config = HashConfig {
        algorithm: HashAlgorithm::Blake3,
        ..HashConfig::default()
    };
    let m = hash_model(dir.path(), &config, &NoProgress).unwrap();
    assert_eq!(
        m.resources[0].digest,
        blake3::hash(&data).as_bytes().to_vec()
    );
}

#[test]
fn blake3_read_ahead_notices_a_file_that_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    fs::write(&file, vec![3u8; 30 << 20]).unwrap();
    let spy = Saboteur {
        file,
        grow: false,
        once: Once::new(),
    };
    let config = HashConfig {
        algorithm: HashAlgorithm::Blake3,
        ..HashConfig::default()
    };
    let err = hash_model(dir.path(), &config, &spy).unwrap_err();
    assert!(
        matches!(err, ManifestError::ChangedWhileHashing { .. }),
        "{err}"
    );
}
