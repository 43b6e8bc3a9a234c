//! Making a signed statement transparent: each transparency service registers it and gives a
//! receipt, each receipt is checked against its service's key, and the receipts are stapled to
//! the statement. A service is an embedded log (`local:DIR`) or a SCRAPI service (an http(s)
//! URL, through [`transparency::client`](crate::transparency::client)).

use super::{FlowError, Progress};
use crate::core::cose::Sign1;
use crate::core::crypto::PublicKey;
#[cfg(feature = "log")]
use crate::core::receipt::Receipt;
#[cfg(feature = "log")]
use crate::transparency::TransparencyLog;
use serde::Serialize;
use std::path::PathBuf;

/// A transparency service to register with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    /// An embedded log in a directory (`local:DIR`).
    Local(PathBuf),
    /// A SCRAPI service at this http(s) URL.
    Scrapi(String),
}

impl std::str::FromStr for Service {
    type Err = FlowError;

    /// `local:DIR`, or an `http://` / `https://` URL.
    fn from_str(s: &str) -> Result<Self, FlowError> {
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(Service::Scrapi(s.to_string()));
        }
        match s.strip_prefix("local:") {
            Some(dir) => Ok(Service::Local(dir.into())),
            None => Err(FlowError::Service(s.to_string())),
        }
    }
}

impl std::fmt::Display for Service {
    /// As named on the command line; a URL's credentials are redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Service::Local(dir) => write!(f, "local:{}", dir.display()),
            Service::Scrapi(url) => f.write_str(&crate::net::redact(url.trim_end_matches('/'))),
        }
    }
}

/// A statement, and where to register it.
#[derive(Clone, Debug, Default)]
pub struct RegisterRequest {
    /// The signed statement (COSE_Sign1); receipts it carries already are kept.
    pub statement: Vec<u8>,
    /// The services, in order.
    pub services: Vec<Service>,
    /// Pinned keys of the SCRAPI services (else each service's published key is fetched and
    /// reported in [`Registration::fetched_keys`], for the user to pin).
    pub service_keys: Vec<PublicKey>,
}

/// One service's registration.
#[derive(Clone, Debug, Serialize)]
pub struct Registration {
    /// The service, as named (credentials redacted).
    pub service: String,
    /// The entry's index in an embedded log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// The embedded log's size after the registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_size: Option<u64>,
    /// Service keys fetched on first use (none was pinned), as SPKI PEM: pin them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fetched_keys: Vec<String>,
}

/// The transparent statement, and how each service registered it.
#[derive(Clone, Debug, Serialize)]
pub struct RegisterReport {
    /// The statement with every receipt stapled.
    #[serde(skip)]
    pub statement: Vec<u8>,
    /// One per service, in order.
    pub registrations: Vec<Registration>,
}

/// Registers the statement with each service, checks each receipt against the service's key,
/// and returns the statement with the receipts stapled.
///
/// ```no_run
/// # async fn run() -> Result<(), modelseal::flows::FlowError> {
/// use modelseal::flows::{RegisterRequest, Silent, register};
/// let report = register(
///     &RegisterRequest {
///         statement: std::fs::read("model.cose").unwrap(),
///         services: vec!["local:./ts".parse()?, "https://ts.example".parse()?],
///         service_keys: Vec::new(),
///     },
///     &Silent,
/// )
/// .await?;
/// std::fs::write("model.scitt", &report.statement).unwrap();
/// # Ok(()) }
/// ```
pub async fn register(
    request: &RegisterRequest,
    progress: &dyn Progress,
) -> Result<RegisterReport, FlowError> {
    let parsed = Sign1::parse(&request.statement)?;
    let mut receipts = parsed.receipts()?;
    let mut registrations = Vec::new();
    for service in &request.services {
        let (receipt, registration) = match service {
            Service::Scrapi(url) => {
                let registered = crate::transparency::client::register(
                    url,
                    &request.statement,
                    &parsed,
                    &request.service_keys,
                )
                .await?;
                let registration = Registration {
                    service: service.to_string(),
                    entry: None,
                    log_size: None,
                    fetched_keys: registered
                        .fetched_keys
                        .iter()
                        .map(PublicKey::to_spki_pem)
                        .collect(),
                };
                (registered.receipt, registration)
            }
            Service::Local(dir) => register_local(dir, service, &request.statement, &parsed)?,
        };
        progress.registered(&registration);
        receipts.push(receipt);
        registrations.push(registration);
    }
    Ok(RegisterReport {
        statement: parsed.with_receipts(&receipts),
        registrations,
    })
}

/// Without the `log` feature there is no embedded log to register with.
#[cfg(not(feature = "log"))]
fn register_local(
    _dir: &std::path::Path,
    service: &Service,
    _statement: &[u8],
    _parsed: &Sign1,
) -> Result<(Vec<u8>, Registration), FlowError> {
    Err(FlowError::LogUnavailable(service.to_string()))
}

/// An embedded log's registration: appended, its receipt checked against the log's key.
#[cfg(feature = "log")]
fn register_local(
    dir: &std::path::Path,
    service: &Service,
    statement: &[u8],
    parsed: &Sign1,
) -> Result<(Vec<u8>, Registration), FlowError> {
    let log_error = |source| FlowError::Log {
        service: service.to_string(),
        source,
    };
    let log = TransparencyLog::open(dir).map_err(log_error)?;
    let index = log.append(&[statement.to_vec()]).map_err(log_error)?[0];
    let receipt = log.receipt(index).map_err(log_error)?;
    Receipt::parse(&receipt)
        .and_then(|r| r.verify(parsed, &log.public_key()).map(|_| ()))
        .map_err(|source| FlowError::Receipt {
            service: service.to_string(),
            source,
        })?;
    let registration = Registration {
        service: service.to_string(),
        entry: Some(index),
        log_size: Some(log.size()),
        fetched_keys: Vec::new(),
    };
    Ok((receipt, registration))
}
