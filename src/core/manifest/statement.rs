//! The in-toto Statement model-signing signs, read and written field for field.
//!
//! Writing: key order is fixed here (the peer's varies run to run); `shard_size` is written as a
//! JSON float, as the peer writes it (a protobuf `Struct` holds only doubles), and `ignore_paths`
//! sorted (the peer writes a set in random order). Reading accepts both this form and the legacy
//! `Digests/v0.1` form the seed demo signed, and a Sigstore bundle carrying either.

use super::walk::components_of;
use super::{HashAlgorithm, Serialization, algorithm::sha256};
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

/// The in-toto Statement v1 `_type` every manifest carries.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// model-signing v1's `predicateType`: resources, serialization record and a root subject digest.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// model-signing v0.1's `predicateType`: one in-toto subject per file, read but never written.
pub const LEGACY_PREDICATE_TYPE: &str = "https://model_signing/Digests/v0.1";
/// DSSE `payloadType` of an in-toto statement in a Sigstore bundle.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// One hashed file or shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// `path` for files, `path:start:end` for shards, `.` for a single-file model.
    pub name: String,
    /// `sha256`, `blake2b`, `blake3`, or `<hash>-sharded-<size>`.
    pub algorithm: String,
    /// The raw digest bytes (hex in the JSON).
    pub digest: Vec<u8>,
}

impl Resource {
    /// The file this resource belongs to (a shard's name carries its byte range after the path;
    /// paths may themselves contain `:`, so split from the right).
    pub fn file_name(&self, method: Serialization) -> &str {
        match method {
            Serialization::Files => &self.name,
            Serialization::Shards { .. } => self.name.rsplitn(3, ':').nth(2).unwrap_or(&self.name),
        }
    }
}

/// The parameters that reproduce the hashing, recorded in the predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerializationInfo {
    /// Files or shards of a given size (model-signing's `method`, `shard_size`).
    pub method: Serialization,
    /// The hash used for every resource.
    pub hash_type: HashAlgorithm,
    /// Whether symbolic links were followed when the model was hashed.
    pub allow_symlinks: bool,
    /// Root-relative POSIX paths, sorted.
    pub ignore_paths: Vec<String>,
}

/// Which document form a manifest was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestFormat {
    /// in-toto Statement v1, predicate `model_signing/signature/v1.0`.
    V1,
    /// Predicate `model_signing/Digests/v0.1`: one subject per file, no serialization record.
    LegacyDigests,
}

/// A model manifest: the model's name, how it was hashed, and a digest for every resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelManifest {
    /// The in-toto subject's name: the model directory's (or file's) base name.
    pub model_name: String,
    /// How the model was hashed.
    pub serialization: SerializationInfo,
    /// Every file or shard, in model-signing's order (by path components, then offset).
    pub resources: Vec<Resource>,
    /// The document form it was read from (always [`ManifestFormat::V1`] when made here).
    pub format: ManifestFormat,
    /// The subject digest the document states (equal to [`Self::computed_subject_digest`] for
    /// manifests made here; a mismatch in a read manifest means it was edited).
    pub stated_subject_digest: Option<[u8; 32]>,
}

impl ModelManifest {
    /// A v1 manifest; `resources` must already be in manifest order.
    pub fn new(
        model_name: String,
        serialization: SerializationInfo,
        resources: Vec<Resource>,
    ) -> Self {
        let mut m = ModelManifest {
            model_name,
            serialization,
            resources,
            format: ManifestFormat::V1,
            stated_subject_digest: None,
        };
        m.stated_subject_digest = Some(m.computed_subject_digest());
        m
    }

    /// SHA-256 over the raw resource digests in order, whatever the resources' hash (as the peer).
    pub fn computed_subject_digest(&self) -> [u8; 32] {
        let mut all = Vec::with_capacity(self.resources.len() * 64);
        for r in &self.resources {
            all.extend_from_slice(&r.digest);
        }
        sha256(&all)
    }

    /// The statement as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let s = &self.serialization;
        let statement = StatementOut {
            type_: STATEMENT_TYPE,
            subject: [SubjectOut {
                name: &self.model_name,
                digest: DigestOut {
                    sha256: hex::encode(self.computed_subject_digest()),
                },
            }],
            predicate_type: PREDICATE_TYPE,
            predicate: PredicateOut {
                serialization: SerializationOut {
                    method: match s.method {
                        Serialization::Files => "files",
                        Serialization::Shards { .. } => "shards",
                    },
                    hash_type: s.hash_type.name(),
                    shard_size: match s.method {
                        Serialization::Shards { shard_size } => Some(shard_size as f64),
                        Serialization::Files => None,
                    },
                    allow_symlinks: s.allow_symlinks,
                    ignore_paths: (!s.ignore_paths.is_empty()).then_some(&s.ignore_paths),
                },
                resources: self
                    .resources
                    .iter()
                    .map(|r| ResourceOut {
                        name: &r.name,
                        algorithm: &r.algorithm,
                        digest: hex::encode(&r.digest),
                    })
                    .collect(),
            },
        };
        let mut out = serde_json::to_vec_pretty(&statement).expect("statement serialises");
        out.push(b'\n');
        out
    }

    /// Reads a statement (either form), or a Sigstore bundle whose DSSE payload is one.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
        if let Some(envelope) = doc.get("dsseEnvelope") {
            return Self::from_json(&dsse_payload(envelope)?);
        }
        match doc.get("predicateType").and_then(Value::as_str) {
            Some(PREDICATE_TYPE) => parse_v1(&doc),
            Some(LEGACY_PREDICATE_TYPE) => parse_legacy(&doc),
            Some(other) => Err(format!("unsupported predicateType `{other}`")),
            None => Err("no predicateType: not an in-toto statement".into()),
        }
    }
}

fn dsse_payload(envelope: &Value) -> Result<Vec<u8>, String> {
    let payload_type = envelope.get("payloadType").and_then(Value::as_str);
    if payload_type != Some(IN_TOTO_PAYLOAD_TYPE) {
        return Err(format!(
            "DSSE payloadType is {payload_type:?}, expected {IN_TOTO_PAYLOAD_TYPE}"
        ));
    }
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .ok_or("DSSE envelope has no payload")?;
    base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| format!("DSSE payload is not base64: {e}"))
}

fn field<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("{ctx} has no `{key}`"))
}

fn str_field<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a str, String> {
    field(v, key, ctx)?
        .as_str()
        .ok_or_else(|| format!("{ctx}.{key} is not a string"))
}

fn parse_digest(hex_digest: &str, len: usize, what: &str) -> Result<Vec<u8>, String> {
    let digest = hex::decode(hex_digest).map_err(|_| format!("{what}: digest is not hex"))?;
    if digest.len() != len {
        return Err(format!(
            "{what}: digest is {} bytes, expected {len}",
            digest.len()
        ));
    }
    Ok(digest)
}

fn parse_v1(doc: &Value) -> Result<ModelManifest, String> {
    if doc.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(format!("_type is not {STATEMENT_TYPE}"));
    }
    let subjects = field(doc, "subject", "statement")?
        .as_array()
        .filter(|s| s.len() == 1)
        .ok_or("statement must have exactly one subject")?;
    let subject = &subjects[0];
    let model_name = str_field(subject, "name", "subject")?.to_string();
    let stated = parse_digest(
        str_field(
            field(subject, "digest", "subject")?,
            "sha256",
            "subject.digest",
        )?,
        32,
        "subject",
    )?;
    let predicate = field(doc, "predicate", "statement")?;
    let serialization = parse_serialization(field(predicate, "serialization", "predicate")?)?;
    let expected_algorithm = match serialization.method {
        Serialization::Files => serialization.hash_type.name().to_string(),
        Serialization::Shards { shard_size } => {
            format!("{}-sharded-{shard_size}", serialization.hash_type.name())
        }
    };
    let digest_len = serialization.hash_type.digest_len();
    let resources = field(predicate, "resources", "predicate")?
        .as_array()
        .ok_or("predicate.resources is not an array")?
        .iter()
        .map(|r| {
            let name = str_field(r, "name", "resource")?.to_string();
            let algorithm = str_field(r, "algorithm", "resource")?.to_string();
            if algorithm != expected_algorithm {
                return Err(format!(
                    "resource {name}: algorithm {algorithm}, but serialization says {expected_algorithm}"
                ));
            }
            let digest = parse_digest(str_field(r, "digest", "resource")?, digest_len, &name)?;
            Ok(Resource { name, algorithm, digest })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ModelManifest {
        model_name,
        serialization,
        resources,
        format: ManifestFormat::V1,
        stated_subject_digest: Some(stated.try_into().expect("checked length")),
    })
}

fn parse_serialization(s: &Value) -> Result<SerializationInfo, String> {
    let ctx = "serialization";
    let hash_type: HashAlgorithm = str_field(s, "hash_type", ctx)?.parse()?;
    let method = match str_field(s, "method", ctx)? {
        "files" => Serialization::Files,
        "shards" => Serialization::Shards {
            shard_size: parse_shard_size(field(s, "shard_size", ctx)?)?,
        },
        other => return Err(format!("unknown serialization method `{other}`")),
    };
    let allow_symlinks = field(s, "allow_symlinks", ctx)?
        .as_bool()
        .ok_or("serialization.allow_symlinks is not a boolean")?;
    let mut ignore_paths = match s.get("ignore_paths") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .ok_or("serialization.ignore_paths is not an array")?
            .iter()
            .map(|p| p.as_str().map(|p| components_of(p).join("/")))
            .collect::<Option<Vec<_>>>()
            .ok_or("serialization.ignore_paths holds a non-string")?,
    };
    ignore_paths.sort();
    ignore_paths.dedup();
    Ok(SerializationInfo {
        method,
        hash_type,
        allow_symlinks,
        ignore_paths,
    })
}

/// The peer writes `300.0`; a careful writer may write `300`. Both mean 300 bytes.
fn parse_shard_size(v: &Value) -> Result<u64, String> {
    let size = v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= (1u64 << 53) as f64)
            .map(|f| f as u64)
    });
    match size {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "serialization.shard_size {v} is not a positive whole number"
        )),
    }
}

fn parse_legacy(doc: &Value) -> Result<ModelManifest, String> {
    let resources = field(doc, "subject", "statement")?
        .as_array()
        .ok_or("statement.subject is not an array")?
        .iter()
        .map(|s| {
            let name = str_field(s, "name", "subject")?.to_string();
            let digest = str_field(field(s, "digest", "subject")?, "sha256", "subject.digest")?;
            Ok(Resource {
                digest: parse_digest(digest, 32, &name)?,
                name,
                algorithm: HashAlgorithm::Sha256.name().to_string(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ModelManifest {
        model_name: String::new(),
        serialization: SerializationInfo {
            method: Serialization::Files,
            hash_type: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: super::GIT_PATHS.iter().map(|s| s.to_string()).collect(),
        },
        resources,
        format: ManifestFormat::LegacyDigests,
        stated_subject_digest: None,
    })
}

#[derive(Serialize)]
struct StatementOut<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    subject: [SubjectOut<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: PredicateOut<'a>,
}

#[derive(Serialize)]
struct SubjectOut<'a> {
    name: &'a str,
    digest: DigestOut,
}

#[derive(Serialize)]
struct DigestOut {
    sha256: String,
}

#[derive(Serialize)]
struct PredicateOut<'a> {
    serialization: SerializationOut<'a>,
    resources: Vec<ResourceOut<'a>>,
}

#[derive(Serialize)]
struct SerializationOut<'a> {
    method: &'a str,
    hash_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_size: Option<f64>,
    allow_symlinks: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore_paths: Option<&'a Vec<String>>,
}

#[derive(Serialize)]
struct ResourceOut<'a> {
    name: &'a str,
    algorithm: &'a str,
    digest: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_name_splits_from_the_right() {
        let r = Resource {
            name: "a:b.bin:0:300".into(),
            algorithm: "sha256-sharded-300".into(),
            digest: vec![],
        };
        assert_eq!(
            r.file_name(Serialization::Shards { shard_size: 300 }),
            "a:b.bin"
        );
    }

    #[test]
    fn shard_size_accepts_integral_float_and_rejects_others() {
        assert_eq!(parse_shard_size(&serde_json::json!(300.0)), Ok(300));
        assert_eq!(parse_shard_size(&serde_json::json!(300)), Ok(300));
        assert!(parse_shard_size(&serde_json::json!(300.5)).is_err());
        assert!(parse_shard_size(&serde_json::json!(0)).is_err());
        assert!(parse_shard_size(&serde_json::json!(-1.0)).is_err());
    }

    #[test]
    fn writes_shard_size_as_float_like_the_peer_and_reads_it_back() {
        let m = ModelManifest::new(
            "m".into(),
            SerializationInfo {
                method: Serialization::Shards { shard_size: 300 },
                hash_type: HashAlgorithm::Sha256,
                allow_symlinks: false,
                ignore_paths: vec![".git".into()],
            },
            vec![Resource {
                name: "a:0:5".into(),
                algorithm: "sha256-sharded-300".into(),
                digest: vec![7; 32],
            }],
        );
        let json = m.to_json();
        assert!(String::from_utf8_lossy(&json).contains("\"shard_size\": 300.0"));
        assert_eq!(ModelManifest::from_json(&json).unwrap(), m);
    }

    #[test]
    fn rejects_resource_whose_algorithm_contradicts_serialization() {
        let doc = serde_json::json!({
            "_type": STATEMENT_TYPE, "predicateType": PREDICATE_TYPE,
            "subject": [{"name": "m", "digest": {"sha256": "00".repeat(32)}}],
            "predicate": {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false},
                          "resources": [{"name": "a", "algorithm": "blake3", "digest": "00".repeat(32)}]}});
        let err = ModelManifest::from_json(doc.to_string().as_bytes()).unwrap_err();
        assert!(err.contains("algorithm blake3"), "{err}");
    }
}
