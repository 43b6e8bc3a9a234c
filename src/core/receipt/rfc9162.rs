//! RFC 9162 profile (vds 1): proofs are `bstr .cbor [tree_size, leaf_index, [path...]]`, and we
//! issue receipts in this form for the embedded transparency service.
//!
//! The leaf entry is not standardised for SCITT; ours is the statement as logged: the tagged
//! COSE_Sign1 with its unprotected header emptied (the architecture draft says the log keeps
//! statements that way), so the same statement gets the same leaf with or without receipts.

use super::merkle::{self, Hash};
use super::{Profile, ProvenRoot, ReceiptError, hash_list, malformed, uint, unwrap_proof};
use crate::core::cose::{self, CwtClaims, ProtectedParams, Sign1, label};
use crate::core::crypto::PrivateKey;
use ciborium::Value;

const P: Profile = Profile::Rfc9162;

/// The bytes of a statement that become its RFC 9162 leaf entry.
pub fn leaf_entry(statement: &Sign1) -> Vec<u8> {
    statement.statement_without_unprotected()
}

pub(crate) fn proven_root(proof: &Value, statement: &Sign1) -> Result<ProvenRoot, ReceiptError> {
    let Value::Array(items) = unwrap_proof(P, proof)? else {
        return Err(malformed(P, "proof is not [tree_size, leaf_index, path]"));
    };
    let [size, index, path] = items.as_slice() else {
        return Err(malformed(
            P,
            format!("proof has {} items, not 3", items.len()),
        ));
    };
    let size = uint(P, size, "tree_size")?;
    let index = uint(P, index, "leaf_index")?;
    if size > 1 << 62 {
        return Err(malformed(P, "tree_size beyond 2^62"));
    }
    let path = hash_list(P, path, "inclusion path")?;
    let leaf = merkle::leaf_hash(&leaf_entry(statement));
    let root = merkle::root_from_inclusion_proof(&leaf, index, size, &path)
        .map_err(|source| ReceiptError::Merkle { profile: P, source })?;
    Ok(ProvenRoot {
        root: root.to_vec(),
        tree_size: Some(size),
        leaf_index: Some(index),
    })
}

/// Who issues a receipt: the CWT claims in its protected header.
#[derive(Debug, Clone)]
pub struct ReceiptClaims {
    pub issuer: String,
    pub subject: Option<String>,
    pub issued_at: Option<i64>,
}

fn proof_bstr(items: Vec<Value>) -> Value {
    let mut bytes = Vec::new();
    ciborium::into_writer(&Value::Array(items), &mut bytes)
        .expect("encoding to memory cannot fail");
    Value::Bytes(bytes)
}

fn path_value(path: &[Hash]) -> Value {
    Value::Array(path.iter().map(|h| Value::Bytes(h.to_vec())).collect())
}

/// A vds-1 receipt: protected {alg, kid, CWT claims, vds 1}, unprotected {396: {-1: [proof]}},
/// detached payload = the root. Encoded deterministically (scitt-cose checks strictly).
pub fn issue_inclusion_receipt(
    key: &PrivateKey,
    kid: &[u8],
    claims: &ReceiptClaims,
    tree_size: u64,
    leaf_index: u64,
    path: &[Hash],
    root: &Hash,
) -> Vec<u8> {
    let proof = proof_bstr(vec![
        Value::from(tree_size),
        Value::from(leaf_index),
        path_value(path),
    ]);
    let vdp = Value::Map(vec![(
        Value::from(label::VDP_INCLUSION),
        Value::Array(vec![proof]),
    )]);
    sign_receipt(key, kid, claims, vec![(label::VDP, vdp)], root)
}

/// A vds-1 consistency receipt: proves the tree of `old_size` is a prefix of the tree of
/// `new_size`, whose root it signs.
pub fn issue_consistency_receipt(
    key: &PrivateKey,
    kid: &[u8],
    claims: &ReceiptClaims,
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    new_root: &Hash,
) -> Vec<u8> {
    let proof = proof_bstr(vec![
        Value::from(old_size),
        Value::from(new_size),
        path_value(proof),
    ]);
    let vdp = Value::Map(vec![(
        Value::from(label::VDP_CONSISTENCY),
        Value::Array(vec![proof]),
    )]);
    sign_receipt(key, kid, claims, vec![(label::VDP, vdp)], new_root)
}

fn sign_receipt(
    key: &PrivateKey,
    kid: &[u8],
    claims: &ReceiptClaims,
    unprotected: Vec<(i64, Value)>,
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
    cose::sign1(key, &params, unprotected, root, true)
}

/// Reads a consistency proof `bstr .cbor [old_size, new_size, [path]]` and checks it between
/// `old_root` and the root the receipt signs (`new_root`).
pub fn verify_consistency_proof(
    proof: &Value,
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(u64, u64), ReceiptError> {
    let Value::Array(items) = unwrap_proof(P, proof)? else {
        return Err(malformed(
            P,
            "consistency proof is not [size1, size2, path]",
        ));
    };
    let [old, new, path] = items.as_slice() else {
        return Err(malformed(P, "consistency proof does not have 3 items"));
    };
    let (old, new) = (uint(P, old, "tree_size_1")?, uint(P, new, "tree_size_2")?);
    let path = hash_list(P, path, "consistency path")?;
    merkle::verify_consistency(old, new, old_root, new_root, &path)
        .map_err(|source| ReceiptError::Merkle { profile: P, source })?;
    Ok((old, new))
}
