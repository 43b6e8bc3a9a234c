//! `modelseal hash`: a model's manifest, or `--check` a model against one.

use super::Outcome;
use super::ignore::relative_to_model;
use super::output::Output;
use anyhow::{Context, Result};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::manifest::{
    DEFAULT_SHARD_SIZE, HashAlgorithm, HashConfig, Serialization, SymlinkPolicy, compare,
    hash_model, read_manifest,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  modelseal hash ./my-model                        manifest of a model directory, on stdout
  modelseal hash ./my-model -o manifest.json       written atomically to a file
  modelseal hash ./model.safetensors               a single-file model (resource name \".\")
  modelseal hash ./my-model --shard-size 1GiB      shards hashed in parallel (large files)
  modelseal hash ./my-model --hash blake3          BLAKE3 digests
  modelseal hash ./my-model --ignore-paths my-model/notes --ignore-paths my-model/README.md
  modelseal hash --check manifest.json ./my-model  report modified, missing and extra files
  modelseal hash --check model.sig ./my-model      also reads a model-signing Sigstore bundle
  modelseal hash --from-oci localhost:5000/models/my-model:v1
                                                   a ModelPack artifact's manifest, nothing downloaded";

/// Hash a model into the in-toto statement sigstore's model-signing signs (same JSON as
/// `model-signing` 1.1.1), or check a model against such a manifest.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct HashArgs {
    /// The model: a directory, or a single file.
    #[arg(required_unless_present = "from_oci", conflicts_with = "from_oci")]
    model_path: Option<PathBuf>,

    /// The manifest of a model artifact in a registry or layout (ModelPack, KitOps), from its
    /// raw layers' digests, without downloading them: equal to `hash DIR` of the same files.
    #[arg(long, value_name = "REF", conflicts_with = "check")]
    from_oci: Option<String>,

    /// With --from-oci: the manifest's model name (default: the repository's last segment).
    #[arg(long, value_name = "NAME", requires = "from_oci")]
    model_name: Option<String>,

    #[command(flatten)]
    target: super::target::TargetArgs,

    /// Write the manifest to FILE (atomically) instead of stdout. If FILE lies inside the model,
    /// it is left out of the manifest, as model-signing leaves out its signature file.
    #[arg(
        short = 'o',
        long = "output",
        alias = "out",
        value_name = "FILE",
        conflicts_with = "check"
    )]
    out: Option<PathBuf>,

    /// Recompute the model's digests the way MANIFEST (a statement or a Sigstore bundle) was made,
    /// and report every modified, missing and extra file. Exit 0 only when all match.
    #[arg(long, value_name = "MANIFEST")]
    check: Option<PathBuf>,

    /// Hash function for files and shards.
    #[arg(long = "hash", value_name = "ALG", default_value = "sha256",
          value_parser = ["sha256", "blake2b", "blake3"], conflicts_with = "check")]
    algorithm: String,

    /// One digest per file, or per shard of each file.
    #[arg(long, value_enum, default_value_t = Method::Files, conflicts_with = "check")]
    serialization: Method,

    /// Shard size in bytes (suffixes K, M, G, KiB, MiB, GiB); implies `--serialization shards`.
    /// Default 1000000000, as model-signing. BLAKE3 has no shards in model-signing: it hashes whole files.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, conflicts_with = "check")]
    shard_size: Option<u64>,

    /// Leave PATH (file or directory, relative to the current directory) out of the manifest. Repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH", conflicts_with = "check")]
    ignore_paths: Vec<PathBuf>,

    /// Sign git files too (.git, .gitattributes, .github, .gitignore at the model root).
    #[arg(long, conflicts_with = "check")]
    no_ignore_git_paths: bool,

    /// Hash symlinked files (the target's bytes, under the link's name) when the target is inside
    /// the model. Without it a symlink is an error.
    #[arg(long, alias = "allow_symlinks", conflicts_with = "check")]
    allow_symlinks: bool,

    /// Like --allow-symlinks, and also follow links that leave the model directory (for example a
    /// Hugging Face cache snapshot). With --check, applies when the manifest allows symlinks.
    #[arg(long)]
    allow_external_symlinks: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Method {
    Files,
    Shards,
}

pub fn run(args: HashArgs, out: &Output) -> Result<Outcome> {
    if let Some(reference) = &args.from_oci {
        return from_oci(&args, reference);
    }
    let Some(model_path) = args.model_path.clone() else {
        anyhow::bail!("name a model directory or file, or --from-oci REF");
    };
    if let Some(manifest_path) = &args.check {
        return check(
            manifest_path,
            &model_path,
            args.allow_external_symlinks,
            out,
        );
    }
    let config = hash_config(&args)?;
    if config.serialization != config.effective_serialization() {
        out.info("note: BLAKE3 has no shards in model-signing; hashing whole files (BLAKE3 uses all cores per file)");
    }
    let progress = out.hashing_progress("hashing");
    let manifest = hash_model(&model_path, &config, &progress)?;
    drop(progress);
    let json = manifest.to_json();
    let Some(dest) = &args.out else {
        use std::io::Write;
        std::io::stdout()
            .write_all(&json)
            .context("writing the manifest to stdout")?;
        return Ok(Outcome::Success);
    };
    write_atomic(dest, &json).with_context(|| format!("writing {}", dest.display()))?;
    let subject = hex::encode(manifest.computed_subject_digest());
    if out.is_json() {
        #[derive(Serialize)]
        struct Written {
            file: String,
            subject: String,
            resources: usize,
        }
        out.json(&Written {
            file: super::output::shown_path(dest),
            subject: format!("sha256:{subject}"),
            resources: manifest.resources.len(),
        });
    } else {
        out.info(format!(
            "wrote {} ({} resources, subject sha256:{subject})",
            super::output::shown_path(dest),
            manifest.resources.len()
        ));
    }
    Ok(Outcome::Success)
}

/// `hash --from-oci REF`: [`hash_from_oci`](modelseal::flows::hash_from_oci), refusing what
/// the layers' digests cannot give.
fn from_oci(args: &HashArgs, reference: &str) -> Result<Outcome> {
    if args.algorithm != "sha256" {
        anyhow::bail!(
            "--from-oci gives sha256 digests only: a layer's digest is its file's SHA-256, and \
             any other hash would mean downloading the model"
        );
    }
    if args.shard_size.is_some() || args.serialization != Method::Files {
        anyhow::bail!(
            "--from-oci gives the files serialization only: a layer's digest covers the whole file"
        );
    }
    if !args.ignore_paths.is_empty() || args.no_ignore_git_paths || args.allow_symlinks {
        anyhow::bail!(
            "--from-oci takes the artifact's files as they are: no ignore or symlink flags"
        );
    }
    let artifact = modelseal::flows::ModelArtifact {
        reference: reference.to_string(),
        oci_layout: args.target.oci_layout,
        connection: args.target.connection()?,
        model_name: args.model_name.clone(),
    };
    let manifest =
        super::target::block_on(async { Ok(modelseal::flows::hash_from_oci(&artifact).await?) })?;
    let json = manifest.to_json();
    match &args.out {
        Some(dest) => {
            write_atomic(dest, &json).with_context(|| format!("writing {}", dest.display()))?
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&json)
                .context("writing the manifest to stdout")?;
        }
    }
    Ok(Outcome::Success)
}

fn check(
    manifest_path: &Path,
    model: &Path,
    external_links: bool,
    out: &Output,
) -> Result<Outcome> {
    let manifest = read_manifest(manifest_path)?;
    let mut config = HashConfig::from_manifest(&manifest);
    if external_links && config.symlinks.allows_symlinks() {
        config.symlinks = SymlinkPolicy::Anywhere;
    }
    let progress = out.hashing_progress("checking");
    let report = compare(&manifest, &hash_model(model, &config, &progress)?);
    drop(progress);
    out.check_report(
        &report,
        &manifest_path.display().to_string(),
        &model.display().to_string(),
    );
    Ok(if report.is_match() {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}

fn hash_config(args: &HashArgs) -> Result<HashConfig> {
    let serialization = match (args.serialization, args.shard_size) {
        (Method::Files, None) => Serialization::Files,
        (_, size) => Serialization::Shards {
            shard_size: size.unwrap_or(DEFAULT_SHARD_SIZE),
        },
    };
    let symlinks = if args.allow_external_symlinks {
        SymlinkPolicy::Anywhere
    } else if args.allow_symlinks {
        SymlinkPolicy::WithinModel
    } else {
        SymlinkPolicy::Refuse
    };
    // The manifest's own file must not sign itself, as model-signing's signature file.
    let ignore_paths = args.ignore_paths.iter().chain(args.out.as_ref());
    Ok(HashConfig {
        algorithm: args
            .algorithm
            .parse::<HashAlgorithm>()
            .map_err(anyhow::Error::msg)?,
        serialization,
        symlinks,
        ignore_paths: relative_to_model(
            args.model_path.as_deref().unwrap_or(Path::new(".")),
            ignore_paths,
        )?,
        ignore_git_paths: !args.no_ignore_git_paths,
    })
}

/// `300`, `64K`, `1M`, `1G` (powers of ten), `64KiB`, `1MiB`, `1GiB` (powers of two).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a size"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`")),
    };
    match n.checked_mul(mult) {
        Some(0) => Err("shard size must be at least 1 byte".into()),
        Some(v) => Ok(v),
        None => Err(format!("`{s}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("300"), Ok(300));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1X").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
