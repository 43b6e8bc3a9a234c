//! `modelseal ts init` (an embedded transparency log in a directory) and `modelseal register`
//! (a statement made transparent: registered, its receipt checked and stapled).

use super::Outcome;
use super::output::Output;
use super::trust;
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::cose::{MAX_COSE_BYTES, Sign1};
use modelseal::core::input::read_bounded;
use modelseal::core::receipt::Receipt;
use modelseal::transparency::TransparencyLog;
use modelseal::transparency::registration::RegistrationPolicy;
use std::path::{Path, PathBuf};

const TS_EXAMPLES: &str = "Examples:
  modelseal ts init --dir ./ts --issuer-key publisher.pub     a log that accepts this publisher's statements
  modelseal ts init --dir ./dev-ts --accept-any-issuer        a private dev log (says so)";

#[derive(clap::Args)]
pub struct TsArgs {
    #[command(subcommand)]
    command: TsCommand,
}

#[derive(clap::Subcommand)]
enum TsCommand {
    /// Make an embedded transparency log in a directory (service key 0600, service.pub to pin).
    #[command(after_help = TS_EXAMPLES)]
    Init(InitArgs),
}

#[derive(clap::Args)]
struct InitArgs {
    #[arg(long)]
    dir: PathBuf,
    /// Public key of an issuer whose statements the log accepts. Repeatable.
    #[arg(long, value_name = "FILE")]
    issuer_key: Vec<PathBuf>,
    /// Accept statements from any issuer: for a private dev log only.
    #[arg(long)]
    accept_any_issuer: bool,
}

pub fn run(args: TsArgs, out: &Output) -> Result<Outcome> {
    let TsCommand::Init(a) = args.command;
    if a.issuer_key.is_empty() && !a.accept_any_issuer {
        bail!(
            "say whose statements the log accepts: --issuer-key FILE, or --accept-any-issuer for a private dev log"
        );
    }
    let mut issuer_keys = Vec::new();
    for k in &a.issuer_key {
        let keys = trust::public_keys(std::slice::from_ref(k))?;
        issuer_keys.extend(keys.iter().map(|n| n.key.to_spki_pem()));
    }
    if a.accept_any_issuer {
        eprintln!(
            "WARNING: this log accepts statements from ANY issuer; use it for private development only"
        );
    }
    TransparencyLog::init(
        &a.dir,
        &RegistrationPolicy {
            issuer_keys,
            accept_any_issuer: a.accept_any_issuer,
        },
    )?;
    let log = TransparencyLog::open(&a.dir)?;
    out.info(format!(
        "transparency log at {} ({} entries); pin its key: {}",
        a.dir.display(),
        log.size(),
        a.dir
            .join(modelseal::transparency::log::PUBLIC_KEY_FILE)
            .display()
    ));
    Ok(Outcome::Success)
}

const REGISTER_EXAMPLES: &str = "Examples:
  modelseal register model.cose --ts local:./ts -o model.scitt";

/// Register a signed statement with transparency services and staple their receipts.
#[derive(clap::Args)]
#[command(after_help = REGISTER_EXAMPLES)]
pub struct RegisterArgs {
    statement: PathBuf,
    /// A transparency service: `local:DIR` (embedded log). Repeatable.
    #[arg(long = "ts", value_name = "SERVICE", required = true)]
    services: Vec<String>,
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: PathBuf,
}

pub fn register(args: RegisterArgs, out: &Output) -> Result<Outcome> {
    let bytes = read_bounded(&args.statement, MAX_COSE_BYTES as u64)
        .with_context(|| format!("{}: cannot read", args.statement.display()))?;
    let transparent = register_with(&bytes, &args.services, out)?;
    write_atomic(&args.out, &transparent)
        .with_context(|| format!("writing {}", args.out.display()))?;
    out.info(format!(
        "wrote {} ({} receipt(s) added)",
        args.out.display(),
        args.services.len()
    ));
    Ok(Outcome::Success)
}

/// Registers `statement` with each service, checks each receipt against the service's key, and
/// returns the statement with the receipts stapled.
pub(super) fn register_with(
    statement: &[u8],
    services: &[String],
    out: &Output,
) -> Result<Vec<u8>> {
    let parsed = Sign1::parse(statement).context("the statement is not a COSE_Sign1")?;
    let mut receipts = parsed.receipts()?;
    for service in services {
        let Some(dir) = service.strip_prefix("local:") else {
            bail!(
                "{service}: only `local:DIR` services yet (the SCRAPI client over HTTP is the transparency issue's next step)"
            );
        };
        let log = TransparencyLog::open(Path::new(dir))?;
        let index = log
            .append(&[statement.to_vec()])
            .with_context(|| format!("registering with {service}"))?[0];
        let receipt = log.receipt(index, trust::now())?;
        Receipt::parse(&receipt)?
            .verify(&parsed, &log.public_key())
            .with_context(|| format!("the receipt from {service} does not verify"))?;
        out.info(format!(
            "registered with {service}: entry {index} of {}",
            log.size()
        ));
        receipts.push(receipt);
    }
    Ok(parsed.with_receipts(&receipts))
}
