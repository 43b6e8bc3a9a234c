//! Signed statements with headers exactly as given — duplicates, odd crit, an x5chain in the
//! unprotected header — which `modelseal sign` rightly never writes, to test that readers refuse them.

use ciborium::Value;
use modelseal::core::cose::{SIGN1_TAG, claim, key_thumbprint, label};
use modelseal::core::crypto::PrivateKey;

/// A tagged COSE_Sign1 over `payload`, signed by `key`, with the protected header encoded exactly
/// as `protected` lists it (in order, duplicates kept) and the given unprotected header.
pub fn sign1(
    key: &PrivateKey,
    protected: Vec<(Value, Value)>,
    unprotected: Vec<(Value, Value)>,
    payload: &[u8],
) -> Vec<u8> {
    let mut prot = Vec::new();
    ciborium::into_writer(&Value::Map(protected), &mut prot).unwrap();
    let tbs = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(prot.clone()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.to_vec()),
    ]);
    let mut tbs_bytes = Vec::new();
    ciborium::into_writer(&tbs, &mut tbs_bytes).unwrap();
    let message = Value::Tag(
        SIGN1_TAG,
        Box::new(Value::Array(vec![
            Value::Bytes(prot),
            Value::Map(unprotected),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(key.sign(&tbs_bytes)),
        ])),
    );
    let mut out = Vec::new();
    ciborium::into_writer(&message, &mut out).unwrap();
    out
}

/// CWT claims as a map with entries in the order given (a key may repeat).
pub fn claims(entries: &[(i64, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

/// The usual claims: iss, sub and iat.
pub fn iss_sub_iat(iss: &str, sub: &str, iat: i64) -> Value {
    claims(&[
        (claim::ISS, Value::Text(iss.into())),
        (claim::SUB, Value::Text(sub.into())),
        (claim::IAT, Value::from(iat)),
    ])
}

/// alg (ES256 = -7), content type application/json, kid = the key's COSE thumbprint, and
/// `claims`; then `extra` parameters in order.
pub fn header_with_kid(
    key: &PrivateKey,
    claims: Value,
    extra: Vec<(Value, Value)>,
) -> Vec<(Value, Value)> {
    let mut h = vec![
        (Value::from(label::ALG), Value::from(-7)),
        (
            Value::from(label::CONTENT_TYPE),
            Value::Text("application/json".into()),
        ),
        (
            Value::from(label::KID),
            Value::Bytes(key_thumbprint(&key.public_key()).unwrap()),
        ),
        (Value::from(label::CWT_CLAIMS), claims),
    ];
    h.extend(extra);
    h
}
