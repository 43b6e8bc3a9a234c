//! RFC 9162 profile (vds 1): proofs are `bstr .cbor [tree_size, leaf_index, [path...]]`, and we
//! issue receipts in this form for the embedded transparency service. Consistency proofs (vdp
//! -2) are `bstr .cbor [tree_size_1, tree_size_2, [path...]]` and sign the newer root.
//!
//! The leaf entry is not standardised for SCITT (scitt.md §1.5); ours is the statement as
//! logged: the tagged COSE_Sign1 with its unprotected header emptied (the architecture draft's
//! Registration step empties it before the statement enters the log), so the same statement gets
//! the same leaf with or without receipts stapled, and it is the same bytes the CCF profile's
//! data hash covers. The leaf hash is SHA-256(0x00 ‖ entry) (RFC 9162 §2.1.1).

use super::merkle::{self, Hash};
use super::{
    Profile, ProofForm, ProvenRoot, ReceiptError, hash_list, malformed, read_envelope, uint,
    unwrap_proof, vdp_proofs,
};
use crate::core::cose::{self, CoseError, CwtClaims, ProtectedParams, Sign1, label};
use crate::core::crypto::{PrivateKey, PublicKey};
use ciborium::Value;

const P: Profile = Profile::Rfc9162;

/// The largest tree a proof may claim: scitt-cose's bound (2^62), far past any real log, and it
/// keeps the depth arithmetic away from u64 overflow.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// The bytes of a statement that become its RFC 9162 leaf entry.
pub fn leaf_entry(statement: &Sign1) -> Vec<u8> {
    statement.statement_without_unprotected()
}

/// An inclusion proof as the profile carries it: `[tree_size, leaf_index, [path...]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The size of the tree whose root the receipt signs (at most 2^62).
    pub tree_size: u64,
    /// The statement's 0-based index in that tree.
    pub leaf_index: u64,
    /// Siblings from the leaf up (RFC 9162 §2.1.3.1).
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// The `bstr .cbor` content: deterministic CBOR (minimal lengths, definite arrays).
    pub fn to_cbor(&self) -> Vec<u8> {
        encode_triple(self.tree_size, self.leaf_index, &self.path)
    }

    /// Reads one element of the -1 array. Shape and bounds are checked here; whether the path
    /// fits the tree is checked when the root is recomputed.
    pub fn from_value(proof: &Value) -> Result<Self, ReceiptError> {
        let (tree_size, leaf_index, path) = decode_triple(
            proof,
            ["tree_size", "leaf_index", "inclusion path"],
            "inclusion proof is not [tree_size, leaf_index, [path]]",
        )?;
        if tree_size > MAX_TREE_SIZE {
            return Err(malformed(
                P,
                format!("tree_size {tree_size} is beyond 2^62"),
            ));
        }
        Ok(InclusionProof {
            tree_size,
            leaf_index,
            path,
        })
    }
}

/// A consistency proof as the profile carries it: `[tree_size_1, tree_size_2, [path...]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// `tree_size_1`: the size of the tree the verifier already trusts (at least 1).
    pub old_size: u64,
    /// `tree_size_2`: the size of the signed tree (at most 2^62).
    pub new_size: u64,
    /// `PROOF(old_size, D[new_size])` (RFC 9162 §2.1.4.1).
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// The `bstr .cbor` content: deterministic CBOR (minimal lengths, definite arrays).
    pub fn to_cbor(&self) -> Vec<u8> {
        encode_triple(self.old_size, self.new_size, &self.path)
    }

    /// Reads one element of the -2 array.
    pub fn from_value(proof: &Value) -> Result<Self, ReceiptError> {
        let (old_size, new_size, path) = decode_triple(
            proof,
            ["tree_size_1", "tree_size_2", "consistency path"],
            "consistency proof is not [tree_size_1, tree_size_2, [path]]",
        )?;
        if new_size > MAX_TREE_SIZE {
            return Err(malformed(
                P,
                format!("tree_size_2 {new_size} is beyond 2^62"),
            ));
        }
        Ok(ConsistencyProof {
            old_size,
            new_size,
            path,
        })
    }

    /// The new tree's root, once the proof has led back to `old_root` (RFC 9162 §2.1.4.2).
    pub fn new_root(&self, old_root: &Hash) -> Result<Hash, ReceiptError> {
        merkle::root_from_consistency_proof(self.old_size, self.new_size, old_root, &self.path)
            .map_err(|source| ReceiptError::Merkle { profile: P, source })
    }
}

fn encode_triple(a: u64, b: u64, path: &[Hash]) -> Vec<u8> {
    let path = Value::Array(path.iter().map(|h| Value::Bytes(h.to_vec())).collect());
    let mut bytes = Vec::new();
    // ciborium writes definite lengths and the shortest integer heads, which is what RFC 8949
    // §4.2.1 deterministic encoding asks and what scitt-cose's strict decoder checks.
    ciborium::into_writer(
        &Value::Array(vec![Value::from(a), Value::from(b), path]),
        &mut bytes,
    )
    .expect("encoding CBOR to memory cannot fail");
    bytes
}

fn decode_triple(
    proof: &Value,
    names: [&str; 3],
    shape: &str,
) -> Result<(u64, u64, Vec<Hash>), ReceiptError> {
    let Value::Array(items) = unwrap_proof(P, proof, ProofForm::Wrapped)? else {
        return Err(malformed(P, shape));
    };
    let [a, b, path] = items.as_slice() else {
        return Err(malformed(
            P,
            format!("{shape}: it has {} items", items.len()),
        ));
    };
    Ok((
        uint(P, a, names[0])?,
        uint(P, b, names[1])?,
        hash_list(P, path, names[2])?,
    ))
}

pub(crate) fn proven_root(proof: &Value, statement: &Sign1) -> Result<ProvenRoot, ReceiptError> {
    let proof = InclusionProof::from_value(proof)?;
    let leaf = merkle::leaf_hash(&leaf_entry(statement));
    // Checks leaf_index < tree_size and that the path is exactly as long as the leaf is deep
    // before hashing, so a padded or truncated path is refused rather than hashed.
    let root =
        merkle::root_from_inclusion_proof(&leaf, proof.leaf_index, proof.tree_size, &proof.path)
            .map_err(|source| ReceiptError::Merkle { profile: P, source })?;
    Ok(ProvenRoot {
        root: root.to_vec(),
        tree_size: Some(proof.tree_size),
        leaf_index: Some(proof.leaf_index),
    })
}

/// Who issues a receipt: the CWT claims in its protected header.
#[derive(Debug, Clone)]
pub struct ReceiptClaims {
    /// CWT `iss` (claim 1): the service's name.
    pub issuer: String,
    /// CWT `sub` (claim 2), when the receipt carries one.
    pub subject: Option<String>,
    /// CWT `iat` (claim 6), unix seconds: for modelseal's log, the entry's registration time.
    pub issued_at: Option<i64>,
}

/// A vds-1 receipt: protected `{1: alg, 4: kid, 15: {1: iss, 2: sub?, 6: iat?}, 395: 1}`,
/// unprotected `{396: {-1: [bstr .cbor [tree_size, leaf_index, [path]]]}}`, payload nil with the
/// root signed as the detached payload. Deterministic CBOR and raw r‖s ECDSA signatures
/// (scitt-cose rejects anything else).
pub fn issue_inclusion_receipt(
    key: &PrivateKey,
    kid: &[u8],
    claims: &ReceiptClaims,
    tree_size: u64,
    leaf_index: u64,
    path: &[Hash],
    root: &Hash,
) -> Vec<u8> {
    let proof = InclusionProof {
        tree_size,
        leaf_index,
        path: path.to_vec(),
    };
    sign_receipt(
        key,
        kid,
        claims,
        label::VDP_INCLUSION,
        proof.to_cbor(),
        root,
    )
}

/// A vds-1 consistency receipt: proves the tree of `old_size` is a prefix of the tree of
/// `new_size`, whose root it signs (detached).
pub fn issue_consistency_receipt(
    key: &PrivateKey,
    kid: &[u8],
    claims: &ReceiptClaims,
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    new_root: &Hash,
) -> Vec<u8> {
    let proof = ConsistencyProof {
        old_size,
        new_size,
        path: proof.to_vec(),
    };
    sign_receipt(
        key,
        kid,
        claims,
        label::VDP_CONSISTENCY,
        proof.to_cbor(),
        new_root,
    )
}

fn sign_receipt(
    key: &PrivateKey,
    kid: &[u8],
    claims: &ReceiptClaims,
    kind: i64,
    proof: Vec<u8>,
    root: &Hash,
) -> Vec<u8> {
    let params = ProtectedParams {
        kid: Some(kid.to_vec()),
        claims: Some(CwtClaims {
            iss: Some(claims.issuer.clone()),
            sub: claims.subject.clone(),
            iat: claims.issued_at,
            ..CwtClaims::default()
        }),
        extra: vec![(label::VDS, Value::from(P.vds()))],
        ..ProtectedParams::default()
    };
    let vdp = Value::Map(vec![(
        Value::from(kind),
        Value::Array(vec![Value::Bytes(proof)]),
    )]);
    cose::sign1(key, &params, vec![(label::VDP, vdp)], root, true)
}

/// Reads a consistency proof `bstr .cbor [old_size, new_size, [path]]` and checks it between
/// `old_root` and the root the receipt signs (`new_root`).
pub fn verify_consistency_proof(
    proof: &Value,
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(u64, u64), ReceiptError> {
    let proof = ConsistencyProof::from_value(proof)?;
    merkle::verify_consistency(
        proof.old_size,
        proof.new_size,
        old_root,
        new_root,
        &proof.path,
    )
    .map_err(|source| ReceiptError::Merkle { profile: P, source })?;
    Ok((proof.old_size, proof.new_size))
}

/// What a verified consistency receipt establishes: the tree the verifier already trusted
/// (`old_size`, with the root it passed in) is a prefix of the signed tree (`new_size`,
/// `new_root`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedConsistency {
    /// The size of the tree the caller trusted, whose root it passed in.
    pub old_size: u64,
    /// The size of the signed tree.
    pub new_size: u64,
    /// The signed tree's root, recomputed from the old root and the proof.
    pub new_root: Hash,
    /// The receipt's CWT `iss`.
    pub issuer: Option<String>,
    /// The receipt's CWT `iat`, unix seconds.
    pub issued_at: Option<i64>,
}

/// Checks a vds-1 consistency receipt against a root the caller already holds: the new root is
/// recomputed from `old_root` and the proof (it is detached), then the signature is checked over
/// it with `key`. As for inclusion, every proof must be well-formed and one that verifies is
/// enough. Moving from the empty tree proves nothing, so an `old_size` of 0 is refused.
pub fn verify_consistency_receipt(
    receipt: &[u8],
    old_root: &Hash,
    key: &PublicKey,
) -> Result<VerifiedConsistency, ReceiptError> {
    let (sign1, profile) = read_envelope(receipt)?;
    if profile != P {
        return Err(malformed(
            profile,
            "consistency receipts are read for RFC 9162 (vds 1) only",
        ));
    }
    let proofs = vdp_proofs(&sign1, P, label::VDP_CONSISTENCY)?
        .ok_or(ReceiptError::NoConsistencyProof)?
        .iter()
        .map(ConsistencyProof::from_value)
        .collect::<Result<Vec<_>, _>>()?;
    let claims = sign1.claims()?;
    let mut last = CoseError::DetachedPayload;
    for proof in proofs {
        let new_root = proof.new_root(old_root)?;
        match sign1.verify_signature(key, Some(&new_root)) {
            Ok(()) => {
                return Ok(VerifiedConsistency {
                    old_size: proof.old_size,
                    new_size: proof.new_size,
                    new_root,
                    issuer: claims.iss,
                    issued_at: claims.iat,
                });
            }
            Err(e) => last = e,
        }
    }
    Err(ReceiptError::Signature {
        profile: P,
        source: last,
    })
}
