//! `modelseal policy init` and `policy show`: write a working trust policy non-interactively,
//! and show which part of a policy applies to a reference.

use super::Outcome;
use super::output::Output;
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::policy::{TrustPolicy, locate};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  modelseal policy init -o policy.toml      a commented example to edit
  modelseal policy init --scope localhost:5000/models/ --issuer-key dev.pub --issuer https://publisher.example \\
      --ts-key ts/service.pub --min-receipts 1 -o ~/.config/modelseal/policy.toml
  modelseal policy show localhost:5000/models/tiny:v1";

#[derive(clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(clap::Subcommand)]
enum PolicyCommand {
    /// Write a trust policy: a commented example, or a working one from the flags.
    #[command(after_help = EXAMPLES)]
    Init(InitArgs),
    /// Print the policy that applies to a reference.
    Show(ShowArgs),
}

#[derive(clap::Args)]
struct InitArgs {
    /// Repository prefix the policy covers (`*` for all; a trailing `*` is added to a prefix).
    #[arg(long)]
    scope: Vec<String>,
    /// The statement issuer's public key (PEM, JWK, JWKS)...
    #[arg(long, value_name = "FILE", conflicts_with = "issuer_root")]
    issuer_key: Option<PathBuf>,
    /// ...or the root certificate its x5chain must lead to.
    #[arg(long, value_name = "CERT")]
    issuer_root: Option<PathBuf>,
    /// The `iss` statements must claim.
    #[arg(long)]
    issuer: Option<String>,
    /// The `sub` statements must claim.
    #[arg(long)]
    subject: Option<String>,
    /// A trusted transparency service's key. Repeatable.
    #[arg(long, value_name = "FILE")]
    ts_key: Vec<PathBuf>,
    /// Receipts required from distinct services.
    #[arg(long, default_value_t = 0)]
    min_receipts: usize,
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct ShowArgs {
    reference: String,
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long)]
    oci_layout: bool,
}

const EXAMPLE: &str = r#"# modelseal trust policy (version 1). `modelseal discover --verify` and `pull --verify` use it.
# Paths are relative to this file. The most specific matching scope applies.
version = 1

[[policy]]
name = "my-models"
# Repository prefixes (host/repository...); "*" matches every repository.
scopes = ["registry.example.com/models/*"]
# Receipts required from distinct transparency services (0: signature only).
min_receipts = 1
# Receipt profiles that must be among them: "rfc9162", "ccf", "mmr".
# required_profiles = ["ccf"]
# Referrer artifact types that must be attached (default: a transparent statement).
# required_artifact_types = ["scitt/transparent-statement"]

# Whose statements are trusted: a public key, or a root certificate for x5chain statements.
[[policy.issuers]]
key = "publisher.pub"
# root = "publisher-root.pem"
iss = "https://publisher.example"        # the CWT iss statements must claim (optional)
# sub = "models/my-model"                # the CWT sub (optional)

# Which transparency services' receipts count.
[[policy.transparency_services]]
name = "local-log"
key = "ts/service.pub"
"#;

pub fn run(args: PolicyArgs, out: &Output) -> Result<Outcome> {
    match args.command {
        PolicyCommand::Init(a) => init(a, out),
        PolicyCommand::Show(a) => show(a, out),
    }
}

fn absolute(p: &Path) -> Result<String> {
    let abs = std::path::absolute(p).with_context(|| format!("{}: cannot resolve", p.display()))?;
    if !abs.is_file() {
        bail!("{}: no such file", p.display());
    }
    Ok(abs.display().to_string())
}

fn init(a: InitArgs, out: &Output) -> Result<Outcome> {
    if a.out.exists() && !a.force {
        bail!("{} exists; use --force to replace it", a.out.display());
    }
    let text = if a.issuer_key.is_none() && a.issuer_root.is_none() {
        if !a.scope.is_empty() || !a.ts_key.is_empty() {
            bail!(
                "a working policy needs --issuer-key or --issuer-root (without flags, init writes an example)"
            );
        }
        EXAMPLE.to_string()
    } else {
        let scopes: Vec<String> = if a.scope.is_empty() {
            vec!["*".into()]
        } else {
            a.scope
                .iter()
                .map(|s| {
                    if s == "*" || s.ends_with('*') {
                        s.clone()
                    } else {
                        format!("{s}*")
                    }
                })
                .collect()
        };
        let mut t = String::from(
            "# Written by `modelseal policy init`.\nversion = 1\n\n[[policy]]\nname = \"default\"\n",
        );
        writeln!(t, "scopes = {}", toml_list(&scopes))?;
        writeln!(t, "min_receipts = {}\n\n[[policy.issuers]]", a.min_receipts)?;
        match (&a.issuer_key, &a.issuer_root) {
            (Some(k), _) => writeln!(t, "key = {}", quoted(&absolute(k)?))?,
            (_, Some(r)) => writeln!(t, "root = {}", quoted(&absolute(r)?))?,
            _ => unreachable!("checked above"),
        }
        if let Some(iss) = &a.issuer {
            writeln!(t, "iss = {}", quoted(iss))?;
        }
        if let Some(sub) = &a.subject {
            writeln!(t, "sub = {}", quoted(sub))?;
        }
        for (i, k) in a.ts_key.iter().enumerate() {
            writeln!(
                t,
                "\n[[policy.transparency_services]]\nname = \"service-{}\"\nkey = {}",
                i + 1,
                quoted(&absolute(k)?)
            )?;
        }
        t
    };
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_atomic(&a.out, text.as_bytes())
        .with_context(|| format!("writing {}", a.out.display()))?;
    // A working policy must load: check it now rather than at the first verify.
    if a.issuer_key.is_some() || a.issuer_root.is_some() {
        TrustPolicy::load(&a.out)?;
    }
    out.info(format!("wrote {}", a.out.display()));
    Ok(Outcome::Success)
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises") // a JSON string is a valid TOML basic string
}

fn toml_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| quoted(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn show(a: ShowArgs, out: &Output) -> Result<Outcome> {
    let path = locate(a.policy.as_deref()).map_err(anyhow::Error::msg)?;
    let policy = TrustPolicy::load(&path)?;
    let repository = super::discover::repository_of(&a.reference, a.oci_layout);
    let Some(scope) = policy.for_repository(&repository) else {
        bail!("{}: no policy scope covers {repository}", path.display());
    };
    let issuers: Vec<serde_json::Value> = scope
        .issuers
        .iter()
        .map(|i| serde_json::json!({"source": i.source, "keys": i.keys.len(), "roots": i.roots.len(), "iss": i.iss, "sub": i.sub}))
        .collect();
    let services: Vec<serde_json::Value> = scope
        .services
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "keys": s.keys.len(), "profile": s.profile}))
        .collect();
    let shown = serde_json::json!({
        "file": path, "repository": repository, "policy": scope.name, "scopes": scope.scopes,
        "issuers": issuers, "transparency_services": services, "min_receipts": scope.min_receipts,
        "required_profiles": scope.required_profiles, "required_artifact_types": scope.required_artifact_types,
    });
    if out.is_json() {
        out.json(&shown);
    } else {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    }
    Ok(Outcome::Success)
}
