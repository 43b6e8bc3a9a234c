//! README promises that had no test of their own (issue 20), each end to end through the CLI,
//! against the real registry or a front where a fault must be injected. docs/tests.md maps each
//! promise to its test.

use crate::common::front;
use crate::common::hostile;
use crate::common::registry;
use crate::common::scitt::{Trust, local, register, sign_tiny, ts_init};

use crate::common::{keygen, modelseal};
use modelseal::core::cose::Sign1;
use predicates::str::contains;
use sha2::Digest;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// RFC 9679's COSE key thumbprint of a P-256 key, computed here by hand: SHA-256 over the
/// deterministic CBOR map {1: 2 (EC2), -1: 1 (P-256), -2: x, -3: y}.
fn rfc9679_thumbprint_p256(public_pem: &Path) -> String {
    let key =
        modelseal::core::crypto::PublicKey::from_pem(&std::fs::read_to_string(public_pem).unwrap())
            .unwrap();
    let (x, y) = key.ec_coordinates().unwrap();
    let mut cbor = vec![0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20];
    cbor.extend(&x);
    cbor.extend([0x22, 0x58, 0x20]);
    cbor.extend(&y);
    hex_sha256(&cbor)
}

#[test]
fn the_policy_comes_from_the_flag_then_the_environment_then_the_default_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".config/modelseal")).unwrap();
    let write = |path: &Path, name: &str| {
        std::fs::write(
            path,
            format!(
                "version = 2\n[[policy]]\nname = \"{name}\"\nscopes = [\"*\"]\n[[policy.issuers]]\nkey = {:?}\n",
                public.display().to_string()
            ),
        )
        .unwrap();
    };
    let (flag, env, default) = (
        dir.path().join("flag.toml"),
        dir.path().join("env.toml"),
        home.join(".config/modelseal/policy.toml"),
    );
    write(&flag, "from-flag");
    write(&env, "from-env");
    write(&default, "from-default");
    let show = |with_flag: bool, with_env: bool| {
        let mut cmd = modelseal();
        cmd.env("HOME", &home).env_remove("MODELSEAL_POLICY");
        cmd.args(["policy", "show", "r.example/m:v1"]);
        if with_flag {
            cmd.arg("--policy").arg(&flag);
        }
        if with_env {
            cmd.env("MODELSEAL_POLICY", &env);
        }
        cmd.assert().success()
    };
    show(true, true).stdout(contains("policy 'from-flag'"));
    show(false, true).stdout(contains("policy 'from-env'"));
    show(false, false).stdout(contains("policy 'from-default'"));
    std::fs::remove_file(&default).unwrap();
    modelseal()
        .env("HOME", &home)
        .env_remove("MODELSEAL_POLICY")
        .args(["discover", "--verify", "r.example/m:v1"])
        .assert()
        .code(2)
        .stderr(contains("no trust policy"));
}

#[test]
fn a_statement_takes_its_iat_from_source_date_epoch_and_its_default_kid_is_the_rfc_9679_thumbprint()
{
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "ES256");
    let out = dir.path().join("s.cose");
    modelseal()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["sign", "examples/tiny-model/config.json", "--key"])
        .arg(&private)
        .args(["--issuer", "i", "--subject", "s", "-o"])
        .arg(&out)
        .assert()
        .success();
    let s = Sign1::parse(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(s.claims().unwrap().iat, Some(1_700_000_000));
    // The kid is the thumbprint's bytes (RFC 9679 §3).
    assert_eq!(
        hex::encode(s.kid().unwrap()),
        rfc9679_thumbprint_p256(&public)
    );
}

#[test]
fn the_service_names_one_kid_everywhere_and_it_is_the_keys_thumbprint() {
    // The service's kid is the thumbprint in hex text, the same bytes in every document.
    let dir = tempfile::tempdir().unwrap();
    let ts = ts_init(&dir.path().join("ts"), Trust::AnyIssuer);
    let kid = rfc9679_thumbprint_p256(&ts.join("service.pub"));
    let server = crate::common::ts_server::serve(&ts, &[]);
    let get = |path: &str| {
        let (code, body) = crate::common::ts_server::curl(&[&format!("{}{path}", server.url)]);
        assert_eq!(code, "200", "{path}");
        body
    };
    let jwks: serde_json::Value = serde_json::from_slice(&get("/jwks")).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    let config: ciborium::Value =
        ciborium::from_reader(get("/.well-known/transparency-configuration").as_slice()).unwrap();
    assert!(
        format!("{config:?}").contains(&format!("{}/jwks", server.url)),
        "{config:?}"
    );
    let keyset: ciborium::Value =
        ciborium::from_reader(get("/.well-known/scitt-keys").as_slice()).unwrap();
    let kid_in = |key: &ciborium::Value| {
        key.as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_integer() == Some(2.into()))
            .and_then(|(_, v)| v.as_bytes().cloned())
            .unwrap()
    };
    let keys = keyset.as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(kid_in(&keys[0]), kid.as_bytes());
    let one: ciborium::Value =
        ciborium::from_reader(get(&format!("/.well-known/scitt-keys/{kid}")).as_slice()).unwrap();
    assert_eq!(kid_in(&one), kid.as_bytes());
    // Receipts name the same kid.
    let statement = sign_tiny(dir.path(), &keygen(dir.path(), "ES256").0, "s");
    let stapled = dir.path().join("s.scitt");
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &server.url, "--ts-key"])
        .arg(ts.join("service.pub"))
        .arg("-o")
        .arg(&stapled)
        .assert()
        .success();
    let receipt = Sign1::parse(&std::fs::read(&stapled).unwrap())
        .unwrap()
        .receipts()
        .unwrap()
        .remove(0);
    assert_eq!(
        Sign1::parse(&receipt).unwrap().kid().unwrap(),
        kid.as_bytes()
    );
}

/// Pushes `n` files of about 300 kB to `reference`; returns their bytes.
fn push_files(dir: &Path, reference: &str, n: usize) -> Vec<Vec<u8>> {
    let mut args = vec!["push".to_string(), reference.to_string()];
    let mut all = Vec::new();
    for i in 0..n {
        // Unique to its reference: the registry stores a blob once, and a test that corrupts
        // one in storage must not share it with another test.
        let mut bytes: Vec<u8> = (0..300_000u32)
            .map(|b| (b as usize * (i + 3) % 251) as u8)
            .collect();
        bytes.extend(reference.as_bytes());
        std::fs::write(dir.join(format!("f{i}.bin")), &bytes).unwrap();
        args.push(format!("f{i}.bin:application/octet-stream"));
        all.push(bytes);
    }
    modelseal().current_dir(dir).args(&args).assert().success();
    all
}

fn no_files_in(dir: &Path) -> bool {
    walk(dir).is_empty()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

#[test]
fn a_pull_whose_last_blob_is_bad_writes_no_file_and_bad_bytes_are_fetched_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let registry = registry();
    let files = push_files(d, &format!("{registry}/promises/last-bad:v1"), 4);
    let last = format!("sha256:{}", hex_sha256(&files[3]));

    // 1. A front serving the last blob with one byte changed: caught by its digest, fetched
    //    once (bad bytes are not retried), and no file is written, not even the good three.
    let gets = Arc::new(AtomicUsize::new(0));
    let (count, digest) = (gets.clone(), last.clone());
    let mut wrong = files[3].clone();
    wrong[1000] ^= 1;
    let corrupt = front::start(
        registry.clone(),
        Arc::new(
            move |method: &axum::http::Method,
                  path: &str,
                  _q: Option<&str>,
                  _h: &axum::http::HeaderMap| {
                (*method == axum::http::Method::GET && path.ends_with(&format!("/blobs/{digest}")))
                    .then(|| {
                        count.fetch_add(1, Ordering::SeqCst);
                        axum::response::Response::builder()
                            .header("content-length", wrong.len().to_string())
                            .body(axum::body::Body::from(wrong.clone()))
                            .unwrap()
                    })
            },
        ),
        Arc::new(|_: &axum::http::Method, _: &str, _: &[u8], _| Vec::new()),
    );
    let out = d.join("out-corrupt");
    modelseal()
        .args(["pull", &format!("{corrupt}/promises/last-bad:v1"), "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("digest mismatch"));
    assert!(no_files_in(&out), "{:?}", walk(&out));
    assert_eq!(
        gets.load(Ordering::SeqCst),
        1,
        "bad bytes were fetched again"
    );

    // 2. The last blob answers 500 every time: the pull fails, and writes nothing.
    let digest = last.clone();
    let failing = front::start(
        registry.clone(),
        Arc::new(
            move |method: &axum::http::Method,
                  path: &str,
                  _q: Option<&str>,
                  _h: &axum::http::HeaderMap| {
                (*method == axum::http::Method::GET && path.ends_with(&format!("/blobs/{digest}")))
                    .then(|| {
                        axum::response::Response::builder()
                            .status(500)
                            .body(axum::body::Body::empty())
                            .unwrap()
                    })
            },
        ),
        Arc::new(|_: &axum::http::Method, _: &str, _: &[u8], _| Vec::new()),
    );
    let out = d.join("out-500");
    modelseal()
        .args(["pull", &format!("{failing}/promises/last-bad:v1"), "-o"])
        .arg(&out)
        .assert()
        .failure();
    assert!(no_files_in(&out), "{:?}", walk(&out));

    // 3. The real registry with the last blob corrupted in its storage.
    let storage = Path::new(&std::env::var("MODELSEAL_TEST_REGISTRY_DIR").unwrap())
        .join("storage/docker/registry/v2/blobs/sha256");
    let hex = &last[7..];
    let data = storage.join(&hex[..2]).join(hex).join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[77] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let out = d.join("out-real");
    modelseal()
        .args(["pull", &format!("{registry}/promises/last-bad:v1"), "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("digest mismatch"));
    assert!(no_files_in(&out), "{:?}", walk(&out));
}

#[test]
fn at_most_four_blobs_move_at_once_and_they_do_move_together() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // In flight: counted up when a blob request reaches the front, down when the registry
    // answered it; each is held 150 ms so that overlapping transfers overlap visibly.
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let is_blob = |method: &axum::http::Method, path: &str| {
        (*method == axum::http::Method::PUT && path.contains("/blobs/uploads/"))
            || (*method == axum::http::Method::GET && path.contains("/blobs/sha256:"))
    };
    let (n1, p1, n2) = (now.clone(), peak.clone(), now.clone());
    let seen = Arc::new(Mutex::new(0usize));
    let seen_in = seen.clone();
    let counting = front::start(
        registry(),
        Arc::new(
            move |method: &axum::http::Method,
                  path: &str,
                  _q: Option<&str>,
                  _h: &axum::http::HeaderMap| {
                if is_blob(method, path) {
                    let in_flight = n1.fetch_add(1, Ordering::SeqCst) + 1;
                    p1.fetch_max(in_flight, Ordering::SeqCst);
                    *seen_in.lock().unwrap() += 1;
                    std::thread::sleep(std::time::Duration::from_millis(150));
                }
                None
            },
        ),
        Arc::new(
            move |method: &axum::http::Method, path: &str, _b: &[u8], _s| {
                if is_blob(method, path) {
                    n2.fetch_sub(1, Ordering::SeqCst);
                }
                Vec::new()
            },
        ),
    );
    let reference = format!("{counting}/promises/parallel:v1");
    push_files(d, &reference, 9);
    let pushed_peak = peak.swap(0, Ordering::SeqCst);
    let out = d.join("out");
    modelseal()
        .args(["pull", &reference, "-o"])
        .arg(&out)
        .assert()
        .success();
    let pulled_peak = peak.load(Ordering::SeqCst);
    assert!(
        *seen.lock().unwrap() >= 18,
        "9 uploads and 9 downloads went through the front"
    );
    for (what, p) in [("push", pushed_peak), ("pull", pulled_peak)] {
        assert!(p <= 4, "{what}: {p} blobs at once");
        assert!(p >= 2, "{what}: blobs moved one at a time");
    }
}

#[test]
fn a_statement_without_iat_is_judged_at_its_receipts_registration_time() {
    use crate::common::pki::{Pki, YEAR_2020, YEAR_2021};
    use modelseal::core::signed_statement::{StatementSpec, sign_statement};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let leaf = pki.leaf(pki.root(), "old", YEAR_2020, YEAR_2021, &[]);
    let key =
        modelseal::core::crypto::PrivateKey::from_pem(&std::fs::read_to_string(&leaf.key).unwrap())
            .unwrap();
    let statement = sign_statement(
        &key,
        b"{\"model\": 1}",
        &StatementSpec {
            issuer: "https://old.example".into(),
            subject: "m".into(),
            issued_at: None,
            x5chain: leaf.chain_der.clone(),
            ..Default::default()
        },
    );
    let ts = ts_init(&d.join("ts"), Trust::AnyIssuer);
    // Logged while the leaf was valid (the service's clock injected, as a log run then would).
    let logged_at = YEAR_2020 + 100 * 86_400;
    let log = modelseal::transparency::TransparencyLog::open(&ts).unwrap();
    let index = log
        .append_at(std::slice::from_ref(&statement), logged_at)
        .unwrap()[0];
    let receipt = log.receipt(index).unwrap();
    drop(log);
    let bare = d.join("bare.cose");
    std::fs::write(&bare, &statement).unwrap();
    let stapled = d.join("stapled.scitt");
    std::fs::write(
        &stapled,
        Sign1::parse(&statement).unwrap().with_receipts(&[receipt]),
    )
    .unwrap();
    let verify = |file: &Path| {
        modelseal()
            .arg("verify")
            .arg(file)
            .arg("--cert")
            .arg(&pki.root().cert)
            .arg("--ts-key")
            .arg(ts.join("service.pub"))
            .assert()
    };
    verify(&stapled)
        .success()
        .stdout(contains("registration time proven by verified receipt 1"));
    verify(&bare)
        .code(1)
        .stdout(contains("had expired"))
        .stdout(contains("no trusted time"));
}

#[test]
fn registration_follows_a_303_and_waits_out_a_pending_302_as_retry_after_says() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A real receipt, from an embedded log, which the service below hands out in SCRAPI's
    // asynchronous way: 303 to the entry (Retry-After 1), then 302 pending (Retry-After 1),
    // then 200 with the receipt.
    let ts = ts_init(&d.join("ts"), Trust::AnyIssuer);
    let statement = sign_tiny(d, &keygen(d, "ES256").0, "s");
    let registered = register(&statement, &local(&ts), &d.join("local.scitt"));
    let receipt = Sign1::parse(&std::fs::read(&registered).unwrap())
        .unwrap()
        .receipts()
        .unwrap()
        .remove(0);
    let gets = Arc::new(AtomicUsize::new(0));
    let count = gets.clone();
    let (service, seen) = hostile::server(Arc::new(move |request| {
        let answer = axum::response::Response::builder();
        if request.method() == axum::http::Method::POST {
            return answer
                .status(303)
                .header("location", "/entries/0")
                .header("retry-after", "1")
                .body(axum::body::Body::empty())
                .unwrap();
        }
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            return answer
                .status(302)
                .header("location", "/entries/0")
                .header("retry-after", "1")
                .body(axum::body::Body::empty())
                .unwrap();
        }
        answer
            .status(200)
            .header("content-type", "application/cose")
            .body(axum::body::Body::from(receipt.clone()))
            .unwrap()
    }));
    let started = std::time::Instant::now();
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &format!("http://{service}"), "--ts-key"])
        .arg(ts.join("service.pub"))
        .arg("-o")
        .arg(d.join("async.scitt"))
        .assert()
        .success();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After was not honoured: {:?}",
        started.elapsed()
    );
    let lines: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.line.clone())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].starts_with("GET /entries/0") && lines[2].starts_with("GET /entries/0"));
}

#[test]
fn without_home_no_policy_is_read_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "ES256");
    std::fs::create_dir_all(dir.path().join(".config/modelseal")).unwrap();
    std::fs::write(
        dir.path().join(".config/modelseal/policy.toml"),
        format!(
            "version = 2\n[[policy]]\nname = \"planted\"\nscopes = [\"*\"]\n[[policy.issuers]]\nkey = {:?}\n",
            public.display().to_string()
        ),
    )
    .unwrap();
    modelseal()
        .current_dir(dir.path())
        .env_remove("HOME")
        .env_remove("MODELSEAL_POLICY")
        .args(["policy", "show", "r.example/m:v1"])
        .assert()
        .code(2)
        .stderr(contains("no trust policy"));
}

#[test]
fn policy_init_writes_paths_relative_to_the_policy_so_it_ships_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(bundle.join("keys")).unwrap();
    let (_, public) = keygen(&bundle.join("keys"), "ES256");
    let (_, service) = keygen(&bundle.join("keys"), "ES384");
    let policy = bundle.join("policies/policy.toml");
    modelseal()
        .args(["policy", "init", "--scope", "*", "--issuer-key"])
        .arg(&public)
        .arg("--ts-key")
        .arg(&service)
        .arg("-o")
        .arg(&policy)
        .assert()
        .success();
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("key = \"../keys/es256.pub\""), "{text}");
    assert!(text.contains("key = \"../keys/es384.pub\""), "{text}");
    assert!(!text.contains(&dir.path().display().to_string()), "{text}");
    // Moved elsewhere with its keys, it still loads.
    let moved = dir.path().join("elsewhere");
    std::fs::rename(&bundle, &moved).unwrap();
    modelseal()
        .args(["policy", "show", "r.example/m:v1", "--policy"])
        .arg(moved.join("policies/policy.toml"))
        .assert()
        .success()
        .stdout(contains(
            moved
                .join("policies/../keys/es256.pub")
                .display()
                .to_string(),
        ));
}

#[test]
fn registering_a_statement_twice_returns_its_first_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ts = ts_init(&d.join("ts"), Trust::AnyIssuer);
    let statement = sign_tiny(d, &keygen(d, "ES256").0, "s");
    let register = |ts_arg: &str, out: &str| {
        modelseal()
            .arg("register")
            .arg(&statement)
            .args(["--ts", ts_arg, "--ts-key"])
            .arg(ts.join("service.pub"))
            .arg("-o")
            .arg(d.join(out))
            .assert()
            .success();
        let bytes = std::fs::read(d.join(out)).unwrap();
        let s = Sign1::parse(&bytes).unwrap();
        let receipt = s.receipts().unwrap().remove(0);
        let service = modelseal::core::crypto::PublicKey::from_pem(
            &std::fs::read_to_string(ts.join("service.pub")).unwrap(),
        )
        .unwrap();
        let verified = modelseal::core::receipt::Receipt::parse(&receipt)
            .unwrap()
            .verify(&s, &service)
            .unwrap();
        (verified.leaf_index, verified.tree_size)
    };
    let local = local(&ts);
    let first = register(&local, "a.scitt");
    assert_eq!(register(&local, "b.scitt"), first);
    let server = crate::common::ts_server::serve(&ts, &[]);
    assert_eq!(register(&server.url, "c.scitt"), first);
    // A stapled copy is the same statement too.
    let (code, _) = crate::common::ts_server::curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/cose",
        "--data-binary",
        &format!("@{}", d.join("a.scitt").display()),
        &format!("{}/entries", server.url),
    ]);
    assert_eq!(code, "201");
    drop(server);
    assert_eq!(
        modelseal::transparency::TransparencyLog::open(&ts)
            .unwrap()
            .size(),
        1
    );
}

#[test]
fn receipts_name_the_service_not_the_servers_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let statement = sign_tiny(d, &keygen(d, "ES256").0, "s");
    let issuer_of = |ts: &Path, url: &str, out: &str| {
        modelseal()
            .arg("register")
            .arg(&statement)
            .args(["--ts", url, "--ts-key"])
            .arg(ts.join("service.pub"))
            .arg("-o")
            .arg(d.join(out))
            .assert()
            .success();
        let s = Sign1::parse(&std::fs::read(d.join(out)).unwrap()).unwrap();
        let receipt = s.receipts().unwrap().remove(0);
        modelseal::core::receipt::Receipt::parse(&receipt)
            .unwrap()
            .issuer()
            .map(str::to_string)
    };
    // Served without a name: the URL it listens on, never the directory.
    let plain = d.join("plain-ts");
    ts_init(&plain, Trust::AnyIssuer);
    let server = crate::common::ts_server::serve(&plain, &[]);
    let iss = issuer_of(&plain, &server.url, "a.scitt").unwrap();
    assert_eq!(iss, server.url);
    assert!(!iss.contains(&d.display().to_string()));
    drop(server);
    // Named: the name, over HTTP and in process alike.
    let named = d.join("named-ts");
    modelseal()
        .args([
            "ts",
            "init",
            "--accept-any-issuer",
            "--log-issuer",
            "https://ts.example",
            "--dir",
        ])
        .arg(&named)
        .assert()
        .success();
    let server = crate::common::ts_server::serve(&named, &[]);
    assert_eq!(
        issuer_of(&named, &server.url, "b.scitt").as_deref(),
        Some("https://ts.example")
    );
    drop(server);
    let local = local(&named);
    assert_eq!(
        issuer_of(&named, &local, "c.scitt").as_deref(),
        Some("https://ts.example")
    );
}

#[test]
fn publish_to_an_unreachable_registry_leaves_no_log_entry() {
    // Push before register: a registry that is down must not orphan a log entry.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ts = ts_init(&d.join("ts"), Trust::AnyIssuer);
    let (key, _) = keygen(d, "ES256");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // free, and closed again: connection refused
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            &format!("127.0.0.1:{port}/models/tiny:v1"),
        ])
        .arg("--key")
        .arg(&key)
        .args([
            "--issuer",
            "https://publisher.example",
            "--timeout",
            "2",
            "--ts",
        ])
        .arg(local(&ts))
        .assert()
        .failure();
    assert_eq!(
        modelseal::transparency::TransparencyLog::open(&ts)
            .unwrap()
            .size(),
        0,
        "a log entry for an artifact nobody can fetch"
    );
}

#[test]
fn a_reference_typed_with_a_scheme_or_credentials_gets_a_hint_and_no_secret_printed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), b"{}").unwrap();
    for reference in [
        "https://alice:s3cret@ghcr.io/org/m:v1",
        "alice:s3cret@ghcr.io/org/m:v1",
        "http://localhost:5000/org/m:v1",
    ] {
        for args in [
            vec!["pull", reference, "-o", "out"],
            vec!["push", reference, "x.json"],
            vec!["discover", reference],
        ] {
            let out = modelseal()
                .current_dir(dir.path())
                .args(&args)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(!text.contains("s3cret"), "{args:?}: {text}");
            if reference.contains("://") {
                assert!(
                    text.contains("use --plain-http for HTTP"),
                    "{args:?}: {text}"
                );
            }
        }
    }
}

#[test]
fn a_log_held_by_ts_serve_says_to_register_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ts = ts_init(&d.join("ts"), Trust::AnyIssuer);
    let statement = sign_tiny(d, &keygen(d, "ES256").0, "s");
    let _server = crate::common::ts_server::serve(&ts, &[]);
    let busy = "the log is open in another process (a running `ts serve`?)";
    let out = modelseal()
        .arg("register")
        .arg(&statement)
        .arg("--ts")
        .arg(local(&ts))
        .arg("-o")
        .arg(d.join("s.scitt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(busy) && text.contains("--ts http://"),
        "{text}"
    );
    assert_eq!(
        text.matches(busy).count(),
        1,
        "the cause is printed once: {text}"
    );
    modelseal()
        .args(["ts", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&ts)
        .assert()
        .code(2)
        .stderr(contains(busy));
}

#[test]
fn an_unreachable_or_misspelled_registry_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.json"), b"{}").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed again: refused
    let run = |reference: String| {
        let out = modelseal()
            .current_dir(dir.path())
            .args(["push", &reference, "m.json", "--timeout", "3"])
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let refused = run(format!("127.0.0.1:{port}/m/x:v1"));
    assert!(
        refused.contains("Connection refused") && refused.contains("hint: nothing is listening"),
        "{refused}"
    );
    // `.invalid` never resolves (RFC 2606); where a proxy answers for it instead, there is no
    // resolver error to hint about.
    let unresolved = run("no-such-host.invalid/m/x:v1".into());
    if unresolved.contains("dns error") || unresolved.contains("failed to lookup address") {
        assert!(
            unresolved.contains("hint: the host name does not resolve"),
            "{unresolved}"
        );
    }
}
