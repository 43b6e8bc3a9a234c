//! Signed statements and transparency logs made with the CLI, the way a publisher and a service
//! operator make them: the steps most SCITT tests start from.

use super::modelseal;
use super::publish::ISSUER;
use std::path::{Path, PathBuf};

/// Whose statements a log made by [`ts_init`] accepts.
pub enum Trust<'a> {
    /// `--issuer-key PUB`: one issuer key.
    Key(&'a Path),
    /// `--issuer-root CA`: leaves chaining to a root.
    Root(&'a Path),
    /// `--accept-any-issuer`: a development log.
    AnyIssuer,
}

/// `modelseal ts init --dir TS` with `trust`; returns `ts`.
pub fn ts_init(ts: &Path, trust: Trust) -> PathBuf {
    let mut cmd = modelseal();
    cmd.args(["ts", "init", "--dir"]).arg(ts);
    match trust {
        Trust::Key(public) => cmd.arg("--issuer-key").arg(public),
        Trust::Root(root) => cmd.arg("--issuer-root").arg(root),
        Trust::AnyIssuer => cmd.arg("--accept-any-issuer"),
    };
    cmd.assert().success();
    ts.to_path_buf()
}

/// `examples/tiny-model/config.json` signed with `key` as [`ISSUER`] about `subject`:
/// `dir/SUBJECT.cose`.
pub fn sign_tiny(dir: &Path, key: &Path, subject: &str) -> PathBuf {
    let out = dir.join(format!("{subject}.cose"));
    modelseal()
        .args(["sign", "examples/tiny-model/config.json", "--key"])
        .arg(key)
        .args(["--issuer", ISSUER, "--subject", subject, "-o"])
        .arg(&out)
        .assert()
        .success();
    out
}

/// `modelseal register STATEMENT --ts TS -o OUT` (TS as `register` takes it: `local:DIR` or a
/// URL); returns `out`.
pub fn register(statement: &Path, ts: &str, out: &Path) -> PathBuf {
    modelseal()
        .arg("register")
        .arg(statement)
        .args(["--ts", ts, "-o"])
        .arg(out)
        .assert()
        .success();
    out.to_path_buf()
}

/// `local:DIR`, as `--ts` takes an embedded log.
pub fn local(ts: &Path) -> String {
    format!("local:{}", ts.display())
}
