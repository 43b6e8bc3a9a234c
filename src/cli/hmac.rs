//! `modelseal hmac`: sign and verify model folders the way a `sign_model.py`-style guide does
//! (a shared secret, `FILE.sig` beside each file, `model_signatures.json`), and `migrate` them to
//! a signed (and logged) statement.

use super::Outcome;
use super::output::Output;
use super::trust;
use anyhow::{Context, Result};
use modelseal::compat::hmac::{
    DEFAULT_EXTENSIONS, FileVerdict, HmacKey, migration_manifest, model_files, sign_all, sign_file,
    verify_all, verify_file,
};
use modelseal::core::signed_statement::{IN_TOTO_CONTENT_TYPE, StatementSpec, sign_statement};
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  export MODEL_SIGNING_KEY=...        (or --key-file FILE; the key is never a flag value)
  modelseal hmac sign --model models/classifier.pt
  modelseal hmac sign-all --models-dir models
  modelseal hmac verify-all --models-dir models --verbose
  modelseal hmac migrate --models-dir models --key publisher.key --issuer https://publisher.example \\
      --subject models/classifier -o models.cose --ts local:./ts";

/// HMAC-signed model folders: sign, verify, and migrate to a signed statement.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct HmacArgs {
    #[command(subcommand)]
    command: HmacCommand,
    /// Read the shared secret from this file instead of $MODEL_SIGNING_KEY (one trailing
    /// newline is dropped).
    #[arg(long, value_name = "FILE", global = true)]
    key_file: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum HmacCommand {
    /// Sign one file: write FILE.sig beside it.
    Sign {
        /// The model file.
        #[arg(long, value_name = "FILE")]
        model: PathBuf,
    },
    /// Sign every model file under a directory and write model_signatures.json there.
    SignAll(DirArgs),
    /// Verify one file against FILE.sig.
    Verify {
        /// The model file.
        #[arg(long, value_name = "FILE")]
        model: PathBuf,
    },
    /// Verify every model file under a directory (and model_signatures.json, when present).
    VerifyAll(DirArgs),
    /// Verify every HMAC signature, then sign a model-signing manifest covering exactly the
    /// verified files as a SCITT statement (registered with --ts). Nothing is written unless
    /// every signature holds.
    Migrate(MigrateArgs),
}

#[derive(clap::Args)]
struct DirArgs {
    /// The models root.
    #[arg(long, value_name = "DIR")]
    models_dir: PathBuf,
    /// Only the files directly in the directory.
    #[arg(long)]
    no_recursive: bool,
    /// Also list the files that verified.
    #[arg(long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct MigrateArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// The publisher's private key for the statement (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The statement's CWT iss.
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// The statement's CWT sub.
    #[arg(long, value_name = "SUB")]
    subject: String,
    /// Register with a transparency service and staple the receipt (`local:DIR` or a URL).
    /// Repeatable.
    #[arg(long = "ts", value_name = "SERVICE")]
    services: Vec<String>,
    /// Pinned key(s) of URL transparency services.
    #[arg(long, value_name = "FILE")]
    ts_key: Vec<PathBuf>,
    /// Where to write the statement (atomically).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    out: PathBuf,
}

fn key(args: &Option<PathBuf>) -> Result<HmacKey> {
    Ok(match args {
        Some(path) => HmacKey::from_file(path)?,
        None => HmacKey::from_env()?,
    })
}

/// The signing time as the HMAC signatures record it (RFC 3339).
fn signing_timestamp() -> String {
    modelseal::core::x509::format_unix_time(modelseal::core::clock::signing_time())
}

pub fn run(args: HmacArgs, out: &Output) -> Result<Outcome> {
    let key = key(&args.key_file)?;
    match args.command {
        HmacCommand::Sign { model } => {
            let sig = sign_file(&key, &model, &signing_timestamp())?;
            if out.is_json() {
                out.json(&sig);
            } else {
                sayln!("Signed {} ({} bytes)", model.display(), sig.file_size);
            }
            Ok(Outcome::Success)
        }
        HmacCommand::SignAll(d) => {
            let files = model_files(&d.models_dir, &DEFAULT_EXTENSIONS, !d.no_recursive)?;
            let index = sign_all(&key, &d.models_dir, &files, &signing_timestamp())?;
            if out.is_json() {
                out.json(&index);
            } else {
                for f in &files {
                    sayln!("Signed {f}");
                }
                sayln!(
                    "Signed {} file(s); index written to {}",
                    index.total_files,
                    d.models_dir
                        .join(modelseal::compat::hmac::INDEX_FILE)
                        .display()
                );
            }
            Ok(Outcome::Success)
        }
        HmacCommand::Verify { model } => {
            let v = verify_file(&key, &model, &model.display().to_string());
            report(out, std::slice::from_ref(&v), true);
            Ok(outcome(&[v]))
        }
        HmacCommand::VerifyAll(d) => {
            let files = model_files(&d.models_dir, &DEFAULT_EXTENSIONS, !d.no_recursive)?;
            let verdicts = verify_all(&key, &d.models_dir, &files);
            report(out, &verdicts, d.verbose);
            Ok(outcome(&verdicts))
        }
        HmacCommand::Migrate(m) => migrate(&key, m, out),
    }
}

fn outcome(verdicts: &[FileVerdict]) -> Outcome {
    if !verdicts.is_empty() && verdicts.iter().all(|v| v.verified) {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    }
}

fn report(out: &Output, verdicts: &[FileVerdict], verbose: bool) {
    if out.is_json() {
        out.json(&serde_json::json!({
            "verified": verdicts.iter().all(|v| v.verified) && !verdicts.is_empty(),
            "files": verdicts,
        }));
        return;
    }
    for v in verdicts {
        if !v.verified {
            sayln!("✘ {}: {}", v.file, v.detail);
        } else if verbose {
            sayln!("✔ {}: {}", v.file, v.detail);
        }
    }
    let ok = verdicts.iter().filter(|v| v.verified).count();
    if verdicts.is_empty() {
        sayln!("✘ no model files found");
    } else if ok == verdicts.len() {
        sayln!("✔ {ok}/{} verified", verdicts.len());
    } else {
        sayln!("✘ {ok}/{} verified", verdicts.len());
    }
}

/// The statement file's path inside the model directory, if it is there (left out of the manifest
/// like model-signing's own signature file).
fn inside(dir: &Path, file: &Path) -> Result<Option<String>> {
    let root =
        std::fs::canonicalize(dir).with_context(|| format!("{}: cannot open", dir.display()))?;
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(parent) = std::fs::canonicalize(parent) else {
        return Ok(None);
    };
    let full = parent.join(file.file_name().unwrap_or_default());
    Ok(full
        .strip_prefix(&root)
        .ok()
        .map(|r| r.to_string_lossy().into_owned()))
}

fn migrate(key: &HmacKey, m: MigrateArgs, out: &Output) -> Result<Outcome> {
    let publisher = trust::private_key(&m.key)?;
    let files = model_files(&m.dir.models_dir, &DEFAULT_EXTENSIONS, !m.dir.no_recursive)?;
    let verdicts = verify_all(key, &m.dir.models_dir, &files);
    if verdicts.is_empty() || verdicts.iter().any(|v| !v.verified) {
        report(out, &verdicts, m.dir.verbose);
        sayln!("✘ migration refused: every HMAC signature must verify; nothing was written");
        return Ok(Outcome::VerificationFailed);
    }
    let mut also_ignore = Vec::new();
    if let Some(rel) = inside(&m.dir.models_dir, &m.out)? {
        also_ignore.push(rel);
    }
    let (manifest, uncovered) = migration_manifest(&m.dir.models_dir, &verdicts, &also_ignore)?;
    let spec = StatementSpec {
        issuer: m.issuer,
        subject: m.subject,
        content_type: Some(IN_TOTO_CONTENT_TYPE.into()),
        issued_at: Some(modelseal::core::clock::signing_time()),
        ..StatementSpec::default()
    };
    let mut statement = sign_statement(&publisher, &manifest.to_json(), &spec);
    if !m.services.is_empty() {
        let request = modelseal::flows::RegisterRequest {
            statement,
            services: trust::services(&m.services)?,
            service_keys: trust::pinned_service_keys(&m.ts_key)?,
        };
        statement = super::target::block_on(async {
            Ok(modelseal::flows::register(&request, out).await?)
        })?
        .statement;
    }
    modelseal::core::atomic_file::write_atomic(&m.out, &statement)
        .with_context(|| format!("writing {}", m.out.display()))?;
    if out.is_json() {
        out.json(&serde_json::json!({
            "statement": m.out, "covered": manifest.resources.len(), "not_covered": uncovered,
        }));
    } else {
        sayln!(
            "✔ {} HMAC signature(s) verified; statement over them written to {}",
            verdicts.len(),
            m.out.display()
        );
        if !uncovered.is_empty() {
            sayln!(
                "  not covered (never authenticated, so not endorsed): {}",
                uncovered.join(", ")
            );
        }
    }
    Ok(Outcome::Success)
}
