//! Verifying whatever SCITT or Sigstore object a user hands us: a signed statement, a transparent
//! statement (with receipts in header 394), a lone receipt, or a model-signing Sigstore bundle.
//! Each step becomes a [`Check`] in the [`Verdict`], so a failure names the check that failed.

use crate::core::cose::{CoseError, Sign1, label};
use crate::core::crypto::NamedKey;
use crate::core::manifest::{CheckReport, ModelManifest, NoProgress, check_signed_model};
use crate::core::receipt::{Receipt, VerifiedReceipt};
use crate::core::sigstore::keyless::{
    KeylessIdentity, ParsedBundle, SignedArtifact, SigstoreTrust, VerifiedBundle,
};
use crate::core::verdict::{Check, Verdict};
use crate::core::{sigstore, x509};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// Keys and roots the caller trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustInputs {
    /// Keys that may have signed statements (`--key`).
    pub issuer_keys: Vec<NamedKey>,
    /// Root certificates (DER) an x5chain may lead to (`--cert`).
    pub issuer_roots: Vec<Vec<u8>>,
    /// `did:x509` identities trusted by themselves: the CA each pins (found in the x5chain by
    /// fingerprint) is the anchor, the statement's `iss` must be the DID, and its policies must
    /// hold for the leaf.
    pub issuer_dids: Vec<String>,
    /// Transparency-service keys (`--ts-key`, trust store). An MMR receipt's own `cnf` key counts
    /// only when it is one of these.
    pub service_keys: Vec<NamedKey>,
    /// Who may have signed a keyless Sigstore bundle (`--certificate-identity` and
    /// `--certificate-oidc-issuer`, or a policy issuer of kind `sigstore`), each with its root.
    pub sigstore_identities: Vec<KeylessIdentity>,
    /// The trusted root a managed-key Sigstore bundle's log entries are checked against
    /// (`--trusted-root`); the public-good production root when none is given.
    pub sigstore_root: Option<Arc<SigstoreTrust>>,
}

/// What to verify and against what.
pub struct VerifyRequest<'a> {
    /// The object to verify: a COSE_Sign1 (signed or transparent statement, or a receipt) or
    /// Sigstore bundle JSON, told apart by content.
    pub bytes: &'a [u8],
    /// The keys, roots and identities to verify with.
    pub trust: &'a TrustInputs,
    /// The detached payload, or a hash envelope's preimage (the manifest).
    pub payload: Option<&'a [u8]>,
    /// A model directory to check against the signed manifest.
    pub model: Option<&'a Path>,
    /// The statement a lone receipt is for.
    pub statement: Option<&'a [u8]>,
    /// What a generic Sigstore bundle signs (not a model: a file or its digest). With it, a
    /// bundle is verified as Sigstore clients do, whatever its payload.
    pub artifact: Option<SignedArtifact<'a>>,
    /// "Now", in unix seconds (the system clock: [`crate::core::clock::now`]). Certificates are
    /// judged at the earliest registration time a verified receipt proves, else now; a
    /// statement's own `iat` is only a claim, checked against that time.
    pub now: i64,
}

/// What [`verify`] found it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A COSE_Sign1 signed statement without receipts.
    SignedStatement,
    /// A signed statement with receipts in unprotected header 394.
    TransparentStatement,
    /// A lone COSE receipt (vds in the protected header), checked against `statement`.
    Receipt,
    /// A Sigstore bundle (JSON), managed-key or keyless.
    SigstoreBundle,
}

impl Kind {
    /// The kind in words, for messages ("transparent statement").
    pub fn name(self) -> &'static str {
        match self {
            Kind::SignedStatement => "signed statement",
            Kind::TransparentStatement => "transparent statement",
            Kind::Receipt => "receipt",
            Kind::SigstoreBundle => "Sigstore bundle",
        }
    }
}

/// One receipt's result, with the facts the SCITT demo's verifier prints.
#[derive(Clone, Debug, Serialize)]
pub struct ReceiptReport {
    /// The receipt's position, 1-based, as messages number it.
    pub index: usize,
    /// Its profile ("RFC 9162", "CCF", "MMR", "Rekor"); `None` when it could not be read.
    pub profile: Option<String>,
    /// Its vds (header 395); `None` for Rekor entries and unreadable receipts.
    pub vds: Option<i64>,
    /// The receipt's CWT `iss` (for Rekor, the log's URL).
    pub issuer: Option<String>,
    /// The receipt's CWT `sub`.
    pub subject: Option<String>,
    /// The receipt's `iat` (Rekor: integrated time), unix seconds; a trusted time only when
    /// verified.
    pub issued_at: Option<i64>,
    /// Whether it verified with a trusted service key for this statement.
    pub verified: bool,
    /// SHA-256 of the SPKI of the trusted key that verified it: what policies count services by
    /// (never the receipt's own `iss` or profile, which anyone running a log can choose).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    /// What verified it, or why it did not.
    pub detail: String,
    /// The receipt's kid as [`kid_text`] shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// A kid as messages show it: as text when it is printable ASCII, else in hex (a COSE key
/// thumbprint is 32 raw bytes).
pub fn kid_text(kid: &[u8]) -> String {
    match std::str::from_utf8(kid) {
        Ok(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()) => t.to_string(),
        _ => hex::encode(kid),
    }
}

/// The kids a trusted key answers to: its JWK `kid`, and its COSE key thumbprint (RFC 9679),
/// which modelseal's services and signers use by default.
pub fn key_kids(key: &NamedKey) -> Vec<Vec<u8>> {
    key.kid
        .iter()
        .cloned()
        .chain(crate::core::cose::key_thumbprint(&key.key))
        .collect()
}

/// A statement claim a verifier can require ([`Report::require_claim`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The CWT `iss` (who made the statement).
    Issuer,
    /// The CWT `sub` (what it is about).
    Subject,
}

/// The result of [`verify`]: what was examined, the checks made, and what the object claims.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What the input was.
    pub kind: Kind,
    /// [`Verdict::is_verified`] of `verdict`: at least one check passed and none failed.
    pub verified: bool,
    /// Every check, in the order made.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// One report per receipt (or Rekor entry), in order.
    pub receipts: Vec<ReceiptReport>,
    /// The model directory compared with the signed manifest, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<CheckReport>,
    /// The statement's CWT `iss` as claimed; for a keyless bundle, its certificate's OIDC issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The statement's CWT `sub` as claimed; for a keyless bundle, its certificate's SAN identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Why [`verify`] could not examine its input at all (a verification that ran and failed is an `Ok`
/// report).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The input is neither a COSE_Sign1 nor a Sigstore bundle modelseal reads.
    #[error("not a COSE_Sign1 or a Sigstore bundle: {0}")]
    Unrecognised(String),
    /// The COSE_Sign1 is malformed or breaks a header rule (`crit`, duplicate keys, unprotected
    /// x5chain).
    #[error(transparent)]
    Cose(#[from] CoseError),
    /// Nothing to verify with: no key for a managed-key bundle, no identity for a keyless one, no
    /// artifact for a bundle that does not sign a model manifest.
    #[error("{0}")]
    Usage(String),
    /// The model directory to check could not be hashed.
    #[error(transparent)]
    Manifest(#[from] crate::core::manifest::ManifestError),
}

impl Report {
    /// Requires a claim ([`Claim::Issuer`] or [`Claim::Subject`]) to match `pattern` (`*` matches any run of
    /// characters), adding the check to the verdict: a one-off pin without a policy file.
    pub fn require_claim(&mut self, claim: Claim, pattern: &str) {
        let (found, claim) = match claim {
            Claim::Issuer => (self.issuer.as_deref(), "iss"),
            Claim::Subject => (self.subject.as_deref(), "sub"),
        };
        let check = match found {
            Some(v) if crate::core::policy::glob(pattern, v) => {
                Check::pass(claim, format!("{v} matches {pattern}"))
            }
            Some(v) => Check::fail(claim, format!("statement {claim} {v} ≠ required {pattern}")),
            None => Check::fail(
                claim,
                format!(
                    "the {} carries no {claim}; required {pattern}",
                    self.kind.name()
                ),
            ),
        };
        self.verdict.push(check);
        self.verified = self.verdict.is_verified();
    }
}

/// Detects what `req.bytes` is and verifies it. `Err` means it could not be examined at all
/// (unreadable input, nothing to verify with); a verification that ran and failed is an `Ok`
/// report whose `verified` is false.
pub fn verify(req: &VerifyRequest) -> Result<Report, VerifyError> {
    let first = req.bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return verify_bundle(req);
    }
    let sign1 = Sign1::parse(req.bytes)?;
    if sign1.protected_param(label::VDS).is_some() {
        return verify_lone_receipt(req);
    }
    verify_statement(req, &sign1)
}

fn verify_bundle(req: &VerifyRequest) -> Result<Report, VerifyError> {
    // model-signing's key bundles (a key hint, no log entry) keep their own path; anything with a
    // certificate, or given an artifact, is verified as Sigstore clients verify it.
    if req.artifact.is_some() || sigstore::is_certificate_bundle(req.bytes) {
        return verify_sigstore_bundle(req);
    }
    let bundle =
        sigstore::read_bundle(req.bytes).map_err(|e| VerifyError::Unrecognised(e.to_string()))?;
    if req.trust.issuer_keys.is_empty() {
        return Err(VerifyError::Usage(
            "a Sigstore bundle is checked with the signer's public key: give --key".into(),
        ));
    }
    let mut verdict = Verdict::default();
    let mut statement = None;
    let mut last_err = String::new();
    for k in &req.trust.issuer_keys {
        match sigstore::verify_bundle(&bundle, &k.key) {
            Ok(payload) => {
                verdict.push(Check::pass(
                    "signature",
                    format!("DSSE signature by the {} key given", k.key.kind()),
                ));
                statement = Some(payload);
                break;
            }
            Err(e) => last_err = e.to_string(),
        }
    }
    if statement.is_none() {
        verdict.push(Check::fail("signature", last_err));
    }
    let model = bind_bundle_to_model(statement.as_deref(), req, &mut verdict)?;
    Ok(finish(
        Kind::SigstoreBundle,
        verdict,
        Vec::new(),
        model,
        None,
        None,
    ))
}

/// A Sigstore bundle verified by `sigstore-verify` (keyless, or a managed key with log entries),
/// then bound to the model: its DSSE payload must be a model manifest whose subject digest is
/// what the signature covers, the given manifest (`--payload`) and the model files must match it.
fn verify_sigstore_bundle(req: &VerifyRequest) -> Result<Report, VerifyError> {
    let bundle =
        ParsedBundle::parse(req.bytes).map_err(|e| VerifyError::Unrecognised(e.to_string()))?;
    let mut verdict = Verdict::default();
    // What the signature must cover: the artifact given, else the model the payload describes
    // (its subject digest, recomputed from the resources it lists).
    let artifact = match req.artifact {
        Some(a) => a,
        None => {
            let payload = bundle.dsse_payload().ok_or_else(|| {
                VerifyError::Usage(
                    "the bundle signs a message, not a model manifest: give the artifact it signs with --artifact".into(),
                )
            })?;
            let manifest = ModelManifest::from_json(&payload).map_err(|e| {
                VerifyError::Usage(format!(
                    "the bundle's payload is not a model manifest ({e}): give the artifact it signs with --artifact"
                ))
            })?;
            let computed = manifest.computed_subject_digest();
            if manifest.stated_subject_digest != Some(computed) {
                verdict.push(Check::fail(
                    "payload",
                    "the signed manifest states a subject digest its resources do not give",
                ));
            }
            SignedArtifact::Sha256(computed)
        }
    };
    let outcome = if bundle.has_certificate() {
        if req.trust.sigstore_identities.is_empty() {
            return Err(VerifyError::Usage(
                "a keyless Sigstore bundle is checked against its signer's identity: give --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer".into(),
            ));
        }
        first_success(req.trust.sigstore_identities.iter().map(|who| {
            bundle
                .verify_keyless(artifact, who)
                .map(|v| (v, who.trust.name.clone()))
        }))
    } else {
        if req.trust.issuer_keys.is_empty() {
            return Err(VerifyError::Usage(
                "the bundle is signed with a key: give it with --key".into(),
            ));
        }
        let root = match &req.trust.sigstore_root {
            Some(r) => r.clone(),
            None => SigstoreTrust::production().map_err(|e| VerifyError::Usage(e.to_string()))?,
        };
        first_success(req.trust.issuer_keys.iter().map(|k| {
            bundle
                .verify_with_key(artifact, &k.key.to_spki_der(), &root)
                .map(|v| (v, root.name.clone()))
        }))
    };
    let verified = match outcome {
        Ok((v, root)) => {
            verdict.push(Check::pass("signature", signer_facts(&v, &root)));
            v
        }
        Err(why) => {
            verdict.push(Check::fail("signature", why));
            return Ok(finish(
                Kind::SigstoreBundle,
                verdict,
                Vec::new(),
                None,
                None,
                None,
            ));
        }
    };
    let receipts: Vec<ReceiptReport> = verified
        .log_entries
        .iter()
        .enumerate()
        .map(|(i, e)| ReceiptReport {
            index: i + 1,
            profile: Some(sigstore::REKOR_PROFILE.into()),
            vds: None,
            issuer: Some(e.log_url.clone()),
            subject: None,
            issued_at: e.integrated_time,
            verified: true,
            verified_by: Some(e.verified_by.clone()),
            detail: format!(
                "{} entry {} verified by the trusted root's log key",
                e.kind, e.log_index
            ),
            kid: None,
        })
        .collect();
    for r in &receipts {
        verdict.push(receipt_check(r));
    }
    if verified.dsse_payload.is_none() && req.model.is_some() {
        verdict.push(Check::fail(
            "model files",
            "the bundle signs a message, not a model manifest",
        ));
    }
    let model = bind_bundle_to_model(verified.dsse_payload.as_deref(), req, &mut verdict)?;
    Ok(finish(
        Kind::SigstoreBundle,
        verdict,
        receipts,
        model,
        verified.oidc_issuer,
        verified.identity,
    ))
}

/// A verified bundle's payload (`signed`, None when it signs a message or did not verify) bound to
/// what the caller holds: the same model as the given manifest, and the model's files.
fn bind_bundle_to_model(
    signed: Option<&[u8]>,
    req: &VerifyRequest,
    verdict: &mut Verdict,
) -> Result<Option<CheckReport>, VerifyError> {
    if let (Some(signed), Some(given)) = (signed, req.payload) {
        verdict.push(match same_model(signed, given) {
            Ok(()) => Check::pass(
                "payload",
                "the bundle signs the same model (subject digest, serialization, every file) as the given manifest",
            ),
            Err(why) => Check::fail(
                "payload",
                format!("the bundle signs another model than the given manifest: {why}"),
            ),
        });
    }
    match (signed, req.model) {
        (Some(payload), Some(dir)) => Ok(Some(check_model_files(payload, dir, verdict)?)),
        _ => Ok(None),
    }
}

/// The first attempt that verifies, else every reason (one per identity or key tried).
fn first_success<T>(
    attempts: impl Iterator<Item = Result<T, sigstore::keyless::KeylessError>>,
) -> Result<T, String> {
    let mut reasons = Vec::new();
    for attempt in attempts {
        match attempt {
            Ok(v) => return Ok(v),
            Err(e) => reasons.push(e.to_string()),
        }
    }
    reasons.dedup();
    Err(reasons.join("; "))
}

fn signer_facts(v: &VerifiedBundle, root: &str) -> String {
    let time = v
        .signed_at
        .map(|t| format!(" at {}", x509::format_unix_time(t)))
        .unwrap_or_default();
    match (&v.identity, &v.oidc_issuer) {
        (Some(id), Some(iss)) => format!(
            "keyless: Fulcio certificate for {id} (OIDC issuer {iss}), chained to {root}{time}, SCT {}",
            if v.sct_verified {
                "verified"
            } else {
                "not checked"
            }
        ),
        _ => format!("signed by the key given, logged under {root}{time}"),
    }
}

/// Whether two model manifests (a Sigstore bundle's in-toto payload and the manifest an artifact
/// holds) describe the same model. The bytes may differ (another tool wrote one of them), so the
/// content is compared: serialization, every resource, and the subject digest each states.
fn same_model(signed: &[u8], given: &[u8]) -> Result<(), String> {
    let read = |bytes: &[u8], what: &str| {
        ModelManifest::from_json(bytes).map_err(|e| format!("{what} is not a model manifest: {e}"))
    };
    let (a, b) = (
        read(signed, "its payload")?,
        read(given, "the given manifest")?,
    );
    for (m, what) in [(&a, "its payload"), (&b, "the given manifest")] {
        if m.stated_subject_digest != Some(m.computed_subject_digest()) {
            return Err(format!(
                "{what} states a subject digest its files do not give"
            ));
        }
    }
    if a.serialization != b.serialization {
        return Err(format!(
            "serialization {:?} ≠ {:?}",
            a.serialization, b.serialization
        ));
    }
    if a.computed_subject_digest() != b.computed_subject_digest() || a.resources != b.resources {
        let report = crate::core::manifest::compare(&b, &a);
        return Err(format!(
            "subject sha256:{} ≠ sha256:{} ({})",
            hex::encode(a.computed_subject_digest()),
            hex::encode(b.computed_subject_digest()),
            describe_differences(&report)
        ));
    }
    Ok(())
}

fn describe_differences(report: &CheckReport) -> String {
    let reasons = report.reasons();
    if reasons.is_empty() {
        "resources listed differently".into()
    } else {
        reasons.join("; ")
    }
}

fn verify_lone_receipt(req: &VerifyRequest) -> Result<Report, VerifyError> {
    let Some(statement_bytes) = req.statement else {
        return Err(VerifyError::Usage(
            "a receipt proves that a statement is in a log: give the statement with --statement FILE".into(),
        ));
    };
    let statement = Sign1::parse(statement_bytes)?;
    let report = check_receipt(0, req.bytes, &statement, &req.trust.service_keys);
    let mut verdict = Verdict::default();
    verdict.push(receipt_check(&report));
    Ok(finish(
        Kind::Receipt,
        verdict,
        vec![report],
        None,
        None,
        None,
    ))
}

fn verify_statement(req: &VerifyRequest, statement: &Sign1) -> Result<Report, VerifyError> {
    let mut verdict = Verdict::default();
    let claims = statement.claims()?;
    let receipts_bytes = statement.receipts()?;
    let kind = if receipts_bytes.is_empty() {
        Kind::SignedStatement
    } else {
        Kind::TransparentStatement
    };

    // SCITT: alg, CWT iss and sub, and kid unless the signer is named by certificate.
    let mut missing = Vec::new();
    if statement.protected().alg.is_none() {
        missing.push("alg (1)");
    }
    if claims.iss.is_none() {
        missing.push("CWT iss (15/1)");
    }
    if claims.sub.is_none() {
        missing.push("CWT sub (15/2)");
    }
    let has_x5 = statement.protected_param(label::X5CHAIN).is_some()
        || statement.protected_param(label::X5T).is_some();
    if statement.kid().is_none() && !has_x5 {
        missing.push("kid (4) or x5chain/x5t (33/34)");
    }
    if missing.is_empty() {
        verdict.push(Check::pass(
            "SCITT headers",
            "alg, CWT iss and sub, key identification present",
        ));
    } else {
        verdict.push(Check::fail(
            "SCITT headers",
            format!("protected header lacks {}", missing.join(", ")),
        ));
    }

    // Receipts first: a receipt's registration time is the fallback time for certificates.
    let receipts: Vec<ReceiptReport> = receipts_bytes
        .iter()
        .enumerate()
        .map(|(i, r)| check_receipt(i + 1, r, statement, &req.trust.service_keys))
        .collect();
    for r in &receipts {
        verdict.push(receipt_check(r));
    }

    let detached = check_payload(req, statement, &mut verdict)?;
    let time = TrustedTime::of(&receipts, req.now);
    if let Some(check) = time.check_iat(claims.iat) {
        verdict.push(check);
    }
    check_signature(
        req,
        statement,
        &claims,
        &time,
        detached.as_deref(),
        &mut verdict,
    );

    let model = match req.model {
        None => None,
        Some(dir) => match manifest_bytes(req, statement)? {
            Some(manifest) => Some(check_model_files(&manifest, dir, &mut verdict)?),
            None => {
                verdict.push(Check::fail(
                    "model files",
                    "the statement carries a hash of the manifest, not the manifest: give it with --payload",
                ));
                None
            }
        },
    };
    Ok(finish(
        kind, verdict, receipts, model, claims.iss, claims.sub,
    ))
}

/// Checks the payload against `--payload` where one was given. Returns the detached payload the
/// signature covers when the message has none of its own.
fn check_payload(
    req: &VerifyRequest,
    statement: &Sign1,
    verdict: &mut Verdict,
) -> Result<Option<Vec<u8>>, VerifyError> {
    let envelope = statement.hash_envelope()?;
    match (&envelope, statement.payload(), req.payload) {
        (Some(env), Some(hash), Some(preimage)) => {
            let actual = env.hash_alg.digest(preimage);
            if actual == hash {
                verdict.push(Check::pass(
                    "payload",
                    format!(
                        "hash envelope: {} of the given payload matches",
                        env.hash_alg.name()
                    ),
                ));
            } else {
                verdict.push(Check::fail(
                    "payload",
                    format!(
                        "hash envelope: {} of the given payload is {}, the statement signs {}",
                        env.hash_alg.name(),
                        hex::encode(&actual),
                        hex::encode(hash)
                    ),
                ));
            }
            Ok(None)
        }
        (Some(env), Some(_), None) => {
            verdict.push(Check::skipped(
                "payload",
                format!(
                    "hash envelope ({}); give --payload to check the preimage",
                    env.hash_alg.name()
                ),
            ));
            Ok(None)
        }
        (None, Some(payload), Some(given)) => {
            if payload == given {
                verdict.push(Check::pass("payload", "equals the given payload"));
            } else {
                verdict.push(Check::fail("payload", "differs from the given payload"));
            }
            Ok(None)
        }
        (_, None, Some(given)) => {
            let signed = match &envelope {
                Some(env) => env.hash_alg.digest(given),
                None => given.to_vec(),
            };
            verdict.push(Check::pass(
                "payload",
                "detached; the given payload is what the signature must cover",
            ));
            Ok(Some(signed))
        }
        (_, None, None) => Err(VerifyError::Usage(
            "the statement's payload is detached: give it with --payload FILE".into(),
        )),
        (None, Some(_), None) => Ok(None),
    }
}

/// The manifest the statement signs: its payload, or for a hash envelope the checked `--payload`.
fn manifest_bytes(req: &VerifyRequest, statement: &Sign1) -> Result<Option<Vec<u8>>, VerifyError> {
    if statement.hash_envelope()?.is_some() || statement.payload().is_none() {
        return Ok(req.payload.map(<[u8]>::to_vec));
    }
    Ok(statement.payload().map(<[u8]>::to_vec))
}

/// The time certificates are judged at. A statement's `iat` is the signer's claim, and the holder
/// of an expired key can write any; only a receipt verified with a trusted service key proves
/// when a statement existed (SCITT: it was registered then). With no such receipt, it is judged
/// now — so the real Microsoft statement, whose leaf expired after it was logged, verifies
/// through its receipts and fails without them.
#[derive(Clone, Copy, Debug)]
pub struct TrustedTime {
    /// Unix seconds.
    pub at: i64,
    /// The receipt (1-based, as reported) that proves it; `None` when it is now.
    pub receipt: Option<usize>,
}

impl TrustedTime {
    /// The earliest registration time among verified receipts, else `now`.
    pub fn of(receipts: &[ReceiptReport], now: i64) -> Self {
        receipts
            .iter()
            .filter(|r| r.verified)
            .filter_map(|r| r.issued_at.map(|t| (t, r.index)))
            .min()
            .map(|(at, index)| TrustedTime {
                at,
                receipt: Some(index),
            })
            .unwrap_or(TrustedTime {
                at: now,
                receipt: None,
            })
    }

    /// Where the time comes from, for messages.
    pub fn source(&self) -> String {
        match self.receipt {
            Some(i) => format!("registration time proven by verified receipt {i}"),
            None => "now: no trusted time, as no verified receipt from a trusted service proves an earlier one".into(),
        }
    }

    /// A statement cannot have been signed after the trusted time (beyond a small clock skew):
    /// an `iat` later than its registration, or in the future, is refused.
    pub fn check_iat(&self, iat: Option<i64>) -> Option<Check> {
        let iat = iat?;
        let when = x509::format_unix_time(iat);
        let trusted = x509::format_unix_time(self.at);
        Some(if iat > self.at + crate::core::clock::MAX_CLOCK_SKEW_SECS {
            Check::fail(
                "issued at",
                match self.receipt {
                    Some(i) => format!(
                        "the statement claims iat {when}, after its registration at {trusted} (receipt {i})"
                    ),
                    None => format!("iat {when} is in the future (now is {trusted})"),
                },
            )
        } else {
            Check::pass(
                "issued at",
                format!("iat {when} (a claim), not after {trusted}"),
            )
        })
    }
}

fn check_signature(
    req: &VerifyRequest,
    statement: &Sign1,
    claims: &crate::core::cose::CwtClaims,
    time: &TrustedTime,
    detached: Option<&[u8]>,
    verdict: &mut Verdict,
) {
    let chain = match statement.x5chain() {
        Ok(c) => c,
        Err(e) => {
            verdict.push(Check::fail("signature", e.to_string()));
            return;
        }
    };
    let (at, at_source) = (time.at, time.source());
    let mut anchors = req.trust.issuer_roots.clone();
    if !chain.is_empty() && !req.trust.issuer_dids.is_empty() {
        let iss = claims.iss.as_deref().unwrap_or_default();
        if !req.trust.issuer_dids.iter().any(|d| d == iss) {
            verdict.push(Check::fail(
                "issuer",
                format!(
                    "the statement's iss {iss} is not the trusted did:x509 ({})",
                    req.trust.issuer_dids.join(", ")
                ),
            ));
            return;
        }
        match x509::did_x509_pinned_ca(iss, &chain) {
            Ok(ca) => anchors.push(ca),
            Err(e) => {
                verdict.push(Check::fail("certificate chain", e.to_string()));
                return;
            }
        }
    }
    if !chain.is_empty() && !anchors.is_empty() {
        match x509::verify_chain(&chain, &anchors, at) {
            Ok(verified) => {
                let leaf = x509::summarize(&chain[0])
                    .map(|s| s.subject)
                    .unwrap_or_default();
                verdict.push(Check::pass(
                    "certificate chain",
                    format!(
                        "leaf {leaf} chains to trusted root sha256:{}, valid at {} ({at_source})",
                        verified.root_sha256_hex,
                        x509::format_unix_time(at)
                    ),
                ));
                match statement.verify_signature(&verified.leaf_key, detached) {
                    Ok(()) => verdict.push(Check::pass(
                        "signature",
                        format!("{} by the x5chain leaf key", alg_name(statement)),
                    )),
                    Err(e) => verdict.push(Check::fail("signature", e.to_string())),
                }
                if let Some(iss) = claims.iss.as_deref().filter(|i| i.starts_with("did:x509:")) {
                    match x509::resolve_did_x509(iss, &verified) {
                        Ok(()) => verdict.push(Check::pass(
                            "issuer",
                            format!("{iss} resolves against the validated chain"),
                        )),
                        Err(e) => verdict.push(Check::fail("issuer", e.to_string())),
                    }
                }
            }
            Err(e) => {
                verdict.push(Check::fail(
                    "certificate chain",
                    format!(
                        "{e} (time checked: {} — {at_source})",
                        x509::format_unix_time(at)
                    ),
                ));
                // Still say whether the leaf signed it: a tampered statement should read as one.
                let leaf = crate::core::crypto::PublicKey::from_certificate_der(&chain[0]);
                verdict.push(
                    match leaf.map(|k| statement.verify_signature(&k, detached)) {
                        Ok(Ok(())) => Check::pass(
                            "signature",
                            format!(
                                "{} by the x5chain leaf key (a leaf the chain check did not trust)",
                                alg_name(statement)
                            ),
                        ),
                        Ok(Err(e)) => Check::fail("signature", e.to_string()),
                        Err(e) => Check::fail("signature", e.to_string()),
                    },
                );
            }
        }
        return;
    }
    if req.trust.issuer_keys.is_empty() {
        let hint = if chain.is_empty() {
            "give the issuer's key with --key"
        } else {
            "the statement carries an x5chain: give its root with --cert (or the signer's key with --key)"
        };
        verdict.push(Check::fail(
            "signature",
            format!("no key to check it with: {hint}"),
        ));
        return;
    }
    let kid = statement.kid();
    let mut candidates: Vec<&NamedKey> = req
        .trust
        .issuer_keys
        .iter()
        .filter(|k| kid.is_some() && k.kid.as_deref() == kid)
        .collect();
    if candidates.is_empty() {
        candidates = req.trust.issuer_keys.iter().collect();
    }
    let mut last = String::new();
    for k in candidates {
        match statement.verify_signature(&k.key, detached) {
            Ok(()) => {
                verdict.push(Check::pass(
                    "signature",
                    format!("{} by the {} key given", alg_name(statement), k.key.kind()),
                ));
                return;
            }
            Err(e) => last = e.to_string(),
        }
    }
    verdict.push(Check::fail(
        "signature",
        format!("no given key verifies it: {last}"),
    ));
}

fn alg_name(statement: &Sign1) -> String {
    statement
        .algorithm()
        .map(|a| a.name().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Verifies one receipt against the statement with the trusted service keys. Every pinned key is
/// trusted, so each is tried (the kid is a hint: the MMR vector's kid names no key we can derive).
pub fn check_receipt(
    index: usize,
    bytes: &[u8],
    statement: &Sign1,
    service_keys: &[NamedKey],
) -> ReceiptReport {
    let mut report = ReceiptReport {
        index,
        profile: None,
        vds: None,
        issuer: None,
        subject: None,
        issued_at: None,
        verified: false,
        verified_by: None,
        detail: String::new(),
        kid: None,
    };
    let receipt = match Receipt::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            report.detail = e.to_string();
            return report;
        }
    };
    report.profile = Some(receipt.profile().name().to_string());
    report.vds = Some(receipt.profile().vds());
    report.issuer = receipt.issuer().map(str::to_string);
    report.subject = receipt.subject().map(str::to_string);
    report.issued_at = receipt.issued_at();
    report.kid = receipt.kid().map(kid_text);
    match verify_receipt_with(&receipt, statement, service_keys) {
        Ok((v, key)) => {
            report.verified = true;
            report.verified_by = Some(hex::encode(key.key.spki_sha256()));
            report.detail = match (v.tree_size, v.leaf_index) {
                (Some(size), Some(index)) => {
                    format!(
                        "inclusion proven: leaf {index} of a tree of {size}, root {}",
                        hex::encode(&v.root)
                    )
                }
                _ => format!("inclusion proven: root {}", hex::encode(&v.root)),
            };
        }
        Err(reason) => report.detail = reason,
    }
    report
}

fn verify_receipt_with<'k>(
    receipt: &Receipt,
    statement: &Sign1,
    service_keys: &'k [NamedKey],
) -> Result<(VerifiedReceipt, &'k NamedKey), String> {
    if service_keys.is_empty() {
        return Err("no transparency-service key to check it with: give --ts-key".into());
    }
    let kid = receipt.kid();
    let mut ordered: Vec<&NamedKey> = service_keys
        .iter()
        .filter(|k| kid.is_some() && k.kid.as_deref() == kid)
        .collect();
    ordered.extend(
        service_keys
            .iter()
            .filter(|k| !(kid.is_some() && k.kid.as_deref() == kid)),
    );
    let mut first_err = None;
    for k in ordered {
        match receipt.verify(statement, &k.key) {
            Ok(v) => return Ok((v, k)),
            Err(e) => {
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    let mut reason = first_err.unwrap_or_default();
    if let Some(kid) = kid
        && !service_keys
            .iter()
            .any(|k| key_kids(k).iter().any(|x| x == kid))
    {
        let known: Vec<String> = service_keys
            .iter()
            .filter_map(|k| key_kids(k).last().map(|x| kid_text(x)))
            .collect();
        reason = format!(
            "the receipt's kid {} is not among the trusted service keys (kid {}): {reason}",
            kid_text(kid),
            known.join(", kid ")
        );
    }
    if let Some(cnf) = receipt.embedded_key()
        && !service_keys.iter().any(|k| k.key == cnf)
    {
        reason.push_str(&format!(
                "; the receipt carries its own key ({} sha256:{}), which counts only when pinned with --ts-key",
                cnf.kind(),
                hex::encode(&cnf.spki_sha256()[..8])
            ));
    }
    Err(reason)
}

fn receipt_check(r: &ReceiptReport) -> Check {
    let what = if r.index == 0 {
        "receipt".to_string()
    } else {
        format!("receipt {}", r.index)
    };
    // A Rekor entry has no COSE verifiable-data-structure number.
    let facts = format!(
        "profile {}{}, issuer {}, subject {}",
        r.profile.as_deref().unwrap_or("?"),
        match (r.vds, r.profile.as_deref()) {
            (Some(v), _) => format!(" ({v})"),
            (None, Some(sigstore::REKOR_PROFILE)) => String::new(),
            (None, _) => " (?)".into(),
        },
        r.issuer.as_deref().unwrap_or("-"),
        r.subject.as_deref().unwrap_or("-"),
    );
    let facts = match r.issued_at {
        Some(t) => format!("{facts}, logged {}", crate::core::x509::format_unix_time(t)),
        None => facts,
    };
    if r.verified {
        Check::pass(what, format!("{facts}: {}", r.detail))
    } else {
        Check::fail(what, format!("{facts}: {}", r.detail))
    }
}

fn check_model_files(
    bytes: &[u8],
    dir: &Path,
    verdict: &mut Verdict,
) -> Result<CheckReport, VerifyError> {
    let manifest = match ModelManifest::from_json(bytes) {
        Ok(m) => m,
        Err(e) => {
            verdict.push(Check::fail(
                "model files",
                format!("the signed payload is not a model manifest: {e}"),
            ));
            return Ok(CheckReport::default());
        }
    };
    let report = check_signed_model(dir, &manifest, bytes, &[], &NoProgress)?;
    if report.is_match() {
        let ignored = &manifest.serialization.ignore_paths;
        verdict.push(Check::pass(
            "model files",
            if ignored.is_empty() {
                format!("{} files match the signed manifest", report.matched)
            } else {
                format!(
                    "{} files match the signed manifest; not covered by it (its ignore_paths): {}",
                    report.matched,
                    ignored.join(", ")
                )
            },
        ));
    } else {
        verdict.push(Check::fail("model files", describe_differences(&report)));
    }
    Ok(report)
}

fn finish(
    kind: Kind,
    verdict: Verdict,
    receipts: Vec<ReceiptReport>,
    model: Option<CheckReport>,
    issuer: Option<String>,
    subject: Option<String>,
) -> Report {
    Report {
        kind,
        verified: verdict.is_verified(),
        verdict,
        receipts,
        model,
        issuer,
        subject,
    }
}

/// Reads every key in the files of a trust-store directory (PEM, JWK, JWKS), sorted by name.
pub fn read_trust_store(dir: &Path) -> std::io::Result<Vec<(std::path::PathBuf, Vec<NamedKey>)>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut out = Vec::new();
    for e in entries {
        let path = e.path();
        if !path.is_file() {
            continue;
        }
        let bytes =
            crate::core::input::read_bounded(&path, crate::core::crypto::MAX_KEY_FILE_BYTES)?;
        let keys = crate::core::crypto::read_public_keys(&bytes).map_err(|err| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {err}", path.display()),
            )
        })?;
        out.push((path, keys));
    }
    Ok(out)
}
