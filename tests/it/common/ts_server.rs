//! `modelseal ts serve` as a child process on a free loopback port, killed when dropped, and
//! `curl` for raw SCRAPI requests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    /// SIGKILL now (a crash, not a shutdown), and reap it.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ts serve --dir DIR` with `extra` arguments (e.g. `--issuer-root ROOT`); returns once
/// it prints its URL.
pub fn serve(dir: &Path, extra: &[&std::ffi::OsStr]) -> Server {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("modelseal"))
        .args(["ts", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("http://"),
        "ts serve did not start: {line:?}"
    );
    Server {
        child,
        url: line.trim().to_string(),
    }
}

/// `curl -s ARGS`: (HTTP status, body).
pub fn curl(args: &[&str]) -> (String, Vec<u8>) {
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
