//! `ts serve` and `register --ts URL` over real HTTP on loopback (SCRAPI), including a restart
//! of the server between registration and fetching the entry.

use crate::common::scitt::{Trust, sign_tiny, ts_init};
use crate::common::ts_server::{Server, curl};
use crate::common::{keygen, modelseal};
use predicates::str::contains;
use std::ffi::OsStr;
use std::path::Path;

/// `ts serve --dir DIR`, killed when dropped.
fn serve(dir: &Path) -> Server {
    crate::common::ts_server::serve(dir, &[])
}

#[test]
fn scrapi_registration_receipts_keys_errors_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Key(&public));
    let statement = sign_tiny(dir.path(), &key, "tiny");
    let server = serve(&ts);
    let transparent = dir.path().join("s.scitt");
    // First use: the key is fetched from /.well-known/scitt-keys and printed for pinning.
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &server.url, "-o"])
        .arg(&transparent)
        .assert()
        .success()
        .stderr(contains("pin it with --ts-key"));
    modelseal()
        .arg("verify")
        .arg(&transparent)
        .arg("--key")
        .arg(&public)
        .arg("--ts-key")
        .arg(ts.join("service.pub"))
        .assert()
        .success()
        .stdout(contains("profile RFC 9162 (1)"));
    // Pinned, a second registration of the same statement: its first entry again.
    let again = dir.path().join("again.scitt");
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &server.url, "--ts-key"])
        .arg(ts.join("service.pub"))
        .arg("-o")
        .arg(&again)
        .assert()
        .success();

    let (code, keys) = curl(&[&format!("{}/.well-known/scitt-keys", server.url)]);
    assert_eq!(code, "200");
    let keys: ciborium::Value = ciborium::from_reader(keys.as_slice()).unwrap();
    assert!(matches!(keys, ciborium::Value::Array(ref a) if a.len() == 1));
    let (code, _) = curl(&[&format!("{}/entries/99", server.url)]);
    assert_eq!(code, "404");
    let (code, problem) = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/cose",
        "--data-binary",
        "garbage",
        &format!("{}/entries", server.url),
    ]);
    assert_eq!(code, "400");
    let problem: ciborium::Value = ciborium::from_reader(problem.as_slice()).unwrap();
    assert!(format!("{problem:?}").contains("Rejected"), "{problem:?}");

    // Restart: the entries are still there and their receipts still verify.
    drop(server);
    let server = serve(&ts);
    let (code, receipt) = curl(&[&format!("{}/entries/0", server.url)]);
    assert_eq!(code, "200");
    let s = modelseal::core::cose::Sign1::parse(&std::fs::read(&statement).unwrap()).unwrap();
    let service = modelseal::core::crypto::PublicKey::from_pem(
        &std::fs::read_to_string(ts.join("service.pub")).unwrap(),
    )
    .unwrap();
    let v = modelseal::core::receipt::Receipt::parse(&receipt)
        .unwrap()
        .verify(&s, &service)
        .unwrap();
    assert_eq!((v.leaf_index, v.tree_size), (Some(0), Some(1)));
}

#[test]
fn the_server_proves_the_log_only_grew_between_two_tree_heads() {
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts");
    let (given, given_pub) = keygen(dir.path(), "ES384");
    // A given service key is used (and published) instead of a generated one.
    modelseal()
        .args(["ts", "init", "--accept-any-issuer", "--key"])
        .arg(&given)
        .arg("--dir")
        .arg(&ts)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(ts.join("service.pub")).unwrap(),
        std::fs::read_to_string(&given_pub).unwrap()
    );
    let (key, _) = keygen(dir.path(), "ES256");
    let server = serve(&ts);
    let mut first_root = None;
    for i in 0..7 {
        let statement = dir.path().join(format!("s{i}.cose"));
        modelseal()
            .arg("sign")
            .arg("examples/tiny-model/config.json")
            .arg("--key")
            .arg(&key)
            .args(["--issuer", "i", "--subject", &format!("s{i}"), "-o"])
            .arg(&statement)
            .assert()
            .success();
        let out = dir.path().join(format!("s{i}.scitt"));
        modelseal()
            .arg("register")
            .arg(&statement)
            .args(["--ts", &server.url, "--ts-key"])
            .arg(&given_pub)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        if i == 2 {
            // The tree head a client saw after three registrations: size 3 and its root.
            let s = modelseal::core::cose::Sign1::parse(&std::fs::read(&out).unwrap()).unwrap();
            let receipt =
                modelseal::core::receipt::Receipt::parse(&s.receipts().unwrap()[0]).unwrap();
            let service = modelseal::core::crypto::PublicKey::from_pem(
                &std::fs::read_to_string(&given_pub).unwrap(),
            )
            .unwrap();
            first_root = Some(receipt.verify(&s, &service).unwrap().root);
        }
    }
    let (code, body) = curl(&[&format!("{}/consistency/3", server.url)]);
    assert_eq!(code, "200");
    let c = modelseal::core::cose::Sign1::parse(&body).unwrap();
    let Some(ciborium::Value::Map(vdp)) = c.unprotected_param(modelseal::core::cose::label::VDP)
    else {
        panic!("no vdp")
    };
    let ciborium::Value::Array(proofs) = &vdp[0].1 else {
        panic!("no proofs")
    };
    // Its signature covers the current root, which the proof links to the old one.
    let (_, current) = curl(&[&format!("{}/entries/6", server.url)]);
    let last =
        modelseal::core::cose::Sign1::parse(&std::fs::read(dir.path().join("s6.cose")).unwrap())
            .unwrap();
    let service =
        modelseal::core::crypto::PublicKey::from_pem(&std::fs::read_to_string(&given_pub).unwrap())
            .unwrap();
    let new_root = modelseal::core::receipt::Receipt::parse(&current)
        .unwrap()
        .verify(&last, &service)
        .unwrap()
        .root;
    let new_root: [u8; 32] = new_root.try_into().unwrap();
    c.verify_signature(&service, Some(&new_root)).unwrap();
    let old_root: [u8; 32] = first_root.unwrap().try_into().unwrap();
    assert_eq!(
        modelseal::core::receipt::rfc9162::verify_consistency_proof(
            &proofs[0], &old_root, &new_root
        )
        .unwrap(),
        (3, 7)
    );
    let mut forged = old_root;
    forged[0] ^= 1;
    assert!(
        modelseal::core::receipt::rfc9162::verify_consistency_proof(&proofs[0], &forged, &new_root)
            .is_err()
    );
}

/// A legacy CCF-style front (202 + OperationId, /operations/{id}) before our SCRAPI server.
fn legacy_front(upstream: String) -> String {
    use axum::body::{Body, Bytes};
    use axum::extract::{Path as P, State};
    use axum::response::Response;
    use std::sync::{Arc, Mutex};
    #[derive(Clone)]
    struct S {
        upstream: String,
        polls: Arc<Mutex<usize>>,
    }
    fn cbor(v: ciborium::Value) -> Vec<u8> {
        let mut b = Vec::new();
        ciborium::into_writer(&v, &mut b).unwrap();
        b
    }
    async fn post(State(s): State<S>, body: Bytes) -> Response {
        let r = reqwest::Client::new()
            .post(format!("{}/entries", s.upstream))
            .header("content-type", "application/cose")
            .body(body)
            .send()
            .await
            .unwrap();
        let index = r.headers()["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let op = ciborium::Value::Map(vec![(
            ciborium::Value::Text("OperationId".into()),
            ciborium::Value::Text(format!("op-{index}")),
        )]);
        Response::builder()
            .status(202)
            .header("content-type", "application/cbor")
            .body(Body::from(cbor(op)))
            .unwrap()
    }
    async fn operation(State(s): State<S>, P(id): P<String>) -> Response {
        let mut polls = s.polls.lock().unwrap();
        *polls += 1;
        let t = |x: &str| ciborium::Value::Text(x.into());
        let state = if *polls < 2 {
            ciborium::Value::Map(vec![(t("Status"), t("running"))])
        } else {
            ciborium::Value::Map(vec![
                (t("Status"), t("succeeded")),
                (t("EntryId"), t(id.trim_start_matches("op-"))),
            ])
        };
        Response::builder()
            .header("content-type", "application/cbor")
            .body(Body::from(cbor(state)))
            .unwrap()
    }
    async fn entry(State(s): State<S>, P(id): P<String>) -> Response {
        let r = reqwest::get(format!("{}/entries/{id}", s.upstream))
            .await
            .unwrap();
        Response::builder()
            .status(r.status().as_u16())
            .body(Body::from(r.bytes().await.unwrap()))
            .unwrap()
    }
    let state = S {
        upstream,
        polls: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/entries", axum::routing::post(post))
        .route("/entries/{id}", axum::routing::get(entry))
        .route("/operations/{id}", axum::routing::get(operation))
        .with_state(state);
    format!("http://{}", crate::common::serve_router(app, 2))
}

#[test]
fn the_client_speaks_the_legacy_ccf_operations_flow_and_oversize_bodies_get_problem_details() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Key(&public));
    let server = serve(&ts);
    let legacy = legacy_front(server.url.clone());
    let statement = sign_tiny(dir.path(), &key, "tiny");
    let out = dir.path().join("s.scitt");
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &legacy, "--ts-key"])
        .arg(ts.join("service.pub"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    modelseal()
        .arg("verify")
        .arg(&out)
        .arg("--key")
        .arg(&public)
        .arg("--ts-key")
        .arg(ts.join("service.pub"))
        .assert()
        .success();
    let big = dir.path().join("big.cose");
    std::fs::write(&big, vec![0u8; 5 * 1024 * 1024]).unwrap();
    let (code, body) = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/cose",
        "--data-binary",
        &format!("@{}", big.display()),
        &format!("{}/entries", server.url),
    ]);
    assert_eq!(code, "413");
    let problem: ciborium::Value = ciborium::from_reader(body.as_slice()).unwrap();
    assert!(format!("{problem:?}").contains("at most"), "{problem:?}");
}

#[test]
fn serve_makes_the_log_on_first_start_from_its_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let ts = dir.path().join("fresh-ts");
    let server =
        crate::common::ts_server::serve(&ts, &[OsStr::new("--issuer-key"), public.as_os_str()]);
    assert!(ts.join("service.pub").is_file());
    let statement = dir.path().join("s.cose");
    modelseal()
        .arg("sign")
        .arg("examples/tiny-model/config.json")
        .arg("--key")
        .arg(&key)
        .args(["--issuer", "i", "--subject", "s", "-o"])
        .arg(&statement)
        .assert()
        .success();
    modelseal()
        .arg("register")
        .arg(&statement)
        .args(["--ts", &server.url, "--ts-key"])
        .arg(ts.join("service.pub"))
        .arg("-o")
        .arg(dir.path().join("s.scitt"))
        .assert()
        .success();
}
