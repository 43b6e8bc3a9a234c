//! RFC 9162 §2.1 Merkle tree math: the tree hash, inclusion and consistency proofs, and their
//! verification. Pure functions over leaf hashes; the transparency log keeps the leaves.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has {found} hashes; a tree of {size} needs {expected} for leaf {index}")]
    WrongPathLength {
        index: u64,
        size: u64,
        expected: usize,
        found: usize,
    },
    #[error("consistency proof from size {old} to {new} is malformed: {reason}")]
    BadConsistency {
        old: u64,
        new: u64,
        reason: &'static str,
    },
    #[error("consistency proof does not lead to the {which} root")]
    RootMismatch { which: &'static str },
}

/// RFC 9162 §2.1.1: leaf hashes and interior nodes are domain-separated (0x00 / 0x01).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over leaf hashes; the empty tree's hash is SHA-256 of nothing.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]) (§2.1.3.1): siblings from the leaf up.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split(d.len());
        if m < k {
            path(m, &d[..k], out);
            out.push(root(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if index < leaves.len() {
        path(index, leaves, &mut out);
    }
    out
}

/// The number of hashes an inclusion proof for `index` in a tree of `size` has: PATH's recursion
/// depth, without the hashing.
pub fn inclusion_path_len(index: u64, size: u64) -> usize {
    let (mut m, mut n, mut len) = (index, size, 0);
    while n > 1 {
        let k = split(n as usize) as u64;
        if m < k {
            n = k;
        } else {
            m -= k;
            n -= k;
        }
        len += 1;
    }
    len
}

/// Recomputes the root from a leaf hash and its inclusion proof (§2.1.3.2).
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    path: &[Hash],
) -> Result<Hash, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_path_len(index, size);
    if path.len() != expected {
        return Err(MerkleError::WrongPathLength {
            index,
            size,
            expected,
            found: path.len(),
        });
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, *leaf);
    for p in path {
        if sn == 0 {
            return Err(MerkleError::WrongPathLength {
                index,
                size,
                expected,
                found: path.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::WrongPathLength {
            index,
            size,
            expected,
            found: path.len(),
        });
    }
    Ok(r)
}

/// PROOF(m, D[n]) (§2.1.4.1): shows the tree of the first `old_size` leaves is a prefix.
pub fn consistency_proof(leaves: &[Hash], old_size: usize) -> Vec<Hash> {
    fn subproof(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        let n = d.len();
        if m == n {
            if !complete {
                out.push(root(d));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            subproof(m, &d[..k], complete, out);
            out.push(root(&d[k..]));
        } else {
            subproof(m - k, &d[k..], false, out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if old_size > 0 && old_size < leaves.len() {
        subproof(old_size, leaves, true, &mut out);
    }
    out
}

/// Checks a consistency proof between two tree heads (§2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    let bad = |reason| MerkleError::BadConsistency {
        old: old_size,
        new: new_size,
        reason,
    };
    if old_size > new_size {
        return Err(bad("the old tree is larger than the new one"));
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(bad("equal sizes need an empty proof"));
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch { which: "new" })
        };
    }
    if old_size == 0 {
        // Every tree extends the empty one.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(bad("a proof from the empty tree must be empty"))
        };
    }
    if proof.is_empty() {
        return Err(bad("empty proof"));
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(bad("proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(bad("proof is too short"));
    }
    if fr != *old_root {
        return Err(MerkleError::RootMismatch { which: "old" });
    }
    if sr != *new_root {
        return Err(MerkleError::RootMismatch { which: "new" });
    }
    Ok(())
}

/// The hashes of every complete power-of-two subtree, kept as leaves are appended, so that roots
/// and proofs cost O(log² n) instead of rehashing the whole log: `levels[k][i]` is the hash of
/// leaves `i·2^k .. (i+1)·2^k`. Appending updates one hash per level.
#[derive(Clone, Debug, Default)]
pub struct MerkleCache {
    levels: Vec<Vec<Hash>>,
}

impl MerkleCache {
    pub fn new() -> Self {
        MerkleCache {
            levels: vec![Vec::new()],
        }
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut k = 0;
        // A level gains a node whenever its lower level completes a pair.
        while self.levels[k].len().is_multiple_of(2) {
            let n = self.levels[k].len();
            let parent = node_hash(&self.levels[k][n - 2], &self.levels[k][n - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(parent);
            k += 1;
        }
    }

    /// MTH of leaves `start .. start + len` (start is a multiple of the largest power of two
    /// below len, as in every range RFC 9162's recursion visits).
    fn subtree(&self, start: u64, len: u64) -> Hash {
        if len == 0 {
            return Sha256::digest([]).into();
        }
        if len.is_power_of_two() {
            let k = len.trailing_zeros() as usize;
            return self.levels[k][(start >> k) as usize];
        }
        let k = split(len as usize) as u64;
        node_hash(&self.subtree(start, k), &self.subtree(start + k, len - k))
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Hash {
        self.subtree(0, size)
    }

    /// PATH(index, D[size]), as [`inclusion_proof`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Vec<Hash> {
        let mut out = Vec::new();
        let (mut start, mut len, mut m) = (0u64, size, index);
        let mut stack = Vec::new();
        while len > 1 {
            let k = split(len as usize) as u64;
            if m < k {
                stack.push(self.subtree(start + k, len - k));
                len = k;
            } else {
                stack.push(self.subtree(start, k));
                start += k;
                m -= k;
                len -= k;
            }
        }
        while let Some(h) = stack.pop() {
            out.push(h);
        }
        out
    }

    /// PROOF(old, D[size]), as [`consistency_proof`].
    pub fn consistency_proof(&self, old: u64, size: u64) -> Vec<Hash> {
        let mut out = Vec::new();
        if old == 0 || old >= size {
            return out;
        }
        let (mut start, mut len, mut m, mut complete) = (0u64, size, old, true);
        let mut stack = Vec::new();
        loop {
            if m == len {
                if !complete {
                    stack.push(self.subtree(start, len));
                }
                break;
            }
            let k = split(len as usize) as u64;
            if m <= k {
                stack.push(self.subtree(start + k, len - k));
                len = k;
            } else {
                stack.push(self.subtree(start, k));
                start += k;
                m -= k;
                len -= k;
                complete = false;
            }
        }
        while let Some(h) = stack.pop() {
            out.push(h);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn every_inclusion_proof_of_every_tree_up_to_70_leads_to_the_root() {
        for n in 1..=70usize {
            let d = leaves(n);
            let r = root(&d);
            for i in 0..n {
                let p = inclusion_proof(&d, i);
                assert_eq!(p.len(), inclusion_path_len(i as u64, n as u64));
                assert_eq!(
                    root_from_inclusion_proof(&d[i], i as u64, n as u64, &p),
                    Ok(r),
                    "n={n} i={i}"
                );
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(
                        root_from_inclusion_proof(&d[i], i as u64, n as u64, &bad),
                        Ok(r)
                    );
                }
            }
            assert!(root_from_inclusion_proof(&d[0], n as u64, n as u64, &[]).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_any_change_breaks_them() {
        let all = leaves(40);
        for n in 1..=40usize {
            let new_root = root(&all[..n]);
            for m in 1..=n {
                let old_root = root(&all[..m]);
                let p = consistency_proof(&all[..n], m);
                assert_eq!(
                    verify_consistency(m as u64, n as u64, &old_root, &new_root, &p),
                    Ok(()),
                    "m={m} n={n}"
                );
                if m < n {
                    for j in 0..p.len() {
                        let mut bad = p.clone();
                        bad[j][3] ^= 0x10;
                        assert!(
                            verify_consistency(m as u64, n as u64, &old_root, &new_root, &bad)
                                .is_err()
                        );
                    }
                    let mut other = old_root;
                    other[0] ^= 1;
                    assert!(verify_consistency(m as u64, n as u64, &other, &new_root, &p).is_err());
                    assert!(verify_consistency(m as u64, n as u64, &old_root, &other, &p).is_err());
                }
            }
        }
    }

    #[test]
    fn the_cache_gives_the_same_roots_and_proofs_as_the_definitions() {
        let all = leaves(70);
        let mut cache = MerkleCache::new();
        for (n, leaf) in all.iter().enumerate() {
            cache.push(*leaf);
            let size = n + 1;
            assert_eq!(cache.root(size as u64), root(&all[..size]), "root {size}");
            for i in 0..size {
                assert_eq!(
                    cache.inclusion_proof(i as u64, size as u64),
                    inclusion_proof(&all[..size], i),
                    "path {i} of {size}"
                );
            }
            for m in 1..=size {
                assert_eq!(
                    cache.consistency_proof(m as u64, size as u64),
                    consistency_proof(&all[..size], m),
                    "proof {m}..{size}"
                );
            }
        }
        // Older sizes stay answerable after growth.
        assert_eq!(cache.root(5), root(&all[..5]));
        assert_eq!(cache.inclusion_proof(3, 9), inclusion_proof(&all[..9], 3));
    }

    #[test]
    fn known_answer_for_the_empty_and_one_leaf_trees() {
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let one = leaf_hash(b"");
        assert_eq!(
            hex::encode(one),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(root(&[one]), one);
    }
}
