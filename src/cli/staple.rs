//! `modelseal staple`: put receipts into a statement's unprotected header 394, making (or
//! extending) a transparent statement.

use super::Outcome;
use super::output::Output;
use super::trust;
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::cose::{MAX_COSE_BYTES, Sign1};
use modelseal::core::verify::check_receipt;
use serde::Serialize;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal staple model.cose receipt.cose --ts-key service.pub -o model.scitt
  modelseal staple 1ts-statement.scitt datatrails-mmr.receipt --ts-key mmr-service-key.pem -o 2ts.scitt
  modelseal staple model.cose receipt.cose --no-check -o model.scitt     (check later with verify)";

/// Add receipts to a statement (header 394), keeping the ones it has.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct StapleArgs {
    /// The signed (or already transparent) statement.
    statement: PathBuf,
    /// Receipts to add, in order.
    #[arg(required = true)]
    receipts: Vec<PathBuf>,
    /// Transparency-service key to check each receipt with (PEM, JWK, JWKS). Repeatable.
    #[arg(long, value_name = "KEY")]
    ts_key: Vec<PathBuf>,
    /// A directory of transparency-service keys.
    #[arg(long, value_name = "DIR")]
    trust_store: Vec<PathBuf>,
    /// Add receipts without checking them against the statement.
    #[arg(long)]
    no_check: bool,
    /// Where to write the transparent statement (atomically).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: StapleArgs, out: &Output) -> Result<Outcome> {
    let read = |p: &PathBuf| super::trust::read_input(p, MAX_COSE_BYTES as u64);
    let statement_bytes = read(&args.statement)?;
    let statement =
        Sign1::parse(&statement_bytes).with_context(|| format!("{}", args.statement.display()))?;
    let mut receipts = statement
        .receipts()
        .with_context(|| format!("{}", args.statement.display()))?;
    let keys = trust::service_keys(&args.ts_key, &args.trust_store)?;
    if !args.no_check && keys.is_empty() {
        bail!(
            "receipts are checked before stapling: give the service key with --ts-key (or --no-check)"
        );
    }
    let mut added = Vec::new();
    for path in &args.receipts {
        let receipt = read(path)?;
        if receipts.contains(&receipt) {
            out.info(format!("{}: already stapled, skipped", path.display()));
            continue;
        }
        if !args.no_check {
            let report = check_receipt(receipts.len() + 1, &receipt, &statement, &keys);
            if !report.verified {
                bail!(
                    "{}: receipt does not verify against {}: {}",
                    path.display(),
                    args.statement.display(),
                    report.detail
                );
            }
        }
        receipts.push(receipt);
        added.push(path.display().to_string());
    }
    let bytes = statement.with_receipts(&receipts);
    write_atomic(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    if out.is_json() {
        #[derive(Serialize)]
        struct Stapled<'a> {
            file: &'a std::path::Path,
            added: &'a [String],
            receipts: usize,
            checked: bool,
        }
        out.json(&Stapled {
            file: &args.out,
            added: &added,
            receipts: receipts.len(),
            checked: !args.no_check,
        });
    } else {
        out.info(format!(
            "wrote {} ({} receipt(s), {} added{})",
            args.out.display(),
            receipts.len(),
            added.len(),
            if args.no_check {
                ", unchecked"
            } else {
                ", each verified"
            }
        ));
    }
    Ok(Outcome::Success)
}
