//! `ts serve` and `register --ts URL` over real HTTP on loopback (SCRAPI), including a restart
//! of the server between registration and fetching the entry.

mod common;

use common::{keygen, modelseal};
use predicates::str::contains;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
        .args(["ts", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Server {
        child,
        url: line.trim().to_string(),
    }
}

fn curl(args: &[&str]) -> (String, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let mut body = out.stdout;
    let pos = body.iter().rposition(|b| *b == b'\n').unwrap();
    let code = String::from_utf8_lossy(&body[pos + 1..]).to_string();
    body.truncate(pos);
    (code, body)
}

#[test]
fn scrapi_registration_receipts_keys_errors_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "ES256");
    let ts = dir.path().join("ts");
    modelseal()
        .args(["ts", "init", "--dir"])
        .arg(&ts)
        .arg("--issuer-key")
        .arg(&public)
        .assert()
        .success();
    let statement = dir.path().join("s.cose");
    modelseal()
        .arg("sign")
        .arg("examples/tiny-model/config.json")
        .arg("--key")
        .arg(&key)
        .args([
            "--issuer",
            "https://publisher.example",
            "--subject",
            "tiny",
            "-o",
        ])
        .arg(&statement)
        .assert()
        .success();
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
    // Pinned, a second registration.
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
    assert_eq!(v.tree_size, Some(2));
}
