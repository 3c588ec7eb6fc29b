//! The Merkle tree of RFC 9162 §2.1: leaf `SHA-256(0x00 ‖ entry)`, node
//! `SHA-256(0x01 ‖ left ‖ right)`, inclusion proofs (§2.1.3) and consistency proofs (§2.1.4),
//! over any store of perfect-subtree hashes, and their verification (§2.1.3.2, §2.1.4.2).

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `MTH({d})` of one entry (§2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// An interior node (§2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `MTH({})`, the hash of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Largest power of two strictly less than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Where the hashes of perfect subtrees come from: `node(level, index)` is the hash of leaves
/// `[index·2^level, (index+1)·2^level)`.
pub trait Nodes {
    fn node(&self, level: u8, index: u64) -> Result<Hash, String>;

    /// The MTH of `[lo, lo + n)`, not a perfect subtree (the tree's right edge), if this
    /// store remembers one: proofs of many leaves against one tree size recompute the same few.
    fn edge(&self, _lo: u64, _n: u64) -> Option<Hash> {
        None
    }

    /// Remember the MTH of `[lo, lo + n)` ([`Nodes::edge`]).
    fn keep_edge(&self, _lo: u64, _n: u64, _h: Hash) {}
}

/// `MTH(D[lo : lo+n])` for a range the RFC recursion produces (lo aligned to the split).
pub fn mth(nodes: &dyn Nodes, lo: u64, n: u64) -> Result<Hash, String> {
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && lo % n == 0 {
        return nodes.node(n.trailing_zeros() as u8, lo / n);
    }
    if let Some(h) = nodes.edge(lo, n) {
        return Ok(h);
    }
    let k = split(n);
    let h = node_hash(&mth(nodes, lo, k)?, &mth(nodes, lo + k, n - k)?);
    nodes.keep_edge(lo, n, h);
    Ok(h)
}

/// `PATH(m, D[0:n])` (§2.1.3.1): the audit path of leaf `m` in a tree of `n` leaves.
pub fn inclusion_proof(nodes: &dyn Nodes, m: u64, n: u64) -> Result<Vec<Hash>, String> {
    if m >= n {
        return Err(format!("leaf {m} is not in a tree of {n}"));
    }
    let mut out = Vec::new();
    path(nodes, m, 0, n, &mut out)?;
    Ok(out)
}

fn path(nodes: &dyn Nodes, m: u64, lo: u64, n: u64, out: &mut Vec<Hash>) -> Result<(), String> {
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(nodes, m, lo, k, out)?;
        out.push(mth(nodes, lo + k, n - k)?);
    } else {
        path(nodes, m - k, lo + k, n - k, out)?;
        out.push(mth(nodes, lo, k)?);
    }
    Ok(())
}

/// `PROOF(m, D[0:n])` (§2.1.4.1): consistency between the first `m` leaves and all `n`.
pub fn consistency_proof(nodes: &dyn Nodes, m: u64, n: u64) -> Result<Vec<Hash>, String> {
    if m > n {
        return Err(format!("a tree of {m} cannot be a prefix of a tree of {n}"));
    }
    let mut out = Vec::new();
    if m == 0 || m == n {
        return Ok(out);
    }
    subproof(nodes, m, 0, n, true, &mut out)?;
    Ok(out)
}

fn subproof(
    nodes: &dyn Nodes,
    m: u64,
    lo: u64,
    n: u64,
    b: bool,
    out: &mut Vec<Hash>,
) -> Result<(), String> {
    if m == n {
        if !b {
            out.push(mth(nodes, lo, n)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(nodes, m, lo, k, b, out)?;
        out.push(mth(nodes, lo + k, n - k)?);
    } else {
        subproof(nodes, m - k, lo + k, n - k, false, out)?;
        out.push(mth(nodes, lo, k)?);
    }
    Ok(())
}

/// Whether `entry` is leaf `index` of the tree of `size` leaves whose root is `root`, proved
/// with nodes read from `nodes` (which need not be trusted: the proof is checked).
pub fn proves(nodes: &dyn Nodes, entry: &[u8], index: u64, size: u64, root: &Hash) -> bool {
    inclusion_proof(nodes, index, size)
        .is_ok_and(|proof| verify_inclusion(&leaf_hash(entry), index, size, &proof, root))
}

/// Verify an inclusion proof (§2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnn, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            r = node_hash(p, &r);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// Verify a consistency proof (§2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if size1.is_power_of_two() {
        path.insert(0, *root1);
    }
    if path.is_empty() {
        return false;
    }
    let (mut fnn, mut sn) = (size1 - 1, size2 - 1);
    while fnn & 1 == 1 {
        fnn >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && &fr == root1 && &sr == root2
}

/// The right edge of a tree being appended to (a compact range): the hashes of the perfect
/// subtrees that end at the current size, largest first. Appending a leaf yields the new
/// perfect-subtree nodes to store.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    pub size: u64,
    /// (level, hash), levels strictly decreasing.
    pub edge: Vec<(u8, Hash)>,
}

impl Frontier {
    /// Append a leaf hash; returns every completed node as (level, index, hash), the leaf first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(u8, u64, Hash)> {
        let index = self.size;
        let mut made = vec![(0u8, index, leaf)];
        let (mut level, mut h, mut idx) = (0u8, leaf, index);
        while let Some(&(l, left)) = self.edge.last() {
            if l != level {
                break;
            }
            self.edge.pop();
            h = node_hash(&left, &h);
            level += 1;
            idx /= 2;
            made.push((level, idx, h));
        }
        self.edge.push((level, h));
        self.size += 1;
        made
    }

    /// The root of the tree so far (§2.1.1 folds the edge right to left).
    pub fn root(&self) -> Hash {
        let mut it = self.edge.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(&(_, first)) => it.fold(first, |acc, &(_, left)| node_hash(&left, &acc)),
        }
    }

    /// Rebuild from the stored perfect-subtree nodes of a tree of `size` leaves.
    pub fn load(nodes: &dyn Nodes, size: u64) -> Result<Frontier, String> {
        let mut edge = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            let span = 1u64 << level;
            if size & span != 0 {
                edge.push((level, nodes.node(level, start / span)?));
                start += span;
            }
        }
        Ok(Frontier { size, edge })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<(u8, u64), Hash>);
    impl Nodes for Mem {
        fn node(&self, l: u8, i: u64) -> Result<Hash, String> {
            self.0
                .get(&(l, i))
                .copied()
                .ok_or_else(|| format!("no node {l}/{i}"))
        }
    }

    /// MTH straight from the RFC's definition, for comparison.
    fn reference(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&reference(&leaves[..k]), &reference(&leaves[k..]))
            }
        }
    }

    #[test]
    fn proofs_for_every_pair_of_small_trees_verify_and_tampering_fails() {
        let mut f = Frontier::default();
        let mut store = Mem(HashMap::new());
        let mut leaves = Vec::new();
        let mut roots = vec![empty_root()];
        for i in 0..70u64 {
            let l = leaf_hash(format!("event {i}").as_bytes());
            leaves.push(l);
            for (lv, idx, h) in f.push(l) {
                store.0.insert((lv, idx), h);
            }
            assert_eq!(f.root(), reference(&leaves), "root at {}", i + 1);
            assert_eq!(Frontier::load(&store, f.size).unwrap().root(), f.root());
            roots.push(f.root());
        }
        for n in 1..=70u64 {
            for m in 0..n {
                let p = inclusion_proof(&store, m, n).unwrap();
                assert!(verify_inclusion(
                    &leaves[m as usize],
                    m,
                    n,
                    &p,
                    &roots[n as usize]
                ));
                let mut bad = leaves[m as usize];
                bad[0] ^= 1;
                assert!(!verify_inclusion(&bad, m, n, &p, &roots[n as usize]));
            }
            for m in 0..=n {
                let p = consistency_proof(&store, m, n).unwrap();
                assert!(
                    verify_consistency(m, n, &p, &roots[m as usize], &roots[n as usize]),
                    "{m} {n}"
                );
                if m > 0 && m < n {
                    let mut bad = roots[m as usize];
                    bad[31] ^= 1;
                    assert!(!verify_consistency(m, n, &p, &bad, &roots[n as usize]));
                }
            }
        }
    }

    /// A store that remembers right-edge MTHs (as an export's does) across proofs of many
    /// tree sizes, in an order that mixes them: every proof is the one the plain store gives,
    /// and the edges were used.
    #[test]
    fn remembered_edges_give_the_same_proofs_for_every_size_and_leaf() {
        struct Remembering {
            plain: Mem,
            edges: std::cell::RefCell<HashMap<(u64, u64), Hash>>,
            used: std::cell::Cell<u64>,
        }
        impl Nodes for Remembering {
            fn node(&self, l: u8, i: u64) -> Result<Hash, String> {
                self.plain.node(l, i)
            }
            fn edge(&self, lo: u64, n: u64) -> Option<Hash> {
                let h = self.edges.borrow().get(&(lo, n)).copied();
                self.used.set(self.used.get() + h.is_some() as u64);
                h
            }
            fn keep_edge(&self, lo: u64, n: u64, h: Hash) {
                self.edges.borrow_mut().insert((lo, n), h);
            }
        }
        let mut f = Frontier::default();
        let mut plain = Mem(HashMap::new());
        for i in 0..100u64 {
            for (lv, idx, h) in f.push(leaf_hash(&i.to_le_bytes())) {
                plain.0.insert((lv, idx), h);
            }
        }
        let remembering = Remembering {
            plain: Mem(plain.0.clone()),
            edges: Default::default(),
            used: Default::default(),
        };
        for n in (1..=100u64).rev().chain(1..=100) {
            for m in 0..n {
                assert_eq!(
                    inclusion_proof(&remembering, m, n).unwrap(),
                    inclusion_proof(&plain, m, n).unwrap(),
                    "leaf {m} of {n}"
                );
            }
            for m in 0..=n {
                assert_eq!(
                    consistency_proof(&remembering, m, n).unwrap(),
                    consistency_proof(&plain, m, n).unwrap(),
                    "{m} → {n}"
                );
            }
        }
        assert!(
            remembering.used.get() > 10_000,
            "{}",
            remembering.used.get()
        );
    }
}
