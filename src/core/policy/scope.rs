//! Policy scopes: which artifacts a policy covers, by whole path segments.
//!
//! - `host[:port]/a/b` is exactly that repository;
//! - `host[:port]/a/*` is every repository under `a/`, at any depth (not `a` itself);
//! - `host[:port]/*` is every repository of that registry;
//! - `*` is everything;
//! - `oci-layout:/abs/dir` (and `oci-layout:/abs/*`) name OCI image layout directories.
//!
//! Hosts compare case-insensitively; `docker.io`, `index.docker.io` and `registry-1.docker.io` are
//! one host, and a name without a host is `docker.io/library/…` (or `docker.io/org/…`) as docker
//! reads it. Different hosts are never merged: `localhost` is not `127.0.0.1`. The most specific
//! scope wins: an exact repository, then the longest prefix, then `*`.

use std::fmt;

/// What scopes call an OCI image layout's "host".
pub const LAYOUT_HOST: &str = "oci-layout:";

/// A repository, normalised as scopes compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryName {
    /// Lowercase host (with port), `docker.io` for Docker Hub, or [`LAYOUT_HOST`].
    pub host: String,
    /// Path segments: the repository's, or the layout directory's (absolute, without the root).
    pub segments: Vec<String>,
}

impl RepositoryName {
    /// A registry repository: `host` as the reference gives it, `repository` its path.
    pub fn registry(host: &str, repository: &str) -> Self {
        let host = normalise_host(host);
        let mut segments: Vec<String> = repository
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if host == "docker.io" && segments.len() == 1 {
            segments.insert(0, "library".into());
        }
        RepositoryName { host, segments }
    }

    /// An OCI image layout directory (made absolute by the caller).
    pub fn layout(dir: &std::path::Path) -> Self {
        RepositoryName {
            host: LAYOUT_HOST.into(),
            segments: dir
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Parses `host/repo/…` or a docker-style name without a host.
    pub fn parse(name: &str) -> Self {
        if let Some(dir) = name.strip_prefix(LAYOUT_HOST) {
            return Self::layout(std::path::Path::new(dir));
        }
        match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                Self::registry(first, rest)
            }
            _ => Self::registry("docker.io", name),
        }
    }

    /// The repository path, without the host: what `{repository}` expands to.
    pub fn path(&self) -> String {
        if self.host == LAYOUT_HOST {
            return format!("/{}", self.segments.join("/"));
        }
        self.segments.join("/")
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host == LAYOUT_HOST {
            write!(f, "{LAYOUT_HOST}{}", self.path())
        } else {
            write!(f, "{}/{}", self.host, self.path())
        }
    }
}

fn normalise_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

/// One parsed scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `*`.
    All,
    /// Exactly this repository.
    Repository(RepositoryName),
    /// Every repository strictly under these segments (`host/a/*`; `host/*` has none).
    Under(RepositoryName),
}

/// How specific a matching scope is; greater wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Specificity {
    /// The catch-all `*`.
    All,
    /// A prefix of this many segments.
    Prefix(usize),
    /// The exact repository.
    Exact,
}

impl Scope {
    /// Parses a scope as a version-2 policy writes it. `*` may only be a whole last segment.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Scope::All);
        }
        if text.is_empty() {
            return Err("an empty scope (write \"*\" for everything)".into());
        }
        let (base, under) = match text.strip_suffix("/*") {
            Some(base) => (base, true),
            None => (text, false),
        };
        if base.ends_with('/') {
            return Err(format!(
                "'{text}' ends with '/': write {base}* for every repository under it, or {} for that repository",
                base.trim_end_matches('/')
            ));
        }
        if base.contains('*') {
            return Err(format!(
                "'{text}': `*` may only stand alone, or as the whole last segment (host/a/*)"
            ));
        }
        if let Some(dir) = base.strip_prefix(LAYOUT_HOST)
            && !dir.starts_with('/')
        {
            return Err(format!(
                "'{text}': an oci-layout scope names an absolute directory (oci-layout:/path)"
            ));
        }
        let has_host = base.starts_with(LAYOUT_HOST)
            || base.split('/').next().is_some_and(|first| {
                first.contains('.') || first.contains(':') || first == "localhost"
            });
        let name = if under && !base.contains('/') && has_host {
            // `host/*`: every repository of the registry.
            RepositoryName {
                host: normalise_host(base),
                segments: Vec::new(),
            }
        } else if under && !has_host && !base.contains('/') {
            // `org/*` on Docker Hub: keep the organisation, do not add `library/`.
            RepositoryName {
                host: "docker.io".into(),
                segments: vec![base.to_string()],
            }
        } else {
            RepositoryName::parse(base)
        };
        Ok(if under {
            Scope::Under(name)
        } else {
            Scope::Repository(name)
        })
    }

    /// Reads a version-1 scope: there, `*` ended a raw string prefix (`host/models*`). It now
    /// means the repository itself and everything under it by whole segments, never
    /// `host/models-evil`.
    pub fn parse_v1(text: &str) -> Result<Vec<Self>, String> {
        let text = text.trim();
        // Version 1 matched layouts by their directory as typed.
        let layout;
        let text = if text.starts_with('/') {
            layout = format!("{LAYOUT_HOST}{text}");
            layout.as_str()
        } else {
            text
        };
        match text.strip_suffix('*') {
            None => Ok(vec![Self::parse(text)?]),
            Some("") => Ok(vec![Scope::All]),
            Some(prefix) => {
                let prefix = prefix.trim_end_matches('/');
                let under = Self::parse(&format!("{prefix}/*"))?;
                // `host/*` has no repository of its own to add.
                match Self::parse(prefix) {
                    Ok(exact) if prefix.contains('/') => Ok(vec![exact, under]),
                    _ => Ok(vec![under]),
                }
            }
        }
    }

    /// How specifically this scope covers `name`, if it does.
    pub fn covers(&self, name: &RepositoryName) -> Option<Specificity> {
        match self {
            Scope::All => Some(Specificity::All),
            Scope::Repository(r) => (r == name).then_some(Specificity::Exact),
            Scope::Under(prefix) => (prefix.host == name.host
                && name.segments.len() > prefix.segments.len()
                && name.segments[..prefix.segments.len()] == prefix.segments[..])
                .then_some(Specificity::Prefix(prefix.segments.len())),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Repository(r) => write!(f, "{r}"),
            Scope::Under(r) if r.segments.is_empty() => write!(f, "{}/*", r.host),
            Scope::Under(r) => write!(f, "{r}/*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(scope: &str, name: &str) -> Option<Specificity> {
        Scope::parse(scope)
            .unwrap()
            .covers(&RepositoryName::parse(name))
    }

    #[test]
    fn scopes_match_whole_segments_only() {
        assert_eq!(
            covers("localhost:5000/models/*", "localhost:5000/models/llama"),
            Some(Specificity::Prefix(1))
        );
        assert_eq!(
            covers("localhost:5000/models/*", "localhost:5000/models/a/b/c"),
            Some(Specificity::Prefix(1))
        );
        for outside in [
            "localhost:5000/models-evil/llama",
            "localhost:5000/modelsx",
            "localhost:5000/models",
            "127.0.0.1:5000/models/llama",
            "localhost/models/llama",
        ] {
            assert_eq!(
                covers("localhost:5000/models/*", outside),
                None,
                "{outside}"
            );
        }
        assert_eq!(
            covers("localhost:5000/models/llama", "localhost:5000/models/llama"),
            Some(Specificity::Exact)
        );
        assert_eq!(
            covers(
                "localhost:5000/models/llama",
                "localhost:5000/models/llama2"
            ),
            None
        );
        assert_eq!(
            covers("localhost:5000/*", "localhost:5000/anything/x"),
            Some(Specificity::Prefix(0))
        );
        assert_eq!(covers("*", "ghcr.io/x/y"), Some(Specificity::All));
    }

    #[test]
    fn hosts_are_normalised_as_docker_reads_them() {
        assert!(covers("LOCALHOST:5000/models/*", "localhost:5000/models/x").is_some());
        assert!(covers("localhost:5000/models/*", "LocalHost:5000/models/x").is_some());
        for hub in [
            "docker.io/library/ubuntu",
            "index.docker.io/library/ubuntu",
            "registry-1.docker.io/library/ubuntu",
            "ubuntu",
            "docker.io/ubuntu",
        ] {
            assert_eq!(
                covers("docker.io/library/ubuntu", hub),
                Some(Specificity::Exact),
                "{hub}"
            );
        }
        assert!(covers("myorg/*", "docker.io/myorg/model").is_some());
        assert!(covers("myorg/*", "docker.io/library/model").is_none());
    }

    #[test]
    fn layout_scopes_name_absolute_directories() {
        let name = RepositoryName::layout(std::path::Path::new("/srv/models/layout"));
        assert_eq!(name.to_string(), "oci-layout:/srv/models/layout");
        assert_eq!(
            Scope::parse("oci-layout:/srv/models/layout")
                .unwrap()
                .covers(&name),
            Some(Specificity::Exact)
        );
        assert_eq!(
            Scope::parse("oci-layout:/srv/models/*")
                .unwrap()
                .covers(&name),
            Some(Specificity::Prefix(2))
        );
        assert!(
            Scope::parse("/srv/models/*")
                .unwrap()
                .covers(&name)
                .is_none()
        );
        assert!(Scope::parse("oci-layout:relative/dir").is_err());
    }

    #[test]
    fn stars_anywhere_but_a_whole_last_segment_are_refused() {
        for bad in [
            "localhost:5000/models*",
            "ghcr.io/*/model",
            "",
            "ghcr.io/a*/b",
            "localhost:5000/models/",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_1_prefixes_are_read_with_segment_boundaries() {
        let scopes = Scope::parse_v1("localhost:5000/models*").unwrap();
        let covered = |name: &str| {
            scopes
                .iter()
                .any(|s| s.covers(&RepositoryName::parse(name)).is_some())
        };
        assert!(covered("localhost:5000/models"));
        assert!(covered("localhost:5000/models/llama"));
        assert!(!covered("localhost:5000/models-evil/llama"));
        assert!(!covered("localhost:5000/modelsx"));
        assert_eq!(Scope::parse_v1("*").unwrap(), vec![Scope::All]);
        assert_eq!(
            Scope::parse_v1("localhost:5000/*").unwrap(),
            vec![Scope::parse("localhost:5000/*").unwrap()]
        );
    }
}
