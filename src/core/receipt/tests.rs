use super::merkle::{self, Hash};
use super::rfc9162::{self, ReceiptClaims};
use super::*;
use crate::core::cose::{CwtClaims, ProtectedParams, Sign1, sign1};
use crate::core::crypto::{Algorithm, PrivateKey, PublicKey};

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../shared/vectors/scitt-for-phi/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key(name: &str) -> PublicKey {
    PublicKey::from_pem(&String::from_utf8(vector(name)).unwrap()).unwrap()
}

fn two_ts() -> (Sign1, Vec<Vec<u8>>) {
    let s = Sign1::parse(&vector("2ts-statement.scitt")).unwrap();
    let receipts = s.receipts().unwrap();
    (s, receipts)
}

#[test]
fn the_azure_ccf_receipt_verifies_with_the_service_key() {
    let (statement, receipts) = two_ts();
    let r = Receipt::parse(&receipts[0]).unwrap();
    assert_eq!(r.profile(), Profile::Ccf);
    assert_eq!(
        r.issuer(),
        Some("esrp-cts-cp.confidential-ledger.azure.com")
    );
    assert_eq!(r.subject(), Some("scitt.ccf.signature.v1"));
    let ccf_key = key("ccf-service-key.pem");
    assert_eq!(
        r.kid().unwrap(),
        hex::encode(ccf_key.spki_sha256()).as_bytes()
    );
    let v = r.verify(&statement, &ccf_key).unwrap();
    let root = hex::encode(&v.root);
    assert!(
        root.starts_with("9bfd2a85") && root.ends_with("c083"),
        "{root}"
    );
}

#[test]
fn the_datatrails_mmr_receipt_verifies_with_the_pinned_key_which_is_its_cnf_key() {
    let (statement, receipts) = two_ts();
    assert_eq!(receipts[1], vector("datatrails-mmr.receipt"));
    let r = Receipt::parse(&receipts[1]).unwrap();
    assert_eq!(r.profile(), Profile::Mmr);
    assert_eq!(r.issuer(), Some("https://github.com/robinbryce/veracity"));
    assert_eq!(r.subject(), Some("fork-768-782.bin"));
    let pinned = key("mmr-service-key.pem");
    assert_eq!(r.embedded_key(), Some(pinned.clone()));
    let v = r.verify(&statement, &pinned).unwrap();
    assert_eq!(v.leaf_index, Some(769));
    let root = hex::encode(&v.root);
    assert!(
        root.starts_with("09516f4a") && root.ends_with("365f"),
        "{root}"
    );
}

#[test]
fn a_receipt_does_not_verify_with_the_other_service_key() {
    let (statement, receipts) = two_ts();
    let err = Receipt::parse(&receipts[0])
        .unwrap()
        .verify(&statement, &key("mmr-service-key.pem"))
        .unwrap_err();
    assert!(matches!(err, ReceiptError::Signature { .. }), "{err}");
}

#[test]
fn every_flipped_byte_of_a_real_receipt_fails_parse_or_verify_without_panicking() {
    let (statement, receipts) = two_ts();
    let keys = [key("ccf-service-key.pem"), key("mmr-service-key.pem")];
    for (receipt, key) in receipts.iter().zip(&keys) {
        for i in 0..receipt.len() {
            let mut bad = receipt.clone();
            bad[i] ^= 0x01;
            if let Ok(r) = Receipt::parse(&bad) {
                // Unprotected bytes outside the proof (e.g. DataTrails' -257 subject copy) are
                // not covered by anything; everything else is.
                // ciborium reads CBOR `undefined` (0xf7) as nil: a detached payload either way.
                if r.verify(&statement, key).is_ok() && receipt[i] != 0xf6 {
                    let unprotected_info = r
                        .sign1()
                        .unprotected()
                        .rest
                        .iter()
                        .any(|(l, _)| matches!(l, coset::Label::Int(-257 | -258 | -261)));
                    assert!(
                        unprotected_info,
                        "flip at {i} of a {} receipt still verifies",
                        r.profile()
                    );
                }
            }
        }
    }
}

#[test]
fn a_changed_statement_fails_each_receipt_at_the_binding_check() {
    let (statement, receipts) = two_ts();
    // Same signed statement bytes with one payload byte changed: a different statement.
    let mut bytes = statement.statement_without_unprotected();
    let n = bytes.len();
    bytes[n - 200] ^= 0x01;
    let other = Sign1::parse(&bytes).unwrap();
    let ccf = Receipt::parse(&receipts[0])
        .unwrap()
        .verify(&other, &key("ccf-service-key.pem"))
        .unwrap_err();
    assert!(matches!(ccf, ReceiptError::CcfDataHash { .. }), "{ccf}");
    let mmr = Receipt::parse(&receipts[1])
        .unwrap()
        .verify(&other, &key("mmr-service-key.pem"))
        .unwrap_err();
    assert!(matches!(mmr, ReceiptError::MmrLeafDigest { .. }), "{mmr}");
}

fn statements(n: usize) -> Vec<Sign1> {
    let issuer = PrivateKey::generate(Algorithm::ES256).unwrap();
    (0..n)
        .map(|i| {
            let params = ProtectedParams {
                kid: Some(b"issuer".to_vec()),
                claims: Some(CwtClaims {
                    iss: Some("iss".into()),
                    sub: Some(format!("model-{i}")),
                    ..Default::default()
                }),
                ..Default::default()
            };
            Sign1::parse(&sign1(
                &issuer,
                &params,
                vec![],
                format!("payload {i}").as_bytes(),
                false,
            ))
            .unwrap()
        })
        .collect()
}

#[test]
fn issued_rfc9162_receipts_verify_for_every_leaf_and_only_for_their_own_statement() {
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
        let service = PrivateKey::generate(alg).unwrap();
        for n in [1usize, 2, 3, 7] {
            let stmts = statements(n);
            let leaves: Vec<Hash> = stmts
                .iter()
                .map(|s| merkle::leaf_hash(&rfc9162::leaf_entry(s)))
                .collect();
            let root = merkle::root(&leaves);
            let claims = ReceiptClaims {
                issuer: "https://ts.example".into(),
                subject: None,
                issued_at: Some(1),
            };
            for (i, s) in stmts.iter().enumerate() {
                let path = merkle::inclusion_proof(&leaves, i);
                let bytes = rfc9162::issue_inclusion_receipt(
                    &service, b"kid", &claims, n as u64, i as u64, &path, &root,
                );
                let r = Receipt::parse(&bytes).unwrap();
                let v = r.verify(s, &service.public_key()).unwrap();
                assert_eq!(
                    (v.tree_size, v.leaf_index),
                    (Some(n as u64), Some(i as u64))
                );
                if n > 1 {
                    let other = &stmts[(i + 1) % n];
                    assert!(r.verify(other, &service.public_key()).is_err());
                }
                let stranger = PrivateKey::generate(Algorithm::ES256).unwrap().public_key();
                assert!(r.verify(s, &stranger).is_err());
            }
        }
    }
}

#[test]
fn consistency_receipts_prove_a_prefix() {
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let stmts = statements(9);
    let leaves: Vec<Hash> = stmts
        .iter()
        .map(|s| merkle::leaf_hash(&rfc9162::leaf_entry(s)))
        .collect();
    let (old_root, new_root) = (merkle::root(&leaves[..5]), merkle::root(&leaves));
    let proof = merkle::consistency_proof(&leaves, 5);
    let claims = ReceiptClaims {
        issuer: "ts".into(),
        subject: None,
        issued_at: None,
    };
    let bytes =
        rfc9162::issue_consistency_receipt(&service, b"k", &claims, 5, 9, &proof, &new_root);
    let s = Sign1::parse(&bytes).unwrap();
    s.verify_signature(&service.public_key(), Some(&new_root))
        .unwrap();
    let Some(ciborium::Value::Map(vdp)) = s.unprotected_param(crate::core::cose::label::VDP) else {
        panic!()
    };
    let ciborium::Value::Array(proofs) = &vdp[0].1 else {
        panic!()
    };
    assert_eq!(
        rfc9162::verify_consistency_proof(&proofs[0], &old_root, &new_root).unwrap(),
        (5, 9)
    );
    assert!(rfc9162::verify_consistency_proof(&proofs[0], &new_root, &new_root).is_err());
}

#[test]
fn hostile_receipts_are_errors_not_panics() {
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let stmts = statements(1);
    let claims = ReceiptClaims {
        issuer: "ts".into(),
        subject: None,
        issued_at: None,
    };
    let root = merkle::leaf_hash(&rfc9162::leaf_entry(&stmts[0]));
    // leaf_index >= tree_size, a huge tree, and a short path.
    for (size, index, path) in [
        (1u64, 1u64, vec![]),
        (u64::MAX, 0, vec![]),
        (4, 0, vec![[0u8; 32]]),
    ] {
        let bytes =
            rfc9162::issue_inclusion_receipt(&service, b"k", &claims, size, index, &path, &root);
        let r = Receipt::parse(&bytes).unwrap();
        assert!(matches!(
            r.verify(&stmts[0], &service.public_key()),
            Err(ReceiptError::MalformedProof { .. } | ReceiptError::Merkle { .. })
        ));
    }
    for garbage in [&b""[..], b"\xd2\x84", b"\x00", b"\xd2\x84\x40\xa0\xf6\x40"] {
        assert!(Receipt::parse(garbage).is_err());
    }
    // A statement is not a receipt.
    assert!(matches!(
        Receipt::parse(&vector("signed-statement.scitt")),
        Err(ReceiptError::NoVds)
    ));
}
