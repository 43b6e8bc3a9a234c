//! `modelseal login` / `logout`: keep registry credentials where Docker keeps them.

use super::Outcome;
use super::output::Output;
use super::target::block_on;
use anyhow::{Context, Result, bail};
use modelseal::oci::login::{Stored, check_credentials, erase_credentials, store_credentials};

const EXAMPLES: &str = "Examples:
  echo \"$TOKEN\" | modelseal login ghcr.io -u my-user --password-stdin
  az acr login --name myreg --expose-token --output tsv --query accessToken \\
    | modelseal login myreg.azurecr.io -u 00000000-0000-0000-0000-000000000000 --password-stdin
  modelseal logout ghcr.io";

/// Check credentials against a registry and store them (Docker config or credential helper).
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct LoginArgs {
    /// Registry host[:port].
    registry: String,
    /// The user name (the password or token is read from stdin with --password-stdin).
    #[arg(short = 'u', long)]
    username: String,
    /// Read the password or token from stdin (the only way: secrets never go on a command line).
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Log in over plain HTTP (only for a registry you reach on a trusted network; loopback needs no flag).
    #[arg(long)]
    plain_http: bool,
}

/// Forget the stored credentials of a registry.
#[derive(clap::Args)]
pub struct LogoutArgs {
    /// The registry whose credentials to erase: `host[:port]`.
    registry: String,
}

pub fn login(args: LoginArgs, out: &Output) -> Result<Outcome> {
    let mut secret = String::new();
    std::io::stdin()
        .read_line(&mut secret)
        .context("reading the password from stdin")?;
    let secret = secret.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        bail!("no password on stdin");
    }
    // One exact host check everywhere (push, pull and login alike): never a prefix match.
    let local = modelseal::net::is_loopback_authority(&args.registry);
    block_on(async {
        check_credentials(
            &args.registry,
            args.plain_http || local,
            &args.username,
            secret,
        )
        .await?;
        Ok(())
    })?;
    match store_credentials(&args.registry, &args.username, secret)? {
        Stored::Helper(h) => out.info(format!("Login Succeeded (stored with {h})")),
        Stored::ConfigFile(p) => out.info(format!("Login Succeeded (stored in {})", p.display())),
    }
    Ok(Outcome::Success)
}

pub fn logout(args: LogoutArgs, out: &Output) -> Result<Outcome> {
    if erase_credentials(&args.registry)? {
        out.info(format!("Removed the credentials of {}", args.registry));
    } else {
        out.info(format!("No credentials were stored for {}", args.registry));
    }
    Ok(Outcome::Success)
}
