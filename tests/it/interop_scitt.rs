//! SCITT interop with independent peers from PyPI: our RFC 9162 receipts checked by scitt-cose
//! (a strict clean-room verifier), our statements by pycose, and pycose's statements by us.
//! Run by `scripts/interop.sh` (`#[ignore]`d otherwise: they need the venv).

use crate::common::scitt::{Trust, ts_init};
use crate::common::{keygen, modelseal};
use modelseal::core::cose::{CwtClaims, ProtectedParams, Sign1, sign1};
use modelseal::core::crypto::{Algorithm, PrivateKey};
use modelseal::core::receipt::merkle::{self, Hash};
use modelseal::core::receipt::rfc9162::{self, ReceiptClaims};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn peers(jobs: &[Value]) -> Vec<Value> {
    let venv = PathBuf::from(
        std::env::var("MODELSEAL_PEER_VENV").expect("needs the peers: run scripts/interop.sh"),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/scitt_peers.py");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("peer python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(jobs).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "peer script failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn statement(issuer: &PrivateKey, i: usize) -> Sign1 {
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
    Sign1::parse(&sign1(
        issuer,
        &params,
        vec![],
        format!("{{\"n\": {i}}}").as_bytes(),
        false,
    ))
    .unwrap()
}

#[test]
#[ignore = "needs scitt-cose: run scripts/interop.sh"]
fn our_rfc9162_receipts_verify_with_scitt_cose() {
    let issuer = PrivateKey::generate(Algorithm::ES256).unwrap();
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
        let service = PrivateKey::generate(alg).unwrap();
        let pem = service.public_key().to_spki_pem();
        for n in [1usize, 2, 3, 7, 8, 33] {
            let stmts: Vec<Sign1> = (0..n).map(|i| statement(&issuer, i)).collect();
            let leaves: Vec<Hash> = stmts
                .iter()
                .map(|s| merkle::leaf_hash(&rfc9162::leaf_entry(s)))
                .collect();
            let root = merkle::root(&leaves);
            let claims = ReceiptClaims {
                issuer: "https://ts.example".into(),
                subject: Some("log".into()),
                issued_at: Some(1_750_000_000),
            };
            for i in 0..n {
                let path = merkle::inclusion_proof(&leaves, i);
                let receipt = rfc9162::issue_inclusion_receipt(
                    &service, b"ts-key", &claims, n as u64, i as u64, &path, &root,
                );
                let leaf = hex::encode(rfc9162::leaf_entry(&stmts[i]));
                jobs.push(json!({"op": "verify_receipt", "receipt": hex::encode(&receipt), "leaf": leaf, "pem": pem}));
                expected.push((true, n, i, alg));
                if n > 1 && i == 0 {
                    // The same receipt against another statement's leaf must fail there too.
                    let other = hex::encode(rfc9162::leaf_entry(&stmts[1]));
                    jobs.push(json!({"op": "verify_receipt", "receipt": hex::encode(&receipt), "leaf": other, "pem": pem}));
                    expected.push((false, n, i, alg));
                }
            }
        }
    }
    let results = peers(&jobs);
    for (result, (ok, n, i, alg)) in results.iter().zip(&expected) {
        assert_eq!(
            result["ok"], *ok,
            "scitt-cose on {alg} receipt, tree {n}, leaf {i}: {result}"
        );
        if *ok {
            assert_eq!(result["tree_size"], *n);
            assert_eq!(result["leaf_index"], *i);
        }
    }
    assert!(results.len() > 150, "checked {} receipts", results.len());
}

#[test]
#[ignore = "needs pycose: run scripts/interop.sh"]
fn our_signed_statements_verify_with_pycose_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for alg in ["ES256", "ES384", "EdDSA"] {
        let (private, public) = keygen(dir.path(), alg);
        let out = dir.path().join(format!("{alg}.cose"));
        modelseal()
            .arg("sign")
            .arg("examples/tiny-model")
            .arg("--key")
            .arg(&private)
            .args([
                "--issuer",
                "https://publisher.example",
                "--subject",
                "example/tiny-model",
                "-o",
            ])
            .arg(&out)
            .assert()
            .success();
        let bytes = std::fs::read(&out).unwrap();
        let pem = std::fs::read_to_string(&public).unwrap();
        // The signature is the message's last byte string (64 or 96 bytes here): its last byte
        // is inside it; 40 bytes before the signature is inside the attached payload.
        let sig_len = if alg == "ES384" { 96 } else { 64 };
        let n = bytes.len();
        let mut bad_signature = bytes.clone();
        bad_signature[n - 1] ^= 0x01;
        let mut bad_payload = bytes.clone();
        bad_payload[n - sig_len - 2 - 40] ^= 0x01;
        jobs.push(json!({"op": "pycose_verify", "message": hex::encode(&bytes), "pem": pem, "expect": true, "alg": alg}));
        for tampered in [bad_signature, bad_payload] {
            jobs.push(json!({"op": "pycose_verify", "message": hex::encode(&tampered), "pem": pem, "expect": false, "alg": alg}));
        }
    }
    let results = peers(&jobs);
    for (job, result) in jobs.iter().zip(&results) {
        assert_eq!(
            result["ok"], job["expect"],
            "pycose on our {} statement: {result}",
            job["alg"]
        );
    }
}

#[test]
#[ignore = "needs pycose: run scripts/interop.sh"]
fn statements_pycose_signs_with_scitt_headers_verify_with_modelseal() {
    let dir = tempfile::tempdir().unwrap();
    let jobs: Vec<Value> = ["ES256", "ES384", "PS256", "EdDSA"]
        .iter()
        .map(|alg| json!({"op": "pycose_sign", "alg": alg, "iss": "https://pycose.example", "sub": format!("pycose/{alg}"), "payload": "{\"hello\": \"scitt\"}"}))
        .collect();
    for (job, result) in jobs.iter().zip(peers(&jobs)) {
        let alg = job["alg"].as_str().unwrap();
        let (statement, public) = (
            dir.path().join(format!("{alg}.cose")),
            dir.path().join(format!("{alg}.pem")),
        );
        std::fs::write(
            &statement,
            hex::decode(result["message"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        std::fs::write(&public, result["pem"].as_str().unwrap()).unwrap();
        modelseal()
            .arg("verify")
            .arg(&statement)
            .arg("--key")
            .arg(&public)
            .assert()
            .success()
            .stdout(predicates::str::contains(format!("{alg} by the")))
            .stdout(predicates::str::contains("SCITT headers"));
    }
}

#[test]
#[ignore = "needs scitt-cose: run scripts/interop.sh"]
fn receipts_served_by_our_transparency_service_verify_with_scitt_cose() {
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::AnyIssuer);
    // Killed when dropped, also when the test panics.
    let server = crate::common::ts_server::serve(&ts, &[]);
    let url = server.url.clone();
    let (key, _) = keygen(dir.path(), "ES256");
    let pem = std::fs::read_to_string(ts.join("service.pub")).unwrap();
    let mut jobs = Vec::new();
    for i in 0..5 {
        let statement = dir.path().join(format!("s{i}.cose"));
        modelseal()
            .arg("sign")
            .arg("examples/tiny-model/config.json")
            .arg("--key")
            .arg(&key)
            .args([
                "--issuer",
                "https://publisher.example",
                "--subject",
                &format!("s{i}"),
                "-o",
            ])
            .arg(&statement)
            .assert()
            .success();
        let out = dir.path().join(format!("s{i}.scitt"));
        modelseal()
            .arg("register")
            .arg(&statement)
            .args(["--ts", url.trim(), "--ts-key"])
            .arg(ts.join("service.pub"))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        let bytes = std::fs::read(&out).unwrap();
        let receipt = Sign1::parse(&bytes).unwrap().receipts().unwrap().remove(0);
        // The leaf is built by the peer from the stapled statement's bytes (the "unprotected
        // header emptied" rule checked independently of our own leaf_entry).
        jobs.push(json!({"op": "verify_receipt", "receipt": hex::encode(&receipt), "statement": hex::encode(&bytes), "pem": pem}));
    }
    drop(server);
    for (i, r) in peers(&jobs).iter().enumerate() {
        assert_eq!(r["ok"], true, "scitt-cose on the served receipt {i}: {r}");
        assert_eq!(r["leaf_index"], i);
    }
}
