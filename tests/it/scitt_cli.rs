//! The SCITT commands end to end on real files: the Microsoft-signed Phi-4 statement with its
//! Azure CCF and DataTrails MMR receipts, and statements we sign ourselves.

use crate::common::{copy_dir, json_of, keygen, modelseal, vector};
use modelseal::core::cose::Sign1;
use predicates::str::contains;
use std::path::{Path, PathBuf};

fn phi(name: &str) -> PathBuf {
    vector(&format!("scitt-for-phi/{name}"))
}

/// The statement's root certificate (x5chain[2]) written as DER: what a user would pin.
fn microsoft_root(dir: &Path) -> PathBuf {
    let s = Sign1::parse(&std::fs::read(phi("signed-statement.scitt")).unwrap()).unwrap();
    let root = dir.join("root.der");
    std::fs::write(&root, &s.x5chain().unwrap()[2]).unwrap();
    root
}

fn verify_phi(dir: &Path, statement: &Path) -> assert_cmd::Command {
    let mut cmd = modelseal();
    cmd.arg("verify")
        .arg(statement)
        .arg("--cert")
        .arg(microsoft_root(dir))
        .arg("--ts-key")
        .arg(phi("ccf-service-key.pem"))
        .arg("--ts-key")
        .arg(phi("mmr-service-key.pem"))
        .arg("--payload")
        .arg(phi("model-manifest.json"));
    cmd
}

#[test]
fn the_real_two_receipt_statement_verifies_and_names_both_services() {
    let dir = tempfile::tempdir().unwrap();
    verify_phi(dir.path(), &phi("2ts-statement.scitt"))
        .assert()
        .success()
        .stdout(contains("transparent statement"))
        .stdout(contains(
            "receipt 1: profile CCF (2), issuer esrp-cts-cp.confidential-ledger.azure.com, subject scitt.ccf.signature.v1",
        ))
        .stdout(contains(
            "receipt 2: profile MMR (3), issuer https://github.com/robinbryce/veracity, subject fork-768-782.bin",
        ))
        .stdout(contains("PS384 by the x5chain leaf key"))
        .stdout(contains(
            "valid at 2025-06-19T22:05:41Z (registration time proven by verified receipt 1)",
        ))
        .stdout(contains("resolves against the validated chain"))
        .stdout(contains("SHA-384 of the given payload matches"))
        .stdout(contains("✔ verified"));
}

#[test]
fn json_report_lists_each_receipt_with_profile_issuer_subject_and_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = verify_phi(dir.path(), &phi("2ts-statement.scitt"))
        .args(["--format", "json"])
        .assert()
        .success();
    let report = json_of(&out.get_output().stdout);
    assert_eq!(report["verified"], true);
    assert_eq!(report["kind"], "transparent-statement");
    let receipts = report["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[0]["vds"], 2);
    assert_eq!(receipts[1]["vds"], 3);
    assert!(receipts.iter().all(|r| r["verified"] == true));
}

#[test]
fn the_one_receipt_statement_verifies_with_the_ccf_key_alone() {
    let dir = tempfile::tempdir().unwrap();
    modelseal()
        .arg("verify")
        .arg(phi("1ts-statement.scitt"))
        .arg("--cert")
        .arg(microsoft_root(dir.path()))
        .arg("--ts-key")
        .arg(phi("ccf-service-key.pem"))
        .assert()
        .success()
        .stdout(contains("receipt 1: profile CCF (2)"))
        .stdout(contains("give --payload to check the preimage"));
}

#[test]
fn an_mmr_receipt_whose_key_is_not_pinned_fails_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    modelseal()
        .arg("verify")
        .arg(phi("2ts-statement.scitt"))
        .arg("--cert")
        .arg(microsoft_root(dir.path()))
        .arg("--ts-key")
        .arg(phi("ccf-service-key.pem"))
        .assert()
        .code(1)
        .stdout(contains("✘ receipt 2"))
        .stdout(contains("only when pinned"));
}

#[test]
fn without_a_trusted_root_the_x5chain_statement_is_not_verified() {
    modelseal()
        .arg("verify")
        .arg(phi("signed-statement.scitt"))
        .assert()
        .code(1)
        .stdout(contains("--cert"));
}

#[test]
fn a_flipped_byte_in_a_receipt_proof_or_the_payload_hash_fails_the_check_that_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(phi("2ts-statement.scitt")).unwrap();
    // A byte inside the MMR receipt's first proof hash (its sibling 38c9b3e4…).
    let mmr_at = find(&original, &hex::decode("38c9b3e4fb80b2da").unwrap()) + 4;
    let payload_hash = Sign1::parse(&original).unwrap().payload().unwrap().to_vec();
    let payload_at = find(&original, &payload_hash) + 5;
    for (at, failing) in [(mmr_at, "receipt 2"), (payload_at, "signature")] {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        let tampered = dir.path().join("tampered.scitt");
        std::fs::write(&tampered, &bytes).unwrap();
        let assert = verify_phi(dir.path(), &tampered).assert().code(1);
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
        assert!(
            stdout.contains(&format!("✘ {failing}")),
            "flip at {at}: {stdout}"
        );
    }
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("present")
}

#[test]
fn stapling_the_mmr_receipt_onto_1ts_reproduces_2ts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("2ts.scitt");
    modelseal()
        .arg("staple")
        .arg(phi("1ts-statement.scitt"))
        .arg(phi("datatrails-mmr.receipt"))
        .arg("--ts-key")
        .arg(phi("mmr-service-key.pem"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(phi("2ts-statement.scitt")).unwrap()
    );
}

#[test]
fn stapling_refuses_a_receipt_that_does_not_verify_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.scitt");
    // The MMR service's key cannot have signed the CCF receipt.
    let ccf_receipt = dir.path().join("ccf.receipt");
    let one = Sign1::parse(&std::fs::read(phi("1ts-statement.scitt")).unwrap()).unwrap();
    std::fs::write(&ccf_receipt, &one.receipts().unwrap()[0]).unwrap();
    modelseal()
        .arg("staple")
        .arg(phi("signed-statement.scitt"))
        .arg(&ccf_receipt)
        .arg("--ts-key")
        .arg(phi("mmr-service-key.pem"))
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("does not verify"));
    assert!(!out.exists());
    modelseal()
        .arg("staple")
        .arg(phi("signed-statement.scitt"))
        .arg(&ccf_receipt)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("--ts-key"));
}

#[test]
fn generated_private_keys_are_owner_only_and_not_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "ES256");
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    modelseal()
        .args(["key", "generate", "-o"])
        .arg(dir.path().join("es256"))
        .assert()
        .code(2)
        .stderr(contains("--force"));
}

#[test]
fn a_signed_model_verifies_and_a_tampered_copy_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny-model");
    copy_dir(Path::new("examples/tiny-model"), &model);
    for alg in ["ES256", "ES384", "EdDSA"] {
        let (private, public) = keygen(dir.path(), alg);
        let statement = dir.path().join(format!("{alg}.cose"));
        modelseal()
            .arg("sign")
            .arg(&model)
            .arg("--key")
            .arg(&private)
            .args([
                "--issuer",
                "https://publisher.example",
                "--subject",
                "example/tiny-model",
                "-o",
            ])
            .arg(&statement)
            .assert()
            .success();
        modelseal()
            .arg("verify")
            .arg(&statement)
            .arg("--key")
            .arg(&public)
            .arg("--model")
            .arg(&model)
            .assert()
            .success()
            .stdout(contains(format!("{alg} by the")))
            .stdout(contains("4 files match the signed manifest"));
    }
    std::fs::write(model.join("config.json"), b"{\"tampered\": true}").unwrap();
    let (_, public) = (dir.path().join("es256.key"), dir.path().join("es256.pub"));
    modelseal()
        .arg("verify")
        .arg(dir.path().join("ES256.cose"))
        .arg("--key")
        .arg(&public)
        .arg("--model")
        .arg(&model)
        .assert()
        .code(1)
        .stdout(contains("✘ model files: modified: config.json"));
}

#[test]
fn a_statement_without_issuer_or_subject_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keygen(dir.path(), "ES256");
    let out = dir.path().join("s.cose");
    modelseal()
        .arg("sign")
        .arg("examples/tiny-model")
        .arg("--key")
        .arg(&private)
        .args(["--issuer", "https://publisher.example", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("--subject"));
    assert!(!out.exists());
}

#[test]
fn a_statement_checked_with_another_key_fails_the_signature_check() {
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keygen(dir.path(), "ES256");
    let (_, other_public) = keygen(dir.path(), "ES384");
    let statement = dir.path().join("s.cose");
    modelseal()
        .arg("sign")
        .arg(phi("model-manifest.json"))
        .arg("--key")
        .arg(&private)
        .args(["--issuer", "iss", "--subject", "sub", "-o"])
        .arg(&statement)
        .assert()
        .success();
    modelseal()
        .arg("verify")
        .arg(&statement)
        .arg("--key")
        .arg(&other_public)
        .assert()
        .code(1)
        .stdout(contains("✘ signature"));
}

#[test]
fn a_hash_envelope_checks_the_manifest_given_with_payload_and_then_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "ES256");
    let (statement, manifest) = (
        dir.path().join("env.cose"),
        dir.path().join("manifest.json"),
    );
    modelseal()
        .arg("sign")
        .arg("examples/tiny-model")
        .arg("--key")
        .arg(&private)
        .args([
            "--issuer",
            "iss",
            "--subject",
            "sub",
            "--hash-envelope",
            "--manifest-out",
        ])
        .arg(&manifest)
        .arg("-o")
        .arg(&statement)
        .assert()
        .success();
    let s = Sign1::parse(&std::fs::read(&statement).unwrap()).unwrap();
    assert_eq!(
        s.payload().unwrap().len(),
        32,
        "the payload is the SHA-256 of the manifest"
    );
    assert!(
        s.content_type().is_none(),
        "a hash envelope carries no content type"
    );
    modelseal()
        .arg("verify")
        .arg(&statement)
        .arg("--key")
        .arg(&public)
        .arg("--payload")
        .arg(&manifest)
        .arg("--model")
        .arg("examples/tiny-model")
        .assert()
        .success()
        .stdout(contains("SHA-256 of the given payload matches"));
    let mut edited = std::fs::read(&manifest).unwrap();
    edited.push(b' ');
    std::fs::write(&manifest, edited).unwrap();
    modelseal()
        .arg("verify")
        .arg(&statement)
        .arg("--key")
        .arg(&public)
        .arg("--payload")
        .arg(&manifest)
        .assert()
        .code(1)
        .stdout(contains("✘ payload"));
}

#[test]
fn print_cose_shows_headers_by_name_certificates_and_nested_receipt_proofs() {
    modelseal()
        .arg("print-cose")
        .arg(phi("2ts-statement.scitt"))
        .assert()
        .success()
        .stdout(contains("alg (1): PS384 (-38)"))
        .stdout(contains("CWT claims (15)"))
        .stdout(contains("iat (6): 2025-06-19T22:05:39Z"))
        .stdout(contains("x5chain (33)"))
        .stdout(contains("payload hash alg (258): SHA-384 (-43)"))
        .stdout(contains("vds (395): CCF (2)"))
        .stdout(contains("vds (395): MMR (3)"))
        .stdout(contains("inclusion proofs (-1)"));
    let out = modelseal()
        .args(["print-cose", "--format", "json"])
        .arg(phi("datatrails-mmr.receipt"))
        .assert()
        .success();
    let dump = json_of(&out.get_output().stdout);
    assert_eq!(dump["kind"], "receipt");
    assert_eq!(dump["payload"], "detached (nil)");
}

#[test]
fn garbage_and_truncated_input_is_a_clear_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(phi("2ts-statement.scitt")).unwrap();
    let cut = dir.path().join("cut.scitt");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for cmd in ["verify", "print-cose"] {
        modelseal()
            .arg(cmd)
            .arg(&cut)
            .assert()
            .code(2)
            .stderr(contains("cut.scitt"));
    }
}

/// A root CA and a code-signing leaf for `key`, made with the openssl CLI. Returns (root, chain).
fn certificates_for(dir: &Path, key: &Path) -> (PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-subj",
        "/CN=modelseal test root",
        "-days",
        "3650",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    std::fs::write(dir.join("leaf.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n").unwrap();
    run(&[
        "req",
        "-new",
        "-key",
        key.to_str().unwrap(),
        "-subj",
        "/CN=model publisher/O=Example",
        "-out",
        "leaf.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "30",
        "-extfile",
        "leaf.ext",
    ]);
    let chain = format!(
        "{}{}",
        std::fs::read_to_string(dir.join("leaf.pem")).unwrap(),
        std::fs::read_to_string(dir.join("root.pem")).unwrap()
    );
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    (dir.join("root.pem"), dir.join("chain.pem"))
}

#[test]
fn an_x5chain_statement_verifies_under_its_root_with_a_did_x509_issuer_at_its_own_time() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keygen(dir.path(), "ES256");
    let (root, chain) = certificates_for(dir.path(), &private);
    let root_der =
        modelseal::core::crypto::pem_decode_all(&std::fs::read_to_string(&root).unwrap()).unwrap()
            [0]
        .1
        .clone();
    let fingerprint = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(modelseal::core::manifest::sha256(&root_der));
    let did = format!("did:x509:0:sha256:{fingerprint}::eku:1.3.6.1.5.5.7.3.3");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign = |issuer: &str, iat: u64, out: &Path| {
        modelseal()
            .arg("sign")
            .arg("examples/tiny-model")
            .arg("--key")
            .arg(&private)
            .arg("--x5chain")
            .arg(&chain)
            .args([
                "--issuer",
                issuer,
                "--subject",
                "example/tiny-model",
                "--iat",
                &iat.to_string(),
                "-o",
            ])
            .arg(out)
            .assert()
            .success();
    };
    let verify = |statement: &Path, trusted: &Path| {
        let mut cmd = modelseal();
        cmd.arg("verify")
            .arg(statement)
            .arg("--cert")
            .arg(trusted)
            .arg("--model")
            .arg("examples/tiny-model");
        cmd
    };
    let good = dir.path().join("good.cose");
    sign(&did, now, &good);
    let s = Sign1::parse(&std::fs::read(&good).unwrap()).unwrap();
    assert!(
        s.kid().is_none() && s.x5chain().unwrap().len() == 2,
        "named by certificate, not kid"
    );
    verify(&good, &root)
        .assert()
        .success()
        .stdout(contains("✔ certificate chain"))
        .stdout(contains("resolves against the validated chain"))
        .stdout(contains("ES256 by the x5chain leaf key"));

    // Another root does not vouch for it.
    let other = tempfile::tempdir().unwrap();
    let (other_root, _) = certificates_for(other.path(), &private);
    verify(&good, &other_root)
        .assert()
        .code(1)
        .stdout(contains("✘ certificate chain"));

    // An issuer DID that asks for another EKU is refused.
    let wrong_eku = dir.path().join("eku.cose");
    sign(
        &did.replace("1.3.6.1.5.5.7.3.3", "1.3.6.1.5.5.7.3.1"),
        now,
        &wrong_eku,
    );
    verify(&wrong_eku, &root)
        .assert()
        .code(1)
        .stdout(contains("✘ issuer"));

    // iat is a claim: a statement dated a year before its leaf existed is judged now (no
    // receipt proves a time), when the leaf is valid.
    let early = dir.path().join("early.cose");
    sign(&did, now - 365 * 86_400, &early);
    verify(&early, &root)
        .assert()
        .success()
        .stdout(contains("no trusted time"));
    // A statement dated tomorrow is refused, whatever its certificates say.
    let late = dir.path().join("late.cose");
    sign(&did, now + 86_400, &late);
    verify(&late, &root)
        .assert()
        .code(1)
        .stdout(contains("✘ issued at"))
        .stdout(contains("is in the future"));
}

#[test]
fn a_lone_receipt_verifies_against_the_statement_it_is_for() {
    modelseal()
        .arg("verify")
        .arg(phi("datatrails-mmr.receipt"))
        .arg("--statement")
        .arg(phi("signed-statement.scitt"))
        .arg("--ts-key")
        .arg(phi("mmr-service-key.pem"))
        .assert()
        .success()
        .stdout(contains("receipt: profile MMR (3)"));
    modelseal()
        .arg("verify")
        .arg(phi("datatrails-mmr.receipt"))
        .assert()
        .code(2)
        .stderr(contains("--statement"));
}

#[test]
fn service_keys_come_from_a_jwks_matched_by_kid_or_from_a_trust_store_directory() {
    use base64::Engine;
    use modelseal::core::crypto::PublicKey;
    let dir = tempfile::tempdir().unwrap();
    let ccf =
        PublicKey::from_pem(&std::fs::read_to_string(phi("ccf-service-key.pem")).unwrap()).unwrap();
    let (x, y) = ccf.ec_coordinates().unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let other =
        modelseal::core::crypto::PrivateKey::generate(modelseal::core::crypto::Algorithm::ES384)
            .unwrap()
            .public_key();
    let (ox, oy) = other.ec_coordinates().unwrap();
    // A CCF-style JWKS: kid = hex SHA-256 of the key's SPKI, as the receipt's kid header.
    let jwks = serde_json::json!({"keys": [
        {"kty": "EC", "crv": "P-384", "kid": "not-this-one", "x": b64(&ox), "y": b64(&oy)},
        {"kty": "EC", "crv": "P-384", "kid": hex::encode(ccf.spki_sha256()), "x": b64(&x), "y": b64(&y)},
    ]});
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&jwks_path, jwks.to_string()).unwrap();
    let root = microsoft_root(dir.path());
    modelseal()
        .arg("verify")
        .arg(phi("1ts-statement.scitt"))
        .arg("--cert")
        .arg(&root)
        .arg("--ts-key")
        .arg(&jwks_path)
        .assert()
        .success()
        .stdout(contains("✔ receipt 1: profile CCF (2)"));
    let store = dir.path().join("trust-store");
    std::fs::create_dir(&store).unwrap();
    for k in ["ccf-service-key.pem", "mmr-service-key.pem"] {
        std::fs::copy(phi(k), store.join(k)).unwrap();
    }
    modelseal()
        .arg("verify")
        .arg(phi("2ts-statement.scitt"))
        .arg("--cert")
        .arg(&root)
        .arg("--trust-store")
        .arg(&store)
        .assert()
        .success()
        .stdout(contains("✔ receipt 2: profile MMR (3)"));
}

#[test]
fn the_peers_sigstore_bundles_verify_with_their_models() {
    for case in ["01-files-key", "02-shards-key", "04-edge-cases-key"] {
        let dir = vector(&format!("model-signing/{case}"));
        modelseal()
            .arg("verify")
            .arg(dir.join("model.sig"))
            .arg("--key")
            .arg(dir.join("public_key.pem"))
            .arg("--model")
            .arg(dir.join("model"))
            .assert()
            .success()
            .stdout(contains("Sigstore bundle"))
            .stdout(contains("✔ model files"));
    }
    let other = tempfile::tempdir().unwrap();
    let (_, stranger) = keygen(other.path(), "ES256");
    modelseal()
        .arg("verify")
        .arg(vector("model-signing/01-files-key/model.sig"))
        .arg("--key")
        .arg(&stranger)
        .assert()
        .code(1)
        .stdout(contains("another key"));
}
