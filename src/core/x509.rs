//! X.509 for SCITT statements signed under a certificate chain (x5chain, RFC 9360): chain
//! validation at a given time, `did:x509` issuer resolution (github.com/microsoft/did-x509), and
//! certificate summaries for `print-cose`.
//!
//! Time is a parameter, never "now" implicitly: SCITT checks certificates at the time the
//! statement was made or registered — the real Microsoft statement's leaf expired after it was
//! logged. Revocation is not checked (no network in the core).

use crate::core::crypto::{PublicKey, verify_certificate_signature};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

#[derive(Debug, thiserror::Error)]
pub enum X509Error {
    #[error("certificate {index} is unreadable: {reason}")]
    Unreadable { index: usize, reason: String },
    #[error("the x5chain is empty")]
    EmptyChain,
    #[error(
        "certificate {index} ({name}) is not valid at {at}: valid from {not_before} to {not_after}"
    )]
    NotValidAt {
        index: usize,
        name: String,
        at: String,
        not_before: String,
        not_after: String,
    },
    #[error("certificate {index} ({name}): signature by {issuer} does not verify: {reason}")]
    BadSignature {
        index: usize,
        name: String,
        issuer: String,
        reason: String,
    },
    #[error(
        "certificate {index} ({name}) names issuer {expected}, but the next certificate is {found}"
    )]
    NameMismatch {
        index: usize,
        name: String,
        expected: String,
        found: String,
    },
    #[error("certificate {index} ({name}) signs certificates but is not a CA: {reason}")]
    NotCa {
        index: usize,
        name: String,
        reason: String,
    },
    #[error(
        "the chain does not lead to a trusted root: certificate {index} ({name}) is issued by {issuer}, which is not among the {roots} trusted root(s)"
    )]
    UntrustedRoot {
        index: usize,
        name: String,
        issuer: String,
        roots: usize,
    },
    #[error("malformed did:x509 '{did}': {reason}")]
    DidMalformed { did: String, reason: String },
    #[error("did:x509 fingerprint {fingerprint} ({alg}) matches no CA certificate of the x5chain")]
    DidFingerprint { alg: String, fingerprint: String },
    #[error("did:x509 policy {policy} is not met by the leaf: expected {expected}, found {found}")]
    DidPolicy {
        policy: String,
        expected: String,
        found: String,
    },
}

/// What `print-cose` and error messages show about a certificate.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub serial_hex: String,
    pub not_before: i64,
    pub not_after: i64,
    pub sha256_hex: String,
    pub key: String,
    pub is_ca: bool,
    pub ekus: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct VerifiedChain {
    pub leaf_key: PublicKey,
    pub root_sha256_hex: String,
    pub checked_at: i64,
}

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
/// Fulcio's OIDC issuer extension (v1: raw string; v2 .8: DER UTF8String).
const OID_FULCIO_ISSUER: &str = "1.3.6.1.4.1.57264.1.1";
const OID_FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

struct Parsed {
    der: Vec<u8>,
    cert: Certificate,
}

impl Parsed {
    fn new(index: usize, der: &[u8]) -> Result<Self, X509Error> {
        let cert = Certificate::from_der(der).map_err(|e| X509Error::Unreadable {
            index,
            reason: e.to_string(),
        })?;
        Ok(Parsed {
            der: der.to_vec(),
            cert,
        })
    }

    fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    fn short_name(&self) -> String {
        attribute(&self.cert.tbs_certificate.subject, "2.5.4.3").unwrap_or_else(|| self.subject())
    }

    fn validity(&self) -> (i64, i64) {
        let v = &self.cert.tbs_certificate.validity;
        (
            v.not_before.to_unix_duration().as_secs() as i64,
            v.not_after.to_unix_duration().as_secs() as i64,
        )
    }

    fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    fn basic_constraints(&self) -> Option<x509_cert::ext::pkix::BasicConstraints> {
        self.extension(OID_BASIC_CONSTRAINTS)
            .and_then(|b| x509_cert::ext::pkix::BasicConstraints::from_der(b).ok())
    }

    fn ekus(&self) -> Vec<String> {
        self.extension(OID_EXT_KEY_USAGE)
            .and_then(|b| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(b).ok())
            .map(|eku| eku.0.iter().map(ObjectIdentifier::to_string).collect())
            .unwrap_or_default()
    }

    fn key(&self, index: usize) -> Result<PublicKey, X509Error> {
        PublicKey::from_certificate_der(&self.der).map_err(|e| X509Error::Unreadable {
            index,
            reason: e.to_string(),
        })
    }

    /// Checks that `self` (at `index`) was signed by `issuer`.
    fn check_signed_by(&self, index: usize, issuer: &Parsed) -> Result<(), X509Error> {
        let bad = |reason: String| X509Error::BadSignature {
            index,
            name: self.short_name(),
            issuer: issuer.short_name(),
            reason,
        };
        let tbs = self
            .cert
            .tbs_certificate
            .to_der()
            .map_err(|e| bad(e.to_string()))?;
        let key = issuer.key(index + 1)?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| bad("signature has unused bits".into()))?;
        verify_certificate_signature(&key, &self.cert.signature_algorithm, &tbs, sig)
            .map_err(|e| bad(e.to_string()))
    }

    fn check_valid_at(&self, index: usize, at: i64) -> Result<(), X509Error> {
        let (from, to) = self.validity();
        if at < from || at > to {
            return Err(X509Error::NotValidAt {
                index,
                name: self.short_name(),
                at: format_unix_time(at),
                not_before: format_unix_time(from),
                not_after: format_unix_time(to),
            });
        }
        Ok(())
    }

    /// A certificate that signs others must say it is a CA (RFC 5280 §4.2.1.9, §4.2.1.3).
    fn check_ca(&self, index: usize, cas_below: usize) -> Result<(), X509Error> {
        let not_ca = |reason: &str| X509Error::NotCa {
            index,
            name: self.short_name(),
            reason: reason.into(),
        };
        let bc = self
            .basic_constraints()
            .ok_or_else(|| not_ca("no basicConstraints"))?;
        if !bc.ca {
            return Err(not_ca("basicConstraints cA is false"));
        }
        if let Some(limit) = bc.path_len_constraint {
            if cas_below > limit as usize {
                return Err(not_ca(&format!(
                    "pathLenConstraint {limit} allows fewer CAs below it than {cas_below}"
                )));
            }
        }
        if let Some(ku) = self
            .extension(OID_KEY_USAGE)
            .and_then(|b| x509_cert::ext::pkix::KeyUsage::from_der(b).ok())
        {
            if !ku.key_cert_sign() {
                return Err(not_ca("keyUsage lacks keyCertSign"));
            }
        }
        Ok(())
    }
}

/// A text attribute (by OID) of a distinguished name.
fn attribute(name: &x509_cert::name::Name, oid: &str) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid.to_string() == oid)
        .and_then(|atv| {
            use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
            atv.value
                .decode_as::<Utf8StringRef>()
                .map(|s| s.to_string())
                .or_else(|_| {
                    atv.value
                        .decode_as::<PrintableStringRef>()
                        .map(|s| s.to_string())
                })
                .or_else(|_| atv.value.decode_as::<Ia5StringRef>().map(|s| s.to_string()))
                .ok()
        })
}

pub fn summarize(cert_der: &[u8]) -> Result<CertSummary, X509Error> {
    let p = Parsed::new(0, cert_der)?;
    let (not_before, not_after) = p.validity();
    Ok(CertSummary {
        subject: p.subject(),
        issuer: p.cert.tbs_certificate.issuer.to_string(),
        serial_hex: hex::encode(p.cert.tbs_certificate.serial_number.as_bytes()),
        not_before,
        not_after,
        sha256_hex: hex::encode(Sha256::digest(cert_der)),
        key: p.key(0).map(|k| k.kind()).unwrap_or_else(|e| e.to_string()),
        is_ca: p.basic_constraints().is_some_and(|bc| bc.ca),
        ekus: p.ekus(),
    })
}

/// Checks that `chain` (leaf first) links up to one of `trusted_roots`, every certificate valid
/// at `at` (unix seconds). Returns the leaf's key.
pub fn verify_chain(
    chain: &[Vec<u8>],
    trusted_roots: &[Vec<u8>],
    at: i64,
) -> Result<VerifiedChain, X509Error> {
    if chain.is_empty() {
        return Err(X509Error::EmptyChain);
    }
    let certs = chain
        .iter()
        .enumerate()
        .map(|(i, d)| Parsed::new(i, d))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, c) in certs.iter().enumerate() {
        c.check_valid_at(i, at)?;
    }
    let last = certs.len() - 1;
    // The chain must reach a trusted root before (or at) its end: a trusted certificate anywhere
    // in it is an anchor, and nothing above it needs checking.
    let anchor_in_chain = certs.iter().position(|c| trusted_roots.contains(&c.der));
    let top = anchor_in_chain.unwrap_or(last);
    for i in 0..top {
        let (cert, issuer) = (&certs[i], &certs[i + 1]);
        if cert.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(X509Error::NameMismatch {
                index: i,
                name: cert.short_name(),
                expected: cert.cert.tbs_certificate.issuer.to_string(),
                found: issuer.subject(),
            });
        }
        issuer.check_ca(i + 1, i)?;
        cert.check_signed_by(i, issuer)?;
    }
    let anchor_der = match anchor_in_chain {
        Some(i) => certs[i].der.clone(),
        None => {
            let top_cert = &certs[last];
            let roots = trusted_roots
                .iter()
                .enumerate()
                .filter_map(|(i, d)| Parsed::new(i, d).ok());
            let mut found = None;
            for root in roots {
                if root.cert.tbs_certificate.subject == top_cert.cert.tbs_certificate.issuer
                    && top_cert.check_signed_by(last, &root).is_ok()
                    && root.check_valid_at(last + 1, at).is_ok()
                    && root.check_ca(last + 1, last).is_ok()
                {
                    found = Some(root.der);
                    break;
                }
            }
            found.ok_or_else(|| X509Error::UntrustedRoot {
                index: last,
                name: top_cert.short_name(),
                issuer: top_cert.cert.tbs_certificate.issuer.to_string(),
                roots: trusted_roots.len(),
            })?
        }
    };
    Ok(VerifiedChain {
        leaf_key: certs[0].key(0)?,
        root_sha256_hex: hex::encode(Sha256::digest(&anchor_der)),
        checked_at: at,
    })
}

/// Resolves a `did:x509` issuer against an x5chain: the fingerprint must be that of a CA
/// certificate in the chain (any but the leaf), and each policy must hold for the leaf.
/// Signatures and validity are `verify_chain`'s job.
pub fn resolve_did_x509(did: &str, chain: &[Vec<u8>]) -> Result<(), X509Error> {
    let malformed = |reason: &str| X509Error::DidMalformed {
        did: did.into(),
        reason: reason.into(),
    };
    if chain.is_empty() {
        return Err(X509Error::EmptyChain);
    }
    let mut parts = did.split("::");
    let head = parts.next().unwrap_or_default();
    let head: Vec<&str> = head.split(':').collect();
    let ["did", "x509", "0", alg, fingerprint] = head.as_slice() else {
        return Err(malformed(
            "want did:x509:0:<alg>:<fingerprint>::<policy>...",
        ));
    };
    let wanted =
        base64_url(fingerprint).ok_or_else(|| malformed("fingerprint is not base64url"))?;
    let digest = |der: &[u8]| -> Option<Vec<u8>> {
        Some(match *alg {
            "sha256" => Sha256::digest(der).to_vec(),
            "sha384" => Sha384::digest(der).to_vec(),
            "sha512" => Sha512::digest(der).to_vec(),
            _ => return None,
        })
    };
    if digest(b"").is_none() {
        return Err(malformed(
            "fingerprint algorithm must be sha256, sha384 or sha512",
        ));
    }
    if !chain[1..]
        .iter()
        .any(|der| digest(der).as_deref() == Some(wanted.as_slice()))
    {
        return Err(X509Error::DidFingerprint {
            alg: alg.to_string(),
            fingerprint: fingerprint.to_string(),
        });
    }
    let leaf = Parsed::new(0, &chain[0])?;
    let mut policies = 0;
    for policy in parts {
        policies += 1;
        let (name, value) = policy
            .split_once(':')
            .ok_or_else(|| malformed("a policy has no value"))?;
        check_policy(&leaf, name, value).map_err(|e| match e {
            PolicyError::Malformed(reason) => malformed(&reason),
            PolicyError::Unmet { expected, found } => X509Error::DidPolicy {
                policy: name.into(),
                expected,
                found,
            },
        })?;
    }
    if policies == 0 {
        return Err(malformed("no policy (did:x509 needs at least one)"));
    }
    Ok(())
}

enum PolicyError {
    Malformed(String),
    Unmet { expected: String, found: String },
}

fn check_policy(leaf: &Parsed, name: &str, value: &str) -> Result<(), PolicyError> {
    let unmet = |expected: String, found: String| Err(PolicyError::Unmet { expected, found });
    match name {
        "eku" => {
            let ekus = leaf.ekus();
            if ekus.iter().any(|e| e == value) {
                Ok(())
            } else {
                unmet(value.into(), format!("{ekus:?}"))
            }
        }
        "subject" => {
            let fields: Vec<&str> = value.split(':').collect();
            if fields.len() % 2 != 0 || fields.is_empty() {
                return Err(PolicyError::Malformed(
                    "subject policy wants key:value pairs".into(),
                ));
            }
            for pair in fields.chunks(2) {
                let oid = match pair[0] {
                    "CN" => "2.5.4.3",
                    "C" => "2.5.4.6",
                    "L" => "2.5.4.7",
                    "ST" => "2.5.4.8",
                    "STREET" => "2.5.4.9",
                    "O" => "2.5.4.10",
                    "OU" => "2.5.4.11",
                    other if other.contains('.') => other,
                    other => {
                        return Err(PolicyError::Malformed(format!(
                            "unknown subject key {other}"
                        )));
                    }
                };
                let want = percent_decode(pair[1])
                    .ok_or_else(|| PolicyError::Malformed("bad percent-encoding".into()))?;
                let found = attribute(&leaf.cert.tbs_certificate.subject, oid);
                if found.as_deref() != Some(want.as_str()) {
                    return unmet(
                        format!("{}={want}", pair[0]),
                        found.unwrap_or_else(|| "nothing".into()),
                    );
                }
            }
            Ok(())
        }
        "san" => {
            let (kind, want) = value
                .split_once(':')
                .ok_or_else(|| PolicyError::Malformed("san wants type:value".into()))?;
            let want = percent_decode(want)
                .ok_or_else(|| PolicyError::Malformed("bad percent-encoding".into()))?;
            let sans = leaf
                .extension(OID_SUBJECT_ALT_NAME)
                .and_then(|b| x509_cert::ext::pkix::SubjectAltName::from_der(b).ok())
                .map(|s| s.0)
                .unwrap_or_default();
            use x509_cert::ext::pkix::name::GeneralName;
            let found: Vec<String> = sans
                .iter()
                .filter_map(|g| match (kind, g) {
                    ("email", GeneralName::Rfc822Name(s)) => Some(s.to_string()),
                    ("dns", GeneralName::DnsName(s)) => Some(s.to_string()),
                    ("uri", GeneralName::UniformResourceIdentifier(s)) => Some(s.to_string()),
                    _ => None,
                })
                .collect();
            if found.contains(&want) {
                Ok(())
            } else {
                unmet(format!("{kind}:{want}"), format!("{found:?}"))
            }
        }
        "fulcio-issuer" => {
            let want = format!(
                "https://{}",
                percent_decode(value)
                    .ok_or_else(|| PolicyError::Malformed("bad percent-encoding".into()))?
            );
            let found = leaf
                .extension(OID_FULCIO_ISSUER_V2)
                .and_then(|b| {
                    der::asn1::Utf8StringRef::from_der(b)
                        .ok()
                        .map(|s| s.to_string())
                })
                .or_else(|| {
                    leaf.extension(OID_FULCIO_ISSUER)
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                });
            if found.as_deref() == Some(want.as_str()) {
                Ok(())
            } else {
                unmet(want, found.unwrap_or_else(|| "nothing".into()))
            }
        }
        other => Err(PolicyError::Malformed(format!("unknown policy {other}"))),
    }
}

fn base64_url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// RFC 3339 in UTC, e.g. `2025-06-19T22:05:39Z` (civil-from-days, H. Hinnant's algorithm).
pub fn format_unix_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cose::Sign1;

    const IAT: i64 = 1_750_370_739;

    fn statement() -> Sign1 {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/scitt-for-phi/signed-statement.scitt"
        );
        Sign1::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_microsoft_chain_verifies_at_the_statement_time_and_its_leaf_signed_the_statement() {
        let s = statement();
        let chain = s.x5chain().unwrap();
        let verified = verify_chain(&chain, &[chain[2].clone()], IAT).unwrap();
        s.verify_signature(&verified.leaf_key, None).unwrap();
        assert_eq!(
            verified.root_sha256_hex,
            hex::encode(Sha256::digest(&chain[2]))
        );
        // The root alone, outside the chain, works the same.
        let verified = verify_chain(&chain[..2], &[chain[2].clone()], IAT).unwrap();
        assert_eq!(
            verified.leaf_key,
            PublicKey::from_certificate_der(&chain[0]).unwrap()
        );
    }

    #[test]
    fn the_expired_leaf_fails_when_checked_now_and_says_so() {
        let chain = statement().x5chain().unwrap();
        let err = verify_chain(&chain, &[chain[2].clone()], 1_795_000_000).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, X509Error::NotValidAt { index: 0, .. }),
            "{msg}"
        );
        assert!(
            msg.contains("Microsoft SCD Products RSA Signing") && msg.contains("2026-02-18"),
            "{msg}"
        );
    }

    #[test]
    fn a_chain_to_an_untrusted_root_is_refused() {
        let chain = statement().x5chain().unwrap();
        let stranger = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/scitt-for-phi/ccf-service-key.pem"
        ))
        .unwrap();
        let err = verify_chain(&chain, &[stranger], IAT).unwrap_err();
        assert!(matches!(err, X509Error::UntrustedRoot { .. }), "{err}");
        assert!(matches!(
            verify_chain(&chain, &[], IAT),
            Err(X509Error::UntrustedRoot { .. })
        ));
        // Pinning the intermediate trusts what it issued.
        verify_chain(&chain, &[chain[1].clone()], IAT).unwrap();
    }

    #[test]
    fn a_tampered_certificate_breaks_the_chain() {
        let mut chain = statement().x5chain().unwrap();
        let n = chain[0].len();
        chain[0][n - 300] ^= 0x01; // inside the leaf's key or extensions: its signature fails
        let err = verify_chain(&chain, &[chain[2].clone()], IAT).unwrap_err();
        assert!(
            matches!(
                err,
                X509Error::BadSignature { index: 0, .. } | X509Error::Unreadable { .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn the_real_did_x509_issuer_resolves_and_altered_ones_do_not() {
        let s = statement();
        let chain = s.x5chain().unwrap();
        let iss = s.claims().unwrap().iss.unwrap();
        resolve_did_x509(&iss, &chain).unwrap();
        let fp = iss.split(':').nth(4).unwrap().to_string();
        let mut other_fp = fp.clone().into_bytes();
        other_fp[0] = if other_fp[0] == b'A' { b'B' } else { b'A' };
        let altered = iss.replace(&fp, std::str::from_utf8(&other_fp).unwrap());
        assert!(matches!(
            resolve_did_x509(&altered, &chain),
            Err(X509Error::DidFingerprint { .. })
        ));
        let wrong_eku = iss.replace("1.3.6.1.4.1.311.76.59.1.1", "1.3.6.1.5.5.7.3.3");
        assert!(matches!(
            resolve_did_x509(&wrong_eku, &chain),
            Err(X509Error::DidPolicy { .. })
        ));
        let subject = format!(
            "{}::subject:CN:Someone%20Else",
            iss.split("::").next().unwrap()
        );
        assert!(matches!(
            resolve_did_x509(&subject, &chain),
            Err(X509Error::DidPolicy { .. })
        ));
        let right_subject = format!(
            "{}::subject:O:Microsoft%20Corporation:C:US",
            iss.split("::").next().unwrap()
        );
        resolve_did_x509(&right_subject, &chain).unwrap();
        use base64::Engine;
        let fp384 =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha384::digest(&chain[2]));
        resolve_did_x509(
            &format!("did:x509:0:sha384:{fp384}::eku:1.3.6.1.4.1.311.76.59.1.1"),
            &chain,
        )
        .unwrap();
        for bad in [
            "did:x509:0:sha256",
            "did:web:example.com",
            "did:x509:0:md5:AAAA::eku:1.2",
            &format!("did:x509:0:sha256:{fp}"),
        ] {
            assert!(resolve_did_x509(bad, &chain).is_err(), "{bad}");
        }
    }

    #[test]
    fn summaries_name_subject_issuer_validity_and_role() {
        let chain = statement().x5chain().unwrap();
        let leaf = summarize(&chain[0]).unwrap();
        assert!(
            leaf.subject
                .contains("CN=Microsoft SCD Products RSA Signing"),
            "{}",
            leaf.subject
        );
        assert_eq!(format_unix_time(leaf.not_after), "2026-02-18T20:45:46Z");
        assert!(!leaf.is_ca);
        assert_eq!(leaf.ekus, vec!["1.3.6.1.4.1.311.76.59.1.1"]);
        assert_eq!(leaf.key, "RSA-3072");
        let root = summarize(&chain[2]).unwrap();
        assert!(root.is_ca && root.subject == root.issuer);
    }

    #[test]
    fn times_format_as_rfc3339_utc() {
        assert_eq!(format_unix_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix_time(IAT), "2025-06-19T22:05:39Z");
        assert_eq!(format_unix_time(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn garbage_and_truncated_certificates_are_errors() {
        let chain = statement().x5chain().unwrap();
        assert!(summarize(b"not a certificate").is_err());
        assert!(summarize(&chain[0][..100]).is_err());
        assert!(matches!(
            verify_chain(&[], &[], IAT),
            Err(X509Error::EmptyChain)
        ));
        assert!(verify_chain(&[chain[0][..50].to_vec()], &[chain[2].clone()], IAT).is_err());
    }
}
