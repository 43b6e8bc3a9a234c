//! Blob uploads and downloads on our own HTTP client: oci-client has neither resumable uploads
//! nor ranged downloads, and errors on a 202 mount answer.
//!
//! Uploads (distribution spec, "pushing blobs"): `POST …/blobs/uploads/` opens a session; a blob
//! up to the chunk size goes in one `PUT ?digest=`; a larger one in `PATCH`es of one chunk each
//! (`Content-Range: start-end`, one in flight per blob, streamed from disk), then an empty
//! `PUT ?digest=`. After a broken connection or a 5xx, the session is asked where it stands
//! (`GET` on its URL → `Range: 0-N`) and the upload goes on from N+1; only a session the
//! registry lost (404) is started anew. A 401 (an expired token) is answered with a new token
//! and the same request.
//!
//! Downloads: into a partial file that may already hold the first bytes (a broken connection, or
//! a run that was killed); the rest is asked with `Range: bytes=N-`. A registry that ignores the
//! range (200) is read from the start again. The digest is computed over the whole file.

use super::super::blob_writer::BlobWriter;
use super::super::error::{OciError, Result};
use super::super::manifest::Descriptor;
use super::super::target::{BlobSource, ByteStream, OnBytes, ReadTarget, read_stream};
use super::{ATTEMPTS, Registry, basic_of};
use futures_util::StreamExt;
use reqwest::{StatusCode, Url};
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The chunk size when none is given: a few round trips per GiB, and far below the request
/// size limits of fronts (nginx `client_max_body_size` is often 64–100 MiB once raised; Quay
/// refuses single PUTs over 20 GB).
pub const DEFAULT_CHUNK_SIZE: u64 = 32 << 20;
/// The smallest chunk that cuts shrink the chunk size to (a smaller `--chunk-size` stays as
/// asked). A cut costs the chunk that was on the wire: behind a front that buffers whole
/// requests, none of it reached the registry. A link that broke once is likely to break again,
/// so after each cut the chunks of the rest of the push are halved, down to this: a few more
/// round trips per GiB, and each later cut costs at most this much.
pub const CHUNK_FLOOR: u64 = 4 << 20;

/// Bytes moved by a target, for `--format json` and the progress line.
#[derive(Debug, Default)]
pub struct TransferCounters {
    /// Upload bytes put on the wire, resent ones included.
    pub sent: AtomicU64,
    /// Upload bytes sent again after a cut (already sent once for the same blob).
    pub resent: AtomicU64,
    /// Blob bytes not sent: the registry had the blob, or mounted it from another repository.
    pub reused: AtomicU64,
    /// Blobs mounted from another repository.
    pub mounted: AtomicU64,
    /// Download bytes received.
    pub received: AtomicU64,
    /// Download bytes already on disk from an earlier attempt or run, not asked again.
    pub resumed: AtomicU64,
}

/// A snapshot of [`TransferCounters`].
#[derive(Clone, Copy, Debug, Default, serde::Serialize, PartialEq, Eq)]
pub struct TransferCounts {
    /// Upload bytes put on the wire, resent ones included.
    pub sent: u64,
    /// Upload bytes sent again after a cut.
    pub resent: u64,
    /// Blob bytes not sent because the registry had or mounted the blob.
    pub reused: u64,
    /// Blobs (a count, not bytes) mounted from another repository.
    pub mounted: u64,
    /// Download bytes received.
    pub received: u64,
    /// Download bytes already on disk, not asked again.
    pub resumed: u64,
}

impl TransferCounters {
    /// The counters' values now (each read on its own, not as one atomic whole).
    pub fn snapshot(&self) -> TransferCounts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TransferCounts {
            sent: get(&self.sent),
            resent: get(&self.resent),
            reused: get(&self.reused),
            mounted: get(&self.mounted),
            received: get(&self.received),
            resumed: get(&self.resumed),
        }
    }
}

impl TransferCounts {
    /// The sum of two snapshots (source and destination of a copy).
    pub fn plus(self, o: TransferCounts) -> TransferCounts {
        TransferCounts {
            sent: self.sent + o.sent,
            resent: self.resent + o.resent,
            reused: self.reused + o.reused,
            mounted: self.mounted + o.mounted,
            received: self.received + o.received,
            resumed: self.resumed + o.resumed,
        }
    }
}

/// Why an authorised request was not answered.
pub(super) enum SendError {
    /// The request failed on the way (connection, timeout, body).
    Http(reqwest::Error),
    /// The registry's token realm failed the realm rule (the reason names it).
    Realm(String),
}

/// What `POST …/uploads/` answered.
enum Opened {
    /// 201 to a mount request: the blob is there.
    Mounted,
    /// 202: a session at this URL, with the registry's smallest chunk, if it says.
    Session { location: Url, min_chunk: u64 },
}

/// Where an upload stands, by the registry's word.
enum Standing {
    /// The session holds this many bytes.
    At(u64),
    /// The registry no longer knows the session.
    Lost,
}

/// A failure in the middle of a blob: transient ones are answered by asking the session.
fn transient(what: String) -> OciError {
    OciError::Transient(what)
}

fn status_error(what: &str, status: StatusCode) -> OciError {
    let text = format!("{what}: the registry answered {status}");
    // A 401 here came after a fresh token was asked for: a token service that is slow or
    // briefly refuses is worth the same retries as a 5xx (the next attempt asks again).
    if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::UNAUTHORIZED
    {
        OciError::Transient(text)
    } else {
        OciError::Registry(text)
    }
}

/// The end of `Range: 0-N` (inclusive) as a byte count: N + 1. distribution answers `0-0` for
/// an empty session as well as for one byte; the caller knows which (nothing acknowledged yet).
fn range_end(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let v = headers.get("range")?.to_str().ok()?;
    let (start, end) = v.trim().trim_start_matches("bytes=").split_once('-')?;
    if start.trim() != "0" {
        return None;
    }
    end.trim().parse::<u64>().ok().map(|n| n + 1)
}

impl Registry {
    /// The chunk size for the next request: the one asked for until a cut, then smaller.
    fn chunk_now(&self) -> u64 {
        self.chunk_now.load(Ordering::Relaxed)
    }

    /// A request carrying blob bytes broke: halves the chunk size, down to [`CHUNK_FLOOR`].
    fn shrink_chunk(&self) {
        let floor = CHUNK_FLOOR.min(self.chunk_size);
        let _ = self
            .chunk_now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some((c / 2).max(floor))
            });
    }

    fn blobs_url(&self, rest: &str) -> String {
        format!(
            "{}://{}/v2/{}/blobs/{rest}",
            self.scheme(),
            self.reference.registry,
            self.reference.repository
        )
    }

    fn push_scope(&self) -> String {
        format!("repository:{}:pull,push", self.reference.repository)
    }

    /// Whether credentials may go to `url`: only to the registry's own host and scheme (an
    /// upload Location may point at storage elsewhere, which gets no token).
    fn same_origin(&self, url: &Url) -> bool {
        let authority = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        url.scheme() == self.scheme()
            && crate::net::split_host_port(&authority).0
                == crate::net::split_host_port(&self.reference.registry).0
            && url.port_or_known_default()
                == Url::parse(&format!("{}://{}/", self.scheme(), self.reference.registry))
                    .ok()
                    .and_then(|u| u.port_or_known_default())
    }

    /// Sends `build()` with the registry's auth for `scope`: the cached token first; on a 401, a
    /// fresh token (or Basic, as challenged) and the request once more. An expired token in the
    /// middle of a long upload is renewed here. `build` is called again for the second send, so
    /// a streamed body is made anew.
    pub(super) async fn send_authed(
        &self,
        url: &Url,
        scope: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> std::result::Result<reqwest::Response, SendError> {
        let ours = self.same_origin(url);
        let with_auth = |token: Option<&str>, basic: bool| {
            let mut r = build();
            if !ours {
                return r;
            }
            if let Some(token) = token {
                r = r.bearer_auth(token);
            } else if basic && let Some((u, p)) = basic_of(&self.auth) {
                r = r.basic_auth(u, Some(p));
            }
            r
        };
        let cached = self.tokens.lock().await.get(scope).cloned();
        let basic_known = cached.as_deref() == Some("");
        let first = if basic_known {
            with_auth(None, true)
        } else {
            with_auth(cached.as_deref(), false)
        };
        let answer = first.send().await.map_err(SendError::Http)?;
        if answer.status() != StatusCode::UNAUTHORIZED || !ours {
            return Ok(answer);
        }
        let challenge = answer
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if let Some(bearer) = super::super::challenge::BearerChallenge::parse(&challenge) {
            let token = bearer
                .token(
                    &self.http,
                    self.scheme(),
                    &self.reference.registry,
                    Some(scope),
                    basic_of(&self.auth),
                )
                .await
                .map_err(|reason| {
                    SendError::Realm(format!("{}: {reason}", self.reference.registry))
                })?;
            if let Some(token) = token {
                self.tokens
                    .lock()
                    .await
                    .insert(scope.to_string(), token.clone());
                return with_auth(Some(&token), false)
                    .send()
                    .await
                    .map_err(SendError::Http);
            }
        } else if challenge.to_ascii_lowercase().starts_with("basic")
            && basic_of(&self.auth).is_some()
        {
            // "" marks a registry that takes Basic: later requests send it at once.
            self.tokens
                .lock()
                .await
                .insert(scope.to_string(), String::new());
            return with_auth(None, true).send().await.map_err(SendError::Http);
        }
        Ok(answer)
    }

    fn send_error(&self, what: &str, e: SendError) -> OciError {
        match e {
            SendError::Http(e) => transient(format!("{what}: {}", crate::net::describe(&e))),
            SendError::Realm(reason) => OciError::Registry(reason),
        }
    }

    /// `POST …/blobs/uploads/`, with `?mount=&from=` when a repository to mount from is given.
    async fn open_upload(&self, blob: &Descriptor, mount_from: Option<&str>) -> Result<Opened> {
        let mut url = Url::parse(&self.blobs_url("uploads/"))
            .map_err(|e| self.err("upload URL of", e.to_string()))?;
        if let Some(from) = mount_from {
            url.query_pairs_mut()
                .append_pair("mount", &blob.digest)
                .append_pair("from", from);
        }
        let what = format!(
            "starting an upload of {} to {}",
            blob.digest, self.reference
        );
        let scope = match mount_from {
            Some(from) => format!("{} repository:{from}:pull", self.push_scope()),
            None => self.push_scope(),
        };
        let answer = self
            .send_authed(&url, &scope, || {
                self.http
                    .post(url.clone())
                    .header("content-length", "0")
                    .timeout(crate::net::timeouts().request)
            })
            .await
            .map_err(|e| self.send_error(&what, e))?;
        let status = answer.status();
        if status == StatusCode::CREATED && mount_from.is_some() {
            return Ok(Opened::Mounted);
        }
        if status != StatusCode::ACCEPTED {
            return Err(status_error(&what, status));
        }
        let location = self.location_of(&answer, &url, &what)?;
        let min_chunk = answer
            .headers()
            .get("oci-chunk-min-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        Ok(Opened::Session {
            location,
            min_chunk,
        })
    }

    fn location_of(&self, answer: &reqwest::Response, base: &Url, what: &str) -> Result<Url> {
        let location = answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OciError::Registry(format!("{what}: no Location in the answer")))?;
        base.join(location)
            .map_err(|e| OciError::Registry(format!("{what}: bad Location: {e}")))
    }

    /// `GET` on the session URL: how many bytes it holds.
    async fn upload_standing(&self, location: &Url, what: &str) -> Result<Standing> {
        let answer = self
            .send_authed(location, &self.push_scope(), || {
                self.http
                    .get(location.clone())
                    .timeout(crate::net::timeouts().request)
            })
            .await
            .map_err(|e| self.send_error(what, e))?;
        match answer.status() {
            StatusCode::NO_CONTENT | StatusCode::OK | StatusCode::ACCEPTED => {
                Ok(Standing::At(range_end(answer.headers()).unwrap_or(0)))
            }
            StatusCode::NOT_FOUND => Ok(Standing::Lost),
            s => Err(status_error(what, s)),
        }
    }

    /// A body of `len` bytes of `source` from `start`, streamed a buffer at a time (from disk,
    /// or from a copy's source). Bytes below `*sent_up_to` count as resent; each new byte goes to
    /// `on_bytes`. A source that cannot be read fails the request (its body ends with the error).
    fn body_of(
        &self,
        source: BlobSource<'_>,
        start: u64,
        len: u64,
        sent_up_to: &std::sync::Arc<AtomicU64>,
        on_bytes: &OnBytes,
    ) -> reqwest::Body {
        let bytes: ByteStream<'static> = match source {
            BlobSource::Bytes(b) => Box::pin(futures_util::stream::iter([Ok(
                bytes::Bytes::copy_from_slice(&b[start as usize..(start + len) as usize]),
            )])),
            BlobSource::File(path) => match std::fs::File::open(path).and_then(|mut f| {
                f.seek(std::io::SeekFrom::Start(start))?;
                Ok(f)
            }) {
                Ok(file) => read_stream(file.take(len)),
                Err(e) => Box::pin(futures_util::stream::iter([Err(e)])),
            },
            BlobSource::Pipe(pipe) => Box::pin(take_bytes(pipe.open_at(start), len)),
        };
        let counters = self.counters.clone();
        let (high, on_bytes) = (sent_up_to.clone(), on_bytes.clone());
        let mut at = start;
        let counted = bytes.map(move |chunk| {
            let chunk = chunk?;
            let n = chunk.len() as u64;
            let end = at + n;
            let before = high.fetch_max(end, Ordering::Relaxed);
            let again = before.min(end).saturating_sub(at);
            counters.sent.fetch_add(n, Ordering::Relaxed);
            counters.resent.fetch_add(again, Ordering::Relaxed);
            if n > again {
                on_bytes(n - again);
            }
            at = end;
            Ok::<_, std::io::Error>(chunk)
        });
        reqwest::Body::wrap_stream(counted)
    }

    /// The blob's bytes from `start`, unchecked, for a copy that pipes them into another
    /// target ([`ReadTarget::read_blob_from`]). A registry that ignores `Range` is read from the
    /// start and the first `start` bytes are dropped.
    pub(super) async fn read_from(
        &self,
        blob: &Descriptor,
        start: u64,
    ) -> Result<ByteStream<'static>> {
        let what = format!("reading {} from {}", blob.digest, self.reference);
        let url = Url::parse(&self.blobs_url(&blob.digest))
            .map_err(|e| self.err("blob URL of", e.to_string()))?;
        let scope = format!("repository:{}:pull", self.reference.repository);
        let answer = self
            .send_authed(&url, &scope, || {
                let r = self.http.get(url.clone());
                if start > 0 {
                    r.header("range", format!("bytes={start}-"))
                } else {
                    r
                }
            })
            .await
            .map_err(|e| self.send_error(&what, e))?;
        let answer = self.follow_redirects(answer, start, &what).await?;
        let skip = match answer.status() {
            StatusCode::PARTIAL_CONTENT if ranged_from(&answer) == Some(start) => 0,
            StatusCode::OK => start,
            StatusCode::NOT_FOUND => {
                return Err(OciError::NotFound(self.name_of_digest(&blob.digest)));
            }
            s if s.is_server_error() => return Err(transient(format!("{what}: {s}"))),
            s => return Err(status_error(&what, s)),
        };
        let stream = answer
            .bytes_stream()
            .map(|c| c.map_err(std::io::Error::other));
        Ok(Box::pin(skip_bytes(stream, skip)))
    }

    /// Asks the registry to mount `blob` from `from`; whether it did (a 202 opened a plain
    /// session instead, which is cancelled).
    pub(super) async fn mount(&self, blob: &Descriptor, from: &str) -> Result<bool> {
        match self.open_upload(blob, Some(from)).await? {
            Opened::Mounted => {
                self.counters.mounted.fetch_add(1, Ordering::Relaxed);
                self.counters.reused.fetch_add(blob.size, Ordering::Relaxed);
                Ok(true)
            }
            Opened::Session { location, .. } => {
                let _ = self
                    .send_authed(&location, &self.push_scope(), || {
                        self.http
                            .delete(location.clone())
                            .timeout(crate::net::timeouts().request)
                    })
                    .await;
                Ok(false)
            }
        }
    }

    /// Uploads a blob, resuming within a session where the registry keeps one. With
    /// `mount_from`, asks the registry to mount it from that repository first.
    pub(super) async fn upload_blob(
        &self,
        blob: &Descriptor,
        source: BlobSource<'_>,
        on_bytes: &OnBytes,
        mount_from: Option<&str>,
    ) -> Result<()> {
        let what = format!("uploading {} to {}", blob.digest, self.reference);
        let sent_up_to = std::sync::Arc::new(AtomicU64::new(0));
        let mut failures = 0u32;
        let mut sessions = 0u32;
        let mut mount_from = mount_from;
        'session: loop {
            // A registry that keeps losing sessions (distribution cancels one whose answer was
            // lost after it took the bytes: the next status query finds a stale offset) is given
            // up on after a few, like any other repeated failure.
            sessions += 1;
            if sessions > ATTEMPTS + 1 {
                return Err(OciError::Transient(format!(
                    "{what}: the registry lost the upload session {ATTEMPTS} times"
                )));
            }
            let opened = match self.open_upload(blob, mount_from).await {
                Ok(o) => o,
                Err(OciError::Transient(_)) if failures + 1 < ATTEMPTS => {
                    failures += 1;
                    pause(failures).await;
                    continue 'session;
                }
                Err(e) => return Err(e),
            };
            // A mount is asked once: a 202 already opened a plain session.
            mount_from = None;
            let (mut location, min_chunk) = match opened {
                Opened::Mounted => {
                    self.counters.mounted.fetch_add(1, Ordering::Relaxed);
                    self.counters.reused.fetch_add(blob.size, Ordering::Relaxed);
                    return Ok(());
                }
                Opened::Session {
                    location,
                    min_chunk,
                } => (location, min_chunk),
            };
            let chunk = || self.chunk_now().max(min_chunk).max(1);
            let mut offset = 0u64;
            // What the registry acknowledged taking in this session.
            let mut confirmed = 0u64;
            if blob.size > chunk() {
                while offset < blob.size {
                    let end = (offset + chunk()).min(blob.size);
                    match self
                        .patch_chunk(&location, source, offset, end, &sent_up_to, on_bytes)
                        .await
                    {
                        Ok((next, held)) => {
                            location = next;
                            offset = held.unwrap_or(end);
                            confirmed = offset;
                            failures = 0;
                        }
                        Err(OciError::Transient(reason)) => {
                            failures += 1;
                            if failures >= ATTEMPTS {
                                return Err(OciError::Transient(reason));
                            }
                            self.shrink_chunk();
                            pause(failures).await;
                            match self.upload_standing(&location, &what).await {
                                // "0-0" before any chunk was taken means an empty session.
                                Ok(Standing::At(1)) if confirmed == 0 => offset = 0,
                                Ok(Standing::At(n)) if n <= blob.size => offset = n,
                                Ok(_) => continue 'session,
                                Err(OciError::Transient(_)) => {}
                                Err(e) => return Err(e),
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            // The closing PUT carries what is left (all of a small blob, nothing after chunks).
            match self
                .put_final(&location, blob, source, offset, &sent_up_to, on_bytes)
                .await
            {
                Ok(()) => return Ok(()),
                Err(OciError::Transient(reason)) => {
                    failures += 1;
                    if failures >= ATTEMPTS {
                        return Err(OciError::Transient(reason));
                    }
                    if offset < blob.size {
                        self.shrink_chunk();
                    }
                    pause(failures).await;
                    // The PUT may have landed before the answer was lost.
                    if self.blob_exists(blob).await.unwrap_or(false) {
                        return Ok(());
                    }
                    if offset > 0
                        && let Ok(Standing::At(n)) = self.upload_standing(&location, &what).await
                        && n == offset
                    {
                        // Same session, same offset: the closing PUT once more.
                        if self
                            .put_final(&location, blob, source, offset, &sent_up_to, on_bytes)
                            .await
                            .is_ok()
                        {
                            return Ok(());
                        }
                    }
                    continue 'session;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One `PATCH` of `[start, end)`: the next session URL and, if the registry says, how many
    /// bytes it now holds.
    async fn patch_chunk(
        &self,
        location: &Url,
        source: BlobSource<'_>,
        start: u64,
        end: u64,
        sent_up_to: &std::sync::Arc<AtomicU64>,
        on_bytes: &OnBytes,
    ) -> Result<(Url, Option<u64>)> {
        let what = format!("uploading bytes {start}-{} to {}", end - 1, self.reference);
        let answer = self
            .send_authed(location, &self.push_scope(), || {
                let body = self.body_of(source, start, end - start, sent_up_to, on_bytes);
                self.http
                    .patch(location.clone())
                    .header("content-type", "application/octet-stream")
                    .header("content-range", format!("{start}-{}", end - 1))
                    .header("content-length", (end - start).to_string())
                    .body(body)
            })
            .await
            .map_err(|e| self.send_error(&what, e))?;
        let status = answer.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            // The session holds other bytes than we thought: ask it.
            return Err(transient(format!("{what}: the registry answered {status}")));
        }
        if status != StatusCode::ACCEPTED && status != StatusCode::NO_CONTENT {
            return Err(status_error(&what, status));
        }
        let next = self.location_of(&answer, location, &what)?;
        Ok((next, range_end(answer.headers())))
    }

    /// The closing `PUT ?digest=` with the bytes from `offset` to the end.
    async fn put_final(
        &self,
        location: &Url,
        blob: &Descriptor,
        source: BlobSource<'_>,
        offset: u64,
        sent_up_to: &std::sync::Arc<AtomicU64>,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        let what = format!("uploading {} to {}", blob.digest, self.reference);
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", &blob.digest);
        let len = blob.size - offset;
        let answer = self
            .send_authed(&url, &self.push_scope(), || {
                let body = self.body_of(source, offset, len, sent_up_to, on_bytes);
                let mut r = self
                    .http
                    .put(url.clone())
                    .header("content-type", "application/octet-stream")
                    .header("content-length", len.to_string())
                    .body(body);
                if len > 0 {
                    r = r.header("content-range", format!("{offset}-{}", blob.size - 1));
                }
                r
            })
            .await
            .map_err(|e| self.send_error(&what, e))?;
        let status = answer.status();
        if status == StatusCode::CREATED || status == StatusCode::ACCEPTED {
            return Ok(());
        }
        if status == StatusCode::BAD_REQUEST {
            return Err(OciError::DigestMismatch {
                what: self.name_of_digest(&blob.digest),
                expected: blob.digest.clone(),
                actual: "the registry refused the digest (the bytes changed while uploading?)"
                    .into(),
            });
        }
        Err(status_error(&what, status))
    }

    fn name_of_digest(&self, digest: &str) -> String {
        self.reference.with_digest(digest)
    }

    /// Downloads a blob into `dest`, continuing from the bytes already in it; the digest is
    /// checked over the whole file. A wrong digest removes the file (its bytes are not the
    /// blob's, resuming from them is pointless).
    pub(super) async fn download_blob(
        &self,
        blob: &Descriptor,
        dest: &Path,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        let what = format!("downloading {} from {}", blob.digest, self.reference);
        let url = Url::parse(&self.blobs_url(&blob.digest))
            .map_err(|e| self.err("blob URL of", e.to_string()))?;
        let scope = format!("repository:{}:pull", self.reference.repository);
        let mut failures = 0u32;
        let mut best = 0u64;
        let mut first = true;
        loop {
            let held = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
            let held = if held > blob.size { 0 } else { held };
            // Bytes of an earlier run count as resumed once (the caller shows them apart in
            // its progress); those of this run's earlier attempts were counted as they came.
            let from_before = if first { held } else { 0 };
            first = false;
            match self
                .download_from(&url, &scope, blob, dest, held, from_before, on_bytes, &what)
                .await
            {
                Ok(()) => return Ok(()),
                Err(OciError::Transient(reason)) => {
                    // An attempt that moved the download on resets the count: a link that
                    // breaks every few GiB still gets a 100 GB blob through.
                    let now = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
                    if now > best {
                        best = now;
                        failures = 0;
                    }
                    failures += 1;
                    if failures >= ATTEMPTS {
                        return Err(OciError::Transient(reason));
                    }
                    pause(failures).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn download_from(
        &self,
        url: &Url,
        scope: &str,
        blob: &Descriptor,
        dest: &Path,
        held: u64,
        from_before: u64,
        on_bytes: &OnBytes,
        what: &str,
    ) -> Result<()> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dest)
            .map_err(|e| OciError::io(dest, e))?;
        if held == blob.size && held > 0 {
            // Whole already (a run killed before the rename): only the check is left.
            self.counters
                .resumed
                .fetch_add(from_before, Ordering::Relaxed);
            let written = BlobWriter::start(out, held, blob.size).finish().await;
            return self.check_download(blob, dest, written);
        }
        let answer = self
            .send_authed(url, scope, || {
                let r = self.http.get(url.clone());
                if held > 0 {
                    r.header("range", format!("bytes={held}-"))
                } else {
                    r
                }
            })
            .await
            .map_err(|e| self.send_error(what, e))?;
        // Redirects (to blob storage) are followed by hand, with no credentials.
        let answer = self.follow_redirects(answer, held, what).await?;
        let status = answer.status();
        let keep = if status == StatusCode::PARTIAL_CONTENT
            && held > 0
            && ranged_from(&answer) == Some(held)
        {
            self.counters
                .resumed
                .fetch_add(from_before, Ordering::Relaxed);
            held
        } else if status == StatusCode::OK {
            // The whole blob: a registry that ignores Range, or nothing held.
            0
        } else if status == StatusCode::RANGE_NOT_SATISFIABLE {
            out.set_len(0).map_err(|e| OciError::io(dest, e))?;
            return Err(transient(format!("{what}: the registry answered {status}")));
        } else if status == StatusCode::NOT_FOUND {
            return Err(OciError::NotFound(self.name_of_digest(&blob.digest)));
        } else {
            return Err(status_error(what, status));
        };
        let mut writer = BlobWriter::start(out, keep, blob.size);
        let mut have = keep;
        let mut broken = None;
        let mut stream = answer.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    broken = Some(self.send_error(what, SendError::Http(e)));
                    break;
                }
            };
            let n = chunk.len() as u64;
            if have + n > blob.size {
                let _ = writer.finish().await;
                let _ = std::fs::remove_file(dest);
                return Err(OciError::DigestMismatch {
                    what: format!("blob from {}", self.name_of_digest(&blob.digest)),
                    expected: format!("{} ({} bytes)", blob.digest, blob.size),
                    actual: format!("more than {} bytes", blob.size),
                });
            }
            have += n;
            self.counters.received.fetch_add(n, Ordering::Relaxed);
            on_bytes(n);
            if !writer.write(chunk).await {
                // The writer stopped on an error, which finishing it returns.
                break;
            }
        }
        // Every byte received is in the file before the next attempt looks at its length.
        let written = writer.finish().await;
        if let Some(e) = broken
            && written.is_ok()
        {
            return Err(e);
        }
        self.check_download(blob, dest, written)
    }

    /// The end of a download: what the writer made of it against the descriptor. A short file
    /// is kept for the next attempt; one with the wrong digest is removed (its bytes are not
    /// the blob's, resuming from them is pointless).
    fn check_download(
        &self,
        blob: &Descriptor,
        dest: &Path,
        written: std::io::Result<(String, u64)>,
    ) -> Result<()> {
        let (actual, have) = written.map_err(|e| OciError::io(dest, e))?;
        if have < blob.size {
            return Err(transient(format!(
                "downloading {} from {}: the connection ended after {have} of {} bytes",
                blob.digest, self.reference, blob.size
            )));
        }
        if actual != blob.digest {
            let _ = std::fs::remove_file(dest);
            return Err(OciError::DigestMismatch {
                what: format!("blob from {}", self.name_of_digest(&blob.digest)),
                expected: blob.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Follows up to 5 redirects of a blob GET (registries hand blobs to storage), without
    /// credentials, keeping the range.
    async fn follow_redirects(
        &self,
        mut answer: reqwest::Response,
        held: u64,
        what: &str,
    ) -> Result<reqwest::Response> {
        for _ in 0..5 {
            if !answer.status().is_redirection() {
                return Ok(answer);
            }
            let next = self.location_of(&answer, answer.url(), what)?;
            let mut r = self.http.get(next);
            if held > 0 {
                r = r.header("range", format!("bytes={held}-"));
            }
            answer = r
                .send()
                .await
                .map_err(|e| self.send_error(what, SendError::Http(e)))?;
        }
        Err(OciError::Registry(format!("{what}: too many redirects")))
    }
}

/// The first `len` bytes of `stream` (a pipe's source runs to the blob's end; a request body
/// carries a chunk of it).
fn take_bytes(
    stream: ByteStream<'static>,
    len: u64,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    futures_util::stream::unfold((stream, len), |(mut stream, left)| async move {
        if left == 0 {
            return None;
        }
        match stream.next().await? {
            Ok(mut chunk) => {
                if chunk.len() as u64 > left {
                    chunk.truncate(left as usize);
                }
                let left = left - chunk.len() as u64;
                Some((Ok(chunk), (stream, left)))
            }
            Err(e) => Some((Err(e), (stream, 0))),
        }
    })
}

/// `stream` without its first `skip` bytes.
fn skip_bytes(
    stream: impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
    skip: u64,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    let mut left = skip;
    stream.filter_map(move |chunk| {
        let out = match chunk {
            Ok(mut c) if left > 0 => {
                let drop = left.min(c.len() as u64);
                left -= drop;
                let rest = c.split_off(drop as usize);
                (!rest.is_empty()).then_some(Ok(rest))
            }
            other => Some(other),
        };
        std::future::ready(out)
    })
}

/// The first byte of a 206 answer's `Content-Range: bytes N-M/T`.
fn ranged_from(answer: &reqwest::Response) -> Option<u64> {
    let v = answer.headers().get("content-range")?.to_str().ok()?;
    v.trim()
        .strip_prefix("bytes ")?
        .split_once('-')?
        .0
        .trim()
        .parse()
        .ok()
}

/// The pause before the `n`th retry: 0.5 s, then 2 s, then 8 s (as [`super::with_retries`]).
async fn pause(n: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(
        500 * 4u64.pow(n.saturating_sub(1)),
    ))
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_header_reads_as_the_bytes_held() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("range", "0-1048575".parse().unwrap());
        assert_eq!(range_end(&h), Some(1 << 20));
        h.insert("range", "5-9".parse().unwrap());
        assert_eq!(range_end(&h), None);
    }
}
