//! What a transparency service accepts (SCITT architecture, Registration): a COSE_Sign1 with
//! alg, CWT iss and sub, a kid or x5chain, a valid hash envelope if it is one, and a signature
//! by an issuer the service can resolve. A private dev log may accept any issuer; it says so.

use crate::core::cose::{Sign1, label};
use crate::core::crypto::NamedKey;
use serde::{Deserialize, Serialize};

/// The log's registration policy, kept beside it (`DIR/registration.json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RegistrationPolicy {
    /// SPKI PEM keys of trusted issuers.
    #[serde(default)]
    pub issuer_keys: Vec<String>,
    /// PEM root certificates: statements whose x5chain leads to one (at the statement's iat)
    /// are accepted, and a `did:x509` issuer must resolve against that chain.
    #[serde(default)]
    pub issuer_roots: Vec<String>,
    /// Accept statements from any issuer (signature checked only where the statement carries
    /// its own x5chain). For private dev logs.
    #[serde(default)]
    pub accept_any_issuer: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("not a COSE_Sign1: {0}")]
    Malformed(String),
    #[error("missing {0} in the protected header")]
    Missing(&'static str),
    #[error("bad hash envelope: {0}")]
    HashEnvelope(String),
    #[error("the payload is detached; this log cannot check it")]
    Detached,
    #[error("signature: {0}")]
    Signature(String),
    #[error("issuer not trusted by this log: no registered issuer key verifies the statement")]
    UnknownIssuer,
    #[error("x5chain: {0}")]
    Chain(String),
}

impl RegistrationPolicy {
    /// Checks a statement for registration; returns it parsed.
    pub fn admit(&self, statement: &[u8], keys: &[NamedKey]) -> Result<Sign1, Refusal> {
        let s = Sign1::parse(statement).map_err(|e| Refusal::Malformed(e.to_string()))?;
        s.algorithm().map_err(|_| Refusal::Missing("alg (1)"))?;
        let claims = s.claims().map_err(|e| Refusal::Malformed(e.to_string()))?;
        if claims.iss.as_deref().is_none_or(str::is_empty) {
            return Err(Refusal::Missing("CWT iss (15/1)"));
        }
        if claims.sub.as_deref().is_none_or(str::is_empty) {
            return Err(Refusal::Missing("CWT sub (15/2)"));
        }
        let chain = s.x5chain().map_err(|e| Refusal::Malformed(e.to_string()))?;
        if s.kid().is_none() && chain.is_empty() && s.protected_param(label::X5T).is_none() {
            return Err(Refusal::Missing("kid (4) or x5chain (33)"));
        }
        s.hash_envelope()
            .map_err(|e| Refusal::HashEnvelope(e.to_string()))?;
        if s.payload().is_none() {
            return Err(Refusal::Detached);
        }
        for k in keys {
            if s.verify_signature(&k.key, None).is_ok() {
                return Ok(s);
            }
        }
        if !chain.is_empty() && !self.issuer_roots.is_empty() {
            let roots: Vec<Vec<u8>> = self
                .issuer_roots
                .iter()
                .filter_map(|pem| crate::core::crypto::pem_decode_all(pem).ok())
                .flatten()
                .filter(|(label, _)| label == "CERTIFICATE")
                .map(|(_, der)| der)
                .collect();
            let at = claims.iat.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0)
            });
            let verified = crate::core::x509::verify_chain(&chain, &roots, at)
                .map_err(|e| Refusal::Chain(e.to_string()))?;
            s.verify_signature(&verified.leaf_key, None)
                .map_err(|e| Refusal::Signature(e.to_string()))?;
            if let Some(did) = claims.iss.as_deref().filter(|i| i.starts_with("did:x509:")) {
                crate::core::x509::resolve_did_x509(did, &verified)
                    .map_err(|e| Refusal::Chain(e.to_string()))?;
            }
            return Ok(s);
        }
        if self.accept_any_issuer {
            // Self-asserted chains are at least checked for consistency with the signature.
            if let Some(leaf) = chain.first() {
                let key = crate::core::crypto::PublicKey::from_certificate_der(leaf)
                    .map_err(|e| Refusal::Signature(e.to_string()))?;
                s.verify_signature(&key, None)
                    .map_err(|e| Refusal::Signature(e.to_string()))?;
            }
            return Ok(s);
        }
        Err(Refusal::UnknownIssuer)
    }
}
