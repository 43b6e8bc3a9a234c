//! The layering of `docs/architecture.md`, checked on the source: which part may name which crate
//! and which other part. A name counts where code uses it as a path (`tokio::spawn`,
//! `use clap::Parser`, `#[tokio::test]`, `crate::oci`), not in comments or in prose of strings.
//!
//! Together with the `--no-default-features` build in `scripts/test.sh`, this keeps the library
//! usable without the CLI, the server and the log.

use std::path::{Path, PathBuf};

/// One rule: files in `scope` must not name any of `forbidden`.
struct Rule {
    what: &'static str,
    scope: fn(&str) -> bool,
    forbidden: &'static [&'static str],
}

fn in_core(p: &str) -> bool {
    p.starts_with("src/core/")
}
fn in_library(p: &str) -> bool {
    !p.starts_with("src/cli/") && p != "src/main.rs"
}
fn in_library_outside_server(p: &str) -> bool {
    in_library(p) && p != "src/transparency/server.rs"
}
fn in_library_outside_log(p: &str) -> bool {
    in_library(p) && p != "src/transparency/log.rs"
}
fn in_compat(p: &str) -> bool {
    p.starts_with("src/compat/")
}
fn in_transparency(p: &str) -> bool {
    p.starts_with("src/transparency/")
}
fn in_oci(p: &str) -> bool {
    p.starts_with("src/oci/")
}
fn in_net(p: &str) -> bool {
    p == "src/net.rs"
}

const RULES: &[Rule] = &[
    Rule {
        what: "core is synchronous, offline and imports nothing above it",
        scope: in_core,
        forbidden: &[
            "tokio",
            "reqwest",
            "oci_client",
            "axum",
            "hyper",
            "hyper_util",
            "redb",
            "crate::oci",
            "crate::transparency",
            "crate::verify",
            "crate::net",
            "crate::compat",
            "crate::flows",
        ],
    },
    Rule {
        what: "the library has no CLI dependency (those are behind the `cli` feature)",
        scope: in_library,
        forbidden: &["clap", "anyhow", "indicatif"],
    },
    Rule {
        what: "only transparency/server.rs names the HTTP server crates (the `server` feature)",
        scope: in_library_outside_server,
        forbidden: &["axum", "hyper", "hyper_util"],
    },
    Rule {
        what: "only transparency/log.rs names redb (the `log` feature)",
        scope: in_library_outside_log,
        forbidden: &["redb"],
    },
    Rule {
        what: "compat builds on core only",
        scope: in_compat,
        forbidden: &[
            "crate::oci",
            "crate::transparency",
            "crate::verify",
            "crate::net",
            "crate::flows",
        ],
    },
    Rule {
        what: "transparency builds on core and net, never on OCI or verification",
        scope: in_transparency,
        forbidden: &[
            "crate::oci",
            "crate::verify",
            "crate::compat",
            "crate::flows",
        ],
    },
    Rule {
        what: "oci builds on core and net, never on transparency or verification",
        scope: in_oci,
        forbidden: &[
            "crate::transparency",
            "crate::verify",
            "crate::compat",
            "crate::flows",
        ],
    },
    Rule {
        what: "net is what HTTP clients share, below every part that speaks HTTP",
        scope: in_net,
        forbidden: &[
            "crate::core",
            "crate::oci",
            "crate::transparency",
            "crate::verify",
            "crate::compat",
            "crate::flows",
        ],
    },
];

/// Known breaks of a rule, each with the reason it stands: (file, name). None today.
const EXCEPTIONS: &[(&str, &str)] = &[];

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The line without its `//` comment. A `//` counts as a comment only at the start or after
/// whitespace, so the `//` of `https://` in a string does not hide the rest of the line.
fn code_of(line: &str) -> &str {
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if c == '/' && line[i..].starts_with("//") && prev.is_whitespace() {
            return &line[..i];
        }
        prev = c;
    }
    line
}

/// Whether `line` names `name` as code. A module path (`crate::oci`) counts wherever it stands
/// as a whole path segment; a crate name counts followed by `::`, or after `use` or
/// `extern crate`.
fn names(line: &str, name: &str) -> bool {
    let code = code_of(line);
    let mut from = 0;
    while let Some(at) = code[from..].find(name).map(|i| i + from) {
        from = at + name.len();
        let before = code[..at].chars().next_back();
        let after = &code[at + name.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        if after.chars().next().is_some_and(is_ident) {
            continue;
        }
        if name.contains("::") || after.starts_with("::") {
            return true;
        }
        let lead = code[..at].trim_end();
        if lead.ends_with("use") || lead.ends_with("extern crate") {
            return true;
        }
    }
    false
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_part_names_only_what_it_may() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    };
    // The rules must have something to judge: a moved directory would make them pass vacuously.
    for rule in RULES {
        assert!(
            files.iter().any(|f| (rule.scope)(&rel(f))),
            "no file is in the scope of the rule \"{}\": update tests/it/layering.rs",
            rule.what
        );
    }
    let mut broken = Vec::new();
    for file in &files {
        let path = rel(file);
        let text = std::fs::read_to_string(file).unwrap();
        for rule in RULES.iter().filter(|r| (r.scope)(&path)) {
            for name in rule.forbidden {
                if EXCEPTIONS.contains(&(path.as_str(), name)) {
                    continue;
                }
                for (n, line) in text.lines().enumerate() {
                    if names(line, name) {
                        broken.push(format!(
                            "{path}:{}: names {name}: {}\n    rule: {}",
                            n + 1,
                            line.trim(),
                            rule.what
                        ));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "layering broken (docs/architecture.md):\n{}",
        broken.join("\n")
    );
}

#[test]
fn every_exception_is_still_needed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for &(path, name) in EXCEPTIONS {
        let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        assert!(
            text.lines().any(|l| names(l, name)),
            "{path} no longer names {name}: remove the exception from tests/it/layering.rs"
        );
    }
}

#[test]
fn matcher_finds_paths_uses_and_attributes() {
    assert!(names("use tokio::sync::Mutex;", "tokio"));
    assert!(names(
        "    let rt = tokio::runtime::Builder::new_current_thread()",
        "tokio"
    ));
    assert!(names("#[tokio::test]", "tokio"));
    assert!(names("use clap;", "clap"));
    assert!(names("pub use anyhow::{Context, Result};", "anyhow"));
    assert!(names("extern crate redb;", "redb"));
    assert!(names("use crate::oci::verify;", "crate::oci"));
    assert!(names("let u = \"https://x\"; tokio::spawn(f);", "tokio"));
}

#[test]
fn matcher_ignores_comments_prose_and_longer_names() {
    assert!(!names("// core never touches tokio::spawn", "tokio"));
    assert!(!names("/// see `tokio::time::timeout`", "tokio"));
    assert!(!names("let x = 1; // tokio::spawn", "tokio"));
    assert!(!names("\"the tokio runtime failed\"", "tokio"));
    assert!(!names("use hyper_util::rt::TokioIo;", "hyper"));
    assert!(!names("let my_tokio::x", "tokio"));
    assert!(!names("use crate::oci_extra::x;", "crate::oci"));
    assert!(!names("use modelseal::core::x;", "core"));
}
