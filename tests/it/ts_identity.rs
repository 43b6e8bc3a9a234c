//! The transparency service's identity rules (issue 10 cases 8 and 1, service side): a
//! registered issuer key bound to an `iss` signs only that `iss`; receipts carry the entry's
//! registration time; an x5chain is judged at the service's clock, never at the statement's own
//! `iat`, and an `iat` in the future is refused. End to end through `ts init` / `ts serve` and
//! `register --ts local:DIR | URL`, and through the library.

use crate::common::pki::{CODE_SIGNING, Pki, YEAR_2020, YEAR_2021};
use crate::common::scitt::{Trust, local, ts_init};
use crate::common::ts_server::{curl, serve};
use crate::common::{keygen, modelseal};
use modelseal::core::clock::{self, MAX_CLOCK_SKEW_SECS};
use modelseal::core::receipt::Receipt;
use modelseal::transparency::TransparencyLog;
use predicates::str::contains;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const DAY: i64 = 86_400;

/// `modelseal sign` of the tiny model's config: with `--key KEY` and either a kid (no chain)
/// or `--x5chain CHAIN`, claiming `iss`, at `iat` when given.
fn sign(
    dir: &Path,
    name: &str,
    key: &Path,
    chain: Option<&Path>,
    iss: &str,
    iat: Option<i64>,
) -> PathBuf {
    let out = dir.join(format!("{name}.cose"));
    let mut cmd = modelseal();
    cmd.arg("sign")
        .arg("examples/tiny-model/config.json")
        .arg("--key")
        .arg(key)
        .args(["--issuer", iss, "--subject", name, "-o"])
        .arg(&out);
    if let Some(c) = chain {
        cmd.arg("--x5chain").arg(c);
    }
    if let Some(t) = iat {
        cmd.args(["--iat", &t.to_string()]);
    }
    cmd.assert().success();
    out
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

fn stapled_receipt_iat(transparent: &Path) -> Option<i64> {
    let s = modelseal::core::cose::Sign1::parse(&std::fs::read(transparent).unwrap()).unwrap();
    let receipts = s.receipts().unwrap();
    assert_eq!(receipts.len(), 1);
    Receipt::parse(&receipts[0]).unwrap().issued_at()
}

// ---- case 8: issuer binding -------------------------------------------------------------

#[test]
fn a_key_registered_for_an_iss_signs_only_that_iss_locally_and_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("a")).unwrap();
    std::fs::create_dir_all(d.join("b")).unwrap();
    let (a_key, a_pub) = keygen(&d.join("a"), "ES256");
    let (b_key, b_pub) = keygen(&d.join("b"), "ES256");
    let (c_key, c_pub) = keygen(d, "ES384");
    let ts = d.join("ts");
    modelseal()
        .args(["ts", "init", "--dir"])
        .arg(&ts)
        .arg("--issuer-key")
        .arg(&a_pub)
        .args(["--issuer", "https://a.example"])
        .arg("--issuer-key")
        .arg(&b_pub)
        .args(["--issuer", "https://b.example"])
        .arg("--issuer-key")
        .arg(&c_pub)
        .assert()
        .success();

    // a signs its own iss: logged. a claims b's iss: refused, naming both.
    let own = sign(d, "own", &a_key, None, "https://a.example", None);
    register(&own, &local(&ts), &d.join("own.scitt")).success();
    let spoof = sign(d, "spoof", &a_key, None, "https://b.example", None);
    register(&spoof, &local(&ts), &d.join("spoof.scitt"))
        .failure()
        .stderr(contains(format!(
            "key {} is registered for iss \"https://a.example\"; the statement claims iss \"https://b.example\"",
            a_pub.display()
        )));
    assert!(!d.join("spoof.scitt").exists());
    // b signs b; the unbound key c signs anything, as before.
    let b_own = sign(d, "b-own", &b_key, None, "https://b.example", None);
    register(&b_own, &local(&ts), &d.join("b-own.scitt")).success();
    let c_any = sign(d, "c-any", &c_key, None, "https://anyone.example", None);
    register(&c_any, &local(&ts), &d.join("c-any.scitt")).success();
    assert_eq!(TransparencyLog::open(&ts).unwrap().size(), 3);

    // The same over SCRAPI: the service refuses with the reason in its problem details.
    let server = serve(&ts, &[]);
    register(&spoof, &server.url, &d.join("spoof-http.scitt"))
        .failure()
        .stderr(contains("is registered for iss \"https://a.example\"; the statement claims iss \"https://b.example\""));
    register(&own, &server.url, &d.join("own-http.scitt")).success();

    // `ts serve` takes the same flags (and replaces the policy with them).
    drop(server);
    let server = serve(
        &ts,
        &[
            OsStr::new("--issuer-key"),
            b_pub.as_os_str(),
            OsStr::new("--issuer"),
            OsStr::new("https://a.example"),
        ],
    );
    register(&b_own, &server.url, &d.join("b-now-wrong.scitt"))
        .failure()
        .stderr(contains("the statement claims iss \"https://b.example\""));
    let b_as_a = sign(d, "b-as-a", &b_key, None, "https://a.example", None);
    register(&b_as_a, &server.url, &d.join("b-as-a.scitt")).success();
}

#[test]
fn an_issuer_flag_must_directly_follow_its_issuer_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    for args in [
        vec!["--issuer", "https://a.example", "--issuer-key", "K"],
        vec![
            "--issuer-key",
            "K",
            "--accept-any-issuer",
            "--issuer",
            "https://a.example",
        ],
        vec![
            "--issuer-key",
            "K",
            "--issuer",
            "https://a.example",
            "--issuer",
            "https://b.example",
        ],
    ] {
        let args: Vec<&OsStr> = args
            .iter()
            .map(|a| {
                if *a == "K" {
                    public.as_os_str()
                } else {
                    OsStr::new(a)
                }
            })
            .collect();
        modelseal()
            .args(["ts", "init", "--dir"])
            .arg(dir.path().join("ts"))
            .args(&args)
            .assert()
            .code(2)
            .stderr(contains(
                "must come right after the --issuer-key FILE it binds",
            ));
    }
    modelseal()
        .args(["ts", "init", "--dir"])
        .arg(dir.path().join("ts"))
        .arg("--issuer-key")
        .arg(&public)
        .args(["--issuer", ""])
        .assert()
        .code(2)
        .stderr(contains("--issuer needs a non-empty iss"));
    assert!(!dir.path().join("ts").exists());
    // `--issuer-key=FILE --issuer=ISS` pairs too.
    modelseal()
        .args(["ts", "init", "--dir"])
        .arg(dir.path().join("ts"))
        .arg(format!("--issuer-key={}", public.display()))
        .arg("--issuer=https://a.example")
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ts/registration.json")).unwrap())
            .unwrap();
    assert_eq!(json["issuer_keys"][0]["iss"], "https://a.example");
}

#[test]
fn a_registration_file_from_before_issuer_binding_still_loads_and_accepts_any_iss() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let ts = d.join("ts");
    ts_init(&ts, Trust::Key(&public));
    // The old format: issuer_keys as bare PEM strings.
    let pem = std::fs::read_to_string(&public).unwrap();
    let old =
        serde_json::json!({"issuer_keys": [pem], "issuer_roots": [], "accept_any_issuer": false});
    std::fs::write(ts.join("registration.json"), old.to_string()).unwrap();
    let log = TransparencyLog::open(&ts).unwrap();
    assert_eq!(log.issuer_keys().len(), 1);
    assert!(log.issuer_keys()[0].iss.is_none());
    drop(log);
    let s = sign(d, "any", &key, None, "https://whoever.example", None);
    register(&s, &local(&ts), &d.join("any.scitt")).success();
    // A file that does not parse is an error, not an empty policy.
    std::fs::write(ts.join("registration.json"), b"{\"issuer_keys\": 7}").unwrap();
    let err = TransparencyLog::open(&ts).err().unwrap().to_string();
    assert!(err.contains("registration.json"), "{err}");
}

// ---- case 8: receipts' iat is the registration time ------------------------------------------

#[test]
fn receipts_carry_the_registration_time_not_the_time_they_are_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let ts = d.join("ts");
    ts_init(&ts, Trust::Key(&public));

    // local: registered at t0; 2 s later the log's receipt for it still says t0.
    let s0 = sign(d, "first", &key, None, "https://p.example", None);
    let before = clock::now();
    register(&s0, &local(&ts), &d.join("first.scitt")).success();
    let after = clock::now();
    let t0 = stapled_receipt_iat(&d.join("first.scitt")).expect("a receipt iat");
    assert!(
        (before..=after).contains(&t0),
        "{before} <= {t0} <= {after}"
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    {
        let log = TransparencyLog::open(&ts).unwrap();
        assert_eq!(log.registered_at(0).unwrap(), Some(t0));
        let later = log.receipt(0).unwrap();
        assert_eq!(Receipt::parse(&later).unwrap().issued_at(), Some(t0));
    }

    // Over HTTP: the 201 receipt and a GET /entries/{id} 2 s later have the same iat.
    let server = serve(&ts, &[]);
    let s1 = sign(d, "second", &key, None, "https://p.example", None);
    register(&s1, &server.url, &d.join("second.scitt")).success();
    let t1 = stapled_receipt_iat(&d.join("second.scitt")).expect("a receipt iat");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    for (index, expected) in [(0, t0), (1, t1)] {
        let (code, body) = curl(&[&format!("{}/entries/{index}", server.url)]);
        assert_eq!(code, "200");
        assert_eq!(
            Receipt::parse(&body).unwrap().issued_at(),
            Some(expected),
            "entry {index}"
        );
    }
    assert!(t1 > t0);
    // Fetched receipts still verify.
    drop(server);
    modelseal()
        .arg("verify")
        .arg(d.join("second.scitt"))
        .arg("--key")
        .arg(&public)
        .arg("--ts-key")
        .arg(ts.join("service.pub"))
        .assert()
        .success();
}

#[test]
fn the_library_records_the_injected_registration_time_and_old_logs_give_receipts_without_iat() {
    use modelseal::core::crypto::{Algorithm, PrivateKey};
    use modelseal::core::signed_statement::{StatementSpec, sign_statement};
    use modelseal::transparency::registration::{IssuerKeyEntry, RegistrationPolicy};
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts");
    let issuer = PrivateKey::generate(Algorithm::ES256).unwrap();
    TransparencyLog::init(
        &ts,
        &RegistrationPolicy {
            issuer_keys: vec![IssuerKeyEntry::from(issuer.public_key().to_spki_pem())],
            ..Default::default()
        },
    )
    .unwrap();
    let statement = |i: usize| {
        sign_statement(
            &issuer,
            format!("payload {i}").as_bytes(),
            &StatementSpec {
                issuer: "https://p.example".into(),
                subject: format!("m{i}"),
                issued_at: Some(1_700_000_000),
                ..Default::default()
            },
        )
    };
    let log = TransparencyLog::open(&ts).unwrap();
    log.append_at(&[statement(0), statement(1)], 1_700_000_100)
        .unwrap();
    log.append_at(&[statement(2)], 1_700_000_200).unwrap();
    for (i, t) in [(0, 1_700_000_100), (1, 1_700_000_100), (2, 1_700_000_200)] {
        assert_eq!(log.registered_at(i).unwrap(), Some(t));
        let r = log.receipt(i).unwrap();
        assert_eq!(
            Receipt::parse(&r).unwrap().issued_at(),
            Some(t),
            "entry {i}"
        );
    }
    drop(log);

    // A log from before registration times were stored has no `registered` table: it opens,
    // and its receipts carry no iat (unknown), yet verify.
    {
        let db = redb::Database::create(ts.join("log.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        let table: redb::TableDefinition<u64, i64> = redb::TableDefinition::new("registered");
        assert!(txn.delete_table(table).unwrap());
        txn.commit().unwrap();
    }
    let log = TransparencyLog::open(&ts).unwrap();
    assert_eq!(log.size(), 3);
    assert_eq!(log.registered_at(0).unwrap(), None);
    let r = log.receipt(0).unwrap();
    let parsed = Receipt::parse(&r).unwrap();
    assert_eq!(parsed.issued_at(), None);
    let s0 = modelseal::core::cose::Sign1::parse(&statement(0)).unwrap();
    parsed.verify(&s0, &log.public_key()).unwrap();
    // New entries in the old log get a time again.
    let idx = log.append_at(&[statement(3)], 1_700_000_300).unwrap();
    assert_eq!(log.registered_at(idx[0]).unwrap(), Some(1_700_000_300));
}

// ---- case 1, service side: judged at the service's clock ---------------------------------------

#[test]
fn an_expired_leaf_with_a_backdated_iat_is_refused_at_the_services_clock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let team = pki.ca(pki.root(), "team-a");
    // Expired in 2021; the holder signs today claiming 2020-06.
    let expired = pki.leaf(&team, "expired", YEAR_2020, YEAR_2021, &[CODE_SIGNING]);
    let backdated = sign(
        d,
        "backdated",
        &expired.key,
        Some(&expired.chain),
        "https://team-a.example",
        Some(YEAR_2020 + 160 * DAY),
    );
    // A current leaf, honest iat: accepted (the control).
    let now = clock::now();
    let current = pki.leaf(
        &team,
        "current",
        now - DAY,
        now + 365 * DAY,
        &[CODE_SIGNING],
    );
    let good = sign(
        d,
        "good",
        &current.key,
        Some(&current.chain),
        "https://team-a.example",
        None,
    );

    let ts = d.join("ts");
    ts_init(&ts, Trust::Root(&pki.root().cert));
    register(&backdated, &local(&ts), &d.join("backdated.scitt"))
        .failure()
        .stderr(contains("certificate 0 (expired) had expired at"))
        .stderr(contains("to 2021-01-01T00:00:00Z"))
        .stderr(contains("judged at this service's clock"));
    register(&good, &local(&ts), &d.join("good.scitt")).success();

    let server = serve(
        &ts,
        &[OsStr::new("--issuer-root"), pki.root().cert.as_os_str()],
    );
    register(&backdated, &server.url, &d.join("backdated-http.scitt"))
        .failure()
        .stderr(contains("certificate 0 (expired) had expired at"))
        .stderr(contains("to 2021-01-01T00:00:00Z"));
    register(&good, &server.url, &d.join("good-http.scitt")).success();
    assert!(!d.join("backdated.scitt").exists() && !d.join("backdated-http.scitt").exists());
}

#[test]
fn a_not_yet_valid_leaf_is_refused_with_a_forward_dated_iat_and_with_an_honest_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let now = clock::now();
    let future = pki.leaf(pki.root(), "future", now + 10 * DAY, now + 400 * DAY, &[]);
    let ts = d.join("ts");
    let server = serve(
        &ts,
        &[OsStr::new("--issuer-root"), pki.root().cert.as_os_str()],
    );
    // iat inside the leaf's validity (old code judged there and accepted): refused for the iat.
    let forward = sign(
        d,
        "forward",
        &future.key,
        Some(&future.chain),
        "https://future.example",
        Some(now + 20 * DAY),
    );
    register(&forward, &server.url, &d.join("forward.scitt"))
        .failure()
        .stderr(contains("is in the future"));
    // iat honest (now): refused for the leaf, judged now.
    let honest = sign(
        d,
        "honest",
        &future.key,
        Some(&future.chain),
        "https://future.example",
        None,
    );
    register(&honest, &server.url, &d.join("honest.scitt"))
        .failure()
        .stderr(contains("judged at this service's clock"))
        .stderr(contains("certificate 0 (future) was not yet valid at"));
    drop(server);
    register(&forward, &local(&ts), &d.join("forward.scitt"))
        .failure()
        .stderr(contains("is in the future"));
    assert_eq!(TransparencyLog::open(&ts).unwrap().size(), 0);
}

#[test]
fn a_future_iat_is_refused_beyond_the_allowed_skew_and_accepted_within_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let ts = d.join("ts");
    ts_init(&ts, Trust::Key(&public));
    let now = clock::now();
    let far = sign(d, "far", &key, None, "https://p.example", Some(now + 3600));
    register(&far, &local(&ts), &d.join("far.scitt"))
        .failure()
        .stderr(contains("is in the future"))
        .stderr(contains(format!(
            "more than the {MAX_CLOCK_SKEW_SECS} s allowed"
        )));
    let near = sign(d, "near", &key, None, "https://p.example", Some(now + 60));
    register(&near, &local(&ts), &d.join("near.scitt")).success();
}

#[test]
fn the_registration_policy_judges_at_the_clock_it_is_given() {
    use modelseal::core::crypto::PrivateKey;
    use modelseal::core::signed_statement::{StatementSpec, sign_statement};
    use modelseal::transparency::registration::RegistrationPolicy;
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf(pki.root(), "leaf", YEAR_2020, YEAR_2021, &[]);
    let key = PrivateKey::from_pem(&std::fs::read_to_string(&leaf.key).unwrap()).unwrap();
    let policy = RegistrationPolicy {
        issuer_roots: vec![std::fs::read_to_string(&pki.root().cert).unwrap()],
        ..Default::default()
    };
    let statement = sign_statement(
        &key,
        b"{}",
        &StatementSpec {
            issuer: "https://leaf.example".into(),
            subject: "s".into(),
            issued_at: Some(YEAR_2020 + DAY),
            x5chain: leaf.chain_der.clone(),
            ..Default::default()
        },
    );
    // Inside the leaf's validity, the service accepts; after it, the same statement is refused
    // though its iat lies inside: the statement's time is a claim.
    policy
        .admit_at(&statement, &[], YEAR_2020 + 2 * DAY)
        .unwrap();
    let err = policy
        .admit_at(&statement, &[], YEAR_2021 + DAY)
        .unwrap_err()
        .to_string();
    assert!(err.contains("had expired at"), "{err}");
    // Before its iat minus the skew: the iat is in the future.
    let err = policy
        .admit_at(&statement, &[], YEAR_2020 + DAY - MAX_CLOCK_SKEW_SECS - 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is in the future"), "{err}");
    policy
        .admit_at(&statement, &[], YEAR_2020 + DAY - MAX_CLOCK_SKEW_SECS)
        .unwrap(); // within the skew
}
