//! A durable, append-only SCITT log on redb: statements (unprotected header emptied) by index,
//! their RFC 9162 leaf hashes, and the service key. An entry is acknowledged only after its
//! transaction commits with immediate durability (fsync); `append` takes a batch, so concurrent
//! registrations share one fsync (group commit). Receipts are RFC 9162 inclusion receipts
//! against the tree at the time they are asked for, issued at (`iat`) the entry's registration
//! time, which is stored with it.
//!
//! Format: tables `entries` (index → statement), `leaves` (index → leaf hash) and, since issue
//! 10, `registered` (index → registration time, unix seconds). A log made before `registered`
//! existed opens unchanged; its older entries have no known registration time, and their
//! receipts carry no `iat` rather than a time that would be wrong (the time of asking).

use super::registration::{IssuerKey, Refusal, RegistrationPolicy};
use crate::core::atomic_file::{write_atomic, write_atomic_private};
use crate::core::clock;
use crate::core::cose::key_thumbprint;
use crate::core::crypto::{Algorithm, PrivateKey, PublicKey};
use crate::core::receipt::merkle::{self, Hash, MerkleCache};
use crate::core::receipt::rfc9162::{self, ReceiptClaims};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const LEAVES: TableDefinition<u64, &[u8]> = TableDefinition::new("leaves");
/// Registration time of each entry (unix seconds): the receipts' `iat`.
const REGISTERED: TableDefinition<u64, i64> = TableDefinition::new("registered");

/// The service's private key in the log directory (PKCS#8 PEM, mode 0600): it signs every receipt.
pub const KEY_FILE: &str = "service.key";
/// The service key file is refused above this size.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// The registration policy file is refused above this size.
const MAX_REGISTRATION_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// The service's public key beside it (SPKI PEM): what verifiers pin as `--ts-key`.
pub const PUBLIC_KEY_FILE: &str = "service.pub";
/// The log's [`RegistrationPolicy`] (JSON): which issuers it admits.
pub const REGISTRATION_FILE: &str = "registration.json";
/// The `iss` its receipts carry (one line of text), when the operator named one with
/// [`TransparencyLog::set_issuer_name`] (`ts init --log-issuer`).
pub const ISSUER_FILE: &str = "issuer";
/// An issuer name is one short line.
const MAX_ISSUER_BYTES: u64 = 1024;
const DB_FILE: &str = "log.redb";

/// Why the log could not be made, opened or read, or refused to append.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing a file of the log directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The redb database failed, or changed on disk under this process.
    #[error("the log database: {0}")]
    Store(String),
    /// Another process holds the log open (a running `ts serve`): only one process may write it.
    #[error(
        "{0}: the log is open in another process (a running `ts serve`?): register with it over HTTP, --ts http://HOST:PORT"
    )]
    Busy(String),
    /// The directory has no service key or database: `ts init` was never run there.
    #[error("{0}: not a transparency log (run `modelseal ts init --dir {0}`)")]
    NotALog(String),
    /// A statement does not meet the registration policy; nothing of the batch was appended.
    /// (Not a `#[source]`: the message already carries the refusal, once.)
    #[error("refused: {0}")]
    Refused(Refusal),
    /// No entry has that index.
    #[error("no entry {0}")]
    NoEntry(u64),
    /// A consistency receipt was asked from a tree size the log never had (0, or beyond it).
    #[error("no tree of size {old_size} to prove consistency from (the log has {size} entries)")]
    NoTree {
        /// The size asked for.
        old_size: u64,
        /// The log's size.
        size: u64,
    },
    /// The service key, or a registered issuer key or `registration.json`, cannot be read.
    #[error("{0}")]
    Key(String),
}

impl From<Refusal> for LogError {
    fn from(r: Refusal) -> Self {
        LogError::Refused(r)
    }
}

fn store<E: std::fmt::Display>(e: E) -> LogError {
    LogError::Store(e.to_string())
}

/// An open log: the database, the service key, and the registration policy it admits by. Safe to
/// share between threads (appends serialise on the in-memory tree).
pub struct TransparencyLog {
    dir: PathBuf,
    db: Database,
    key: PrivateKey,
    kid: Vec<u8>,
    /// The receipts' `iss`: the stored name, else what the server set, else `local:` and the
    /// directory's canonical path.
    issuer: std::sync::RwLock<(String, bool)>,
    policy: RegistrationPolicy,
    issuer_keys: Vec<IssuerKey>,
    /// The tree's complete subtrees in memory (≈64 bytes per entry), rebuilt from the stored
    /// leaf hashes on open: roots and proofs in O(log² n).
    tree: Mutex<MerkleCache>,
    /// Where each leaf already stands (≈40 bytes per entry), rebuilt on open: a statement
    /// registered again gets its first entry back instead of a second one.
    index_of: Mutex<std::collections::HashMap<Hash, u64>>,
}

impl TransparencyLog {
    /// Makes a new log in `dir` (a generated ES256 service key, kept 0600, and its public key
    /// in `service.pub`), with the given registration policy. On an existing log, the key and
    /// entries are kept but `registration.json` is replaced by `policy`.
    pub fn init(dir: &Path, policy: &RegistrationPolicy) -> Result<(), LogError> {
        Self::init_with_key(dir, policy, None)
    }

    /// As [`init`](Self::init), with the service key given (PKCS#8 PEM) instead of generated.
    /// A given key replaces an existing log's key: later receipts are signed with it.
    pub fn init_with_key(
        dir: &Path,
        policy: &RegistrationPolicy,
        key_pem: Option<&str>,
    ) -> Result<(), LogError> {
        let io = |path: &Path, source| LogError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let key_path = dir.join(KEY_FILE);
        if !key_path.exists() || key_pem.is_some() {
            let key = match key_pem {
                Some(pem) => PrivateKey::from_pem(pem).map_err(|e| LogError::Key(e.to_string()))?,
                None => PrivateKey::generate(Algorithm::ES256)
                    .map_err(|e| LogError::Key(e.to_string()))?,
            };
            write_atomic_private(&key_path, key.to_pkcs8_pem().as_bytes())
                .map_err(|e| io(&key_path, e))?;
            let public = dir.join(PUBLIC_KEY_FILE);
            write_atomic(&public, key.public_key().to_spki_pem().as_bytes())
                .map_err(|e| io(&public, e))?;
        }
        let policy_path = dir.join(REGISTRATION_FILE);
        let json = serde_json::to_vec_pretty(policy).expect("policy serialises");
        write_atomic(&policy_path, &json).map_err(|e| io(&policy_path, e))?;
        Database::create(dir.join(DB_FILE)).map_err(store)?;
        Ok(())
    }

    /// Opens the log in `dir`, rebuilding the in-memory tree from its entries.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        let key_path = dir.join(KEY_FILE);
        if !key_path.is_file() || !dir.join(DB_FILE).is_file() {
            return Err(LogError::NotALog(dir.display().to_string()));
        }
        // The log's files are bounded like any input: a key is a few hundred bytes, the
        // registration policy a list of issuer keys and roots.
        let pem = crate::core::input::read_bounded(&key_path, MAX_KEY_FILE_BYTES)
            .and_then(|b| String::from_utf8(b).map_err(std::io::Error::other))
            .map_err(|e| LogError::Io {
                path: key_path.clone(),
                source: e,
            })?;
        let key = PrivateKey::from_pem(&pem)
            .map_err(|e| LogError::Key(format!("{}: {e}", key_path.display())))?;
        // One kid everywhere (receipts, COSE_KeySet, JWKS): the hex text of the key's COSE
        // thumbprint, as CCF uses hex text of its key hash.
        let kid = hex::encode(key_thumbprint(&key.public_key()).unwrap_or_default()).into_bytes();
        let policy_path = dir.join(REGISTRATION_FILE);
        let policy: RegistrationPolicy =
            match crate::core::input::read_bounded(&policy_path, MAX_REGISTRATION_FILE_BYTES) {
                Ok(b) => serde_json::from_slice(&b)
                    .map_err(|e| LogError::Key(format!("{}: {e}", policy_path.display())))?,
                // No policy file: an empty policy, which accepts no one.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => RegistrationPolicy::default(),
                Err(e) => {
                    return Err(LogError::Io {
                        path: policy_path,
                        source: e,
                    });
                }
            };
        let mut issuer_keys = Vec::new();
        for entry in &policy.issuer_keys {
            issuer_keys.extend(entry.load().map_err(LogError::Key)?);
        }
        let db = Database::create(dir.join(DB_FILE)).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => LogError::Busy(dir.display().to_string()),
            e => store(e),
        })?;
        let mut tree = MerkleCache::new();
        let mut index_of = std::collections::HashMap::new();
        {
            let txn = db.begin_read().map_err(store)?;
            match txn.open_table(LEAVES) {
                Ok(table) => {
                    for item in table.iter().map_err(store)? {
                        let (_, v) = item.map_err(store)?;
                        let h: Hash = v
                            .value()
                            .try_into()
                            .map_err(|_| LogError::Store("a leaf hash is not 32 bytes".into()))?;
                        index_of.entry(h).or_insert(tree.len());
                        tree.push(h);
                    }
                }
                Err(redb::TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(store(e)),
            }
        }
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let issuer_path = dir.join(ISSUER_FILE);
        let named = match crate::core::input::read_bounded(&issuer_path, MAX_ISSUER_BYTES) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(LogError::Io {
                    path: issuer_path,
                    source,
                });
            }
        }
        .filter(|n| !n.is_empty());
        let issuer = match named {
            Some(name) => (name, true),
            None => (format!("local:{}", canonical.display()), false),
        };
        Ok(TransparencyLog {
            dir: dir.to_path_buf(),
            db,
            key,
            kid,
            issuer: std::sync::RwLock::new(issuer),
            policy,
            issuer_keys,
            tree: Mutex::new(tree),
            index_of: Mutex::new(index_of),
        })
    }

    /// The log's directory, as given to [`open`](Self::open).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `kid` every receipt carries: the hex text (as bytes) of the service key's COSE
    /// thumbprint (RFC 9679).
    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    /// The registration policy read from `registration.json` (empty, admitting no one, when
    /// absent).
    pub fn policy(&self) -> &RegistrationPolicy {
        &self.policy
    }

    /// The policy's registered issuer keys, loaded.
    pub fn issuer_keys(&self) -> &[IssuerKey] {
        &self.issuer_keys
    }

    /// The service's public key: what its receipts verify with.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The `iss` of its receipts: the name stored with the log, else the URL a server set with
    /// [`serve_as`](Self::serve_as), else `local:` and the directory's canonical path.
    pub fn issuer(&self) -> String {
        self.issuer.read().expect("issuer lock").0.clone()
    }

    /// Names the log for its receipts' `iss` from now on, stored with it (a line in
    /// [`ISSUER_FILE`]): what verifiers see instead of the directory's path.
    pub fn set_issuer_name(dir: &Path, name: &str) -> Result<(), LogError> {
        let name = name.trim();
        if name.is_empty() || name.len() as u64 > MAX_ISSUER_BYTES || name.contains('\n') {
            return Err(LogError::Key(format!(
                "a log issuer is one non-empty line of at most {MAX_ISSUER_BYTES} bytes"
            )));
        }
        let path = dir.join(ISSUER_FILE);
        crate::core::atomic_file::write_atomic(&path, format!("{name}\n").as_bytes())
            .map_err(|source| LogError::Io { path, source })
    }

    /// A server announces the URL it is reached at: receipts then carry it as their `iss`,
    /// unless the log has a stored name (a server's path is not the verifier's business).
    pub fn serve_as(&self, url: &str) {
        let mut issuer = self.issuer.write().expect("issuer lock");
        if !issuer.1 {
            *issuer = (url.to_string(), false);
        }
    }

    /// The number of entries (the current tree size).
    pub fn size(&self) -> u64 {
        self.tree.lock().expect("tree lock").len()
    }

    /// Admits and durably appends statements in one transaction (one fsync for the batch),
    /// registered now (the system clock). Returns their indexes; nothing is appended if any
    /// statement is refused. A statement already in the log (the same leaf: the same statement,
    /// with or without receipts) is not appended again: its first index is returned.
    pub fn append(&self, statements: &[Vec<u8>]) -> Result<Vec<u64>, LogError> {
        self.append_at(statements, clock::now())
    }

    /// As [`append`](Self::append), with the service's clock reading given: statements are
    /// admitted at `now` and recorded as registered at `now`.
    pub fn append_at(&self, statements: &[Vec<u8>], now: i64) -> Result<Vec<u64>, LogError> {
        let mut entries = Vec::with_capacity(statements.len());
        for s in statements {
            let parsed = self.policy.admit_at(s, &self.issuer_keys, now)?;
            let entry = rfc9162::leaf_entry(&parsed);
            let leaf = merkle::leaf_hash(&entry);
            entries.push((entry, leaf));
        }
        let mut tree = self.tree.lock().expect("tree lock");
        let mut index_of = self.index_of.lock().expect("index lock");
        let first = tree.len();
        // Each statement's index: where it already stands, or the next free one (a statement
        // twice in one batch is appended once).
        let mut indexes = Vec::with_capacity(entries.len());
        let mut fresh: Vec<(u64, &[u8], Hash)> = Vec::new();
        let mut batch: std::collections::HashMap<Hash, u64> = std::collections::HashMap::new();
        for (entry, leaf) in &entries {
            let known = index_of.get(leaf).or_else(|| batch.get(leaf)).copied();
            let index = known.unwrap_or_else(|| {
                let index = first + fresh.len() as u64;
                fresh.push((index, entry.as_slice(), *leaf));
                batch.insert(*leaf, index);
                index
            });
            indexes.push(index);
        }
        if fresh.is_empty() {
            return Ok(indexes);
        }
        let txn = self.db.begin_write().map_err(store)?;
        {
            let mut table = txn.open_table(ENTRIES).map_err(store)?;
            let mut leaf_table = txn.open_table(LEAVES).map_err(store)?;
            let mut registered = txn.open_table(REGISTERED).map_err(store)?;
            if table.len().map_err(store)? != first {
                return Err(LogError::Store(
                    "the log on disk changed under this process".into(),
                ));
            }
            for (index, entry, leaf) in &fresh {
                table.insert(*index, *entry).map_err(store)?;
                leaf_table.insert(*index, leaf.as_slice()).map_err(store)?;
                registered.insert(*index, now).map_err(store)?;
            }
        }
        txn.commit().map_err(store)?;
        for (index, _, leaf) in fresh {
            tree.push(leaf);
            index_of.insert(leaf, index);
        }
        Ok(indexes)
    }

    /// The logged statement (unprotected header emptied) at `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let txn = self.db.begin_read().map_err(store)?;
        let table = txn
            .open_table(ENTRIES)
            .map_err(|_| LogError::NoEntry(index))?;
        let value = table
            .get(index)
            .map_err(store)?
            .ok_or(LogError::NoEntry(index))?;
        Ok(value.value().to_vec())
    }

    /// A consistency receipt from the tree of `old_size` to the current tree (RFC 9162 §2.1.4),
    /// signed over the current root: lets a client that saw an older tree head check that the
    /// log only grew.
    pub fn consistency(&self, old_size: u64, now: i64) -> Result<Vec<u8>, LogError> {
        let tree = self.tree.lock().expect("tree lock");
        let size = tree.len();
        if old_size == 0 || old_size > size {
            return Err(LogError::NoTree { old_size, size });
        }
        let proof = tree.consistency_proof(old_size, size);
        let root = tree.root(size);
        let claims = ReceiptClaims {
            issuer: self.issuer(),
            subject: None,
            issued_at: Some(now),
        };
        Ok(rfc9162::issue_consistency_receipt(
            &self.key, &self.kid, &claims, old_size, size, &proof, &root,
        ))
    }

    /// When entry `index` was registered (unix seconds), if the log recorded it (entries of logs
    /// made before registration times were stored have none).
    pub fn registered_at(&self, index: u64) -> Result<Option<i64>, LogError> {
        let txn = self.db.begin_read().map_err(store)?;
        let table = match txn.open_table(REGISTERED) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(store(e)),
        };
        Ok(table.get(index).map_err(store)?.map(|v| v.value()))
    }

    /// An RFC 9162 inclusion receipt for entry `index` against the current tree. Its `iat` is
    /// the entry's registration time — not the time of asking, so a receipt fetched later still
    /// says when the statement was logged; none when the log did not record it.
    pub fn receipt(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let registered = self.registered_at(index)?;
        let tree = self.tree.lock().expect("tree lock");
        let size = tree.len();
        if index >= size {
            return Err(LogError::NoEntry(index));
        }
        let path = tree.inclusion_proof(index, size);
        let root = tree.root(size);
        let claims = ReceiptClaims {
            issuer: self.issuer(),
            subject: None,
            issued_at: registered,
        };
        Ok(rfc9162::issue_inclusion_receipt(
            &self.key, &self.kid, &claims, size, index, &path, &root,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversize_registration_file_is_refused_by_name_before_it_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        TransparencyLog::init(dir.path(), &RegistrationPolicy::default()).unwrap();
        let log = TransparencyLog::open(dir.path()).unwrap();
        // An empty log has no tree to prove consistency from, and says so (not "no entry").
        assert!(matches!(
            log.consistency(1, 0),
            Err(LogError::NoTree {
                old_size: 1,
                size: 0
            })
        ));
        drop(log);
        let policy = dir.path().join(REGISTRATION_FILE);
        let file = std::fs::File::create(&policy).unwrap();
        file.set_len(MAX_REGISTRATION_FILE_BYTES + 1).unwrap();
        let Err(e) = TransparencyLog::open(dir.path()) else {
            panic!("an oversize registration file was accepted");
        };
        let message = e.to_string();
        assert!(message.contains(REGISTRATION_FILE), "{message}");
        assert!(message.contains("limit"), "{message}");
    }
}
