//! MMR profile (vds 3; draft-bryce-cose-receipts-mmr-profile), as DataTrails' log writes it.
//!
//! The real receipt's proof is a plain map {1: mmr index, 2: [siblings]} (not the draft's
//! bstr-wrapped form); both are read. The leaf is DataTrails' own: SHA-256(0x00 ‖ first 24 bytes
//! of the statement's sub ‖ idtimestamp (-260, 8 bytes BE) ‖ the statement as logged), and the
//! receipt restates it in -259. Interior nodes: SHA-256(parent position as u64 BE ‖ left ‖ right).

use super::{Profile, ProvenRoot, ReceiptError, hash_list, malformed, uint, unwrap_proof};
use crate::core::cose::{Sign1, value_as_i64};
use ciborium::Value;
use sha2::{Digest, Sha256};

const P: Profile = Profile::Mmr;
/// Unprotected header labels of DataTrails' receipts.
const LEAF_DIGEST: i64 = -259;
const ID_TIMESTAMP: i64 = -260;
/// How much of the statement's `sub` goes into the leaf.
const SUBJECT_PREFIX: usize = 24;

pub(crate) fn proven_root(
    proof: &Value,
    receipt: &Sign1,
    statement: &Sign1,
) -> Result<ProvenRoot, ReceiptError> {
    let (index, path) = match unwrap_proof(P, proof)? {
        Value::Map(entries) => {
            let get = |k: i64| {
                entries
                    .iter()
                    .find(|(key, _)| value_as_i64(key) == Some(k))
                    .map(|(_, v)| v)
            };
            let index = uint(
                P,
                get(1).ok_or_else(|| malformed(P, "no index (1)"))?,
                "mmr index",
            )?;
            let path = hash_list(
                P,
                get(2).ok_or_else(|| malformed(P, "no path (2)"))?,
                "path",
            )?;
            (index, path)
        }
        Value::Array(items) if items.len() == 2 => (
            uint(P, &items[0], "mmr index")?,
            hash_list(P, &items[1], "path")?,
        ),
        _ => {
            return Err(malformed(
                P,
                "proof is neither {1: index, 2: path} nor [index, path]",
            ));
        }
    };
    if index >= 1 << 62 {
        return Err(malformed(P, "mmr index out of range"));
    }
    let id_timestamp = match receipt.unprotected_param(ID_TIMESTAMP) {
        Some(v) => uint(P, v, "idtimestamp (-260)")?,
        None => {
            return Err(malformed(
                P,
                "no idtimestamp (-260) to rebuild the leaf with",
            ));
        }
    };
    let sub = statement.claims()?.sub.unwrap_or_default();
    let prefix = &sub.as_bytes()[..sub.len().min(SUBJECT_PREFIX)];
    let leaf: [u8; 32] = {
        let mut h = Sha256::new();
        h.update([0x00]);
        h.update(prefix);
        h.update(id_timestamp.to_be_bytes());
        h.update(statement.statement_without_unprotected());
        h.finalize().into()
    };
    if let Some(stated) = receipt.unprotected_param(LEAF_DIGEST) {
        let stated = super::hash32(P, stated, "leaf digest (-259)")?;
        if stated != leaf {
            return Err(ReceiptError::MmrLeafDigest {
                expected: hex::encode(leaf),
                found: hex::encode(stated),
            });
        }
    }
    Ok(ProvenRoot {
        root: included_root(index, &leaf, &path).to_vec(),
        tree_size: None,
        leaf_index: Some(index),
    })
}

/// Height of the node at (0-based) MMR index `i`.
fn index_height(i: u64) -> u32 {
    let mut pos = i + 1;
    // Move left until pos is all ones: its bit length then gives the height.
    while pos & (pos + 1) != 0 {
        let msb = 1u64 << (63 - pos.leading_zeros());
        pos -= msb - 1;
    }
    64 - pos.leading_zeros() - 1
}

fn hash_pospair(pos: u64, left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(pos.to_be_bytes());
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root (peak) that `node` at index `i` leads to along `proof`.
fn included_root(mut i: u64, node: &[u8; 32], proof: &[[u8; 32]]) -> [u8; 32] {
    let mut root = *node;
    for (g, sibling) in (index_height(i)..).zip(proof) {
        if index_height(i.saturating_add(1)) > g {
            i = i.saturating_add(1);
            root = hash_pospair(i.saturating_add(1), sibling, &root);
        } else {
            i = i.saturating_add(2u64 << g.min(62));
            root = hash_pospair(i.saturating_add(1), &root, sibling);
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_heights_follow_the_mmr_layout() {
        // Indices 0 1 2 3 4 5 6: leaves at 0,1,3,4,7; nodes 2 (h1), 5 (h1), 6 (h2).
        let heights: Vec<u32> = (0..8).map(index_height).collect();
        assert_eq!(heights, vec![0, 0, 1, 0, 0, 1, 2, 0]);
    }
}
