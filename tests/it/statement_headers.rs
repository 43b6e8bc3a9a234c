//! Statement headers every reader refuses (issue 10 case 7), end to end: an unknown label in
//! `crit`, a CWT claim (or any protected map key) twice, and an x5chain only in the unprotected
//! header — through `modelseal verify`, `register --ts local:DIR` and `ts serve` +
//! `register --ts URL`, each refusal naming its reason; `print-cose` still shows them.

use crate::common::pki::{CODE_SIGNING, Pki};
use crate::common::raw_cose::{self, header_with_kid, iss_sub_iat};
use crate::common::scitt::{Trust, local, ts_init};
use crate::common::ts_server::serve;
use crate::common::{keygen, modelseal};
use ciborium::Value;
use modelseal::core::clock;
use modelseal::core::cose::{claim, label};
use modelseal::core::crypto::PrivateKey;
use modelseal::transparency::TransparencyLog;
use predicates::str::contains;
use std::path::{Path, PathBuf};

const PAYLOAD: &[u8] = br#"{"model": "tiny"}"#;

fn key_of(path: &Path) -> PrivateKey {
    PrivateKey::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn register(statement: &Path, ts: &str, out: &Path) -> assert_cmd::assert::Assert {
    modelseal()
        .arg("register")
        .arg(statement)
        .arg("--ts")
        .arg(ts)
        .arg("-o")
        .arg(out)
        .assert()
}

/// The refusal `reason` through verify (--key), register local: and register URL; nothing is
/// logged. `ts` is a log that accepts `public`'s statements.
fn refused_everywhere(d: &Path, statement: &Path, public: &Path, ts: &Path, reason: &str) {
    let verify = modelseal()
        .arg("verify")
        .arg(statement)
        .arg("--key")
        .arg(public)
        .assert()
        .failure();
    let out = verify.get_output();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains(reason),
        "verify does not say {reason:?}: {all}"
    );
    register(statement, &local(ts), &d.join("x.scitt"))
        .failure()
        .stderr(contains(reason));
    let server = serve(ts, &[]);
    register(statement, &server.url, &d.join("x.scitt"))
        .failure()
        .stderr(contains(reason));
    drop(server);
    assert!(!d.join("x.scitt").exists());
    assert_eq!(TransparencyLog::open(ts).unwrap().size(), 0);
}

fn log_for(d: &Path, public: &Path) -> PathBuf {
    let ts = d.join("ts");
    ts_init(&ts, Trust::Key(public));
    ts
}

#[test]
fn an_unknown_critical_label_is_refused_by_verify_and_registration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key_path, public) = keygen(d, "ES256");
    let key = key_of(&key_path);
    let claims = iss_sub_iat("https://p.example", "tiny", clock::now());
    let crit = |labels: Vec<Value>| (Value::from(label::CRIT), Value::Array(labels));

    // The control: crit naming a label modelseal processes verifies and registers.
    let ok = raw_cose::sign1(
        &key,
        header_with_kid(&key, claims.clone(), vec![crit(vec![Value::from(15)])]),
        vec![],
        PAYLOAD,
    );
    let ok = write(d, "ok.cose", &ok);
    modelseal()
        .arg("verify")
        .arg(&ok)
        .arg("--key")
        .arg(&public)
        .assert()
        .success();

    // typ (16) marked critical: a label coset knows, that modelseal does not process.
    let typ = raw_cose::sign1(
        &key,
        header_with_kid(
            &key,
            claims.clone(),
            vec![
                crit(vec![Value::from(label::TYP)]),
                (
                    Value::from(label::TYP),
                    Value::Text("application/example".into()),
                ),
            ],
        ),
        vec![],
        PAYLOAD,
    );
    let typ = write(d, "typ.cose", &typ);
    let ts = log_for(d, &public);
    refused_everywhere(
        d,
        &typ,
        &public,
        &ts,
        "marks 16 (typ) critical, which modelseal does not process",
    );
    // A private label critical.
    let private = raw_cose::sign1(
        &key,
        header_with_kid(
            &key,
            claims.clone(),
            vec![
                crit(vec![Value::from(-70_000)]),
                (Value::from(-70_000), Value::from(1)),
            ],
        ),
        vec![],
        PAYLOAD,
    );
    let private = write(d, "private.cose", &private);
    refused_everywhere(d, &private, &public, &ts, "marks -70000 critical");
    // A critical label that is not there.
    let absent = raw_cose::sign1(
        &key,
        header_with_kid(
            &key,
            claims.clone(),
            vec![crit(vec![Value::from(label::X5CHAIN)])],
        ),
        vec![],
        PAYLOAD,
    );
    let absent = write(d, "absent.cose", &absent);
    refused_everywhere(
        d,
        &absent,
        &public,
        &ts,
        "lists 33 (x5chain), which is not in the protected header",
    );
    // Empty crit.
    let empty = raw_cose::sign1(
        &key,
        header_with_kid(&key, claims, vec![crit(vec![])]),
        vec![],
        PAYLOAD,
    );
    let empty = write(d, "empty.cose", &empty);
    refused_everywhere(d, &empty, &public, &ts, "crit): an empty array");

    // print-cose shows the message and why it is refused.
    modelseal()
        .arg("print-cose")
        .arg(&typ)
        .assert()
        .success()
        .stdout(contains("refused"))
        .stdout(contains("16 (typ)"));
    register(&ok, &local(&ts), &d.join("ok.scitt")).success();
}

#[test]
fn duplicate_claims_and_header_labels_are_refused_by_verify_and_registration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key_path, public) = keygen(d, "ES256");
    let key = key_of(&key_path);
    let ts = log_for(d, &public);
    let now = clock::now();

    // iss twice: we would have read the last, others the first.
    let two_iss = raw_cose::claims(&[
        (claim::ISS, Value::Text("https://trusted.example".into())),
        (claim::SUB, Value::Text("tiny".into())),
        (claim::IAT, Value::from(now)),
        (claim::ISS, Value::Text("https://other.example".into())),
    ]);
    let s = raw_cose::sign1(
        &key,
        header_with_kid(&key, two_iss, vec![]),
        vec![],
        PAYLOAD,
    );
    let s = write(d, "two-iss.cose", &s);
    refused_everywhere(
        d,
        &s,
        &public,
        &ts,
        "header 15 (CWT claims): key 1 (iss) appears twice",
    );

    // A key twice in a map nested in the claims (cnf).
    let nested = raw_cose::claims(&[
        (claim::ISS, Value::Text("https://p.example".into())),
        (claim::SUB, Value::Text("tiny".into())),
        (
            claim::CNF,
            Value::Map(vec![
                (Value::from(1), Value::from(1)),
                (Value::from(1), Value::from(2)),
            ]),
        ),
    ]);
    let s = raw_cose::sign1(&key, header_with_kid(&key, nested, vec![]), vec![], PAYLOAD);
    let s = write(d, "nested.cose", &s);
    refused_everywhere(d, &s, &public, &ts, "key 1 appears twice (inside 8 (cnf))");

    // The same header label twice (CWT claims).
    let mut header = header_with_kid(&key, iss_sub_iat("https://p.example", "tiny", now), vec![]);
    header.push((
        Value::from(label::CWT_CLAIMS),
        iss_sub_iat("https://other.example", "tiny", now),
    ));
    let s = raw_cose::sign1(&key, header, vec![], PAYLOAD);
    let s = write(d, "two-claims.cose", &s);
    refused_everywhere(
        d,
        &s,
        &public,
        &ts,
        "the protected header has key 15 (CWT claims) twice",
    );
}

#[test]
fn an_x5chain_only_in_the_unprotected_header_is_refused_by_verify_and_registration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let now = clock::now();
    let leaf = pki.leaf(
        pki.root(),
        "signer",
        now - 86_400,
        now + 86_400 * 365,
        &[CODE_SIGNING],
    );
    let key = key_of(&leaf.key);
    let chain = Value::Array(leaf.chain_der.iter().cloned().map(Value::Bytes).collect());
    let protected_base = || {
        vec![
            (Value::from(label::ALG), Value::from(-7)),
            (
                Value::from(label::CONTENT_TYPE),
                Value::Text("application/json".into()),
            ),
            (
                Value::from(label::CWT_CLAIMS),
                iss_sub_iat("https://signer.example", "tiny", now),
            ),
        ]
    };
    // The control: the same chain, protected.
    let mut prot = protected_base();
    prot.push((Value::from(label::X5CHAIN), chain.clone()));
    let good = write(
        d,
        "good.cose",
        &raw_cose::sign1(&key, prot, vec![], PAYLOAD),
    );
    // Unprotected only.
    let bad = write(
        d,
        "bad.cose",
        &raw_cose::sign1(
            &key,
            protected_base(),
            vec![(Value::from(label::X5CHAIN), chain)],
            PAYLOAD,
        ),
    );
    const REASON: &str =
        "x5chain is in the unprotected header; only a protected x5chain identifies the signer";

    modelseal()
        .arg("verify")
        .arg(&good)
        .arg("--cert")
        .arg(&pki.root().cert)
        .assert()
        .success();
    modelseal()
        .arg("verify")
        .arg(&bad)
        .arg("--cert")
        .arg(&pki.root().cert)
        .assert()
        .failure()
        .stdout(contains(REASON));

    // A log trusting the root, and a dev log accepting anyone (which used to log it with the
    // signer's identity gone from the entry).
    let ts = d.join("ts");
    ts_init(&ts, Trust::Root(&pki.root().cert));
    let dev = d.join("dev");
    ts_init(&dev, Trust::AnyIssuer);
    for log in [&ts, &dev] {
        register(&bad, &local(log), &d.join("bad.scitt"))
            .failure()
            .stderr(contains(REASON));
    }
    let server = serve(&ts, &[]);
    register(&bad, &server.url, &d.join("bad.scitt"))
        .failure()
        .stderr(contains(REASON));
    register(&good, &server.url, &d.join("good.scitt")).success();
    drop(server);
    assert!(!d.join("bad.scitt").exists());
    assert_eq!(TransparencyLog::open(&ts).unwrap().size(), 1);
    assert_eq!(TransparencyLog::open(&dev).unwrap().size(), 0);

    // print-cose shows the unprotected chain as data, and says it is not trusted.
    modelseal()
        .arg("print-cose")
        .arg(&bad)
        .assert()
        .success()
        .stdout(contains("CN=signer"))
        .stdout(contains(format!(
            "not trusted: header 33 (x5chain): {REASON}"
        )));
}
