//! COSE Receipts (draft-ietf-cose-merkle-tree-proofs): a transparency service's signature over a
//! Merkle root, with a proof that the statement is a leaf under it. Each profile turns its proof
//! into a root; the signature check over that root is shared.
//!
//! Profiles: RFC 9162 (vds 1), CCF (vds 2, Azure's transparency service), MMR (vds 3, DataTrails).
//!
//! A receipt from modelseal's own log (`transparency::TransparencyLog`, feature `log`)
//! verifies with the log's public key for the statement it was issued for:
//!
//! ```
//! use modelseal::core::cose::Sign1;
//! use modelseal::core::crypto::{Algorithm, PrivateKey};
//! use modelseal::core::receipt::{Profile, Receipt};
//! use modelseal::core::signed_statement::{StatementSpec, sign_statement};
//! use modelseal::transparency::TransparencyLog;
//! use modelseal::transparency::registration::RegistrationPolicy;
//!
//! let dir = tempfile::tempdir()?;
//! let policy = RegistrationPolicy { accept_any_issuer: true, ..RegistrationPolicy::default() };
//! TransparencyLog::init(dir.path(), &policy)?;
//! let log = TransparencyLog::open(dir.path())?;
//!
//! let issuer = PrivateKey::generate(Algorithm::ES256)?;
//! let spec = StatementSpec {
//!     issuer: "https://publisher.example".into(),
//!     subject: "models/demo:v1".into(),
//!     ..StatementSpec::default()
//! };
//! let statement = sign_statement(&issuer, b"manifest", &spec);
//! let index = log.append(&[statement.clone()])?[0];
//!
//! let receipt = Receipt::parse(&log.receipt(index)?)?;
//! let signed = Sign1::parse(&statement)?;
//! let verified = receipt.verify(&signed, &log.public_key())?;
//! assert_eq!(verified.profile, Profile::Rfc9162);
//! assert_eq!((verified.leaf_index, verified.tree_size), (Some(0), Some(1)));
//! assert!(verified.issued_at.is_some()); // the registration time
//!
//! // Another key, or another statement, does not verify.
//! let other_key = PrivateKey::generate(Algorithm::ES256)?.public_key();
//! assert!(receipt.verify(&signed, &other_key).is_err());
//! let other = Sign1::parse(&sign_statement(&issuer, b"another manifest", &spec))?;
//! assert!(receipt.verify(&other, &log.public_key()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ccf;
pub mod merkle;
pub mod mmr;
pub mod rfc9162;

use crate::core::cose::{self, CoseError, CwtClaims, Sign1, label};
use crate::core::crypto::PublicKey;
use ciborium::Value;
use std::fmt;

/// scitt-cose refuses more than 16 proofs per receipt; so do we (a bound on work per receipt).
pub const MAX_PROOFS: usize = 16;
/// No Merkle path is longer than the tree is deep; 64 levels covers 2^64 leaves.
pub const MAX_PATH_LEN: usize = 64;
/// Real receipts are under 1 KiB (the Azure CCF one is 725 bytes, DataTrails' 622); even 16
/// proofs of 64 hashes stay under 40 KiB. A receipt larger than this is refused before decoding.
pub const MAX_RECEIPT_BYTES: usize = 1024 * 1024;

/// A receipt profile: the verifiable data structure (vds, COSE header 395) whose inclusion proof
/// the receipt carries (COSE Receipts draft, IANA "COSE Verifiable Data Structures").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Profile {
    /// `RFC9162_SHA256` (vds 1): an RFC 9162 §2.1 Merkle tree; the proof is `[tree_size,
    /// leaf_index, path]`.
    Rfc9162,
    /// `CCF_LEDGER_SHA256` (vds 2): the Confidential Consortium Framework ledger, as Azure's
    /// transparency service writes it.
    Ccf,
    /// A Merkle Mountain Range (vds 3), as DataTrails writes it; the proof names the leaf's node
    /// index.
    Mmr,
}

impl Profile {
    /// The profile's vds value (header 395): 1, 2 or 3.
    pub fn vds(self) -> i64 {
        match self {
            Profile::Rfc9162 => 1,
            Profile::Ccf => 2,
            Profile::Mmr => 3,
        }
    }

    /// A short name for messages: "RFC 9162", "CCF" or "MMR".
    pub fn name(self) -> &'static str {
        match self {
            Profile::Rfc9162 => "RFC 9162",
            Profile::Ccf => "CCF",
            Profile::Mmr => "MMR",
        }
    }

    fn from_vds(vds: i64) -> Result<Self, ReceiptError> {
        match vds {
            1 => Ok(Profile::Rfc9162),
            2 => Ok(Profile::Ccf),
            3 => Ok(Profile::Mmr),
            other => Err(ReceiptError::UnknownVds(other)),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.vds())
    }
}

/// Why a receipt was not read, or did not verify for a statement under a key.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The bytes are not a well-formed COSE_Sign1, or a header (alg, CWT claims) cannot be read.
    #[error("not a receipt: {0}")]
    Cose(#[from] CoseError),
    /// The input is larger than [`MAX_RECEIPT_BYTES`]; `size` is its length in bytes.
    #[error("{size} bytes is more than the {MAX_RECEIPT_BYTES}-byte limit for a receipt")]
    TooLarge {
        /// The input's length in bytes.
        size: usize,
    },
    /// The COSE_Sign1 lacks CBOR tag 18, which the COSE Receipts draft requires.
    #[error(
        "a receipt must be a tagged COSE_Sign1 (tag 18, COSE Receipts draft); this one is untagged"
    )]
    Untagged,
    /// The protected header has no vds (395), so nothing says how to read the proof.
    #[error("no vds (395) in the protected header: not a COSE receipt")]
    NoVds,
    /// vds (395) is present but not an integer; holds the value as decoded.
    #[error("vds (395) is {0}, not an integer")]
    BadVds(String),
    /// vds (395) names a structure other than 1 (RFC 9162), 2 (CCF) or 3 (MMR).
    #[error("unknown verifiable data structure vds={0} (1 RFC 9162, 2 CCF, 3 MMR are known)")]
    UnknownVds(i64),
    /// `crit` lists a label this verifier does not process for the profile (RFC 9052 §3.1); holds
    /// the label as shown.
    #[error(
        "the protected header marks {0} critical, which this verifier does not process (RFC 9052 §3.1)"
    )]
    UnknownCritical(String),
    /// The payload is present: a receipt's payload is the detached Merkle root, recomputed from the
    /// statement.
    #[error("the receipt's payload is attached; a receipt signs a Merkle root it leaves out")]
    AttachedPayload,
    /// The vdp map (396) has no non-empty inclusion-proof array (-1).
    #[error("no inclusion proof (396 / -1) in the unprotected header")]
    NoInclusionProof,
    /// The vdp map (396) has no non-empty consistency-proof array (-2).
    #[error("no consistency proof (396 / -2) in the unprotected header")]
    NoConsistencyProof,
    /// More than [`MAX_PROOFS`] proofs under one vdp key; holds how many.
    #[error("{0} inclusion proofs; at most {MAX_PROOFS} are accepted")]
    TooManyProofs(usize),
    /// A proof (or the vdp map holding it) does not have the shape `profile` defines: wrong CBOR
    /// types, hashes not 32 bytes, a path longer than [`MAX_PATH_LEN`].
    #[error("{profile} inclusion proof is malformed: {reason}")]
    MalformedProof {
        /// The receipt's profile.
        profile: Profile,
        /// What is wrong with the proof.
        reason: String,
    },
    /// The proof is well-formed but its Merkle arithmetic fails (index outside the tree, path of
    /// the wrong length for the index).
    #[error("{profile} inclusion proof: {source}")]
    Merkle {
        /// The receipt's profile.
        profile: Profile,
        /// The Merkle error.
        source: merkle::MerkleError,
    },
    /// CCF: the proof's `data_hash` is not SHA-256 of the statement as logged (hex `expected` vs
    /// `found`).
    #[error(
        "CCF data hash {found} is not the statement's hash {expected}: the receipt is for another statement"
    )]
    CcfDataHash {
        /// SHA-256 of the statement as logged (unprotected header emptied), hex.
        expected: String,
        /// The proof's data hash, hex.
        found: String,
    },
    /// MMR: the receipt's leaf digest (header -259) is not the one recomputed from the statement
    /// (hex).
    #[error(
        "MMR leaf digest {found} (-259) is not the one recomputed from the statement, {expected}: the receipt is for another statement"
    )]
    MmrLeafDigest {
        /// The leaf digest recomputed from the statement, hex.
        expected: String,
        /// The receipt's leaf digest, hex.
        found: String,
    },
    /// No proof's root verifies the receipt's signature with the given key: the receipt is for
    /// another statement, from another log, or under another key. `source` is the last signature
    /// error.
    #[error(
        "{profile} signature does not verify over the root recomputed from the statement and proof ({source})"
    )]
    Signature {
        /// The receipt's profile.
        profile: Profile,
        /// The last signature error, over the last proof's root.
        source: CoseError,
    },
}

pub(crate) fn malformed(profile: Profile, reason: impl Into<String>) -> ReceiptError {
    ReceiptError::MalformedProof {
        profile,
        reason: reason.into(),
    }
}

/// A root a proof leads to, with where in the tree the leaf is (where the profile says).
pub(crate) struct ProvenRoot {
    pub root: Vec<u8>,
    pub tree_size: Option<u64>,
    pub leaf_index: Option<u64>,
}

/// A parsed COSE receipt (a COSE_Sign1 with a detached Merkle root): its profile, CWT claims and
/// the still-unread inclusion proofs. Nothing in it is trusted until [`Receipt::verify`] succeeds.
#[derive(Debug, Clone)]
pub struct Receipt {
    sign1: Sign1,
    profile: Profile,
    claims: CwtClaims,
    proofs: Vec<Value>,
}

/// What a receipt proved once its signature verified over the root recomputed from the statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedReceipt {
    /// The receipt's profile (vds).
    pub profile: Profile,
    /// The root the signature verified over: RFC 9162 tree head, CCF root, or the MMR peak.
    pub root: Vec<u8>,
    /// RFC 9162 only; CCF and MMR proofs do not state it.
    pub tree_size: Option<u64>,
    /// RFC 9162: the 0-based leaf index; MMR: the leaf's node index (not its leaf ordinal).
    pub leaf_index: Option<u64>,
    /// CWT claims of the receipt, reported once its signature has verified.
    pub issuer: Option<String>,
    /// CWT `sub` (claim 2) of the receipt.
    pub subject: Option<String>,
    /// CWT `iat` (claim 6) of the receipt, in unix seconds: for modelseal's log, the registration
    /// time.
    pub issued_at: Option<i64>,
}

impl Receipt {
    /// Reads a receipt: a tagged COSE_Sign1 with vds (395) in its protected header, a detached
    /// payload and at most [`MAX_PROOFS`] inclusion proofs (396 / -1). Proof contents are only
    /// read by [`Receipt::verify`], which needs the statement.
    pub fn parse(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
        let (sign1, profile) = read_envelope(bytes)?;
        let claims = sign1.claims()?;
        let proofs = vdp_proofs(&sign1, profile, label::VDP_INCLUSION)?
            .ok_or(ReceiptError::NoInclusionProof)?;
        Ok(Receipt {
            sign1,
            profile,
            claims,
            proofs,
        })
    }

    /// The profile named by the protected vds (395).
    pub fn profile(&self) -> Profile {
        self.profile
    }
    /// CWT `iss` (claim 1 of header 15): the transparency service that issued the receipt, as it
    /// claims before verification.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.iss.as_deref()
    }
    /// CWT `sub` (claim 2 of header 15), unverified.
    pub fn subject(&self) -> Option<&str> {
        self.claims.sub.as_deref()
    }
    /// CWT `iat` (claim 6 of header 15) in unix seconds, unverified: a time only once
    /// [`Receipt::verify`] succeeds under a trusted key.
    pub fn issued_at(&self) -> Option<i64> {
        self.claims.iat
    }
    /// The protected `kid` (header 4): which service key to verify with (CCF: hex SHA-256 of the
    /// SPKI).
    pub fn kid(&self) -> Option<&[u8]> {
        self.sign1.kid()
    }
    /// The receipt as a COSE_Sign1 (headers, signature).
    pub fn sign1(&self) -> &Sign1 {
        &self.sign1
    }

    /// The key the receipt carries itself (CWT `cnf`, as DataTrails' MMR receipts do). It proves
    /// nothing on its own: callers trust it only when it is pinned.
    pub fn embedded_key(&self) -> Option<PublicKey> {
        let Some(Value::Map(cnf)) = &self.claims.cnf else {
            return None;
        };
        let (_, cose_key) = cnf.iter().find(|(k, _)| cose::value_as_i64(k) == Some(1))?;
        cose::public_key_from_cose_key(cose_key).ok()
    }

    /// Recomputes the root from `statement` and each proof, and checks the receipt's signature
    /// over it with `key`. Every proof must be well-formed; one that verifies is enough.
    pub fn verify(
        &self,
        statement: &Sign1,
        key: &PublicKey,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        let roots = self
            .proofs
            .iter()
            .map(|proof| match self.profile {
                Profile::Rfc9162 => rfc9162::proven_root(proof, statement),
                Profile::Ccf => ccf::proven_root(proof, statement),
                Profile::Mmr => mmr::proven_root(proof, self.sign1(), statement),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut last = None;
        for proven in roots {
            match self.sign1.verify_signature(key, Some(&proven.root)) {
                Ok(()) => {
                    return Ok(VerifiedReceipt {
                        profile: self.profile,
                        root: proven.root,
                        tree_size: proven.tree_size,
                        leaf_index: proven.leaf_index,
                        issuer: self.claims.iss.clone(),
                        subject: self.claims.sub.clone(),
                        issued_at: self.claims.iat,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(ReceiptError::Signature {
            profile: self.profile,
            source: last.unwrap_or(CoseError::DetachedPayload),
        })
    }
}

/// The checks every receipt passes before its proofs are read: bounded size, a tagged COSE_Sign1,
/// a known vds in the protected header, a detached payload, a known alg, no unknown crit.
pub(crate) fn read_envelope(bytes: &[u8]) -> Result<(Sign1, Profile), ReceiptError> {
    if bytes.len() > MAX_RECEIPT_BYTES {
        return Err(ReceiptError::TooLarge { size: bytes.len() });
    }
    let sign1 = Sign1::parse(bytes)?;
    if !sign1.is_tagged() {
        return Err(ReceiptError::Untagged);
    }
    // vds only counts from the protected header: in the unprotected one anybody could switch
    // the profile, and with it how the proof is read.
    let vds = sign1
        .protected_param(label::VDS)
        .ok_or(ReceiptError::NoVds)?;
    let vds = cose::value_as_i64(vds).ok_or_else(|| ReceiptError::BadVds(format!("{vds:?}")))?;
    let profile = Profile::from_vds(vds)?;
    // A payload in the message would be signed as given, binding nothing to the statement.
    if sign1.payload().is_some() {
        return Err(ReceiptError::AttachedPayload);
    }
    sign1.algorithm()?;
    check_critical(&sign1, profile)?;
    Ok((sign1, profile))
}

/// The proofs under `kind` (-1 inclusion, -2 consistency) of the vdp map (396), or `None` when
/// there are none. At most [`MAX_PROOFS`]; their contents are left to the profile.
pub(crate) fn vdp_proofs(
    sign1: &Sign1,
    profile: Profile,
    kind: i64,
) -> Result<Option<Vec<Value>>, ReceiptError> {
    let vdp = match sign1.unprotected_param(label::VDP) {
        Some(Value::Map(vdp)) => vdp,
        Some(_) => return Err(malformed(profile, "vdp (396) is not a map")),
        None => return Ok(None),
    };
    let proofs = match vdp
        .iter()
        .find(|(k, _)| cose::value_as_i64(k) == Some(kind))
    {
        Some((_, Value::Array(items))) => items,
        Some(_) => {
            return Err(malformed(
                profile,
                format!("proofs ({kind}) are not an array"),
            ));
        }
        None => return Ok(None),
    };
    if proofs.len() > MAX_PROOFS {
        return Err(ReceiptError::TooManyProofs(proofs.len()));
    }
    Ok(if proofs.is_empty() {
        None
    } else {
        Some(proofs.clone())
    })
}

/// RFC 9052 §3.1: a header parameter marked critical that the verifier does not process makes
/// the message invalid. We process alg, crit, kid, CWT claims and vds; CCF's text-keyed
/// "ccf.v1" map is read by CCF's own verifiers (scitt-cose understands it for vds 2 as well).
fn check_critical(sign1: &Sign1, profile: Profile) -> Result<(), ReceiptError> {
    use coset::RegisteredLabelWithPrivate as L;
    for c in &sign1.protected().crit {
        let understood = match c {
            L::Assigned(a) => [1, 2, 4, label::CWT_CLAIMS, label::VDS].contains(&(*a as i64)),
            // coset keeps only labels below -65536 here (others it does not know, such as 395
            // itself, make it refuse the header outright), and we process none of those.
            L::PrivateUse(_) => false,
            L::Text(t) => profile == Profile::Ccf && t == "ccf.v1",
        };
        if !understood {
            let name = match c {
                L::Assigned(a) => (*a as i64).to_string(),
                L::PrivateUse(i) => i.to_string(),
                L::Text(t) => format!("\"{t}\""),
            };
            return Err(ReceiptError::UnknownCritical(name));
        }
    }
    Ok(())
}

/// How a profile's inclusion proof is carried in the -1 array.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProofForm {
    /// `bstr .cbor proof` only: what the RFC 9162 and CCF profiles define and every producer
    /// writes.
    Wrapped,
    /// Also the proof item itself, unwrapped: DataTrails' MMR receipts carry a plain map.
    WrappedOrBare,
}

/// The decoded inclusion proof. A wrapped one must hold exactly one CBOR item (no trailing
/// bytes, as scitt-cose's strict decoder also requires) and nest no deeper than COSE input may.
pub(crate) fn unwrap_proof(
    profile: Profile,
    proof: &Value,
    form: ProofForm,
) -> Result<Value, ReceiptError> {
    match proof {
        Value::Bytes(b) => {
            cose::check_depth(b).map_err(|e| malformed(profile, e.to_string()))?;
            let mut reader = b.as_slice();
            let value: Value = ciborium::from_reader(&mut reader)
                .map_err(|e| malformed(profile, format!("proof is not CBOR: {e}")))?;
            if !reader.is_empty() {
                return Err(malformed(
                    profile,
                    format!("{} bytes after the proof's CBOR item", reader.len()),
                ));
            }
            Ok(value)
        }
        other if form == ProofForm::WrappedOrBare => Ok(other.clone()),
        _ => Err(malformed(
            profile,
            "an inclusion proof is not a byte string (bstr .cbor)",
        )),
    }
}

pub(crate) fn hash32(profile: Profile, v: &Value, what: &str) -> Result<[u8; 32], ReceiptError> {
    match v {
        Value::Bytes(b) => <[u8; 32]>::try_from(b.as_slice())
            .map_err(|_| malformed(profile, format!("{what} is {} bytes, not 32", b.len()))),
        _ => Err(malformed(profile, format!("{what} is not a byte string"))),
    }
}

pub(crate) fn uint(profile: Profile, v: &Value, what: &str) -> Result<u64, ReceiptError> {
    match v {
        Value::Integer(i) => {
            u64::try_from(*i).map_err(|_| malformed(profile, format!("{what} is negative")))
        }
        _ => Err(malformed(
            profile,
            format!("{what} is not an unsigned integer"),
        )),
    }
}

pub(crate) fn hash_list(
    profile: Profile,
    v: &Value,
    what: &str,
) -> Result<Vec<[u8; 32]>, ReceiptError> {
    let Value::Array(items) = v else {
        return Err(malformed(profile, format!("{what} is not an array")));
    };
    if items.len() > MAX_PATH_LEN {
        return Err(malformed(
            profile,
            format!("{what} has {} hashes (at most {MAX_PATH_LEN})", items.len()),
        ));
    }
    items.iter().map(|h| hash32(profile, h, what)).collect()
}

#[cfg(test)]
mod tests;
