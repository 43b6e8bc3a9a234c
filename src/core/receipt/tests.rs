use super::merkle::{self, Hash};
use super::mmr::{self, tests as mmr_tree};
use super::rfc9162::{self, ReceiptClaims};
use super::*;
use crate::core::cose::{CwtClaims, ProtectedParams, Sign1, sign1};
use crate::core::crypto::{Algorithm, PrivateKey, PublicKey};
use sha2::{Digest, Sha256};

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

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{} not found", hex::encode(needle)))
}

fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut bad = bytes.to_vec();
    bad[at] ^= 0x01;
    bad
}

#[test]
fn the_azure_ccf_receipt_verifies_with_the_service_key() {
    let (statement, receipts) = two_ts();
    let r = Receipt::parse(&receipts[0]).unwrap();
    assert_eq!(r.profile(), Profile::Ccf);
    assert_eq!(r.profile().to_string(), "CCF (2)");
    assert_eq!(
        r.issuer(),
        Some("esrp-cts-cp.confidential-ledger.azure.com")
    );
    assert_eq!(r.subject(), Some("scitt.ccf.signature.v1"));
    assert_eq!(r.issued_at(), Some(1750370741));
    assert_eq!(r.embedded_key(), None);
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
    assert_eq!(v.profile, Profile::Ccf);
    assert_eq!(
        v.issuer.as_deref(),
        Some("esrp-cts-cp.confidential-ledger.azure.com")
    );
    assert_eq!(v.subject.as_deref(), Some("scitt.ccf.signature.v1"));
    assert_eq!(v.issued_at, Some(1750370741));
    // CCF proofs say nothing of tree size or position.
    assert_eq!((v.tree_size, v.leaf_index), (None, None));
}

#[test]
fn the_datatrails_mmr_receipt_verifies_with_the_pinned_key_and_with_its_cnf_key() {
    let (statement, receipts) = two_ts();
    assert_eq!(receipts[1], vector("datatrails-mmr.receipt"));
    let r = Receipt::parse(&receipts[1]).unwrap();
    assert_eq!(r.profile(), Profile::Mmr);
    assert_eq!(r.issuer(), Some("https://github.com/robinbryce/veracity"));
    assert_eq!(r.subject(), Some("fork-768-782.bin"));
    assert_eq!(r.kid(), Some(&b"location:robinbryce/version1"[..]));
    let pinned = key("mmr-service-key.pem");
    let embedded = r.embedded_key().expect("cnf carries a COSE_Key");
    assert_eq!(embedded, pinned);
    for k in [&pinned, &embedded] {
        let v = r.verify(&statement, k).unwrap();
        assert_eq!(v.leaf_index, Some(769));
        assert_eq!(v.subject.as_deref(), Some("fork-768-782.bin"));
        let root = hex::encode(&v.root);
        assert!(
            root.starts_with("09516f4a") && root.ends_with("365f"),
            "{root}"
        );
    }
    // The same receipt read on its own (not from 394) verifies the same way.
    Receipt::parse(&vector("datatrails-mmr.receipt"))
        .unwrap()
        .verify(&statement, &pinned)
        .unwrap();
}

#[test]
fn a_receipt_does_not_verify_with_the_other_service_key() {
    let (statement, receipts) = two_ts();
    for (receipt, other) in receipts
        .iter()
        .zip(["mmr-service-key.pem", "ccf-service-key.pem"])
    {
        let err = Receipt::parse(receipt)
            .unwrap()
            .verify(&statement, &key(other))
            .unwrap_err();
        assert!(matches!(err, ReceiptError::Signature { .. }), "{err}");
    }
}

/// What a receipt's signature and the binding checks cover. DataTrails' -257, -258 and -261 are
/// informational copies of the statement's fields that nothing covers, so a flip there may still
/// verify; so may one that renames -259 away, since that leaf digest only restates what is
/// recomputed anyway. Anything else that verifies would be a hole.
fn bound_parts(r: &Receipt) -> (Vec<u8>, Vec<u8>, Vec<Option<ciborium::Value>>) {
    let s = r.sign1();
    let unprotected = [label::VDP, -260]
        .iter()
        .map(|l| s.unprotected_param(*l).cloned())
        .collect();
    (
        s.protected_bytes().to_vec(),
        s.signature().to_vec(),
        unprotected,
    )
}

#[test]
fn every_flipped_byte_of_a_real_receipt_fails_parse_or_verify_unless_it_is_unsigned_decoration() {
    let (statement, receipts) = two_ts();
    let keys = [key("ccf-service-key.pem"), key("mmr-service-key.pem")];
    for (receipt, key) in receipts.iter().zip(&keys) {
        let original = Receipt::parse(receipt).unwrap();
        let stated_digest = original.sign1().unprotected_param(-259);
        for i in 0..receipt.len() {
            let Ok(r) = Receipt::parse(&flipped(receipt, i)) else {
                continue;
            };
            if r.verify(&statement, key).is_ok() {
                // ciborium reads `undefined` (0xf7) as nil: still a detached payload.
                let digest = r.sign1().unprotected_param(-259);
                assert!(
                    digest.is_none() || digest == stated_digest,
                    "flip at {i} changes -259, yet verifies"
                );
                assert_eq!(
                    bound_parts(&r),
                    bound_parts(&original),
                    "flip at {i} of the {} receipt changes what is signed or bound, yet verifies",
                    r.profile()
                );
            }
        }
    }
}

#[test]
fn representative_flips_in_the_real_receipts_name_the_check_that_failed() {
    let (statement, receipts) = two_ts();
    let (ccf, mmr) = (&receipts[0], &receipts[1]);
    let (ccf_key, mmr_key) = (key("ccf-service-key.pem"), key("mmr-service-key.pem"));
    let fails_with = |bytes: &[u8], key: &PublicKey| {
        Receipt::parse(bytes)
            .unwrap()
            .verify(&statement, key)
            .unwrap_err()
    };
    let data_hash: [u8; 32] = Sha256::digest(vector("signed-statement.scitt")).into();
    let err = fails_with(&flipped(ccf, find(ccf, &data_hash) + 7), &ccf_key);
    assert!(matches!(err, ReceiptError::CcfDataHash { .. }), "{err}");
    for (what, needle) in [
        ("a path hash", &hex::decode("d954e04042f138d3").unwrap()[..]),
        (
            "the internal tx hash",
            &hex::decode("dc97103b209ac1d5").unwrap(),
        ),
        ("the internal evidence", b"ce:138.3387"),
        ("the issuer (protected)", b"esrp-cts-cp"),
    ] {
        let err = fails_with(&flipped(ccf, find(ccf, needle) + 4), &ccf_key);
        assert!(
            matches!(err, ReceiptError::Signature { .. }),
            "CCF {what}: {err}"
        );
    }
    let err = fails_with(&flipped(ccf, ccf.len() - 1), &ccf_key);
    assert!(matches!(err, ReceiptError::Signature { .. }), "{err}");

    let id_timestamp = 10949794893324648192u64.to_be_bytes();
    for (what, needle) in [
        ("-259", &hex::decode("e4731975e9645873").unwrap()[..]),
        ("-260", &id_timestamp[..]),
    ] {
        let err = fails_with(&flipped(mmr, find(mmr, needle) + 5), &mmr_key);
        assert!(
            matches!(err, ReceiptError::MmrLeafDigest { .. }),
            "MMR {what}: {err}"
        );
    }
    for (what, needle) in [
        ("a path hash", &hex::decode("38c9b3e4fb80b2da").unwrap()[..]),
        // {1: 769}: the MMR index
        ("the index", &[0x01, 0x19, 0x03, 0x01]),
        ("the cnf key (protected)", b"P-256"),
    ] {
        let err = fails_with(&flipped(mmr, find(mmr, needle) + 3), &mmr_key);
        assert!(
            matches!(err, ReceiptError::Signature { .. }),
            "MMR {what}: {err}"
        );
    }
}

#[test]
fn every_flipped_byte_of_the_signed_statement_fails_both_real_receipts_at_the_binding_check() {
    let (_, receipts) = two_ts();
    let ccf = Receipt::parse(&receipts[0]).unwrap();
    let mmr = Receipt::parse(&receipts[1]).unwrap();
    let (ccf_key, mmr_key) = (key("ccf-service-key.pem"), key("mmr-service-key.pem"));
    let signed = vector("signed-statement.scitt");
    // Protected header (with the x5chain), payload and signature: every byte.
    let mut checked = 0;
    for i in 0..signed.len() {
        let Ok(other) = Sign1::parse(&flipped(&signed, i)) else {
            continue;
        };
        checked += 1;
        let err = ccf.verify(&other, &ccf_key).unwrap_err();
        assert!(
            matches!(err, ReceiptError::CcfDataHash { .. }),
            "CCF, flip at {i}: {err}"
        );
        let err = mmr.verify(&other, &mmr_key).unwrap_err();
        // A flip that leaves the claims unreadable stops MMR before the leaf can be rebuilt.
        assert!(
            matches!(
                err,
                ReceiptError::MmrLeafDigest { .. } | ReceiptError::Cose(_)
            ),
            "MMR, flip at {i}: {err}"
        );
    }
    assert!(checked > signed.len() * 9 / 10, "{checked} flips parsed");
}

fn statements(n: usize) -> Vec<Sign1> {
    let issuer = PrivateKey::generate(Algorithm::ES256).unwrap();
    (0..n)
        .map(|i| {
            let params = ProtectedParams {
                kid: Some(b"issuer".to_vec()),
                claims: Some(CwtClaims {
                    iss: Some("iss".into()),
                    sub: Some(format!("a model subject longer than 24 bytes, number {i}")),
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

fn rfc9162_leaves(stmts: &[Sign1]) -> Vec<Hash> {
    stmts
        .iter()
        .map(|s| merkle::leaf_hash(&rfc9162::leaf_entry(s)))
        .collect()
}

fn ts_claims() -> ReceiptClaims {
    ReceiptClaims {
        issuer: "https://ts.example".into(),
        subject: Some("log".into()),
        issued_at: Some(1_750_000_000),
    }
}

#[test]
fn issued_rfc9162_receipts_verify_for_every_leaf_and_only_for_their_own_statement() {
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
        let service = PrivateKey::generate(alg).unwrap();
        let stranger = PrivateKey::generate(alg).unwrap().public_key();
        for n in [1usize, 2, 3, 7, 8] {
            let stmts = statements(n);
            let leaves = rfc9162_leaves(&stmts);
            let root = merkle::root(&leaves);
            for (i, s) in stmts.iter().enumerate() {
                let path = merkle::inclusion_proof(&leaves, i);
                let bytes = rfc9162::issue_inclusion_receipt(
                    &service,
                    b"kid",
                    &ts_claims(),
                    n as u64,
                    i as u64,
                    &path,
                    &root,
                );
                let r = Receipt::parse(&bytes).unwrap();
                assert_eq!(r.profile(), Profile::Rfc9162);
                assert_eq!(r.kid(), Some(&b"kid"[..]));
                let v = r.verify(s, &service.public_key()).unwrap();
                assert_eq!(
                    (v.tree_size, v.leaf_index),
                    (Some(n as u64), Some(i as u64))
                );
                assert_eq!(v.root, root.to_vec());
                assert_eq!(
                    (v.issuer.as_deref(), v.subject.as_deref(), v.issued_at),
                    (Some("https://ts.example"), Some("log"), Some(1_750_000_000))
                );
                for (j, other) in stmts.iter().enumerate() {
                    if j != i {
                        let err = r.verify(other, &service.public_key()).unwrap_err();
                        assert!(matches!(err, ReceiptError::Signature { .. }), "{err}");
                    }
                }
                let err = r.verify(s, &stranger).unwrap_err();
                assert!(matches!(err, ReceiptError::Signature { .. }), "{err}");
            }
        }
    }
}

#[test]
fn a_one_leaf_tree_receipt_has_an_empty_path_and_signs_the_leaf_hash() {
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let stmt = &statements(1)[0];
    let leaf = merkle::leaf_hash(&rfc9162::leaf_entry(stmt));
    let bytes = rfc9162::issue_inclusion_receipt(&service, b"k", &ts_claims(), 1, 0, &[], &leaf);
    // {396: {-1: [h'83 01 00 80']}}: [1, 0, []] wrapped in a byte string.
    find(
        &bytes,
        &[
            0xa1, 0x19, 0x01, 0x8c, 0xa1, 0x20, 0x81, 0x44, 0x83, 0x01, 0x00, 0x80, 0xf6,
        ],
    );
    let v = Receipt::parse(&bytes)
        .unwrap()
        .verify(stmt, &service.public_key())
        .unwrap();
    assert_eq!(v.root, leaf.to_vec());
}

#[test]
fn issued_receipts_are_deterministic_cbor_in_the_drafts_layout() {
    let service = PrivateKey::generate(Algorithm::EdDSA).unwrap();
    let stmts = statements(3);
    let leaves = rfc9162_leaves(&stmts);
    let root = merkle::root(&leaves);
    let path = merkle::inclusion_proof(&leaves, 2);
    let issue =
        || rfc9162::issue_inclusion_receipt(&service, b"k1", &ts_claims(), 3, 2, &path, &root);
    let bytes = issue();
    // Ed25519 is deterministic, so the whole receipt is.
    assert_eq!(bytes, issue());
    let r = Receipt::parse(&bytes).unwrap();
    // Protected: {1: -8, 4: 'k1', 15: {1: iss, 2: sub, 6: iat}, 395: 1}, keys in ascending order.
    let protected = r.sign1().protected_bytes();
    assert!(protected.starts_with(&[0xa4, 0x01, 0x27, 0x04, 0x42, b'k', b'1', 0x0f, 0xa3, 0x01]));
    assert!(protected.ends_with(&[0x19, 0x01, 0x8b, 0x01]));
    // Tagged, detached payload, a 64-byte raw signature.
    assert!(bytes.starts_with(&[0xd2, 0x84]));
    let tail = [&[0xf6, 0x58, 0x40][..], r.sign1().signature()].concat();
    assert!(bytes.ends_with(&tail));
    // The proof: [3, 2, [h1]] (leaf 2 of 3 has one sibling, the root of leaves 0..2).
    let mut proof = vec![0x58, 0x26, 0x83, 0x03, 0x02, 0x81, 0x58, 0x20];
    proof.extend_from_slice(&path[0]);
    find(&bytes, &proof);
}

#[test]
fn consistency_receipts_prove_a_prefix_and_nothing_else() {
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let stranger = PrivateKey::generate(Algorithm::ES256).unwrap().public_key();
    let leaves = rfc9162_leaves(&statements(9));
    for new in 1..=9usize {
        let new_root = merkle::root(&leaves[..new]);
        for old in 1..=new {
            let old_root = merkle::root(&leaves[..old]);
            let proof = merkle::consistency_proof(&leaves[..new], old);
            let bytes = rfc9162::issue_consistency_receipt(
                &service,
                b"k",
                &ts_claims(),
                old as u64,
                new as u64,
                &proof,
                &new_root,
            );
            let v = rfc9162::verify_consistency_receipt(&bytes, &old_root, &service.public_key())
                .unwrap();
            assert_eq!(
                (v.old_size, v.new_size, v.new_root),
                (old as u64, new as u64, new_root)
            );
            assert_eq!(v.issuer.as_deref(), Some("https://ts.example"));
            let mut other = old_root;
            other[0] ^= 1;
            let err = rfc9162::verify_consistency_receipt(&bytes, &other, &service.public_key())
                .unwrap_err();
            // A changed old root is caught by the proof itself, or (for old == new, where the
            // proof is empty) by the signature over what would be the new root.
            assert!(
                matches!(
                    err,
                    ReceiptError::Merkle { .. } | ReceiptError::Signature { .. }
                ),
                "{err}"
            );
            assert!(rfc9162::verify_consistency_receipt(&bytes, &old_root, &stranger).is_err());
            // The raw-proof helper agrees.
            let s = Sign1::parse(&bytes).unwrap();
            let proofs = vdp_proofs(&s, Profile::Rfc9162, label::VDP_CONSISTENCY)
                .unwrap()
                .unwrap();
            assert_eq!(
                rfc9162::verify_consistency_proof(&proofs[0], &old_root, &new_root).unwrap(),
                (old as u64, new as u64)
            );
        }
    }
    // An inclusion receipt is not a consistency receipt, and the other way round.
    let stmts = statements(1);
    let leaf = merkle::leaf_hash(&rfc9162::leaf_entry(&stmts[0]));
    let inclusion =
        rfc9162::issue_inclusion_receipt(&service, b"k", &ts_claims(), 1, 0, &[], &leaf);
    assert!(matches!(
        rfc9162::verify_consistency_receipt(&inclusion, &leaf, &service.public_key()),
        Err(ReceiptError::NoConsistencyProof)
    ));
    let consistency =
        rfc9162::issue_consistency_receipt(&service, b"k", &ts_claims(), 1, 1, &[], &leaf);
    assert!(matches!(
        Receipt::parse(&consistency),
        Err(ReceiptError::NoInclusionProof)
    ));
}

/// A receipt signed by `key` with any vds and unprotected header, for hostile shapes.
fn custom_receipt(
    key: &PrivateKey,
    vds: Option<ciborium::Value>,
    unprotected: Vec<(i64, ciborium::Value)>,
    root: &[u8],
    detached: bool,
) -> Vec<u8> {
    let params = ProtectedParams {
        kid: Some(b"k".to_vec()),
        claims: Some(CwtClaims {
            iss: Some("ts".into()),
            ..Default::default()
        }),
        extra: vds.into_iter().map(|v| (label::VDS, v)).collect(),
        ..Default::default()
    };
    sign1(key, &params, unprotected, root, detached)
}

fn vdp(proofs: Vec<ciborium::Value>) -> Vec<(i64, ciborium::Value)> {
    vec![(
        label::VDP,
        ciborium::Value::Map(vec![(
            ciborium::Value::from(label::VDP_INCLUSION),
            ciborium::Value::Array(proofs),
        )]),
    )]
}

fn cbor(v: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

fn rfc9162_proof(size: u64, index: u64, path: Vec<ciborium::Value>) -> ciborium::Value {
    use ciborium::Value as V;
    V::Bytes(cbor(&V::Array(vec![
        V::from(size),
        V::from(index),
        V::Array(path),
    ])))
}

#[test]
fn hostile_proofs_are_named_errors_not_panics() {
    use ciborium::Value as V;
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let public = service.public_key();
    let stmts = statements(2);
    let leaves = rfc9162_leaves(&stmts);
    let root = merkle::root(&leaves);
    let one = V::Bytes(leaves[1].to_vec());
    let verify = |proofs: Vec<V>| {
        let bytes = custom_receipt(&service, Some(V::from(1)), vdp(proofs), &root, true);
        Receipt::parse(&bytes).and_then(|r| r.verify(&stmts[0], &public))
    };
    let good = rfc9162_proof(2, 0, vec![one.clone()]);
    verify(vec![good.clone()]).unwrap();

    let merkle_err = |e: &ReceiptError| matches!(e, ReceiptError::Merkle { .. });
    let malformed_err = |e: &ReceiptError| matches!(e, ReceiptError::MalformedProof { .. });
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<V>, &dyn Fn(&ReceiptError) -> bool)> = vec![
        (
            "leaf_index == tree_size",
            vec![rfc9162_proof(2, 2, vec![one.clone()])],
            &merkle_err,
        ),
        (
            "a path one hash too long",
            vec![rfc9162_proof(2, 0, vec![one.clone(), one.clone()])],
            &merkle_err,
        ),
        (
            "an empty path for a two-leaf tree",
            vec![rfc9162_proof(2, 0, vec![])],
            &merkle_err,
        ),
        (
            "a 31-byte path hash",
            vec![rfc9162_proof(2, 0, vec![V::Bytes(vec![0; 31])])],
            &malformed_err,
        ),
        (
            "a 33-byte path hash",
            vec![rfc9162_proof(2, 0, vec![V::Bytes(vec![0; 33])])],
            &malformed_err,
        ),
        (
            "a text path hash",
            vec![rfc9162_proof(2, 0, vec![V::Text("x".into())])],
            &malformed_err,
        ),
        (
            "a tree of 2^64 - 1 leaves",
            vec![rfc9162_proof(u64::MAX, 0, vec![one.clone(); 64])],
            &malformed_err,
        ),
        (
            "65 path hashes",
            vec![rfc9162_proof(1 << 62, 0, vec![one.clone(); 65])],
            &malformed_err,
        ),
        (
            "a negative leaf index",
            vec![V::Bytes(cbor(&V::Array(vec![
                V::from(2),
                V::from(-1),
                V::Array(vec![one.clone()]),
            ])))],
            &malformed_err,
        ),
        (
            "a proof that is not wrapped in a byte string",
            vec![V::Array(vec![
                V::from(2),
                V::from(0),
                V::Array(vec![one.clone()]),
            ])],
            &malformed_err,
        ),
        (
            "a wrapped proof with trailing bytes",
            vec![V::Bytes(
                [
                    cbor(&V::Array(vec![
                        V::from(2),
                        V::from(0),
                        V::Array(vec![one.clone()]),
                    ])),
                    vec![0],
                ]
                .concat(),
            )],
            &malformed_err,
        ),
        (
            "a wrapped proof that is not CBOR",
            vec![V::Bytes(vec![0x83, 0x02])],
            &malformed_err,
        ),
        (
            "a two-item proof",
            vec![V::Bytes(cbor(&V::Array(vec![V::from(2), V::from(0)])))],
            &malformed_err,
        ),
        (
            "a good proof next to a malformed one",
            vec![
                good.clone(),
                rfc9162_proof(2, 0, vec![V::Bytes(vec![0; 3])]),
            ],
            &malformed_err,
        ),
        ("17 proofs", vec![good.clone(); 17], &|e| {
            matches!(e, ReceiptError::TooManyProofs(17))
        }),
        ("no proofs", vec![], &|e| {
            matches!(e, ReceiptError::NoInclusionProof)
        }),
    ];
    for (what, proofs, expected) in cases {
        let err = verify(proofs).unwrap_err();
        assert!(expected(&err), "{what}: {err}");
    }
    // Several well-formed proofs: one that verifies is enough.
    let wrong = rfc9162_proof(2, 1, vec![one.clone()]);
    verify(vec![wrong.clone(), good.clone()]).unwrap();
    assert!(matches!(
        verify(vec![wrong.clone(), wrong]),
        Err(ReceiptError::Signature { .. })
    ));
}

#[test]
fn hostile_envelopes_are_named_errors_not_panics() {
    use ciborium::Value as V;
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let stmts = statements(1);
    let leaf = merkle::leaf_hash(&rfc9162::leaf_entry(&stmts[0]));
    let proofs = || vdp(vec![rfc9162_proof(1, 0, vec![])]);
    let parse = |bytes: &[u8]| Receipt::parse(bytes).unwrap_err();

    let attached = custom_receipt(&service, Some(V::from(1)), proofs(), &leaf, false);
    assert!(matches!(parse(&attached), ReceiptError::AttachedPayload));
    let no_vds = custom_receipt(&service, None, proofs(), &leaf, true);
    assert!(matches!(parse(&no_vds), ReceiptError::NoVds));
    let mut vds_unprotected = proofs();
    vds_unprotected.push((label::VDS, V::from(1)));
    let unprotected_vds = custom_receipt(&service, None, vds_unprotected, &leaf, true);
    assert!(matches!(parse(&unprotected_vds), ReceiptError::NoVds));
    let text_vds = custom_receipt(&service, Some(V::Text("1".into())), proofs(), &leaf, true);
    assert!(matches!(parse(&text_vds), ReceiptError::BadVds(_)));
    let unknown = custom_receipt(&service, Some(V::from(4)), proofs(), &leaf, true);
    assert!(matches!(parse(&unknown), ReceiptError::UnknownVds(4)));
    let vdp_not_map = custom_receipt(
        &service,
        Some(V::from(1)),
        vec![(label::VDP, V::Array(vec![]))],
        &leaf,
        true,
    );
    assert!(matches!(
        parse(&vdp_not_map),
        ReceiptError::MalformedProof { .. }
    ));
    let no_vdp = custom_receipt(&service, Some(V::from(1)), vec![], &leaf, true);
    assert!(matches!(parse(&no_vdp), ReceiptError::NoInclusionProof));

    let good = custom_receipt(&service, Some(V::from(1)), proofs(), &leaf, true);
    Receipt::parse(&good)
        .unwrap()
        .verify(&stmts[0], &service.public_key())
        .unwrap();
    // Untagged: the same array without d2.
    assert!(matches!(parse(&good[1..]), ReceiptError::Untagged));
    // A critical header we do not process (typ, 16) makes the receipt unusable.
    let mut crit =
        <coset::CoseSign1 as coset::TaggedCborSerializable>::from_tagged_slice(&good).unwrap();
    crit.protected = coset::ProtectedHeader {
        original_data: None,
        header: coset::HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::ES256)
            .add_critical(coset::iana::HeaderParameter::ContentType)
            .content_type("application/x".into())
            .value(label::VDS, V::from(1))
            .build(),
    };
    let crit = coset::TaggedCborSerializable::to_tagged_vec(crit).unwrap();
    let err = parse(&crit);
    assert!(matches!(err, ReceiptError::UnknownCritical(_)), "{err}");
    let big = vec![0u8; MAX_RECEIPT_BYTES + 1];
    assert!(matches!(parse(&big), ReceiptError::TooLarge { .. }));
    // A statement is not a receipt.
    assert!(matches!(
        parse(&vector("signed-statement.scitt")),
        ReceiptError::NoVds
    ));
}

#[test]
fn truncated_and_garbage_receipts_are_errors_not_panics() {
    let (statement, mut receipts) = two_ts();
    let service = PrivateKey::generate(Algorithm::ES384).unwrap();
    let stmts = statements(5);
    let leaves = rfc9162_leaves(&stmts);
    receipts.push(rfc9162::issue_inclusion_receipt(
        &service,
        b"k",
        &ts_claims(),
        5,
        4,
        &merkle::inclusion_proof(&leaves, 4),
        &merkle::root(&leaves),
    ));
    for receipt in &receipts {
        for cut in 0..receipt.len() {
            assert!(Receipt::parse(&receipt[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = receipt.clone();
        extra.push(0xf6);
        assert!(Receipt::parse(&extra).is_err());
    }
    // Deterministic pseudo-random bytes, some with a COSE_Sign1 head in front.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..2000usize {
        let len = n % 300;
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        if n % 2 == 0 {
            bytes.splice(0..0, [0xd2, 0x84]);
        }
        if let Ok(r) = Receipt::parse(&bytes) {
            assert!(r.verify(&statement, &service.public_key()).is_err());
        }
    }
    let deep = [vec![0xd2, 0x84], vec![0x81; 5000]].concat();
    assert!(matches!(
        Receipt::parse(&deep),
        Err(ReceiptError::Cose(CoseError::TooDeep))
    ));
}

/// DataTrails' leaf for a statement (scitt-for-phi README, MMR receipt).
fn datatrails_leaf(statement: &Sign1, id_timestamp: u64) -> Hash {
    let sub = statement.claims().unwrap().sub.unwrap();
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(&sub.as_bytes()[..24]);
    h.update(id_timestamp.to_be_bytes());
    h.update(statement.statement_without_unprotected());
    h.finalize().into()
}

#[test]
fn mmr_receipts_verify_in_the_drafts_wrapped_form_and_datatrails_map_form() {
    use ciborium::Value as V;
    let service = PrivateKey::generate(Algorithm::ES256).unwrap();
    let public = service.public_key();
    let stmts = statements(11);
    let id_timestamp = |e: usize| 0x0100_0000_0000_0000u64 + e as u64;
    let mut db = Vec::new();
    for (e, s) in stmts.iter().enumerate() {
        mmr_tree::add_leaf(&mut db, datatrails_leaf(s, id_timestamp(e)));
    }
    let last = db.len() as u64 - 1;
    // The cnf key in the integer COSE_Key form (DataTrails writes text; both are read).
    let cnf = V::Map(vec![(
        V::from(1),
        crate::core::cose::cose_key(&public, Some(b"k")).unwrap(),
    )]);
    for (e, s) in stmts.iter().enumerate() {
        let index = mmr_tree::mmr_index(e as u64);
        let path: Vec<Hash> = mmr_tree::inclusion_path(index, last)
            .iter()
            .map(|&i| db[i as usize])
            .collect();
        let leaf = datatrails_leaf(s, id_timestamp(e));
        let peak = mmr::included_root(index, &leaf, &path);
        let path_value = V::Array(path.iter().map(|h| V::Bytes(h.to_vec())).collect());
        let map = V::Map(vec![
            (V::from(1), V::from(index)),
            (V::from(2), path_value.clone()),
        ]);
        let wrapped = V::Bytes(cbor(&V::Array(vec![V::from(index), path_value])));
        for (form, proof, with_digest) in [
            ("map", map.clone(), true),
            ("bstr [index, path]", wrapped, true),
            ("bstr {1, 2}", V::Bytes(cbor(&map)), true),
            ("map without -259", map.clone(), false),
        ] {
            let mut unprotected = vdp(vec![proof]);
            if with_digest {
                unprotected.push((-259, V::Bytes(leaf.to_vec())));
            }
            unprotected.push((-260, V::from(id_timestamp(e))));
            let params = ProtectedParams {
                kid: Some(b"k".to_vec()),
                claims: Some(CwtClaims {
                    iss: Some("https://mmr.example".into()),
                    sub: Some("tenant/log".into()),
                    cnf: Some(cnf.clone()),
                    ..Default::default()
                }),
                extra: vec![(label::VDS, V::from(3))],
                ..Default::default()
            };
            let bytes = sign1(&service, &params, unprotected, &peak, true);
            let r = Receipt::parse(&bytes).unwrap();
            assert_eq!(r.embedded_key(), Some(public.clone()));
            let v = r
                .verify(s, &public)
                .unwrap_or_else(|err| panic!("leaf {e}, {form}: {err}"));
            assert_eq!((v.leaf_index, v.root.as_slice()), (Some(index), &peak[..]));
            let other = &stmts[(e + 1) % stmts.len()];
            let err = r.verify(other, &public).unwrap_err();
            if with_digest {
                assert!(matches!(err, ReceiptError::MmrLeafDigest { .. }), "{err}");
            } else {
                assert!(matches!(err, ReceiptError::Signature { .. }), "{err}");
            }
        }
    }
}
