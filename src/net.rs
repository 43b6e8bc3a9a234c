//! What every HTTP client of modelseal shares: timeouts, bounded reads, and redaction of secrets
//! in URLs. Registries and transparency services are servers we do not control: none of them
//! may hold us forever, make us read without bound, or see a secret echoed in a message.
#![deny(missing_docs)]

use std::sync::OnceLock;
use std::time::Duration;

/// How long we wait on a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP (and TLS) connection.
    pub connect: Duration,
    /// Silence while waiting for an answer or the next bytes of a body: a transfer that keeps
    /// moving bytes is never cut, a silent server is given up on after this long.
    pub idle: Duration,
    /// Overall deadline of one small request (a manifest, a token, a SCRAPI answer), body
    /// included. Blob transfers have none: only `idle` applies to them.
    pub request: Duration,
    /// Overall deadline of a whole exchange of redirects and polls (SCRAPI registration).
    pub exchange: Duration,
}

impl Timeouts {
    /// The defaults: a silent server is given up on within 10 s.
    pub const DEFAULT: Timeouts = Timeouts::from_idle(Duration::from_secs(10));

    /// Everything derived from one number, as `--timeout` gives it: connect and idle = `t`,
    /// a small request 6 t, an exchange of redirects and polls 12 t.
    pub const fn from_idle(t: Duration) -> Timeouts {
        Timeouts {
            connect: t,
            idle: t,
            request: Duration::from_secs(t.as_secs().saturating_mul(6)).saturating_add(
                Duration::from_nanos((t.subsec_nanos() as u64).saturating_mul(6)),
            ),
            exchange: Duration::from_secs(t.as_secs().saturating_mul(12)).saturating_add(
                Duration::from_nanos((t.subsec_nanos() as u64).saturating_mul(12)),
            ),
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

static TIMEOUTS: OnceLock<Timeouts> = OnceLock::new();
static NOTICE: OnceLock<fn(&str)> = OnceLock::new();

/// Sets the process-wide timeouts (the CLI's `--timeout`); the first call wins.
pub fn set_timeouts(t: Timeouts) {
    let _ = TIMEOUTS.set(t);
}

/// The process-wide timeouts: what `set_timeouts` set, else the defaults.
pub fn timeouts() -> Timeouts {
    TIMEOUTS.get().copied().unwrap_or_default()
}

/// Where the library tells the user something about the network they should know (a token
/// realm on another host): the CLI's informational output. Unset, nothing is said.
pub fn set_notice(f: fn(&str)) {
    let _ = NOTICE.set(f);
}

/// Passes `message` to the function given to [`set_notice`]; does nothing when none was.
pub fn notice(message: &str) {
    if let Some(f) = NOTICE.get() {
        f(message);
    }
}

/// A reqwest client with our timeouts: connect and idle-read on every request, no automatic
/// redirects (callers follow them with their own limits), no overall timeout (set it per
/// request with [`Timeouts::request`] for small answers; transfers have none).
pub fn client() -> reqwest::Client {
    let t = timeouts();
    reqwest::Client::builder()
        .connect_timeout(t.connect)
        .read_timeout(t.idle)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("modelseal/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with static settings builds")
}

/// Why a bounded read stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The body is (or says it is, by Content-Length) larger than the limit.
    #[error("{what}: the answer is larger than the {limit}-byte limit for {kind}")]
    TooLarge {
        /// The request, as shown (redacted).
        what: String,
        /// What the limit is for ("a receipt", "a manifest").
        kind: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The connection failed or timed out while the body was read.
    #[error("{what}: {reason}")]
    Transport {
        /// The request, as shown (redacted).
        what: String,
        /// What failed while reading.
        reason: String,
    },
}

/// Reads a response body, refusing more than `limit` bytes: a Content-Length above it is refused
/// before reading, and the count is checked as the bytes arrive (a server may lie or send none).
/// `what` names the request in messages (already redacted), `kind` what the limit is for.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
    what: &str,
    kind: &'static str,
) -> Result<Vec<u8>, ReadError> {
    let too_large = || ReadError::TooLarge {
        what: what.to_string(),
        kind,
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(limit) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(ReadError::Transport {
                    what: what.to_string(),
                    reason: describe(&e),
                });
            }
        }
    }
}

/// A reqwest error without its URL (which may carry userinfo), with the cause chain, and
/// "timed out" said plainly.
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out (no answer; see --timeout)".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        String::new()
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !s_text.is_empty() && !text.contains(&s_text) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&s_text);
        }
        source = s.source();
    }
    if text.is_empty() {
        text = redact_text(&e.to_string());
    }
    redact_text(&text)
}

/// `url` with any userinfo (`user:secret@`) replaced by `***@`, for messages.
pub fn redact(url: &str) -> String {
    redact_text(url)
}

/// Every `scheme://user[:secret]@` in `text` with its userinfo replaced by `***`.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***@");
                out.push_str(&authority[at + 1..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Host (lowercase, brackets kept for IPv6) and port of `host[:port]`.
pub fn split_host_port(authority: &str) -> (String, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        if let Some((h, after)) = rest.split_once(']') {
            return (
                format!("[{}]", h.to_ascii_lowercase()),
                after.strip_prefix(':'),
            );
        }
        return (authority.to_ascii_lowercase(), None);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_ascii_lowercase(), Some(p)),
        _ => (authority.to_ascii_lowercase(), None),
    }
}

/// Whether `authority` (`host[:port]`) is this machine's loopback by name: exactly `localhost`,
/// `127.0.0.1` or `[::1]`, any port. Never a prefix match: `localhost.attacker.example` and
/// `127.0.0.1.nip.io` are other hosts.
pub fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = split_host_port(authority);
    port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_redacted_everywhere_in_a_message() {
        assert_eq!(
            redact_text("error for http://user:secret@h:1/entries and https://t@x/y"),
            "error for http://***@h:1/entries and https://***@x/y"
        );
        assert_eq!(redact("http://h/a@b"), "http://h/a@b");
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn loopback_is_an_exact_host() {
        for yes in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback_authority(yes), "{yes}");
        }
        for no in [
            "localhost.attacker.example",
            "127.0.0.1.nip.io:5000",
            "localhostregistry.example.com",
            "localhost:5000x",
            "127.0.0.10",
        ] {
            assert!(!is_loopback_authority(no), "{no}");
        }
    }

    #[test]
    fn defaults_give_up_within_ten_seconds() {
        let t = Timeouts::DEFAULT;
        assert!(t.connect <= Duration::from_secs(10) && t.idle <= Duration::from_secs(10));
        assert_eq!(
            Timeouts::from_idle(Duration::from_millis(500)).request,
            Duration::from_secs(3)
        );
    }
}
