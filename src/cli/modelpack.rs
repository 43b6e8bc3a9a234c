//! The flags `publish` and `push` share for `--modelpack`: the config's metadata and
//! the kind of each file.

use anyhow::Result;
use modelseal::oci::modelpack::{
    Kind, ModelConfig, ModelDescriptor, ModelPackSpec, parse_kind_override,
};

/// ModelPack metadata (config.md); format and precision are read from the files when not given.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ModelPackArgs {
    /// The kind of the files PATTERN matches: `PATH`, `*.EXT` or `DIR/` = weight,
    /// weight.config, doc, code or dataset (repeatable; the last match wins). Without one, the
    /// file name decides (see README, "ModelPack").
    #[arg(long = "kind", value_name = "PATTERN=KIND", value_parser = parse_kind_override)]
    pub kinds: Vec<(String, Kind)>,
    /// descriptor.name (default: the model directory's name).
    #[arg(long = "model-name", value_name = "NAME")]
    pub name: Option<String>,
    /// descriptor.version.
    #[arg(long = "model-version", value_name = "VERSION")]
    pub version: Option<String>,
    /// config.architecture, e.g. transformer.
    #[arg(long, value_name = "ARCH")]
    pub architecture: Option<String>,
    /// config.format (default: safetensors, gguf or onnx when the weights say so).
    #[arg(long = "model-format", value_name = "FORMAT")]
    pub model_format: Option<String>,
    /// config.paramSize, e.g. 8B, 6.7b, 100m.
    #[arg(long, value_name = "SIZE")]
    pub param_size: Option<String>,
    /// config.precision (default: torch_dtype of config.json).
    #[arg(long, value_name = "PRECISION")]
    pub precision: Option<String>,
    /// config.quantization, e.g. awq, gptq.
    #[arg(long, value_name = "METHOD")]
    pub quantization: Option<String>,
}

impl ModelPackArgs {
    /// Refuses ModelPack flags given without `--modelpack` (they would do nothing).
    pub fn only_with(&self, modelpack: bool) -> Result<()> {
        let given = !self.kinds.is_empty()
            || [
                &self.name,
                &self.version,
                &self.architecture,
                &self.model_format,
                &self.param_size,
                &self.precision,
                &self.quantization,
            ]
            .iter()
            .any(|f| f.is_some());
        if given && !modelpack {
            anyhow::bail!("--kind and the model metadata flags need --modelpack");
        }
        Ok(())
    }

    pub fn spec(&self) -> Result<ModelPackSpec> {
        if let Some(p) = &self.param_size {
            let (count, scale) = p.split_at(p.len().saturating_sub(1));
            let ok_count = !count.is_empty()
                && count.parse::<f64>().is_ok()
                && count.split('.').nth(1).is_none_or(|d| d.len() <= 1);
            if !ok_count || !"QqTtBbMmKk".contains(scale) || scale.is_empty() {
                anyhow::bail!("--param-size {p}: want <count><scale>, e.g. 8B, 6.7b, 100m");
            }
        }
        Ok(ModelPackSpec {
            descriptor: ModelDescriptor {
                created_at: None,
                name: self.name.clone(),
                version: self.version.clone(),
            },
            config: ModelConfig {
                architecture: self.architecture.clone(),
                format: self.model_format.clone(),
                param_size: self.param_size.clone(),
                precision: self.precision.clone(),
                quantization: self.quantization.clone(),
            },
            kinds: self.kinds.clone(),
        })
    }
}
