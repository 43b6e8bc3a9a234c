//! `policy lint`: what in a policy file is wrong or surprising, each with its line — all of it at
//! once, where loading stops at the first error.

use super::Scope;
use super::load::{Document, read_document};
use serde::Serialize;
use std::path::Path;

/// One finding, at a line of the file (1-based; 0 when no line can be named).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line in the policy file; 0 when none can be named.
    pub line: usize,
    /// What is wrong or surprising there.
    pub message: String,
}

const POLICY_KEYS: [&str; 8] = [
    "name",
    "scopes",
    "level",
    "issuers",
    "transparency_services",
    "min_receipts",
    "required_profiles",
    "required_artifact_types",
];
const ISSUER_KEYS: [&str; 9] = [
    "kind",
    "key",
    "root",
    "iss",
    "sub",
    "identity",
    "identity_regexp",
    "oidc_issuer",
    "trusted_root",
];
const SERVICE_KEYS: [&str; 4] = ["name", "key", "trusted_root", "profile"];

/// Where things are in the text: `[[policy]]` blocks and the tables and keys inside them.
struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            lines: text.lines().collect(),
        }
    }

    fn header(line: &str) -> Option<&str> {
        let t = line.trim();
        t.strip_prefix("[[")
            .and_then(|r| r.split_once("]]"))
            .map(|(h, _)| h.trim())
    }

    /// The line range of the n-th `[[policy]]` block (0-based lines).
    fn policy_block(&self, n: usize) -> (usize, usize) {
        let starts: Vec<usize> = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| Self::header(l) == Some("policy"))
            .map(|(i, _)| i)
            .collect();
        let start = starts.get(n).copied().unwrap_or(0);
        let end = starts.get(n + 1).copied().unwrap_or(self.lines.len());
        (start, end)
    }

    /// The n-th `[[policy.<table>]]` header inside policy block `p`, as a range to its end.
    fn table(&self, p: usize, table: &str, n: usize) -> (usize, usize) {
        let (start, end) = self.policy_block(p);
        let want = format!("policy.{table}");
        let headers: Vec<usize> = (start..end)
            .filter(|&i| Self::header(self.lines[i]).is_some())
            .collect();
        let mine: Vec<usize> = headers
            .iter()
            .copied()
            .filter(|&i| Self::header(self.lines[i]) == Some(want.as_str()))
            .collect();
        let Some(&at) = mine.get(n) else {
            return (start, end);
        };
        let next = headers.iter().copied().find(|&i| i > at).unwrap_or(end);
        (at, next)
    }

    /// 1-based line of `key =` within a range, else the range's first line.
    fn key(&self, (start, end): (usize, usize), key: &str) -> usize {
        (start..end)
            .find(|&i| {
                let t = self.lines[i].trim_start();
                t.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            })
            .unwrap_or(start)
            + 1
    }

    /// 1-based line of the first line in a range that mentions `needle`.
    fn mention(&self, (start, end): (usize, usize), needle: &str) -> usize {
        (start..end)
            .find(|&i| self.lines[i].contains(needle))
            .unwrap_or(start)
            + 1
    }
}

/// Lints a policy file. An unreadable or unparsable file is one finding (at the line the TOML
/// parser names, when it does).
pub fn lint(path: &Path) -> Vec<Finding> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![Finding {
                line: 0,
                message: format!("cannot read: {e}"),
            }];
        }
    };
    let lines = Lines::new(&text);
    let mut findings = unknown_keys(&text, &lines);
    match read_document(path) {
        Ok((_, doc)) => findings.extend(document_findings(&doc, &lines)),
        Err(e) if findings.is_empty() => findings.push(Finding {
            line: toml_error_line(&text).unwrap_or(0),
            message: e.to_string(),
        }),
        Err(_) => {} // unknown keys already explain why it does not parse
    }
    // Whatever else would stop it loading (unreadable keys, bad profiles).
    if findings.is_empty()
        && let Err(e) = super::TrustPolicy::load(path)
    {
        findings.push(Finding {
            line: 0,
            message: e.to_string(),
        });
    }
    findings.sort_by_key(|f| f.line);
    findings
}

fn toml_error_line(text: &str) -> Option<usize> {
    let err = toml::from_str::<toml::Table>(text).err()?;
    let span = err.span()?;
    Some(text[..span.start].lines().count().max(1))
}

fn unknown_keys(text: &str, lines: &Lines) -> Vec<Finding> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let unknown = |key: &str, allowed: &[&str], line: usize, within: &str| Finding {
        line,
        message: format!(
            "unknown key '{key}' in {within} (known: {})",
            allowed.join(", ")
        ),
    };
    for key in table.keys() {
        if !["version", "policy"].contains(&key.as_str()) {
            out.push(unknown(
                key,
                &["version", "policy"],
                lines.key((0, lines.lines.len()), key),
                "the document",
            ));
        }
    }
    let policies = table
        .get("policy")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    for (p, policy) in policies.iter().enumerate() {
        let Some(policy) = policy.as_table() else {
            continue;
        };
        for key in policy.keys() {
            if !POLICY_KEYS.contains(&key.as_str()) {
                out.push(unknown(
                    key,
                    &POLICY_KEYS,
                    lines.key(lines.policy_block(p), key),
                    "[[policy]]",
                ));
            }
        }
        for (table, allowed) in [
            ("issuers", &ISSUER_KEYS[..]),
            ("transparency_services", &SERVICE_KEYS[..]),
        ] {
            let entries = policy
                .get(table)
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            for (n, entry) in entries.iter().enumerate() {
                for key in entry
                    .as_table()
                    .map(|t| t.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    if !allowed.contains(&key.as_str()) {
                        out.push(unknown(
                            &key,
                            allowed,
                            lines.key(lines.table(p, table, n), &key),
                            &format!("[[policy.{table}]]"),
                        ));
                    }
                }
            }
        }
    }
    out
}

fn document_findings(doc: &Document, lines: &Lines) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen: Vec<(Scope, String, usize)> = Vec::new();
    for (p, spec) in doc.policies.iter().enumerate() {
        let block = lines.policy_block(p);
        let skip = spec.level == Some(super::Level::Skip);
        for text in &spec.scopes {
            let line = lines.mention(block, &format!("\"{text}\""));
            let parsed = if doc.version == 1 {
                Scope::parse_v1(text)
            } else {
                Scope::parse(text).map(|s| vec![s])
            };
            let parsed = match parsed {
                Ok(p) => p,
                Err(e) => {
                    out.push(Finding {
                        line,
                        message: format!("policy '{}': scope {e}", spec.name),
                    });
                    continue;
                }
            };
            if doc.version == 1 && text.ends_with('*') && text != "*" && !text.ends_with("/*") {
                out.push(Finding {
                    line,
                    message: format!(
                        "policy '{}': version-1 scope '{text}' is read by whole segments ({}); version 2 writes that explicitly",
                        spec.name,
                        parsed.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" and ")
                    ),
                });
            }
            for scope in parsed {
                if skip && scope == Scope::All {
                    out.push(Finding {
                        line: lines.key(block, "level"),
                        message: format!(
                            "policy '{}': level \"skip\" on the \"*\" scope would verify nothing anywhere",
                            spec.name
                        ),
                    });
                }
                if let Some((_, owner, at)) = seen.iter().find(|(s, _, _)| *s == scope) {
                    out.push(Finding {
                        line,
                        message: format!(
                            "policy '{}': scope {scope} is unreachable: policy '{owner}' (line {at}) has the same scope",
                            spec.name
                        ),
                    });
                } else {
                    seen.push((scope, spec.name.clone(), line));
                }
            }
        }
        if spec.issuers.is_empty() && !skip {
            out.push(Finding {
                line: block.0 + 1,
                message: format!("policy '{}': no issuers, so nothing can pass it", spec.name),
            });
        }
        for (n, issuer) in spec.issuers.iter().enumerate() {
            let did = issuer
                .iss
                .as_deref()
                .is_some_and(|i| i.starts_with("did:x509:"));
            let sigstore = issuer.kind.as_deref() == Some(super::load::SIGSTORE_KIND);
            if issuer.kind.as_deref() == Some(super::load::COSIGN_KIND) && issuer.key.is_none() {
                out.push(Finding {
                    line: lines.table(p, "issuers", n).0 + 1,
                    message: format!(
                        "policy '{}': issuer {} is a cosign issuer without a key",
                        spec.name,
                        n + 1
                    ),
                });
            } else if sigstore {
                if let Some(re) = &issuer.identity_regexp
                    // The start of an identity (URI scheme and host, or the mailbox) is what
                    // pins the signer; a wildcard there admits anyone the provider vouches for.
                    && (re.starts_with(".*") || re.starts_with(".+") || re.starts_with("^.*"))
                {
                    out.push(Finding {
                        line: lines.table(p, "issuers", n).0 + 1,
                        message: format!(
                            "policy '{}': issuer {} identity_regexp {re} starts with a wildcard, so it admits identities anyone the OIDC issuer vouches for can have: pin the host and organisation (or the mailbox)",
                            spec.name,
                            n + 1
                        ),
                    });
                }
            } else if issuer.key.is_none() && issuer.root.is_none() && !did {
                out.push(Finding {
                    line: lines.table(p, "issuers", n).0 + 1,
                    message: format!(
                        "policy '{}': issuer {} has no identity (a key, a root, or a did:x509 iss)",
                        spec.name,
                        n + 1
                    ),
                });
            }
        }
        if !spec.transparency_services.is_empty()
            && spec.min_receipts == 0
            && spec.required_profiles.is_empty()
        {
            out.push(Finding {
                line: lines.key(block, "min_receipts"),
                message: format!(
                    "policy '{}': transparency services are listed but never required (min_receipts = 0): their receipts are checked, a statement without any still passes",
                    spec.name
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pub");
        std::fs::write(&key, "unused").unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(
            &path,
            r#"version = 2

[[policy]]
name = "a"
scopes = ["*"]
level = "skip"
colour = "blue"

[[policy]]
name = "b"
scopes = ["*", "ghcr.io/org/*"]
min_receipts = 0
[[policy.issuers]]
sub = "x"
[[policy.transparency_services]]
name = "log"
key = "k.pub"
"#,
        )
        .unwrap();
        fn at(found: &[Finding], line: usize, text: &str) {
            assert!(
                found
                    .iter()
                    .any(|f| f.line == line && f.message.contains(text)),
                "no finding at line {line} with '{text}': {found:#?}"
            )
        }
        let found = lint(&path);
        at(&found, 7, "unknown key 'colour'");
        // The document does not parse with the unknown key: fix it and lint again.
        let fixed = std::fs::read_to_string(&path)
            .unwrap()
            .replace("colour = \"blue\"\n", "");
        std::fs::write(&path, fixed).unwrap();
        let found = lint(&path);
        at(&found, 6, "skip");
        at(&found, 10, "unreachable");
        at(&found, 12, "no identity");
        at(&found, 11, "never required");
    }
}
