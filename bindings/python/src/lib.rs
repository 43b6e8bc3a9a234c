//! `modelseal._native`: the library's verify-before-load flows for Python. Each function takes
//! owned arguments, releases the GIL for the whole of the work (hashing, registry I/O, signature
//! checks) and turns the library's report into a [`Verdict`]. Async flows run on a tokio
//! runtime made for the call, so any Python thread may call in.
//!
//! A verification that ran and said no raises `VerificationError` (its `verdict` has every
//! check); one that could not run raises `PolicyError`, `OciError` or `Error`.

use modelseal::core::manifest::{
    CheckReport, HashAlgorithm, HashConfig, NoProgress, Serialization, SymlinkPolicy,
};
use modelseal::core::policy::StatementVerdict;
use modelseal::core::verdict::{Check as LibCheck, Outcome};
use modelseal::core::verify::{ReceiptReport, Report, TrustInputs, VerifyRequest};
use modelseal::flows::{
    self, Artifact, FlowError, ModelCheck, ModelVerdict, PullVerifiedRequest, Silent, TreeVerdict,
    VerifiedPull,
};
use modelseal::oci::stage::PullError;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::path::PathBuf;

pyo3::create_exception!(
    modelseal,
    Error,
    PyException,
    "modelseal could not run: the base of every modelseal exception."
);
pyo3::create_exception!(
    modelseal,
    VerificationError,
    Error,
    "Verification ran and failed under an enforcing policy; `.verdict` holds every check and its reason."
);
pyo3::create_exception!(
    modelseal,
    PolicyError,
    Error,
    "No trust policy was found, it is invalid, or it has no scope for the reference."
);
pyo3::create_exception!(
    modelseal,
    OciError,
    Error,
    "A registry or OCI layout could not be read (unreachable, refused, malformed, no such tag)."
);

/// One check of a verification: what was checked, whether it held, and why.
#[pyclass(module = "modelseal", frozen, get_all)]
#[derive(Clone, Debug)]
struct Check {
    /// The check in a few words: "signature", "receipt 1", "policy", "model files".
    name: String,
    /// True when the check was made and held (a skipped check is not passed, nor failed).
    passed: bool,
    /// "pass", "fail" or "skipped".
    outcome: String,
    /// The reason for a failure, or the facts behind a pass.
    reason: String,
    /// The digest of the statement (referrer) the check belongs to; None for whole-artifact
    /// checks ("policy", "model files") and for `verify_statement`.
    statement: Option<String>,
}

#[pymethods]
impl Check {
    fn __repr__(&self) -> String {
        format!(
            "Check(name={:?}, outcome={:?}, reason={:?})",
            self.name, self.outcome, self.reason
        )
    }
}

impl Check {
    fn new(name: impl Into<String>, passed: bool, reason: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            passed,
            outcome: if passed { "pass" } else { "fail" }.into(),
            reason: reason.into(),
            statement: None,
        }
    }

    fn from_lib(c: &LibCheck, statement: Option<&str>) -> Self {
        Check {
            name: c.what.clone(),
            passed: c.outcome == Outcome::Pass,
            outcome: match c.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "fail",
                Outcome::Skipped => "skipped",
            }
            .into(),
            reason: c.detail.clone(),
            statement: statement.map(str::to_string),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "passed": self.passed,
            "outcome": self.outcome,
            "reason": self.reason,
            "statement": self.statement,
        })
    }
}

/// One transparency receipt of the statement: which service, and whether a trusted key verified it.
#[pyclass(module = "modelseal", frozen, get_all)]
#[derive(Clone, Debug)]
struct Receipt {
    /// 1-based position in the statement.
    index: usize,
    /// "RFC 9162", "CCF", "MMR" or "Rekor"; None when unreadable.
    profile: Option<String>,
    /// The receipt's CWT iss (the service).
    issuer: Option<String>,
    /// The receipt's CWT sub.
    subject: Option<String>,
    /// Registration time (unix seconds) the receipt states; trusted only when verified.
    issued_at: Option<i64>,
    /// Verified with a trusted transparency-service key.
    verified: bool,
    /// SHA-256 of the SPKI of the key that verified it.
    verified_by: Option<String>,
    /// What verified it, or why it did not.
    detail: String,
}

#[pymethods]
impl Receipt {
    fn __repr__(&self) -> String {
        format!(
            "Receipt(index={}, profile={:?}, issuer={:?}, verified={})",
            self.index, self.profile, self.issuer, self.verified
        )
    }
}

impl Receipt {
    fn from_lib(r: &ReceiptReport) -> Self {
        Receipt {
            index: r.index,
            profile: r.profile.clone(),
            issuer: r.issuer.clone(),
            subject: r.subject.clone(),
            issued_at: r.issued_at,
            verified: r.verified,
            verified_by: r.verified_by.clone(),
            detail: r.detail.clone(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "index": self.index,
            "profile": self.profile,
            "issuer": self.issuer,
            "subject": self.subject,
            "issued_at": self.issued_at,
            "verified": self.verified,
            "verified_by": self.verified_by,
            "detail": self.detail,
        })
    }
}

/// What a verification found. `ok` is the answer; `checks` say why, each with its reason.
#[pyclass(module = "modelseal", frozen)]
#[derive(Clone, Debug)]
struct Verdict {
    /// Everything verified.
    #[pyo3(get)]
    ok: bool,
    /// Whether a failure blocks: False under a policy of level "audit" or "skip", whose failures
    /// are reported (here) and not raised.
    #[pyo3(get)]
    enforced: bool,
    /// The checks: those of the statement that met the policy (or, when none did, of every
    /// statement examined), then "policy", then "model files" where files were compared.
    #[pyo3(get)]
    checks: Vec<Check>,
    /// Why not verified, one line each (empty when ok).
    #[pyo3(get)]
    reasons: Vec<String>,
    /// What verified but deserves a word (a pulled artifact without model files).
    #[pyo3(get)]
    warnings: Vec<String>,
    /// The statement's CWT iss as claimed (that of the statement that met the policy, else of
    /// the first examined).
    #[pyo3(get)]
    issuer: Option<String>,
    /// The statement's CWT sub as claimed (same statement as `issuer`).
    #[pyo3(get)]
    subject: Option<String>,
    /// That statement's receipts.
    #[pyo3(get)]
    receipts: Vec<Receipt>,
    /// The name of the policy scope applied (None for `verify_statement`).
    #[pyo3(get)]
    policy: Option<String>,
    /// The artifact as its registry or layout names it (None for `verify_statement`).
    #[pyo3(get)]
    artifact: Option<String>,
    /// Files written by `pull_verified` (empty otherwise, and when nothing verified).
    #[pyo3(get)]
    written: Vec<String>,
    /// The library's full report, as `modelseal ... --json` prints it.
    report: serde_json::Value,
}

#[pymethods]
impl Verdict {
    /// The verdict as plain data (JSON types): every attribute, with checks and receipts as dicts,
    /// and "report", the library's full report.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::json!({
            "ok": self.ok,
            "enforced": self.enforced,
            "checks": self.checks.iter().map(Check::to_json).collect::<Vec<_>>(),
            "reasons": self.reasons,
            "warnings": self.warnings,
            "issuer": self.issuer,
            "subject": self.subject,
            "receipts": self.receipts.iter().map(Receipt::to_json).collect::<Vec<_>>(),
            "policy": self.policy,
            "artifact": self.artifact,
            "written": self.written,
            "report": self.report,
        });
        to_python(py, &value)
    }

    fn __bool__(&self) -> bool {
        self.ok
    }

    fn __repr__(&self) -> String {
        if self.ok {
            format!("Verdict(ok=True, issuer={:?})", self.issuer)
        } else {
            format!(
                "Verdict(ok=False, enforced={}, reasons={:?})",
                self.enforced, self.reasons
            )
        }
    }
}

/// The statement whose verdict speaks for the artifact: the first that met the policy, else the
/// first the policy judged.
fn speaking(tree: &TreeVerdict) -> Option<&StatementVerdict> {
    let judged = || tree.referrers.iter().filter_map(|r| r.statement.as_ref());
    judged().find(|s| s.verified).or_else(|| judged().next())
}

/// Checks of the statements (the accepted one only, when the policy is met), cosign's, and the
/// policy's own.
fn statement_checks(tree: &TreeVerdict) -> Vec<Check> {
    let mut checks = Vec::new();
    for r in &tree.referrers {
        let Some(s) = &r.statement else { continue };
        if tree.verified && !s.verified {
            continue; // not the one that counts; still in `report`
        }
        checks.extend(
            s.verdict
                .checks
                .iter()
                .map(|c| Check::from_lib(c, Some(&r.digest))),
        );
        if tree.verified {
            break;
        }
    }
    for c in &tree.cosign {
        let mut check = Check::new(format!("cosign {}", c.kind.name()), c.verified, &c.detail);
        check.statement = Some(c.digest.clone());
        checks.push(check);
    }
    let policy_reason = if tree.verified {
        format!("policy '{}' met", tree.policy)
    } else {
        tree.reasons.join("; ")
    };
    checks.push(Check::new("policy", tree.verified, policy_reason));
    checks
}

fn files_check(files: &CheckReport) -> Check {
    if files.is_match() {
        Check::new(
            "model files",
            true,
            format!("{} files match the signed manifest", files.matched),
        )
    } else {
        Check::new("model files", false, files.reasons().join("; "))
    }
}

fn claims_of(report: Option<&Report>) -> (Option<String>, Option<String>, Vec<Receipt>) {
    match report {
        Some(r) => (
            r.issuer.clone(),
            r.subject.clone(),
            r.receipts.iter().map(Receipt::from_lib).collect(),
        ),
        None => (None, None, Vec::new()),
    }
}

fn report_json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl Verdict {
    /// The verdict of a flow over an artifact: its statements' checks, the model files' where
    /// they were compared, and the claims of the statement that speaks for it.
    fn of_artifact(
        tree: &TreeVerdict,
        files: Option<&CheckReport>,
        (ok, enforced, reasons): (bool, bool, &[String]),
        report: serde_json::Value,
    ) -> Self {
        let mut checks = statement_checks(tree);
        checks.extend(files.map(files_check));
        let (issuer, subject, receipts) = claims_of(speaking(tree).and_then(|s| s.report.as_ref()));
        Verdict {
            ok,
            enforced,
            checks,
            reasons: reasons.to_vec(),
            warnings: Vec::new(),
            issuer,
            subject,
            receipts,
            policy: Some(tree.policy.clone()),
            artifact: Some(tree.subject.clone()),
            written: Vec::new(),
            report,
        }
    }

    fn of_model(v: &ModelVerdict) -> Self {
        let outcome = (v.verified, v.enforced, v.reasons.as_slice());
        Verdict::of_artifact(&v.statements, v.files.as_ref(), outcome, report_json(v))
    }

    fn of_pull(v: &VerifiedPull) -> Self {
        let outcome = (v.verified, v.enforced, v.reasons.as_slice());
        Verdict {
            warnings: v.warnings.clone(),
            written: v.written.iter().map(|p| p.display().to_string()).collect(),
            ..Verdict::of_artifact(&v.statements, v.files.as_ref(), outcome, report_json(v))
        }
    }

    fn of_tree(v: &TreeVerdict) -> Self {
        let outcome = (v.verified, v.enforced, v.reasons.as_slice());
        Verdict::of_artifact(v, None, outcome, report_json(v))
    }

    fn of_statement(r: &Report) -> Self {
        let checks: Vec<Check> = r
            .verdict
            .checks
            .iter()
            .map(|c| Check::from_lib(c, None))
            .collect();
        let reasons = r
            .verdict
            .failures()
            .map(|c| format!("{}: {}", c.what, c.detail))
            .collect();
        let (issuer, subject, receipts) = claims_of(Some(r));
        Verdict {
            ok: r.verified,
            enforced: true,
            checks,
            reasons,
            warnings: Vec::new(),
            issuer,
            subject,
            receipts,
            policy: None,
            artifact: None,
            written: Vec::new(),
            report: report_json(r),
        }
    }

    /// `self` back to the caller, or raised as a `VerificationError` when it failed under an
    /// enforcing policy.
    fn into_result(self, py: Python<'_>, what: &str) -> PyResult<Py<Verdict>> {
        let fail = !self.ok && self.enforced;
        let message = format!("{what}: {}", self.reasons.join("; "));
        let verdict = Py::new(py, self)?;
        if !fail {
            return Ok(verdict);
        }
        let err = VerificationError::new_err(message);
        err.value(py).setattr("verdict", verdict)?;
        Err(err)
    }
}

/// A JSON value as Python objects (dict, list, str, int, float, bool, None).
fn to_python<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// An error and its causes, one clause each: what the CLI prints on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !message.contains(&next) {
            message.push_str(": ");
            message.push_str(&next);
        }
        source = s.source();
    }
    message
}

/// A flow that could not run, as the Python exception for its kind.
fn flow_error(e: FlowError) -> PyErr {
    let message = chain(&e);
    match e {
        FlowError::NoPolicy(_) | FlowError::Policy(_) => PolicyError::new_err(message),
        FlowError::Oci(_)
        | FlowError::NoSelector(_)
        | FlowError::Client(_)
        | FlowError::Pull(PullError::Oci(_)) => OciError::new_err(message),
        _ => Error::new_err(message),
    }
}

fn runtime() -> PyResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new_err(format!("cannot start the async runtime: {e}")))
}

/// Checks a model on disk against the verified manifest at `manifest` (a registry reference
/// `host/repo:tag|@digest`, or with `oci_layout=True` an OCI image layout `DIR:tag|@digest`),
/// under the trust policy `policy` (default: $MODELSEAL_POLICY, else
/// ~/.config/modelseal/policy.toml). Call it before loading weights.
///
/// Returns the Verdict when verified (or when the policy's level does not enforce: then
/// `verdict.ok` may be False). Raises VerificationError (with `.verdict`) when verification
/// failed, PolicyError / OciError / Error when it could not run.
#[pyfunction]
#[pyo3(signature = (path, manifest, *, policy=None, oci_layout=false))]
fn verify_model(
    py: Python<'_>,
    path: PathBuf,
    manifest: String,
    policy: Option<PathBuf>,
    oci_layout: bool,
) -> PyResult<Py<Verdict>> {
    let check = ModelCheck {
        model_dir: path,
        manifest_ref: manifest,
        oci_layout,
        policy,
    };
    let verdict = py
        .detach(|| flows::verify_model(&check).map(|v| Verdict::of_model(&v)))
        .map_err(flow_error)?;
    verdict.into_result(
        py,
        &format!("{} does not verify", check.model_dir.display()),
    )
}

/// Pulls the artifact `ref` into the directory `dest` only if it verifies under the trust
/// policy: nothing unverified is written (files are staged, checked, then moved in
/// all-or-nothing). `dest` must be empty or absent.
///
/// Returns the Verdict (`.written` lists the files). Raises VerificationError when verification
/// failed (nothing was written), PolicyError / OciError / Error when it could not run.
#[pyfunction]
#[pyo3(signature = (r#ref, dest, *, policy=None, oci_layout=false))]
fn pull_verified(
    py: Python<'_>,
    r#ref: String,
    dest: PathBuf,
    policy: Option<PathBuf>,
    oci_layout: bool,
) -> PyResult<Py<Verdict>> {
    let request = PullVerifiedRequest {
        artifact: Artifact {
            reference: r#ref,
            oci_layout,
            policy,
            ..Default::default()
        },
        output_dir: dest,
        ..Default::default()
    };
    let verdict = py.detach(|| -> PyResult<Verdict> {
        let pulled = runtime()?
            .block_on(flows::pull_verified(&request, &Silent))
            .map_err(flow_error)?;
        Ok(Verdict::of_pull(&pulled))
    })?;
    verdict.into_result(
        py,
        &format!("{} does not verify", request.artifact.reference),
    )
}

/// Checks the statements attached to the artifact `ref` against the trust policy (what
/// `modelseal discover --verify` does), without reading or pulling model files.
///
/// Returns the Verdict; raises VerificationError when the policy is not met, PolicyError /
/// OciError / Error when it could not run.
#[pyfunction]
#[pyo3(signature = (r#ref, *, policy=None, oci_layout=false))]
fn verify_artifact(
    py: Python<'_>,
    r#ref: String,
    policy: Option<PathBuf>,
    oci_layout: bool,
) -> PyResult<Py<Verdict>> {
    let artifact = Artifact {
        reference: r#ref,
        oci_layout,
        policy,
        ..Default::default()
    };
    let verdict = py.detach(|| -> PyResult<Verdict> {
        let tree = runtime()?
            .block_on(flows::verify_artifact(&artifact))
            .map_err(flow_error)?;
        Ok(Verdict::of_tree(&tree))
    })?;
    verdict.into_result(py, &format!("{} does not verify", artifact.reference))
}

/// The model's manifest: the in-toto statement model-signing signs, the same JSON as
/// `modelseal hash PATH` (and `model_signing`'s), as a dict. `hash` is "sha256", "blake2b" or
/// "blake3"; `shard_size` (bytes) hashes files in shards; `ignore_paths` are relative to the
/// model root; git files (.git, .gitignore, ...) are left out as model-signing does.
#[pyfunction]
#[pyo3(signature = (path, *, hash="sha256", shard_size=None, ignore_paths=Vec::new(), allow_symlinks=false))]
fn hash_model<'py>(
    py: Python<'py>,
    path: PathBuf,
    hash: &str,
    shard_size: Option<u64>,
    ignore_paths: Vec<String>,
    allow_symlinks: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let algorithm: HashAlgorithm = hash
        .parse()
        .map_err(|e: String| pyo3::exceptions::PyValueError::new_err(e))?;
    let config = HashConfig {
        algorithm,
        serialization: match shard_size {
            None => Serialization::Files,
            Some(shard_size) => Serialization::Shards { shard_size },
        },
        symlinks: if allow_symlinks {
            SymlinkPolicy::WithinModel
        } else {
            SymlinkPolicy::Refuse
        },
        ignore_paths,
        ignore_git_paths: true,
    };
    let json = py
        .detach(|| {
            modelseal::core::manifest::hash_model(&path, &config, &NoProgress).map(|m| m.to_json())
        })
        .map_err(|e| Error::new_err(chain(&e)))?;
    let value: serde_json::Value =
        serde_json::from_slice(&json).map_err(|e| Error::new_err(e.to_string()))?;
    to_python(py, &value)
}

/// A key, root or payload argument: the bytes themselves, or a path (str or os.PathLike) to read.
enum Material {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl Material {
    /// Bytes are taken as content (never as a path, though os.fspath would accept them).
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(bytes) = obj.cast::<PyBytes>() {
            return Ok(Material::Bytes(bytes.as_bytes().to_vec()));
        }
        Ok(Material::Path(obj.extract()?))
    }

    fn all(objs: &[Bound<'_, PyAny>]) -> PyResult<Vec<Self>> {
        objs.iter().map(Material::from_py).collect()
    }

    fn read(&self, max: u64) -> PyResult<Vec<u8>> {
        match self {
            Material::Bytes(b) => Ok(b.clone()),
            Material::Path(p) => modelseal::core::input::read_bounded(p, max)
                .map_err(|e| Error::new_err(format!("{}: cannot read: {e}", p.display()))),
        }
    }

    fn name(&self) -> String {
        match self {
            Material::Bytes(_) => "bytes".into(),
            Material::Path(p) => p.display().to_string(),
        }
    }
}

/// Public keys (PEM keys or certificates, JWK, JWKS) from each item.
fn public_keys(items: &[Material]) -> PyResult<Vec<modelseal::core::crypto::NamedKey>> {
    let mut keys = Vec::new();
    for item in items {
        let bytes = item.read(modelseal::core::crypto::MAX_KEY_FILE_BYTES)?;
        keys.extend(
            modelseal::core::crypto::read_public_keys(&bytes)
                .map_err(|e| Error::new_err(format!("{}: no public key: {e}", item.name())))?,
        );
    }
    Ok(keys)
}

/// Verifies a signed statement, a transparent statement (receipts in header 394), or a Sigstore
/// bundle, given as bytes: the signature by one of `keys` (or an x5chain to one of `roots`),
/// every receipt by one of `ts_keys`, and, with `payload`, that the statement signs it (a
/// detached payload or a hash envelope's preimage, i.e. the model manifest). With `model`, the
/// model directory is also checked against the signed manifest. `issuer` / `subject` require
/// the CWT iss / sub (`*` matches any run of characters).
///
/// Keys, roots and the payload are paths or bytes. Returns the Verdict; raises
/// VerificationError when a check failed, Error when the input cannot be examined.
#[pyfunction]
#[pyo3(signature = (statement, *, keys=Vec::new(), ts_keys=Vec::new(), roots=Vec::new(), payload=None, model=None, issuer=None, subject=None))]
#[allow(clippy::too_many_arguments)]
fn verify_statement(
    py: Python<'_>,
    statement: &Bound<'_, PyBytes>,
    keys: Vec<Bound<'_, PyAny>>,
    ts_keys: Vec<Bound<'_, PyAny>>,
    roots: Vec<Bound<'_, PyAny>>,
    payload: Option<Bound<'_, PyAny>>,
    model: Option<PathBuf>,
    issuer: Option<String>,
    subject: Option<String>,
) -> PyResult<Py<Verdict>> {
    let statement = statement.as_bytes().to_vec();
    let (keys, ts_keys, roots) = (
        Material::all(&keys)?,
        Material::all(&ts_keys)?,
        Material::all(&roots)?,
    );
    let mut issuer_roots = Vec::new();
    for root in &roots {
        let bytes = root.read(modelseal::core::crypto::MAX_KEY_FILE_BYTES)?;
        issuer_roots.extend(
            modelseal::core::x509::read_certificates(&bytes)
                .map_err(|e| Error::new_err(format!("{}: {e}", root.name())))?,
        );
    }
    let trust = TrustInputs {
        issuer_keys: public_keys(&keys)?,
        issuer_roots,
        service_keys: public_keys(&ts_keys)?,
        ..Default::default()
    };
    let payload = payload
        .map(|p| Material::from_py(&p)?.read(modelseal::core::manifest::MAX_MANIFEST_BYTES))
        .transpose()?;
    let verdict = py.detach(|| -> PyResult<Verdict> {
        let mut report = modelseal::core::verify::verify(&VerifyRequest {
            bytes: &statement,
            trust: &trust,
            payload: payload.as_deref(),
            model: model.as_deref(),
            statement: None,
            artifact: None,
            now: modelseal::core::clock::now(),
        })
        .map_err(|e| Error::new_err(format!("cannot verify: {}", chain(&e))))?;
        if let Some(iss) = &issuer {
            report.require_claim(modelseal::core::verify::Claim::Issuer, iss);
        }
        if let Some(sub) = &subject {
            report.require_claim(modelseal::core::verify::Claim::Subject, sub);
        }
        Ok(Verdict::of_statement(&report))
    })?;
    verdict.into_result(py, "the statement does not verify")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("VerificationError", py.get_type::<VerificationError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("OciError", py.get_type::<OciError>())?;
    m.add_class::<Verdict>()?;
    m.add_class::<Check>()?;
    m.add_class::<Receipt>()?;
    m.add_function(wrap_pyfunction!(verify_model, m)?)?;
    m.add_function(wrap_pyfunction!(pull_verified, m)?)?;
    m.add_function(wrap_pyfunction!(verify_artifact, m)?)?;
    m.add_function(wrap_pyfunction!(hash_model, m)?)?;
    m.add_function(wrap_pyfunction!(verify_statement, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
