//! The trust policy: per scope of repositories, which statement issuers are trusted (keys, root
//! certificates, or a `did:x509` identity, with the `iss`/`sub` they must claim — exact, glob, or
//! bound to the reference by template), which transparency services count (their keys), how many
//! receipts are required and of which profiles, which artifact types must be attached, and how
//! strictly (`level`). A versioned TOML document, validated up front; notation's trust policy is
//! the model.
//!
//! ```toml
//! version = 2
//! [[policy]]
//! name = "phi"
//! scopes = ["myreg.azurecr.io/models/*"]     # whole path segments; "*" matches everything
//! level = "strict"                           # strict (default) | audit | skip
//! min_receipts = 2
//! [[policy.issuers]]
//! iss = "did:x509:0:sha256:...::eku:1.3.6.1.4.1.311.76.59.1.1"   # the DID alone pins the CA
//! sub = "{repository}:{tag}"                 # bound to the reference verified
//! [[policy.transparency_services]]
//! name = "azure-ccf"
//! key = "ccf.pem"
//! ```
//!
//! A keyless Sigstore signer, with Rekor counted as a transparency service:
//!
//! ```toml
//! [[policy.issuers]]
//! kind = "sigstore"
//! identity = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
//! oidc_issuer = "https://token.actions.githubusercontent.com"
//! trusted_root = "sigstore-production"       # or sigstore-staging, or a trusted_root.json
//! [[policy.transparency_services]]
//! name = "rekor"
//! trusted_root = "sigstore-production"       # the keys of that root's logs
//! ```

mod attached;
mod claims;
mod lint;
mod load;
mod scope;
mod statement;

pub use claims::{ArtifactRef, ClaimPattern, glob};
pub use lint::{Finding, lint};
pub use scope::{LAYOUT_HOST, RepositoryName, Scope, Specificity};
pub use statement::StatementVerdict;

use crate::core::crypto::NamedKey;
use crate::core::sigstore::keyless::KeylessIdentity;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The artifact type a verified model must carry, unless the policy says otherwise.
pub const TRANSPARENT_STATEMENT_ARTIFACT: &str = "scitt/transparent-statement";
/// In `required_artifact_types`: a cosign signature (tag `sha256-<hex>.sig`) by a policy cosign
/// key over the artifact's digest. Required by default when the policy has cosign keys.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign/signature";
/// In `required_artifact_types`: a cosign attestation (tag `sha256-<hex>.att`) by a policy
/// cosign key whose subjects include the artifact.
pub const COSIGN_ATTESTATION_TYPE: &str = "cosign/attestation";

/// Why a trust policy could not be loaded, or covers no scope for a name.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy file (or a key, root or trusted root it names) is not valid: bad TOML, an unknown
    /// field or version, a scope, level, profile or issuer that breaks a rule.
    #[error("{path}: {reason}")]
    Invalid {
        /// The policy file.
        path: PathBuf,
        /// What is wrong, naming the policy and field.
        reason: String,
    },
    /// The policy file, or a file it names, is not there (the wording of every missing file).
    #[error(
        "{}: no such file or directory{}",
        .path.display(),
        .named.as_ref().map(|w| format!(" ({w}, named by the policy)")).unwrap_or_default()
    )]
    Missing {
        /// The missing file.
        path: PathBuf,
        /// What the policy names it as (a key, a root), or `None` for the policy itself.
        named: Option<String>,
    },
    /// The policy file, or a file it names, cannot be read (or is larger than 1 MiB).
    #[error("{path}: cannot read {what}: {source}")]
    Unreadable {
        /// The policy file.
        path: PathBuf,
        /// What could not be read ("the policy", a key or root file).
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No scope of any policy covers the repository being verified: fail closed.
    #[error(
        "{path}: no policy scope covers {name}; the policy's scopes: {scopes} (add a scope that covers it, e.g. \"{name}\" or \"{host}/*\")"
    )]
    NoScope {
        /// The policy file.
        path: PathBuf,
        /// The repository, as `host/path`.
        name: String,
        /// The repository's host (or `oci-layout:` for a layout), for the suggested scope.
        host: String,
        /// The policy's scopes (those on the same host first), each with its policy's name.
        scopes: String,
    },
}

/// How a policy's verdict is used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Every check enforced: a failure blocks.
    #[default]
    Strict,
    /// Everything checked and reported, nothing blocked (for rolling a policy out).
    Audit,
    /// Nothing verified (never allowed on the `*` scope).
    Skip,
}

impl Level {
    /// The level as written in the file: "strict", "audit" or "skip".
    pub fn name(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::Audit => "audit",
            Level::Skip => "skip",
        }
    }

    /// Whether a failed verification blocks.
    pub fn enforced(self) -> bool {
        self == Level::Strict
    }
}

/// A statement issuer the policy trusts: by key, by root certificate, or by a `did:x509`
/// identity (whose fingerprint pins the CA the x5chain must be validated to).
#[derive(Clone, Debug)]
pub struct TrustedIssuer {
    /// Keys a statement may be signed with directly (`key = FILE`: PEM, JWK or JWKS).
    pub keys: Vec<NamedKey>,
    /// DER root certificates a protected x5chain may lead to (`root = FILE`).
    pub roots: Vec<Vec<u8>>,
    /// A `did:x509` trusted by itself (`iss = "did:x509:..."` without key or root): the CA it pins
    /// is the anchor, and the statement's `iss` must be the DID.
    pub did: Option<String>,
    /// A keyless Sigstore signer (`kind = "sigstore"`): certificate identity, OIDC issuer and
    /// the trusted root its certificate and log entry must verify under.
    pub sigstore: Option<KeylessIdentity>,
    /// What the statement's CWT `iss` must be: exact, glob, or a template over the reference.
    pub iss: Option<ClaimPattern>,
    /// What the statement's CWT `sub` must be, e.g. `{repository}:{tag}`.
    pub sub: Option<ClaimPattern>,
    /// Where it was declared: the key or root file, or the DID.
    pub source: String,
}

/// A key trusted for cosign's tag-based signatures and attestations, and the file it came from.
#[derive(Clone, Debug)]
pub struct CosignKey {
    /// The public key cosign signatures and attestations must verify with.
    pub key: crate::core::crypto::PublicKey,
    /// The key file as the policy names it, for messages.
    pub source: String,
}

/// A transparency service whose receipts count: by its keys, optionally of one profile.
#[derive(Clone, Debug)]
pub struct TrustedService {
    /// The service's name in the policy, for messages.
    pub name: String,
    /// Keys a receipt of this service verifies with (`key = FILE`, or the logs of a Sigstore
    /// `trusted_root` for Rekor).
    pub keys: Vec<NamedKey>,
    /// "RFC 9162", "CCF" or "MMR": receipts of another profile do not count for this service.
    pub profile: Option<String>,
}

/// One `[[policy]]`: the repositories it covers and what a statement for them must satisfy.
#[derive(Clone, Debug)]
pub struct ScopePolicy {
    /// The policy's name, unique in the file.
    pub name: String,
    /// The scopes as written in the file.
    pub scopes: Vec<String>,
    /// The scopes as matched (a version-1 prefix becomes two).
    pub parsed_scopes: Vec<Scope>,
    /// How its verdict is used (default strict).
    pub level: Level,
    /// Who may sign statements (one match suffices); empty when the policy has only cosign
    /// keys, or is `skip`.
    pub issuers: Vec<TrustedIssuer>,
    /// Keys whose cosign signatures (`sha256-<hex>.sig` tags) the policy requires: with any, one
    /// signature by one of them over the artifact's digest must hold.
    pub cosign_keys: Vec<CosignKey>,
    /// Transparency services whose receipts count.
    pub services: Vec<TrustedService>,
    /// How many receipts, each verified by a different trusted service, are required (default 0).
    pub min_receipts: usize,
    /// Receipt profiles ("RFC 9162", "CCF", "MMR", Rekor) of which at least one verified receipt
    /// each is required.
    pub required_profiles: Vec<String>,
    /// Artifact types that must be attached to the model and verify (default: what the issuers
    /// sign, e.g. [`TRANSPARENT_STATEMENT_ARTIFACT`]).
    pub required_artifact_types: Vec<String>,
}

/// A loaded and validated trust policy file: its scoped policies, keys and roots already read.
#[derive(Clone, Debug)]
pub struct TrustPolicy {
    /// The file it was loaded from; relative key paths were resolved against its directory.
    pub path: PathBuf,
    /// The document's `version`: 1 (prefix scopes) or 2 (segment scopes, templates).
    pub version: u32,
    /// Its `[[policy]]` tables, in file order.
    pub policies: Vec<ScopePolicy>,
}

/// One scope of one policy that covers a name, and how specifically.
#[derive(Clone, Debug, Serialize)]
pub struct ScopeMatch {
    /// The policy's name.
    pub policy: String,
    /// The scope that covers the name, as matched.
    pub scope: String,
    /// How specifically it covers it: exact repository, a prefix of N segments, or `*`.
    #[serde(serialize_with = "specificity_name")]
    pub specificity: Specificity,
}

fn specificity_name<S: serde::Serializer>(s: &Specificity, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&s.to_string())
}

impl std::fmt::Display for Specificity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Specificity::All => f.write_str("catch-all"),
            Specificity::Prefix(n) => write!(f, "prefix of {n} segment(s)"),
            Specificity::Exact => f.write_str("exact repository"),
        }
    }
}

/// Which policy applies to a name, and why: the winning scope and the ones that lost.
#[derive(Clone, Debug)]
pub struct Selection<'a> {
    /// The policy that applies.
    pub policy: &'a ScopePolicy,
    /// The most specific scope that covers the name.
    pub winner: ScopeMatch,
    /// Other scopes that cover it too, most specific first.
    pub losers: Vec<ScopeMatch>,
}

impl TrustPolicy {
    /// Reads and validates a policy; key and certificate paths are relative to the policy file.
    /// Refuses, naming the file and the policy, a file over 1 MiB or not UTF-8 TOML, an unknown
    /// field or `version`, a policy without issuers (unless `skip`), a malformed scope or
    /// `did:x509`, an unreadable key or root, `min_receipts` beyond the services listed, and `skip`
    /// on `*`.
    ///
    /// ```
    /// use modelseal::core::crypto::{Algorithm, PrivateKey};
    /// use modelseal::core::policy::{Level, RepositoryName, TrustPolicy};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let issuer = PrivateKey::generate(Algorithm::ES256)?;
    /// std::fs::write(dir.path().join("issuer.pub"), issuer.public_key().to_spki_pem())?;
    /// let path = dir.path().join("policy.toml");
    /// std::fs::write(&path, r#"
    ///     version = 2
    ///     [[policy]]
    ///     name = "models"
    ///     scopes = ["registry.example/models/*"]
    ///     [[policy.issuers]]
    ///     key = "issuer.pub"
    ///     sub = "{repository}:{tag}"
    /// "#)?;
    ///
    /// let policy = TrustPolicy::load(&path)?;
    /// let selection = policy.select(&RepositoryName::parse("registry.example/models/llama"))?;
    /// assert_eq!(selection.policy.name, "models");
    /// assert_eq!(selection.policy.level, Level::Strict);
    /// assert_eq!(selection.policy.issuers[0].keys[0].key, issuer.public_key());
    /// // No scope covers another repository: fail closed.
    /// assert!(policy.select(&RepositoryName::parse("registry.example/other")).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        load::load(path)
    }

    /// Parses a policy's text as if it were the file at `path` (key files relative to it, errors
    /// naming it): for checking a policy before it is written there.
    pub fn from_text(text: &str, path: &Path) -> Result<Self, PolicyError> {
        load::from_text(text, path)
    }

    /// The policy for `name`: the most specific scope that covers it (exact repository, then the
    /// longest prefix, then `*`). None covering it is an error naming the nearest scopes.
    pub fn select(&self, name: &RepositoryName) -> Result<Selection<'_>, PolicyError> {
        let mut matches: Vec<(ScopeMatch, &ScopePolicy)> = Vec::new();
        for p in &self.policies {
            for (scope, text) in p.parsed_scopes.iter().zip(scope_texts(p)) {
                if let Some(specificity) = scope.covers(name) {
                    matches.push((
                        ScopeMatch {
                            policy: p.name.clone(),
                            scope: text,
                            specificity,
                        },
                        p,
                    ));
                }
            }
        }
        // Stable: on a tie (refused on load for equal scopes) the first declared wins.
        matches.sort_by_key(|m| std::cmp::Reverse(m.0.specificity));
        let mut matches = matches.into_iter();
        let Some((winner, policy)) = matches.next() else {
            return Err(PolicyError::NoScope {
                path: self.path.clone(),
                name: name.to_string(),
                host: name.host.clone(),
                scopes: self.listed_scopes(name),
            });
        };
        Ok(Selection {
            policy,
            winner,
            losers: matches.map(|(m, _)| m).collect(),
        })
    }

    /// The policy for a reference as the user typed it (`host/repo:tag`, or a layout
    /// `DIR:tag` with `oci_layout`), with the reference parsed for claim templates.
    pub fn select_reference(
        &self,
        reference: &str,
        oci_layout: bool,
    ) -> Result<(Selection<'_>, ArtifactRef), PolicyError> {
        let artifact = ArtifactRef::parse(reference, oci_layout);
        Ok((self.select(&artifact.name)?, artifact))
    }

    /// The policy for a repository named as `host/repo` (or `oci-layout:/dir`).
    pub fn for_repository(&self, repository: &str) -> Option<&ScopePolicy> {
        self.select(&RepositoryName::parse(repository))
            .ok()
            .map(|s| s.policy)
    }

    /// Every scope of the policy with its policy's name, those on the name's host first (what
    /// a user probably meant); at most 20, then how many more.
    fn listed_scopes(&self, name: &RepositoryName) -> String {
        const SHOWN: usize = 20;
        let mut all: Vec<(bool, String)> = self
            .policies
            .iter()
            .flat_map(|p| {
                p.parsed_scopes.iter().map(move |s| {
                    (
                        scope_host(s) != Some(name.host.as_str()),
                        format!("\"{s}\" (policy '{}')", p.name),
                    )
                })
            })
            .collect();
        all.sort_by_key(|(other_host, _)| *other_host); // stable: file order within each group
        let mut shown: Vec<String> = all.iter().take(SHOWN).map(|(_, s)| s.clone()).collect();
        if all.len() > SHOWN {
            shown.push(format!("and {} more", all.len() - SHOWN));
        }
        if shown.is_empty() {
            "none".into()
        } else {
            shown.join(", ")
        }
    }
}

fn scope_host(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::All => None,
        Scope::Repository(r) | Scope::Under(r) => Some(&r.host),
    }
}

/// The written scope each parsed scope came from (a version-1 prefix gives two parsed scopes).
fn scope_texts(p: &ScopePolicy) -> Vec<String> {
    p.parsed_scopes.iter().map(|s| s.to_string()).collect()
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
    // Without HOME there is no default file: a relative `.config/...` would be read from
    // whatever directory the process happens to run in.
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let default = home
        .unwrap_or_else(|| PathBuf::from("~"))
        .join(".config/modelseal/policy.toml");
    if default.is_absolute() && default.is_file() {
        return Ok(default);
    }
    Err(format!(
        "no trust policy: give --policy FILE, set MODELSEAL_POLICY, or write {} \
         (`modelseal policy init --scope SCOPE --issuer-key FILE --ts-key FILE -o {}` makes one)",
        default.display(),
        default.display()
    ))
}
