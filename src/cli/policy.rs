//! `modelseal policy init` and `policy show`: write a working trust policy non-interactively,
//! and show which part of a policy applies to a reference.

use super::Outcome;
use super::output::{Output, shown_path};
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::policy::{TrustPolicy, locate};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  modelseal policy init -o policy.toml      a commented example to edit
  modelseal policy init --scope 'localhost:5000/models/*' --issuer-key dev.pub --bind-subject \\
      --ts-key ts/service.pub --min-receipts 1 -o ~/.config/modelseal/policy.toml
  modelseal policy show localhost:5000/models/tiny:v1     which policy applies, and why
  modelseal policy lint policy.toml                        findings with their line numbers";

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
    /// Explain which policy applies to a reference: the scope that matched, the ones that lost,
    /// issuers, services, receipts required, level.
    Show(ShowArgs),
    /// Check a policy file: unknown keys, unreachable scopes, issuers without an identity,
    /// services never required, `skip` on `*` — each with its line. Exit 1 when anything is found.
    Lint(LintArgs),
}

#[derive(clap::Args)]
struct InitArgs {
    /// A scope the policy covers, written as is: `host/repo` (exactly that repository),
    /// `host/a/*` (every repository under a/), `*` (everything), `oci-layout:/abs/dir`.
    /// Repeatable; default `*`.
    #[arg(long)]
    scope: Vec<String>,
    /// The statement issuer's public key (PEM, JWK, JWKS)...
    #[arg(long, value_name = "FILE", conflicts_with = "issuer_root")]
    issuer_key: Option<PathBuf>,
    /// ...or the root certificate its x5chain must lead to...
    #[arg(long, value_name = "CERT")]
    issuer_root: Option<PathBuf>,
    /// The `iss` statements must claim (exact, `*` glob, or a template). A `did:x509:…` alone
    /// (without --issuer-key/--issuer-root) trusts that identity: its fingerprint pins the CA.
    #[arg(long)]
    issuer: Option<String>,
    /// The `sub` statements must claim (exact, `*` glob, or a template with {registry},
    /// {repository}, {tag}).
    #[arg(long, conflicts_with = "bind_subject")]
    subject: Option<String>,
    /// Bind statements to the reference they are verified under: `sub = "{repository}:{tag}"`
    /// (what `publish` signs by default), so a re-tagged or renamed artifact does not pass.
    #[arg(long)]
    bind_subject: bool,
    /// A trusted transparency service's key. Repeatable.
    #[arg(long, value_name = "FILE")]
    ts_key: Vec<PathBuf>,
    /// Receipts required, from that many different services.
    #[arg(long, default_value_t = 0)]
    min_receipts: usize,
    /// strict (failures block), audit (failures reported, not enforced), or skip (no checks;
    /// not allowed with the `*` scope).
    #[arg(long, default_value = "strict", value_parser = ["strict", "audit", "skip"])]
    level: String,
    /// Where to write the policy (atomically).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct ShowArgs {
    /// The reference to explain: host/repo:tag (or DIR:tag with --oci-layout).
    reference: String,
    /// The policy file (default: $MODELSEAL_POLICY, else ~/.config/modelseal/policy.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// REFERENCE is an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
}

#[derive(clap::Args)]
struct LintArgs {
    /// The policy file (default: $MODELSEAL_POLICY, else ~/.config/modelseal/policy.toml).
    file: Option<PathBuf>,
}

const EXAMPLE: &str = r#"# modelseal trust policy (version 2). `modelseal discover --verify`, `pull --verify` and
# `verify-model` use it. Paths are relative to this file. `modelseal policy lint` checks it.
version = 2

[[policy]]
name = "my-models"
# Scopes, by whole path segments: "host/a/b" is exactly that repository, "host/a/*" every
# repository under a/ (any depth), "host/*" a whole registry, "*" everything,
# "oci-layout:/abs/dir" an OCI layout. The most specific scope that covers a reference wins.
scopes = ["registry.example.com/models/*"]
# strict (default): failures block. audit: reported, not enforced. skip: nothing verified.
level = "strict"
# Receipts required, each verified by the key of a different service below (0: signature only).
min_receipts = 1
# Receipt profiles that must be among them: "rfc9162", "ccf", "mmr".
# required_profiles = ["ccf"]
# Referrer artifact types that must be attached (default: a transparent statement).
# required_artifact_types = ["scitt/transparent-statement"]

# Whose statements are trusted: a public key (PEM, JWK, or a JWKS for rotating keys)...
[[policy.issuers]]
key = "publisher.pub"
iss = "https://publisher.example"        # exact, or a glob: "https://*.publisher.example"
sub = "{repository}:{tag}"               # bound to the reference verified: no re-tag passes

# ...or a root certificate for x5chain statements:
# [[policy.issuers]]
# root = "publisher-root.pem"
# iss = "did:x509:0:sha256:...::eku:1.3.6.1.5.5.7.3.3"

# ...or a did:x509 identity alone: its fingerprint pins the CA the x5chain is validated to.
# [[policy.issuers]]
# iss = "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.1"

# Which transparency services' receipts count (each needs its own key).
[[policy.transparency_services]]
name = "local-log"
key = "ts/service.pub"
# profile = "rfc9162"
"#;

pub fn run(args: PolicyArgs, out: &Output) -> Result<Outcome> {
    match args.command {
        PolicyCommand::Init(a) => init(a, out),
        PolicyCommand::Show(a) => show(a, out),
        PolicyCommand::Lint(a) => lint(a, out),
    }
}

/// `p` as the policy file at `policy` names it: relative to the policy's directory (what the
/// loader resolves against), so that a policy ships with its keys.
fn relative_to_policy(p: &Path, policy: &Path, is_key: bool) -> Result<String> {
    let resolve = |q: &Path| {
        std::path::absolute(q).with_context(|| format!("{}: cannot resolve", q.display()))
    };
    let file = resolve(p)?;
    if !file.is_file() {
        return Err(if is_key {
            super::trust::MissingKey(p.to_path_buf()).into()
        } else {
            super::trust::Missing(p.to_path_buf()).into()
        });
    }
    let base = resolve(policy)?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let (mut f, mut b) = (file.components().peekable(), base.components().peekable());
    while let (Some(x), Some(y)) = (f.peek(), b.peek()) {
        if x != y {
            break;
        }
        f.next();
        b.next();
    }
    let mut rel = std::path::PathBuf::new();
    for _ in b {
        rel.push("..");
    }
    rel.extend(f);
    Ok(rel.display().to_string())
}

fn init(a: InitArgs, out: &Output) -> Result<Outcome> {
    if a.out.exists() && !a.force {
        bail!("{} exists; use --force to replace it", a.out.display());
    }
    let did = a.issuer.as_deref().filter(|i| {
        i.starts_with("did:x509:") && a.issuer_key.is_none() && a.issuer_root.is_none()
    });
    let working = a.issuer_key.is_some() || a.issuer_root.is_some() || did.is_some();
    let text = if !working {
        if !a.scope.is_empty() || !a.ts_key.is_empty() || a.issuer.is_some() {
            bail!(
                "a working policy needs --issuer-key, --issuer-root or a did:x509 --issuer (without flags, init writes an example)"
            );
        }
        EXAMPLE.to_string()
    } else {
        let scopes: Vec<String> = if a.scope.is_empty() {
            vec!["*".into()]
        } else {
            a.scope.clone()
        };
        let mut t = String::from(
            "# Written by `modelseal policy init`.\nversion = 2\n\n[[policy]]\nname = \"default\"\n",
        );
        writeln!(t, "scopes = {}", toml_list(&scopes))?;
        writeln!(t, "level = {}", quoted(&a.level))?;
        writeln!(t, "min_receipts = {}\n\n[[policy.issuers]]", a.min_receipts)?;
        match (&a.issuer_key, &a.issuer_root) {
            (Some(k), _) => writeln!(t, "key = {}", quoted(&relative_to_policy(k, &a.out, true)?))?,
            (_, Some(r)) => writeln!(
                t,
                "root = {}",
                quoted(&relative_to_policy(r, &a.out, false)?)
            )?,
            _ => {} // a did:x509 issuer: its iss is its identity
        }
        if let Some(iss) = &a.issuer {
            writeln!(t, "iss = {}", quoted(iss))?;
        }
        if a.bind_subject {
            writeln!(t, "sub = {}", quoted("{repository}:{tag}"))?;
        } else if let Some(sub) = &a.subject {
            writeln!(t, "sub = {}", quoted(sub))?;
        }
        for (i, k) in a.ts_key.iter().enumerate() {
            writeln!(
                t,
                "\n[[policy.transparency_services]]\nname = \"service-{}\"\nkey = {}",
                i + 1,
                quoted(&relative_to_policy(k, &a.out, true)?)
            )?;
        }
        t
    };
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // A working policy must load: check it before it replaces anything.
    if working {
        TrustPolicy::from_text(&text, &a.out)?;
    }
    write_atomic(&a.out, text.as_bytes())
        .with_context(|| format!("writing {}", a.out.display()))?;
    out.info(format!("wrote {}", super::output::shown_path(&a.out)));
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
    let (selection, artifact) = policy.select_reference(&a.reference, a.oci_layout)?;
    let p = selection.policy;
    let issuers: Vec<serde_json::Value> = p
        .issuers
        .iter()
        .map(|i| {
            let kind = if i.sigstore.is_some() {
                "sigstore"
            } else if i.did.is_some() {
                "did:x509"
            } else if i.roots.is_empty() {
                "key"
            } else {
                "root"
            };
            serde_json::json!({"identity": kind, "source": issuer_source(i), "keys": i.keys.len(),
                "roots": i.roots.len(), "iss": i.iss, "sub": i.sub,
                "certificate_identity": i.sigstore.as_ref().map(|s| s.identity.to_string()),
                "oidc_issuer": i.sigstore.as_ref().map(|s| s.oidc_issuer.clone()),
                "trusted_root": i.sigstore.as_ref().map(|s| s.trust.name.clone()),
                "sub_required_here": i.sub.as_ref().map(|s| s.expand(&artifact).unwrap_or_else(|e| e))})
        })
        .collect();
    let services: Vec<serde_json::Value> = p
        .services
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "keys": s.keys.len(), "profile": s.profile}))
        .collect();
    let shown = serde_json::json!({
        "file": super::output::shown_path(&path), "reference": a.reference, "repository": artifact.name.to_string(),
        "policy": p.name, "level": p.level, "matched": selection.winner, "lost": selection.losers,
        "scopes": p.scopes, "issuers": issuers, "transparency_services": services,
        "cosign_keys": p.cosign_keys.iter().map(|k| shown_path(Path::new(&k.source))).collect::<Vec<_>>(),
        "min_receipts": p.min_receipts, "required_profiles": p.required_profiles,
        "required_artifact_types": p.required_artifact_types,
    });
    if out.is_json() {
        out.json(&shown);
        return Ok(Outcome::Success);
    }
    sayln!(
        "{} → policy '{}' (level {}) of {}",
        artifact.name,
        p.name,
        p.level.name(),
        super::output::shown_path(&path)
    );
    sayln!(
        "  matched: {} ({})",
        selection.winner.scope,
        selection.winner.specificity
    );
    for l in &selection.losers {
        sayln!(
            "  lost:    {} of policy '{}' ({}: less specific)",
            l.scope,
            l.policy,
            l.specificity
        );
    }
    for (n, i) in p.issuers.iter().enumerate() {
        let pin = |label: &str, c: &Option<modelseal::core::policy::ClaimPattern>| match c {
            Some(c) => match c.expand(&artifact) {
                Ok(v) if v != c.as_str() => format!(", {label} {} (here: {v})", c.as_str()),
                Ok(_) => format!(", {label} {}", c.as_str()),
                Err(e) => format!(", {label} {}: {e}", c.as_str()),
            },
            None => String::new(),
        };
        sayln!(
            "  issuer {}: {}{}{}",
            n + 1,
            issuer_source(i),
            pin("iss", &i.iss),
            pin("sub", &i.sub)
        );
    }
    for k in &p.cosign_keys {
        sayln!("  cosign key: {}", shown_path(Path::new(&k.source)));
    }
    for s in &p.services {
        sayln!(
            "  service: {}{}",
            s.name,
            s.profile
                .as_deref()
                .map(|pr| format!(" ({pr})"))
                .unwrap_or_default()
        );
    }
    sayln!(
        "  receipts required: {} (from different services){}",
        p.min_receipts,
        if p.required_profiles.is_empty() {
            String::new()
        } else {
            format!(", profiles {}", p.required_profiles.join(", "))
        }
    );
    sayln!(
        "  referrers required: {}",
        p.required_artifact_types.join(", ")
    );
    Ok(Outcome::Success)
}

/// Where an issuer was declared, as paths are shown: its key or root file relative to the
/// current directory when under it; a DID or a Sigstore identity as it is.
fn issuer_source(i: &modelseal::core::policy::TrustedIssuer) -> String {
    if i.did.is_some() || i.sigstore.is_some() {
        i.source.clone()
    } else {
        shown_path(Path::new(&i.source))
    }
}

fn lint(a: LintArgs, out: &Output) -> Result<Outcome> {
    let path = match a.file {
        Some(f) => f,
        None => locate(None).map_err(anyhow::Error::msg)?,
    };
    if !path.exists() {
        return Err(super::trust::Missing(path).into());
    }
    let findings = modelseal::core::policy::lint(&path);
    if out.is_json() {
        out.json(&serde_json::json!({"file": path, "findings": findings}));
    } else if findings.is_empty() {
        sayln!("{}: no findings", path.display());
    } else {
        for f in &findings {
            sayln!("{}:{}: {}", path.display(), f.line, f.message);
        }
    }
    Ok(if findings.is_empty() {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}
