//! The claims a policy requires of a statement (`iss`, `sub`), bound to the reference it is
//! verified for: exact strings, globs (`*` matches any run of characters), and templates with
//! `{registry}`, `{repository}` and `{tag}` expanded from that reference. With
//! `sub = "{repository}:{tag}"`, a statement for `models/llama:v1` cannot pass as
//! `models/llama:v2` (a re-tag) or as `models/toy:v1` (another repository's statement).

use super::scope::{LAYOUT_HOST, RepositoryName};
use std::path::Path;

/// The artifact being verified, as the user named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactRef {
    /// The repository: host and path (a layout's absolute directory under `oci-layout:`).
    pub name: RepositoryName,
    /// The tag, when the reference has one.
    pub tag: Option<String>,
    /// The digest (`sha256:<hex>`), when the reference pins one.
    pub digest: Option<String>,
}

impl ArtifactRef {
    /// `host/repo[:tag][@digest]`, or with `oci_layout` `DIR[:tag|@digest]` (made absolute).
    pub fn parse(reference: &str, oci_layout: bool) -> Self {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (reference, None),
        };
        let (base, tag) = match rest.rsplit_once(':') {
            // A colon followed by a path is a port (host:5000/repo), not a tag.
            Some((base, tag)) if !tag.contains('/') && !tag.is_empty() => {
                (base, Some(tag.to_string()))
            }
            _ => (rest, None),
        };
        let name = if oci_layout {
            let dir = std::path::absolute(Path::new(base)).unwrap_or_else(|_| base.into());
            RepositoryName::layout(&dir)
        } else {
            RepositoryName::parse(base)
        };
        ArtifactRef { name, tag, digest }
    }

    /// `{registry}`: the host, or `oci-layout` for a layout.
    pub fn registry(&self) -> &str {
        if self.name.host == LAYOUT_HOST {
            "oci-layout"
        } else {
            &self.name.host
        }
    }

    /// `{repository}`: the repository path without the host; for a layout, the directory's name
    /// (so that a layout keeps its meaning when it is moved).
    pub fn repository(&self) -> String {
        if self.name.host == LAYOUT_HOST {
            return self.name.segments.last().cloned().unwrap_or_default();
        }
        self.name.path()
    }
}

/// A required claim value: exact, glob, or template (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct ClaimPattern(String);

const PLACEHOLDERS: [&str; 3] = ["{registry}", "{repository}", "{tag}"];

impl ClaimPattern {
    /// Checks the template syntax: only the three placeholders, braces nowhere else.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rest = text.to_string();
        for p in PLACEHOLDERS {
            rest = rest.replace(p, "");
        }
        if rest.contains('{') || rest.contains('}') {
            return Err(format!(
                "'{text}': the only placeholders are {{registry}}, {{repository}} and {{tag}}"
            ));
        }
        Ok(ClaimPattern(text.to_string()))
    }

    /// The pattern as written in the policy.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it has a `{registry}`, `{repository}` or `{tag}` placeholder.
    pub fn is_template(&self) -> bool {
        PLACEHOLDERS.iter().any(|p| self.0.contains(p))
    }

    /// The pattern with the reference's values put in. A `{tag}` needs a tag: a statement
    /// verified by digest cannot be bound to the tag it was published under.
    pub fn expand(&self, artifact: &ArtifactRef) -> Result<String, String> {
        let mut out = self
            .0
            .replace("{registry}", artifact.registry())
            .replace("{repository}", &artifact.repository());
        if out.contains("{tag}") {
            let Some(tag) = &artifact.tag else {
                return Err(format!(
                    "the policy binds statements to the tag ('{}'), and {} names no tag: verify by tag (REPO:TAG), not by digest",
                    self.0, artifact.name
                ));
            };
            out = out.replace("{tag}", tag);
        }
        Ok(out)
    }

    /// Whether `value` is what the policy requires for `artifact`; `Err` when the pattern cannot
    /// be applied to it (a `{tag}` on a by-digest reference).
    pub fn matches(&self, value: &str, artifact: &ArtifactRef) -> Result<bool, String> {
        Ok(glob(&self.expand(artifact)?, value))
    }
}

/// `*` matches any run of characters (including `/` and none); everything else is literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_of_any_characters() {
        assert!(glob("https://*.example.com", "https://ci.example.com"));
        assert!(glob("models/*", "models/a/b"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "abc"));
        assert!(glob("a*b*c", "a-x-b-y-c"));
        assert!(!glob("a*b*c", "a-x-c"));
        assert!(!glob("ab*ba", "aba"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn templates_bind_the_subject_to_the_reference() {
        let sub = ClaimPattern::parse("{repository}:{tag}").unwrap();
        let v2 = ArtifactRef::parse("localhost:5000/models/llama:v2", false);
        assert!(sub.matches("models/llama:v2", &v2).unwrap());
        assert!(!sub.matches("models/llama:v1", &v2).unwrap());
        let toy = ArtifactRef::parse("localhost:5000/models/llama:latest", false);
        assert!(!sub.matches("models/toy:latest", &toy).unwrap());
        let by_digest = ArtifactRef::parse(
            &format!("localhost:5000/models/llama@sha256:{}", "a".repeat(64)),
            false,
        );
        let err = sub.matches("models/llama:v1", &by_digest).unwrap_err();
        assert!(err.contains("verify by tag"), "{err}");
        let reg = ClaimPattern::parse("{registry}/{repository}").unwrap();
        assert_eq!(
            reg.expand(&ArtifactRef::parse("LocalHost:5000/models/llama:v1", false))
                .unwrap(),
            "localhost:5000/models/llama"
        );
        assert!(ClaimPattern::parse("{repo}").is_err());
        assert!(ClaimPattern::parse("{tag").is_err());
    }

    #[test]
    fn layouts_expand_to_their_directory_name() {
        let r = ArtifactRef::parse("/srv/layouts/tiny:v1", true);
        assert_eq!(r.registry(), "oci-layout");
        assert_eq!(r.repository(), "tiny");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.name.to_string(), "oci-layout:/srv/layouts/tiny");
    }
}
