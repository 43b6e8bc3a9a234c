//! A model-signing manifest as an attestation of an OCI artifact, in the shape `cosign attest
//! --new-bundle-format` gives an image: a Sigstore bundle v0.3 whose DSSE envelope holds an
//! in-toto Statement v1 with the artifact's *manifest digest* as its subject (named by its
//! repository, as cosign names an image) and model-signing's predicate (serialization and every
//! file's digest) as its predicate. Signed with a key, the key named by a hint, as
//! model-signing's key bundles are ([`super::write_bundle`]); no transparency-log entry.
//!
//! Unlike a model-signing bundle, whose subject is the model's own digest (valid wherever the
//! same files are), this one vouches for one manifest: moved to another artifact it names the
//! wrong digest, and [`OciAttestation::names_manifest`] says so.

use super::{SigstoreError, write_bundle};
use crate::core::crypto::PrivateKey;
use crate::core::manifest::{ModelManifest, PREDICATE_TYPE, STATEMENT_TYPE};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct StatementOut<'a> {
    #[serde(rename = "_type")]
    type_: &'static str,
    subject: [SubjectOut<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: &'a Value,
}

#[derive(Serialize)]
struct SubjectOut<'a> {
    name: &'a str,
    digest: DigestOut<'a>,
}

#[derive(Serialize)]
struct DigestOut<'a> {
    sha256: &'a str,
}

/// The hex of a `sha256:<64 lowercase hex>` digest, checked.
fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(hex)
}

/// The in-toto statement (compact JSON) whose subject is the OCI manifest `manifest_digest`
/// (`sha256:<hex>`) named `name` (the repository, as cosign names an image) and whose predicate
/// is `model`'s model-signing predicate.
pub fn attestation_statement(
    name: &str,
    manifest_digest: &str,
    model: &ModelManifest,
) -> Result<Vec<u8>, SigstoreError> {
    let hex = sha256_hex(manifest_digest).ok_or_else(|| {
        SigstoreError::Malformed(format!(
            "an attestation's subject must be a sha256 manifest digest, not '{manifest_digest}'"
        ))
    })?;
    let signed: Value = serde_json::from_slice(&model.to_json())
        .map_err(|e| SigstoreError::Malformed(format!("model manifest: {e}")))?;
    let predicate = signed
        .get("predicate")
        .ok_or_else(|| SigstoreError::Malformed("model manifest has no predicate".into()))?;
    let statement = StatementOut {
        type_: STATEMENT_TYPE,
        subject: [SubjectOut {
            name,
            digest: DigestOut { sha256: hex },
        }],
        predicate_type: PREDICATE_TYPE,
        predicate,
    };
    serde_json::to_vec(&statement)
        .map_err(|e| SigstoreError::Malformed(format!("serialising: {e}")))
}

/// The bundle (JSON) attesting `model` for the OCI manifest `manifest_digest` named `name`,
/// signed with `key` (ECDSA), and the predicate type it carries (for the referrer's
/// `dev.sigstore.bundle.predicateType` annotation).
pub fn write_attestation_bundle(
    name: &str,
    manifest_digest: &str,
    model: &ModelManifest,
    key: &PrivateKey,
) -> Result<(Vec<u8>, &'static str), SigstoreError> {
    let statement = attestation_statement(name, manifest_digest, model)?;
    Ok((write_bundle(&statement, key)?, PREDICATE_TYPE))
}

/// Whether `key` can sign a bundle (ECDSA); checked before anything is pushed.
pub fn check_key(key: &PrivateKey) -> Result<(), SigstoreError> {
    key.sign_der(b"")
        .map(|_| ())
        .ok_or_else(|| SigstoreError::UnsupportedKey(key.public_key().kind()))
}

/// One in-toto subject: its name and its `sha256` digest (hex), if it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationSubject {
    /// The subject's `name` (empty when absent).
    pub name: String,
    /// `digest.sha256`, as written.
    pub sha256: Option<String>,
}

/// An in-toto Statement v1 read from a bundle's DSSE payload, unverified.
#[derive(Clone, Debug)]
pub struct OciAttestation {
    /// Its subjects, in order; at least one.
    pub subjects: Vec<AttestationSubject>,
    /// Its `predicateType`.
    pub predicate_type: String,
    /// Its `predicate`.
    pub predicate: Value,
}

/// Reads an in-toto Statement v1 (`_type`, at least one subject, `predicateType`, `predicate`).
pub fn read_attestation(payload: &[u8]) -> Result<OciAttestation, SigstoreError> {
    let bad = |what: &str| SigstoreError::Malformed(format!("in-toto statement: {what}"));
    let doc: Value = serde_json::from_slice(payload).map_err(|e| bad(&format!("JSON: {e}")))?;
    if doc.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(bad(&format!("_type is not {STATEMENT_TYPE}")));
    }
    let subjects: Vec<AttestationSubject> = doc
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no subject list"))?
        .iter()
        .map(|s| AttestationSubject {
            name: s
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            sha256: s
                .pointer("/digest/sha256")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
        .collect();
    if subjects.is_empty() {
        return Err(bad("no subject"));
    }
    let predicate_type = doc
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no predicateType"))?
        .to_string();
    let predicate = doc
        .get("predicate")
        .cloned()
        .ok_or_else(|| bad("no predicate"))?;
    Ok(OciAttestation {
        subjects,
        predicate_type,
        predicate,
    })
}

impl OciAttestation {
    /// Whether one subject's sha256 digest is `manifest_digest` (`sha256:<hex>`), as cosign and
    /// sigstore-go match an image against a statement's subjects.
    pub fn names_manifest(&self, manifest_digest: &str) -> bool {
        let Some(hex) = sha256_hex(manifest_digest) else {
            return false;
        };
        self.subjects
            .iter()
            .any(|s| s.sha256.as_deref() == Some(hex))
    }

    /// The subjects as `name@sha256:<hex>`, for messages.
    pub fn subjects_text(&self) -> String {
        self.subjects
            .iter()
            .map(|s| match &s.sha256 {
                Some(h) => format!("sha256:{h} ({})", s.name),
                None => format!("{} (no sha256)", s.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The model manifest the predicate describes (model-signing's predicate type only); its
    /// name is the first subject's.
    pub fn model_manifest(&self) -> Result<ModelManifest, String> {
        if self.predicate_type != PREDICATE_TYPE {
            return Err(format!(
                "predicate type {} is not model-signing's {PREDICATE_TYPE}",
                self.predicate_type
            ));
        }
        // Read as a model-signing statement: its subject digest is the model's, which this
        // statement does not state (its subject is the OCI manifest), so it is recomputed.
        let doc = serde_json::json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.subjects[0].name, "digest": {"sha256": "00".repeat(32)}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": self.predicate,
        });
        let mut manifest = ModelManifest::from_json(doc.to_string().as_bytes())?;
        manifest.stated_subject_digest = Some(manifest.computed_subject_digest());
        Ok(manifest)
    }
}

/// Whether `bytes` is a key-signed Sigstore bundle whose in-toto statement is *not* a
/// model-signing statement of a model (subject = the model's own digest), i.e. one to judge as
/// an attestation of an OCI artifact. Certificate (keyless) bundles and model-signing bundles
/// are not: they keep their own verification.
pub fn is_oci_attestation_bundle(bytes: &[u8]) -> bool {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return false;
    }
    let Ok(bundle) = super::read_bundle(bytes) else {
        return false;
    };
    if bundle.has_certificate || bundle.payload_type != super::IN_TOTO_PAYLOAD_TYPE {
        return false;
    }
    match ModelManifest::from_json(&bundle.payload) {
        Ok(m) => m.stated_subject_digest != Some(m.computed_subject_digest()),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Algorithm;
    use crate::core::manifest::{HashAlgorithm, Resource, Serialization, SerializationInfo};

    fn model() -> ModelManifest {
        ModelManifest::new(
            "tiny".into(),
            SerializationInfo {
                method: Serialization::Files,
                hash_type: HashAlgorithm::Sha256,
                allow_symlinks: false,
                ignore_paths: vec![],
            },
            vec![Resource {
                name: "w.bin".into(),
                algorithm: "sha256".into(),
                digest: vec![7; 32],
            }],
        )
    }

    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn the_statement_names_the_manifest_and_carries_the_model_signing_predicate() {
        let statement = attestation_statement("reg.example/models/tiny", DIGEST, &model()).unwrap();
        let v: Value = serde_json::from_slice(&statement).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["subject"][0]["name"], "reg.example/models/tiny");
        assert_eq!(v["subject"][0]["digest"]["sha256"], &DIGEST[7..]);
        assert_eq!(v["predicateType"], PREDICATE_TYPE);
        let signed: Value = serde_json::from_slice(&model().to_json()).unwrap();
        assert_eq!(v["predicate"], signed["predicate"]);
        let read = read_attestation(&statement).unwrap();
        assert!(read.names_manifest(DIGEST));
        assert!(!read.names_manifest(&DIGEST.replace('1', "2")));
        let back = read.model_manifest().unwrap();
        assert_eq!(back.resources, model().resources);
        assert_eq!(back.serialization, model().serialization);
        assert!(attestation_statement("x", "sha512:00", &model()).is_err());
        assert!(attestation_statement("x", &DIGEST.to_uppercase(), &model()).is_err());
    }

    #[test]
    fn attestation_bundles_are_told_from_model_signing_bundles() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let (bundle, predicate_type) =
            write_attestation_bundle("r/tiny", DIGEST, &model(), &key).unwrap();
        assert_eq!(predicate_type, PREDICATE_TYPE);
        assert!(is_oci_attestation_bundle(&bundle));
        let read = super::super::read_bundle(&bundle).unwrap();
        assert_eq!(
            super::super::verify_bundle(&read, &key.public_key()).unwrap(),
            attestation_statement("r/tiny", DIGEST, &model()).unwrap()
        );
        let model_signing = write_bundle(&model().to_json(), &key).unwrap();
        assert!(!is_oci_attestation_bundle(&model_signing));
        assert!(!is_oci_attestation_bundle(b"\xd2\x84"));
    }

    #[test]
    fn hostile_statements_are_errors() {
        for (text, want) in [
            ("[]", "_type"),
            (r#"{"_type":"https://in-toto.io/Statement/v1"}"#, "subject"),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#,
                "no subject",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{}]}"#,
                "predicateType",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{}],"predicateType":"x"}"#,
                "predicate",
            ),
        ] {
            let err = read_attestation(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "{want}: {err}");
        }
        let other = read_attestation(
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#,
        )
        .unwrap();
        assert!(!other.names_manifest(DIGEST));
        assert!(other.model_manifest().unwrap_err().contains("slsa"));
        assert_eq!(other.subjects_text(), "a (no sha256)");
    }
}
