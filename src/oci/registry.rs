//! A remote registry as a target, on oci-client. Referrers are read with the referrers API
//! where the registry answers it and the tag schema (`sha256-<hex>` index) where it does not
//! (oci-client does both). Writing the tag-schema index on attach is ours: oci-client leaves it
//! to the caller, and registries without the API (GHCR, distribution) need it.

use super::error::{OciError, Result};
use super::manifest::{Descriptor, ImageIndex, ImageManifest, referrer_descriptor, sha256_digest};
use super::media;
use super::reference::{RegistryReference, Selector};
use super::target::{BlobSource, MAX_MANIFEST_BYTES, OnBytes, ReadTarget, Target};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::path::Path;

mod transfer;
pub use transfer::{CHUNK_FLOOR, DEFAULT_CHUNK_SIZE, TransferCounters, TransferCounts};

/// How a registry is reached: plain HTTP (localhost, or asked for) and credentials.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// Speak plain HTTP to this registry (`--plain-http`); loopback registries get it anyway.
    pub plain_http: bool,
    /// The user name for Basic credentials; used only with `password`. Without both, the
    /// docker config's credentials (helpers included) for the registry are used, if any.
    pub username: Option<String>,
    /// The password or token that goes with `username`.
    pub password: Option<String>,
    /// Blobs larger than this are uploaded in chunks of this size (`--chunk-size`); `None` is
    /// [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: Option<u64>,
    /// A repository of the same registry to mount blobs from before uploading them.
    pub mount_from: Option<String>,
}

/// The user name under which ACR (and docker) take an identity token as the password.
const IDENTITY_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";
/// Attempts to update a tag-schema referrers index that other clients change at the same time.
const INDEX_UPDATE_ATTEMPTS: usize = 5;
/// How long a tag-schema index write is left to settle before it is checked again: longer than
/// another client's read-modify-write of the index on any reasonable link.
const INDEX_SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// One repository of a remote registry (distribution-spec 1.1) as a [`Target`]: blobs and
/// manifests through oci-client, bounded reads of manifests and referrers on our own client,
/// and referrers through the referrers API (`GET /v2/<name>/referrers/<digest>`) or, where the
/// registry lacks it, the tag schema (an index tagged `sha256-<hex>`, updated read-modify-write).
pub struct Registry {
    client: Client,
    auth: RegistryAuth,
    reference: RegistryReference,
    plain_http: bool,
    /// Our own client, for the small GETs we bound while reading (manifests, referrers): oci-client
    /// reads those whole before any check.
    http: reqwest::Client,
    /// Bearer tokens we fetched, by scope.
    tokens: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Whether the registry answers the referrers API (asked once, on the first attach).
    referrers_api: tokio::sync::OnceCell<bool>,
    /// Bytes moved so far.
    counters: std::sync::Arc<TransferCounters>,
    /// The chunk size asked for (`--chunk-size`, or the default).
    chunk_size: u64,
    /// The chunk size now: `chunk_size`, halved after each broken chunk (see
    /// [`transfer::CHUNK_FLOOR`]).
    chunk_now: std::sync::atomic::AtomicU64,
    mount_from: Option<String>,
}

/// The Basic credentials in `auth`, if any.
fn basic_of(auth: &RegistryAuth) -> Option<(&str, &str)> {
    match auth {
        RegistryAuth::Basic(user, password) => Some((user.as_str(), password.as_str())),
        _ => None,
    }
}

impl Registry {
    /// A client for `reference`'s repository. Nothing is sent unless there are Basic
    /// credentials: then `GET /v2/` is asked for its challenge, and a token realm that fails
    /// [`check_realm`](super::challenge::BearerChallenge::check_realm) is refused
    /// ([`OciError::Registry`]) before credentials go anywhere, as is an unreachable registry.
    pub async fn connect(reference: &RegistryReference, conn: &Connection) -> Result<Self> {
        let plain_http = conn.plain_http || reference.is_localhost();
        let protocol = if plain_http {
            ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let timeouts = crate::net::timeouts();
        let client = Client::new(ClientConfig {
            protocol,
            read_timeout: Some(timeouts.idle),
            connect_timeout: Some(timeouts.connect),
            ..Default::default()
        });
        let auth = match (&conn.username, &conn.password) {
            (Some(u), Some(p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            _ => credentials_from_docker_config(&reference.registry),
        };
        let mut registry = Registry {
            client,
            auth: RegistryAuth::Anonymous,
            reference: reference.clone(),
            plain_http,
            http: crate::net::client(),
            tokens: tokio::sync::Mutex::new(std::collections::HashMap::new()),
            referrers_api: tokio::sync::OnceCell::new(),
            counters: Default::default(),
            chunk_size: conn.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE),
            chunk_now: conn.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE).into(),
            mount_from: conn.mount_from.clone(),
        };
        // Credentials reach oci-client only once the registry's challenge passed the realm
        // rule: oci-client sends them to whatever realm the registry names.
        if basic_of(&auth).is_some() {
            registry.check_challenge().await?;
        }
        registry
            .client
            .store_auth_if_needed(&reference.registry, &auth)
            .await;
        registry.auth = auth;
        Ok(registry)
    }

    /// Bytes moved by this target so far.
    pub fn transfer_counts(&self) -> TransferCounts {
        self.counters.snapshot()
    }

    /// Mounts blobs from `repository` (of the same registry) before uploading them.
    pub fn set_mount_from(&mut self, repository: Option<String>) {
        self.mount_from = repository;
    }

    /// The registry and repository this target names.
    pub fn reference(&self) -> &RegistryReference {
        &self.reference
    }

    fn scheme(&self) -> &'static str {
        if self.plain_http { "http" } else { "https" }
    }

    /// Asks `GET /v2/` and applies the realm rule to a Bearer challenge (an error names the
    /// realm and why); a realm on another host is announced.
    async fn check_challenge(&self) -> Result<()> {
        let url = format!("{}://{}/v2/", self.scheme(), self.reference.registry);
        let answer = self
            .http
            .get(&url)
            .timeout(crate::net::timeouts().request)
            .send()
            .await
            .map_err(|e| self.err("connecting to", crate::net::describe(&e)))?;
        if let Some(challenge) = answer
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(super::challenge::BearerChallenge::parse)
        {
            match challenge.check_realm(self.scheme(), &self.reference.registry) {
                Ok(super::challenge::RealmUse::OtherHost(host)) => crate::net::notice(&format!(
                    "{}: the token service is on another host, {host} (HTTPS)",
                    self.reference.registry
                )),
                Ok(super::challenge::RealmUse::SameHost) => {}
                Err(reason) => {
                    return Err(OciError::Registry(format!(
                        "{}: {reason}",
                        self.reference.registry
                    )));
                }
            }
        }
        Ok(())
    }

    /// `GET` of a small document on our own client, with the registry's auth (Basic to the
    /// registry itself, or a pull token from a realm that passes the rule), read with `limit`.
    /// `None` for 404.
    async fn get_small(
        &self,
        path: &str,
        accept: &str,
        limit: u64,
        kind: &'static str,
    ) -> Result<Option<(Vec<u8>, Option<String>)>> {
        Ok(self
            .get_small_or_absent(path, accept, limit, kind)
            .await?
            .ok())
    }

    /// [`get_small`](Self::get_small), with a 404's error code (`NAME_UNKNOWN`,
    /// `MANIFEST_UNKNOWN`, …; distribution spec, error codes) as `Err` — what tells a missing
    /// repository from a missing tag.
    async fn get_small_or_absent(
        &self,
        path: &str,
        accept: &str,
        limit: u64,
        kind: &'static str,
    ) -> Result<std::result::Result<(Vec<u8>, Option<String>), Option<String>>> {
        let url = format!(
            "{}://{}/v2/{}/{path}",
            self.scheme(),
            self.reference.registry,
            self.reference.repository
        );
        let what = format!(
            "{}/{}/{path}",
            self.reference.registry, self.reference.repository
        );
        let scope = format!("repository:{}:pull", self.reference.repository);
        let send_err = |e: transfer::SendError| match e {
            transfer::SendError::Http(e) => {
                let text = format!("{what}: {}", crate::net::describe(&e));
                if e.is_timeout() || e.is_connect() {
                    OciError::Registry(text)
                } else {
                    OciError::Transient(text)
                }
            }
            transfer::SendError::Realm(reason) => OciError::Registry(reason),
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| self.err("URL of", e))?;
        let answer = self
            .send_authed(&parsed, &scope, || {
                self.http
                    .get(parsed.clone())
                    .header("Accept", accept)
                    .timeout(crate::net::timeouts().request)
            })
            .await
            .map_err(send_err)?;
        let status = answer.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            let body = crate::net::read_capped(answer, 16 * 1024, &what, "an error")
                .await
                .unwrap_or_default();
            #[derive(serde::Deserialize)]
            struct Errors {
                errors: Vec<ErrorEntry>,
            }
            #[derive(serde::Deserialize)]
            struct ErrorEntry {
                code: String,
            }
            let code = serde_json::from_slice::<Errors>(&body)
                .ok()
                .and_then(|e| e.errors.into_iter().next())
                .map(|e| e.code);
            return Ok(Err(code));
        }
        if !status.is_success() {
            let text = format!("{what}: the registry answered {status}");
            return Err(if status.is_server_error() {
                OciError::Transient(text)
            } else {
                OciError::Registry(text)
            });
        }
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = crate::net::read_capped(answer, limit, &what, kind)
            .await
            .map_err(|e| match e {
                crate::net::ReadError::TooLarge { .. } => {
                    OciError::ManifestTooLarge(self.name_of_path(path), limit as usize)
                }
                other => OciError::Registry(other.to_string()),
            })?;
        Ok(Ok((body, content_type)))
    }

    fn name_of_path(&self, path: &str) -> String {
        format!(
            "{}/{}/{path}",
            self.reference.registry, self.reference.repository
        )
    }

    fn at(&self, selector: &str) -> Reference {
        if selector.starts_with("sha256:") {
            Reference::with_digest(
                self.reference.registry.clone(),
                self.reference.repository.clone(),
                selector.into(),
            )
        } else {
            Reference::with_tag(
                self.reference.registry.clone(),
                self.reference.repository.clone(),
                selector.into(),
            )
        }
    }

    /// Like `err`, but marks failures worth another attempt.
    fn classify(&self, what: &str, e: oci_client::errors::OciDistributionError) -> OciError {
        // oci-client's own text for a failed request is only "error sending request for url":
        // the cause (refused, no such host, TLS) is in its sources.
        let text = match &e {
            oci_client::errors::OciDistributionError::RequestError(r) => crate::net::describe(r),
            e => e.to_string(),
        };
        if is_transient(&e) {
            OciError::Transient(format!(
                "{what} {}/{}: {text}",
                self.reference.registry, self.reference.repository
            ))
        } else {
            self.err(what, text)
        }
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> OciError {
        OciError::Registry(format!(
            "{what} {}/{}: {e}",
            self.reference.registry, self.reference.repository
        ))
    }

    /// A manifest (or index) by tag or digest, read on our own client with the manifest cap
    /// applied while reading (Content-Length first, then the bytes as they come).
    async fn manifest_raw(&self, selector: &str) -> Result<Option<Vec<u8>>> {
        let accept = format!("{}, {}", media::IMAGE_MANIFEST, media::IMAGE_INDEX);
        Ok(self
            .get_small(
                &format!("manifests/{selector}"),
                &accept,
                MAX_MANIFEST_BYTES as u64,
                "a manifest",
            )
            .await?
            .map(|(bytes, _)| bytes))
    }

    /// Asks `GET /v2/<name>/referrers/<digest>` once (with a pull token where the registry wants
    /// one): a registry that answers it with an image index keeps referrers itself, and needs no
    /// tag-schema index (distribution spec 1.1). Any other answer means "write the index": the
    /// fallback is always safe, only redundant.
    async fn has_referrers_api(&self, subject: &Descriptor) -> bool {
        *self
            .referrers_api
            .get_or_init(|| async {
                matches!(
                    self.get_small(
                        &format!("referrers/{}", subject.digest),
                        media::IMAGE_INDEX,
                        MAX_MANIFEST_BYTES as u64,
                        "a referrers list",
                    )
                    .await,
                    Ok(Some((_, Some(ct)))) if ct.starts_with(media::IMAGE_INDEX)
                )
            })
            .await
    }

    /// Adds `referrer` to the tag-schema index of its subject (distribution spec, "referrers tag
    /// schema"), keeping every descriptor another client put there.
    ///
    /// The registry offers no conditional write, so two clients that read the index before either
    /// wrote can each write a list without the other's entry: the later write wins. A write is
    /// therefore checked twice: at once, and again after a settle delay longer than a
    /// read-modify-write of the others (at least [`INDEX_SETTLE`], three times our own); a
    /// writer whose entry was dropped by a write that landed meanwhile adds it again, merged with
    /// what is there now.
    async fn add_to_referrers_index(
        &self,
        subject: &Descriptor,
        referrer: &Descriptor,
    ) -> Result<()> {
        let hex = subject
            .sha256_hex()
            .ok_or_else(|| self.err("subject digest", &subject.digest))?;
        let tag = format!("sha256-{hex}");
        for attempt in 1..=INDEX_UPDATE_ATTEMPTS {
            match self.try_index_update(&tag, referrer).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                // distribution answers 500 now and then while two clients write one tag: one
                // more read-modify-write, after a pause, is the cure.
                Err(OciError::Transient(_)) if attempt < INDEX_UPDATE_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt as u64))
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(OciError::ReferrersContention {
            subject: subject.digest.clone(),
            attempts: INDEX_UPDATE_ATTEMPTS,
        })
    }

    /// One read-modify-write of the index at `tag` adding `referrer`, checked at once and after
    /// the settle delay: whether `referrer` is still listed then.
    async fn try_index_update(&self, tag: &str, referrer: &Descriptor) -> Result<bool> {
        let started = std::time::Instant::now();
        let mut index = self
            .referrers_index(tag)
            .await?
            .unwrap_or_else(ImageIndex::new);
        if !index.manifests.iter().any(|d| d.digest == referrer.digest) {
            index.manifests.push(referrer.clone());
            self.client
                .push_manifest_raw(
                    &self.at(tag),
                    index.to_bytes(),
                    media::IMAGE_INDEX.parse().expect("a valid header value"),
                )
                .await
                .map_err(|e| self.classify("updating the referrers index in", e))?;
        }
        if !self.index_lists(tag, referrer).await? {
            return Ok(false);
        }
        tokio::time::sleep(INDEX_SETTLE.max(started.elapsed() * 3)).await;
        self.index_lists(tag, referrer).await
    }

    /// The tag-schema index at `tag`, if there is one.
    async fn referrers_index(&self, tag: &str) -> Result<Option<ImageIndex>> {
        self.manifest_raw(tag)
            .await?
            .map(|bytes| {
                serde_json::from_slice::<ImageIndex>(&bytes).map_err(|e| OciError::BadDocument {
                    what: format!("referrers index {tag}"),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    async fn index_lists(&self, tag: &str, referrer: &Descriptor) -> Result<bool> {
        Ok(self
            .referrers_index(tag)
            .await?
            .is_some_and(|i| i.manifests.iter().any(|d| d.digest == referrer.digest)))
    }
}

/// Upload and download attempts before giving up on transient failures.
const ATTEMPTS: u32 = 3;

fn is_transient(e: &oci_client::errors::OciDistributionError) -> bool {
    use oci_client::errors::OciDistributionError as E;
    match e {
        E::ServerError { code, .. } => *code >= 500,
        E::RequestError(r) => r.is_connect() || r.is_timeout() || r.is_request() || r.is_body(),
        E::IoError(_) => true,
        other => {
            let text = other.to_string().to_lowercase();
            [
                "connection",
                "reset",
                "broken pipe",
                "500 ",
                "502",
                "503",
                "504",
            ]
            .iter()
            .any(|w| text.contains(w))
        }
    }
}

/// Credentials from the Docker config (`~/.docker/config.json`, `DOCKER_CONFIG`): auths,
/// credsStore and credHelpers. An identity token (ACR) is the password of the all-zero user.
pub fn credentials_from_docker_config(registry: &str) -> RegistryAuth {
    match docker_credential::get_credential(registry) {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
            RegistryAuth::Basic(u, p)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(t)) => {
            RegistryAuth::Basic(IDENTITY_TOKEN_USER.into(), t)
        }
        Err(_) => RegistryAuth::Anonymous,
    }
}

impl ReadTarget for Registry {
    fn name_of(&self, digest: &str) -> String {
        self.reference.with_digest(digest)
    }

    async fn blob_exists(&self, blob: &Descriptor) -> Result<bool> {
        tokio::time::timeout(
            crate::net::timeouts().request,
            self.client
                .blob_exists(&self.at(&blob.digest), &blob.digest),
        )
        .await
        .map_err(|_| self.err("checking a blob in", "timed out (see --timeout)"))?
        .map_err(|e| self.classify("checking a blob in", e))
    }

    async fn fetch_blob_to(
        &self,
        blob: &Descriptor,
        dest: &Path,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        self.download_blob(blob, dest, on_bytes).await
    }

    async fn read_blob_from(
        &self,
        blob: &Descriptor,
        start: u64,
    ) -> Result<super::target::ByteStream<'static>> {
        self.read_from(blob, start).await
    }

    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        let accept = format!("{}, {}", media::IMAGE_MANIFEST, media::IMAGE_INDEX);
        let found = self
            .get_small_or_absent(
                &format!("manifests/{}", selector.as_str()),
                &accept,
                MAX_MANIFEST_BYTES as u64,
                "a manifest",
            )
            .await?;
        let (registry, repository) = (&self.reference.registry, &self.reference.repository);
        let name = match selector {
            Selector::Tag(t) => format!("{registry}/{repository}:{t}"),
            Selector::Digest(d) => format!("{registry}/{repository}@{d}"),
        };
        let bytes = match found {
            Ok((bytes, _)) => bytes,
            // The registry says which part is missing: the repository, or the tag in it.
            Err(Some(code)) if code == "NAME_UNKNOWN" => {
                return Err(OciError::NotFoundBecause {
                    name,
                    reason: format!(
                        "no repository {repository} on {registry} (check the name; a push creates it)"
                    ),
                });
            }
            // distribution answers MANIFEST_UNKNOWN for an unknown repository's tag too: its
            // tag list, NAME_UNKNOWN or not, settles which part is missing.
            Err(Some(code))
                if code == "MANIFEST_UNKNOWN"
                    && matches!(
                        self.get_small_or_absent("tags/list", "application/json", 64 * 1024, "a tag list")
                            .await,
                        Ok(Err(Some(ref c))) if c == "NAME_UNKNOWN"
                    ) =>
            {
                return Err(OciError::NotFoundBecause {
                    name,
                    reason: format!(
                        "no repository {repository} on {registry} (check the name; a push creates it)"
                    ),
                });
            }
            Err(Some(code)) if code == "MANIFEST_UNKNOWN" => {
                return Err(OciError::NotFoundBecause {
                    reason: match selector {
                        Selector::Tag(t) => {
                            format!("the repository {repository} exists, but has no tag {t}")
                        }
                        Selector::Digest(d) => {
                            format!("the repository {repository} exists, but has no manifest {d}")
                        }
                    },
                    name,
                });
            }
            Err(_) => return Err(OciError::NotFound(name)),
        };
        if let Selector::Digest(d) = selector {
            let actual = sha256_digest(&bytes);
            if actual != *d {
                return Err(OciError::DigestMismatch {
                    what: self.name_of(d),
                    expected: d.clone(),
                    actual,
                });
            }
        }
        Ok(Descriptor::of_manifest(&bytes))
    }

    async fn fetch_manifest(&self, manifest: &Descriptor) -> Result<Vec<u8>> {
        let bytes = self
            .manifest_raw(&manifest.digest)
            .await?
            .ok_or_else(|| OciError::NotFound(self.name_of(&manifest.digest)))?;
        let actual = sha256_digest(&bytes);
        if actual != manifest.digest {
            return Err(OciError::DigestMismatch {
                what: self.name_of(&manifest.digest),
                expected: manifest.digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        // The referrers API where the registry has it, else the tag schema; both read with the
        // manifest cap (a referrers list is an index).
        let from_api = self
            .get_small(
                &format!("referrers/{}", subject.digest),
                media::IMAGE_INDEX,
                MAX_MANIFEST_BYTES as u64,
                "a referrers list",
            )
            .await;
        let bytes = match from_api {
            Ok(Some((bytes, Some(ct)))) if ct.starts_with(media::IMAGE_INDEX) => Some(bytes),
            Err(e @ OciError::ManifestTooLarge(..)) => return Err(e),
            _ => {
                let hex = subject
                    .sha256_hex()
                    .ok_or_else(|| self.err("subject digest", &subject.digest))?;
                self.manifest_raw(&format!("sha256-{hex}")).await?
            }
        };
        let Some(bytes) = bytes else {
            return Ok(Vec::new());
        };
        let index: ImageIndex =
            serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
                what: format!("referrers of {}", self.name_of(&subject.digest)),
                reason: e.to_string(),
            })?;
        Ok(index
            .manifests
            .into_iter()
            .filter(|e| artifact_type.is_none_or(|t| e.artifact_type.as_deref() == Some(t)))
            .collect())
    }
}

impl Target for Registry {
    async fn push_blob(
        &self,
        blob: &Descriptor,
        source: BlobSource<'_>,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        if self.blob_exists(blob).await? {
            self.counters
                .reused
                .fetch_add(blob.size, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        }
        self.upload_blob(blob, source, on_bytes, self.mount_from.as_deref())
            .await
    }

    async fn mount_blob(&self, blob: &Descriptor) -> Result<bool> {
        match &self.mount_from {
            Some(from) => self.mount(blob, from).await,
            None => Ok(false),
        }
    }

    async fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor> {
        let d = Descriptor::of(media_type, bytes);
        let at = self.at(tag.unwrap_or(&d.digest));
        let content_type = media_type
            .parse()
            .map_err(|_| self.err("media type", media_type))?;
        tokio::time::timeout(
            crate::net::timeouts().request,
            self.client
                .push_manifest_raw(&at, bytes.to_vec(), content_type),
        )
        .await
        .map_err(|_| self.err("pushing a manifest to", "timed out (see --timeout)"))?
        .map_err(|e| self.classify("pushing a manifest to", e))?;
        if let Ok(m) = serde_json::from_slice::<ImageManifest>(bytes)
            && let Some(subject) = &m.subject
            && !self.has_referrers_api(subject).await
        {
            self.add_to_referrers_index(subject, &referrer_descriptor(bytes, &m))
                .await?;
        }
        Ok(d)
    }
}
