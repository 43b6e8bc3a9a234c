//! HTTPS through the TLS stack the library is built with (rustls with aws-lc-rs, the platform
//! verifier): a registry over TLS is reached when its CA is trusted, and refused when it is not. The server is
//! `openssl s_server` on 127.0.0.2 (not a plain-HTTP loopback name, so modelseal speaks HTTPS),
//! with a leaf for that address under a CA made here; trust comes from `SSL_CERT_FILE`, which the
//! platform verifier reads on Linux.

use crate::common::modelseal;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on PATH (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`) and a server leaf for 127.0.0.2 (`leaf.pem`, `leaf.key`) in `dir`.
fn make_pki(dir: &Path) {
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca = [
        "req", "-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
    ];
    openssl(
        dir,
        &[&ca[..], &p256, &["-subj", "/CN=modelseal test CA"]].concat(),
    );
    let csr = ["req", "-keyout", "leaf.key", "-out", "leaf.csr"];
    openssl(
        dir,
        &[&csr[..], &p256, &["-subj", "/CN=127.0.0.2"]].concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.2\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let sign = [
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
    ];
    let out = [
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ];
    openssl(dir, &[&sign[..], &out].concat());
}

/// `openssl s_server` serving the files of `dir` (`-WWW`: `GET /PATH` answers `dir/PATH`); killed
/// on drop.
struct TlsServer {
    child: Child,
    addr: SocketAddr,
}

impl TlsServer {
    fn start(dir: &Path) -> TlsServer {
        // A free port on 127.0.0.2; s_server binds it right after.
        let addr = TcpListener::bind("127.0.0.2:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = Command::new("openssl")
            .args([
                "s_server", "-quiet", "-WWW", "-cert", "leaf.pem", "-key", "leaf.key",
            ])
            .arg("-accept")
            .arg(addr.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "s_server did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        TlsServer { child, addr }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn https_registry_is_reached_with_its_ca_trusted_and_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
    let server = TlsServer::start(dir.path());
    let reference = format!("{}/models/tiny:v1", server.addr);
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;
    let tag_path = dir.path().join("v2/models/tiny/manifests/v1");
    std::fs::create_dir_all(tag_path.parent().unwrap()).unwrap();
    std::fs::write(&tag_path, manifest).unwrap();
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(manifest));

    // Trusted: the handshake completes and the manifest comes over TLS: its digest is what the
    // tag resolves to. (s_server is no registry: the fetch by digest that follows is not served,
    // so the command may still fail, past TLS.)
    let trusted = modelseal()
        .args(["manifest", "fetch", &reference, "--timeout", "5"])
        .env("SSL_CERT_FILE", dir.path().join("ca.pem"))
        .env("DOCKER_CONFIG", dir.path())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&trusted.stdout),
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(
        said.contains(&digest) || said.contains("schemaVersion"),
        "the manifest did not come over TLS from a trusted server: {said}"
    );

    // Not trusted (the system's roots only): refused at the handshake, for its issuer.
    let untrusted = modelseal()
        .args(["manifest", "fetch", &reference, "--timeout", "5"])
        .env_remove("SSL_CERT_FILE")
        .env("DOCKER_CONFIG", dir.path())
        .output()
        .unwrap();
    assert!(!untrusted.status.success());
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        stderr.contains("invalid peer certificate") && stderr.contains("UnknownIssuer"),
        "an untrusted server was not refused for its certificate: {stderr}"
    );
}
