//! What a transparency service accepts (SCITT architecture, Registration): a COSE_Sign1 with
//! alg, CWT iss and sub, a kid or a protected x5chain, a valid hash envelope if it is one, and a
//! signature by an issuer the service can resolve. A private dev log may accept any issuer; it
//! says so.
//!
//! A service judges at its own clock: a statement's `iat` is a claim, not a trusted time. An
//! x5chain is validated at the service's now, and an `iat` more than
//! [`MAX_CLOCK_SKEW_SECS`] in the future is refused.
//! A registered issuer key may be bound to one `iss`; it then signs only statements claiming it.

use crate::core::clock::{self, MAX_CLOCK_SKEW_SECS};
use crate::core::cose::{Sign1, key_thumbprint};
use crate::core::crypto::{PublicKey, read_public_keys};
use crate::core::x509::format_unix_time;
use serde::{Deserialize, Serialize};

/// The log's registration policy, kept beside it (`DIR/registration.json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RegistrationPolicy {
    /// Trusted issuers' keys, each optionally bound to the one `iss` it may sign. In the file,
    /// an entry is `{"key": PEM, "iss": ISS, "name": FILE}` (`iss` and `name` optional) or, as
    /// logs made before issuer binding wrote it, a bare PEM string (a key for any `iss`).
    #[serde(default)]
    pub issuer_keys: Vec<IssuerKeyEntry>,
    /// PEM root certificates: statements whose protected x5chain leads to one (at this
    /// service's clock) are accepted, and a `did:x509` issuer must resolve against that chain.
    #[serde(default)]
    pub issuer_roots: Vec<String>,
    /// Accept statements from any issuer (signature checked only where the statement carries
    /// its own x5chain). For private dev logs.
    #[serde(default)]
    pub accept_any_issuer: bool,
}

/// A registered issuer key as stored in `registration.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "IssuerKeyRepr")]
pub struct IssuerKeyEntry {
    /// SPKI PEM (one or more keys: all get the same binding).
    pub key: String,
    /// The only `iss` statements signed with this key may claim; `None`: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Where the key came from (the file given to `ts init`), for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IssuerKeyRepr {
    Pem(String),
    Entry {
        key: String,
        #[serde(default)]
        iss: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
}

impl From<IssuerKeyRepr> for IssuerKeyEntry {
    fn from(r: IssuerKeyRepr) -> Self {
        match r {
            IssuerKeyRepr::Pem(key) => IssuerKeyEntry {
                key,
                iss: None,
                name: None,
            },
            IssuerKeyRepr::Entry { key, iss, name } => IssuerKeyEntry { key, iss, name },
        }
    }
}

impl From<String> for IssuerKeyEntry {
    /// A key for any `iss` (the format before issuer binding).
    fn from(key: String) -> Self {
        IssuerKeyEntry {
            key,
            iss: None,
            name: None,
        }
    }
}

/// A registered issuer key, loaded.
#[derive(Clone, Debug)]
pub struct IssuerKey {
    /// The issuer's public key.
    pub key: PublicKey,
    /// The only `iss` statements signed with it may claim; `None`: any.
    pub iss: Option<String>,
    /// The file it came from, else its COSE thumbprint (hex).
    pub name: String,
}

impl IssuerKeyEntry {
    /// The keys of this entry, each carrying its binding.
    pub fn load(&self) -> Result<Vec<IssuerKey>, String> {
        let keys = read_public_keys(self.key.as_bytes()).map_err(|e| e.to_string())?;
        Ok(keys
            .into_iter()
            .map(|k| IssuerKey {
                name: self.name.clone().unwrap_or_else(|| {
                    format!(
                        "with COSE thumbprint {}",
                        hex::encode(key_thumbprint(&k.key).unwrap_or_default())
                    )
                }),
                key: k.key,
                iss: self.iss.clone(),
            })
            .collect())
    }
}

/// Why a statement is not registered (SCITT architecture, Registration); the service answers
/// with it.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not a COSE_Sign1, or its protected header breaks a rule (`crit`, duplicate keys, CWT
    /// claims).
    #[error("not a COSE_Sign1: {0}")]
    Malformed(String),
    /// A required protected parameter is absent: alg (1), CWT `iss` or `sub` (15), or a kid (4) /
    /// x5chain (33) / x5t (34) naming the key.
    #[error("missing {0} in the protected header")]
    Missing(&'static str),
    /// The hash-envelope parameters (258/259/260) are invalid.
    #[error("bad hash envelope: {0}")]
    HashEnvelope(String),
    /// The payload is detached: the log must see what it commits to.
    #[error("the payload is detached; this log cannot check it")]
    Detached,
    /// The signature does not verify with the leaf of the statement's x5chain.
    #[error("signature: {0}")]
    Signature(String),
    /// No registered key verifies the statement, no x5chain leads to a registered root, and the log
    /// does not accept any issuer.
    #[error("issuer not trusted by this log: no registered issuer key verifies the statement")]
    UnknownIssuer,
    /// A registered key verifies the statement, but is bound to another `iss`.
    #[error(
        "key {key} is registered for iss \"{registered}\"; the statement claims iss \"{claimed}\""
    )]
    WrongIss {
        /// The key's name (its file, else its thumbprint).
        key: String,
        /// The `iss` the key is bound to.
        registered: String,
        /// The `iss` the statement claims.
        claimed: String,
    },
    /// The statement's `iat` is more than `MAX_CLOCK_SKEW_SECS` after the service's clock.
    #[error(
        "iat {iat} ({}) is in the future: {} s after this service's clock ({}), more than the {MAX_CLOCK_SKEW_SECS} s allowed",
        format_unix_time(*.iat), .iat - .now, format_unix_time(*.now)
    )]
    FutureIat {
        /// The statement's `iat`, unix seconds.
        iat: i64,
        /// The service's clock, unix seconds.
        now: i64,
    },
    /// The x5chain is unreadable, does not validate to a registered root at the service's clock, or
    /// its `did:x509` issuer does not resolve against it.
    #[error("x5chain: {0}")]
    Chain(String),
}

impl RegistrationPolicy {
    /// Checks a statement for registration at this service's clock; returns it parsed.
    pub fn admit(&self, statement: &[u8], keys: &[IssuerKey]) -> Result<Sign1, Refusal> {
        self.admit_at(statement, keys, clock::now())
    }

    /// As [`admit`](Self::admit), with the service's clock reading given (unix seconds).
    pub fn admit_at(
        &self,
        statement: &[u8],
        keys: &[IssuerKey],
        now: i64,
    ) -> Result<Sign1, Refusal> {
        let s = Sign1::parse(statement).map_err(|e| Refusal::Malformed(e.to_string()))?;
        s.algorithm().map_err(|_| Refusal::Missing("alg (1)"))?;
        let claims = s.claims().map_err(|e| Refusal::Malformed(e.to_string()))?;
        let Some(iss) = claims.iss.as_deref().filter(|i| !i.is_empty()) else {
            return Err(Refusal::Missing("CWT iss (15/1)"));
        };
        if claims.sub.as_deref().is_none_or(str::is_empty) {
            return Err(Refusal::Missing("CWT sub (15/2)"));
        }
        if let Some(iat) = claims.iat
            && iat > now.saturating_add(MAX_CLOCK_SKEW_SECS)
        {
            return Err(Refusal::FutureIat { iat, now });
        }
        let chain = s.x5chain().map_err(|e| Refusal::Chain(e.to_string()))?;
        if s.kid().is_none()
            && chain.is_empty()
            && s.protected_param(crate::core::cose::label::X5T).is_none()
        {
            return Err(Refusal::Missing("kid (4) or x5chain (33)"));
        }
        s.hash_envelope()
            .map_err(|e| Refusal::HashEnvelope(e.to_string()))?;
        if s.payload().is_none() {
            return Err(Refusal::Detached);
        }
        // A registered key that signed it: accepted if the key may sign this iss.
        let mut wrong_iss = None;
        for k in keys {
            if s.verify_signature(&k.key, None).is_err() {
                continue;
            }
            match k.iss.as_deref() {
                None => return Ok(s),
                Some(bound) if bound == iss => return Ok(s),
                Some(bound) => {
                    wrong_iss.get_or_insert_with(|| Refusal::WrongIss {
                        key: k.name.clone(),
                        registered: bound.to_string(),
                        claimed: iss.to_string(),
                    });
                }
            }
        }
        if let Some(refusal) = wrong_iss {
            return Err(refusal);
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
            // At the service's clock, never at the statement's own iat: a leaf that expired
            // (or is not valid yet) is refused whatever time the statement claims.
            let verified = crate::core::x509::verify_chain(&chain, &roots, now).map_err(|e| {
                Refusal::Chain(match e {
                    crate::core::x509::X509Error::NotValidAt { .. } => {
                        format!("{e} (judged at this service's clock, not the statement's iat)")
                    }
                    e => e.to_string(),
                })
            })?;
            s.verify_signature(&verified.leaf_key, None)
                .map_err(|e| Refusal::Signature(e.to_string()))?;
            if iss.starts_with("did:x509:") {
                crate::core::x509::resolve_did_x509(iss, &verified)
                    .map_err(|e| Refusal::Chain(e.to_string()))?;
            }
            return Ok(s);
        }
        if self.accept_any_issuer {
            // Self-asserted chains are at least checked for consistency with the signature.
            if let Some(leaf) = chain.first() {
                let key = PublicKey::from_certificate_der(leaf)
                    .map_err(|e| Refusal::Signature(e.to_string()))?;
                s.verify_signature(&key, None)
                    .map_err(|e| Refusal::Signature(e.to_string()))?;
            }
            return Ok(s);
        }
        Err(Refusal::UnknownIssuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::{Algorithm, PrivateKey};
    use crate::core::signed_statement::{StatementSpec, sign_statement};

    const NOW: i64 = 1_800_000_000;

    fn statement(key: &PrivateKey, iss: &str, iat: Option<i64>) -> Vec<u8> {
        sign_statement(
            key,
            b"{}",
            &StatementSpec {
                issuer: iss.into(),
                subject: "s".into(),
                issued_at: iat,
                ..Default::default()
            },
        )
    }

    fn bound(key: &PrivateKey, iss: Option<&str>, name: &str) -> IssuerKey {
        IssuerKey {
            key: key.public_key(),
            iss: iss.map(str::to_string),
            name: name.into(),
        }
    }

    #[test]
    fn a_bound_key_signs_only_its_iss_and_an_unbound_key_any() {
        let a = PrivateKey::generate(Algorithm::ES256).unwrap();
        let b = PrivateKey::generate(Algorithm::ES256).unwrap();
        let keys = [bound(&a, Some("A"), "a.pub"), bound(&b, None, "b.pub")];
        let policy = RegistrationPolicy::default();
        policy
            .admit_at(&statement(&a, "A", None), &keys, NOW)
            .unwrap();
        let err = policy
            .admit_at(&statement(&a, "B", None), &keys, NOW)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "key a.pub is registered for iss \"A\"; the statement claims iss \"B\""
        );
        policy
            .admit_at(&statement(&b, "B", None), &keys, NOW)
            .unwrap();
        policy
            .admit_at(&statement(&b, "A", None), &keys, NOW)
            .unwrap();
        // The same key registered for two iss: either.
        let twice = [bound(&a, Some("A"), "a.pub"), bound(&a, Some("C"), "a.pub")];
        policy
            .admit_at(&statement(&a, "C", None), &twice, NOW)
            .unwrap();
        // Not registered at all: unknown issuer, as before.
        let c = PrivateKey::generate(Algorithm::ES256).unwrap();
        assert!(matches!(
            policy.admit_at(&statement(&c, "A", None), &keys, NOW),
            Err(Refusal::UnknownIssuer)
        ));
    }

    #[test]
    fn an_iat_beyond_the_skew_is_in_the_future() {
        let a = PrivateKey::generate(Algorithm::ES256).unwrap();
        let keys = [bound(&a, None, "a.pub")];
        let policy = RegistrationPolicy::default();
        let at = |iat| policy.admit_at(&statement(&a, "A", Some(iat)), &keys, NOW);
        at(NOW + MAX_CLOCK_SKEW_SECS).unwrap();
        at(NOW - 10 * 365 * 86_400).unwrap(); // an old iat is the signer's claim; no chain to judge
        let err = at(NOW + MAX_CLOCK_SKEW_SECS + 1).unwrap_err().to_string();
        assert!(
            err.starts_with("iat 1800000301 (2027-01-15T08:05:01Z) is in the future: 301 s after"),
            "{err}"
        );
    }

    #[test]
    fn registration_files_with_bare_pems_and_with_bound_entries_both_load() {
        let old = r#"{"issuer_keys": ["PEM-A"], "issuer_roots": [], "accept_any_issuer": false}"#;
        let p: RegistrationPolicy = serde_json::from_str(old).unwrap();
        assert_eq!(
            p.issuer_keys,
            vec![IssuerKeyEntry::from("PEM-A".to_string())]
        );
        let new = r#"{"issuer_keys": ["PEM-A", {"key": "PEM-B", "iss": "B", "name": "b.pub"}, {"key": "PEM-C"}]}"#;
        let p: RegistrationPolicy = serde_json::from_str(new).unwrap();
        assert_eq!(p.issuer_keys[1].iss.as_deref(), Some("B"));
        assert_eq!(p.issuer_keys[1].name.as_deref(), Some("b.pub"));
        assert_eq!(p.issuer_keys[2].iss, None);
        // Written back: objects, without absent fields.
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["issuer_keys"][2], serde_json::json!({"key": "PEM-C"}));
        let again: RegistrationPolicy = serde_json::from_value(json).unwrap();
        assert_eq!(again.issuer_keys, p.issuer_keys);
    }
}
