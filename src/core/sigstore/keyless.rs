//! Sigstore bundles verified the way Sigstore clients do (keyless, with a Fulcio certificate, or
//! with a managed key), offline, against a trusted root.
//!
//! The cryptography is `sigstore-verify`'s (sigstore-rust): the Fulcio chain to the trusted
//! root's CA at every *verified* time (a Rekor v1 integrated time under a valid SET, or an
//! RFC 3161 timestamp from a trusted TSA — never the clock, never a claim in the statement), the
//! embedded SCT, the Rekor entry (SET, inclusion proof, signed checkpoint; Rekor v1 and v2) and
//! its consistency with the bundle, and the signature over the artifact or DSSE payload.
//!
//! What modelseal adds on top: identities matched by regular expression (the crate matches exact
//! strings), trust roots embedded or read from a bounded file, the Rekor entries reported as
//! receipts named by the log key that verified them (what a policy counts services by), and, in
//! `core::verify`, the binding of a model-signing payload to the model's manifest and files.

use regex::Regex;
use sha2::{Digest, Sha256};
use sigstore_verify::trust_root::{
    SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT, TrustedRoot,
};
use sigstore_verify::types::bundle::VerificationMaterialContent;
use sigstore_verify::types::{Bundle, DerPublicKey, Sha256Hash, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};
use std::path::Path;
use std::sync::Arc;

/// A trusted root is a few certificates and keys; anything larger is not one.
pub const MAX_TRUSTED_ROOT_BYTES: u64 = 4 * 1024 * 1024;
/// Identities are URIs or e-mail addresses; a longer pattern is a mistake, and the regex engine's
/// size limit below bounds what a hostile policy could make it build.
pub const MAX_IDENTITY_PATTERN_BYTES: usize = 4096;
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The trust-root names accepted in place of a file.
pub const PRODUCTION_ROOT_NAME: &str = "sigstore-production";
/// The public-good staging instance's embedded trusted root.
pub const STAGING_ROOT_NAME: &str = "sigstore-staging";

/// Why a keyless (or managed-key) Sigstore bundle could not be read or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    /// A `trusted_root.json` could not be read or prepared (too large, not UTF-8, not a trusted
    /// root).
    #[error("trusted root {name}: {reason}")]
    TrustedRoot {
        /// The root's name or file.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The bundle is too large or not one the Sigstore verifier reads.
    #[error("not a Sigstore bundle the verifier reads: {0}")]
    Bundle(String),
    /// An identity regexp is longer than [`MAX_IDENTITY_PATTERN_BYTES`] or does not compile.
    #[error("identity pattern '{pattern}': {reason}")]
    Pattern {
        /// The pattern, cut to 80 characters.
        pattern: String,
        /// Why it is refused.
        reason: String,
    },
    /// The call cannot be made as asked (e.g. a keyless check of a bundle without a certificate).
    #[error("{0}")]
    Usage(String),
    /// The certificate's SAN identity is not the required one (exact, or the whole of a regexp).
    #[error("certificate identity {found} does not match the required {required}")]
    IdentityMismatch {
        /// The certificate's identity.
        found: String,
        /// The rule, as written.
        required: String,
    },
    /// The certificate's OIDC issuer extension is not the required issuer.
    #[error("certificate OIDC issuer {found} is not the required {required}")]
    IssuerMismatch {
        /// The certificate's OIDC issuer.
        found: String,
        /// The required issuer.
        required: String,
    },
    /// The bundle failed Sigstore verification: certificate chain at the verified time, SCT, log
    /// entry (inclusion proof, SET or checkpoint), timestamp, or the signature over the artifact.
    #[error("{0}")]
    Verification(String),
}

/// A Sigstore instance's trust material (Fulcio CAs, Rekor and CT log keys, TSAs), prepared once.
pub struct SigstoreTrust {
    /// Where it came from: "sigstore-production", "sigstore-staging", or the file.
    pub name: String,
    root: TrustedRoot,
    verifier: Verifier,
}

impl std::fmt::Debug for SigstoreTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigstoreTrust")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SigstoreTrust {
    /// The public-good production root `sigstore-trust-root` embeds (the TUF target
    /// `trusted_root.json` of tuf-repo-cdn.sigstore.dev, as that crate's release ships it).
    pub fn production() -> Result<Arc<Self>, KeylessError> {
        Self::from_json(
            SIGSTORE_PRODUCTION_TRUSTED_ROOT.as_bytes(),
            PRODUCTION_ROOT_NAME,
        )
    }

    /// The public-good staging root (tuf-repo-cdn.sigstage.dev), embedded the same way.
    pub fn staging() -> Result<Arc<Self>, KeylessError> {
        Self::from_json(SIGSTORE_STAGING_TRUSTED_ROOT.as_bytes(), STAGING_ROOT_NAME)
    }

    /// A `trusted_root.json` (model-signing's `--trust_config` for a private instance).
    pub fn from_file(path: &Path) -> Result<Arc<Self>, KeylessError> {
        let bytes =
            crate::core::input::read_bounded(path, MAX_TRUSTED_ROOT_BYTES).map_err(|e| {
                KeylessError::TrustedRoot {
                    name: path.display().to_string(),
                    reason: format!("cannot read: {e}"),
                }
            })?;
        Self::from_json(&bytes, &path.display().to_string())
    }

    /// `sigstore-production`, `sigstore-staging`, or a file path.
    pub fn named_or_file(text: &str, base: &Path) -> Result<Arc<Self>, KeylessError> {
        match text {
            PRODUCTION_ROOT_NAME => Self::production(),
            STAGING_ROOT_NAME => Self::staging(),
            path => {
                let path = Path::new(path);
                if path.is_absolute() {
                    Self::from_file(path)
                } else {
                    Self::from_file(&base.join(path))
                }
            }
        }
    }

    /// A trusted root from `trusted_root.json` bytes, named `name` in messages. Refuses input over
    /// [`MAX_TRUSTED_ROOT_BYTES`], non-UTF-8 text, and JSON the verifier cannot use.
    pub fn from_json(bytes: &[u8], name: &str) -> Result<Arc<Self>, KeylessError> {
        let bad = |reason: String| KeylessError::TrustedRoot {
            name: name.to_string(),
            reason,
        };
        if bytes.len() as u64 > MAX_TRUSTED_ROOT_BYTES {
            return Err(bad(format!(
                "{} bytes, over the {MAX_TRUSTED_ROOT_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
        let root = TrustedRoot::from_json(text).map_err(|e| bad(e.to_string()))?;
        let verifier = Verifier::new(&root).map_err(|e| bad(e.to_string()))?;
        Ok(Arc::new(SigstoreTrust {
            name: name.to_string(),
            root,
            verifier,
        }))
    }

    /// The SPKI (DER) of each transparency log's key; SHA-256 of one is what
    /// [`LogEntryReport::verified_by`] holds, and what policy services are counted by.
    pub fn log_key_spkis(&self) -> Vec<Vec<u8>> {
        self.root
            .tlogs
            .iter()
            .map(|t| t.public_key.raw_bytes.as_bytes().to_vec())
            .collect()
    }
}

/// How the certificate's SAN identity must look.
#[derive(Clone, Debug)]
pub enum IdentityRule {
    /// cosign's `--certificate-identity`: the SAN (e-mail or URI) equals this.
    Exact(String),
    /// cosign's `--certificate-identity-regexp`, except that the whole identity must match
    /// (anchored): an unanchored `alice@example\.com` would also admit `alice@example.com.evil`.
    Regexp(Regex),
}

impl IdentityRule {
    /// A regexp rule anchored to the whole identity (`^(?:pattern)$`). Refuses a pattern over
    /// [`MAX_IDENTITY_PATTERN_BYTES`] or one that does not compile within the size limit.
    pub fn regexp(pattern: &str) -> Result<Self, KeylessError> {
        let bad = |reason: String| KeylessError::Pattern {
            pattern: pattern.chars().take(80).collect(),
            reason,
        };
        if pattern.len() > MAX_IDENTITY_PATTERN_BYTES {
            return Err(bad(format!("over {MAX_IDENTITY_PATTERN_BYTES} bytes")));
        }
        let compile = |text: &str| {
            regex::RegexBuilder::new(text)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| bad(e.to_string().lines().last().unwrap_or("invalid").into()))
        };
        // The pattern must stand on its own: `a)|(b` would otherwise close the anchoring group
        // and match anything that starts with `a` or ends with `b`.
        compile(pattern)?;
        compile(&format!("^(?:{pattern})$")).map(IdentityRule::Regexp)
    }

    /// Whether `identity` (a SAN e-mail or URI) satisfies the rule.
    pub fn matches(&self, identity: &str) -> bool {
        match self {
            IdentityRule::Exact(want) => want == identity,
            IdentityRule::Regexp(re) => re.is_match(identity),
        }
    }
}

impl std::fmt::Display for IdentityRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityRule::Exact(s) => f.write_str(s),
            // Show the pattern as written, without our anchors.
            IdentityRule::Regexp(re) => {
                let s = re.as_str();
                let inner = s
                    .strip_prefix("^(?:")
                    .and_then(|s| s.strip_suffix(")$"))
                    .unwrap_or(s);
                write!(f, "/{inner}/")
            }
        }
    }
}

/// Who may have signed keyless, under which instance's trust root. Like cosign, both the SAN
/// identity and the OIDC issuer are required: an identity alone is an address anyone's
/// provider could vouch for.
#[derive(Clone, Debug)]
pub struct KeylessIdentity {
    /// The certificate's SAN identity: exact or a whole-identity regexp.
    pub identity: IdentityRule,
    /// The OIDC issuer the certificate's Fulcio extension must name, compared exactly.
    pub oidc_issuer: String,
    /// The trusted root its certificate chain and log entries must verify under.
    pub trust: Arc<SigstoreTrust>,
}

/// What a generic (non-model) bundle signs: the artifact's bytes or its SHA-256.
#[derive(Clone, Copy, Debug)]
pub enum SignedArtifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact's SHA-256 digest.
    Sha256([u8; 32]),
}

impl SignedArtifact<'_> {
    /// The conformance suite's rule: `sha256:` and 64 hex digits is a digest, anything else a path.
    pub fn parse_digest(text: &str) -> Option<[u8; 32]> {
        let hex_part = text.strip_prefix("sha256:")?;
        let bytes = hex::decode(hex_part).ok()?;
        bytes.try_into().ok()
    }
}

/// One transparency-log entry the verifier proved: the log is named by the key that verified it.
#[derive(Clone, Debug)]
pub struct LogEntryReport {
    /// The log's base URL in the trusted root (a name for people, never what is counted).
    pub log_url: String,
    /// "hashedrekord 0.0.1", "dsse 0.0.2", …
    pub kind: String,
    /// The authenticated integrated time (Rekor v1), unix seconds.
    pub integrated_time: Option<i64>,
    /// The entry's index in its log.
    pub log_index: i64,
    /// Hex SHA-256 of the SPKI of the log key that verified the entry.
    pub verified_by: String,
}

/// A verified bundle: who signed, at which verified time, which logs vouch for it.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    /// The certificate's SAN (None for a managed-key bundle).
    pub identity: Option<String>,
    /// The certificate's OIDC issuer (None for a managed-key bundle).
    pub oidc_issuer: Option<String>,
    /// The earliest verified signing time (integrated time or TSA time), unix seconds.
    pub signed_at: Option<i64>,
    /// Every log entry verified under a log key of the trusted root.
    pub log_entries: Vec<LogEntryReport>,
    /// The DSSE payload, for a DSSE bundle.
    pub dsse_payload: Option<Vec<u8>>,
    /// Whether a certificate chain was verified to a Fulcio CA of the trusted root.
    pub certificate_verified: bool,
    /// Whether the certificate's signed certificate timestamp verified under a CT log key.
    pub sct_verified: bool,
}

/// A bundle parsed once (bounded by the caller) and what it holds.
pub struct ParsedBundle {
    bundle: Bundle,
}

impl ParsedBundle {
    /// Parses bundle JSON, refusing input over [`MAX_BUNDLE_BYTES`](super::MAX_BUNDLE_BYTES) or
    /// that the Sigstore verifier does not read. Nothing is verified.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeylessError> {
        if bytes.len() > super::MAX_BUNDLE_BYTES {
            return Err(KeylessError::Bundle(format!(
                "{} bytes, over the {}-byte limit",
                bytes.len(),
                super::MAX_BUNDLE_BYTES
            )));
        }
        let text =
            std::str::from_utf8(bytes).map_err(|_| KeylessError::Bundle("not UTF-8".into()))?;
        let bundle = Bundle::from_json(text).map_err(|e| KeylessError::Bundle(e.to_string()))?;
        Ok(ParsedBundle { bundle })
    }

    /// Signed with a certificate (Fulcio, keyless) rather than a managed key.
    pub fn has_certificate(&self) -> bool {
        !matches!(
            self.bundle.verification_material.content,
            VerificationMaterialContent::PublicKey { .. }
        )
    }

    /// The DSSE payload, before verification (to derive what the signature must cover).
    pub fn dsse_payload(&self) -> Option<Vec<u8>> {
        match &self.bundle.content {
            SignatureContent::DsseEnvelope(env) => Some(env.payload.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// Checks a keyless bundle over `artifact` against `who`: the crate's full verification with
    /// the issuer (and an exact identity) as its policy, then a regexp identity on top.
    pub fn verify_keyless(
        &self,
        artifact: SignedArtifact<'_>,
        who: &KeylessIdentity,
    ) -> Result<VerifiedBundle, KeylessError> {
        if !self.has_certificate() {
            return Err(KeylessError::Usage(
                "the bundle is signed with a key, not a certificate: verify it with --key".into(),
            ));
        }
        let policy = match &who.identity {
            IdentityRule::Exact(id) => {
                VerificationPolicy::new(id.as_str(), who.oidc_issuer.as_str())
            }
            IdentityRule::Regexp(_) => {
                VerificationPolicy::any_identity().require_issuer(who.oidc_issuer.as_str())
            }
        };
        let result = run(&who.trust.verifier, artifact, &self.bundle, &policy)?;
        // The crate's policy checks are its own; these say the same in our words and are the
        // only check for a regexp.
        let found = result
            .identity()
            .map(|i| i.as_str().to_string())
            .unwrap_or_default();
        if !who.identity.matches(&found) {
            return Err(KeylessError::IdentityMismatch {
                found: if found.is_empty() {
                    "(none)".into()
                } else {
                    found
                },
                required: who.identity.to_string(),
            });
        }
        let issuer = result.issuer().unwrap_or_default().to_string();
        if issuer != who.oidc_issuer {
            return Err(KeylessError::IssuerMismatch {
                found: issuer,
                required: who.oidc_issuer.clone(),
            });
        }
        if !(result.certificate_verified() && result.sct_verified() && result.tlog_verified()) {
            // The policies built above never relax a step; a result saying otherwise is refused.
            return Err(KeylessError::Verification(
                "the verifier did not check the certificate chain, SCT and log entry".into(),
            ));
        }
        Ok(self.report(&who.trust, &result, Some(found), Some(issuer)))
    }

    /// Checks a managed-key bundle (with its log entries) over `artifact` with `spki_der`.
    pub fn verify_with_key(
        &self,
        artifact: SignedArtifact<'_>,
        spki_der: &[u8],
        trust: &SigstoreTrust,
    ) -> Result<VerifiedBundle, KeylessError> {
        let policy = PublicKeyVerificationPolicy::new(DerPublicKey::from_bytes(spki_der));
        let result = run(&trust.verifier, artifact, &self.bundle, &policy)?;
        if !result.tlog_verified() {
            return Err(KeylessError::Verification(
                "the verifier did not check the log entry".into(),
            ));
        }
        Ok(self.report(trust, &result, None, None))
    }

    fn report(
        &self,
        trust: &SigstoreTrust,
        result: &sigstore_verify::VerificationResult,
        identity: Option<String>,
        oidc_issuer: Option<String>,
    ) -> VerifiedBundle {
        // Each entry is named by the trusted-root log whose ID it carries: the verifier looked
        // its key up by that ID, so an entry whose ID is in no trusted log never verified.
        let log_entries = self
            .bundle
            .verification_material
            .tlog_entries
            .iter()
            .filter_map(|entry| {
                let log = trust
                    .root
                    .tlogs
                    .iter()
                    .find(|t| t.log_id.key_id.as_bytes() == entry.log_id.key_id.as_bytes())?;
                Some(LogEntryReport {
                    log_url: log.base_url.clone(),
                    kind: format!(
                        "{} {}",
                        entry.kind_version.kind(),
                        entry.kind_version.version()
                    ),
                    // Only a Rekor v1 SET signs the integrated time; without one (or in a v2
                    // entry) the field is an unsigned hint, not a time.
                    integrated_time: entry
                        .integrated_time
                        .filter(|_| {
                            entry.inclusion_promise.is_some()
                                && entry.kind_version.version() != "0.0.2"
                        })
                        .map(|t| t.as_second()),
                    log_index: entry.log_index.as_i64(),
                    verified_by: hex::encode(Sha256::digest(log.public_key.raw_bytes.as_bytes())),
                })
            })
            .collect();
        VerifiedBundle {
            identity,
            oidc_issuer,
            signed_at: result
                .verified_timestamps()
                .iter()
                .map(|t| t.as_second())
                .min(),
            log_entries,
            dsse_payload: self.dsse_payload(),
            certificate_verified: result.certificate_verified(),
            sct_verified: result.sct_verified(),
        }
    }
}

fn run(
    verifier: &Verifier,
    artifact: SignedArtifact<'_>,
    bundle: &Bundle,
    policy: &(impl sigstore_verify::Policy + ?Sized),
) -> Result<sigstore_verify::VerificationResult, KeylessError> {
    let outcome = match artifact {
        SignedArtifact::Bytes(b) => verifier.verify(b, bundle, policy),
        SignedArtifact::Sha256(d) => verifier.verify(Sha256Hash::new(d), bundle, policy),
    };
    outcome.map_err(|e| match e {
        sigstore_verify::Error::IdentityMismatch { expected, actual } => {
            KeylessError::IdentityMismatch {
                found: actual.map_or("(none)".into(), |a| a.as_str().to_string()),
                required: expected.to_string(),
            }
        }
        sigstore_verify::Error::IssuerMismatch { expected, actual } => {
            KeylessError::IssuerMismatch {
                found: actual.unwrap_or_else(|| "(none)".into()),
                required: expected,
            }
        }
        other => KeylessError::Verification(one_line(&other.to_string())),
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_load_and_name_their_rekor_keys() {
        for trust in [SigstoreTrust::production(), SigstoreTrust::staging()] {
            let trust = trust.unwrap();
            assert!(!trust.log_key_spkis().is_empty(), "{}", trust.name);
        }
    }

    #[test]
    fn regexp_identities_match_the_whole_identity() {
        let rule = IdentityRule::regexp(r"alice@example\.com").unwrap();
        assert!(rule.matches("alice@example.com"));
        assert!(!rule.matches("alice@example.com.evil"));
        assert!(!rule.matches("xalice@example.com"));
        assert_eq!(rule.to_string(), r"/alice@example\.com/");
        let alt = IdentityRule::regexp("a|b").unwrap();
        assert!(!alt.matches("ab"));
        assert!(IdentityRule::regexp("(").is_err());
        // A pattern that escapes the anchoring group is refused, not widened.
        assert!(IdentityRule::regexp("alice@example.com)|(.*").is_err());
        assert!(IdentityRule::regexp("a)|(b").is_err());
        assert!(IdentityRule::regexp(&"a".repeat(MAX_IDENTITY_PATTERN_BYTES + 1)).is_err());
    }

    #[test]
    fn digests_follow_the_conformance_rule() {
        let hex64 = "ab".repeat(32);
        assert!(SignedArtifact::parse_digest(&format!("sha256:{hex64}")).is_some());
        assert!(SignedArtifact::parse_digest(&hex64).is_none());
        assert!(SignedArtifact::parse_digest("sha256:abcd").is_none());
        assert!(SignedArtifact::parse_digest(&format!("sha512:{hex64}")).is_none());
    }

    #[test]
    fn hostile_trusted_roots_and_bundles_are_errors() {
        assert!(SigstoreTrust::from_json(b"{", "x").is_err());
        assert!(SigstoreTrust::from_json(&[0xff], "x").is_err());
        assert!(ParsedBundle::parse(b"{}").is_err());
        assert!(ParsedBundle::parse(b"[").is_err());
        assert!(ParsedBundle::parse(&vec![b' '; super::super::MAX_BUNDLE_BYTES + 1]).is_err());
    }
}
