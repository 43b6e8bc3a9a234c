//! CNCF ModelPack artifacts (`modelpack/model-spec` v1: `docs/spec.md`, `docs/config.md`,
//! `docs/annotations.md`), written and read; the legacy `application/vnd.cnai.model.*` spelling
//! and KitOps ModelKit layers are read too.
//!
//! Writing: one uncompressed `…​.raw` layer per file, so a layer's digest *is* the file's
//! SHA-256 — the digest a model-signing `files`/`sha256` manifest records. That is what lets
//! `hash --from-oci` and `seal` build the signed manifest of an artifact without downloading it.

use super::error::{OciError, Result};
use super::manifest::{Annotations, Descriptor, ImageManifest};
use super::target::{BlobSource, Target, TransferProgress, no_progress};
use crate::core::manifest::{
    HashAlgorithm, HashConfig, ModelManifest, Resource, Serialization, SerializationInfo,
    components_of,
};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::path::Path;

/// The manifest's `artifactType` (spec.md).
pub const ARTIFACT_TYPE: &str = "application/vnd.cncf.model.manifest.v1+json";
/// The config blob's media type (config.md).
pub const CONFIG: &str = "application/vnd.cncf.model.config.v1+json";
/// The layer's file path (annotations.md).
pub const ANNOTATION_FILEPATH: &str = "org.cncf.model.filepath";
/// The layer's file metadata, a JSON string (annotations.md `FileMetadata`).
pub const ANNOTATION_FILE_METADATA: &str = "org.cncf.model.file.metadata+json";
/// `"true"` when the layer's kind was guessed, not known (annotations.md).
pub const ANNOTATION_MEDIATYPE_UNTESTED: &str = "org.cncf.model.file.mediatype.untested";
/// The file path annotation of the spec's earlier `cnai` namespace.
pub const LEGACY_ANNOTATION_FILEPATH: &str = "org.cnai.model.filepath";

const CNCF_PREFIX: &str = "application/vnd.cncf.model.";
const CNAI_PREFIX: &str = "application/vnd.cnai.model.";
const KITOPS_PREFIX: &str = "application/vnd.kitops.modelkit.";
/// Go's `tar.TypeReg` (`'0'`), as `FileMetadata.typeflag` records a regular file.
const TYPEFLAG_REGULAR: u8 = b'0';

/// What a file is to the model: the part of a ModelPack layer media type before `.v1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Model weights (`…model.weight.v1.*`): safetensors, GGUF, checkpoints.
    Weight,
    /// Files that configure the weights (`…model.weight.config.v1.*`): `config.json`,
    /// tokenizer files.
    WeightConfig,
    /// Documentation (`…model.doc.v1.*`): README, licence, model card.
    Doc,
    /// Code (`…model.code.v1.*`): scripts, custom model code.
    Code,
    /// Data sets (`…model.dataset.v1.*`).
    Dataset,
}

impl Kind {
    /// Every kind, in the spec's order.
    pub const ALL: [Kind; 5] = [
        Kind::Weight,
        Kind::WeightConfig,
        Kind::Doc,
        Kind::Code,
        Kind::Dataset,
    ];

    /// The name in media types and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Weight => "weight",
            Kind::WeightConfig => "weight.config",
            Kind::Doc => "doc",
            Kind::Code => "code",
            Kind::Dataset => "dataset",
        }
    }

    /// `weight`, `weight.config` (or `config`), `doc`, `code`, `dataset`.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "config" => Some(Kind::WeightConfig),
            _ => Kind::ALL.into_iter().find(|k| k.name() == s),
        }
    }

    /// The uncompressed, unarchived layer type of this kind.
    pub fn raw_media_type(self) -> String {
        format!("{CNCF_PREFIX}{}.v1.raw", self.name())
    }

    /// The kind a file's path suggests, and whether that was a guess (no rule matched: then it
    /// is a weight, and the layer says its type is untested). The rules, by file name:
    /// weights by extension (`.safetensors`, `.gguf`, `.bin`, `.pt`, `.onnx`, …); weight config
    /// for `.json` files and tokenizer files (`tokenizer.model`, `vocab.*`, `merges.txt`,
    /// `.tiktoken`); docs for `README*`, `LICENSE*`, `NOTICE*`, `.md`, `.txt`, `.pdf`; code for
    /// source files and notebooks; datasets for `.csv`, `.jsonl`, `.parquet`, ….
    pub fn of_path(path: &str) -> (Kind, bool) {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let is = |exts: &[&str]| exts.contains(&ext);
        let kind = if is(&[
            "safetensors",
            "gguf",
            "ggml",
            "bin",
            "pt",
            "pth",
            "ckpt",
            "onnx",
            "h5",
            "keras",
            "tflite",
            "pb",
            "msgpack",
            "npz",
            "pkl",
            "pickle",
            "joblib",
            "nemo",
            "mlmodel",
            "engine",
            "plan",
        ]) {
            Kind::Weight
        } else if name == "tokenizer.model"
            || name.starts_with("vocab.")
            || name == "merges.txt"
            || is(&["json", "tiktoken", "spm", "sentencepiece"])
        {
            Kind::WeightConfig
        } else if [
            "readme", "license", "licence", "notice", "copying", "authors",
        ]
        .iter()
        .any(|p| name.starts_with(p))
            || is(&["md", "txt", "rst", "pdf", "html", "adoc"])
        {
            Kind::Doc
        } else if is(&[
            "py", "ipynb", "sh", "js", "ts", "rs", "go", "c", "cc", "cpp", "h", "hpp", "cu",
            "java", "rb", "jl", "r", "lua", "toml", "yaml", "yml", "cfg", "ini",
        ]) || ["dockerfile", "makefile", "requirements.txt"].contains(&name.as_str())
        {
            Kind::Code
        } else if is(&[
            "csv", "tsv", "jsonl", "parquet", "arrow", "tfrecord", "avro", "feather",
        ]) {
            Kind::Dataset
        } else {
            return (Kind::Weight, true);
        };
        (kind, false)
    }
}

/// How a model layer packs its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packing {
    /// One file, as is: its path is the layer's file path annotation.
    Raw,
    /// A tar archive, extracted into the output directory.
    Tar,
    /// A gzip-compressed tar archive (`….tar+gzip`), extracted.
    TarGzip,
    /// A zstd-compressed tar archive (`….tar+zstd`), extracted.
    TarZstd,
}

/// How a layer of this media type is packed, if it is a model layer ModelPack (either
/// namespace) or KitOps defines; `None` for anything else.
pub fn packing_of(media_type: &str) -> Option<Packing> {
    let rest = media_type
        .strip_prefix(CNCF_PREFIX)
        .or_else(|| media_type.strip_prefix(CNAI_PREFIX))
        .or_else(|| media_type.strip_prefix(KITOPS_PREFIX))?;
    let (_, packing) = rest.split_once(".v1.")?;
    Some(match packing {
        "raw" => Packing::Raw,
        "tar" => Packing::Tar,
        "tar+gzip" => Packing::TarGzip,
        "tar+zstd" => Packing::TarZstd,
        _ => return None,
    })
}

/// Whether a manifest is a model artifact this module reads: a ModelPack (`cncf` or `cnai`)
/// or a KitOps ModelKit, by artifact type, config media type, or a model layer (oras-py, for
/// one, pushes ModelPack layers under an empty config and no artifact type).
pub fn is_model_artifact(manifest: &ImageManifest) -> bool {
    let t = manifest.effective_artifact_type();
    let c = &manifest.config.media_type;
    [t, c.as_str()].iter().any(|m| {
        m.starts_with(CNCF_PREFIX) || m.starts_with(CNAI_PREFIX) || m.starts_with(KITOPS_PREFIX)
    }) || manifest
        .layers
        .iter()
        .any(|l| packing_of(&l.media_type).is_some())
}

/// The file path a raw layer is written to: `org.cncf.model.filepath`, else the legacy
/// `org.cnai.model.filepath`, else the ORAS title.
pub fn layer_path(layer: &Descriptor) -> Option<&str> {
    [
        ANNOTATION_FILEPATH,
        LEGACY_ANNOTATION_FILEPATH,
        super::media::ANNOTATION_TITLE,
    ]
    .iter()
    .find_map(|k| layer.annotations.get(*k))
    .map(String::as_str)
}

/// `FileMetadata` of annotations.md, field for field (Go's JSON of the spec's struct).
#[derive(Serialize)]
struct FileMetadata<'a> {
    name: &'a str,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: &'a str,
    typeflag: u8,
}

/// Technical metadata of the config's `config` object that a publisher can give (config.md).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfig {
    /// The model's architecture (`transformer`, `cnn`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The weights' file format (`safetensors`, `gguf`, `onnx`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The parameter count as written by people (`8b`, `70b`), not a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_size: Option<String>,
    /// The weights' numeric precision (`bf16`, `fp16`, `int8`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// The quantisation method, if any (`awq`, `gptq`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
}

/// The config's `descriptor` object, the fields modelseal writes.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelDescriptor {
    /// When the model was created, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The model's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The model's version, free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelFs<'a> {
    #[serde(rename = "type")]
    type_: &'static str,
    diff_ids: &'a [String],
}

/// The config document, in the field order of the spec's Go type.
#[derive(Serialize)]
struct Model<'a> {
    descriptor: &'a ModelDescriptor,
    modelfs: ModelFs<'a>,
    config: &'a ModelConfig,
}

/// What `publish`/`push --modelpack` is told beyond the files.
#[derive(Clone, Debug, Default)]
pub struct ModelPackSpec {
    /// The config's `descriptor` object.
    pub descriptor: ModelDescriptor,
    /// The config's `config` object.
    pub config: ModelConfig,
    /// Kind overrides, `(pattern, kind)`, the last match winning: a pattern is a file's exact
    /// path, `*.EXT` (any file with that extension), or `DIR/` (everything under DIR).
    pub kinds: Vec<(String, Kind)>,
}

impl ModelPackSpec {
    /// The kind of the file at `path` (relative, `/`-separated), and whether it was guessed.
    pub fn kind_of(&self, path: &str) -> (Kind, bool) {
        let matches = |pattern: &str| match pattern.strip_prefix("*.") {
            Some(ext) => path.rsplit('/').next().is_some_and(|n| {
                n.len() > ext.len() + 1
                    && n.ends_with(ext)
                    && n[..n.len() - ext.len()].ends_with('.')
            }),
            None if pattern.ends_with('/') => path.starts_with(pattern),
            None => pattern == path,
        };
        self.kinds
            .iter()
            .rev()
            .find(|(p, _)| matches(p))
            .map(|(_, k)| (*k, false))
            .unwrap_or_else(|| Kind::of_path(path))
    }
}

impl ModelPackSpec {
    /// This spec with what the files tell filled in where it says nothing: the descriptor's
    /// name (`model_name`), the format and precision ([`detect_config`], reading the model's
    /// top-level `config.json`).
    pub fn completed(&self, model: &Path, files: &[PackedFile], model_name: &str) -> Self {
        let config_json = files
            .iter()
            .any(|f| f.path == "config.json")
            .then(|| std::fs::read(model.join("config.json")).ok())
            .flatten();
        let detected = detect_config(files, config_json.as_deref());
        let mut spec = self.clone();
        spec.descriptor
            .name
            .get_or_insert_with(|| model_name.to_string());
        if spec.config.format.is_none() {
            spec.config.format = detected.format;
        }
        if spec.config.precision.is_none() {
            spec.config.precision = detected.precision;
        }
        spec
    }
}

/// `--kind` flags: `PATTERN=KIND`.
pub fn parse_kind_override(s: &str) -> std::result::Result<(String, Kind), String> {
    let (pattern, kind) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}` is not PATTERN=KIND"))?;
    let kind = Kind::parse(kind).ok_or_else(|| {
        format!("`{kind}` is not a kind (weight, weight.config, doc, code, dataset)")
    })?;
    Ok((pattern.to_string(), kind))
}

/// One file of the model, hashed: what a ModelPack layer is made from.
#[derive(Clone, Debug)]
pub struct PackedFile {
    /// Relative, `/`-separated.
    pub path: String,
    /// `sha256:<hex>` of the file's bytes, which is also its raw layer's digest.
    pub digest: String,
    /// The file's length in bytes.
    pub size: u64,
    /// Unix permission bits.
    pub mode: u32,
}

/// The format and precision a model's files tell, where they tell it: the weights' extension
/// (`safetensors`, `gguf`, `onnx`) and `torch_dtype` of a Hugging Face `config.json`.
pub fn detect_config(files: &[PackedFile], config_json: Option<&[u8]>) -> ModelConfig {
    let format = ["safetensors", "gguf", "onnx"]
        .into_iter()
        .find(|ext| files.iter().any(|f| f.path.ends_with(&format!(".{ext}"))))
        .map(str::to_string);
    let precision = config_json
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("torch_dtype")?.as_str().map(str::to_string))
        .filter(|p| {
            [
                "float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64",
                "uint8",
            ]
            .contains(&p.as_str())
        });
    ModelConfig {
        format,
        precision,
        ..ModelConfig::default()
    }
}

/// The image manifest and config bytes of a ModelPack artifact of `files` (in manifest
/// order), created at `created` (RFC 3339). Everything is a function of its inputs: the same
/// files and time give the same bytes.
pub fn build(
    files: &[PackedFile],
    spec: &ModelPackSpec,
    created: &str,
) -> (ImageManifest, Vec<u8>) {
    let layers: Vec<Descriptor> = files
        .iter()
        .map(|f| {
            let (kind, guessed) = spec.kind_of(&f.path);
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            let metadata = FileMetadata {
                name,
                // Only the permission bits; owner and time are constants (spec.md
                // "Reproducibility").
                mode: f.mode & 0o777,
                uid: 0,
                gid: 0,
                size: f.size,
                mtime: created,
                typeflag: TYPEFLAG_REGULAR,
            };
            let mut annotations = Annotations::new();
            annotations.insert(ANNOTATION_FILEPATH.into(), f.path.clone());
            annotations.insert(
                ANNOTATION_FILE_METADATA.into(),
                serde_json::to_string(&metadata).expect("metadata serialises"),
            );
            if guessed {
                annotations.insert(ANNOTATION_MEDIATYPE_UNTESTED.into(), "true".into());
            }
            Descriptor {
                media_type: kind.raw_media_type(),
                digest: f.digest.clone(),
                size: f.size,
                annotations,
                data: None,
                artifact_type: None,
            }
        })
        .collect();
    // An uncompressed layer's DiffID is its digest.
    let diff_ids: Vec<String> = files.iter().map(|f| f.digest.clone()).collect();
    let mut descriptor = spec.descriptor.clone();
    descriptor.created_at.get_or_insert_with(|| created.into());
    let config = serde_json::to_vec(&Model {
        descriptor: &descriptor,
        modelfs: ModelFs {
            type_: "layers",
            diff_ids: &diff_ids,
        },
        config: &spec.config,
    })
    .expect("config serialises");
    let mut annotations = Annotations::new();
    annotations.insert(super::media::ANNOTATION_CREATED.into(), created.into());
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(super::media::IMAGE_MANIFEST.into()),
        artifact_type: Some(ARTIFACT_TYPE.into()),
        config: Descriptor::of(CONFIG, &config),
        layers,
        subject: None,
        annotations,
    };
    (manifest, config)
}

/// Why an artifact's layers cannot stand for its files' SHA-256 digests, if they cannot.
fn not_raw(layer: &Descriptor) -> Option<String> {
    let path = layer_path(layer).unwrap_or(&layer.digest);
    match packing_of(&layer.media_type) {
        Some(Packing::Raw) if layer.sha256_hex().is_some() => None,
        Some(Packing::Raw) => Some(format!(
            "layer {path} has digest {}, not a sha256 one",
            layer.digest
        )),
        Some(_) => Some(format!(
            "layer {path} is a tar archive ({}): its digest is not a file's; only raw layers \
             can be hashed without downloading",
            layer.media_type
        )),
        None => Some(format!(
            "layer {path} has media type {}, not a model layer",
            layer.media_type
        )),
    }
}

/// The model-signing manifest (`files`, `sha256`, the default ignore list) of a model
/// artifact's raw layers, from their descriptors alone: equal to `hash_model` of the same files
/// in a directory named `model_name`. Refused, with the reason: a tar layer, a layer without a
/// file path, a non-sha256 digest, a path twice.
pub fn model_manifest_of(artifact: &ImageManifest, model_name: &str) -> Result<ModelManifest> {
    let bad = |reason: String| OciError::BadDocument {
        what: "the model artifact".into(),
        reason,
    };
    let mut resources = Vec::new();
    for layer in &artifact.layers {
        if let Some(reason) = not_raw(layer) {
            return Err(bad(reason));
        }
        let path = layer_path(layer)
            .ok_or_else(|| bad(format!("layer {} has no file path", layer.digest)))?;
        let rel = super::stage::title_path(path, false).map_err(|e| bad(e.to_string()))?;
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        resources.push(Resource {
            name,
            algorithm: HashAlgorithm::Sha256.name().into(),
            digest: hex::decode(layer.sha256_hex().unwrap_or_default()).unwrap_or_default(),
        });
    }
    if resources.is_empty() {
        return Err(bad("no layers".into()));
    }
    resources.sort_by_cached_key(|r| components_of(&r.name));
    if let Some(w) = resources.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(bad(format!("{} is the path of two layers", w[0].name)));
    }
    let defaults = HashConfig::default();
    Ok(ModelManifest::new(
        model_name.to_string(),
        SerializationInfo {
            method: Serialization::Files,
            hash_type: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: defaults.recorded_ignore_paths(),
        },
        resources,
    ))
}

/// The files of a model hashed as `files`/`sha256` (its `hash_model` manifest), with the size
/// and permission bits of each file under `model`.
pub fn packed_files(model: &Path, manifest: &ModelManifest) -> Result<Vec<PackedFile>> {
    if manifest.serialization.method != Serialization::Files
        || manifest.serialization.hash_type != HashAlgorithm::Sha256
    {
        return Err(OciError::BadDocument {
            what: model.display().to_string(),
            reason: "a ModelPack artifact is made from a files/sha256 manifest".into(),
        });
    }
    manifest
        .resources
        .iter()
        .map(|r| {
            // A single-file model is named `.`: its layer is the file's own name.
            let (file, path) = if r.name == "." {
                let name = model
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model".into());
                (model.to_path_buf(), name)
            } else {
                (model.join(&r.name), r.name.clone())
            };
            let meta = std::fs::metadata(&file).map_err(|e| OciError::io(&file, e))?;
            use std::os::unix::fs::PermissionsExt;
            Ok(PackedFile {
                path,
                digest: format!("sha256:{}", hex::encode(&r.digest)),
                size: meta.len(),
                mode: meta.permissions().mode(),
            })
        })
        .collect()
}

/// Pushes the files of `model` (as [`packed_files`] lists them) as the ModelPack artifact
/// [`build`] made of them: the config blob, one raw layer per file (several at a time; blobs the target has are skipped),
/// and the manifest, tagged `tag`. Returns the manifest's descriptor and bytes.
pub async fn push_model_pack<T: Target>(
    target: &T,
    model: &Path,
    files: &[PackedFile],
    artifact: &ImageManifest,
    config_bytes: &[u8],
    tag: Option<&str>,
    progress: &dyn TransferProgress,
) -> Result<(Descriptor, Vec<u8>)> {
    target
        .push_blob(
            &artifact.config,
            BlobSource::Bytes(config_bytes),
            &no_progress(),
        )
        .await?;
    progress.total(files.iter().map(|f| f.size).sum());
    let single = model.is_file();
    futures_util::stream::iter(files.iter().zip(&artifact.layers))
        .map(|(f, layer)| async move {
            let path = if single {
                model.to_path_buf()
            } else {
                model.join(&f.path)
            };
            let on_bytes = progress.blob(&f.path, f.size);
            target
                .push_blob(layer, BlobSource::File(&path), &on_bytes)
                .await?;
            progress.blob_done(&f.path);
            Ok::<_, OciError>(())
        })
        .buffer_unordered(super::ops::BLOBS_IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    let bytes = artifact.to_bytes();
    let descriptor = target
        .push_manifest(&bytes, super::media::IMAGE_MANIFEST, tag)
        .await?;
    Ok((descriptor, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_file_names_and_overrides() {
        assert_eq!(Kind::of_path("model.safetensors"), (Kind::Weight, false));
        assert_eq!(Kind::of_path("tokenizer.json"), (Kind::WeightConfig, false));
        assert_eq!(Kind::of_path("README.md"), (Kind::Doc, false));
        assert_eq!(Kind::of_path("src/infer.py"), (Kind::Code, false));
        assert_eq!(Kind::of_path("data/train.jsonl"), (Kind::Dataset, false));
        assert_eq!(Kind::of_path("blob"), (Kind::Weight, true));
        let spec = ModelPackSpec {
            kinds: vec![
                ("*.json".into(), Kind::Doc),
                ("eval/".into(), Kind::Dataset),
                ("blob".into(), Kind::Code),
            ],
            ..Default::default()
        };
        assert_eq!(spec.kind_of("a/b.json").0, Kind::Doc);
        assert_eq!(spec.kind_of("eval/x.safetensors").0, Kind::Dataset);
        assert_eq!(spec.kind_of("blob"), (Kind::Code, false));
        assert_eq!(spec.kind_of("json").0, Kind::Weight);
    }

    #[test]
    fn packings_of_all_three_namespaces() {
        assert_eq!(
            packing_of("application/vnd.cncf.model.weight.v1.raw"),
            Some(Packing::Raw)
        );
        assert_eq!(
            packing_of("application/vnd.cnai.model.doc.v1.tar+gzip"),
            Some(Packing::TarGzip)
        );
        assert_eq!(
            packing_of("application/vnd.kitops.modelkit.model.v1.tar+zstd"),
            Some(Packing::TarZstd)
        );
        assert_eq!(packing_of("application/vnd.oci.image.layer.v1.tar"), None);
        assert_eq!(
            packing_of("application/vnd.cncf.model.config.v1+json"),
            None
        );
    }
}
