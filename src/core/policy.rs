//! The trust policy: per registry scope, which statement issuers are trusted (keys or root
//! certificates, with the `iss`/`sub` they must claim), which transparency services (their keys),
//! how many receipts are required and from which profiles, and which artifact types must be
//! attached. A versioned TOML document, validated up front (notation's trust policy is the model).
//!
//! ```toml
//! version = 1
//! [[policy]]
//! name = "phi"
//! scopes = ["myreg.azurecr.io/models/*"]   # repository prefixes; "*" matches everything
//! min_receipts = 2
//! [[policy.issuers]]
//! root = "microsoft-root.pem"                # or key = "publisher.pub"; paths relative to this file
//! iss = "did:x509:0:sha256:...::eku:1.3.6.1.4.1.311.76.59.1.1"
//! [[policy.transparency_services]]
//! name = "azure-ccf"
//! key = "ccf.pem"
//! ```

use crate::core::crypto::{MAX_KEY_FILE_BYTES, NamedKey, pem_decode_all, read_public_keys};
use crate::core::input::read_bounded;
use crate::core::verdict::{Check, Verdict};
use crate::core::verify::{ReceiptReport, Report, TrustInputs, VerifyRequest, verify};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The artifact type a verified model must carry, unless the policy says otherwise.
pub const TRANSPARENT_STATEMENT_ARTIFACT: &str = "scitt/transparent-statement";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: cannot read {what}: {source}")]
    Unreadable {
        path: PathBuf,
        what: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    #[serde(rename = "policy")]
    policies: Vec<ScopeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeSpec {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    issuers: Vec<IssuerSpec>,
    #[serde(default)]
    transparency_services: Vec<ServiceSpec>,
    #[serde(default)]
    min_receipts: usize,
    #[serde(default)]
    required_profiles: Vec<String>,
    #[serde(default = "default_required_types")]
    required_artifact_types: Vec<String>,
}

fn default_required_types() -> Vec<String> {
    vec![TRANSPARENT_STATEMENT_ARTIFACT.into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerSpec {
    key: Option<PathBuf>,
    root: Option<PathBuf>,
    iss: Option<String>,
    sub: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSpec {
    name: String,
    key: PathBuf,
    profile: Option<String>,
}

/// A statement issuer the policy trusts.
#[derive(Clone, Debug)]
pub struct TrustedIssuer {
    pub keys: Vec<NamedKey>,
    pub roots: Vec<Vec<u8>>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub source: PathBuf,
}

#[derive(Clone, Debug)]
pub struct TrustedService {
    pub name: String,
    pub keys: Vec<NamedKey>,
    /// "RFC 9162", "CCF" or "MMR" as the policy names it (shown in reports; `required_profiles`
    /// is what enforces profiles).
    pub profile: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ScopePolicy {
    pub name: String,
    pub scopes: Vec<String>,
    pub issuers: Vec<TrustedIssuer>,
    pub services: Vec<TrustedService>,
    pub min_receipts: usize,
    pub required_profiles: Vec<String>,
    pub required_artifact_types: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct TrustPolicy {
    pub path: PathBuf,
    pub policies: Vec<ScopePolicy>,
}

fn profile_name(given: &str) -> Option<&'static str> {
    match given
        .to_ascii_lowercase()
        .replace([' ', '-', '_'], "")
        .as_str()
    {
        "rfc9162" | "1" => Some("RFC 9162"),
        "ccf" | "2" => Some("CCF"),
        "mmr" | "3" => Some("MMR"),
        _ => None,
    }
}

impl TrustPolicy {
    /// Reads and validates a policy; key and certificate paths are relative to the policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let invalid = |reason: String| PolicyError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let bytes =
            read_bounded(path, MAX_KEY_FILE_BYTES).map_err(|source| PolicyError::Unreadable {
                path: path.to_path_buf(),
                what: "the policy".into(),
                source,
            })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
        let doc: Document = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if doc.version != 1 {
            return Err(invalid(format!(
                "version {} is not supported (1 is)",
                doc.version
            )));
        }
        if doc.policies.is_empty() {
            return Err(invalid("no [[policy]]".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let read = |p: &Path, what: &str| {
            let full = resolve(p);
            read_bounded(&full, MAX_KEY_FILE_BYTES).map_err(|source| PolicyError::Unreadable {
                path: full,
                what: what.into(),
                source,
            })
        };
        let mut policies = Vec::new();
        for spec in doc.policies {
            let at = |reason: String| invalid(format!("policy '{}': {reason}", spec.name));
            if spec.scopes.is_empty() {
                return Err(at("no scopes".into()));
            }
            if spec.issuers.is_empty() {
                return Err(at(
                    "no issuers: a policy must say whose statements it trusts".into(),
                ));
            }
            let mut issuers = Vec::new();
            for i in &spec.issuers {
                let (keys, roots, source) = match (&i.key, &i.root) {
                    (Some(k), None) => {
                        let keys = read_public_keys(&read(k, "an issuer key")?)
                            .map_err(|e| at(format!("{}: {e}", k.display())))?;
                        (keys, Vec::new(), k.clone())
                    }
                    (None, Some(r)) => {
                        let bytes = read(r, "an issuer root")?;
                        let roots: Vec<Vec<u8>> = match std::str::from_utf8(&bytes) {
                            Ok(t) if t.contains("-----BEGIN") => pem_decode_all(t)
                                .map_err(|e| at(format!("{}: {e}", r.display())))?
                                .into_iter()
                                .filter(|(l, _)| l == "CERTIFICATE")
                                .map(|(_, d)| d)
                                .collect(),
                            _ => vec![bytes],
                        };
                        if roots.is_empty() {
                            return Err(at(format!("{}: no certificate", r.display())));
                        }
                        (Vec::new(), roots, r.clone())
                    }
                    _ => return Err(at("each issuer needs exactly one of key or root".into())),
                };
                issuers.push(TrustedIssuer {
                    keys,
                    roots,
                    iss: i.iss.clone(),
                    sub: i.sub.clone(),
                    source,
                });
            }
            let mut services = Vec::new();
            for s in &spec.transparency_services {
                let keys = read_public_keys(&read(&s.key, "a service key")?)
                    .map_err(|e| at(format!("{}: {e}", s.key.display())))?;
                let profile = match &s.profile {
                    None => None,
                    Some(p) => Some(
                        profile_name(p)
                            .ok_or_else(|| {
                                at(format!("unknown receipt profile '{p}' (rfc9162, ccf, mmr)"))
                            })?
                            .to_string(),
                    ),
                };
                services.push(TrustedService {
                    name: s.name.clone(),
                    keys,
                    profile,
                });
            }
            for (i, a) in services.iter().enumerate() {
                for b in &services[i + 1..] {
                    if a.name == b.name {
                        return Err(at(format!(
                            "two transparency services are named '{}'",
                            a.name
                        )));
                    }
                    if a.keys.iter().any(|k| b.keys.iter().any(|l| l.key == k.key)) {
                        return Err(at(format!(
                            "transparency services '{}' and '{}' share a key: receipts are counted by the service whose key verified them, so each service needs its own",
                            a.name, b.name
                        )));
                    }
                }
            }
            if spec.min_receipts > services.len() && !services.is_empty() {
                return Err(at(format!(
                    "min_receipts {} but only {} transparency services",
                    spec.min_receipts,
                    services.len()
                )));
            }
            if spec.min_receipts > 0 && services.is_empty() {
                return Err(at("min_receipts needs transparency_services".into()));
            }
            let mut required_profiles = Vec::new();
            for p in &spec.required_profiles {
                required_profiles.push(
                    profile_name(p)
                        .ok_or_else(|| at(format!("unknown receipt profile '{p}'")))?
                        .to_string(),
                );
            }
            policies.push(ScopePolicy {
                name: spec.name,
                scopes: spec.scopes,
                issuers,
                services,
                min_receipts: spec.min_receipts,
                required_profiles,
                required_artifact_types: spec.required_artifact_types,
            });
        }
        Ok(TrustPolicy {
            path: path.to_path_buf(),
            policies,
        })
    }

    /// The policy for a repository (`host/repo`): the most specific matching scope wins.
    pub fn for_repository(&self, repository: &str) -> Option<&ScopePolicy> {
        self.policies
            .iter()
            .filter_map(|p| {
                p.scopes
                    .iter()
                    .filter(|s| scope_matches(s, repository))
                    .map(|s| s.trim_end_matches('*').len())
                    .max()
                    .map(|len| (len, p))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, p)| p)
    }
}

fn scope_matches(scope: &str, repository: &str) -> bool {
    match scope.strip_suffix('*') {
        Some(prefix) => repository.starts_with(prefix),
        None => scope == repository,
    }
}

/// One statement checked against a scope's policy.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StatementVerdict {
    pub verified: bool,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub report: Option<Report>,
}

impl ScopePolicy {
    /// Checks a (transparent) statement for `manifest` — the in-toto model manifest the artifact
    /// holds — against this policy: signature by a trusted issuer with the expected claims,
    /// every receipt by a trusted service, enough distinct receipts of the required profiles, and
    /// the binding (the statement signs exactly `manifest`, or its hash).
    pub fn verify_statement(
        &self,
        statement: &[u8],
        manifest: &[u8],
        now: i64,
    ) -> StatementVerdict {
        let service_keys: Vec<NamedKey> =
            self.services.iter().flat_map(|s| s.keys.clone()).collect();
        let mut last: Option<(Verdict, Option<Report>)> = None;
        for issuer in &self.issuers {
            let trust = TrustInputs {
                issuer_keys: issuer.keys.clone(),
                issuer_roots: issuer.roots.clone(),
                service_keys: service_keys.clone(),
            };
            let request = VerifyRequest {
                bytes: statement,
                trust: &trust,
                payload: Some(manifest),
                model: None,
                statement: None,
                now,
            };
            let report = match verify(&request) {
                Ok(r) => r,
                Err(e) => {
                    let mut v = Verdict::default();
                    v.push(Check::fail("statement", e.to_string()));
                    last = Some((v, None));
                    continue;
                }
            };
            let mut verdict = report.verdict.clone();
            for (claim, expected, found) in [
                ("iss", &issuer.iss, &report.issuer),
                ("sub", &issuer.sub, &report.subject),
            ] {
                if let Some(want) = expected {
                    if found.as_deref() == Some(want.as_str()) {
                        verdict.push(Check::pass(
                            format!("policy {claim}"),
                            format!("{want}, as the policy requires"),
                        ));
                    } else {
                        verdict.push(Check::fail(
                            format!("policy {claim}"),
                            format!(
                                "the policy wants {want}, the statement says {}",
                                found.as_deref().unwrap_or("nothing")
                            ),
                        ));
                    }
                }
            }
            self.check_receipts(&report, &mut verdict);
            let passed = verdict.is_verified();
            last = Some((verdict, Some(report)));
            if passed {
                break;
            }
        }
        let (verdict, report) = last.unwrap_or_default();
        StatementVerdict {
            verified: verdict.is_verified(),
            verdict,
            report,
        }
    }

    /// The policy service whose key verified a receipt. A receipt counts for a service only by
    /// that key, never by the `iss` or profile it claims; a receipt of another profile than the
    /// one the policy names for the service counts for none.
    fn service_of(&self, receipt: &ReceiptReport) -> Option<&TrustedService> {
        let by = receipt.verified_by.as_deref()?;
        let service = self.services.iter().find(|s| {
            s.keys
                .iter()
                .any(|k| hex::encode(k.key.spki_sha256()) == by)
        })?;
        match (&service.profile, &receipt.profile) {
            (Some(want), Some(got)) if want != got => None,
            _ => Some(service),
        }
    }

    fn check_receipts(&self, report: &Report, verdict: &mut Verdict) {
        // (service name, profile) for every receipt a policy service's key verified; distinct
        // services are counted by name (keys are unique across services: checked on load).
        let mut distinct: BTreeSet<(String, String)> = BTreeSet::new();
        for r in report.receipts.iter().filter(|r| r.verified) {
            match self.service_of(r) {
                Some(service) => {
                    distinct.insert((
                        service.name.clone(),
                        r.profile.clone().unwrap_or_default(),
                    ));
                }
                None => verdict.push(Check::skipped(
                    format!("receipt {}", r.index),
                    format!(
                        "verified, but its profile {} is not the one the policy names for the service whose key verified it: not counted",
                        r.profile.as_deref().unwrap_or("?")
                    ),
                )),
            }
        }
        let services: BTreeSet<&str> = distinct.iter().map(|(name, _)| name.as_str()).collect();
        let named = |set: &BTreeSet<&str>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter().copied().collect::<Vec<_>>().join(", ")
            }
        };
        if self.min_receipts > 0 {
            if services.len() >= self.min_receipts {
                verdict.push(Check::pass(
                    "policy receipts",
                    format!(
                        "receipts verified by the keys of {} distinct policy service(s) ({}); {} required",
                        services.len(),
                        named(&services),
                        self.min_receipts
                    ),
                ));
            } else {
                verdict.push(Check::fail(
                    "policy receipts",
                    format!(
                        "receipts verified by the keys of {} distinct policy service(s) ({}); the policy requires {}",
                        services.len(),
                        named(&services),
                        self.min_receipts
                    ),
                ));
            }
        }
        for profile in &self.required_profiles {
            if distinct.iter().any(|(_, p)| p == profile) {
                verdict.push(Check::pass(
                    "policy receipt profile",
                    format!("a {profile} receipt is present"),
                ));
            } else {
                verdict.push(Check::fail(
                    "policy receipt profile",
                    format!("the policy requires a {profile} receipt"),
                ));
            }
        }
    }
}

/// Where the policy comes from: `--policy`, else `$MODELSEAL_POLICY`, else
/// `~/.config/modelseal/policy.toml`. None found is an error that says how to make one.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("MODELSEAL_POLICY") {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let default = home.join(".config/modelseal/policy.toml");
    if default.is_file() {
        return Ok(default);
    }
    Err(format!(
        "no trust policy: give --policy FILE, set MODELSEAL_POLICY, or write {} \
         (`modelseal policy init --scope PREFIX --issuer-key FILE --ts-key FILE -o {}` makes one)",
        default.display(),
        default.display()
    ))
}
