//! References: `host[:port]/repo[:tag|@digest]` for a registry, `DIR[:tag|@digest]` for an OCI
//! image layout (with `--oci-layout`), as oras spells them.

use super::error::{OciError, Result};

/// Which manifest in a repository or layout a reference names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// A tag: `[A-Za-z0-9._-]`, 1 to 128 bytes (distribution-spec; the first-character rule is
    /// not checked).
    Tag(String),
    /// A manifest digest, `sha256:` and 64 lowercase hex.
    Digest(String),
}

impl Selector {
    /// The tag or the digest, without the `:` or `@` that introduced it.
    pub fn as_str(&self) -> &str {
        match self {
            Selector::Tag(t) | Selector::Digest(t) => t,
        }
    }
}

/// `host[:port]/repository[:tag][@digest]`, parsed. No default registry and no `library/`
/// prefix (unlike docker): the host is always written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryReference {
    /// The registry's authority, `host[:port]`.
    pub registry: String,
    /// The repository path: `/`-separated components of lowercase letters, digits and `._-`.
    pub repository: String,
    /// The tag or digest; `None` when the reference names only the repository. When both are
    /// written, the digest wins.
    pub selector: Option<Selector>,
}

impl RegistryReference {
    /// Parses a registry reference. Refused ([`OciError::BadReference`], with any userinfo in
    /// the message replaced by `***`): no `/`; a first part that is not a host (no `.` or `:`,
    /// not `localhost`); an empty or non-lowercase repository component; a tag that is empty,
    /// over 128 bytes or has other characters than `[A-Za-z0-9._-]`; a digest that is not
    /// `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |reason: &str| OciError::BadReference {
            reference: redact_reference(s),
            reason: reason.into(),
        };
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(bad(&format!(
                "drop the scheme `{scheme}://` (a reference is host/repository[:tag]); use --plain-http for HTTP"
            )));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(check_digest(d).ok_or_else(|| bad("digest must be sha256:<64 hex>"))?),
            ),
            None => (s, None),
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("want host/repository[:tag|@digest]"))?;
        if !(registry.contains('.') || registry.contains(':') || registry == "localhost") {
            return Err(bad(
                "the first part must be a registry host (e.g. ghcr.io, localhost:5000)",
            ));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (path, None),
        };
        if repository.is_empty()
            || !repository.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            })
        {
            return Err(bad(
                "repository names are lowercase letters, digits and . _ - separated by /",
            ));
        }
        let selector = match (digest, tag) {
            (Some(d), _) => Some(Selector::Digest(d)),
            (None, Some(t)) => {
                if t.is_empty()
                    || t.len() > 128
                    || !t
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    return Err(bad("invalid tag"));
                }
                Some(Selector::Tag(t.to_string()))
            }
            (None, None) => None,
        };
        Ok(RegistryReference {
            registry: registry.into(),
            repository: repository.into(),
            selector,
        })
    }

    /// Exactly `localhost`, `127.0.0.1` or `[::1]` (any port): the only registries reached over
    /// plain HTTP without `--plain-http`. See [`crate::net::is_loopback_authority`].
    pub fn is_localhost(&self) -> bool {
        crate::net::is_loopback_authority(&self.registry)
    }

    /// `host/repo@digest`, as oras discover prints a referrer's reference.
    pub fn with_digest(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry, self.repository)
    }
}

impl std::fmt::Display for RegistryReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        match &self.selector {
            Some(Selector::Tag(t)) => write!(f, ":{t}"),
            Some(Selector::Digest(d)) => write!(f, "@{d}"),
            None => Ok(()),
        }
    }
}

/// A reference as typed, for messages: `user:secret@host/repo` (userinfo, which references do
/// not have, typed by mistake) becomes `***@host/repo`; URLs lose their userinfo too.
pub fn redact_reference(s: &str) -> String {
    match s.split_once('@') {
        Some((before, after)) if !before.contains('/') && !s.contains("://") => {
            format!("***@{after}")
        }
        _ => crate::net::redact_text(s),
    }
}

/// `DIR`, `DIR:tag` or `DIR@sha256:...` for an OCI layout.
pub fn parse_layout_reference(s: &str) -> Result<(std::path::PathBuf, Option<Selector>)> {
    if let Some((dir, digest)) = s.split_once('@') {
        let d = check_digest(digest).ok_or_else(|| OciError::BadReference {
            reference: s.into(),
            reason: "bad digest".into(),
        })?;
        return Ok((dir.into(), Some(Selector::Digest(d))));
    }
    match s.rsplit_once(':') {
        Some((dir, tag)) if !tag.contains('/') && !tag.is_empty() => {
            Ok((dir.into(), Some(Selector::Tag(tag.into()))))
        }
        _ => Ok((s.into(), None)),
    }
}

/// `d` if it is a `sha256:` digest with 64 lowercase hex digits (the only algorithm we use).
pub fn check_digest(d: &str) -> Option<String> {
    let hex = d.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_oras() {
        let r = RegistryReference::parse("localhost:5000/models/phi:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "models/phi")
        );
        assert_eq!(r.selector, Some(Selector::Tag("v1".into())));
        assert!(r.is_localhost());
        let d = format!("sha256:{}", "a".repeat(64));
        let r = RegistryReference::parse(&format!("ghcr.io/org/model@{d}")).unwrap();
        assert_eq!(r.selector, Some(Selector::Digest(d.clone())));
        assert_eq!(r.to_string(), format!("ghcr.io/org/model@{d}"));
        for bad in [
            "model:v1",
            "ghcr.io/Org/model",
            "ghcr.io/org/model@sha256:xyz",
            "ghcr.io/org/model:bad tag",
        ] {
            assert!(RegistryReference::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_layout_reference("out/layout:v1").unwrap().1,
            Some(Selector::Tag("v1".into()))
        );
        assert_eq!(parse_layout_reference("out/layout").unwrap().1, None);
        let e = RegistryReference::parse("http://localhost:5000/org/m:v1").unwrap_err();
        assert!(e.to_string().contains("use --plain-http for HTTP"), "{e}");
        let e = RegistryReference::parse("user:s3cret@ghcr.io/org/m:v1").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
