//! The Sigstore bundle `model_signing sign key` writes (`model.sig`): bundle v0.3 JSON holding a
//! DSSE envelope over the in-toto model manifest, signed with an EC key, the key named only by a
//! hint (hex SHA-256 of its SPKI PEM). Writing it lets the model-transparency ecosystem verify our
//! signatures; reading it lets us verify theirs.

use crate::core::crypto::{CryptoError, PrivateKey, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// A bundle carries a manifest, not a model; the same bound as manifests.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SigstoreError {
    #[error("bundle is {0} bytes, over the {MAX_BUNDLE_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("not a Sigstore bundle: {0}")]
    Malformed(String),
    #[error("unsupported bundle media type '{0}' (want {BUNDLE_MEDIA_TYPE} or an earlier v0.x)")]
    MediaType(String),
    #[error("the bundle's key hint {bundle} is not the given key's {key}: signed with another key")]
    KeyMismatch { bundle: String, key: String },
    #[error(
        "certificate-based (keyless) Sigstore bundles are not supported yet; use `model_signing verify sigstore`"
    )]
    CertificateBundle,
    #[error("the DSSE signature does not verify with the given key: {0}")]
    BadSignature(CryptoError),
    #[error(
        "model-signing signs with ECDSA keys only (P-256, P-384, P-521); an {0} key cannot make a bundle it verifies"
    )]
    UnsupportedKey(String),
}

/// DSSE pre-authentication encoding (DSSE v1 protocol).
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The key hint model-signing writes and checks: hex SHA-256 of the key's SPKI PEM text, as
/// Python's `cryptography` encodes it (64-column base64, LF, trailing newline — ours is the same).
pub fn key_hint(key: &PublicKey) -> String {
    hex::encode(Sha256::digest(key.to_spki_pem().as_bytes()))
}

// Field order is the peer's (protobuf JSON of the Bundle message): serde keeps struct order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleJson<'a> {
    media_type: &'a str,
    verification_material: VerificationMaterial,
    dsse_envelope: Envelope<'a>,
}
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerificationMaterial {
    public_key: Hint,
    tlog_entries: [(); 0],
}
#[derive(Serialize)]
struct Hint {
    hint: String,
}
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    payload: String,
    payload_type: &'a str,
    signatures: Vec<SigJson>,
}
#[derive(Serialize)]
struct SigJson {
    sig: String,
    keyid: &'static str,
}

/// The bundle `model_signing sign key` writes for `statement_json`: single-line JSON, no
/// trailing newline.
pub fn write_bundle(statement_json: &[u8], key: &PrivateKey) -> Result<Vec<u8>, SigstoreError> {
    let sig = key
        .sign_der(&pae(IN_TOTO_PAYLOAD_TYPE, statement_json))
        .ok_or_else(|| SigstoreError::UnsupportedKey(key.public_key().kind()))?;
    let bundle = BundleJson {
        media_type: BUNDLE_MEDIA_TYPE,
        verification_material: VerificationMaterial {
            public_key: Hint {
                hint: key_hint(&key.public_key()),
            },
            tlog_entries: [],
        },
        dsse_envelope: Envelope {
            payload: B64.encode(statement_json),
            payload_type: IN_TOTO_PAYLOAD_TYPE,
            signatures: vec![SigJson {
                sig: B64.encode(sig),
                keyid: "",
            }],
        },
    };
    Ok(serde_json::to_vec(&bundle).expect("a bundle serialises"))
}

#[derive(Clone, Debug)]
pub struct DsseSignature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Bundle {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<DsseSignature>,
    pub key_hint: Option<String>,
    pub has_certificate: bool,
    pub tlog_entries: usize,
}

pub fn read_bundle(bytes: &[u8]) -> Result<Bundle, SigstoreError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(SigstoreError::TooLarge(bytes.len()));
    }
    let bad = |what: &str| SigstoreError::Malformed(what.to_string());
    let json: Value = serde_json::from_slice(bytes)
        .map_err(|e| SigstoreError::Malformed(format!("JSON: {e}")))?;
    let media_type = json
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no mediaType"))?;
    if !media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(SigstoreError::MediaType(media_type.into()));
    }
    let material = json
        .get("verificationMaterial")
        .ok_or_else(|| bad("no verificationMaterial"))?;
    let key_hint = material
        .pointer("/publicKey/hint")
        .and_then(Value::as_str)
        .map(str::to_string);
    let has_certificate =
        material.get("certificate").is_some() || material.get("x509CertificateChain").is_some();
    let tlog_entries = material
        .get("tlogEntries")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let envelope = json.get("dsseEnvelope").ok_or_else(|| {
        bad("no dsseEnvelope (message-signature bundles are not model signatures)")
    })?;
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no dsseEnvelope.payloadType"))?;
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no dsseEnvelope.payload"))?;
    let payload = B64
        .decode(payload)
        .map_err(|e| SigstoreError::Malformed(format!("dsseEnvelope.payload: {e}")))?;
    let signatures = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no dsseEnvelope.signatures"))?
        .iter()
        .map(|s| {
            let sig = s
                .get("sig")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("a signature has no sig"))?;
            Ok(DsseSignature {
                keyid: s
                    .get("keyid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                sig: B64
                    .decode(sig)
                    .map_err(|e| SigstoreError::Malformed(format!("signature: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, SigstoreError>>()?;
    if signatures.is_empty() {
        return Err(bad("dsseEnvelope has no signatures"));
    }
    Ok(Bundle {
        payload_type: payload_type.into(),
        payload,
        signatures,
        key_hint,
        has_certificate,
        tlog_entries,
    })
}

/// Checks the bundle with `key` the way model-signing does (hint, then the first signature over
/// PAE) and returns the signed statement.
pub fn verify_bundle(bundle: &Bundle, key: &PublicKey) -> Result<Vec<u8>, SigstoreError> {
    if bundle.has_certificate {
        return Err(SigstoreError::CertificateBundle);
    }
    if bundle.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(SigstoreError::Malformed(format!(
            "payloadType '{}' is not {IN_TOTO_PAYLOAD_TYPE}",
            bundle.payload_type
        )));
    }
    if let Some(hint) = &bundle.key_hint {
        let ours = key_hint(key);
        if *hint != ours {
            return Err(SigstoreError::KeyMismatch {
                bundle: hint.clone(),
                key: ours,
            });
        }
    }
    let signature = &bundle.signatures[0];
    key.verify_der_ecdsa(&pae(&bundle.payload_type, &bundle.payload), &signature.sig)
        .map_err(SigstoreError::BadSignature)?;
    Ok(bundle.payload.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Algorithm;

    const CASES: [&str; 4] = [
        "01-files-key",
        "02-shards-key",
        "03-ignore-paths-key",
        "04-edge-cases-key",
    ];

    fn vector(case: &str, name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../shared/vectors/model-signing/{case}/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn public(case: &str) -> PublicKey {
        PublicKey::from_pem(std::str::from_utf8(&vector(case, "public_key.pem")).unwrap()).unwrap()
    }

    fn bundle_path(case: &str) -> &'static str {
        // 03 keeps its signature inside the model directory.
        if case == "03-ignore-paths-key" {
            "model/model.sig"
        } else {
            "model.sig"
        }
    }

    #[test]
    fn every_peer_bundle_verifies_and_yields_the_signed_statement() {
        for case in CASES {
            let bundle = read_bundle(&vector(case, bundle_path(case))).unwrap();
            assert_eq!(
                verify_bundle(&bundle, &public(case)).unwrap(),
                vector(case, "statement.json"),
                "{case}"
            );
        }
    }

    #[test]
    fn a_flipped_payload_or_signature_byte_or_another_key_fails() {
        let bundle = read_bundle(&vector("01-files-key", "model.sig")).unwrap();
        let key = public("01-files-key");
        let mut payload = bundle.clone();
        payload.payload[10] ^= 1;
        assert!(matches!(
            verify_bundle(&payload, &key),
            Err(SigstoreError::BadSignature(_))
        ));
        let mut sig = bundle.clone();
        let n = sig.signatures[0].sig.len();
        sig.signatures[0].sig[n - 3] ^= 1;
        assert!(matches!(
            verify_bundle(&sig, &key),
            Err(SigstoreError::BadSignature(_))
        ));
        let other = PrivateKey::generate(Algorithm::ES256).unwrap().public_key();
        assert!(matches!(
            verify_bundle(&bundle, &other),
            Err(SigstoreError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn our_bundle_has_the_peers_exact_layout_except_the_signature() {
        let case = "01-files-key";
        let key =
            PrivateKey::from_pem(std::str::from_utf8(&vector(case, "private_key.pem")).unwrap())
                .unwrap();
        let ours = write_bundle(&vector(case, "statement.json"), &key).unwrap();
        let blank = |b: &[u8]| {
            let s = String::from_utf8(b.to_vec()).unwrap();
            let start = s.find("\"sig\":\"").unwrap() + 7;
            let end = start + s[start..].find('"').unwrap();
            format!("{}{}", &s[..start], &s[end..])
        };
        assert_eq!(blank(&ours), blank(&vector(case, "model.sig")));
        let read = read_bundle(&ours).unwrap();
        assert_eq!(
            verify_bundle(&read, &public(case)).unwrap(),
            vector(case, "statement.json")
        );
    }

    #[test]
    fn bundles_round_trip_for_each_ec_curve_and_ed25519_is_refused() {
        for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512] {
            let key = PrivateKey::generate(alg).unwrap();
            let bundle = read_bundle(&write_bundle(b"{\"x\": 1}", &key).unwrap()).unwrap();
            assert_eq!(
                verify_bundle(&bundle, &key.public_key()).unwrap(),
                b"{\"x\": 1}"
            );
        }
        let ed = PrivateKey::generate(Algorithm::EdDSA).unwrap();
        assert!(matches!(
            write_bundle(b"{}", &ed),
            Err(SigstoreError::UnsupportedKey(_))
        ));
    }

    #[test]
    fn hostile_bundles_are_errors_naming_the_problem() {
        let good = String::from_utf8(vector("01-files-key", "model.sig")).unwrap();
        let cases = [
            ("not json".to_string(), "JSON"),
            (
                good.replace(
                    "application/vnd.dev.sigstore.bundle.v0.3+json",
                    "text/plain",
                ),
                "media type",
            ),
            (
                good.replace("dsseEnvelope", "messageSignature"),
                "dsseEnvelope",
            ),
            (
                good.replace("\"payload\":\"ewog", "\"payload\":\"!!!!"),
                "payload",
            ),
            (
                good.replace(
                    &good[good.find("\"signatures\":").unwrap()..good.len() - 2],
                    "\"signatures\":[]",
                ),
                "no signatures",
            ),
        ];
        for (text, expected) in cases {
            let err = read_bundle(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
        assert!(matches!(
            read_bundle(&vec![b' '; MAX_BUNDLE_BYTES + 1]),
            Err(SigstoreError::TooLarge(_))
        ));
    }
}
