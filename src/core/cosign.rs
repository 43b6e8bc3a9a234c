//! cosign's tag-based signatures and attestations, as `cosign sign --key` (before cosign 3) and
//! Tekton Chains store them beside an artifact: the tag `sha256-<hex>.sig` names an image manifest
//! whose layers are simple-signing payloads (the signature, base64, in the layer annotation
//! `dev.cosignproject.cosign/signature`), and `sha256-<hex>.att` one whose layers are DSSE
//! envelopes over in-toto statements (SLSA provenance, for a Tekton build). This module reads and
//! checks those layers; finding the tags is the OCI side's work.
//!
//! What a signature proves here is what cosign's own key verification proves: the payload names
//! this artifact's manifest digest and the key signed it. Keyless cosign signatures (a Fulcio
//! certificate in `dev.sigstore.cosign/certificate`) are shown, not verified: their time and
//! identity need the Sigstore keyless checks.

use crate::core::crypto::{CryptoError, PublicKey};
use crate::core::sigstore::pae;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

/// The media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type of an attestation layer: a DSSE envelope (JSON).
pub const DSSE_ENVELOPE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The layer annotation holding a simple-signing signature, base64.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The layer annotation of a keyless signature's Fulcio certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation naming an attestation's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// `critical.type` of a simple-signing payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// A payload or envelope describes an artifact, it is not one: anything bigger is refused
/// before it is parsed.
pub const MAX_LAYER_BYTES: usize = 4 * 1024 * 1024;

/// Why a cosign signature or attestation does not hold.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// The layer is larger than [`MAX_LAYER_BYTES`]; holds its size in bytes.
    #[error("{0} bytes, over the {MAX_LAYER_BYTES}-byte limit for a signature layer")]
    TooLarge(usize),
    /// The payload, envelope or signature annotation is not what cosign writes (bad JSON or base64,
    /// a missing field, a simple-signing `critical.type` other than [`SIMPLE_SIGNING_TYPE`]).
    #[error("not a cosign {what}: {reason}")]
    Malformed {
        /// What was being read ("simple-signing payload", "signature annotation", ...).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature verifies, but its payload signs another manifest digest.
    #[error("signs {signed}, not this artifact ({artifact})")]
    OtherArtifact {
        /// The manifest digest the payload names.
        signed: String,
        /// The digest of the artifact being verified.
        artifact: String,
    },
    /// The attestation verifies, but none of its subjects has the artifact's digest.
    #[error("no subject of the attestation is this artifact ({artifact}); it names {named}")]
    NotASubject {
        /// The digest of the artifact being verified.
        artifact: String,
        /// The subjects the statement names, `name@digest`, or "none".
        named: String,
    },
    /// The signature layer's signature does not verify over its payload with the key.
    #[error("the signature does not verify with the given key: {0}")]
    BadSignature(CryptoError),
    /// No signature of the attestation's DSSE envelope verifies with the key; holds the last error.
    #[error("no signature of the envelope verifies with the given key: {0}")]
    NoGoodSignature(CryptoError),
    /// The policy's key is of a kind modelseal does not check cosign signatures with (RSA);
    /// holds its kind.
    #[error("a {0} key: modelseal checks cosign signatures made with ECDSA or Ed25519 keys")]
    UnsupportedKey(String),
}

fn malformed(what: &'static str, reason: impl Into<String>) -> CosignError {
    CosignError::Malformed {
        what,
        reason: reason.into(),
    }
}

/// `sha256:<hex>` → the tag cosign stores its signatures under, `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// `sha256:<hex>` → the tag cosign stores its attestations under, `sha256-<hex>.att`.
pub fn attestation_tag(digest: &str) -> String {
    format!("{}.att", digest.replacen(':', "-", 1))
}

/// A simple-signing payload: what a cosign signature says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: the repository the signer named (not enforced:
    /// cosign signatures travel with copies to other registries).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the manifest signed.
    pub manifest_digest: String,
    /// `optional`, as signed (annotations given to `cosign sign -a`), if any.
    pub optional: Option<Value>,
}

/// Reads a simple-signing payload (without checking any signature).
pub fn read_simple_signing(payload: &[u8]) -> Result<SimpleSigning, CosignError> {
    const WHAT: &str = "simple-signing payload";
    if payload.len() > MAX_LAYER_BYTES {
        return Err(CosignError::TooLarge(payload.len()));
    }
    let json: Value =
        serde_json::from_slice(payload).map_err(|e| malformed(WHAT, format!("JSON: {e}")))?;
    let text = |pointer: &str| {
        json.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| malformed(WHAT, format!("no {pointer}")))
    };
    let kind = text("/critical/type")?;
    if !kind.eq_ignore_ascii_case(SIMPLE_SIGNING_TYPE) {
        return Err(malformed(
            WHAT,
            format!("critical.type is '{kind}', not '{SIMPLE_SIGNING_TYPE}'"),
        ));
    }
    Ok(SimpleSigning {
        docker_reference: text("/critical/identity/docker-reference")?,
        manifest_digest: text("/critical/image/docker-manifest-digest")?,
        optional: json.get("optional").filter(|v| !v.is_null()).cloned(),
    })
}

/// Checks one signature layer of a `.sig` manifest: `payload` (the layer's bytes) must name
/// `artifact_digest`, and `signature_b64` (its `dev.cosignproject.cosign/signature`
/// annotation) must verify over it with `key`.
pub fn verify_signature(
    payload: &[u8],
    signature_b64: &str,
    key: &PublicKey,
    artifact_digest: &str,
) -> Result<SimpleSigning, CosignError> {
    supported(key)?;
    let signed = read_simple_signing(payload)?;
    let signature = B64
        .decode(signature_b64.trim())
        .map_err(|e| malformed("signature annotation", format!("base64: {e}")))?;
    verify_with(key, payload, &signature).map_err(CosignError::BadSignature)?;
    // The signature first, then what it says: a claim is read only once it is signed.
    if signed.manifest_digest != artifact_digest {
        return Err(CosignError::OtherArtifact {
            signed: signed.manifest_digest,
            artifact: artifact_digest.into(),
        });
    }
    Ok(signed)
}

/// The keys cosign signs with that modelseal checks: ECDSA and Ed25519 (not RSA).
fn supported(key: &PublicKey) -> Result<(), CosignError> {
    match key {
        PublicKey::Rsa(_) => Err(CosignError::UnsupportedKey(key.kind())),
        _ => Ok(()),
    }
}

/// cosign signs with the key's own hash: DER ECDSA for EC keys, plain Ed25519.
fn verify_with(key: &PublicKey, data: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    match key {
        PublicKey::Ed25519(_) => key.verify(crate::core::crypto::Algorithm::EdDSA, data, signature),
        _ => key.verify_der_ecdsa(data, signature),
    }
}

/// An in-toto statement from an attestation layer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attestation {
    /// The in-toto statement's `predicateType` (e.g. SLSA provenance).
    pub predicate_type: String,
    /// Each subject's name and sha256 digest (`sha256:<hex>`).
    pub subjects: Vec<(String, String)>,
    /// For SLSA provenance (v0.2 or v1): who built it, how, from what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// The lineage an SLSA provenance predicate records.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    /// `builder.id` (v0.2) or `runDetails.builder.id` (v1).
    pub builder: Option<String>,
    /// `buildType` (v0.2) or `buildDefinition.buildType` (v1).
    pub build_type: Option<String>,
    /// Materials (v0.2) or resolved dependencies (v1): `uri@algorithm:digest` where known.
    pub materials: Vec<String>,
}

const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// A DSSE envelope as cosign stores it in a `.att` layer.
struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    signatures: Vec<Vec<u8>>,
}

fn read_envelope(bytes: &[u8]) -> Result<Envelope, CosignError> {
    const WHAT: &str = "DSSE envelope";
    if bytes.len() > MAX_LAYER_BYTES {
        return Err(CosignError::TooLarge(bytes.len()));
    }
    let json: Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(WHAT, format!("JSON: {e}")))?;
    let field = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(WHAT, format!("no {name}")))
    };
    let payload_type = field("payloadType")?.to_string();
    let payload = B64
        .decode(field("payload")?)
        .map_err(|e| malformed(WHAT, format!("payload: {e}")))?;
    let signatures = json
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(WHAT, "no signatures"))?
        .iter()
        .map(|s| {
            let sig = s
                .get("sig")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(WHAT, "a signature without sig"))?;
            B64.decode(sig)
                .map_err(|e| malformed(WHAT, format!("sig: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if signatures.is_empty() {
        return Err(malformed(WHAT, "no signatures"));
    }
    Ok(Envelope {
        payload_type,
        payload,
        signatures,
    })
}

/// Reads an attestation layer's statement without checking its signatures (for display).
pub fn read_attestation(envelope: &[u8]) -> Result<Attestation, CosignError> {
    let envelope = read_envelope(envelope)?;
    statement_of(&envelope)
}

fn statement_of(envelope: &Envelope) -> Result<Attestation, CosignError> {
    const WHAT: &str = "in-toto statement";
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(malformed(
            WHAT,
            format!(
                "payloadType '{}' is not {IN_TOTO_PAYLOAD_TYPE}",
                envelope.payload_type
            ),
        ));
    }
    let json: Value = serde_json::from_slice(&envelope.payload)
        .map_err(|e| malformed(WHAT, format!("JSON: {e}")))?;
    let predicate_type = json
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(WHAT, "no predicateType"))?
        .to_string();
    let subjects = json
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(WHAT, "no subject"))?
        .iter()
        .filter_map(|s| {
            let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
            let hex = s.pointer("/digest/sha256").and_then(Value::as_str)?;
            Some((
                name.to_string(),
                format!("sha256:{}", hex.to_ascii_lowercase()),
            ))
        })
        .collect();
    let predicate = json.get("predicate").unwrap_or(&Value::Null);
    let provenance = provenance_of(&predicate_type, predicate);
    Ok(Attestation {
        predicate_type,
        subjects,
        provenance,
    })
}

fn provenance_of(predicate_type: &str, predicate: &Value) -> Option<Provenance> {
    let text = |p: &str| {
        predicate
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let materials = |p: &str| {
        predicate
            .pointer(p)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|m| {
                        let uri = m.get("uri").and_then(Value::as_str)?;
                        let digest = m
                            .get("digest")
                            .and_then(Value::as_object)
                            .and_then(|d| d.iter().next())
                            .and_then(|(alg, v)| v.as_str().map(|v| format!("@{alg}:{v}")));
                        Some(format!("{uri}{}", digest.unwrap_or_default()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    if predicate_type == SLSA_V02 {
        Some(Provenance {
            builder: text("/builder/id"),
            build_type: text("/buildType"),
            materials: materials("/materials"),
        })
    } else if predicate_type == SLSA_V1 {
        Some(Provenance {
            builder: text("/runDetails/builder/id"),
            build_type: text("/buildDefinition/buildType"),
            materials: materials("/buildDefinition/resolvedDependencies"),
        })
    } else {
        None
    }
}

/// Checks one attestation layer: a signature of the envelope must verify with `key` over the
/// DSSE PAE, and one subject of its statement must be `artifact_digest`.
pub fn verify_attestation(
    envelope: &[u8],
    key: &PublicKey,
    artifact_digest: &str,
) -> Result<Attestation, CosignError> {
    supported(key)?;
    let envelope = read_envelope(envelope)?;
    let signed = pae(&envelope.payload_type, &envelope.payload);
    let mut last = None;
    if !envelope
        .signatures
        .iter()
        .any(|sig| match verify_with(key, &signed, sig) {
            Ok(()) => true,
            Err(e) => {
                last = Some(e);
                false
            }
        })
    {
        return Err(CosignError::NoGoodSignature(
            last.expect("an envelope has signatures"),
        ));
    }
    let statement = statement_of(&envelope)?;
    if !statement.subjects.iter().any(|(_, d)| d == artifact_digest) {
        let named = statement
            .subjects
            .iter()
            .map(|(n, d)| format!("{n}@{d}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(CosignError::NotASubject {
            artifact: artifact_digest.into(),
            named: if named.is_empty() {
                "none".into()
            } else {
                named
            },
        });
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::{Algorithm, PrivateKey};

    const DIGEST: &str = "sha256:4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d";

    fn payload(digest: &str) -> Vec<u8> {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"registry.example/models/m"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
        )
        .into_bytes()
    }

    fn envelope(key: &PrivateKey, statement: &Value) -> Vec<u8> {
        let body = serde_json::to_vec(statement).unwrap();
        let sig = key.sign_der(&pae(IN_TOTO_PAYLOAD_TYPE, &body)).unwrap();
        serde_json::to_vec(&serde_json::json!({
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "payload": B64.encode(&body),
            "signatures": [{"keyid": "", "sig": B64.encode(sig)}],
        }))
        .unwrap()
    }

    #[test]
    fn tags_follow_cosigns_naming() {
        assert_eq!(
            signature_tag(DIGEST),
            "sha256-4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d.sig"
        );
        assert!(attestation_tag(DIGEST).ends_with("380d.att"));
    }

    #[test]
    fn a_signature_holds_for_its_digest_and_key_only() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let other = PrivateKey::generate(Algorithm::ES256).unwrap();
        let p = payload(DIGEST);
        let sig = B64.encode(key.sign_der(&p).unwrap());
        let ok = verify_signature(&p, &sig, &key.public_key(), DIGEST).unwrap();
        assert_eq!(ok.docker_reference, "registry.example/models/m");
        assert!(matches!(
            verify_signature(&p, &sig, &other.public_key(), DIGEST),
            Err(CosignError::BadSignature(_))
        ));
        let elsewhere = "sha256:".to_string() + &"0".repeat(64);
        let err = verify_signature(&p, &sig, &key.public_key(), &elsewhere).unwrap_err();
        assert!(err.to_string().contains("not this artifact"), "{err}");
        let mut tampered = p.clone();
        let at = tampered.len() - 20;
        tampered[at] ^= 1;
        assert!(verify_signature(&tampered, &sig, &key.public_key(), DIGEST).is_err());
    }

    #[test]
    fn ed25519_keys_sign_plainly() {
        let key = PrivateKey::generate(Algorithm::EdDSA).unwrap();
        let p = payload(DIGEST);
        let sig = B64.encode(key.sign(&p));
        verify_signature(&p, &sig, &key.public_key(), DIGEST).unwrap();
    }

    #[test]
    fn other_payload_types_are_refused() {
        let p = br#"{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"atomic container signature"}}"#;
        assert!(
            read_simple_signing(p)
                .unwrap_err()
                .to_string()
                .contains("critical.type")
        );
        assert!(matches!(
            read_simple_signing(&vec![b' '; MAX_LAYER_BYTES + 1]),
            Err(CosignError::TooLarge(_))
        ));
    }

    #[test]
    fn an_slsa_attestation_names_its_subject_and_lineage() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let hex = &DIGEST[7..];
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": SLSA_V02,
            "subject": [{"name": "registry.example/models/m", "digest": {"sha256": hex}}],
            "predicate": {
                "builder": {"id": "https://tekton.dev/chains/v2"},
                "buildType": "tekton.dev/v1beta1/TaskRun",
                "materials": [{"uri": "git+https://example/repo.git", "digest": {"sha1": "abc"}}]
            }
        });
        let env = envelope(&key, &statement);
        let a = verify_attestation(&env, &key.public_key(), DIGEST).unwrap();
        assert_eq!(
            a.provenance.unwrap(),
            Provenance {
                builder: Some("https://tekton.dev/chains/v2".into()),
                build_type: Some("tekton.dev/v1beta1/TaskRun".into()),
                materials: vec!["git+https://example/repo.git@sha1:abc".into()],
            }
        );
        let other = PrivateKey::generate(Algorithm::ES256).unwrap();
        assert!(matches!(
            verify_attestation(&env, &other.public_key(), DIGEST),
            Err(CosignError::NoGoodSignature(_))
        ));
        let elsewhere = "sha256:".to_string() + &"1".repeat(64);
        let err = verify_attestation(&env, &key.public_key(), &elsewhere).unwrap_err();
        assert!(err.to_string().contains("no subject"), "{err}");
    }

    #[test]
    fn slsa_v1_lineage_is_read_from_its_own_fields() {
        let p = provenance_of(
            SLSA_V1,
            &serde_json::json!({
                "buildDefinition": {"buildType": "https://tekton.dev/chains/v2/slsa",
                    "resolvedDependencies": [{"uri": "oci://base", "digest": {"sha256": "ff"}}]},
                "runDetails": {"builder": {"id": "https://tekton.dev/chains/v2"}}
            }),
        )
        .unwrap();
        assert_eq!(p.builder.as_deref(), Some("https://tekton.dev/chains/v2"));
        assert_eq!(p.materials, vec!["oci://base@sha256:ff".to_string()]);
    }
}
