//! What every OCI command shares: how to reach the target, and the async runtime.

use anyhow::{Context, Result, bail};
use modelseal::oci::open::{AnyTarget, open};
use modelseal::oci::reference::Selector;
use modelseal::oci::registry::Connection;

#[derive(clap::Args, Clone, Debug)]
pub struct TargetArgs {
    /// REF is an OCI image layout directory (`DIR[:tag|@digest]`), not a registry.
    #[arg(long)]
    pub oci_layout: bool,
    /// Use plain HTTP (always the case for localhost / 127.0.0.1).
    #[arg(long)]
    pub plain_http: bool,
    /// Registry user name (the password is read from stdin with --password-stdin).
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Read the registry password or token from stdin. Without -u/--password-stdin, the Docker
    /// config's credentials (and credential helpers) are used.
    #[arg(long)]
    pub password_stdin: bool,
}

impl TargetArgs {
    pub fn connection(&self) -> Result<Connection> {
        let password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            Some(line.trim_end_matches(['\r', '\n']).to_string())
        } else {
            None
        };
        if password.is_some() != self.username.is_some() {
            bail!("--username and --password-stdin go together");
        }
        Ok(Connection {
            plain_http: self.plain_http,
            username: self.username.clone(),
            password,
        })
    }

    /// `reference` in this target, to be verified against `policy` (a library flow opens it).
    pub fn artifact(
        &self,
        reference: &str,
        policy: Option<&std::path::Path>,
    ) -> Result<modelseal::flows::Artifact> {
        Ok(modelseal::flows::Artifact {
            reference: reference.to_string(),
            oci_layout: self.oci_layout,
            connection: self.connection()?,
            policy: policy.map(Into::into),
        })
    }

    /// Opens the target of `reference`; `create` makes a missing OCI layout.
    pub async fn open(
        &self,
        reference: &str,
        create: bool,
    ) -> Result<(AnyTarget, Option<Selector>)> {
        let conn = self.connection()?;
        open(reference, self.oci_layout, &conn, create)
            .await
            .with_context(|| format!("opening {reference}"))
    }
}

/// Runs an async command body on a fresh runtime (the CLI's only async edge).
pub fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(future)
}

/// A reference must name a manifest (tag or digest) for this command.
pub fn require_selector(selector: Option<Selector>, reference: &str) -> Result<Selector> {
    selector.with_context(|| format!("{reference}: add a tag (:v1) or a digest (@sha256:…)"))
}
