//! X.509 for SCITT statements signed under a certificate chain (x5chain, RFC 9360): chain
//! validation at a given time, `did:x509` issuer resolution (github.com/microsoft/did-x509), and
//! certificate summaries for `print-cose`.
//!
//! Time is a parameter, never "now" implicitly: SCITT checks certificates at the time the
//! statement was made or registered — the real Microsoft statement's leaf expired after it was
//! logged. Revocation is not checked (no network in the core).

use crate::core::crypto::{CryptoError, PublicKey, pem_decode_all, verify_certificate_signature};
use der::Decode;
use der::asn1::ObjectIdentifier;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

mod names;

/// Why an x5chain did not validate, or a `did:x509` did not resolve against it. `index` counts
/// certificates from the leaf (0); a trusted root outside the chain is `chain.len()`.
#[derive(Debug, thiserror::Error)]
pub enum X509Error {
    /// A certificate is not DER X.509 (RFC 5280), or its key is not one modelseal reads.
    #[error("certificate {index} is unreadable: {reason}")]
    Unreadable {
        /// Position of the certificate, leaf = 0.
        index: usize,
        /// The parse error.
        reason: String,
    },
    /// No certificate was given.
    #[error("the x5chain is empty")]
    EmptyChain,
    /// A certificate's validity period (notBefore..=notAfter) does not contain the time judged at.
    #[error("certificate {index} ({name}) {state} at {at}: valid from {not_before} to {not_after}")]
    NotValidAt {
        /// Position of the certificate, leaf = 0.
        index: usize,
        /// The certificate's subject, shortened (its CN when it has one).
        name: String,
        /// "had expired" or "was not yet valid".
        state: &'static str,
        /// The time judged at, RFC 3339 UTC.
        at: String,
        /// notBefore, RFC 3339 UTC.
        not_before: String,
        /// notAfter, RFC 3339 UTC.
        not_after: String,
    },
    /// A certificate's signature does not verify with the next certificate's (or the root's) key.
    #[error("certificate {index} ({name}): signature by {issuer} does not verify: {reason}")]
    BadSignature {
        /// Position of the signed certificate, leaf = 0.
        index: usize,
        /// The signed certificate's short subject.
        name: String,
        /// The would-be issuer's short subject.
        issuer: String,
        /// The crypto error, or the unsupported signature algorithm.
        reason: String,
    },
    /// A certificate's issuer name is not the subject of the next certificate in the chain.
    #[error(
        "certificate {index} ({name}) names issuer {expected}, but the next certificate is {found}"
    )]
    NameMismatch {
        /// Position of the certificate whose issuer does not match, leaf = 0.
        index: usize,
        /// Its short subject.
        name: String,
        /// The issuer name it carries.
        expected: String,
        /// The subject of the certificate that follows it.
        found: String,
    },
    /// A certificate carries a critical extension modelseal does not process, or an extension it
    /// relies on cannot be read, or a leaf whose keyUsage does not allow signing (RFC 5280 §4.2).
    #[error("certificate {index} ({name}): {reason}")]
    Extension {
        /// Position of the certificate, leaf = 0.
        index: usize,
        /// Its subject's common name, or the whole subject.
        name: String,
        /// What is wrong with its extensions.
        reason: String,
    },
    /// A certificate in the path carries a name outside what a CA above it may vouch for (its
    /// nameConstraints, RFC 5280 §4.2.1.10), or one that cannot be checked against them.
    #[error(
        "certificate {index} ({name}) is outside the names certificate {ca_index} ({ca_name}) may vouch for: {reason}"
    )]
    NameConstraint {
        /// Position of the constrained certificate, leaf = 0.
        index: usize,
        /// Its short subject.
        name: String,
        /// Position of the CA whose constraints it breaks (a trusted root outside the chain is
        /// `chain.len()`).
        ca_index: usize,
        /// The CA's short subject.
        ca_name: String,
        /// Which name, and which subtree it falls outside (or inside, for an excluded one).
        reason: String,
    },
    /// A certificate that issues another is not a CA under RFC 5280 §4.2.1.9/§4.2.1.3: no
    /// basicConstraints, `cA` false, a pathLenConstraint exceeded, or keyUsage without keyCertSign.
    #[error("certificate {index} ({name}) signs certificates but is not a CA: {reason}")]
    NotCa {
        /// Position of the issuing certificate, leaf = 0.
        index: usize,
        /// Its short subject.
        name: String,
        /// Which CA rule it breaks.
        reason: String,
    },
    /// Nothing in the chain is a trusted root, and no trusted root issued its last certificate (or
    /// the one that would have was refused: bad signature, not valid, not a CA).
    #[error(
        "the chain does not lead to a trusted root: certificate {index} ({name}) is issued by {issuer}, {detail}"
    )]
    UntrustedRoot {
        /// Position of the chain's last certificate.
        index: usize,
        /// Its short subject.
        name: String,
        /// The issuer name it carries.
        issuer: String,
        /// Why no trusted root fits: none has that name, or the one that has it was refused.
        detail: String,
    },
    /// Certificates after the trusted anchor in the x5chain do not continue the chain (each must be
    /// signed by the one after it): refused, or a `did:x509` could pin an unvalidated CA.
    #[error(
        "the x5chain goes on past its trusted anchor {anchor} (certificate {index}) with {extra} certificate(s) that do not continue it ({reason}); a chain must end at its anchor or at the root that issued it"
    )]
    BeyondAnchor {
        /// Position of the trusted anchor in the chain.
        index: usize,
        /// The anchor's short subject.
        anchor: String,
        /// How many certificates follow the anchor.
        extra: usize,
        /// The link that failed past the anchor.
        reason: String,
    },
    /// A `did:x509` is not of the form `did:x509:0:<sha256|sha384|sha512>:<base64url
    /// fingerprint>::<policy>:<value>...` with at least one known policy (`eku`, `subject`, `san`,
    /// `fulcio-issuer`) (DIF did:x509 method).
    #[error("malformed did:x509 '{did}': {reason}")]
    DidMalformed {
        /// The DID as given.
        did: String,
        /// Which part is wrong.
        reason: String,
    },
    /// The DID's CA fingerprint (`alg` hash, base64url `fingerprint`) matches no CA certificate on
    /// the validated path (the leaf never counts).
    #[error(
        "did:x509 fingerprint {fingerprint} ({alg}) matches no CA certificate of the validated chain"
    )]
    DidFingerprint {
        /// The hash the DID names.
        alg: String,
        /// The base64url fingerprint the DID pins.
        fingerprint: String,
    },
    /// A `did:x509` policy does not hold for the leaf.
    #[error("did:x509 policy {policy} is not met by the leaf: expected {expected}, found {found}")]
    DidPolicy {
        /// The policy name: `eku`, `subject`, `san` or `fulcio-issuer`.
        policy: String,
        /// What the DID requires.
        expected: String,
        /// What the leaf has.
        found: String,
    },
}

/// What `print-cose` and error messages show about a certificate.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CertSummary {
    /// The subject distinguished name (RFC 4514 text).
    pub subject: String,
    /// The issuer distinguished name (RFC 4514 text).
    pub issuer: String,
    /// The serial number's DER content bytes, hex.
    pub serial_hex: String,
    /// notBefore, unix seconds.
    pub not_before: i64,
    /// notAfter, unix seconds.
    pub not_after: i64,
    /// SHA-256 of the certificate's DER, hex (the fingerprint `did:x509` uses with `sha256`, before
    /// base64url).
    pub sha256_hex: String,
    /// The subject key's kind ("P-256", "RSA-3072"), or why it could not be read.
    pub key: String,
    /// basicConstraints `cA` is true.
    pub is_ca: bool,
    /// Extended key usage OIDs, dotted decimal.
    pub ekus: Vec<String>,
}

/// A chain that [`verify_chain`] validated. Only through one can a `did:x509` issuer be
/// resolved ([`resolve_did_x509`]), so a fingerprint is never matched against a certificate that
/// was not part of the validated path.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    /// The leaf's public key: the one the statement must verify with.
    pub leaf_key: PublicKey,
    /// SHA-256 of the trusted anchor's DER, hex.
    pub root_sha256_hex: String,
    /// The time every certificate was judged valid at, unix seconds.
    pub checked_at: i64,
    /// The validated path, leaf first: the x5chain, every link of which was checked, and the
    /// trusted anchor when it came from the trust store rather than the chain.
    pub path: Vec<Vec<u8>>,
}

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
const OID_CERTIFICATE_POLICIES: &str = "2.5.29.32";
const OID_NAME_CONSTRAINTS: &str = "2.5.29.30";
/// Extensions whose meaning the chain check takes into account (certificatePolicies: any policy
/// is acceptable, modelseal requires none); a critical one outside this list is refused.
const PROCESSED_EXTENSIONS: [&str; 6] = [
    OID_BASIC_CONSTRAINTS,
    OID_KEY_USAGE,
    OID_EXT_KEY_USAGE,
    OID_SUBJECT_ALT_NAME,
    OID_CERTIFICATE_POLICIES,
    OID_NAME_CONSTRAINTS,
];
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

    /// The TBSCertificate exactly as signed: taken from the original bytes, not re-encoded, so
    /// a CA's encoding quirks cannot break (or fake) a signature check.
    fn tbs_bytes(&self) -> Result<&[u8], der::Error> {
        use der::Reader;
        let mut reader = der::SliceReader::new(&self.der)?;
        der::Header::decode(&mut reader)?; // the outer Certificate SEQUENCE
        reader.tlv_bytes()
    }

    /// Checks that `self` (at `index`) was signed by `issuer` (at `issuer_index`).
    fn check_signed_by(
        &self,
        index: usize,
        issuer: &Parsed,
        issuer_index: usize,
    ) -> Result<(), X509Error> {
        let bad = |reason: String| X509Error::BadSignature {
            index,
            name: self.short_name(),
            issuer: issuer.short_name(),
            reason,
        };
        let tbs = self.tbs_bytes().map_err(|e| bad(e.to_string()))?;
        let key = issuer.key(issuer_index)?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| bad("signature has unused bits".into()))?;
        let alg = &self.cert.signature_algorithm;
        verify_certificate_signature(&key, alg, tbs, sig).map_err(|e| match e {
            CryptoError::BadSignature { .. } => bad(format!(
                "{} signature does not verify with the issuer's {} key",
                signature_algorithm_name(&alg.oid),
                key.kind()
            )),
            other => bad(other.to_string()),
        })
    }

    fn check_valid_at(&self, index: usize, at: i64) -> Result<(), X509Error> {
        let (from, to) = self.validity();
        if at < from || at > to {
            return Err(X509Error::NotValidAt {
                index,
                name: self.short_name(),
                state: if at > to {
                    "had expired"
                } else {
                    "was not yet valid"
                },
                at: format_unix_time(at),
                not_before: format_unix_time(from),
                not_after: format_unix_time(to),
            });
        }
        Ok(())
    }

    /// RFC 5280 §4.2: a critical extension this code does not process makes the certificate
    /// unusable; an extension it relies on must decode; a leaf's keyUsage, when present, must
    /// allow digitalSignature (the statement's signature is made with its key).
    fn check_extensions(&self, index: usize) -> Result<(), X509Error> {
        let bad = |reason: String| X509Error::Extension {
            index,
            name: self.short_name(),
            reason,
        };
        for e in self.cert.tbs_certificate.extensions.iter().flatten() {
            let oid = e.extn_id.to_string();
            if e.critical && !PROCESSED_EXTENSIONS.contains(&oid.as_str()) {
                return Err(bad(format!(
                    "critical extension {oid}, which modelseal does not process (RFC 5280 §4.2 says refuse it)"
                )));
            }
        }
        if let Some(b) = self.extension(OID_BASIC_CONSTRAINTS) {
            x509_cert::ext::pkix::BasicConstraints::from_der(b)
                .map_err(|e| bad(format!("unreadable basicConstraints: {e}")))?;
        }
        if let Some(b) = self.extension(OID_KEY_USAGE) {
            let ku = x509_cert::ext::pkix::KeyUsage::from_der(b)
                .map_err(|e| bad(format!("unreadable keyUsage: {e}")))?;
            if index == 0 && !ku.digital_signature() {
                return Err(bad(
                    "keyUsage of the signing leaf lacks digitalSignature".into()
                ));
            }
        }
        if let Some(b) = self.extension(OID_EXT_KEY_USAGE) {
            x509_cert::ext::pkix::ExtendedKeyUsage::from_der(b)
                .map_err(|e| bad(format!("unreadable extKeyUsage: {e}")))?;
        }
        if let Some(b) = self.extension(OID_NAME_CONSTRAINTS) {
            names::read(b).map_err(bad)?;
        }
        Ok(())
    }

    fn self_issued(&self) -> bool {
        self.cert.tbs_certificate.subject == self.cert.tbs_certificate.issuer
    }

    /// This CA's name constraints (RFC 5280 §4.2.1.10) over `below`, the certificates under it
    /// in the path (leaf first): each is checked but self-issued intermediates (§6.1.3 (b)).
    fn check_names_below(&self, index: usize, below: &[Parsed]) -> Result<(), X509Error> {
        let Some(value) = self.extension(OID_NAME_CONSTRAINTS) else {
            return Ok(());
        };
        let outside = |i: usize, cert: &Parsed, reason: String| X509Error::NameConstraint {
            index: i,
            name: cert.short_name(),
            ca_index: index,
            ca_name: self.short_name(),
            reason,
        };
        let constraints = names::read(value).map_err(|r| outside(0, &below[0], r))?;
        for (i, cert) in below.iter().enumerate() {
            if i > 0 && cert.self_issued() {
                continue;
            }
            names::CertNames::of(
                &cert.cert.tbs_certificate.subject,
                cert.extension(OID_SUBJECT_ALT_NAME),
            )
            .and_then(|n| names::check(&constraints, &n))
            .map_err(|r| outside(i, cert, r))?;
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
        if let Some(limit) = bc.path_len_constraint
            && cas_below > limit as usize
        {
            return Err(not_ca(&format!(
                "pathLenConstraint {limit} allows fewer CAs below it than {cas_below}"
            )));
        }
        if let Some(ku) = self
            .extension(OID_KEY_USAGE)
            .and_then(|b| x509_cert::ext::pkix::KeyUsage::from_der(b).ok())
            && !ku.key_cert_sign()
        {
            return Err(not_ca("keyUsage lacks keyCertSign"));
        }
        Ok(())
    }
}

/// A readable name for the signature algorithms CAs use.
fn signature_algorithm_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        other => other.into(),
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

/// The facts of one DER certificate, for display; refuses only input that is not a certificate.
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
        c.check_extensions(i)?;
    }
    let last = certs.len() - 1;
    // The chain must reach a trusted certificate (the anchor); every link is checked, those past
    // the anchor too.
    let anchor_in_chain = certs.iter().position(|c| trusted_roots.contains(&c.der));
    let top = anchor_in_chain.unwrap_or(last);
    for i in 0..last {
        let (cert, issuer) = (&certs[i], &certs[i + 1]);
        if cert.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            let mismatch = X509Error::NameMismatch {
                index: i,
                name: cert.short_name(),
                expected: cert.cert.tbs_certificate.issuer.to_string(),
                found: issuer.subject(),
            };
            if i < top {
                return Err(mismatch);
            }
            return Err(X509Error::BeyondAnchor {
                index: top,
                anchor: certs[top].short_name(),
                extra: last - top,
                reason: mismatch.to_string(),
            });
        }
        let linked = issuer
            .check_ca(i + 1, i)
            .and_then(|()| cert.check_signed_by(i, issuer, i + 1));
        match linked {
            Ok(()) => {}
            Err(e) if i < top => return Err(e),
            // Past the anchor, certificates must still continue the chain (a root after the
            // trusted intermediate that it signed); anything else would be validated by nothing,
            // yet a did:x509 fingerprint could match it.
            Err(e) => {
                return Err(X509Error::BeyondAnchor {
                    index: top,
                    anchor: certs[top].short_name(),
                    extra: last - top,
                    reason: e.to_string(),
                });
            }
        }
    }
    let anchor_der = match anchor_in_chain {
        Some(i) => certs[i].der.clone(),
        None => {
            // The root is outside the chain: the last certificate must be issued by a trusted
            // root (index `last + 1` in messages, as if appended).
            let top_cert = &certs[last];
            let root_index = last + 1;
            let mut found = None;
            let mut refused = Vec::new();
            let candidates = trusted_roots
                .iter()
                .filter_map(|d| Parsed::new(root_index, d).ok())
                .filter(|r| r.cert.tbs_certificate.subject == top_cert.cert.tbs_certificate.issuer);
            for root in candidates {
                let checked = top_cert
                    .check_signed_by(last, &root, root_index)
                    .and_then(|()| root.check_valid_at(root_index, at))
                    .and_then(|()| root.check_ca(root_index, last));
                match checked {
                    Ok(()) => {
                        found = Some(root.der);
                        break;
                    }
                    Err(e) => refused.push(e.to_string()),
                }
            }
            found.ok_or_else(|| X509Error::UntrustedRoot {
                index: last,
                name: top_cert.short_name(),
                issuer: top_cert.cert.tbs_certificate.issuer.to_string(),
                detail: if refused.is_empty() {
                    format!(
                        "which is not among the {} trusted root(s)",
                        trusted_roots.len()
                    )
                } else {
                    format!(
                        "and the trusted root(s) of that name were refused: {}",
                        refused.join("; ")
                    )
                },
            })?
        }
    };
    // Every CA's name constraints over the certificates below it: those in the chain, and
    // those of a trusted root outside it (a root constrained to a team's names is trusted for
    // those names only).
    for k in 1..certs.len() {
        certs[k].check_names_below(k, &certs[..k])?;
    }
    if anchor_in_chain.is_none() {
        Parsed::new(certs.len(), &anchor_der)?.check_names_below(certs.len(), &certs)?;
    }
    let mut path: Vec<Vec<u8>> = chain.to_vec();
    if anchor_in_chain.is_none() {
        path.push(anchor_der.clone());
    }
    Ok(VerifiedChain {
        leaf_key: certs[0].key(0)?,
        root_sha256_hex: hex::encode(Sha256::digest(&anchor_der)),
        checked_at: at,
        path,
    })
}

/// The CA certificate of `chain` (any but the leaf) whose fingerprint a `did:x509` pins. A
/// policy that trusts the DID alone validates the chain up to this certificate.
pub fn did_x509_pinned_ca(did: &str, chain: &[Vec<u8>]) -> Result<Vec<u8>, X509Error> {
    let malformed = |reason: &str| X509Error::DidMalformed {
        did: did.into(),
        reason: reason.into(),
    };
    let head = did.split("::").next().unwrap_or_default();
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
    chain
        .iter()
        .skip(1)
        .find(|der| digest(der).as_deref() == Some(wanted.as_slice()))
        .cloned()
        .ok_or_else(|| X509Error::DidFingerprint {
            alg: alg.to_string(),
            fingerprint: fingerprint.to_string(),
        })
}

/// Checks that `did` is a well-formed `did:x509` (for policies, before any chain is seen).
pub fn check_did_x509_syntax(did: &str) -> Result<(), X509Error> {
    match did_x509_pinned_ca(did, &[]) {
        Err(X509Error::DidFingerprint { .. }) => {}
        Err(e) => return Err(e),
        Ok(_) => unreachable!("an empty chain has no CA"),
    }
    let malformed = |reason: &str| X509Error::DidMalformed {
        did: did.into(),
        reason: reason.into(),
    };
    let mut policies = 0;
    for policy in did.split("::").skip(1) {
        policies += 1;
        let (name, value) = policy
            .split_once(':')
            .ok_or_else(|| malformed("a policy has no value"))?;
        if !matches!(name, "eku" | "subject" | "san" | "fulcio-issuer") || value.is_empty() {
            return Err(malformed(&format!("unknown or empty policy '{name}'")));
        }
    }
    if policies == 0 {
        return Err(malformed("no policy (did:x509 needs at least one)"));
    }
    Ok(())
}

/// Resolves a `did:x509` issuer against a validated chain: the fingerprint must be that of a CA
/// certificate on the validated path (any but the leaf, the trusted anchor included), and each
/// policy must hold for the leaf.
pub fn resolve_did_x509(did: &str, verified: &VerifiedChain) -> Result<(), X509Error> {
    resolve_did_x509_unchecked(did, &verified.path)
}

/// The did:x509 rules over certificates nobody validated: only for tests of the rules themselves.
fn resolve_did_x509_unchecked(did: &str, chain: &[Vec<u8>]) -> Result<(), X509Error> {
    let malformed = |reason: &str| X509Error::DidMalformed {
        did: did.into(),
        reason: reason.into(),
    };
    if chain.is_empty() {
        return Err(X509Error::EmptyChain);
    }
    did_x509_pinned_ca(did, chain)?;
    let parts = did.split("::").skip(1);
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
            if !fields.len().is_multiple_of(2) || fields.is_empty() {
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

/// Certificates as a trust anchor is handed over (`--cert`, a policy's `root`, a binding's
/// `roots`): every `CERTIFICATE` block of a PEM file, in order, or the file itself as one DER
/// certificate. Not parsed here: the chain validation reads them ([`Unreadable`](X509Error::Unreadable)
/// then names the bad one). Refused when a PEM file holds no certificate.
pub fn read_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, X509Error> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if t.contains("-----BEGIN") => t,
        _ => return Ok(vec![bytes.to_vec()]),
    };
    let certs: Vec<Vec<u8>> = pem_decode_all(text)
        .map_err(|e| X509Error::Unreadable {
            index: 0,
            reason: e.to_string(),
        })?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| der)
        .collect();
    if certs.is_empty() {
        return Err(X509Error::Unreadable {
            index: 0,
            reason: "no CERTIFICATE block in the PEM file".into(),
        });
    }
    Ok(certs)
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

    #[test]
    fn read_certificates_takes_every_pem_certificate_or_one_der_file() {
        let chain = statement().x5chain().unwrap();
        let pem: String = chain
            .iter()
            .map(|der| crate::core::crypto::pem_encode("CERTIFICATE", der))
            .collect();
        let text = format!("a comment\n{pem}");
        assert_eq!(read_certificates(text.as_bytes()).unwrap(), chain);
        assert_eq!(
            read_certificates(&chain[2]).unwrap(),
            vec![chain[2].clone()]
        );
        let key = crate::core::crypto::pem_encode("PUBLIC KEY", b"not a certificate");
        assert!(matches!(
            read_certificates(key.as_bytes()),
            Err(X509Error::Unreadable { index: 0, .. })
        ));
    }

    fn statement() -> Sign1 {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/scitt-for-phi/signed-statement.scitt"
        );
        Sign1::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    /// A hierarchy made with openssl 3 to cover the signature algorithms the Microsoft chain does
    /// not use, in this order: root (Ed25519, self-signed, pathLen 2) → intermediate (RSA-2048,
    /// signed Ed25519, pathLen 0) → leaf (P-384, signed RSASSA-PSS SHA-256 salt 32; EKUs
    /// codeSigning and 1.3.6.1.4.1.311.76.59.1.1; SANs email/DNS/URI); sub-intermediate (P-256,
    /// signed RSASSA-PSS SHA-384 salt 48 by the intermediate, which its pathLen 0 forbids) → leaf2
    /// (Ed25519, signed ecdsa-with-SHA512 by a P-256 key); and a certificate the (non-CA) leaf
    /// signed with ecdsa-with-SHA256. All valid from 2026-11-24 for ~100 years.
    const FIXTURES: &str = "\
-----BEGIN CERTIFICATE-----
MIIBgzCCATWgAwIBAgIBATAFBgMrZXAwNjEaMBgGA1UEAwwRVGVzdCBSb290IEVk
MjU1MTkxGDAWBgNVBAoMD21vZGVsc2VhbCB0ZXN0czAgFw0yNjExMjQxMjU3MDVa
GA8yMTI2MTAzMTEyNTcwNVowNjEaMBgGA1UEAwwRVGVzdCBSb290IEVkMjU1MTkx
GDAWBgNVBAoMD21vZGVsc2VhbCB0ZXN0czAqMAUGAytlcAMhAHwqG1sgv5eAihl/
BazkBTewfkMNGiMMoZMUDKWP/Pw9o2YwZDAdBgNVHQ4EFgQUI7lL3+d8bLTOpLpS
BOPMdq3J5+owHwYDVR0jBBgwFoAUI7lL3+d8bLTOpLpSBOPMdq3J5+owEgYDVR0T
AQH/BAgwBgEB/wIBAjAOBgNVHQ8BAf8EBAMCAgQwBQYDK2VwA0EAusMd2sriCwgL
aIlyOmFEa1NG9sioQindgRcddZ/kp9q3MKagWaGp2WONhiRVEoqSj1mYTFkfpNJ8
MyeDOzruCQ==
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIIChjCCAjigAwIBAgICK1kwBQYDK2VwMDYxGjAYBgNVBAMMEVRlc3QgUm9vdCBF
ZDI1NTE5MRgwFgYDVQQKDA9tb2RlbHNlYWwgdGVzdHMwIBcNMjYxMTI0MTI1NzA1
WhgPMjEyNTA2MTgxMjU3MDVaMD4xIjAgBgNVBAMMGVRlc3QgSW50ZXJtZWRpYXRl
IFJTQS1QU1MxGDAWBgNVBAoMD21vZGVsc2VhbCB0ZXN0czCCASIwDQYJKoZIhvcN
AQEBBQADggEPADCCAQoCggEBAKKATe+hsWdSfHNKVUiKaLGWyoO4Ap8UJEU+Vob1
ZHfWrk1NlZTCw4e7oyknqGBkczqx/jt+6oUKLHqwHnSjE+XpiARZ1NJHsibS7eed
z6vBqYtFN7Jq2r18L031fu3byNhHjgsxU5FMBGs/TDroZ+vKKZCamlUTafjguWgh
1lxXD3OgVV0wzGFgYzfiFxpvVjQxllP03HqMpojyVGP3tt8xJw+A3kR1Q0J53uKJ
Zj2+w/Mq3kjGMupv79Z/7e6yuDHFXRNWJsJaC4WESDUSWWByqw44W+oWru+AdIlA
JMfryOLTVkNep5zVmnTlzZf15G7pliKwsJx0b4Ca4jo7gocCAwEAAaNmMGQwEgYD
VR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFDn+KX5Y
qhNutKDsyeEfUbSmBDFMMB8GA1UdIwQYMBaAFCO5S9/nfGy0zqS6UgTjzHatyefq
MAUGAytlcANBAJCVz/sfniKABxMR1+m7kLxAhHhALrIuvZu8kmX86pYz7m3r9bWC
nDHRm3+Wn90Ww7BZ6aYlBnT8gSrFpyh1GQw=
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIIDijCCAj6gAwIBAgICPJgwQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgEF
AKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgEFAKIDAgEgMD4xIjAgBgNVBAMM
GVRlc3QgSW50ZXJtZWRpYXRlIFJTQS1QU1MxGDAWBgNVBAoMD21vZGVsc2VhbCB0
ZXN0czAgFw0yNjExMjQxMjU3MDVaGA8yMTI1MDYxODEyNTcwNVowQTEYMBYGA1UE
AwwPVGVzdCBMZWFmIFAtMzg0MRgwFgYDVQQKDA9tb2RlbHNlYWwgdGVzdHMxCzAJ
BgNVBAYTAk5MMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEu/E18+VPPdqTn18FiYp5
9G6iqP85Gfwtl1TRvdkDH0UpXm6N60Llr9jzBiNBpGaUl4GOvm2oMfNHQ+SUWBqH
J5WMjTb3LjCoT0aFBUHO9F+DzGvDm+cqdjsrt5XEEbqbo4HSMIHPMAwGA1UdEwEB
/wQCMAAwDgYDVR0PAQH/BAQDAgeAMCAGA1UdJQQZMBcGCCsGAQUFBwMDBgsrBgEE
AYI3TDsBATBNBgNVHREERjBEgRJzaWduZXJAZXhhbXBsZS5jb22CEnNpZ25lci5l
eGFtcGxlLmNvbYYaaHR0cHM6Ly9leGFtcGxlLmNvbS9zaWduZXIwHQYDVR0OBBYE
FKl02pFPVp8OFT4ciTCKDYoBSdb8MB8GA1UdIwQYMBaAFDn+KX5YqhNutKDsyeEf
UbSmBDFMMEEGCSqGSIb3DQEBCjA0oA8wDQYJYIZIAWUDBAIBBQChHDAaBgkqhkiG
9w0BAQgwDQYJYIZIAWUDBAIBBQCiAwIBIAOCAQEAKZ52KtTJMtgl/tBlYq09tyes
uun0wV2qQdRlrIUNqg+G6/iqeLSUmH/grlxgYj9jeZjxgxLPT9QAjHx1pHWTaiAR
+bLl8XBEUns6ebbfr+1UpWSsUCQhJwN6BhZX3zam91gnlTXDHnKRFQqkysnOk3jM
74d3b+A0zSPslrpDxxZFf1rgFOKBcVNcdmnD095pvOqK2yW03+4nz8R7Y+0CZRRt
Zvy9NeoGbqCk3ypQ0TBvnVdxa2ix/86A4N8sRz80/OgVb9KspZIMo0NRP7CBLppq
b17QLRx4tiRdXGVzPpjCyAfoHUnA7y+zBYkwP0hMuP80YDd7pok0XFzqhZjQGw==
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIIC/DCCAbCgAwIBAgICTA4wQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgIF
AKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwMD4xIjAgBgNVBAMM
GVRlc3QgSW50ZXJtZWRpYXRlIFJTQS1QU1MxGDAWBgNVBAoMD21vZGVsc2VhbCB0
ZXN0czAgFw0yNjExMjQxMjU3MDVaGA8yMTI1MDYxODEyNTcwNVowQDEkMCIGA1UE
AwwbVGVzdCBTdWItaW50ZXJtZWRpYXRlIFAtMjU2MRgwFgYDVQQKDA9tb2RlbHNl
YWwgdGVzdHMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAThZB+mHITqCPIApBIZ
GZIJn12lQDeOVWvPQzdQt6+3J2C5ywgdPJKjYtyZAgEN3qa7MIJ0WlqVmrqOYKIG
D2Uso2MwYTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICBDAdBgNVHQ4E
FgQUct/6RHPwznJ4VJyD3q0iAX7Z8HwwHwYDVR0jBBgwFoAUOf4pfliqE260oOzJ
4R9RtKYEMUwwQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgIFAKEcMBoGCSqG
SIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgEwA4IBAQBsaKC2IuFyl4WWFgdIrXii
nPDDPBY/Oasfv65FBrzRei64uK/hLUgWs+cw/o2Fhi/n2Lhv7fhy/ptkSbO0DuY0
ntGhl3rRTW94zOaKNvtLSU6ZC9JP2ZrP8LxUrsyiDA+tRG7tVLhs2Bh5yXt2g/eh
RcAISWpcqCneDDI2o0QZZ/0EqxEm4mO0V716aNrdRSuiOzrIs2JfMgrc6O2YCHGS
I2IZYhGsy0MGwDDwlFXHvyFlDnhOl+tIJYqVka2BtmlpLMljpsONq/5fbkYgdUKF
uF8dQPddFetJ0U/bU6kx0vnwnJMZlpJE9cedOAZQ/N4RSvfnJB8aZJYvbC3pBXHl
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIICDTCCAbOgAwIBAgICJqQwCgYIKoZIzj0EAwQwQDEkMCIGA1UEAwwbVGVzdCBT
dWItaW50ZXJtZWRpYXRlIFAtMjU2MRgwFgYDVQQKDA9tb2RlbHNlYWwgdGVzdHMw
IBcNMjYxMTI0MTI1NzA1WhgPMjEyNTA2MTgxMjU3MDVaMDcxGzAZBgNVBAMMElRl
c3QgTGVhZjIgRWQyNTUxOTEYMBYGA1UECgwPbW9kZWxzZWFsIHRlc3RzMCowBQYD
K2VwAyEAAUXtNvzGBqonEcevBJ5O5bqTPwCF7J66n3QnDFBXtF6jgdIwgc8wDAYD
VR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwIAYDVR0lBBkwFwYIKwYBBQUHAwMG
CysGAQQBgjdMOwEBME0GA1UdEQRGMESBEnNpZ25lckBleGFtcGxlLmNvbYISc2ln
bmVyLmV4YW1wbGUuY29thhpodHRwczovL2V4YW1wbGUuY29tL3NpZ25lcjAdBgNV
HQ4EFgQUSjHJR7F3NgDwg2Di47Q7leNe46UwHwYDVR0jBBgwFoAUct/6RHPwznJ4
VJyD3q0iAX7Z8HwwCgYIKoZIzj0EAwQDSAAwRQIhAJ8NHTM/CY1f2lFIcairmhw0
F2RChNz15DsQfnR3aDQ0AiAmJwLiJHXIEfKJgG+/ARNWazTtCbwVIbhGKA8eZ33I
CA==
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIICWzCCAeGgAwIBAgICeoAwCgYIKoZIzj0EAwIwQTEYMBYGA1UEAwwPVGVzdCBM
ZWFmIFAtMzg0MRgwFgYDVQQKDA9tb2RlbHNlYWwgdGVzdHMxCzAJBgNVBAYTAk5M
MCAXDTI2MTEyNDEyNTcwNVoYDzIxMjUwNjE4MTI1NzA1WjA1MRkwFwYDVQQDDBBJ
c3N1ZWQgQnkgQSBMZWFmMRgwFgYDVQQKDA9tb2RlbHNlYWwgdGVzdHMwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAQw+2VojQRndllFqkbzM9tIByEmV3urJJktIh2W
Ji+Rk+WkHf8kdjYej6uaWC/Pd0wr1GidhIUYzxsE8mHhwGzyo4HSMIHPMAwGA1Ud
EwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMCAGA1UdJQQZMBcGCCsGAQUFBwMDBgsr
BgEEAYI3TDsBATBNBgNVHREERjBEgRJzaWduZXJAZXhhbXBsZS5jb22CEnNpZ25l
ci5leGFtcGxlLmNvbYYaaHR0cHM6Ly9leGFtcGxlLmNvbS9zaWduZXIwHQYDVR0O
BBYEFFPLd5IC4yjp7BgYqIYaTWA/n7juMB8GA1UdIwQYMBaAFKl02pFPVp8OFT4c
iTCKDYoBSdb8MAoGCCqGSM49BAMCA2gAMGUCME1o/i2lT+wG4D3A+sHuyhOYQ596
wtuH4HxiBd6N4s9cOasdMEetTFLbibgdiXKWkAIxAOKgnkYrIDwbnMJ81Un9pTni
Dl/Lruz+FfTycz9tt94f/v8T3ABvuTeADvks4WT/qQ==
-----END CERTIFICATE-----
";

    struct Fixtures {
        root: Vec<u8>,
        inter: Vec<u8>,
        leaf: Vec<u8>,
        inter2: Vec<u8>,
        leaf2: Vec<u8>,
        by_leaf: Vec<u8>,
        at: i64,
    }

    fn fixtures() -> Fixtures {
        let mut ders = crate::core::crypto::pem_decode_all(FIXTURES)
            .unwrap()
            .into_iter()
            .map(|(_, der)| der);
        let mut next = || ders.next().unwrap();
        let root = next();
        let at = summarize(&root).unwrap().not_before + 86_400;
        Fixtures {
            root,
            inter: next(),
            leaf: next(),
            inter2: next(),
            leaf2: next(),
            by_leaf: next(),
            at,
        }
    }

    #[test]
    fn ed25519_rsa_pss_and_ecdsa_with_a_foreign_hash_certificate_signatures_verify() {
        let f = fixtures();
        // Ed25519 root signs the RSA intermediate; the intermediate signs the leaf with PSS.
        let v = verify_chain(
            &[f.leaf.clone(), f.inter.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap();
        assert_eq!(v.leaf_key.kind(), "P-384");
        assert_eq!(v.root_sha256_hex, hex::encode(Sha256::digest(&f.root)));
        // The same chain with its root inside it.
        verify_chain(
            &[f.leaf.clone(), f.inter.clone(), f.root.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap();
        // P-256 signing with SHA-512 (prehash), under a PSS/SHA-384-signed sub-intermediate,
        // pinned at the sub-intermediate.
        let v = verify_chain(
            &[f.leaf2.clone(), f.inter2.clone()],
            std::slice::from_ref(&f.inter2),
            f.at,
        )
        .unwrap();
        assert_eq!(v.leaf_key.kind(), "Ed25519");
        // Before the certificates existed: not yet valid, with the window in the message.
        let err = verify_chain(
            &[f.leaf.clone(), f.inter.clone()],
            std::slice::from_ref(&f.root),
            0,
        )
        .unwrap_err();
        assert!(
            matches!(err, X509Error::NotValidAt { index: 0, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("1970-01-01T00:00:00Z"), "{err}");
    }

    #[test]
    fn a_path_length_constraint_and_a_non_ca_issuer_are_refused() {
        let f = fixtures();
        let err = verify_chain(
            &[f.leaf2.clone(), f.inter2.clone(), f.inter.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap_err();
        assert!(matches!(err, X509Error::NotCa { index: 2, .. }), "{err}");
        assert!(err.to_string().contains("pathLenConstraint 0"), "{err}");
        let err = verify_chain(
            &[f.by_leaf.clone(), f.leaf.clone(), f.inter.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap_err();
        assert!(matches!(err, X509Error::NotCa { index: 1, .. }), "{err}");
        assert!(err.to_string().contains("Test Leaf P-384"), "{err}");
    }

    #[test]
    fn names_that_do_not_chain_and_a_same_named_impostor_root_are_refused() {
        let f = fixtures();
        let err = verify_chain(
            &[f.leaf.clone(), f.root.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap_err();
        assert!(
            matches!(err, X509Error::NameMismatch { index: 0, .. }),
            "{err}"
        );
        // A trusted root with the Microsoft root's name but another key: the name fits, the
        // intermediate's signature does not, and the message says which root was refused.
        let chain = statement().x5chain().unwrap();
        let mut impostor = chain[2].clone();
        let n = impostor.len();
        impostor[n - 912] ^= 0x01; // inside its RSA modulus: same name, another key
        let err = verify_chain(&chain[..2], &[impostor], IAT).unwrap_err();
        assert!(
            matches!(err, X509Error::UntrustedRoot { index: 1, .. }),
            "{err}"
        );
        let mut bad_sig = chain[1].clone();
        let n = bad_sig.len();
        bad_sig[n - 10] ^= 0x01; // inside the intermediate's signature
        let err = verify_chain(
            &[chain[0].clone(), bad_sig],
            std::slice::from_ref(&chain[2]),
            IAT,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("refused")
                && msg.contains("sha384WithRSAEncryption signature does not verify"),
            "{msg}"
        );
    }

    #[test]
    fn did_x509_san_and_subject_policies_resolve_against_the_fixture_leaf() {
        use base64::Engine;
        let f = fixtures();
        let chain = [f.leaf.clone(), f.inter.clone(), f.root.clone()];
        let b64 = |d: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d);
        let base = format!("did:x509:0:sha512:{}", b64(&Sha512::digest(&f.inter)));
        for ok in [
            "::san:email:signer@example.com",
            "::san:dns:signer.example.com",
            "::san:uri:https%3A%2F%2Fexample.com%2Fsigner",
            "::subject:CN:Test%20Leaf%20P-384:C:NL",
            "::subject:2.5.4.10:modelseal%20tests",
            "::eku:1.3.6.1.5.5.7.3.3::eku:1.3.6.1.4.1.311.76.59.1.1",
        ] {
            resolve_did_x509_unchecked(&format!("{base}{ok}"), &chain)
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for unmet in [
            "::san:email:other@example.com",
            "::subject:C:US",
            "::eku:1.2.3",
        ] {
            let err = resolve_did_x509_unchecked(&format!("{base}{unmet}"), &chain).unwrap_err();
            assert!(matches!(err, X509Error::DidPolicy { .. }), "{unmet}: {err}");
        }
        // The leaf itself is not a CA fingerprint.
        let leaf_fp = format!(
            "did:x509:0:sha256:{}::eku:1.2.3",
            b64(&Sha256::digest(&f.leaf))
        );
        assert!(matches!(
            resolve_did_x509_unchecked(&leaf_fp, &chain),
            Err(X509Error::DidFingerprint { .. })
        ));
        for malformed in [
            "::subject:CN",
            "::subject:XX:a",
            "::san:email",
            "::frobnicate:1",
            "::eku",
        ] {
            let err =
                resolve_did_x509_unchecked(&format!("{base}{malformed}"), &chain).unwrap_err();
            assert!(
                matches!(err, X509Error::DidMalformed { .. }),
                "{malformed}: {err}"
            );
        }
    }

    #[test]
    fn the_microsoft_chain_verifies_at_the_statement_time_and_its_leaf_signed_the_statement() {
        let s = statement();
        let chain = s.x5chain().unwrap();
        let verified = verify_chain(&chain, std::slice::from_ref(&chain[2]), IAT).unwrap();
        s.verify_signature(&verified.leaf_key, None).unwrap();
        assert_eq!(
            verified.root_sha256_hex,
            hex::encode(Sha256::digest(&chain[2]))
        );
        // The root alone, outside the chain, works the same.
        let verified = verify_chain(&chain[..2], std::slice::from_ref(&chain[2]), IAT).unwrap();
        assert_eq!(
            verified.leaf_key,
            PublicKey::from_certificate_der(&chain[0]).unwrap()
        );
    }

    #[test]
    fn the_expired_leaf_fails_when_checked_now_and_says_so() {
        let chain = statement().x5chain().unwrap();
        let err = verify_chain(&chain, std::slice::from_ref(&chain[2]), 1_795_000_000).unwrap_err();
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
        let stranger = fixtures().root; // a real certificate, unrelated to Microsoft's
        let err = verify_chain(&chain, std::slice::from_ref(&stranger), IAT).unwrap_err();
        assert!(
            matches!(err, X509Error::UntrustedRoot { index: 2, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("Microsoft Supply Chain RSA Root CA 2022"),
            "{err}"
        );
        // Garbage among the trusted roots is skipped, not a panic.
        assert!(matches!(
            verify_chain(&chain, &[b"junk".to_vec(), stranger], IAT),
            Err(X509Error::UntrustedRoot { .. })
        ));
        assert!(matches!(
            verify_chain(&chain, &[], IAT),
            Err(X509Error::UntrustedRoot { .. })
        ));
        // Pinning the intermediate trusts what it issued.
        verify_chain(&chain, std::slice::from_ref(&chain[1]), IAT).unwrap();
    }

    #[test]
    fn a_tampered_certificate_breaks_the_chain() {
        let mut chain = statement().x5chain().unwrap();
        let n = chain[0].len();
        chain[0][n - 300] ^= 0x01; // inside the leaf's key or extensions: its signature fails
        let err = verify_chain(&chain, std::slice::from_ref(&chain[2]), IAT).unwrap_err();
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
        let verified = verify_chain(&chain, std::slice::from_ref(&chain[2]), IAT).unwrap();
        let iss = s.claims().unwrap().iss.unwrap();
        resolve_did_x509(&iss, &verified).unwrap();
        let fp = iss.split(':').nth(4).unwrap().to_string();
        let mut other_fp = fp.clone().into_bytes();
        other_fp[0] = if other_fp[0] == b'A' { b'B' } else { b'A' };
        let altered = iss.replace(&fp, std::str::from_utf8(&other_fp).unwrap());
        assert!(matches!(
            resolve_did_x509(&altered, &verified),
            Err(X509Error::DidFingerprint { .. })
        ));
        let wrong_eku = iss.replace("1.3.6.1.4.1.311.76.59.1.1", "1.3.6.1.5.5.7.3.3");
        assert!(matches!(
            resolve_did_x509(&wrong_eku, &verified),
            Err(X509Error::DidPolicy { .. })
        ));
        let subject = format!(
            "{}::subject:CN:Someone%20Else",
            iss.split("::").next().unwrap()
        );
        assert!(matches!(
            resolve_did_x509(&subject, &verified),
            Err(X509Error::DidPolicy { .. })
        ));
        let right_subject = format!(
            "{}::subject:O:Microsoft%20Corporation:C:US",
            iss.split("::").next().unwrap()
        );
        resolve_did_x509(&right_subject, &verified).unwrap();
        use base64::Engine;
        let fp384 =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha384::digest(&chain[2]));
        resolve_did_x509(
            &format!("did:x509:0:sha384:{fp384}::eku:1.3.6.1.4.1.311.76.59.1.1"),
            &verified,
        )
        .unwrap();
        for bad in [
            "did:x509:0:sha256",
            "did:web:example.com",
            "did:x509:0:md5:AAAA::eku:1.2",
            &format!("did:x509:0:sha256:{fp}"),
        ] {
            assert!(resolve_did_x509(bad, &verified).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_did_x509_pin_is_matched_only_on_the_validated_path() {
        use base64::Engine;
        let f = fixtures();
        let b64 = |d: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d);
        // Team B's leaf chains to the root; team A's CA (inter2) rides along after the root.
        let did_a = format!(
            "did:x509:0:sha256:{}::eku:1.3.6.1.5.5.7.3.3",
            b64(&Sha256::digest(&f.inter2))
        );
        let smuggled = [
            f.leaf.clone(),
            f.inter.clone(),
            f.root.clone(),
            f.inter2.clone(),
        ];
        let err = verify_chain(&smuggled, std::slice::from_ref(&f.root), f.at).unwrap_err();
        assert!(
            matches!(
                err,
                X509Error::BeyondAnchor {
                    index: 2,
                    extra: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("past its trusted anchor"), "{err}");
        // The honest chain validates, and the pin on team A's CA does not resolve against it.
        let honest = verify_chain(
            &[f.leaf.clone(), f.inter.clone(), f.root.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap();
        assert!(matches!(
            resolve_did_x509(&did_a, &honest),
            Err(X509Error::DidFingerprint { .. })
        ));
        // A pin on team B's CA, or on the root kept in the trust store, resolves.
        for ca in [&f.inter, &f.root] {
            let did = format!(
                "did:x509:0:sha256:{}::eku:1.3.6.1.5.5.7.3.3",
                b64(&Sha256::digest(ca))
            );
            resolve_did_x509(&did, &honest).unwrap();
        }
        let root_outside = verify_chain(
            &[f.leaf.clone(), f.inter.clone()],
            std::slice::from_ref(&f.root),
            f.at,
        )
        .unwrap();
        assert_eq!(root_outside.path.last(), Some(&f.root));
        // A trusted intermediate followed by the root that issued it: validated whole.
        let pinned_inter = verify_chain(
            &[f.leaf.clone(), f.inter.clone(), f.root.clone()],
            std::slice::from_ref(&f.inter),
            f.at,
        )
        .unwrap();
        assert_eq!(pinned_inter.path.len(), 3);
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
        assert!(
            verify_chain(
                &[chain[0][..50].to_vec()],
                std::slice::from_ref(&chain[2]),
                IAT
            )
            .is_err()
        );
    }
}
