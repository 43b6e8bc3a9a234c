//! `modelseal ts init` (an embedded transparency log in a directory) and `modelseal register`
//! (a statement made transparent: registered, its receipt checked and stapled).

use super::Outcome;
use super::output::Output;
use super::target::block_on;
use super::trust;
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::cose::MAX_COSE_BYTES;
use modelseal::flows::{self, RegisterRequest};
use modelseal::transparency::TransparencyLog;
use modelseal::transparency::registration::{IssuerKeyEntry, RegistrationPolicy};
use std::path::PathBuf;

const TS_EXAMPLES: &str = "Examples:
  modelseal ts init --dir ./ts --issuer-key publisher.pub     a log that accepts this publisher's statements
  modelseal ts init --dir ./ts --issuer-key a.pub --issuer https://a.example \\
      --issuer-key b.pub --issuer https://b.example           each key signs only its own iss
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
    /// Serve a log over HTTP with SCRAPI (POST /entries, GET /entries/{id}, /.well-known/scitt-keys).
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The address to serve on, `IP:PORT` (port 0: any free port; the URL is printed first).
    #[arg(long, default_value = "127.0.0.1:8410")]
    listen: String,
    /// The log directory; made on first start (as `ts init`) from the flags below, which also
    /// replace the registration policy of an existing log when given.
    #[command(flatten)]
    init: InitArgs,
}

fn serve(a: ServeArgs, out: &Output) -> Result<Outcome> {
    let configure = !a.init.issuer_keys.keys.is_empty()
        || !a.init.issuer_root.is_empty()
        || a.init.accept_any_issuer
        || a.init.key.is_some();
    let missing = match TransparencyLog::open(&a.init.dir) {
        Ok(_) => false,
        Err(modelseal::transparency::LogError::NotALog(_)) => true,
        // Busy (another `ts serve`), unreadable: say so, rather than asking for init flags.
        Err(e) => return Err(e.into()),
    };
    if configure || missing {
        init(&a.init, out)?;
    } else if let Some(name) = &a.init.log_issuer {
        // A name alone keeps the log's registration policy.
        TransparencyLog::set_issuer_name(&a.init.dir, name)?;
    }
    let a = Serve {
        dir: a.init.dir,
        listen: a.listen,
    };
    let log = std::sync::Arc::new(TransparencyLog::open(&a.dir)?);
    if log.policy().accept_any_issuer {
        eprintln!(
            "WARNING: this log accepts statements from ANY issuer; use it for private development only"
        );
    }
    let size = log.size();
    block_on(async {
        modelseal::transparency::server::serve_at(
            log,
            &a.listen,
            |base| {
                out.info(format!(
                    "serving the transparency log {} ({size} entries) at {base}",
                    a.dir.display()
                ));
                sayln!("{base}");
            },
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await?;
        Ok(Outcome::Success)
    })
}

#[derive(clap::Args)]
struct InitArgs {
    /// The log's directory (`ts init` makes it; `ts serve` makes it on first start).
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    issuer_keys: IssuerKeyArgs,
    /// A root certificate (PEM or DER): statements whose x5chain leads to it are accepted
    /// (a did:x509 issuer must resolve against the chain). Repeatable.
    #[arg(long, value_name = "CERT")]
    issuer_root: Vec<PathBuf>,
    /// Accept statements from any issuer: for a private dev log only.
    #[arg(long)]
    accept_any_issuer: bool,
    /// Use this service key (PKCS#8 PEM) instead of generating one.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The name its receipts carry as `iss` (say, the service's public URL), stored with the
    /// log. Default: the URL `ts serve` listens on, and `local:` with the directory for
    /// in-process registration.
    #[arg(long, value_name = "NAME")]
    log_issuer: Option<String>,
}

/// `--issuer-key FILE [--issuer ISS]`, repeatable: an `--issuer` right after an `--issuer-key`
/// binds that key to the one `iss` it may sign. Read from clap's indices, so the pairing is the
/// order typed; an `--issuer` that does not directly follow an `--issuer-key` is refused.
#[derive(Clone, Debug, Default)]
struct IssuerKeyArgs {
    keys: Vec<(PathBuf, Option<String>)>,
}

const ISSUER_KEY_ID: &str = "issuer_key";
const ISSUER_ID: &str = "issuer";

impl clap::FromArgMatches for IssuerKeyArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let files: Vec<(usize, PathBuf)> = match (
            m.indices_of(ISSUER_KEY_ID),
            m.get_many::<PathBuf>(ISSUER_KEY_ID),
        ) {
            (Some(i), Some(v)) => i.zip(v.cloned()).collect(),
            _ => Vec::new(),
        };
        let issuers: Vec<(usize, String)> =
            match (m.indices_of(ISSUER_ID), m.get_many::<String>(ISSUER_ID)) {
                (Some(i), Some(v)) => i.zip(v.cloned()).collect(),
                _ => Vec::new(),
            };
        let mut keys: Vec<(PathBuf, Option<String>)> =
            files.iter().map(|(_, f)| (f.clone(), None)).collect();
        for (at, iss) in issuers {
            // `--issuer-key FILE --issuer ISS`: FILE's index + 2 is ISS's (clap counts each
            // flag and each value, `--flag=value` included).
            let Some(k) = files.iter().position(|(i, _)| *i + 2 == at) else {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "--issuer {iss} must come right after the --issuer-key FILE it binds (--issuer-key FILE --issuer ISS)"
                    ),
                ));
            };
            if iss.is_empty() {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::InvalidValue,
                    "--issuer needs a non-empty iss",
                ));
            }
            keys[k].1 = Some(iss);
        }
        Ok(IssuerKeyArgs { keys })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for IssuerKeyArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.arg(
            clap::Arg::new(ISSUER_KEY_ID)
                .long("issuer-key")
                .value_name("FILE")
                .action(clap::ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Public key of an issuer whose statements the log accepts. Repeatable; follow it with --issuer ISS to bind it to that iss"),
        )
        .arg(
            clap::Arg::new(ISSUER_ID)
                .long("issuer")
                .value_name("ISS")
                .action(clap::ArgAction::Append)
                .help("The only CWT iss the --issuer-key right before it may sign (without it, the key may sign any iss). Must directly follow its --issuer-key"),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Where `serve` runs once the log exists.
struct Serve {
    dir: PathBuf,
    listen: String,
}

pub fn run(args: TsArgs, out: &Output) -> Result<Outcome> {
    match args.command {
        TsCommand::Init(a) => init(&a, out),
        TsCommand::Serve(a) => serve(a, out),
    }
}

fn init(a: &InitArgs, out: &Output) -> Result<Outcome> {
    if a.issuer_keys.keys.is_empty() && a.issuer_root.is_empty() && !a.accept_any_issuer {
        bail!(
            "say whose statements the log accepts: --issuer-key FILE, --issuer-root CERT, or --accept-any-issuer for a private dev log"
        );
    }
    let issuer_roots: Vec<String> = trust::certificates(&a.issuer_root)?
        .iter()
        .map(|der| modelseal::core::crypto::pem_encode("CERTIFICATE", der))
        .collect();
    let mut issuer_keys = Vec::new();
    for (k, iss) in &a.issuer_keys.keys {
        let keys = trust::public_keys(std::slice::from_ref(k))?;
        issuer_keys.push(IssuerKeyEntry {
            key: keys.iter().map(|n| n.key.to_spki_pem()).collect(),
            iss: iss.clone(),
            name: Some(k.display().to_string()),
        });
    }
    if a.accept_any_issuer {
        eprintln!(
            "WARNING: this log accepts statements from ANY issuer; use it for private development only"
        );
    }
    let key_pem = match &a.key {
        Some(p) => Some(zeroize::Zeroizing::new(
            std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?,
        )),
        None => None,
    };
    let policy = RegistrationPolicy {
        issuer_keys,
        issuer_roots,
        accept_any_issuer: a.accept_any_issuer,
    };
    TransparencyLog::init_with_key(&a.dir, &policy, key_pem.as_deref().map(String::as_str))?;
    if let Some(name) = &a.log_issuer {
        TransparencyLog::set_issuer_name(&a.dir, name)?;
    }
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
    /// The signed statement to register (COSE_Sign1).
    statement: PathBuf,
    /// A transparency service: `local:DIR` (embedded log) or an http(s) SCRAPI URL. Repeatable.
    #[arg(long = "ts", value_name = "SERVICE", required = true)]
    services: Vec<String>,
    /// Pinned service key(s) for URL services (else fetched from the service and printed).
    #[arg(long, value_name = "FILE")]
    ts_key: Vec<PathBuf>,
    /// Where to write the transparent statement (the statement with its receipts stapled).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    out: PathBuf,
}

pub fn register(args: RegisterArgs, out: &Output) -> Result<Outcome> {
    let statement = trust::read_input(&args.statement, MAX_COSE_BYTES as u64)?;
    let request = RegisterRequest {
        statement,
        services: trust::services(&args.services)?,
        service_keys: trust::pinned_service_keys(&args.ts_key)?,
    };
    let report = block_on(async { Ok(flows::register(&request, out).await?) })?;
    write_atomic(&args.out, &report.statement)
        .with_context(|| format!("writing {}", args.out.display()))?;
    out.info(format!(
        "wrote {} ({} receipt(s) added)",
        args.out.display(),
        report.registrations.len()
    ));
    Ok(Outcome::Success)
}
