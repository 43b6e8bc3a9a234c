//! The SCRAPI client (draft-ietf-scitt-scrapi): register a signed statement with a transparency
//! service over HTTP and get its receipt. `POST /entries`; 201 gives the receipt, 303 a Location
//! to fetch, 302 "pending" (honouring Retry-After), and the legacy CCF flow (202 with an
//! operation id, polled at `/operations/{id}`).
//!
//! The service is a server we do not control: every answer is read with a cap, every request has
//! the idle and overall timeouts of [`crate::net`], the whole exchange one deadline and a limit
//! on hops (redirects and polls together), and no message shows a URL's userinfo. A token for
//! the service comes from `MODELSEAL_TS_TOKEN` or the file `MODELSEAL_TS_TOKEN_FILE` (never a
//! flag value) and is sent only to the service's own origin.

use crate::core::cose::Sign1;
use crate::core::crypto::PublicKey;
use crate::core::receipt::Receipt;
use crate::net::{self, ReadError};
use ciborium::Value;
use std::time::{Duration, Instant};

/// A receipt is a small COSE document.
pub const MAX_RECEIPT_BYTES: u64 = 1024 * 1024;
/// A key set, an operation status, a problem-details body: small documents too.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024;
/// Redirects and polls in one registration, together.
pub const MAX_HOPS: usize = 32;
/// The environment variables a service token is read from.
pub const TOKEN_ENV: &str = "MODELSEAL_TS_TOKEN";
/// A file holding the token (at most 64 KiB, surrounding whitespace trimmed), read when
/// `MODELSEAL_TS_TOKEN` is unset.
pub const TOKEN_FILE_ENV: &str = "MODELSEAL_TS_TOKEN_FILE";

/// Why registration with a transparency service over HTTP did not give a verified receipt. URLs
/// in messages have their userinfo redacted.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be made or its answer not read (connection, TLS, timeout).
    #[error("{url}: {reason}")]
    Transport {
        /// The request's URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// An answer was larger than its cap ([`MAX_RECEIPT_BYTES`] or [`MAX_DOCUMENT_BYTES`]).
    #[error("{0}")]
    TooLarge(String),
    /// The service answered with an error status (4xx/5xx), e.g. its registration policy refused
    /// the statement.
    #[error("{url} refused the statement ({status}): {detail}")]
    Refused {
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The text values of a CBOR problem-details map (SCRAPI, RFC 9290), else the body as
        /// text; at most 2000 characters, URLs redacted.
        detail: String,
    },
    /// An answer is not what SCRAPI says: a redirect without Location, an operation without an id,
    /// a body that is not a receipt.
    #[error("{url}: {reason}")]
    BadAnswer {
        /// The request's URL.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// More than [`MAX_HOPS`] redirects and polls in one registration.
    #[error("{url}: gave up after {hops} redirects and polls (the limit)")]
    TooManyHops {
        /// The last URL.
        url: String,
        /// The limit reached.
        hops: usize,
    },
    /// No receipt within the registration's overall deadline.
    #[error("{url}: no receipt after {secs} s (the registration deadline; see --timeout)")]
    Deadline {
        /// The last URL.
        url: String,
        /// The deadline, in seconds.
        secs: u64,
    },
    /// The service reported the (legacy CCF) operation as failed.
    #[error("{url}: registration failed: {reason}")]
    Failed {
        /// The operation's URL.
        url: String,
        /// The service's error, as it gave it.
        reason: String,
    },
    /// The receipt verifies with none of the service keys (pinned, else fetched from
    /// `/.well-known/scitt-keys`).
    #[error("the receipt from {url} does not verify with its key")]
    ReceiptInvalid {
        /// Where the receipt came from.
        url: String,
    },
    /// The token file named by [`TOKEN_FILE_ENV`] cannot be read.
    #[error("{0}")]
    Token(String),
}

/// What a registration gave: the receipt (checked), and the service keys fetched on first use
/// when none were pinned (to show the user, who should pin them).
pub struct Registered {
    /// The receipt bytes, verified against the statement with a service key.
    pub receipt: Vec<u8>,
    /// Service keys fetched from `/.well-known/scitt-keys` because none were pinned; empty when
    /// pinned.
    pub fetched_keys: Vec<PublicKey>,
}

/// The service token from the environment, if any.
fn service_token() -> Result<Option<String>, ClientError> {
    if let Some(t) = std::env::var_os(TOKEN_ENV) {
        return Ok(Some(t.to_string_lossy().trim().to_string()));
    }
    if let Some(path) = std::env::var_os(TOKEN_FILE_ENV) {
        let bytes = crate::core::input::read_bounded(std::path::Path::new(&path), 64 * 1024)
            .map_err(|e| ClientError::Token(format!("{TOKEN_FILE_ENV}: {e}")))?;
        return Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string()));
    }
    Ok(None)
}

struct Session {
    client: reqwest::Client,
    /// The service URL as given (userinfo, if any, is sent by reqwest as Basic auth).
    base: String,
    /// The same, for messages.
    shown: String,
    origin: Option<(String, String, Option<u16>)>,
    token: Option<String>,
    deadline: Instant,
    exchange: Duration,
    hops: usize,
}

fn origin_of(url: &str) -> Option<(String, String, Option<u16>)> {
    let u = reqwest::Url::parse(url).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default(),
    ))
}

impl Session {
    fn transport(&self, e: reqwest::Error) -> ClientError {
        ClientError::Transport {
            url: self.shown.clone(),
            reason: net::describe(&e),
        }
    }

    fn read_error(&self, e: ReadError) -> ClientError {
        match e {
            ReadError::TooLarge { .. } => ClientError::TooLarge(net::redact_text(&e.to_string())),
            ReadError::Transport { reason, .. } => ClientError::Transport {
                url: self.shown.clone(),
                reason,
            },
        }
    }

    /// One more redirect or poll, within the hop limit and the deadline.
    fn hop(&mut self) -> Result<(), ClientError> {
        self.hops += 1;
        if self.hops > MAX_HOPS {
            return Err(ClientError::TooManyHops {
                url: self.shown.clone(),
                hops: MAX_HOPS,
            });
        }
        self.check_deadline()
    }

    fn check_deadline(&self) -> Result<(), ClientError> {
        if Instant::now() >= self.deadline {
            return Err(ClientError::Deadline {
                url: self.shown.clone(),
                secs: self.exchange.as_secs(),
            });
        }
        Ok(())
    }

    /// A request's overall timeout: the per-request one, within what is left of the deadline.
    fn budget(&self) -> Duration {
        net::timeouts()
            .request
            .min(self.deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1))
    }

    /// Absolute URL of `location` (relative to the service).
    fn resolve(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            format!("{}/{location}", self.base)
        }
    }

    /// A request with the token only when `url` is on the service's origin.
    fn with_auth(&self, url: &str, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let r = r.timeout(self.budget());
        match &self.token {
            Some(t) if self.origin.is_some() && origin_of(url) == self.origin => r.bearer_auth(t),
            _ => r,
        }
    }

    async fn get(&self, url: &str, accept: Option<&str>) -> Result<reqwest::Response, ClientError> {
        self.check_deadline()?;
        let mut r = self.client.get(url);
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        self.with_auth(url, r)
            .send()
            .await
            .map_err(|e| self.transport(e))
    }

    async fn read(
        &self,
        response: reqwest::Response,
        limit: u64,
        kind: &'static str,
    ) -> Result<Vec<u8>, ClientError> {
        let what = self.shown.clone();
        tokio::time::timeout(
            self.budget(),
            net::read_capped(response, limit, &what, kind),
        )
        .await
        .map_err(|_| ClientError::Transport {
            url: what.clone(),
            reason: "timed out reading the answer (see --timeout)".into(),
        })?
        .map_err(|e| self.read_error(e))
    }
}

fn field(v: &Value, name: &str) -> Option<Value> {
    match v {
        Value::Map(m) => m
            .iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v.clone()),
        _ => None,
    }
}

fn text_field(v: &Value, name: &str) -> Option<String> {
    field(v, name).and_then(|v| v.as_text().map(str::to_string))
}

/// Registers `statement` with the service at `url`, and checks the receipt against `pinned`, or
/// (none pinned) the keys the service publishes at `/.well-known/scitt-keys`.
pub async fn register(
    url: &str,
    statement: &[u8],
    parsed: &Sign1,
    pinned: &[PublicKey],
) -> Result<Registered, ClientError> {
    let base = url.trim_end_matches('/').to_string();
    let exchange = net::timeouts().exchange;
    let mut s = Session {
        client: net::client(),
        shown: net::redact(&base),
        origin: origin_of(&base),
        base,
        token: service_token()?,
        deadline: Instant::now() + exchange,
        exchange,
        hops: 0,
    };
    let entries = format!("{}/entries", s.base);
    let mut response = s
        .with_auth(
            &entries,
            s.client
                .post(&entries)
                .header("content-type", "application/cose")
                .body(statement.to_vec()),
        )
        .send()
        .await
        .map_err(|e| s.transport(e))?;
    loop {
        let status = response.status();
        if status == reqwest::StatusCode::CREATED || status == reqwest::StatusCode::OK {
            break;
        }
        if status == reqwest::StatusCode::ACCEPTED {
            // The legacy CCF flow (pyscitt 0.10, older scitt-ccf-ledger): 202 {"OperationId"},
            // then /operations/{id} until "succeeded" with an EntryId, then /entries/{EntryId}.
            let body = s.read(response, MAX_DOCUMENT_BYTES, "an operation").await?;
            let bad = |reason: &str| ClientError::BadAnswer {
                url: s.shown.clone(),
                reason: reason.into(),
            };
            let op: Value = ciborium::from_reader(body.as_slice())
                .map_err(|_| bad("202 without a CBOR operation"))?;
            let id =
                text_field(&op, "OperationId").ok_or_else(|| bad("202 without OperationId"))?;
            let entry = loop {
                s.hop()?;
                let polled = s.get(&format!("{}/operations/{id}", s.base), None).await?;
                let polled = s
                    .read(polled, MAX_DOCUMENT_BYTES, "an operation status")
                    .await?;
                let state: Value = ciborium::from_reader(polled.as_slice()).map_err(|_| {
                    ClientError::BadAnswer {
                        url: s.shown.clone(),
                        reason: "an operation status that is not CBOR".into(),
                    }
                })?;
                match text_field(&state, "Status").as_deref() {
                    Some("succeeded") => {
                        break text_field(&state, "EntryId").ok_or_else(|| {
                            ClientError::BadAnswer {
                                url: s.shown.clone(),
                                reason: "succeeded without EntryId".into(),
                            }
                        })?;
                    }
                    Some("failed") => {
                        return Err(ClientError::Failed {
                            url: s.shown.clone(),
                            reason: net::redact_text(&format!("{:?}", field(&state, "Error"))),
                        });
                    }
                    _ => sleep_within(&s, Duration::from_millis(500)).await?,
                }
            };
            s.hop()?;
            response = s
                .get(
                    &format!("{}/entries/{entry}", s.base),
                    Some("application/cose"),
                )
                .await?;
            continue;
        }
        if status == reqwest::StatusCode::SEE_OTHER || status == reqwest::StatusCode::FOUND {
            s.hop()?;
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ClientError::BadAnswer {
                    url: s.shown.clone(),
                    reason: "a redirect without Location".into(),
                })?
                .to_string();
            // Retry-After is honoured on both (SCRAPI: a 303 may say when the entry will be
            // ready); a 302 "still pending" without one waits a second rather than spinning.
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let wait = match (status == reqwest::StatusCode::FOUND, retry_after) {
                (true, secs) => secs.unwrap_or(1).clamp(1, 30),
                (false, secs) => secs.unwrap_or(0).min(30),
            };
            if wait > 0 {
                sleep_within(&s, Duration::from_secs(wait)).await?;
            }
            let target = s.resolve(&location);
            response = s.get(&target, None).await?;
            continue;
        }
        let body = s
            .read(response, MAX_DOCUMENT_BYTES, "an error answer")
            .await
            .unwrap_or_default();
        return Err(ClientError::Refused {
            url: s.shown.clone(),
            status: status.as_u16(),
            detail: net::redact_text(&problem_detail(&body)),
        });
    }
    let receipt = s.read(response, MAX_RECEIPT_BYTES, "a receipt").await?;
    let receipt_parsed = Receipt::parse(&receipt).map_err(|e| ClientError::BadAnswer {
        url: s.shown.clone(),
        reason: format!("the answer is not a receipt: {e}"),
    })?;
    let mut fetched_keys = Vec::new();
    let keys: Vec<PublicKey> = if pinned.is_empty() {
        let answer = s
            .get(&format!("{}/.well-known/scitt-keys", s.base), None)
            .await?;
        let set = s.read(answer, MAX_DOCUMENT_BYTES, "a key set").await?;
        fetched_keys = match ciborium::from_reader::<Value, _>(set.as_slice()) {
            Ok(Value::Array(items)) => items
                .iter()
                .filter_map(|k| crate::core::cose::public_key_from_cose_key(k).ok())
                .collect(),
            _ => Vec::new(),
        };
        fetched_keys.clone()
    } else {
        pinned.to_vec()
    };
    if !keys
        .iter()
        .any(|k| receipt_parsed.verify(parsed, k).is_ok())
    {
        return Err(ClientError::ReceiptInvalid { url: s.shown });
    }
    Ok(Registered {
        receipt,
        fetched_keys,
    })
}

/// Waits `d`, unless that passes the deadline (then the deadline error, at once).
async fn sleep_within(s: &Session, d: Duration) -> Result<(), ClientError> {
    if Instant::now() + d >= s.deadline {
        return Err(ClientError::Deadline {
            url: s.shown.clone(),
            secs: s.exchange.as_secs(),
        });
    }
    tokio::time::sleep(d).await;
    Ok(())
}

/// The text of concise problem details (CBOR map of texts), else the body as text (bounded).
fn problem_detail(body: &[u8]) -> String {
    let text = ciborium::from_reader::<Value, _>(body)
        .ok()
        .and_then(|v| match v {
            Value::Map(m) => Some(
                m.into_iter()
                    .filter_map(|(_, v)| match v {
                        Value::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(": "),
            ),
            _ => None,
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    text.chars().take(2000).collect()
}
