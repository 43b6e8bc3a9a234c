//! MMR profile (vds 3; draft-bryce-cose-receipts-mmr-profile), as DataTrails' log writes it.
//!
//! Proof encodings: the draft's is `bstr .cbor [index, [path...]]`; the real DataTrails receipt
//! (the scitt-for-phi vector) carries a plain map `{1: index, 2: [path...]}` in the -1 array,
//! as DataTrails' own sample verifier reads it. Both are accepted (and a bstr holding the map).
//! The index is the MMR node index of the leaf (769 in the vector, leaf ordinal 386).
//!
//! The leaf is DataTrails' own: SHA-256(0x00 ‖ first 24 bytes of the statement's sub ‖
//! idtimestamp (-260, 8 bytes BE) ‖ the statement as logged), and the receipt restates it in
//! -259, which must then match. Interior nodes: SHA-256(parent position as u64 BE ‖ left ‖
//! right), the position 1-based. The signed (detached) payload is the peak the path leads to —
//! one accumulator peak, not a bagged root.

use super::{
    Profile, ProofForm, ProvenRoot, ReceiptError, hash_list, malformed, uint, unwrap_proof,
};
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
    let (index, path) = match unwrap_proof(P, proof, ProofForm::WrappedOrBare)? {
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
    // A SCITT statement must have a sub; one without gets an empty prefix, and then a leaf
    // that matches neither -259 nor the signature.
    let sub = statement.claims()?.sub.unwrap_or_default();
    // Bytes, not characters: DataTrails cuts the UTF-8 (the vector's -261 is a byte string).
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
    // Saturating and wrapping: a hostile index near 2^64 must not overflow (proofs bound the
    // index to 2^62, but this stays total on its own).
    let mut pos = i.saturating_add(1);
    // Move left until pos is all ones: its bit length then gives the height.
    while pos & pos.wrapping_add(1) != 0 {
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

/// The peak that `node` at MMR index `i` leads to along `proof` (the draft's included_root);
/// it is what an MMR receipt signs as its detached payload.
pub fn included_root(mut i: u64, node: &[u8; 32], proof: &[[u8; 32]]) -> [u8; 32] {
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
pub(crate) mod tests {
    use super::*;

    /// `mmr_index(e)`: where leaf ordinal `e` sits in the post-order node array (scitt.md §3.1).
    pub(crate) fn mmr_index(e: u64) -> u64 {
        2 * e - u64::from(e.count_ones())
    }

    /// Appends a leaf and the parents it completes (the draft's add_leaf_hash); `db` is the
    /// post-order node array.
    pub(crate) fn add_leaf(db: &mut Vec<[u8; 32]>, leaf: [u8; 32]) {
        db.push(leaf);
        let mut g = 0;
        // The next index to be written is a parent while its height is above the last one's.
        let mut i = db.len() as u64;
        while index_height(i) > g {
            let left = db[(i - (2 << g)) as usize];
            let right = db[(i - 1) as usize];
            db.push(hash_pospair(i + 1, &left, &right));
            i += 1;
            g += 1;
        }
    }

    /// The sibling indices from node `i` up to its peak, in an MMR whose last node is `last`.
    pub(crate) fn inclusion_path(mut i: u64, last: u64) -> Vec<u64> {
        let mut path = Vec::new();
        let mut g = index_height(i);
        loop {
            let offset = 2u64 << g;
            let sibling = if index_height(i + 1) > g {
                let s = i + 1 - offset;
                i += 1;
                s
            } else {
                let s = i + offset - 1;
                i += offset;
                s
            };
            if sibling > last {
                return path;
            }
            path.push(sibling);
            g += 1;
        }
    }

    /// Indices of the peaks of a complete MMR whose last node is `last`.
    fn peaks(last: u64) -> Vec<u64> {
        let (mut peak, mut out, mut s) = (0u64, Vec::new(), last + 1);
        while s != 0 {
            let height_size = (1u64 << (63 - (s + 1).leading_zeros())) - 1;
            peak += height_size;
            out.push(peak - 1);
            s -= height_size;
        }
        out
    }

    fn leaf(e: u64) -> [u8; 32] {
        Sha256::digest(e.to_be_bytes()).into()
    }

    #[test]
    fn index_heights_follow_the_mmr_layout() {
        // Indices 0 1 2 3 4 5 6: leaves at 0,1,3,4,7; nodes 2 (h1), 5 (h1), 6 (h2).
        let heights: Vec<u32> = (0..8).map(index_height).collect();
        assert_eq!(heights, vec![0, 0, 1, 0, 0, 1, 2, 0]);
        assert_eq!((0..5).map(mmr_index).collect::<Vec<_>>(), [0, 1, 3, 4, 7]);
        // The real receipt's index is a leaf: ordinal 386.
        assert_eq!(mmr_index(386), 769);
        assert_eq!(index_height(769), 0);
    }

    #[test]
    fn every_leaf_of_every_mmr_up_to_40_leaves_leads_to_a_peak_and_only_unchanged() {
        let mut db = Vec::new();
        for n in 0..40u64 {
            add_leaf(&mut db, leaf(n));
            assert_eq!(db[mmr_index(n) as usize], leaf(n), "leaf {n} placed");
            let last = db.len() as u64 - 1;
            let peak_hashes: Vec<[u8; 32]> = peaks(last).iter().map(|&p| db[p as usize]).collect();
            for e in 0..=n {
                let i = mmr_index(e);
                let path: Vec<[u8; 32]> = inclusion_path(i, last)
                    .iter()
                    .map(|&s| db[s as usize])
                    .collect();
                let root = included_root(i, &leaf(e), &path);
                assert!(peak_hashes.contains(&root), "leaf {e} of {}", n + 1);
                for j in 0..path.len() {
                    let mut bad = path.clone();
                    bad[j][0] ^= 1;
                    assert!(!peak_hashes.contains(&included_root(i, &leaf(e), &bad)));
                }
                if !path.is_empty() {
                    assert_ne!(included_root(i, &leaf(e ^ 1), &path), root);
                }
            }
        }
    }

    #[test]
    fn a_hostile_index_and_path_are_hashed_without_overflow() {
        // Indices near 2^64 and a 64-step path: no overflow, and still a hash of every step (each
        // sibling changes the root, and the whole path is consumed), never a constant.
        let path: Vec<[u8; 32]> = (0..64u8).map(|b| [b; 32]).collect();
        for i in [u64::MAX, u64::MAX - 1, (1 << 62) - 1] {
            let root = included_root(i, &[0; 32], &path);
            assert_ne!(root, included_root(i, &[0; 32], &path[..63]), "index {i}");
            assert_ne!(root, included_root(i, &[1; 32], &path), "index {i}");
            for j in [0, 31, 63] {
                let mut bad = path.clone();
                bad[j][0] ^= 1;
                assert_ne!(
                    root,
                    included_root(i, &[0; 32], &bad),
                    "index {i}, step {j}"
                );
            }
        }
        assert_eq!(index_height(u64::MAX - 1), 63);
    }
}
