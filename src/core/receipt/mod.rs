//! COSE Receipts (draft-ietf-cose-merkle-tree-proofs): a transparency service's signature over a
//! Merkle root, with a proof that the statement is a leaf under it. Each profile turns its proof
//! into a root; the signature check over that root is shared.
//!
//! Profiles: RFC 9162 (vds 1), CCF (vds 2, Azure's transparency service), MMR (vds 3, DataTrails).

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Profile {
    Rfc9162,
    Ccf,
    Mmr,
}

impl Profile {
    pub fn vds(self) -> i64 {
        match self {
            Profile::Rfc9162 => 1,
            Profile::Ccf => 2,
            Profile::Mmr => 3,
        }
    }

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

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a receipt: {0}")]
    Cose(#[from] CoseError),
    #[error("no vds (395) in the protected header: not a COSE receipt")]
    NoVds,
    #[error("unknown verifiable data structure vds={0} (1 RFC 9162, 2 CCF, 3 MMR are known)")]
    UnknownVds(i64),
    #[error("the receipt's payload is attached; a receipt signs a Merkle root it leaves out")]
    AttachedPayload,
    #[error("no inclusion proof (396 / -1) in the unprotected header")]
    NoInclusionProof,
    #[error("{0} inclusion proofs; at most {MAX_PROOFS} are accepted")]
    TooManyProofs(usize),
    #[error("{profile} inclusion proof is malformed: {reason}")]
    MalformedProof { profile: Profile, reason: String },
    #[error("{profile} inclusion proof: {source}")]
    Merkle {
        profile: Profile,
        source: merkle::MerkleError,
    },
    #[error(
        "CCF data hash {found} is not the statement's hash {expected}: the receipt is for another statement"
    )]
    CcfDataHash { expected: String, found: String },
    #[error(
        "MMR leaf digest {found} (-259) is not the one recomputed from the statement, {expected}: the receipt is for another statement"
    )]
    MmrLeafDigest { expected: String, found: String },
    #[error(
        "{profile} signature does not verify over the root recomputed from the statement and proof ({source})"
    )]
    Signature { profile: Profile, source: CoseError },
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

#[derive(Debug, Clone)]
pub struct Receipt {
    sign1: Sign1,
    profile: Profile,
    claims: CwtClaims,
    proofs: Vec<Value>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedReceipt {
    pub profile: Profile,
    pub root: Vec<u8>,
    pub tree_size: Option<u64>,
    pub leaf_index: Option<u64>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub issued_at: Option<i64>,
}

impl Receipt {
    pub fn parse(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
        let sign1 = Sign1::parse(bytes)?;
        let vds = sign1
            .protected_param(label::VDS)
            .ok_or(ReceiptError::NoVds)?;
        let profile = Profile::from_vds(cose::value_as_i64(vds).ok_or(ReceiptError::NoVds)?)?;
        if sign1.payload().is_some() {
            return Err(ReceiptError::AttachedPayload);
        }
        sign1.algorithm()?;
        let claims = sign1.claims()?;
        let proofs = match sign1.unprotected_param(label::VDP) {
            Some(Value::Map(vdp)) => match vdp
                .iter()
                .find(|(k, _)| cose::value_as_i64(k) == Some(label::VDP_INCLUSION))
            {
                Some((_, Value::Array(items))) => items.clone(),
                Some(_) => {
                    return Err(malformed(profile, "inclusion proofs (-1) are not an array"));
                }
                None => return Err(ReceiptError::NoInclusionProof),
            },
            Some(_) => return Err(malformed(profile, "vdp (396) is not a map")),
            None => return Err(ReceiptError::NoInclusionProof),
        };
        if proofs.is_empty() {
            return Err(ReceiptError::NoInclusionProof);
        }
        if proofs.len() > MAX_PROOFS {
            return Err(ReceiptError::TooManyProofs(proofs.len()));
        }
        Ok(Receipt {
            sign1,
            profile,
            claims,
            proofs,
        })
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }
    pub fn issuer(&self) -> Option<&str> {
        self.claims.iss.as_deref()
    }
    pub fn subject(&self) -> Option<&str> {
        self.claims.sub.as_deref()
    }
    pub fn issued_at(&self) -> Option<i64> {
        self.claims.iat
    }
    pub fn kid(&self) -> Option<&[u8]> {
        self.sign1.kid()
    }
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

/// A proof element is a byte string holding CBOR (the drafts' `bstr .cbor`); DataTrails writes
/// the MMR proof as a plain map. Either way, give back the decoded item.
pub(crate) fn unwrap_proof(profile: Profile, proof: &Value) -> Result<Value, ReceiptError> {
    match proof {
        Value::Bytes(b) => {
            cose::check_depth(b).map_err(|e| malformed(profile, e.to_string()))?;
            ciborium::from_reader(b.as_slice())
                .map_err(|e| malformed(profile, format!("not CBOR: {e}")))
        }
        other => Ok(other.clone()),
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
