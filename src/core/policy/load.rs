//! Reading a policy file: every field validated before anything is verified with it.

use super::{
    COSIGN_SIGNATURE_TYPE, ClaimPattern, CosignKey, Level, PolicyError, Scope, ScopePolicy,
    TRANSPARENT_STATEMENT_ARTIFACT, TrustPolicy, TrustedIssuer, TrustedService,
};
use crate::core::crypto::{MAX_KEY_FILE_BYTES, NamedKey, PublicKey, read_public_keys};
use crate::core::input::read_bounded;
use crate::core::sigstore::keyless::{
    IdentityRule, KeylessIdentity, PRODUCTION_ROOT_NAME, SigstoreTrust,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Document {
    pub version: u32,
    #[serde(rename = "policy")]
    pub policies: Vec<ScopeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScopeSpec {
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub level: Option<Level>,
    #[serde(default)]
    pub issuers: Vec<IssuerSpec>,
    #[serde(default)]
    pub transparency_services: Vec<ServiceSpec>,
    #[serde(default)]
    pub min_receipts: usize,
    #[serde(default)]
    pub required_profiles: Vec<String>,
    /// Absent: what the issuers sign (see [`default_required_types`]).
    #[serde(default)]
    pub required_artifact_types: Option<Vec<String>>,
}

/// The `kind` of an issuer that signs cosign's tag-based signatures.
pub(super) const COSIGN_KIND: &str = "cosign";

/// What a policy requires attached when it does not say, from what its issuers sign: a keyless
/// signer publishes a Sigstore bundle, a cosign key a cosign signature, everyone else a
/// transparent statement.
fn default_required_types(issuers: &[TrustedIssuer], cosign_keys: &[CosignKey]) -> Vec<String> {
    let mut types = Vec::new();
    if !issuers.is_empty() && issuers.iter().all(|i| i.sigstore.is_some()) {
        types.push(crate::core::sigstore::BUNDLE_MEDIA_TYPE.into());
    } else if !issuers.is_empty() || cosign_keys.is_empty() {
        types.push(TRANSPARENT_STATEMENT_ARTIFACT.into());
    }
    if !cosign_keys.is_empty() {
        types.push(COSIGN_SIGNATURE_TYPE.into());
    }
    types
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IssuerSpec {
    /// `sigstore` for a keyless signer, `cosign` for a key that signs cosign's tag-based
    /// signatures and attestations; absent for keys, roots and did:x509.
    pub kind: Option<String>,
    pub key: Option<PathBuf>,
    pub root: Option<PathBuf>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub identity: Option<String>,
    pub identity_regexp: Option<String>,
    pub oidc_issuer: Option<String>,
    pub trusted_root: Option<String>,
}

/// The only issuer kind besides the default (keys, roots, did:x509).
pub(super) const SIGSTORE_KIND: &str = "sigstore";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServiceSpec {
    pub name: String,
    pub key: Option<PathBuf>,
    /// A Sigstore trusted root whose transparency logs' keys are this service's keys (Rekor).
    pub trusted_root: Option<String>,
    pub profile: Option<String>,
}

pub(super) fn profile_name(given: &str) -> Option<&'static str> {
    match given
        .to_ascii_lowercase()
        .replace([' ', '-', '_'], "")
        .as_str()
    {
        "rfc9162" | "1" => Some("RFC 9162"),
        "ccf" | "2" => Some("CCF"),
        "mmr" | "3" => Some("MMR"),
        "rekor" => Some(crate::core::sigstore::REKOR_PROFILE),
        _ => None,
    }
}

/// The document's text, bounded, and parsed (without reading any key yet).
pub(super) fn read_document(path: &Path) -> Result<(String, Document), PolicyError> {
    let invalid = |reason: String| PolicyError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = read_bounded(path, MAX_KEY_FILE_BYTES).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            PolicyError::Missing {
                path: path.to_path_buf(),
                named: None,
            }
        } else {
            PolicyError::Unreadable {
                path: path.to_path_buf(),
                what: "the policy".into(),
                source,
            }
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
    let doc = parse_document(&text, path)?;
    Ok((text, doc))
}

/// A policy document's text, parsed and checked for a version and a policy; `path` names it in
/// errors.
fn parse_document(text: &str, path: &Path) -> Result<Document, PolicyError> {
    let invalid = |reason: String| PolicyError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let doc: Document = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if !matches!(doc.version, 1 | 2) {
        return Err(invalid(format!(
            "version {} is not supported (1 and 2 are)",
            doc.version
        )));
    }
    if doc.policies.is_empty() {
        return Err(invalid("no [[policy]]".into()));
    }
    Ok(doc)
}

pub(super) fn load(path: &Path) -> Result<TrustPolicy, PolicyError> {
    let (_, doc) = read_document(path)?;
    from_document(doc, path)
}

/// A policy from its text, as if it were the file at `path` (key files relative to it).
pub(super) fn from_text(text: &str, path: &Path) -> Result<TrustPolicy, PolicyError> {
    from_document(parse_document(text, path)?, path)
}

fn from_document(doc: Document, path: &Path) -> Result<TrustPolicy, PolicyError> {
    let invalid = |reason: String| PolicyError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
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
        read_bounded(&full, MAX_KEY_FILE_BYTES).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                PolicyError::Missing {
                    path: full,
                    named: Some(what.into()),
                }
            } else {
                PolicyError::Unreadable {
                    path: full,
                    what: what.into(),
                    source,
                }
            }
        })
    };
    let mut policies: Vec<ScopePolicy> = Vec::new();
    for spec in doc.policies {
        let at = |reason: String| invalid(format!("policy '{}': {reason}", spec.name));
        if spec.scopes.is_empty() {
            return Err(at("no scopes".into()));
        }
        let mut parsed_scopes = Vec::new();
        for text in &spec.scopes {
            let parsed = if doc.version == 1 {
                Scope::parse_v1(text)
            } else {
                Scope::parse(text).map(|s| vec![s])
            };
            parsed_scopes.extend(parsed.map_err(&at)?);
        }
        let level = spec.level.unwrap_or_default();
        if level == Level::Skip && parsed_scopes.contains(&Scope::All) {
            return Err(at(
                "level \"skip\" on the \"*\" scope would verify nothing anywhere; give skip its own narrow scope".into(),
            ));
        }
        if spec.issuers.is_empty() && level != Level::Skip {
            return Err(at(
                "no issuers: a policy must say whose statements it trusts".into(),
            ));
        }
        let mut issuers = Vec::new();
        let mut cosign_keys = Vec::new();
        for i in &spec.issuers {
            match i.kind.as_deref() {
                None => {}
                Some(COSIGN_KIND) => {
                    let key = match (
                        &i.key,
                        &i.root,
                        &i.iss,
                        &i.sub,
                        &i.identity,
                        &i.identity_regexp,
                        &i.oidc_issuer,
                        &i.trusted_root,
                    ) {
                        (Some(k), None, None, None, None, None, None, None) => k,
                        _ => {
                            return Err(at(
                                "a cosign issuer is a key alone (`kind = \"cosign\"`, `key = FILE`): cosign's signatures carry no iss or sub".into(),
                            ));
                        }
                    };
                    cosign_keys.extend(
                        read_public_keys(&read(key, "a cosign key")?)
                            .map_err(|e| at(format!("{}: {e}", key.display())))?
                            .into_iter()
                            .map(|k| CosignKey {
                                key: k.key,
                                source: resolve(key).display().to_string(),
                            }),
                    );
                    continue;
                }
                // sigstore, and unknown kinds, below.
                Some(_) => {}
            }
            let pattern = |text: &Option<String>| {
                text.as_deref()
                    .map(ClaimPattern::parse)
                    .transpose()
                    .map_err(&at)
            };
            let (iss, sub) = (pattern(&i.iss)?, pattern(&i.sub)?);
            match i.kind.as_deref() {
                None => {
                    if i.identity.is_some()
                        || i.identity_regexp.is_some()
                        || i.oidc_issuer.is_some()
                        || i.trusted_root.is_some()
                    {
                        return Err(at(format!(
                            "identity, identity_regexp, oidc_issuer and trusted_root belong to issuers of kind = \"{SIGSTORE_KIND}\""
                        )));
                    }
                }
                Some(SIGSTORE_KIND) => {
                    issuers.push(sigstore_issuer(i, base, iss, sub).map_err(&at)?);
                    continue;
                }
                Some(other) => {
                    return Err(at(format!(
                        "unknown issuer kind '{other}' (\"{SIGSTORE_KIND}\" or \"{COSIGN_KIND}\"; keys, roots and did:x509 need none)"
                    )));
                }
            }
            let issuer = match (&i.key, &i.root) {
                (Some(k), None) => TrustedIssuer {
                    keys: read_public_keys(&read(k, "an issuer key")?)
                        .map_err(|e| at(format!("{}: {e}", k.display())))?,
                    roots: Vec::new(),
                    did: None,
                    sigstore: None,
                    iss,
                    sub,
                    source: resolve(k).display().to_string(),
                },
                (None, Some(r)) => TrustedIssuer {
                    keys: Vec::new(),
                    roots: crate::core::x509::read_certificates(&read(r, "an issuer root")?)
                        .map_err(|e| at(format!("{}: {e}", r.display())))?,
                    did: None,
                    sigstore: None,
                    iss,
                    sub,
                    source: resolve(r).display().to_string(),
                },
                (None, None) => {
                    // A did:x509 issuer alone: its fingerprint pins the CA.
                    let did = i
                        .iss
                        .as_deref()
                        .filter(|d| d.starts_with("did:x509:"))
                        .ok_or_else(|| {
                            at("each issuer needs a key, a root, or a did:x509 iss".into())
                        })?;
                    crate::core::x509::check_did_x509_syntax(did).map_err(|e| at(e.to_string()))?;
                    TrustedIssuer {
                        keys: Vec::new(),
                        roots: Vec::new(),
                        did: Some(did.to_string()),
                        sigstore: None,
                        iss,
                        sub,
                        source: did.to_string(),
                    }
                }
                (Some(_), Some(_)) => {
                    return Err(at("an issuer has a key or a root, not both".into()));
                }
            };
            issuers.push(issuer);
        }
        let mut services = Vec::new();
        for s in &spec.transparency_services {
            let keys = match (&s.key, &s.trusted_root) {
                (Some(key), None) => read_public_keys(&read(key, "a service key")?)
                    .map_err(|e| at(format!("{}: {e}", key.display())))?,
                (None, Some(root)) => sigstore_log_keys(root, base)
                    .map_err(|e| at(format!("transparency service '{}': {e}", s.name)))?,
                _ => {
                    return Err(at(format!(
                        "transparency service '{}' needs a key or a trusted_root, not both",
                        s.name
                    )));
                }
            };
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
        for earlier in &policies {
            for scope in &parsed_scopes {
                if earlier.parsed_scopes.contains(scope) {
                    return Err(at(format!(
                        "scope {scope} is also in policy '{}': which applies would be a guess",
                        earlier.name
                    )));
                }
            }
        }
        let required_artifact_types = spec
            .required_artifact_types
            .unwrap_or_else(|| default_required_types(&issuers, &cosign_keys));
        policies.push(ScopePolicy {
            name: spec.name,
            scopes: spec.scopes,
            parsed_scopes,
            level,
            services,
            min_receipts: spec.min_receipts,
            required_profiles,
            required_artifact_types,
            issuers,
            cosign_keys,
        });
    }
    Ok(TrustPolicy {
        path: path.to_path_buf(),
        version: doc.version,
        policies,
    })
}

/// A `kind = "sigstore"` issuer: both an identity (exact or regexp, not both) and the OIDC
/// issuer are required, as cosign requires them; the trusted root defaults to public-good
/// production.
fn sigstore_issuer(
    i: &IssuerSpec,
    base: &Path,
    iss: Option<ClaimPattern>,
    sub: Option<ClaimPattern>,
) -> Result<TrustedIssuer, String> {
    if i.key.is_some() || i.root.is_some() {
        return Err(
            "a sigstore issuer is named by identity and OIDC issuer; key and root do not apply (its CA is in trusted_root)".into(),
        );
    }
    let identity = match (&i.identity, &i.identity_regexp) {
        (Some(id), None) if !id.is_empty() => IdentityRule::Exact(id.clone()),
        (None, Some(re)) => IdentityRule::regexp(re).map_err(|e| e.to_string())?,
        (Some(_), Some(_)) => {
            return Err("a sigstore issuer has identity or identity_regexp, not both".into());
        }
        _ => {
            return Err(
                "a sigstore issuer needs identity or identity_regexp (the certificate's SAN)"
                    .into(),
            );
        }
    };
    let oidc_issuer = i
        .oidc_issuer
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or("a sigstore issuer needs oidc_issuer (who vouched for the identity)")?;
    let root_name = i.trusted_root.as_deref().unwrap_or(PRODUCTION_ROOT_NAME);
    let trust = SigstoreTrust::named_or_file(root_name, base).map_err(|e| e.to_string())?;
    let source = format!(
        "sigstore {identity} from {oidc_issuer} under {}",
        trust.name
    );
    Ok(TrustedIssuer {
        keys: Vec::new(),
        roots: Vec::new(),
        did: None,
        sigstore: Some(KeylessIdentity {
            identity,
            oidc_issuer,
            trust,
        }),
        iss,
        sub,
        source,
    })
}

/// The keys of a Sigstore trusted root's transparency logs (Rekor): receipts (log entries) are
/// counted for the service whose key verified them, so the service holds exactly those keys.
fn sigstore_log_keys(root: &str, base: &Path) -> Result<Vec<NamedKey>, String> {
    let trust = SigstoreTrust::named_or_file(root, base).map_err(|e| e.to_string())?;
    let keys: Vec<NamedKey> = trust
        .log_key_spkis()
        .iter()
        .filter_map(|der| PublicKey::from_spki_der(der).ok())
        .map(|key| NamedKey { kid: None, key })
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "{} lists no transparency log key modelseal reads",
            trust.name
        ));
    }
    Ok(keys)
}
