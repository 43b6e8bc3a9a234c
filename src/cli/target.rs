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
            ..Default::default()
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
        self.open_for_transfer(reference, create, &TransferArgs::default())
            .await
    }

    /// [`open`](Self::open), with the transfer settings of push, pull and copy.
    pub async fn open_for_transfer(
        &self,
        reference: &str,
        create: bool,
        transfer: &TransferArgs,
    ) -> Result<(AnyTarget, Option<Selector>)> {
        let mut conn = self.connection()?;
        conn.chunk_size = transfer.chunk_size()?;
        conn.mount_from = transfer.mount_from.clone();
        transfer.apply();
        open(reference, self.oci_layout, &conn, create)
            .await
            .with_context(|| {
                format!(
                    "opening {}",
                    modelseal::oci::reference::redact_reference(reference)
                )
            })
    }
}

/// How blobs move: chunk size, blobs at once, a repository to mount from.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TransferArgs {
    /// Upload blobs larger than SIZE in chunks of SIZE (bytes, or with K/M/G suffix: 64M);
    /// a broken upload resumes from the last chunk the registry holds. Default 32M.
    #[arg(long, value_name = "SIZE")]
    pub chunk_size: Option<String>,
    /// Blobs moved at once (default 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
    /// Before uploading a blob, ask the registry to mount it from this repository of the same
    /// registry (no bytes move when it has it there).
    #[arg(long, value_name = "REPO")]
    pub mount_from: Option<String>,
}

impl TransferArgs {
    /// `--chunk-size` in bytes.
    pub fn chunk_size(&self) -> Result<Option<u64>> {
        let Some(text) = &self.chunk_size else {
            return Ok(None);
        };
        let t = text.trim();
        let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((i, _)) => t.split_at(i),
            None => (t, ""),
        };
        let shift = match unit
            .trim_end_matches(['i', 'B', 'b'])
            .to_ascii_uppercase()
            .as_str()
        {
            "" => 0,
            "K" => 10,
            "M" => 20,
            "G" => 30,
            _ => bail!("--chunk-size {text}: a number of bytes, or with K, M or G"),
        };
        let n: u64 = digits
            .parse()
            .with_context(|| format!("--chunk-size {text}: a number of bytes"))?;
        match n.checked_shl(shift).filter(|v| *v > 0 && v >> shift == n) {
            Some(v) => Ok(Some(v)),
            None => bail!("--chunk-size {text}: out of range"),
        }
    }

    /// Sets the process-wide number of blobs in flight.
    pub fn apply(&self) {
        if let Some(n) = self.concurrency {
            modelseal::oci::ops::set_blobs_in_flight(n as usize);
        }
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
