//! The Sigstore bundle `model_signing sign key` writes (`model.sig`): bundle v0.3 JSON holding a
//! DSSE envelope over the in-toto model manifest, signed with an EC key, the key named only by a
//! hint (hex SHA-256 of its SPKI PEM). Writing it lets the model-transparency ecosystem verify our
//! signatures; reading it lets us verify theirs.

pub mod attestation;
pub mod keyless;

use crate::core::crypto::{CryptoError, PrivateKey, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The media type of a Sigstore bundle v0.3 (JSON), as attached to OCI artifacts and written here.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The DSSE `payloadType` of an in-toto statement: the only payload model-signing bundles carry.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// A bundle carries a manifest, not a model; the same bound as manifests.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;

/// The receipt profile a Rekor entry is reported under (policies name it `rekor`).
pub const REKOR_PROFILE: &str = "Rekor";

/// Whether a bundle is signed with a certificate (keyless), judged from its JSON alone; a bundle
/// that does not parse is not, and fails later with the reason.
pub fn is_certificate_bundle(bytes: &[u8]) -> bool {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return false;
    }
    let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
        return false;
    };
    let material = json.get("verificationMaterial");
    ["certificate", "x509CertificateChain"]
        .iter()
        .any(|k| material.and_then(|m| m.get(k)).is_some())
}

/// Why a Sigstore bundle could not be read, or did not verify with a key.
#[derive(Debug, thiserror::Error)]
pub enum SigstoreError {
    /// The bundle is larger than [`MAX_BUNDLE_BYTES`]; holds its size in bytes.
    #[error("bundle is {0} bytes, over the {MAX_BUNDLE_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not a bundle modelseal reads: bad JSON or base64, a missing field, no DSSE envelope or no
    /// signature, or a payload type other than in-toto.
    #[error("not a Sigstore bundle: {0}")]
    Malformed(String),
    /// `mediaType` is not a Sigstore bundle's (`application/vnd.dev.sigstore.bundle...`).
    #[error("unsupported bundle media type '{0}' (want {BUNDLE_MEDIA_TYPE} or an earlier v0.x)")]
    MediaType(String),
    /// The bundle's `publicKey.hint` is not the given key's hint: it was signed with another key.
    #[error("the bundle's key hint {bundle} is not the given key's {key}: signed with another key")]
    KeyMismatch {
        /// The hint in the bundle.
        bundle: String,
        /// The given key's hint (see [`key_hint`]).
        key: String,
    },
    /// The bundle carries a certificate: it is verified against an identity by
    /// [`keyless::ParsedBundle`], not with a key.
    #[error(
        "a certificate (keyless) bundle is checked against its signer's identity, not a key (keyless::ParsedBundle::verify_keyless)"
    )]
    CertificateBundle,
    /// The first DSSE signature verifies with the key over neither the DSSE v1 PAE nor the pre-1.0
    /// one.
    #[error("the DSSE signature does not verify with the given key: {0}")]
    BadSignature(CryptoError),
    /// A bundle was to be written with a key model-signing cannot verify (Ed25519); holds its kind.
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

/// The PAE model-signing before 1.0 (v0.2) signed by mistake, which 1.1.1 still accepts when the
/// proper PAE fails: `"DSSEV1 28 application/vnd.in-toto+json <len> <repr(payload)>"`, where
/// `repr` is Python's `bytes` repr (`b'...'`, escapes included).
pub fn pae_compat(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(python_bytes_repr(payload).as_bytes());
    out
}

/// CPython's `repr(bytes)` (Objects/bytesobject.c): single quotes unless the bytes hold `'` and
/// no `"`; `\\`, the quote, `\t \n \r` escaped; other bytes outside 0x20..0x7e as `\xhh`.
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &c in bytes {
        match c {
            b'\\' => out.push_str("\\\\"),
            _ if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
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
    serde_json::to_vec(&bundle).map_err(|e| SigstoreError::Malformed(format!("serialising: {e}")))
}

/// One signature of a DSSE envelope.
#[derive(Clone, Debug)]
pub struct DsseSignature {
    /// The signature's `keyid`; empty when absent (model-signing leaves it empty).
    pub keyid: String,
    /// The signature, base64-decoded (ASN.1 DER ECDSA).
    pub sig: Vec<u8>,
}

/// A Sigstore bundle as read from JSON, before any verification: its DSSE envelope and what its
/// verification material holds.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The envelope's `payloadType`.
    pub payload_type: String,
    /// The envelope's payload, base64-decoded: the in-toto statement.
    pub payload: Vec<u8>,
    /// The envelope's signatures; at least one.
    pub signatures: Vec<DsseSignature>,
    /// `verificationMaterial.publicKey.hint`; `None` when absent or empty.
    pub key_hint: Option<String>,
    /// Whether the material carries a certificate or x509 chain (a keyless bundle).
    pub has_certificate: bool,
    /// How many transparency-log entries the material lists (not verified here).
    pub tlog_entries: usize,
}

/// Reads a bundle's JSON, refusing one over [`MAX_BUNDLE_BYTES`], one whose `mediaType` is not a
/// Sigstore bundle's, one without a DSSE envelope (message-signature bundles), and an envelope
/// without signatures. Nothing is verified.
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
    // The peer treats an empty hint like a missing one (an older bundle): no key check.
    let key_hint = material
        .pointer("/publicKey/hint")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
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
        .enumerate()
        .map(|(i, s)| {
            let sig = s
                .get("sig")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("no dsseEnvelope.signatures[{i}].sig")))?;
            Ok(DsseSignature {
                keyid: s
                    .get("keyid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                sig: B64.decode(sig).map_err(|e| {
                    SigstoreError::Malformed(format!("dsseEnvelope.signatures[{i}].sig: {e}"))
                })?,
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
    // Like the peer: only the first signature counts; if it fails over the proper PAE, the
    // pre-1.0 PAE is tried before giving up.
    let signature = bundle
        .signatures
        .first()
        .ok_or_else(|| SigstoreError::Malformed("dsseEnvelope has no signatures".into()))?;
    let proper = key.verify_der_ecdsa(&pae(&bundle.payload_type, &bundle.payload), &signature.sig);
    if let Err(err) = proper {
        key.verify_der_ecdsa(
            &pae_compat(&bundle.payload_type, &bundle.payload),
            &signature.sig,
        )
        .map_err(|_| SigstoreError::BadSignature(err))?;
    }
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
        let blank = |b: &[u8]| {
            let s = String::from_utf8(b.to_vec()).unwrap();
            let start = s.find("\"sig\":\"").unwrap() + 7;
            let end = start + s[start..].find('"').unwrap();
            format!("{}{}", &s[..start], &s[end..])
        };
        for case in CASES {
            let key = PrivateKey::from_pem(
                std::str::from_utf8(&vector(case, "private_key.pem")).unwrap(),
            )
            .unwrap();
            let peer = vector(case, bundle_path(case));
            let ours = write_bundle(&vector(case, "statement.json"), &key).unwrap();
            assert_eq!(blank(&ours), blank(&peer), "{case}");
            let (ours, peer) = (read_bundle(&ours).unwrap(), read_bundle(&peer).unwrap());
            assert_eq!(ours.key_hint, peer.key_hint, "{case}");
            // The hint is over the PEM text; the vectors' file is what openssl wrote.
            assert_eq!(
                ours.key_hint.as_deref(),
                Some(hex::encode(Sha256::digest(vector(case, "public_key.pem"))).as_str())
            );
            assert_eq!(
                verify_bundle(&ours, &public(case)).unwrap(),
                vector(case, "statement.json")
            );
        }
    }

    #[test]
    fn pae_is_the_dsse_v1_encoding() {
        assert_eq!(
            pae(IN_TOTO_PAYLOAD_TYPE, b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}"
        );
        assert_eq!(pae("t", b""), b"DSSEv1 1 t 0 ");
    }

    #[test]
    fn pre_1_0_signatures_over_the_buggy_pae_still_verify_like_the_peer() {
        // Expected bytes checked against model_signing 1.1.1 `pae_compat` and CPython 3.11 `repr`.
        assert_eq!(
            pae_compat(IN_TOTO_PAYLOAD_TYPE, b"{\n  \"a\": 1\t\\'\x00\xff}"),
            b"DSSEV1 28 application/vnd.in-toto+json 16 b'{\\n  \"a\": 1\\t\\\\\\'\\x00\\xff}'"
        );
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(python_bytes_repr(b"'\""), "b'\\'\"'");
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let payload = b"{\n  \"_type\": \"x\"\n}".to_vec();
        let bundle = Bundle {
            payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
            signatures: vec![DsseSignature {
                keyid: String::new(),
                sig: key
                    .sign_der(&pae_compat(IN_TOTO_PAYLOAD_TYPE, &payload))
                    .unwrap(),
            }],
            payload,
            key_hint: None,
            has_certificate: false,
            tlog_entries: 0,
        };
        assert_eq!(
            verify_bundle(&bundle, &key.public_key()).unwrap(),
            bundle.payload
        );
        let mut bad = bundle.clone();
        bad.payload[0] ^= 1;
        assert!(matches!(
            verify_bundle(&bad, &key.public_key()),
            Err(SigstoreError::BadSignature(_))
        ));
    }

    #[test]
    fn a_missing_or_empty_hint_skips_the_key_check_like_the_peer() {
        let good = String::from_utf8(vector("01-files-key", "model.sig")).unwrap();
        let hint = read_bundle(good.as_bytes()).unwrap().key_hint.unwrap();
        for text in [
            good.replace(&hint, ""),
            good.replace(&format!("\"hint\":\"{hint}\""), ""),
        ] {
            let bundle = read_bundle(text.as_bytes()).unwrap();
            assert_eq!(bundle.key_hint, None);
            assert_eq!(
                verify_bundle(&bundle, &public("01-files-key")).unwrap(),
                vector("01-files-key", "statement.json")
            );
        }
    }

    #[test]
    fn certificate_bundles_are_read_but_not_verified_with_a_key() {
        let good = String::from_utf8(vector("01-files-key", "model.sig")).unwrap();
        let hint = read_bundle(good.as_bytes()).unwrap().key_hint.unwrap();
        let text = good.replace(
            &format!("\"publicKey\":{{\"hint\":\"{hint}\"}}"),
            "\"certificate\":{\"rawBytes\":\"MAA=\"}",
        );
        let bundle = read_bundle(text.as_bytes()).unwrap();
        assert!(bundle.has_certificate);
        let err = verify_bundle(&bundle, &public("01-files-key")).unwrap_err();
        assert!(matches!(err, SigstoreError::CertificateBundle));
        assert!(err.to_string().contains("keyless"));
        let empty = Bundle {
            signatures: vec![],
            has_certificate: false,
            ..bundle
        };
        assert!(verify_bundle(&empty, &public("01-files-key")).is_err());
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
            (
                good.replace("\"sig\":\"", "\"sig\":\"%"),
                "dsseEnvelope.signatures[0].sig",
            ),
            (good.replace("\"sig\":", "\"sog\":"), "signatures[0].sig"),
            (good.replace("payloadType", "payloadTyp"), "payloadType"),
            (good.replace("\"mediaType\"", "\"mediatype\""), "mediaType"),
            ("[]".to_string(), "mediaType"),
            ("{\"mediaType\": 3}".to_string(), "mediaType"),
            (good[..good.len() / 2].to_string(), "JSON"),
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
