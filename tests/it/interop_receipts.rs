//! COSE-receipt interop with scitt-cose 0.5.0 (PyPI), a strict clean-room verifier: our RFC 9162
//! receipts must pass its `verify_receipt` for every leaf of several trees and each service key
//! type and fail for the wrong leaf, key or bytes; our consistency proofs must pass its
//! `verify_consistency`; and receipts it mints must pass ours. `#[ignore]`d: they need the peer
//! venv (`scripts/interop.sh`, or `MODELSEAL_PEER_VENV=target/venv cargo test --test
//! interop_receipts -- --ignored`). All checks of a test go to one Python process through a JSON
//! job file, since Python start-up dominates otherwise.

use modelseal::core::cose::{CwtClaims, ProtectedParams, Sign1, sign1};
use modelseal::core::crypto::{Algorithm, PrivateKey, pem_decode_all};
use modelseal::core::receipt::merkle::{self, Hash};
use modelseal::core::receipt::rfc9162::{self, ReceiptClaims};
use modelseal::core::receipt::{Profile, Receipt};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const NEEDS_PEER: &str = "needs scitt-cose: set MODELSEAL_PEER_VENV (scripts/interop.sh does)";
const TREE_SIZES: [usize; 6] = [1, 2, 3, 7, 8, 33];
const SERVICE_ALGS: [Algorithm; 3] = [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA];

/// Runs `jobs` through tests/interop/receipt_peer.py; one result per job, in order.
fn run_peer(dir: &Path, jobs: &[Value]) -> Vec<Value> {
    let venv = PathBuf::from(std::env::var("MODELSEAL_PEER_VENV").expect(NEEDS_PEER));
    let job_file = dir.join("jobs.json");
    std::fs::write(&job_file, serde_json::to_vec(jobs).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/receipt_peer.py");
    let out = Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&job_file)
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "receipt_peer.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), jobs.len());
    results
}

/// `n` signed statements from one issuer, with distinct subjects and payloads.
fn statements(n: usize) -> Vec<Sign1> {
    let issuer = PrivateKey::generate(Algorithm::ES256).unwrap();
    (0..n)
        .map(|i| {
            let params = ProtectedParams {
                kid: Some(b"issuer".to_vec()),
                content_type: Some("application/json".into()),
                claims: Some(CwtClaims {
                    iss: Some("https://publisher.example".into()),
                    sub: Some(format!("model-{i}")),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let payload = format!("{{\"n\": {i}}}");
            Sign1::parse(&sign1(&issuer, &params, vec![], payload.as_bytes(), false)).unwrap()
        })
        .collect()
}

/// The key as PKCS#8 PEM, as `modelseal key generate` writes it: for Ed25519 the RFC 8410 v1
/// form, which Python's `cryptography` loads (it refuses ed25519-dalek's default v2).
fn pkcs8_v1_pem(key: &PrivateKey) -> String {
    let pem = key.to_pkcs8_pem().to_string();
    if key.algorithm() == Algorithm::EdDSA {
        let (_, der) = pem_decode_all(&pem).unwrap().remove(0);
        assert_eq!(der.len(), 48, "Ed25519 PKCS#8 v1 is 48 bytes");
    }
    pem
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
#[ignore = "needs scitt-cose: run scripts/interop.sh"]
fn our_rfc9162_receipts_verify_with_scitt_cose_for_every_leaf_and_fail_for_the_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let claims = ReceiptClaims {
        issuer: "https://ts.example".into(),
        subject: Some("log".into()),
        issued_at: Some(1_750_000_000),
    };
    // (job, should verify, what it is)
    let mut checks: Vec<(Value, bool, String)> = Vec::new();
    for alg in SERVICE_ALGS {
        let service = PrivateKey::generate(alg).unwrap();
        let pem = write(
            dir.path(),
            &format!("{alg}.pub"),
            service.public_key().to_spki_pem().as_bytes(),
        );
        let stranger = PrivateKey::generate(alg).unwrap().public_key();
        let stranger_pem = write(
            dir.path(),
            &format!("{alg}-stranger.pub"),
            stranger.to_spki_pem().as_bytes(),
        );
        for n in TREE_SIZES {
            let stmts = statements(n);
            let entries: Vec<String> = stmts
                .iter()
                .map(|s| hex::encode(rfc9162::leaf_entry(s)))
                .collect();
            let leaves: Vec<Hash> = stmts
                .iter()
                .map(|s| merkle::leaf_hash(&rfc9162::leaf_entry(s)))
                .collect();
            let root = merkle::root(&leaves);
            for i in 0..n {
                let path = merkle::inclusion_proof(&leaves, i);
                let receipt = rfc9162::issue_inclusion_receipt(
                    &service, b"ts-key", &claims, n as u64, i as u64, &path, &root,
                );
                // Our own verifier agrees before the peer is asked.
                Receipt::parse(&receipt)
                    .unwrap()
                    .verify(&stmts[i], &service.public_key())
                    .unwrap();
                let file = write(dir.path(), &format!("{alg}-{n}-{i}.receipt"), &receipt);
                let what = |case: &str| format!("{alg} tree {n} leaf {i}: {case}");
                let job = |receipt: &str, leaf: &str, pem: &str| json!({"op": "verify_receipt", "receipt": receipt, "leaf": leaf, "pem": pem});
                checks.push((job(&file, &entries[i], &pem), true, what("own leaf")));
                if n > 1 {
                    let other = &entries[(i + 1) % n];
                    checks.push((job(&file, other, &pem), false, what("neighbour's leaf")));
                }
                if i == 0 || i == n - 1 {
                    checks.push((
                        job(&file, &entries[i], &stranger_pem),
                        false,
                        what("another key"),
                    ));
                    // One flipped bit in the last path hash (or, with no path, in the signature).
                    let mut tampered = receipt.clone();
                    let at = match path.last() {
                        Some(h) => {
                            receipt
                                .windows(32)
                                .position(|w| w == h)
                                .expect("path in receipt")
                                + 5
                        }
                        None => receipt.len() - 1,
                    };
                    tampered[at] ^= 0x01;
                    let bad = write(dir.path(), &format!("{alg}-{n}-{i}.bad"), &tampered);
                    checks.push((job(&bad, &entries[i], &pem), false, what("tampered bytes")));
                }
            }
        }
    }
    let jobs: Vec<Value> = checks.iter().map(|(j, _, _)| j.clone()).collect();
    let results = run_peer(dir.path(), &jobs);
    let mut verified = 0;
    for (result, (_, ok, what)) in results.iter().zip(&checks) {
        assert_eq!(result["ok"], *ok, "scitt-cose on {what}: {result}");
        if *ok {
            verified += 1;
            assert_eq!(result["issuer"], "https://ts.example", "{what}");
            assert_eq!(result["subject"], "log", "{what}");
            assert_eq!(result["iat"], 1_750_000_000, "{what}");
        }
    }
    let leaves_per_alg: usize = TREE_SIZES.iter().sum();
    assert_eq!(verified, 3 * leaves_per_alg);
    for (result, (job, ok, what)) in results.iter().zip(&checks) {
        if *ok {
            let name = job["receipt"].as_str().unwrap();
            let stem = Path::new(name).file_stem().unwrap().to_string_lossy();
            let parts: Vec<&str> = stem.rsplitn(3, '-').collect();
            assert_eq!(result["leaf_index"].to_string(), parts[0], "{what}");
            assert_eq!(result["tree_size"].to_string(), parts[1], "{what}");
        }
    }
}

#[test]
#[ignore = "needs scitt-cose: run scripts/interop.sh"]
fn our_consistency_proofs_verify_with_scitt_cose_and_a_changed_hash_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let leaves: Vec<Hash> = (0..33u32)
        .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
        .collect();
    let mut checks = Vec::new();
    for new in 1..=leaves.len() {
        let new_root = merkle::root(&leaves[..new]);
        for old in 1..=new {
            let old_root = merkle::root(&leaves[..old]);
            let proof = merkle::consistency_proof(&leaves[..new], old);
            let job = |proof: &[Hash]| {
                json!({"op": "verify_consistency", "old_root": hex::encode(old_root),
                       "new_root": hex::encode(new_root), "old_size": old, "new_size": new,
                       "proof": proof.iter().map(hex::encode).collect::<Vec<_>>()})
            };
            checks.push((job(&proof), true, old, new));
            if let Some(first) = proof.first() {
                let mut bad = proof.clone();
                bad[0] = merkle::node_hash(first, first);
                checks.push((job(&bad), false, old, new));
            }
        }
    }
    let jobs: Vec<Value> = checks.iter().map(|c| c.0.clone()).collect();
    let results = run_peer(dir.path(), &jobs);
    for (result, (_, ok, old, new)) in results.iter().zip(&checks) {
        assert_eq!(
            result["ok"], *ok,
            "scitt-cose on the consistency proof {old} -> {new}"
        );
    }
    assert!(checks.len() > 1000, "{} checks", checks.len());
}

#[test]
#[ignore = "needs scitt-cose: run scripts/interop.sh"]
fn receipts_minted_by_scitt_cose_verify_with_ours() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut jobs = Vec::new();
    for alg in SERVICE_ALGS {
        let service = PrivateKey::generate(alg).unwrap();
        let key = write(
            dir.path(),
            &format!("{alg}.key"),
            pkcs8_v1_pem(&service).as_bytes(),
        );
        for n in [1usize, 5, 8] {
            let stmts = statements(n);
            let entries: Vec<String> = stmts
                .iter()
                .map(|s| hex::encode(rfc9162::leaf_entry(s)))
                .collect();
            let root = merkle::root(
                &stmts
                    .iter()
                    .map(|s| merkle::leaf_hash(&rfc9162::leaf_entry(s)))
                    .collect::<Vec<_>>(),
            );
            for i in 0..n {
                let out = dir.path().join(format!("peer-{alg}-{n}-{i}.receipt"));
                jobs.push(
                    json!({"op": "build_receipt", "entries": entries, "index": i,
                                 "alg": alg.name(), "key": key, "out": out}),
                );
                cases.push((
                    out,
                    stmts.clone(),
                    i,
                    service.public_key(),
                    root,
                    format!("{alg} tree {n} leaf {i}"),
                ));
            }
        }
    }
    run_peer(dir.path(), &jobs);
    for (out, stmts, i, key, root, what) in cases {
        let r = Receipt::parse(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(r.profile(), Profile::Rfc9162);
        assert_eq!(r.issuer(), Some("https://peer.example"));
        let v = r
            .verify(&stmts[i], &key)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(v.root, root.to_vec(), "{what}");
        assert_eq!(
            (v.tree_size, v.leaf_index),
            (Some(stmts.len() as u64), Some(i as u64))
        );
        if stmts.len() > 1 {
            let other = &stmts[(i + 1) % stmts.len()];
            assert!(r.verify(other, &key).is_err(), "{what}: neighbour verifies");
        }
    }
}
