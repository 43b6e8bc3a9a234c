//! Making SCITT signed statements (draft-ietf-scitt-architecture §4): a COSE_Sign1 whose
//! protected header names the algorithm, the key (kid, or an x5chain) and the CWT claims iss, sub
//! and iat; optionally a hash envelope, which signs the payload's hash instead of the payload.

use crate::core::cose::{self, CwtClaims, HashEnvelope, PayloadHashAlg, ProtectedParams};
use crate::core::crypto::PrivateKey;

/// Media type of an in-toto statement (the model manifest), as a COSE content type.
pub const IN_TOTO_CONTENT_TYPE: &str = "application/vnd.in-toto+json";

/// What the statement says about its payload and who makes it.
#[derive(Clone, Debug, Default)]
pub struct StatementSpec {
    /// CWT `iss` (claim 1): who makes the statement, e.g. a `did:x509` or a URL the policy names.
    pub issuer: String,
    /// CWT `sub` (claim 2): what the statement is about, e.g. `registry/repository:tag`.
    pub subject: String,
    /// The payload's media type (the preimage's, in a hash envelope).
    pub content_type: Option<String>,
    /// Unix seconds; `None` leaves `iat` out.
    pub issued_at: Option<i64>,
    /// Sign the payload's hash (labels 258/259) instead of the payload.
    pub hash_envelope: Option<PayloadHashAlg>,
    /// DER certificates, leaf first, put in the protected header (label 33).
    pub x5chain: Vec<Vec<u8>>,
    /// Key id; default: the key's COSE thumbprint (RFC 9679) when there is no x5chain.
    pub kid: Option<Vec<u8>>,
}

/// Signs `payload` as a SCITT signed statement; returns the tagged COSE_Sign1 bytes. Cannot
/// fail: every key modelseal holds signs.
///
/// [`verify`](crate::core::verify::verify) checks it with the issuer's public key:
///
/// ```
/// use modelseal::core::crypto::{Algorithm, NamedKey, PrivateKey};
/// use modelseal::core::signed_statement::{IN_TOTO_CONTENT_TYPE, StatementSpec, sign_statement};
/// use modelseal::core::verify::{Kind, TrustInputs, VerifyRequest, verify};
///
/// let key = PrivateKey::generate(Algorithm::ES256)?;
/// let spec = StatementSpec {
///     issuer: "https://publisher.example".into(),
///     subject: "registry.example/models/demo:v1".into(),
///     content_type: Some(IN_TOTO_CONTENT_TYPE.into()),
///     issued_at: Some(1_750_000_000),
///     ..StatementSpec::default()
/// };
/// let statement = sign_statement(&key, br#"{"_type": "https://in-toto.io/Statement/v1"}"#, &spec);
///
/// let check = |trusted: &PrivateKey| {
///     let trust = TrustInputs {
///         issuer_keys: vec![NamedKey { kid: None, key: trusted.public_key() }],
///         ..TrustInputs::default()
///     };
///     verify(&VerifyRequest {
///         bytes: &statement,
///         trust: &trust,
///         payload: None,
///         model: None,
///         statement: None,
///         artifact: None,
///         now: 1_750_000_100,
///     })
/// };
/// let report = check(&key)?;
/// assert_eq!(report.kind, Kind::SignedStatement);
/// assert!(report.verified, "{:?}", report.verdict.failures().collect::<Vec<_>>());
/// assert_eq!(report.subject.as_deref(), Some("registry.example/models/demo:v1"));
///
/// let stranger = PrivateKey::generate(Algorithm::ES256)?;
/// assert!(!check(&stranger)?.verified);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_statement(key: &PrivateKey, payload: &[u8], spec: &StatementSpec) -> Vec<u8> {
    let kid = spec.kid.clone().or_else(|| {
        if spec.x5chain.is_empty() {
            cose::key_thumbprint(&key.public_key())
        } else {
            None
        }
    });
    let claims = CwtClaims {
        iss: Some(spec.issuer.clone()),
        sub: Some(spec.subject.clone()),
        iat: spec.issued_at,
        ..CwtClaims::default()
    };
    let (content_type, hash_envelope, signed_payload) = match spec.hash_envelope {
        // The hash-envelope draft forbids label 3: the preimage's type goes in 259.
        Some(alg) => (
            None,
            Some(HashEnvelope {
                hash_alg: alg,
                preimage_content_type: spec.content_type.clone(),
                location: None,
            }),
            alg.digest(payload),
        ),
        None => (spec.content_type.clone(), None, payload.to_vec()),
    };
    let params = ProtectedParams {
        content_type,
        kid,
        claims: Some(claims),
        x5chain: spec.x5chain.clone(),
        hash_envelope,
        extra: Vec::new(),
    };
    cose::sign1(key, &params, Vec::new(), &signed_payload, false)
}
