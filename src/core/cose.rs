//! COSE_Sign1 (RFC 9052 §4.2) parsing and building, on coset; the SCITT header labels.
//!
//! The protected header is kept as the original bytes next to its parsed form (coset does this),
//! so a signature is always checked over exactly what was signed, never over a re-encoding.
//! Only the unprotected header is ever re-encoded (stapling receipts, emptying it for a log leaf).

use crate::core::crypto::{Algorithm, CryptoError, PrivateKey, PublicKey};
use ciborium::Value;
use coset::{CborSerializable, Label, TaggedCborSerializable};

/// Bound on any COSE input: a statement carries a manifest (or its hash), certificates and
/// receipts, never a model. Real ones are a few KiB; 32 MiB leaves room for huge manifests.
pub const MAX_COSE_BYTES: usize = 32 * 1024 * 1024;

/// Bound on CBOR nesting. ciborium stops at 256 levels on its own; nothing SCITT sends nests
/// deeper than ~8, so anything past this is hostile and refused before it costs stack.
pub const MAX_CBOR_DEPTH: usize = 32;

/// Header labels (RFC 9052, RFC 9597 CWT claims, RFC 9360 x5*, the hash-envelope and COSE-receipts
/// drafts). One place, so no label is a magic number elsewhere.
pub mod label {
    /// `alg` (RFC 9052 §3.1): the signature algorithm, from IANA "COSE Algorithms".
    pub const ALG: i64 = 1;
    /// `crit` (RFC 9052 §3.1): labels a recipient must understand or reject the message.
    pub const CRIT: i64 = 2;
    /// `content type` (RFC 9052 §3.1): the payload's media type (text) or CoAP content format
    /// (uint).
    pub const CONTENT_TYPE: i64 = 3;
    /// `kid` (RFC 9052 §3.1): a byte string naming the signing key.
    pub const KID: i64 = 4;
    /// `CWT Claims` (RFC 9597): a map of CWT claims (see [`claim`](super::claim)) in the header.
    pub const CWT_CLAIMS: i64 = 15;
    /// `typ` (RFC 9596): the media type of the whole COSE object.
    pub const TYP: i64 = 16;
    /// `x5chain` (RFC 9360 §2): one DER certificate, or an array of them, leaf first.
    pub const X5CHAIN: i64 = 33;
    /// `x5t` (RFC 9360 §2): a hash of the signer's certificate, `[alg, hash]`.
    pub const X5T: i64 = 34;
    /// `payload_hash_alg` (COSE hash envelope draft): the payload is this hash of the preimage.
    pub const PAYLOAD_HASH_ALG: i64 = 258;
    /// `preimage_content_type` (hash envelope draft): the media type of the hashed preimage.
    pub const PAYLOAD_PREIMAGE_CONTENT_TYPE: i64 = 259;
    /// `payload_location` (hash envelope draft): where the preimage can be fetched (text).
    pub const PAYLOAD_LOCATION: i64 = 260;
    /// `receipts` (COSE Receipts draft): an array of receipts, in the unprotected header of a
    /// transparent statement.
    pub const RECEIPTS: i64 = 394;
    /// `vds` (COSE Receipts draft): the verifiable data structure a receipt's proof is in.
    pub const VDS: i64 = 395;
    /// `vdp` (COSE Receipts draft): the verifiable data structure proofs, a map keyed by proof
    /// type.
    pub const VDP: i64 = 396;
    /// Inside a vdp map: inclusion and consistency proofs.
    pub const VDP_INCLUSION: i64 = -1;
    /// Inside a vdp map: consistency proofs.
    pub const VDP_CONSISTENCY: i64 = -2;

    /// A readable name for a header label, for `print-cose`.
    pub fn name(label: i64) -> Option<&'static str> {
        Some(match label {
            ALG => "alg",
            CRIT => "crit",
            CONTENT_TYPE => "content type",
            KID => "kid",
            CWT_CLAIMS => "CWT claims",
            TYP => "typ",
            X5CHAIN => "x5chain",
            X5T => "x5t",
            PAYLOAD_HASH_ALG => "payload hash alg",
            PAYLOAD_PREIMAGE_CONTENT_TYPE => "preimage content type",
            PAYLOAD_LOCATION => "payload location",
            RECEIPTS => "receipts",
            VDS => "vds",
            VDP => "vdp",
            _ => return None,
        })
    }
}

/// CWT claim keys (RFC 8392 §4, RFC 8747 cnf).
pub mod claim {
    /// `iss` (RFC 8392 §3.1.1): the issuer, a text string (SCITT: the statement's signer, often a
    /// DID).
    pub const ISS: i64 = 1;
    /// `sub` (RFC 8392 §3.1.2): the subject, a text string (SCITT: what the statement is about).
    pub const SUB: i64 = 2;
    /// `iat` (RFC 8392 §3.1.6): issued-at, a NumericDate (unix seconds).
    pub const IAT: i64 = 6;
    /// `cnf` (RFC 8747 §3.1): a confirmation key, e.g. `{1: COSE_Key}`.
    pub const CNF: i64 = 8;

    /// A readable name for a CWT claim key (RFC 8392 §4 and `cnf`), for `print-cose`; `None` for
    /// keys not registered there.
    pub fn name(key: i64) -> Option<&'static str> {
        Some(match key {
            ISS => "iss",
            SUB => "sub",
            3 => "aud",
            4 => "exp",
            5 => "nbf",
            IAT => "iat",
            7 => "cti",
            CNF => "cnf",
            _ => return None,
        })
    }
}

/// The COSE tag of a COSE_Sign1 (RFC 9052 §2).
pub const SIGN1_TAG: u64 = 18;

/// Why a COSE_Sign1 could not be read or built on, or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum CoseError {
    /// The input is `size` bytes, more than the `max` allowed ([`MAX_COSE_BYTES`]).
    #[error("{size} bytes is more than the {max}-byte limit for a COSE message")]
    TooLarge {
        /// The input's length in bytes.
        size: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// Not a well-formed COSE_Sign1 (or COSE_Key): bad CBOR, wrong structure, trailing bytes, a
    /// duplicate key in the protected header.
    #[error("not a COSE_Sign1: {0}")]
    Malformed(String),
    /// The CBOR nests deeper than [`MAX_CBOR_DEPTH`]; refused before decoding.
    #[error("CBOR nests deeper than {MAX_CBOR_DEPTH} levels")]
    TooDeep,
    /// A required protected header parameter (e.g. `alg (1)`) is absent.
    #[error("protected header has no {0}")]
    MissingHeader(&'static str),
    /// A header parameter is present but wrong: its type, its place (protected or not), or its
    /// value (an unknown `crit` label, an unsupported hash). `label` and `name` say which.
    #[error("header {label} ({name}): {reason}")]
    BadHeader {
        /// The header label (e.g. 33 for x5chain).
        label: i64,
        /// The label's name, or "?" when it has none.
        name: &'static str,
        /// What is wrong with the parameter.
        reason: String,
    },
    /// The message has no payload and the caller supplied none to verify or hash.
    #[error("the payload is detached and none was given")]
    DetachedPayload,
    /// The algorithm or key is unsupported, or the signature does not verify.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn bad_header(label: i64, reason: impl Into<String>) -> CoseError {
    CoseError::BadHeader {
        label,
        name: self::label::name(label).unwrap_or("?"),
        reason: reason.into(),
    }
}

/// A parsed COSE_Sign1: a signed statement, a transparent statement or a receipt.
#[derive(Clone, Debug)]
pub struct Sign1 {
    inner: coset::CoseSign1,
    tagged: bool,
}

impl Sign1 {
    /// Parses a COSE_Sign1, tagged (18) or not, refusing oversize, over-deep or trailing input.
    pub fn parse(bytes: &[u8]) -> Result<Self, CoseError> {
        let s = Self::decode(bytes, |e| {
            // coset refuses some bad headers itself (an empty crit, a label twice) with terse
            // messages; say which rule the protected header breaks when we can tell.
            match raw_protected(bytes).map(|raw| check_protected(&raw)) {
                Some(Err(ours)) => ours,
                _ => CoseError::Malformed(e.to_string()),
            }
        })?;
        if !s.unprotected().crit.is_empty() {
            return Err(bad_header(
                label::CRIT,
                "crit is in the unprotected header; it must be protected (RFC 9052 §3.1)",
            ));
        }
        check_protected(s.protected_bytes())?;
        Ok(s)
    }

    /// Parses as [`parse`](Self::parse) does, but without the header rules (crit, duplicate
    /// keys): for `print-cose`, which shows a message as it is, trusting nothing in it.
    pub fn parse_for_display(bytes: &[u8]) -> Result<Self, CoseError> {
        Self::decode(bytes, |e| CoseError::Malformed(e.to_string()))
    }

    /// The bounds (size, CBOR depth) and coset's decoding, tagged or not; `malformed` words
    /// coset's refusal.
    fn decode(
        bytes: &[u8],
        malformed: impl FnOnce(coset::CoseError) -> CoseError,
    ) -> Result<Self, CoseError> {
        if bytes.len() > MAX_COSE_BYTES {
            return Err(CoseError::TooLarge {
                size: bytes.len(),
                max: MAX_COSE_BYTES,
            });
        }
        check_depth(bytes)?;
        let tagged = bytes.first() == Some(&0xd2);
        let inner = if tagged {
            coset::CoseSign1::from_tagged_slice(bytes)
        } else {
            coset::CoseSign1::from_slice(bytes)
        }
        .map_err(malformed)?;
        Ok(Sign1 { inner, tagged })
    }

    /// The protected header exactly as encoded in the message (a bstr-wrapped map; empty when
    /// absent): the bytes the signature covers.
    pub fn protected_bytes(&self) -> &[u8] {
        self.inner
            .protected
            .original_data
            .as_deref()
            .unwrap_or_default()
    }

    /// The protected header, parsed.
    pub fn protected(&self) -> &coset::Header {
        &self.inner.protected.header
    }

    /// The unprotected header: not covered by the signature, so nothing in it identifies anyone.
    pub fn unprotected(&self) -> &coset::Header {
        &self.inner.unprotected
    }

    /// The payload; `None` when detached (nil), as in receipts.
    pub fn payload(&self) -> Option<&[u8]> {
        self.inner.payload.as_deref()
    }

    /// The signature bytes (for ECDSA, raw `r‖s`, RFC 9053 §2.1).
    pub fn signature(&self) -> &[u8] {
        &self.inner.signature
    }

    /// Whether the message carried CBOR tag 18 (COSE_Sign1).
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// The signature algorithm from the protected header (RFC 9052 requires it there for us).
    pub fn algorithm(&self) -> Result<Algorithm, CoseError> {
        let alg = self
            .protected()
            .alg
            .as_ref()
            .ok_or(CoseError::MissingHeader("alg (1)"))?;
        let id = match alg {
            coset::RegisteredLabelWithPrivate::Assigned(a) => *a as i64,
            coset::RegisteredLabelWithPrivate::PrivateUse(i) => *i,
            coset::RegisteredLabelWithPrivate::Text(t) => {
                return Err(bad_header(label::ALG, format!("text algorithm '{t}'")));
            }
        };
        Ok(Algorithm::from_cose_id(id)?)
    }

    /// The protected `kid` (label 4); `None` when absent or empty. An unprotected kid is not read.
    pub fn kid(&self) -> Option<&[u8]> {
        let kid = &self.protected().key_id;
        if kid.is_empty() { None } else { Some(kid) }
    }

    /// The content type (label 3), as text whether it was a media type or a CoAP number.
    pub fn content_type(&self) -> Option<String> {
        self.protected().content_type.as_ref().map(|ct| match ct {
            coset::ContentType::Text(t) => t.clone(),
            coset::ContentType::Assigned(a) => format!("coap:{}", *a as i64),
        })
    }

    /// A protected header parameter that coset keeps in `rest` (any label but 1–7).
    pub fn protected_param(&self, label: i64) -> Option<&Value> {
        header_param(self.protected(), label)
    }

    /// An unprotected header parameter that coset keeps in `rest` (any label but 1–7).
    pub fn unprotected_param(&self, label: i64) -> Option<&Value> {
        header_param(self.unprotected(), label)
    }

    /// The CWT claims (label 15) of the protected header.
    pub fn claims(&self) -> Result<CwtClaims, CoseError> {
        match self.protected_param(label::CWT_CLAIMS) {
            None => Ok(CwtClaims::default()),
            Some(v) => CwtClaims::from_value(v),
        }
    }

    /// Certificates of `x5chain` (label 33) in the protected header, leaf first. An x5chain
    /// only in the unprotected header is an error: it is not signed, a log empties that header,
    /// and anyone can swap it, so it identifies no one. (One beside a protected x5chain is
    /// ignored.) `print-cose` shows an unprotected x5chain as data through `unprotected_param`.
    pub fn x5chain(&self) -> Result<Vec<Vec<u8>>, CoseError> {
        let value = self.protected_param(label::X5CHAIN);
        if value.is_none() && self.unprotected_param(label::X5CHAIN).is_some() {
            return Err(bad_header(
                label::X5CHAIN,
                "x5chain is in the unprotected header; only a protected x5chain identifies the signer",
            ));
        }
        match value {
            None => Ok(Vec::new()),
            Some(Value::Bytes(b)) => Ok(vec![b.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Bytes(b) => Ok(b.clone()),
                    _ => Err(bad_header(
                        label::X5CHAIN,
                        "an element is not a byte string",
                    )),
                })
                .collect(),
            Some(_) => Err(bad_header(
                label::X5CHAIN,
                "neither a byte string nor an array",
            )),
        }
    }

    /// The hash envelope parameters (labels 258/259/260), when this is a hash envelope.
    pub fn hash_envelope(&self) -> Result<Option<HashEnvelope>, CoseError> {
        for l in [
            label::PAYLOAD_HASH_ALG,
            label::PAYLOAD_PREIMAGE_CONTENT_TYPE,
            label::PAYLOAD_LOCATION,
        ] {
            if self.unprotected_param(l).is_some() {
                return Err(bad_header(
                    l,
                    "must be in the protected header (hash envelope draft)",
                ));
            }
        }
        let Some(alg) = self.protected_param(label::PAYLOAD_HASH_ALG) else {
            return Ok(None);
        };
        let hash_alg = value_as_i64(alg)
            .and_then(PayloadHashAlg::from_cose_id)
            .ok_or_else(|| {
                bad_header(
                    label::PAYLOAD_HASH_ALG,
                    format!("unsupported hash algorithm {alg:?}"),
                )
            })?;
        if self.protected().content_type.is_some() {
            return Err(bad_header(
                label::CONTENT_TYPE,
                "a hash envelope must not carry a content type",
            ));
        }
        let preimage_content_type = match self.protected_param(label::PAYLOAD_PREIMAGE_CONTENT_TYPE)
        {
            None => None,
            Some(Value::Text(t)) => Some(t.clone()),
            Some(v) => match value_as_i64(v) {
                Some(n) => Some(format!("coap:{n}")),
                None => {
                    return Err(bad_header(
                        label::PAYLOAD_PREIMAGE_CONTENT_TYPE,
                        "not text or uint",
                    ));
                }
            },
        };
        let location = match self.protected_param(label::PAYLOAD_LOCATION) {
            None => None,
            Some(Value::Text(t)) => Some(t.clone()),
            Some(_) => return Err(bad_header(label::PAYLOAD_LOCATION, "not text")),
        };
        Ok(Some(HashEnvelope {
            hash_alg,
            preimage_content_type,
            location,
        }))
    }

    /// The receipts stapled in unprotected header 394, as bytes. Each element may be a byte
    /// string holding a receipt (what implementations write) or an embedded COSE_Sign1 (what the
    /// architecture draft's CDDL shows); both are read, the latter re-encoded.
    pub fn receipts(&self) -> Result<Vec<Vec<u8>>, CoseError> {
        match self.unprotected_param(label::RECEIPTS) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Bytes(b) => Ok(b.clone()),
                    Value::Tag(SIGN1_TAG, _) | Value::Array(_) => {
                        let mut out = Vec::new();
                        ciborium::into_writer(v, &mut out)
                            .map_err(|e| CoseError::Malformed(e.to_string()))?;
                        Ok(out)
                    }
                    _ => Err(bad_header(label::RECEIPTS, "an element is not a receipt")),
                })
                .collect(),
            Some(_) => Err(bad_header(label::RECEIPTS, "not an array")),
        }
    }

    /// The bytes the signature covers: Sig_structure ["Signature1", protected, h'', payload].
    pub fn to_be_signed(&self, detached_payload: Option<&[u8]>) -> Result<Vec<u8>, CoseError> {
        match (self.payload(), detached_payload) {
            (_, Some(p)) => Ok(self.inner.tbs_detached_data(p, b"")),
            (Some(_), None) => Ok(self.inner.tbs_data(b"")),
            (None, None) => Err(CoseError::DetachedPayload),
        }
    }

    /// Checks the signature with `key`. `detached_payload` replaces the payload (receipts sign a
    /// Merkle root that is not in the message).
    pub fn verify_signature(
        &self,
        key: &PublicKey,
        detached_payload: Option<&[u8]>,
    ) -> Result<(), CoseError> {
        let alg = self.algorithm()?;
        let tbs = self.to_be_signed(detached_payload)?;
        key.verify(alg, &tbs, self.signature())?;
        Ok(())
    }

    /// The message with the given unprotected header, encoded with the original protected bytes,
    /// payload and signature (so signatures stay valid), tagged as it came.
    fn encode_with_unprotected(&self, unprotected: coset::Header) -> Vec<u8> {
        let mut copy = self.inner.clone();
        copy.unprotected = unprotected;
        let encoded = if self.tagged {
            copy.to_tagged_vec()
        } else {
            copy.to_vec()
        };
        encoded.expect("re-encoding a parsed COSE_Sign1 cannot fail")
    }

    /// The signed statement as a log commits to it: unprotected header emptied, always tagged
    /// (SCITT architecture, Registration). The CCF data hash and our RFC 9162 leaf are over these
    /// bytes.
    pub fn statement_without_unprotected(&self) -> Vec<u8> {
        let mut copy = self.inner.clone();
        copy.unprotected = coset::Header::default();
        copy.to_tagged_vec()
            .expect("re-encoding a parsed COSE_Sign1 cannot fail")
    }

    /// The message with `receipts` as its header 394 (other unprotected parameters kept).
    pub fn with_receipts(&self, receipts: &[Vec<u8>]) -> Vec<u8> {
        let mut unprotected = self.unprotected().clone();
        unprotected
            .rest
            .retain(|(l, _)| *l != Label::Int(label::RECEIPTS));
        if !receipts.is_empty() {
            let array = receipts.iter().map(|r| Value::Bytes(r.clone())).collect();
            unprotected
                .rest
                .push((Label::Int(label::RECEIPTS), Value::Array(array)));
        }
        self.encode_with_unprotected(unprotected)
    }

    /// Re-encodes the message as parsed.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_with_unprotected(self.unprotected().clone())
    }
}

/// The rules a protected header must meet before anything in it is read (`crit` in the
/// unprotected header is refused by [`Sign1::parse`]):
///
/// - no map in the protected header (CWT claims included, at any depth) has a key twice —
///   decoders disagree on which one wins (RFC 8949 §5.6: such a map is not valid);
/// - `crit` (RFC 9052 §3.1) is a non-empty array whose labels are
///   all present in the protected header and, for a statement, all understood here. A
///   receipt's (vds present) critical labels are judged by `core::receipt` for its profile.
fn check_protected(raw: &[u8]) -> Result<(), CoseError> {
    if raw.is_empty() {
        return Ok(());
    }
    let map: Value = ciborium::from_reader(raw)
        .map_err(|e| CoseError::Malformed(format!("protected header: {e}")))?;
    let Value::Map(entries) = &map else {
        return Err(CoseError::Malformed("protected header is not a map".into()));
    };
    check_unique_keys(&map, &mut Vec::new())?;
    let Some((_, crit)) = entries
        .iter()
        .find(|(k, _)| value_as_i64(k) == Some(label::CRIT))
    else {
        return Ok(());
    };
    let Value::Array(labels) = crit else {
        return Err(bad_header(label::CRIT, "not an array"));
    };
    if labels.is_empty() {
        return Err(bad_header(
            label::CRIT,
            "an empty array (RFC 9052 §3.1: it must list at least one label)",
        ));
    }
    let is_receipt = entries
        .iter()
        .any(|(k, _)| value_as_i64(k) == Some(label::VDS));
    for l in labels {
        let shown = match l {
            Value::Text(t) => format!("\"{t}\""),
            other => match value_as_i64(other) {
                Some(n) => match label::name(n) {
                    Some(name) => format!("{n} ({name})"),
                    None => n.to_string(),
                },
                None => {
                    return Err(bad_header(
                        label::CRIT,
                        "a label is neither an integer nor text",
                    ));
                }
            },
        };
        if !entries.iter().any(|(k, _)| k == l) {
            return Err(bad_header(
                label::CRIT,
                format!("lists {shown}, which is not in the protected header"),
            ));
        }
        let understood = value_as_i64(l).is_some_and(|n| UNDERSTOOD_STATEMENT_LABELS.contains(&n));
        if !understood && !is_receipt {
            return Err(bad_header(
                label::CRIT,
                format!(
                    "marks {shown} critical, which modelseal does not process (RFC 9052 §3.1: reject)"
                ),
            ));
        }
    }
    Ok(())
}

/// The protected header's bytes of a (tagged or untagged) COSE_Sign1, decoded without coset.
fn raw_protected(bytes: &[u8]) -> Option<Vec<u8>> {
    let value: Value = ciborium::from_reader(bytes).ok()?;
    let value = match value {
        Value::Tag(SIGN1_TAG, inner) => *inner,
        other => other,
    };
    match value {
        Value::Array(mut items) if !items.is_empty() => match items.swap_remove(0) {
            Value::Bytes(b) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

/// Labels a statement may mark critical: the ones modelseal processes (alg, crit, content type,
/// kid, CWT claims, x5chain, x5t, the hash envelope's 258/259/260).
pub const UNDERSTOOD_STATEMENT_LABELS: [i64; 10] = [
    label::ALG,
    label::CRIT,
    label::CONTENT_TYPE,
    label::KID,
    label::CWT_CLAIMS,
    label::X5CHAIN,
    label::X5T,
    label::PAYLOAD_HASH_ALG,
    label::PAYLOAD_PREIMAGE_CONTENT_TYPE,
    label::PAYLOAD_LOCATION,
];

/// A map key as the user reads it: `1 (iss)` inside CWT claims, `15 (CWT claims)` at the top of
/// a header, `"svn"` for text.
fn show_key(key: &Value, parent: Option<&Value>) -> String {
    match key {
        Value::Text(t) => format!("\"{t}\""),
        other => match value_as_i64(other) {
            Some(n) => {
                let name = match parent.map(value_as_i64) {
                    None => self::label::name(n),
                    Some(Some(label::CWT_CLAIMS)) => claim::name(n),
                    Some(_) => None,
                };
                match name {
                    Some(name) => format!("{n} ({name})"),
                    None => n.to_string(),
                }
            }
            None => format!("{other:?}"),
        },
    }
}

/// Refuses a map (at any depth under `value`) with a key twice. `path` holds the map keys above
/// `value`, for the message.
fn check_unique_keys(value: &Value, path: &mut Vec<Value>) -> Result<(), CoseError> {
    match value {
        Value::Map(entries) => {
            let mut seen = std::collections::HashSet::with_capacity(entries.len());
            for (k, v) in entries {
                let mut encoded = Vec::new();
                ciborium::into_writer(k, &mut encoded)
                    .map_err(|e| CoseError::Malformed(e.to_string()))?;
                if !seen.insert(encoded) {
                    let key = show_key(k, path.last());
                    let Some(top) = path.first() else {
                        return Err(CoseError::Malformed(format!(
                            "the protected header has key {key} twice; duplicate map keys are refused"
                        )));
                    };
                    let inside = if path.len() > 1 {
                        let above: Vec<String> = path[1..]
                            .iter()
                            .enumerate()
                            .map(|(i, k)| show_key(k, Some(&path[i])))
                            .collect();
                        format!(" (inside {})", above.join(" / "))
                    } else {
                        String::new()
                    };
                    let reason =
                        format!("key {key} appears twice{inside}; duplicate map keys are refused");
                    return Err(match value_as_i64(top) {
                        Some(l) => bad_header(l, reason),
                        None => CoseError::Malformed(format!(
                            "protected header {}: {reason}",
                            show_key(top, None)
                        )),
                    });
                }
                path.push(k.clone());
                check_unique_keys(v, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_unique_keys(v, path)),
        Value::Tag(_, inner) => check_unique_keys(inner, path),
        _ => Ok(()),
    }
}

fn header_param(header: &coset::Header, label: i64) -> Option<&Value> {
    header
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(label))
        .map(|(_, v)| v)
}

/// A CBOR integer as `i64`; `None` for any other type or an integer outside the `i64` range.
pub fn value_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(*i).ok(),
        _ => None,
    }
}

/// Hash algorithms a hash envelope may name (label 258).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadHashAlg {
    /// SHA-256 (COSE -16).
    Sha256,
    /// SHA-384 (COSE -43).
    Sha384,
    /// SHA-512 (COSE -44).
    Sha512,
}

impl PayloadHashAlg {
    /// The COSE algorithm identifier (IANA "COSE Algorithms"): -16, -43 or -44.
    pub fn cose_id(self) -> i64 {
        match self {
            PayloadHashAlg::Sha256 => -16,
            PayloadHashAlg::Sha384 => -43,
            PayloadHashAlg::Sha512 => -44,
        }
    }

    /// The hash for a COSE identifier; `None` for any other (including SHA-512/256 and SHAKE).
    pub fn from_cose_id(id: i64) -> Option<Self> {
        [
            PayloadHashAlg::Sha256,
            PayloadHashAlg::Sha384,
            PayloadHashAlg::Sha512,
        ]
        .into_iter()
        .find(|a| a.cose_id() == id)
    }

    /// The hash's name for messages ("SHA-256").
    pub fn name(self) -> &'static str {
        match self {
            PayloadHashAlg::Sha256 => "SHA-256",
            PayloadHashAlg::Sha384 => "SHA-384",
            PayloadHashAlg::Sha512 => "SHA-512",
        }
    }

    /// The hash of `data`: 32, 48 or 64 bytes.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            PayloadHashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            PayloadHashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            PayloadHashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl std::str::FromStr for PayloadHashAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(PayloadHashAlg::Sha256),
            "sha384" => Ok(PayloadHashAlg::Sha384),
            "sha512" => Ok(PayloadHashAlg::Sha512),
            _ => Err(format!("unknown hash '{s}' (sha256, sha384, sha512)")),
        }
    }
}

/// Hash envelope parameters (draft-ietf-cose-hash-envelope): the payload is a hash of the preimage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEnvelope {
    /// `payload_hash_alg` (258): the hash the payload is of the preimage.
    pub hash_alg: PayloadHashAlg,
    /// `preimage_content_type` (259): the preimage's media type; a CoAP number reads as `coap:N`.
    pub preimage_content_type: Option<String>,
    /// `payload_location` (260): where the preimage may be found.
    pub location: Option<String>,
}

/// CWT claims as SCITT uses them (label 15). Other claims, including text-keyed ones like the
/// real vector's `"svn"`, are kept in `other`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CwtClaims {
    /// `iss` (claim 1): who issued the statement or receipt.
    pub iss: Option<String>,
    /// `sub` (claim 2): what it is about.
    pub sub: Option<String>,
    /// Seconds since the epoch; read whether or not it carries CBOR tag 1 (the real vector's does).
    pub iat: Option<i64>,
    /// `cnf` (claim 8, RFC 8747) as decoded: a confirmation key map.
    pub cnf: Option<Value>,
    /// Every other claim, key and value in the order they came.
    pub other: Vec<(Value, Value)>,
}

impl CwtClaims {
    /// Reads a CWT claims map. Refuses a value that is not a map, a non-text `iss` or `sub`, and an
    /// `iat` that is not a number (a float is truncated to whole seconds).
    pub fn from_value(value: &Value) -> Result<Self, CoseError> {
        let Value::Map(entries) = value else {
            return Err(bad_header(label::CWT_CLAIMS, "not a map"));
        };
        let mut claims = CwtClaims::default();
        for (k, v) in entries {
            let text = |name: &str| match v {
                Value::Text(t) => Ok(t.clone()),
                _ => Err(bad_header(label::CWT_CLAIMS, format!("{name} is not text"))),
            };
            match value_as_i64(k) {
                Some(claim::ISS) => claims.iss = Some(text("iss")?),
                Some(claim::SUB) => claims.sub = Some(text("sub")?),
                Some(claim::IAT) => {
                    let inner = match v {
                        Value::Tag(1, inner) => inner.as_ref(),
                        other => other,
                    };
                    // A NumericDate may carry fractional seconds (RFC 8392 §2); NaN, the
                    // infinities and values past any plausible date are refused, not saturated.
                    let secs = match inner {
                        Value::Float(f) if f.is_finite() && f.abs() < 1e15 => {
                            Some(f.floor() as i64)
                        }
                        Value::Float(_) => None,
                        other => value_as_i64(other),
                    };
                    claims.iat = Some(secs.ok_or_else(|| {
                        bad_header(label::CWT_CLAIMS, "iat is not a finite NumericDate")
                    })?);
                }
                Some(claim::CNF) => claims.cnf = Some(v.clone()),
                _ => claims.other.push((k.clone(), v.clone())),
            }
        }
        Ok(claims)
    }

    /// The claims as a CBOR map: iss, sub, iat, cnf in key order, then `other` as it stands.
    pub fn to_value(&self) -> Value {
        let mut entries = Vec::new();
        if let Some(iss) = &self.iss {
            entries.push((Value::from(claim::ISS), Value::Text(iss.clone())));
        }
        if let Some(sub) = &self.sub {
            entries.push((Value::from(claim::SUB), Value::Text(sub.clone())));
        }
        if let Some(iat) = self.iat {
            entries.push((Value::from(claim::IAT), Value::from(iat)));
        }
        if let Some(cnf) = &self.cnf {
            entries.push((Value::from(claim::CNF), cnf.clone()));
        }
        entries.extend(self.other.iter().cloned());
        Value::Map(entries)
    }
}

/// What goes into a protected header we build. Unset fields are left out.
#[derive(Debug, Clone, Default)]
pub struct ProtectedParams {
    /// `content type` (3): the payload's media type.
    pub content_type: Option<String>,
    /// `kid` (4).
    pub kid: Option<Vec<u8>>,
    /// `CWT claims` (15).
    pub claims: Option<CwtClaims>,
    /// `x5chain` (33): DER certificates, leaf first; one is written as a bstr, several as an array.
    pub x5chain: Vec<Vec<u8>>,
    /// Hash envelope parameters (258/259/260).
    pub hash_envelope: Option<HashEnvelope>,
    /// Further parameters (e.g. a receipt's vds), in label order after the ones above.
    pub extra: Vec<(i64, Value)>,
}

/// Signs `payload` into a tagged COSE_Sign1 with `key`. With `detached`, the payload is signed
/// but left out of the message (nil), as receipts do with their Merkle root.
pub fn sign1(
    key: &PrivateKey,
    params: &ProtectedParams,
    unprotected: Vec<(i64, Value)>,
    payload: &[u8],
    detached: bool,
) -> Vec<u8> {
    let mut builder = coset::HeaderBuilder::new().algorithm(iana_alg(key.algorithm()));
    if let Some(ct) = &params.content_type {
        builder = builder.content_type(ct.clone());
    }
    if let Some(kid) = &params.kid {
        builder = builder.key_id(kid.clone());
    }
    let mut rest: Vec<(i64, Value)> = Vec::new();
    if let Some(claims) = &params.claims {
        rest.push((label::CWT_CLAIMS, claims.to_value()));
    }
    match params.x5chain.as_slice() {
        [] => {}
        [one] => rest.push((label::X5CHAIN, Value::Bytes(one.clone()))),
        many => rest.push((
            label::X5CHAIN,
            Value::Array(many.iter().cloned().map(Value::Bytes).collect()),
        )),
    }
    if let Some(env) = &params.hash_envelope {
        rest.push((label::PAYLOAD_HASH_ALG, Value::from(env.hash_alg.cose_id())));
        if let Some(ct) = &env.preimage_content_type {
            rest.push((
                label::PAYLOAD_PREIMAGE_CONTENT_TYPE,
                Value::Text(ct.clone()),
            ));
        }
        if let Some(loc) = &env.location {
            rest.push((label::PAYLOAD_LOCATION, Value::Text(loc.clone())));
        }
    }
    rest.extend(params.extra.iter().cloned());
    // Deterministic order (RFC 8949 §4.2.1 for integer keys): ascending, negatives after positives.
    rest.sort_by_key(|(l, _)| {
        if *l >= 0 {
            (0, *l as u64)
        } else {
            (1, (-1 - *l) as u64)
        }
    });
    for (l, v) in rest {
        builder = builder.value(l, v);
    }
    let protected = builder.build();
    let mut unprotected_header = coset::Header::default();
    for (l, v) in unprotected {
        unprotected_header.rest.push((Label::Int(l), v));
    }
    let mut sign1 = coset::CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected_header)
        .payload(payload.to_vec())
        .create_signature(b"", |tbs| key.sign(tbs))
        .build();
    if detached {
        sign1.payload = None;
    }
    sign1
        .to_tagged_vec()
        .expect("encoding a built COSE_Sign1 cannot fail")
}

fn iana_alg(alg: Algorithm) -> coset::iana::Algorithm {
    use coset::iana::Algorithm as A;
    match alg {
        Algorithm::ES256 => A::ES256,
        Algorithm::ES384 => A::ES384,
        Algorithm::ES512 => A::ES512,
        Algorithm::EdDSA => A::EdDSA,
        Algorithm::PS256 => A::PS256,
        Algorithm::PS384 => A::PS384,
        Algorithm::PS512 => A::PS512,
    }
}

/// A public key as a COSE_Key map (RFC 9052 §7, RFC 9053 §7): EC2 or OKP (Ed25519); `None` for
/// RSA, which no key we publish uses. Parameters in deterministic order (RFC 8949 §4.2.1).
pub fn cose_key(key: &PublicKey, kid: Option<&[u8]>) -> Option<Value> {
    let mut entries: Vec<(Value, Value)> = Vec::new();
    if let Some((x, y)) = key.ec_coordinates() {
        let crv = match key {
            PublicKey::P256(_) => 1,
            PublicKey::P384(_) => 2,
            _ => 3,
        };
        entries.push((Value::from(1), Value::from(2))); // kty EC2
        if let Some(kid) = kid {
            entries.push((Value::from(2), Value::Bytes(kid.to_vec())));
        }
        entries.push((Value::from(-1), Value::from(crv)));
        entries.push((Value::from(-2), Value::Bytes(x)));
        entries.push((Value::from(-3), Value::Bytes(y)));
    } else if let Some(x) = key.ed25519_bytes() {
        entries.push((Value::from(1), Value::from(1))); // kty OKP
        if let Some(kid) = kid {
            entries.push((Value::from(2), Value::Bytes(kid.to_vec())));
        }
        entries.push((Value::from(-1), Value::from(6))); // Ed25519
        entries.push((Value::from(-2), Value::Bytes(x.to_vec())));
    } else {
        return None;
    }
    Some(Value::Map(entries))
}

/// The COSE Key Thumbprint (RFC 9679, SHA-256): what SCRAPI recommends as a key's kid, and our
/// default kid for statements signed with a bare key.
pub fn key_thumbprint(key: &PublicKey) -> Option<Vec<u8>> {
    let map = cose_key(key, None)?;
    let mut bytes = Vec::new();
    ciborium::into_writer(&map, &mut bytes).ok()?;
    use sha2::Digest;
    Some(sha2::Sha256::digest(&bytes).to_vec())
}

/// A public key from a COSE_Key map. Tolerates the text forms DataTrails' MMR receipts carry in
/// their `cnf` claim (kty "EC", crv "P-256") besides the registered integers.
pub fn public_key_from_cose_key(value: &Value) -> Result<PublicKey, CoseError> {
    let bad = |reason: &str| CoseError::Malformed(format!("COSE_Key: {reason}"));
    let Value::Map(entries) = value else {
        return Err(bad("not a map"));
    };
    let get = |k: i64| {
        entries
            .iter()
            .find(|(key, _)| value_as_i64(key) == Some(k))
            .map(|(_, v)| v)
    };
    let bytes = |k: i64, name: &str| match get(k) {
        Some(Value::Bytes(b)) => Ok(b.as_slice()),
        _ => Err(bad(&format!("no {name}"))),
    };
    let kty = match get(1) {
        Some(Value::Text(t)) => t.clone(),
        Some(v) => match value_as_i64(v) {
            Some(1) => "OKP".into(),
            Some(2) => "EC".into(),
            other => return Err(bad(&format!("unsupported kty {other:?}"))),
        },
        None => return Err(bad("no kty")),
    };
    let crv = match get(-1) {
        Some(Value::Text(t)) => t.clone(),
        Some(v) => match value_as_i64(v) {
            Some(1) => "P-256".into(),
            Some(2) => "P-384".into(),
            Some(3) => "P-521".into(),
            Some(6) => "Ed25519".into(),
            other => return Err(bad(&format!("unsupported crv {other:?}"))),
        },
        None => return Err(bad("no crv")),
    };
    match (kty.as_str(), crv.as_str()) {
        ("EC" | "EC2", curve) => Ok(PublicKey::from_ec_coordinates(
            curve,
            bytes(-2, "x")?,
            bytes(-3, "y")?,
        )?),
        ("OKP", "Ed25519") => Ok(PublicKey::from_ed25519_bytes(bytes(-2, "x")?)?),
        (k, c) => Err(bad(&format!("unsupported key type {k} / {c}"))),
    }
}

/// Walks CBOR item heads to check nesting depth without building anything, so a hostile
/// `[[[[...]]]]` is refused before a recursive decoder sees it. Malformed input is left for the
/// real decoder to report.
pub fn check_depth(bytes: &[u8]) -> Result<(), CoseError> {
    // Each stack entry: items still to read in an open container (u64::MAX for indefinite).
    let mut stack: Vec<u64> = Vec::new();
    let mut pos = 0usize;
    let mut remaining_top = 1u64; // top-level items we expect (the rest is "extraneous data")
    loop {
        // Close finished containers.
        while let Some(&0) = stack.last() {
            stack.pop();
        }
        if stack.is_empty() && remaining_top == 0 {
            return Ok(());
        }
        let Some(&initial) = bytes.get(pos) else {
            return Ok(());
        };
        pos += 1;
        if let Some(top) = stack.last_mut() {
            if initial == 0xff && *top == u64::MAX {
                stack.pop();
                continue;
            }
            if *top != u64::MAX {
                *top -= 1;
            }
        } else {
            remaining_top -= 1;
        }
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => Some(info as u64),
            24..=27 => {
                let n = 1usize << (info - 24);
                let Some(raw) = bytes.get(pos..pos + n) else {
                    return Ok(());
                };
                pos += n;
                Some(raw.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
            }
            31 => None,
            _ => return Ok(()),
        };
        match major {
            2 | 3 => match arg {
                Some(len) => pos = pos.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)),
                None => stack.push(u64::MAX), // indefinite string: chunks until 0xff
            },
            4 | 5 => {
                let items = match arg {
                    Some(n) if major == 5 => n.saturating_mul(2),
                    Some(n) => n,
                    None => u64::MAX,
                };
                if items > 0 {
                    stack.push(items);
                }
            }
            6 => {
                // A tag wraps exactly one item: count it as a one-item container.
                stack.push(1);
            }
            _ => {}
        }
        if stack.len() > MAX_CBOR_DEPTH {
            return Err(CoseError::TooDeep);
        }
        if pos > bytes.len() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../shared/vectors/scitt-for-phi/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn the_real_statement_parses_with_its_scitt_headers() {
        let s = Sign1::parse(&vector("signed-statement.scitt")).unwrap();
        assert_eq!(s.algorithm().unwrap(), Algorithm::PS384);
        let claims = s.claims().unwrap();
        assert_eq!(
            claims.sub.as_deref(),
            Some("experimental/microsoft/phi-4-reasoning")
        );
        assert!(
            claims
                .iss
                .unwrap()
                .starts_with("did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s")
        );
        assert_eq!(claims.iat, Some(1750370739));
        assert_eq!(s.x5chain().unwrap().len(), 3);
        let env = s.hash_envelope().unwrap().unwrap();
        assert_eq!(env.hash_alg, PayloadHashAlg::Sha384);
        assert_eq!(
            env.preimage_content_type.as_deref(),
            Some("application/vnd.in-toto+json")
        );
        assert_eq!(
            s.payload().unwrap(),
            PayloadHashAlg::Sha384.digest(&vector("model-manifest.json"))
        );
        assert!(s.receipts().unwrap().is_empty());
    }

    #[test]
    fn removing_receipts_gives_the_signed_statement_byte_for_byte() {
        let signed = vector("signed-statement.scitt");
        for name in ["1ts-statement.scitt", "2ts-statement.scitt"] {
            let ts = Sign1::parse(&vector(name)).unwrap();
            assert_eq!(ts.statement_without_unprotected(), signed, "{name}");
        }
    }

    #[test]
    fn stapling_the_mmr_receipt_on_1ts_reproduces_2ts_exactly() {
        let one = Sign1::parse(&vector("1ts-statement.scitt")).unwrap();
        let mut receipts = one.receipts().unwrap();
        assert_eq!(receipts.len(), 1);
        receipts.push(vector("datatrails-mmr.receipt"));
        assert_eq!(one.with_receipts(&receipts), vector("2ts-statement.scitt"));
        assert_eq!(
            Sign1::parse(&vector("2ts-statement.scitt"))
                .unwrap()
                .to_bytes(),
            vector("2ts-statement.scitt")
        );
    }

    #[test]
    fn built_statements_verify_and_a_flipped_byte_does_not() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let params = ProtectedParams {
            content_type: Some("application/vnd.in-toto+json".into()),
            kid: Some(b"k".to_vec()),
            claims: Some(CwtClaims {
                iss: Some("iss".into()),
                sub: Some("sub".into()),
                iat: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let bytes = sign1(&key, &params, vec![], b"{}", false);
        let s = Sign1::parse(&bytes).unwrap();
        s.verify_signature(&key.public_key(), None).unwrap();
        assert_eq!(s.claims().unwrap().sub.as_deref(), Some("sub"));
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            if let Ok(s) = Sign1::parse(&bad) {
                assert!(
                    s.verify_signature(&key.public_key(), None).is_err(),
                    "flip at {i} still verifies"
                );
            }
        }
    }

    /// A tagged COSE_Sign1 with the protected header encoded exactly as given (duplicates and
    /// all), signed by `key`.
    fn raw_statement(
        key: &PrivateKey,
        protected: Vec<(Value, Value)>,
        unprotected: Vec<(Value, Value)>,
    ) -> Vec<u8> {
        let mut prot = Vec::new();
        ciborium::into_writer(&Value::Map(protected), &mut prot).unwrap();
        let payload = b"{}".to_vec();
        let tbs = Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(prot.clone()),
            Value::Bytes(vec![]),
            Value::Bytes(payload.clone()),
        ]);
        let mut tbs_bytes = Vec::new();
        ciborium::into_writer(&tbs, &mut tbs_bytes).unwrap();
        let msg = Value::Tag(
            SIGN1_TAG,
            Box::new(Value::Array(vec![
                Value::Bytes(prot),
                Value::Map(unprotected),
                Value::Bytes(payload),
                Value::Bytes(key.sign(&tbs_bytes)),
            ])),
        );
        let mut out = Vec::new();
        ciborium::into_writer(&msg, &mut out).unwrap();
        out
    }

    #[test]
    fn a_float_iat_is_a_numeric_date_only_when_finite() {
        let with_iat = |iat: Value| {
            CwtClaims::from_value(&Value::Map(vec![
                (Value::Integer(1.into()), Value::Text("i".into())),
                (Value::Integer(6.into()), iat),
            ]))
        };
        assert_eq!(
            with_iat(Value::Float(1.7e9 + 0.5)).unwrap().iat,
            Some(1_700_000_000)
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
            let err = with_iat(Value::Float(bad)).unwrap_err();
            assert!(
                err.to_string().contains("finite NumericDate"),
                "{bad}: {err}"
            );
        }
    }

    fn claims_map(entries: &[(i64, &str)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(*k), Value::Text(v.to_string())))
                .collect(),
        )
    }

    fn base_header(extra: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
        let mut h = vec![
            (Value::from(label::ALG), Value::from(-7)),
            (Value::from(label::KID), Value::Bytes(b"k".to_vec())),
            (
                Value::from(label::CWT_CLAIMS),
                claims_map(&[(claim::ISS, "a"), (claim::SUB, "s")]),
            ),
        ];
        h.extend(extra);
        h
    }

    fn err_of(bytes: &[u8]) -> String {
        Sign1::parse(bytes).unwrap_err().to_string()
    }

    #[test]
    fn crit_must_be_protected_non_empty_present_and_understood() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let crit = |labels: Vec<Value>| (Value::from(label::CRIT), Value::Array(labels));
        // Understood and present: fine, and the signature verifies.
        let ok = raw_statement(
            &key,
            base_header(vec![crit(vec![Value::from(label::CWT_CLAIMS)])]),
            vec![],
        );
        let s = Sign1::parse(&ok).unwrap();
        s.verify_signature(&key.public_key(), None).unwrap();
        // typ (16) is a label coset knows, but modelseal does not process it.
        let typ = raw_statement(
            &key,
            base_header(vec![
                crit(vec![Value::from(label::TYP)]),
                (Value::from(label::TYP), Value::Text("application/x".into())),
            ]),
            vec![],
        );
        let e = err_of(&typ);
        assert!(
            e.contains("16 (typ)") && e.contains("does not process"),
            "{e}"
        );
        // A private label and a text label, present but not understood.
        for (l, shown) in [
            (Value::from(-70000), "-70000"),
            (Value::Text("x-custom".into()), "\"x-custom\""),
        ] {
            let b = raw_statement(
                &key,
                base_header(vec![crit(vec![l.clone()]), (l, Value::from(1))]),
                vec![],
            );
            let e = err_of(&b);
            assert!(e.contains(shown) && e.contains("does not process"), "{e}");
        }
        // Listed but absent from the protected header.
        let absent = raw_statement(
            &key,
            base_header(vec![crit(vec![Value::from(label::X5CHAIN)])]),
            vec![],
        );
        let e = err_of(&absent);
        assert!(
            e.contains("33 (x5chain), which is not in the protected header"),
            "{e}"
        );
        // Empty.
        let empty = raw_statement(&key, base_header(vec![crit(vec![])]), vec![]);
        assert!(err_of(&empty).contains("empty array"), "{}", err_of(&empty));
        // In the unprotected header.
        let unprot = raw_statement(
            &key,
            base_header(vec![]),
            vec![crit(vec![Value::from(label::CWT_CLAIMS)])],
        );
        assert!(
            err_of(&unprot).contains("crit is in the unprotected header"),
            "{}",
            err_of(&unprot)
        );
        // print-cose still reads what coset can (coset itself refuses an empty crit).
        for b in [&typ, &absent] {
            Sign1::parse_for_display(b).unwrap();
        }
    }

    #[test]
    fn duplicate_keys_in_claims_or_the_protected_header_are_refused() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let two_iss = raw_statement(
            &key,
            vec![
                (Value::from(label::ALG), Value::from(-7)),
                (Value::from(label::KID), Value::Bytes(b"k".to_vec())),
                (
                    Value::from(label::CWT_CLAIMS),
                    claims_map(&[
                        (claim::ISS, "good"),
                        (claim::SUB, "s"),
                        (claim::ISS, "evil"),
                    ]),
                ),
            ],
            vec![],
        );
        let e = err_of(&two_iss);
        assert!(
            e.contains("header 15 (CWT claims)") && e.contains("key 1 (iss) appears twice"),
            "{e}"
        );
        // Nested inside a claim (cnf).
        let nested = raw_statement(
            &key,
            base_header(vec![])
                .into_iter()
                .map(|(k, v)| {
                    if k == Value::from(label::CWT_CLAIMS) {
                        let mut c = match v {
                            Value::Map(m) => m,
                            _ => unreachable!(),
                        };
                        c.push((
                            Value::from(claim::CNF),
                            Value::Map(vec![
                                (Value::from(1), Value::from(1)),
                                (Value::from(1), Value::from(2)),
                            ]),
                        ));
                        (k, Value::Map(c))
                    } else {
                        (k, v)
                    }
                })
                .collect(),
            vec![],
        );
        let e = err_of(&nested);
        assert!(e.contains("appears twice (inside 8 (cnf))"), "{e}");
        // A text-keyed claim twice.
        let text = raw_statement(
            &key,
            base_header(vec![])
                .into_iter()
                .map(|(k, v)| {
                    if k == Value::from(label::CWT_CLAIMS) {
                        let mut c = match v {
                            Value::Map(m) => m,
                            _ => unreachable!(),
                        };
                        c.push((Value::Text("svn".into()), Value::from(1)));
                        c.push((Value::Text("svn".into()), Value::from(2)));
                        (k, Value::Map(c))
                    } else {
                        (k, v)
                    }
                })
                .collect(),
            vec![],
        );
        assert!(
            err_of(&text).contains("key \"svn\" appears twice"),
            "{}",
            err_of(&text)
        );
        // The same header label twice (coset refuses it too; either way it is an error).
        let two_kids = raw_statement(
            &key,
            base_header(vec![(
                Value::from(label::KID),
                Value::Bytes(b"other".to_vec()),
            )]),
            vec![],
        );
        let e = err_of(&two_kids);
        assert!(e.contains("key 4 (kid) twice"), "{e}");
        let two_x5 = raw_statement(
            &key,
            base_header(vec![
                (Value::from(label::X5CHAIN), Value::Bytes(vec![1])),
                (Value::from(label::X5CHAIN), Value::Bytes(vec![2])),
            ]),
            vec![],
        );
        let e = err_of(&two_x5);
        assert!(e.contains("key 33 (x5chain) twice"), "{e}");
    }

    #[test]
    fn an_x5chain_only_in_the_unprotected_header_identifies_no_one() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let cert = vector("signed-statement.scitt");
        let chain = Sign1::parse(&cert).unwrap().x5chain().unwrap();
        let unprot = raw_statement(
            &key,
            base_header(vec![]),
            vec![(Value::from(label::X5CHAIN), Value::Bytes(chain[0].clone()))],
        );
        let s = Sign1::parse(&unprot).unwrap();
        let e = s.x5chain().unwrap_err().to_string();
        assert!(
            e.contains("x5chain is in the unprotected header; only a protected x5chain identifies the signer"),
            "{e}"
        );
        // Still visible as data.
        assert!(s.unprotected_param(label::X5CHAIN).is_some());
        assert!(s.protected_param(label::X5CHAIN).is_none());
        // A protected one is read; an unprotected one beside it is ignored.
        let both = raw_statement(
            &key,
            base_header(vec![(
                Value::from(label::X5CHAIN),
                Value::Bytes(chain[0].clone()),
            )]),
            vec![(Value::from(label::X5CHAIN), Value::Bytes(chain[1].clone()))],
        );
        assert_eq!(
            Sign1::parse(&both).unwrap().x5chain().unwrap(),
            vec![chain[0].clone()]
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_decoding() {
        let mut deep = vec![0x81u8; 10_000];
        deep.push(0x00);
        assert!(matches!(Sign1::parse(&deep), Err(CoseError::TooDeep)));
        assert!(check_depth(&vector("2ts-statement.scitt")).is_ok());
    }

    #[test]
    fn truncated_or_trailing_input_is_an_error_not_a_panic() {
        let bytes = vector("2ts-statement.scitt");
        for cut in [0, 1, 5, bytes.len() / 2, bytes.len() - 1] {
            assert!(Sign1::parse(&bytes[..cut]).is_err());
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Sign1::parse(&extra).is_err());
    }
}
