//! The embedded transparency log (`ts init`, `register --ts local:DIR`, `publish --ts`): durable
//! entries, RFC 9162 receipts that verify with the pinned service key, and a registration policy
//! that refuses what it cannot vouch for and leaves the log untouched.

use crate::common::scitt::{Trust, local, register, sign_tiny, ts_init};
use crate::common::{keygen, modelseal};
use modelseal::transparency::TransparencyLog;
use predicates::str::contains;

#[test]
fn registered_statements_get_receipts_that_verify_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Key(&public));
    let service_pub = ts.join("service.pub");
    let mut transparent = Vec::new();
    for i in 0..5 {
        let statement = sign_tiny(dir.path(), &key, &format!("model-{i}"));
        let out = dir.path().join(format!("model-{i}.scitt"));
        modelseal()
            .arg("register")
            .arg(&statement)
            .arg("--ts")
            .arg(local(&ts))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        transparent.push(out);
    }
    // Every receipt, including the first (issued against a tree of 1), verifies with the pinned key.
    for (i, t) in transparent.iter().enumerate() {
        modelseal()
            .arg("verify")
            .arg(t)
            .arg("--key")
            .arg(&public)
            .arg("--ts-key")
            .arg(&service_pub)
            .assert()
            .success()
            .stdout(contains(format!("leaf {i} of a tree of {}", i + 1)));
    }
    // Reopened, the log has all five entries and issues receipts for old ones against the new tree.
    let log = TransparencyLog::open(&ts).unwrap();
    assert_eq!(log.size(), 5);
    let receipt = log.receipt(0).unwrap();
    let statement =
        modelseal::core::cose::Sign1::parse(&std::fs::read(&transparent[0]).unwrap()).unwrap();
    let verified = modelseal::core::receipt::Receipt::parse(&receipt)
        .unwrap()
        .verify(&statement, &log.public_key())
        .unwrap();
    assert_eq!(
        (verified.tree_size, verified.leaf_index),
        (Some(5), Some(0))
    );
}

#[test]
fn the_log_refuses_unknown_issuers_and_malformed_statements_and_stays_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let (stranger, _) = keygen(dir.path(), "ES384");
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Key(&public));
    let foreign = sign_tiny(dir.path(), &stranger, "foreign");
    let out = dir.path().join("out.scitt");
    let log = local(&ts);
    modelseal()
        .arg("register")
        .arg(&foreign)
        .args(["--ts", &log, "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("issuer not trusted"));
    let garbage = dir.path().join("garbage.cose");
    std::fs::write(&garbage, b"\xd2\x84garbage").unwrap();
    modelseal()
        .arg("register")
        .arg(&garbage)
        .args(["--ts", &log, "-o"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.exists());
    assert_eq!(TransparencyLog::open(&ts).unwrap().size(), 0);
    // A dev log accepts anyone, and says so.
    let dev = dir.path().join("dev-ts");
    modelseal()
        .args(["ts", "init", "--accept-any-issuer", "--dir"])
        .arg(&dev)
        .assert()
        .success()
        .stderr(contains("ANY issuer"));
    register(&foreign, &local(&dev), &out);
}

#[test]
fn publish_with_an_embedded_log_meets_a_policy_that_requires_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Key(&public));
    let layout = format!("{}:v1", dir.path().join("layout").display());
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            &layout,
            "--oci-layout",
            "--files",
            "--key",
        ])
        .arg(&key)
        .args([
            "--issuer",
            "https://publisher.example",
            "--subject",
            "tiny",
            "--ts",
            &local(&ts),
        ])
        .assert()
        .success();
    let policy = dir.path().join("policy.toml");
    modelseal()
        .args(["policy", "init", "--issuer-key"])
        .arg(&public)
        .arg("--ts-key")
        .arg(ts.join("service.pub"))
        .args(["--min-receipts", "1", "-o"])
        .arg(&policy)
        .assert()
        .success();
    modelseal()
        .args(["discover", "--oci-layout", "--verify", &layout, "--policy"])
        .arg(&policy)
        .assert()
        .success()
        .stdout(contains("profile RFC 9162 (1)"))
        .stdout(contains("✔ policy met"));
}

#[test]
fn a_log_with_an_issuer_root_accepts_the_real_microsoft_statement_and_refuses_it_without() {
    let dir = tempfile::tempdir().unwrap();
    let statement = crate::common::vector("scitt-for-phi/signed-statement.scitt");
    let bytes = std::fs::read(&statement).unwrap();
    let s = modelseal::core::cose::Sign1::parse(&bytes).unwrap();
    let iat = s.claims().unwrap().iat.unwrap();
    let root = dir.path().join("root.der");
    std::fs::write(&root, &s.x5chain().unwrap()[2]).unwrap();
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Root(&root));
    let out = dir.path().join("out.scitt");
    // Today its leaf has expired: a service judges at its own clock, not at the statement's iat.
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &local(&ts), "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("had expired at"))
        .stderr(contains("judged at this service's clock"));
    // Registered when it was made (the service's clock injected): x5chain to the root,
    // did:x509 resolved; the receipt says when, and the transparent statement verifies.
    let log = TransparencyLog::open(&ts).unwrap();
    let index = log
        .append_at(std::slice::from_ref(&bytes), iat + 2)
        .unwrap()[0];
    let receipt = log.receipt(index).unwrap();
    assert_eq!(
        modelseal::core::receipt::Receipt::parse(&receipt)
            .unwrap()
            .issued_at(),
        Some(iat + 2)
    );
    std::fs::write(&out, s.with_receipts(&[receipt])).unwrap();
    drop(log);
    modelseal()
        .arg("verify")
        .arg(&out)
        .arg("--cert")
        .arg(&root)
        .arg("--ts-key")
        .arg(ts.join("service.pub"))
        .assert()
        .success()
        .stdout(contains("profile RFC 9162 (1)"));
    // A log trusting another root refuses it, naming the chain.
    let (_, other_pub) = keygen(dir.path(), "ES256");
    let other = dir.path().join("other-ts");
    ts_init(&other, Trust::Key(&other_pub));
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &local(&other), "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("issuer not trusted"));
}
