//! `modelseal key generate`: a signing key pair for statements (or for a transparency service).

use super::Outcome;
use super::output::Output;
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::{write_atomic, write_atomic_private};
use modelseal::core::cose::key_thumbprint;
use modelseal::core::crypto::{Algorithm, PrivateKey};
use serde::Serialize;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal key generate -o publisher              writes publisher.key (0600) and publisher.pub
  modelseal key generate --alg EdDSA -o dev        an Ed25519 key
  modelseal key generate --alg ES384 -o ts --force replace an existing pair";

#[derive(clap::Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(clap::Subcommand)]
enum KeyCommand {
    /// Make a key pair: NAME.key (PKCS#8 PEM, owner-only) and NAME.pub (SPKI PEM).
    #[command(after_help = EXAMPLES)]
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Signature algorithm: ES256 (P-256), ES384 (P-384) or EdDSA (Ed25519).
    #[arg(long, default_value = "ES256", value_parser = ["ES256", "ES384", "EdDSA"])]
    alg: String,
    /// Path prefix for NAME.key and NAME.pub.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "NAME")]
    name: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

pub fn run(args: KeyArgs, out: &Output) -> Result<Outcome> {
    let KeyCommand::Generate(args) = args.command;
    let alg: Algorithm = args.alg.parse().map_err(anyhow::Error::msg)?;
    let with_ext = |ext: &str| {
        let mut p = args.name.clone().into_os_string();
        p.push(ext);
        PathBuf::from(p)
    };
    let (private_path, public_path) = (with_ext(".key"), with_ext(".pub"));
    for p in [&private_path, &public_path] {
        if p.exists() && !args.force {
            bail!("{} exists; use --force to replace it", p.display());
        }
    }
    let key = PrivateKey::generate(alg)?;
    let public = key.public_key();
    write_atomic_private(&private_path, key.to_pkcs8_pem().as_bytes())
        .with_context(|| format!("writing {}", private_path.display()))?;
    write_atomic(&public_path, public.to_spki_pem().as_bytes())
        .with_context(|| format!("writing {}", public_path.display()))?;
    let kid = key_thumbprint(&public).map(hex::encode).unwrap_or_default();
    if out.is_json() {
        #[derive(Serialize)]
        struct Generated<'a> {
            algorithm: &'a str,
            private_key: &'a std::path::Path,
            public_key: &'a std::path::Path,
            kid: &'a str,
        }
        out.json(&Generated {
            algorithm: alg.name(),
            private_key: &private_path,
            public_key: &public_path,
            kid: &kid,
        });
    } else {
        out.info(format!(
            "wrote {} (private, 0600) and {} ({alg}, kid {kid})",
            super::output::shown_path(&private_path),
            super::output::shown_path(&public_path)
        ));
    }
    Ok(Outcome::Success)
}
