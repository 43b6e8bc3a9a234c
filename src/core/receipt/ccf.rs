//! CCF profile (vds 2; draft-ietf-scitt-receipts-ccf-profile), as Azure's transparency service
//! writes it. Proof = {1: leaf, 2: path}; leaf = [internal tx hash, internal evidence, data hash];
//! path = [[left?, sibling]...]. The data hash is SHA-256 of the statement as logged (unprotected
//! header emptied) — what binds the receipt to this statement. Unlike RFC 9162, neither the leaf
//! nor the interior nodes carry a domain-separation prefix (the profile draft, §2.3 of scitt.md).

use super::{Profile, ProofForm, ProvenRoot, ReceiptError, hash32, malformed, unwrap_proof};
use crate::core::cose::{Sign1, value_as_i64};
use ciborium::Value;
use sha2::{Digest, Sha256};

const P: Profile = Profile::Ccf;
const MAX_EVIDENCE_LEN: usize = 1024;

pub(crate) fn proven_root(proof: &Value, statement: &Sign1) -> Result<ProvenRoot, ReceiptError> {
    let Value::Map(entries) = unwrap_proof(P, proof, ProofForm::Wrapped)? else {
        return Err(malformed(P, "proof is not a map"));
    };
    let get = |k: i64| {
        entries
            .iter()
            .find(|(key, _)| value_as_i64(key) == Some(k))
            .map(|(_, v)| v)
    };
    let Some(Value::Array(leaf)) = get(1) else {
        return Err(malformed(P, "no leaf (1)"));
    };
    let [tx_hash, evidence, data_hash] = leaf.as_slice() else {
        return Err(malformed(
            P,
            format!("leaf has {} items, not 3", leaf.len()),
        ));
    };
    let tx_hash = hash32(P, tx_hash, "internal transaction hash")?;
    let Value::Text(evidence) = evidence else {
        return Err(malformed(P, "internal evidence is not text"));
    };
    // The profile's CDDL: internal-evidence = tstr .size (1..1024). CCF's is "ce:<txid>:<hex>".
    if !(1..=MAX_EVIDENCE_LEN).contains(&evidence.len()) {
        return Err(malformed(
            P,
            format!(
                "internal evidence is {} bytes (1 to {MAX_EVIDENCE_LEN})",
                evidence.len()
            ),
        ));
    }
    let data_hash = hash32(P, data_hash, "data hash")?;
    let expected: [u8; 32] = Sha256::digest(statement.statement_without_unprotected()).into();
    if data_hash != expected {
        return Err(ReceiptError::CcfDataHash {
            expected: hex::encode(expected),
            found: hex::encode(data_hash),
        });
    }
    let Some(Value::Array(path)) = get(2) else {
        return Err(malformed(P, "no path (2)"));
    };
    if path.len() > super::MAX_PATH_LEN {
        return Err(malformed(P, format!("path has {} steps", path.len())));
    }
    let mut node: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(tx_hash);
        h.update(Sha256::digest(evidence.as_bytes()));
        h.update(data_hash);
        h.finalize().into()
    };
    for step in path {
        let Value::Array(pair) = step else {
            return Err(malformed(P, "path step is not an array"));
        };
        let [Value::Bool(left), sibling] = pair.as_slice() else {
            return Err(malformed(P, "path step is not [bool, hash]"));
        };
        let sibling = hash32(P, sibling, "path hash")?;
        let mut h = Sha256::new();
        if *left {
            h.update(sibling);
            h.update(node);
        } else {
            h.update(node);
            h.update(sibling);
        }
        node = h.finalize().into();
    }
    Ok(ProvenRoot {
        root: node.to_vec(),
        tree_size: None,
        leaf_index: None,
    })
}
