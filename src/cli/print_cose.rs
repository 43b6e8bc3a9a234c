//! `modelseal print-cose`: a readable dump of any COSE_Sign1 — signed statement, transparent
//! statement or receipt — with header labels by name, CWT claims, certificates, payload and
//! nested receipts with their proofs.

use super::Outcome;
use super::output::Output;
use anyhow::{Context, Result};
use ciborium::Value;
use modelseal::core::cose::{self, MAX_COSE_BYTES, Sign1, claim, label};
use modelseal::core::x509;
use serde_json::{Map, Value as Json, json};
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal print-cose 2ts-statement.scitt
  modelseal print-cose receipt.cose --format json | jq .protected";

/// Show what a COSE_Sign1 file holds.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PrintCoseArgs {
    /// The COSE file to show: a signed or transparent statement, or a receipt.
    file: PathBuf,
}

pub fn run(args: PrintCoseArgs, out: &Output) -> Result<Outcome> {
    let bytes = super::trust::read_input(&args.file, MAX_COSE_BYTES as u64)?;
    // Shown as it is, even when a verifier would refuse it; the refusal is shown too.
    let sign1 =
        Sign1::parse_for_display(&bytes).with_context(|| format!("{}", args.file.display()))?;
    let mut dump = describe(&sign1, 0);
    if let (Err(e), Json::Object(obj)) = (Sign1::parse(&bytes), &mut dump) {
        obj.insert("refused".into(), json!(e.to_string()));
    }
    if out.is_json() {
        out.json(&dump);
    } else {
        let mut text = String::new();
        render(&dump, 0, &mut text);
        say!("{text}");
    }
    Ok(Outcome::Success)
}

/// Receipts inside receipts are not a thing; two levels is plenty and bounds the recursion.
const MAX_NESTING: usize = 2;

fn describe(s: &Sign1, depth: usize) -> Json {
    let kind = if s.protected_param(label::VDS).is_some() {
        "receipt"
    } else if s.unprotected_param(label::RECEIPTS).is_some() {
        "transparent statement"
    } else {
        "signed statement"
    };
    let mut obj = Map::new();
    obj.insert("kind".into(), json!(kind));
    obj.insert("tagged".into(), json!(s.is_tagged()));
    obj.insert("protected".into(), header(s.protected(), depth));
    obj.insert("unprotected".into(), header(s.unprotected(), depth));
    if let Err(e) = s.x5chain() {
        obj.insert("x5chain".into(), json!(format!("not trusted: {e}")));
    }
    obj.insert("payload".into(), payload(s));
    obj.insert(
        "signature".into(),
        json!(format!(
            "{} bytes: {}",
            s.signature().len(),
            hex::encode(s.signature())
        )),
    );
    Json::Object(obj)
}

fn header(h: &coset::Header, depth: usize) -> Json {
    let mut obj = Map::new();
    if let Some(alg) = &h.alg {
        let id = match alg {
            coset::RegisteredLabelWithPrivate::Assigned(a) => *a as i64,
            coset::RegisteredLabelWithPrivate::PrivateUse(i) => *i,
            coset::RegisteredLabelWithPrivate::Text(_) => 0,
        };
        let name = modelseal::core::crypto::Algorithm::from_cose_id(id)
            .map(|a| a.name().to_string())
            .unwrap_or_else(|_| "unknown".into());
        obj.insert(key(label::ALG), json!(format!("{name} ({id})")));
    }
    if !h.crit.is_empty() {
        obj.insert(key(label::CRIT), json!(format!("{:?}", h.crit)));
    }
    if let Some(ct) = &h.content_type {
        let text = match ct {
            coset::ContentType::Text(t) => t.clone(),
            coset::ContentType::Assigned(a) => format!("CoAP {}", *a as i64),
        };
        obj.insert(key(label::CONTENT_TYPE), json!(text));
    }
    if !h.key_id.is_empty() {
        obj.insert(key(label::KID), bytes_or_text(&h.key_id));
    }
    for (l, v) in &h.rest {
        let (name, value) = match l {
            coset::Label::Int(i) => (key(*i), param(*i, v, depth)),
            coset::Label::Text(t) => (format!("\"{t}\""), cbor(v)),
        };
        obj.insert(name, value);
    }
    Json::Object(obj)
}

fn key(l: i64) -> String {
    match label::name(l) {
        Some(name) => format!("{name} ({l})"),
        None => format!("{l}"),
    }
}

fn param(l: i64, v: &Value, depth: usize) -> Json {
    match l {
        label::CWT_CLAIMS => claims(v),
        label::X5CHAIN => {
            let certs: Vec<&Vec<u8>> = match v {
                Value::Bytes(b) => vec![b],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| {
                        if let Value::Bytes(b) = x {
                            Some(b)
                        } else {
                            None
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Json::Array(certs.into_iter().map(|c| certificate(c)).collect())
        }
        label::PAYLOAD_HASH_ALG | label::VDS => {
            let id = cose::value_as_i64(v);
            let name = match (l, id) {
                (label::PAYLOAD_HASH_ALG, Some(i)) => {
                    cose::PayloadHashAlg::from_cose_id(i).map(|a| a.name())
                }
                (_, Some(1)) => Some("RFC 9162 SHA-256"),
                (_, Some(2)) => Some("CCF"),
                (_, Some(3)) => Some("MMR"),
                _ => None,
            };
            match (name, id) {
                (Some(n), Some(i)) => json!(format!("{n} ({i})")),
                _ => cbor(v),
            }
        }
        label::RECEIPTS => {
            let Value::Array(items) = v else {
                return cbor(v);
            };
            Json::Array(
                items
                    .iter()
                    .map(|item| {
                        let bytes = match item {
                            Value::Bytes(b) => b.clone(),
                            other => {
                                let mut b = Vec::new();
                                let _ = ciborium::into_writer(other, &mut b);
                                b
                            }
                        };
                        match Sign1::parse(&bytes) {
                            Ok(r) if depth < MAX_NESTING => describe(&r, depth + 1),
                            Ok(_) => json!(format!(
                                "receipt, {} bytes (nested too deep to show)",
                                bytes.len()
                            )),
                            Err(e) => {
                                json!(format!("unreadable receipt ({} bytes): {e}", bytes.len()))
                            }
                        }
                    })
                    .collect(),
            )
        }
        label::VDP => proofs(v),
        _ => cbor(v),
    }
}

fn claims(v: &Value) -> Json {
    let Value::Map(entries) = v else {
        return cbor(v);
    };
    let mut obj = Map::new();
    for (k, val) in entries {
        let id = cose::value_as_i64(k);
        let name = match (id, k) {
            (Some(i), _) => claim::name(i)
                .map(|n| format!("{n} ({i})"))
                .unwrap_or_else(|| i.to_string()),
            (None, Value::Text(t)) => format!("\"{t}\""),
            _ => format!("{k:?}"),
        };
        let shown = match id {
            Some(claim::IAT) | Some(4) | Some(5) => {
                let secs = match val {
                    Value::Tag(1, inner) => cose::value_as_i64(inner),
                    other => cose::value_as_i64(other),
                };
                match secs {
                    Some(s) => json!(format!("{} ({s})", x509::format_unix_time(s))),
                    None => cbor(val),
                }
            }
            _ => cbor(val),
        };
        // A claim twice (refused by every reader) is shown twice, not collapsed.
        let mut name = name;
        let mut n = 1;
        while obj.contains_key(&name) {
            n += 1;
            name = format!("{name} (again, #{n})");
        }
        obj.insert(name, shown);
    }
    Json::Object(obj)
}

/// The vdp map: each proof is a byte string holding CBOR; show it decoded.
fn proofs(v: &Value) -> Json {
    let Value::Map(entries) = v else {
        return cbor(v);
    };
    let mut obj = Map::new();
    for (k, val) in entries {
        let name = match cose::value_as_i64(k) {
            Some(label::VDP_INCLUSION) => "inclusion proofs (-1)".to_string(),
            Some(label::VDP_CONSISTENCY) => "consistency proofs (-2)".to_string(),
            _ => format!("{k:?}"),
        };
        let shown = match val {
            Value::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|p| match p {
                        Value::Bytes(b) => match ciborium::from_reader::<Value, _>(b.as_slice()) {
                            Ok(inner) => cbor(&inner),
                            Err(_) => cbor(p),
                        },
                        other => cbor(other),
                    })
                    .collect(),
            ),
            other => cbor(other),
        };
        obj.insert(name, shown);
    }
    Json::Object(obj)
}

fn certificate(der: &[u8]) -> Json {
    match x509::summarize(der) {
        Ok(c) => json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "serial": c.serial_hex,
            "valid": format!("{} .. {}", x509::format_unix_time(c.not_before), x509::format_unix_time(c.not_after)),
            "key": c.key,
            "ca": c.is_ca,
            "sha256": c.sha256_hex,
        }),
        Err(e) => json!(format!("unreadable certificate ({} bytes): {e}", der.len())),
    }
}

fn payload(s: &Sign1) -> Json {
    let Some(p) = s.payload() else {
        return json!("detached (nil)");
    };
    if let Ok(j) = serde_json::from_slice::<Json>(p) {
        return json!({ "bytes": p.len(), "json": j });
    }
    json!({ "bytes": p.len(), "hex": hex::encode(p) })
}

fn bytes_or_text(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(t) if t.chars().all(|c| !c.is_control()) => {
            json!(format!("\"{t}\" (h'{}')", hex::encode(b)))
        }
        _ => json!(format!("h'{}'", hex::encode(b))),
    }
}

/// Generic CBOR as JSON: byte strings as h'hex' (text when printable), tags as {tag, value}.
fn cbor(v: &Value) -> Json {
    match v {
        Value::Integer(i) => i64::try_from(*i)
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(format!("{i:?}"))),
        Value::Bytes(b) => json!(format!("h'{}'", hex::encode(b))),
        Value::Float(f) => json!(f),
        Value::Text(t) => json!(t),
        Value::Bool(b) => json!(b),
        Value::Null => Json::Null,
        Value::Tag(t, inner) => json!({ "tag": t, "value": cbor(inner) }),
        Value::Array(a) => Json::Array(a.iter().map(cbor).collect()),
        Value::Map(m) => {
            let mut obj = Map::new();
            for (k, val) in m {
                let name = match k {
                    Value::Text(t) => t.clone(),
                    Value::Integer(i) => {
                        i64::try_from(*i).map(|n| n.to_string()).unwrap_or_default()
                    }
                    other => format!("{:?}", other),
                };
                obj.insert(name, cbor(val));
            }
            Json::Object(obj)
        }
        other => json!(format!("{other:?}")),
    }
}

/// Indented text: `name: value` for scalars, nested blocks for maps and lists.
fn render(v: &Json, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match v {
        Json::Object(m) => {
            for (k, val) in m {
                match val {
                    Json::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        render(val, indent + 1, out);
                    }
                    Json::Array(items) if !items.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        render(val, indent + 1, out);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(val))),
                }
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::Object(_) | Json::Array(_) => {
                        out.push_str(&format!("{pad}[{i}]\n"));
                        render(item, indent + 1, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Object(_) => "{}".into(),
        Json::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}
