//! Keys and signature algorithms: the only module that names a crypto crate.
//!
//! RustCrypto (p256/p384/p521, ed25519-dalek, rsa) rather than aws-lc-rs: pure Rust, so the crate
//! builds anywhere with no C toolchain, and it covers every algorithm SCITT statements use —
//! including RSA-PSS, which the real Microsoft-signed statement uses (PS384, 3072-bit key).
//! RSA is verify-only here; we never sign with RSA, which sidesteps the `rsa` crate's known
//! timing issue in private-key operations.
//!
//! COSE signatures are raw (`r‖s` for ECDSA, RFC 9053 §2.1); DSSE (Sigstore bundles) uses ASN.1
//! DER ECDSA signatures. Both forms are offered.

use ecdsa::signature::{Signer, Verifier};
use pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::OsRng;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// Upper bound for a key, certificate or JWKS file: real ones are a few KiB.
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// Why a key could not be read or used, or a signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A COSE algorithm identifier (header 1) other than the seven in [`Algorithm`].
    #[error("unsupported COSE algorithm {0}")]
    UnsupportedAlgorithm(i64),
    /// The message names an algorithm the key cannot check (ES384 with a P-256 key, PS256 with an
    /// EC key): refused rather than tried, so an algorithm can never be switched under a key.
    #[error("algorithm {alg} cannot be used with a {key} key")]
    AlgorithmKeyMismatch {
        /// The algorithm the message names.
        alg: Algorithm,
        /// The key's kind ("P-256", "Ed25519", "RSA").
        key: &'static str,
    },
    /// The signature is well-formed but does not verify over the data with this key.
    #[error("signature does not verify ({alg} with a {key} key)")]
    BadSignature {
        /// The algorithm checked with.
        alg: Algorithm,
        /// The key's kind.
        key: &'static str,
    },
    /// The signature bytes are not a signature of the algorithm (wrong length for `r‖s`, bad DER).
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// Key material that is not a supported public or private key: bad PEM/DER/JWK, an unsupported
    /// curve or key type, a point not on the curve.
    #[error("not a key this tool reads: {0}")]
    UnreadableKey(String),
    /// [`PrivateKey::generate`] was asked for an RSA-PSS algorithm: modelseal never signs with RSA.
    #[error("key generation is not offered for {0} (use ES256, ES384 or EdDSA)")]
    CannotGenerate(Algorithm),
}

/// Signature algorithms by their COSE names (RFC 9053, RFC 8230).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (COSE -7).
    ES256,
    /// ECDSA on P-384 with SHA-384 (COSE -35).
    ES384,
    /// ECDSA on P-521 with SHA-512 (COSE -36).
    ES512,
    /// Ed25519 (COSE -8; RFC 9053 §2.2).
    EdDSA,
    /// RSASSA-PSS with SHA-256, MGF1 and a 32-byte salt (COSE -37, RFC 8230); verify only.
    PS256,
    /// RSASSA-PSS with SHA-384 and a 48-byte salt (COSE -38, RFC 8230); verify only.
    PS384,
    /// RSASSA-PSS with SHA-512 and a 64-byte salt (COSE -39, RFC 8230); verify only.
    PS512,
}

impl Algorithm {
    /// Every supported algorithm, in the order messages list them.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ];

    /// The COSE algorithm identifier (IANA "COSE Algorithms").
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::ES256 => -7,
            Algorithm::ES384 => -35,
            Algorithm::ES512 => -36,
            Algorithm::EdDSA => -8,
            Algorithm::PS256 => -37,
            Algorithm::PS384 => -38,
            Algorithm::PS512 => -39,
        }
    }

    /// The algorithm for a COSE identifier (header 1); [`CryptoError::UnsupportedAlgorithm`] for
    /// any other.
    pub fn from_cose_id(id: i64) -> Result<Self, CryptoError> {
        Self::ALL
            .into_iter()
            .find(|a| a.cose_id() == id)
            .ok_or(CryptoError::UnsupportedAlgorithm(id))
    }

    /// The COSE name ("ES256", "EdDSA", "PS384"), as `Display` and `FromStr` use it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown algorithm '{s}' (ES256, ES384, ES512, EdDSA, PS256, PS384, PS512)")
            })
    }
}

/// A public key that can check signatures.
#[derive(Clone)]
pub enum PublicKey {
    /// An ECDSA key on NIST P-256 (ES256).
    P256(p256::ecdsa::VerifyingKey),
    /// An ECDSA key on NIST P-384 (ES384).
    P384(p384::ecdsa::VerifyingKey),
    /// An ECDSA key on NIST P-521 (ES512); boxed, as it is large.
    P521(Box<p521::ecdsa::VerifyingKey>),
    /// An Ed25519 key (EdDSA).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An RSA key, verifying RSASSA-PSS (COSE) and PKCS#1 v1.5 (certificates) signatures. At most
    /// 4096 bits (the `rsa` crate's bound); no minimum size is enforced.
    Rsa(rsa::RsaPublicKey),
}

// p521's verifying key has neither Debug nor Eq; compare and show all keys by their SPKI.
impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_spki_der() == other.to_spki_der()
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({} sha256:{})",
            self.kind(),
            hex::encode(&self.spki_sha256()[..8])
        )
    }
}

impl PublicKey {
    /// What kind of key this is, for messages: "P-256", "Ed25519", "RSA-3072".
    pub fn kind(&self) -> String {
        match self {
            PublicKey::P256(_) => "P-256".into(),
            PublicKey::P384(_) => "P-384".into(),
            PublicKey::P521(_) => "P-521".into(),
            PublicKey::Ed25519(_) => "Ed25519".into(),
            PublicKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                format!("RSA-{}", k.n().bits())
            }
        }
    }

    fn kind_static(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
            PublicKey::P521(_) => "P-521",
            PublicKey::Ed25519(_) => "Ed25519",
            PublicKey::Rsa(_) => "RSA",
        }
    }

    /// The algorithm a key of this kind signs with in COSE, where there is exactly one.
    pub fn default_algorithm(&self) -> Option<Algorithm> {
        match self {
            PublicKey::P256(_) => Some(Algorithm::ES256),
            PublicKey::P384(_) => Some(Algorithm::ES384),
            PublicKey::P521(_) => Some(Algorithm::ES512),
            PublicKey::Ed25519(_) => Some(Algorithm::EdDSA),
            PublicKey::Rsa(_) => None,
        }
    }

    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info = spki::SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| CryptoError::UnreadableKey(format!("SubjectPublicKeyInfo: {e}")))?;
        let oid = info.algorithm.oid;
        let unreadable = |e: &dyn fmt::Display| CryptoError::UnreadableKey(e.to_string());
        if oid == const_oid_ec_public_key() {
            let curve: Option<der::asn1::ObjectIdentifier> =
                info.algorithm.parameters.and_then(|p| p.decode_as().ok());
            match curve {
                Some(c) if c == OID_P256 => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P256)
                    .map_err(|e| unreadable(&e)),
                Some(c) if c == OID_P384 => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P384)
                    .map_err(|e| unreadable(&e)),
                Some(c) if c == OID_P521 => {
                    let key =
                        p521::PublicKey::from_public_key_der(der).map_err(|e| unreadable(&e))?;
                    let vk = p521::ecdsa::VerifyingKey::from_affine(*key.as_affine())
                        .map_err(|e| unreadable(&e))?;
                    Ok(PublicKey::P521(Box::new(vk)))
                }
                other => Err(CryptoError::UnreadableKey(format!(
                    "EC key on an unsupported curve {other:?} (P-256, P-384, P-521 are)"
                ))),
            }
        } else if oid == OID_ED25519 {
            ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::Ed25519)
                .map_err(|e| unreadable(&e))
        } else if oid == OID_RSA || oid == OID_RSA_PSS {
            rsa::RsaPublicKey::from_public_key_der(der)
                .or_else(|_| {
                    // An id-RSASSA-PSS SPKI carries the same RSAPublicKey bits.
                    use rsa::pkcs1::DecodeRsaPublicKey;
                    rsa::RsaPublicKey::from_pkcs1_der(info.subject_public_key.raw_bytes())
                })
                .map_err(|e| unreadable(&e))
                .and_then(rsa_key)
        } else {
            Err(CryptoError::UnreadableKey(format!(
                "unsupported key algorithm {oid}"
            )))
        }
    }

    /// The key as a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7); also what keys are compared by.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::P521(k) => p521::PublicKey::from_affine(*k.as_affine())
                .expect("a verifying key is a valid point")
                .to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
        };
        doc.expect("encoding a valid public key cannot fail")
            .into_vec()
    }

    /// The key as PEM `PUBLIC KEY` (the SubjectPublicKeyInfo, base64 in 64-column lines).
    pub fn to_spki_pem(&self) -> String {
        let der = self.to_spki_der();
        pem_encode("PUBLIC KEY", &der)
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo — what CCF uses (hex) as a receipt's `kid`.
    pub fn spki_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.to_spki_der()).into()
    }

    /// The EC point for COSE_Key / JWK: (x, y) big-endian, fixed width.
    pub fn ec_coordinates(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        fn xy(point: &[u8]) -> (Vec<u8>, Vec<u8>) {
            // Uncompressed SEC1: 0x04 ‖ x ‖ y.
            let half = (point.len() - 1) / 2;
            (point[1..1 + half].to_vec(), point[1 + half..].to_vec())
        }
        match self {
            PublicKey::P256(k) => Some(xy(k.to_encoded_point(false).as_bytes())),
            PublicKey::P384(k) => Some(xy(k.to_encoded_point(false).as_bytes())),
            PublicKey::P521(k) => Some(xy(k.to_encoded_point(false).as_bytes())),
            _ => None,
        }
    }

    /// From an EC point given as coordinates (COSE_Key, JWK). `curve` is "P-256", "P-384" or
    /// "P-521".
    pub fn from_ec_coordinates(curve: &str, x: &[u8], y: &[u8]) -> Result<Self, CryptoError> {
        let mut sec1 = Vec::with_capacity(1 + x.len() + y.len());
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let bad = |e: &dyn fmt::Display| CryptoError::UnreadableKey(format!("{curve} point: {e}"));
        match curve {
            "P-256" => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map(PublicKey::P256)
                .map_err(|e| bad(&e)),
            "P-384" => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map(PublicKey::P384)
                .map_err(|e| bad(&e)),
            "P-521" => p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map(|k| PublicKey::P521(Box::new(k)))
                .map_err(|e| bad(&e)),
            other => Err(CryptoError::UnreadableKey(format!(
                "unsupported curve {other}"
            ))),
        }
    }

    /// An Ed25519 key from its 32-byte encoding (RFC 8032 §5.1.5; the `x` of an OKP COSE_Key or
    /// JWK). Refuses another length or an encoding that is not a curve point.
    pub fn from_ed25519_bytes(x: &[u8]) -> Result<Self, CryptoError> {
        let bytes: [u8; 32] = x
            .try_into()
            .map_err(|_| CryptoError::UnreadableKey("Ed25519 key is not 32 bytes".into()))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey::Ed25519)
            .map_err(|e| CryptoError::UnreadableKey(format!("Ed25519 key: {e}")))
    }

    /// An RSA key from its modulus `n` and public exponent `e`, big-endian unsigned (as a JWK's
    /// base64url-decoded `n` and `e`). Refuses what the `rsa` crate refuses (more than 4096 bits, a
    /// bad exponent).
    pub fn from_rsa_components(n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(n),
            rsa::BigUint::from_bytes_be(e),
        )
        .map_err(|e| CryptoError::UnreadableKey(format!("RSA key: {e}")))
        .and_then(rsa_key)
    }

    /// The 32-byte Ed25519 encoding of the key; `None` for any other kind.
    pub fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match self {
            PublicKey::Ed25519(k) => Some(k.to_bytes()),
            _ => None,
        }
    }

    fn check_algorithm(&self, alg: Algorithm) -> Result<(), CryptoError> {
        let ok = matches!(
            (self, alg),
            (PublicKey::P256(_), Algorithm::ES256)
                | (PublicKey::P384(_), Algorithm::ES384)
                | (PublicKey::P521(_), Algorithm::ES512)
                | (PublicKey::Ed25519(_), Algorithm::EdDSA)
                | (
                    PublicKey::Rsa(_),
                    Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512
                )
        );
        if ok {
            Ok(())
        } else {
            Err(CryptoError::AlgorithmKeyMismatch {
                alg,
                key: self.kind_static(),
            })
        }
    }

    /// Checks a COSE signature (raw `r‖s` for ECDSA; RSA-PSS with salt = hash length, RFC 8230).
    pub fn verify(&self, alg: Algorithm, data: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.check_algorithm(alg)?;
        let bad = || CryptoError::BadSignature {
            alg,
            key: self.kind_static(),
        };
        let malformed =
            |e: &dyn fmt::Display| CryptoError::MalformedSignature(format!("{alg}: {e}"));
        match self {
            PublicKey::P256(k) => {
                let sig =
                    p256::ecdsa::Signature::from_slice(signature).map_err(|e| malformed(&e))?;
                k.verify(data, &sig).map_err(|_| bad())
            }
            PublicKey::P384(k) => {
                let sig =
                    p384::ecdsa::Signature::from_slice(signature).map_err(|e| malformed(&e))?;
                k.verify(data, &sig).map_err(|_| bad())
            }
            PublicKey::P521(k) => {
                let sig =
                    p521::ecdsa::Signature::from_slice(signature).map_err(|e| malformed(&e))?;
                k.verify(data, &sig).map_err(|_| bad())
            }
            PublicKey::Ed25519(k) => {
                let sig =
                    ed25519_dalek::Signature::from_slice(signature).map_err(|e| malformed(&e))?;
                k.verify_strict(data, &sig).map_err(|_| bad())
            }
            PublicKey::Rsa(k) => {
                let sig = rsa::pss::Signature::try_from(signature).map_err(|e| malformed(&e))?;
                let result = match alg {
                    Algorithm::PS256 => {
                        rsa::pss::VerifyingKey::<sha2::Sha256>::new(k.clone()).verify(data, &sig)
                    }
                    Algorithm::PS384 => {
                        rsa::pss::VerifyingKey::<sha2::Sha384>::new(k.clone()).verify(data, &sig)
                    }
                    _ => rsa::pss::VerifyingKey::<sha2::Sha512>::new(k.clone()).verify(data, &sig),
                };
                result.map_err(|_| bad())
            }
        }
    }

    /// Checks an ASN.1 DER ECDSA signature with the curve's own hash (DSSE / Sigstore bundles).
    pub fn verify_der_ecdsa(&self, data: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let malformed =
            |e: &dyn fmt::Display| CryptoError::MalformedSignature(format!("DER ECDSA: {e}"));
        let alg = self.default_algorithm().unwrap_or(Algorithm::ES256);
        let bad = || CryptoError::BadSignature {
            alg,
            key: self.kind_static(),
        };
        match self {
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| malformed(&e))?;
                k.verify(data, &sig).map_err(|_| bad())
            }
            PublicKey::P384(k) => {
                let sig = p384::ecdsa::Signature::from_der(signature).map_err(|e| malformed(&e))?;
                k.verify(data, &sig).map_err(|_| bad())
            }
            PublicKey::P521(k) => {
                let sig = p521::ecdsa::Signature::from_der(signature).map_err(|e| malformed(&e))?;
                k.verify(data, &sig).map_err(|_| bad())
            }
            _ => Err(CryptoError::AlgorithmKeyMismatch {
                alg,
                key: self.kind_static(),
            }),
        }
    }

    /// Reads a single public key from PEM text: SPKI `PUBLIC KEY`, or the first `CERTIFICATE`.
    pub fn from_pem(text: &str) -> Result<Self, CryptoError> {
        let (label, der) = pem_decode_first(text)?;
        match label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "CERTIFICATE" => Self::from_certificate_der(&der),
            other => Err(CryptoError::UnreadableKey(format!(
                "PEM block '{other}' is not a public key (want PUBLIC KEY or CERTIFICATE)"
            ))),
        }
    }

    /// The subject public key of a DER X.509 certificate.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, CryptoError> {
        use der::{Decode, Encode};
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| CryptoError::UnreadableKey(format!("X.509 certificate: {e}")))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| CryptoError::UnreadableKey(format!("certificate key: {e}")))?;
        Self::from_spki_der(&spki)
    }

    /// From one JWK (RFC 7517/7518): EC P-256/384/521, OKP Ed25519, RSA.
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Self, CryptoError> {
        let field = |name: &str| -> Result<Vec<u8>, CryptoError> {
            let text = jwk
                .get(name)
                .and_then(|v| v.as_str())
                .ok_or_else(|| CryptoError::UnreadableKey(format!("JWK has no '{name}'")))?;
            base64url_decode(text)
                .map_err(|e| CryptoError::UnreadableKey(format!("JWK '{name}': {e}")))
        };
        match jwk.get("kty").and_then(|v| v.as_str()) {
            Some("EC") => {
                let crv = jwk.get("crv").and_then(|v| v.as_str()).unwrap_or("");
                Self::from_ec_coordinates(crv, &field("x")?, &field("y")?)
            }
            Some("OKP") if jwk.get("crv").and_then(|v| v.as_str()) == Some("Ed25519") => {
                Self::from_ed25519_bytes(&field("x")?)
            }
            Some("RSA") => Self::from_rsa_components(&field("n")?, &field("e")?),
            other => Err(CryptoError::UnreadableKey(format!(
                "unsupported JWK kty {other:?}"
            ))),
        }
    }
}

/// A public key as found in a file, with the `kid` the file gave it (JWK/JWKS) if any.
#[derive(Clone, Debug)]
pub struct NamedKey {
    /// The JWK's `kid` as bytes (its UTF-8); `None` for PEM keys and certificates.
    pub kid: Option<Vec<u8>>,
    /// The public key read from the file.
    pub key: PublicKey,
}

/// The smallest RSA modulus accepted for verification, in bits (NIST SP 800-131A: shorter keys
/// are no longer safe to trust).
pub const MIN_RSA_BITS: usize = 2048;

/// An RSA key, if its modulus is at least [`MIN_RSA_BITS`].
fn rsa_key(key: rsa::RsaPublicKey) -> Result<PublicKey, CryptoError> {
    use rsa::traits::PublicKeyParts;
    let bits = key.size() * 8;
    if bits < MIN_RSA_BITS {
        return Err(CryptoError::UnreadableKey(format!(
            "an RSA key of {bits} bits: at least {MIN_RSA_BITS} are required"
        )));
    }
    Ok(PublicKey::Rsa(key))
}

/// Reads every public key in a file's bytes: PEM (SPKI keys and/or certificates, several blocks
/// allowed), a JWK, or a JWKS `{"keys": [...]}`. Keys in a JWKS that we cannot use are skipped,
/// as JWKS consumers do; a file with no usable key is an error.
pub fn read_public_keys(bytes: &[u8]) -> Result<Vec<NamedKey>, CryptoError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| CryptoError::UnreadableKey("not PEM or JSON text".into()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| CryptoError::UnreadableKey(format!("JSON: {e}")))?;
        let kid_of = |j: &serde_json::Value| {
            j.get("kid")
                .and_then(|k| k.as_str())
                .map(|s| s.as_bytes().to_vec())
        };
        if let Some(keys) = json.get("keys").and_then(|k| k.as_array()) {
            let found: Vec<NamedKey> = keys
                .iter()
                .filter_map(|j| {
                    PublicKey::from_jwk(j).ok().map(|key| NamedKey {
                        kid: kid_of(j),
                        key,
                    })
                })
                .collect();
            if found.is_empty() {
                return Err(CryptoError::UnreadableKey(
                    "JWKS holds no key this tool can use".into(),
                ));
            }
            return Ok(found);
        }
        return Ok(vec![NamedKey {
            kid: kid_of(&json),
            key: PublicKey::from_jwk(&json)?,
        }]);
    }
    let blocks = pem_decode_all(text)?;
    let mut found = Vec::new();
    for (label, der) in blocks {
        let key = match label.as_str() {
            "PUBLIC KEY" => PublicKey::from_spki_der(&der)?,
            "CERTIFICATE" => PublicKey::from_certificate_der(&der)?,
            _ => continue,
        };
        found.push(NamedKey { kid: None, key });
    }
    if found.is_empty() {
        return Err(CryptoError::UnreadableKey(
            "no PUBLIC KEY or CERTIFICATE block (a private key is not accepted where a public one is wanted)".into(),
        ));
    }
    Ok(found)
}

/// A signing key. Generated keys and PKCS#8 files; ES256, ES384, ES512 and EdDSA.
pub enum PrivateKey {
    /// A P-256 ECDSA key (ES256).
    P256(p256::ecdsa::SigningKey),
    /// A P-384 ECDSA key (ES384).
    P384(p384::ecdsa::SigningKey),
    /// A P-521 ECDSA key (ES512).
    P521(Box<p521::ecdsa::SigningKey>),
    /// An Ed25519 key (EdDSA).
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        write!(f, "PrivateKey({})", self.algorithm())
    }
}

impl PrivateKey {
    /// A fresh key for `alg` from the operating system's random source. Refuses the RSA-PSS
    /// algorithms with [`CryptoError::CannotGenerate`].
    pub fn generate(alg: Algorithm) -> Result<Self, CryptoError> {
        Ok(match alg {
            Algorithm::ES256 => PrivateKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            Algorithm::ES384 => PrivateKey::P384(p384::ecdsa::SigningKey::random(&mut OsRng)),
            Algorithm::ES512 => {
                PrivateKey::P521(Box::new(p521::ecdsa::SigningKey::random(&mut OsRng)))
            }
            Algorithm::EdDSA => {
                PrivateKey::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut OsRng)))
            }
            other => return Err(CryptoError::CannotGenerate(other)),
        })
    }

    /// From PKCS#8 PEM (`BEGIN PRIVATE KEY`), or SEC1 PEM (`BEGIN EC PRIVATE KEY`) as openssl
    /// writes.
    pub fn from_pem(text: &str) -> Result<Self, CryptoError> {
        let (label, der) = pem_decode_first(text)?;
        let der = Zeroizing::new(der);
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => {
                use p256::elliptic_curve::SecretKey;
                if let Ok(k) = SecretKey::<p256::NistP256>::from_sec1_der(&der) {
                    return Ok(PrivateKey::P256(k.into()));
                }
                if let Ok(k) = SecretKey::<p384::NistP384>::from_sec1_der(&der) {
                    return Ok(PrivateKey::P384(k.into()));
                }
                if let Ok(k) = SecretKey::<p521::NistP521>::from_sec1_der(&der) {
                    let sk = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
                        .map_err(|e| CryptoError::UnreadableKey(e.to_string()))?;
                    return Ok(PrivateKey::P521(Box::new(sk)));
                }
                Err(CryptoError::UnreadableKey(
                    "EC private key on an unsupported curve".into(),
                ))
            }
            "ENCRYPTED PRIVATE KEY" => Err(CryptoError::UnreadableKey(
                "encrypted private keys are not supported; decrypt with `openssl pkcs8`".into(),
            )),
            other => Err(CryptoError::UnreadableKey(format!(
                "PEM block '{other}' is not a private key"
            ))),
        }
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::P384(k));
        }
        if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
            let sk = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
                .map_err(|e| CryptoError::UnreadableKey(e.to_string()))?;
            return Ok(PrivateKey::P521(Box::new(sk)));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::Ed25519(Box::new(k)));
        }
        Err(CryptoError::UnreadableKey(
            "PKCS#8 key that is not P-256, P-384, P-521 or Ed25519 (RSA signing is not offered)"
                .into(),
        ))
    }

    /// The key as PKCS#8 PEM (`BEGIN PRIVATE KEY`; RFC 5208, and RFC 8410 v1 for Ed25519 so OpenSSL
    /// reads it), in a string zeroed when dropped.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let pem = match self {
            PrivateKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P384(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P521(k) => p521::SecretKey::from_bytes(&k.to_bytes())
                .expect("a signing key is a valid scalar")
                .to_pkcs8_pem(LineEnding::LF),
            // PKCS#8 v1 (RFC 8410 without the optional public key): OpenSSL and Python
            // `cryptography` refuse the v2 form ed25519-dalek writes by default.
            PrivateKey::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF),
        };
        pem.expect("encoding a valid private key cannot fail")
    }

    /// The algorithm this key signs with: ES256, ES384, ES512 or EdDSA.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::P256(_) => Algorithm::ES256,
            PrivateKey::P384(_) => Algorithm::ES384,
            PrivateKey::P521(_) => Algorithm::ES512,
            PrivateKey::Ed25519(_) => Algorithm::EdDSA,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            PrivateKey::P521(k) => {
                PublicKey::P521(Box::new(p521::ecdsa::VerifyingKey::from(k.as_ref())))
            }
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// A COSE signature over `data` (raw `r‖s` for ECDSA, deterministic RFC 6979 nonces).
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::P256(k) => Signer::<p256::ecdsa::Signature>::sign(k, data).to_vec(),
            PrivateKey::P384(k) => Signer::<p384::ecdsa::Signature>::sign(k, data).to_vec(),
            PrivateKey::P521(k) => {
                Signer::<p521::ecdsa::Signature>::sign(k.as_ref(), data).to_vec()
            }
            PrivateKey::Ed25519(k) => k.sign(data).to_vec(),
        }
    }

    /// An ASN.1 DER ECDSA signature (DSSE / Sigstore bundles). `None` for Ed25519.
    pub fn sign_der(&self, data: &[u8]) -> Option<Vec<u8>> {
        Some(match self {
            PrivateKey::P256(k) => Signer::<p256::ecdsa::Signature>::sign(k, data)
                .to_der()
                .as_bytes()
                .to_vec(),
            PrivateKey::P384(k) => Signer::<p384::ecdsa::Signature>::sign(k, data)
                .to_der()
                .as_bytes()
                .to_vec(),
            PrivateKey::P521(k) => Signer::<p521::ecdsa::Signature>::sign(k.as_ref(), data)
                .to_der()
                .as_bytes()
                .to_vec(),
            PrivateKey::Ed25519(_) => return None,
        })
    }
}

const OID_P256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

fn const_oid_ec_public_key() -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1")
}

fn pem_decode_first(text: &str) -> Result<(String, Vec<u8>), CryptoError> {
    pem_decode_all(text)?
        .into_iter()
        .next()
        .ok_or_else(|| CryptoError::UnreadableKey("no PEM block found".into()))
}

/// Every `-----BEGIN X-----` block of a PEM file, in order (openssl allows text between blocks).
pub fn pem_decode_all(text: &str) -> Result<Vec<(String, Vec<u8>)>, CryptoError> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| CryptoError::UnreadableKey("truncated PEM header".into()))?;
        let label = after[..label_end].to_string();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body_start.find(&end_marker).ok_or_else(|| {
            CryptoError::UnreadableKey(format!("PEM block '{label}' has no END line"))
        })?;
        let b64: String = body_start[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| CryptoError::UnreadableKey(format!("PEM block '{label}': {e}")))?;
        out.push((label, der));
        rest = &body_start[end + end_marker.len()..];
    }
    Ok(out)
}

/// Encodes `der` as one PEM block (RFC 7468) with `label` (`CERTIFICATE`, `PUBLIC KEY`): base64 in
/// 64-column lines, ending in a newline.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn base64url_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim_end_matches('='))
}

// ---- X.509 certificate signatures ----

/// Hash functions an X.509 signature algorithm may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CertHash {
    Sha256,
    Sha384,
    Sha512,
}

impl CertHash {
    fn from_oid(oid: &der::asn1::ObjectIdentifier) -> Option<Self> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(CertHash::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(CertHash::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(CertHash::Sha512),
            _ => None,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            CertHash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            CertHash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            CertHash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// Checks a certificate's (or CRL's) signature over `tbs_der` by the issuer's key, for the
/// algorithms CAs use: RSA PKCS#1 v1.5 and RSASSA-PSS, ECDSA (the hash named by the algorithm,
/// not the curve's default), Ed25519.
pub fn verify_certificate_signature(
    issuer_key: &PublicKey,
    algorithm: &spki::AlgorithmIdentifierOwned,
    tbs_der: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    use ecdsa::signature::hazmat::PrehashVerifier;
    let oid = algorithm.oid.to_string();
    let unsupported = || {
        CryptoError::MalformedSignature(format!(
            "unsupported certificate signature algorithm {oid}"
        ))
    };
    let (family, hash) = match oid.as_str() {
        "1.2.840.113549.1.1.11" => ("pkcs1", CertHash::Sha256),
        "1.2.840.113549.1.1.12" => ("pkcs1", CertHash::Sha384),
        "1.2.840.113549.1.1.13" => ("pkcs1", CertHash::Sha512),
        "1.2.840.10045.4.3.2" => ("ecdsa", CertHash::Sha256),
        "1.2.840.10045.4.3.3" => ("ecdsa", CertHash::Sha384),
        "1.2.840.10045.4.3.4" => ("ecdsa", CertHash::Sha512),
        "1.3.101.112" => ("ed25519", CertHash::Sha512),
        "1.2.840.113549.1.1.10" => ("pss", CertHash::Sha256), // hash: from the parameters
        _ => return Err(unsupported()),
    };
    // The nearest COSE name, for the message (PKCS#1 v1.5 has none: its RSA hash size is shown).
    let alg = match (family, hash) {
        ("ecdsa", CertHash::Sha256) => Algorithm::ES256,
        ("ecdsa", CertHash::Sha384) => Algorithm::ES384,
        ("ecdsa", _) => Algorithm::ES512,
        ("ed25519", _) => Algorithm::EdDSA,
        (_, CertHash::Sha256) => Algorithm::PS256,
        (_, CertHash::Sha384) => Algorithm::PS384,
        (_, CertHash::Sha512) => Algorithm::PS512,
    };
    let bad = || CryptoError::BadSignature {
        alg,
        key: issuer_key.kind_static(),
    };
    match (family, issuer_key) {
        ("pkcs1", PublicKey::Rsa(k)) => {
            let scheme = match hash {
                CertHash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                CertHash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                CertHash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            };
            k.verify(scheme, &hash.digest(tbs_der), signature)
                .map_err(|_| bad())
        }
        ("pss", PublicKey::Rsa(k)) => {
            use der::{Decode, Encode};
            let params = algorithm.parameters.as_ref().ok_or_else(unsupported)?;
            let params_der = params.to_der().map_err(|_| unsupported())?;
            let pss = rsa::pkcs1::RsaPssParams::from_der(&params_der).map_err(|_| unsupported())?;
            let hash = CertHash::from_oid(&pss.hash.oid).ok_or_else(unsupported)?;
            let salt = pss.salt_len as usize;
            let (scheme, alg) = match hash {
                CertHash::Sha256 => (
                    rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                    Algorithm::PS256,
                ),
                CertHash::Sha384 => (
                    rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
                    Algorithm::PS384,
                ),
                CertHash::Sha512 => (
                    rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
                    Algorithm::PS512,
                ),
            };
            k.verify(scheme, &hash.digest(tbs_der), signature)
                .map_err(|_| CryptoError::BadSignature {
                    alg,
                    key: issuer_key.kind_static(),
                })
        }
        ("ecdsa", key) => {
            let prehash = hash.digest(tbs_der);
            let malformed =
                |e: &dyn fmt::Display| CryptoError::MalformedSignature(format!("DER ECDSA: {e}"));
            match key {
                PublicKey::P256(k) => {
                    let sig =
                        p256::ecdsa::Signature::from_der(signature).map_err(|e| malformed(&e))?;
                    k.verify_prehash(&prehash, &sig).map_err(|_| bad())
                }
                PublicKey::P384(k) => {
                    let sig =
                        p384::ecdsa::Signature::from_der(signature).map_err(|e| malformed(&e))?;
                    k.verify_prehash(&prehash, &sig).map_err(|_| bad())
                }
                PublicKey::P521(k) => {
                    let sig =
                        p521::ecdsa::Signature::from_der(signature).map_err(|e| malformed(&e))?;
                    k.verify_prehash(&prehash, &sig).map_err(|_| bad())
                }
                _ => Err(unsupported()),
            }
        }
        ("ed25519", PublicKey::Ed25519(_)) => {
            issuer_key.verify(Algorithm::EdDSA, tbs_der, signature)
        }
        _ => Err(CryptoError::MalformedSignature(format!(
            "certificate signature algorithm {oid} does not fit the issuer's {} key",
            issuer_key.kind()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_keys_shorter_than_2048_bits_are_refused() {
        use rsa::pkcs8::EncodePublicKey;
        use rsa::traits::PublicKeyParts;
        let short = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        let der = short.to_public_key().to_public_key_der().unwrap();
        let err = PublicKey::from_spki_der(der.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("1024 bits"), "{err}");
        let public = short.to_public_key();
        let (n, e) = (public.n().to_bytes_be(), public.e().to_bytes_be());
        assert!(PublicKey::from_rsa_components(&n, &e).is_err());
    }

    #[test]
    fn every_generated_key_signs_and_verifies_and_rejects_a_changed_message() {
        for alg in [
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::ES512,
            Algorithm::EdDSA,
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            let sig = key.sign(b"statement");
            let public = key.public_key();
            public.verify(alg, b"statement", &sig).unwrap();
            assert!(matches!(
                public.verify(alg, b"statemenT", &sig),
                Err(CryptoError::BadSignature { .. })
            ));
            // PEM round trips keep the key.
            let again = PrivateKey::from_pem(&key.to_pkcs8_pem()).unwrap();
            assert_eq!(again.public_key(), public);
            assert_eq!(PublicKey::from_pem(&public.to_spki_pem()).unwrap(), public);
        }
    }

    #[test]
    fn generated_ed25519_keys_are_pkcs8_v1_that_openssl_reads() {
        let key = PrivateKey::generate(Algorithm::EdDSA).unwrap();
        let pem = key.to_pkcs8_pem();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, pem.as_bytes()).unwrap();
        if let Ok(out) = std::process::Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&path)
            .output()
        {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                PublicKey::from_pem(&String::from_utf8(out.stdout).unwrap()).unwrap(),
                key.public_key()
            );
        }
        assert_eq!(
            PrivateKey::from_pem(&pem).unwrap().public_key(),
            key.public_key()
        );
    }

    #[test]
    fn a_key_refuses_an_algorithm_of_another_family() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let sig = key.sign(b"x");
        assert!(matches!(
            key.public_key().verify(Algorithm::ES384, b"x", &sig),
            Err(CryptoError::AlgorithmKeyMismatch { .. })
        ));
    }

    #[test]
    fn der_signatures_for_dsse_verify() {
        let key = PrivateKey::generate(Algorithm::ES384).unwrap();
        let sig = key.sign_der(b"pae").unwrap();
        key.public_key().verify_der_ecdsa(b"pae", &sig).unwrap();
        assert!(key.public_key().verify_der_ecdsa(b"pae!", &sig).is_err());
    }

    #[test]
    fn jwks_keys_keep_their_kid_and_ec_coordinates_round_trip() {
        use base64::Engine;
        let key = PrivateKey::generate(Algorithm::ES256).unwrap().public_key();
        let (x, y) = key.ec_coordinates().unwrap();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwks = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64(&x), "y": b64(&y)}
        ]});
        let keys = read_public_keys(jwks.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some(&b"k1"[..]));
        assert_eq!(keys[0].key, key);
    }

    #[test]
    fn the_model_signing_vector_key_reads_from_pem() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/model-signing/01-files-key"
        );
        let private = PrivateKey::from_pem(
            &std::fs::read_to_string(format!("{dir}/private_key.pem")).unwrap(),
        )
        .unwrap();
        let public =
            PublicKey::from_pem(&std::fs::read_to_string(format!("{dir}/public_key.pem")).unwrap())
                .unwrap();
        assert_eq!(private.public_key(), public);
    }
}
