//! Everything the CLI shows: reports as text or JSON on stdout, messages and progress on stderr.
//! Progress bars appear only when stderr is a terminal and `--quiet` is off.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use modelseal::core::manifest::{CheckReport, Progress};
use modelseal::flows::{Registration, Step, TreeVerdict};
use modelseal::oci::target::TransferProgress;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Duration;

/// `--format`: how reports look. `-o/--output` is always a path; this is the style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: lines, trees (`tree` is the same, as oras spells it for discover).
    #[value(alias = "tree")]
    Text,
    /// For scripts: one JSON document on stdout.
    Json,
    /// `discover` only: one referrer per row.
    Table,
}

pub struct Output {
    format: Format,
    quiet: bool,
}

impl Output {
    pub fn new(format: Format, quiet: bool) -> Self {
        Output { format, quiet }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// The style asked for with `--format`.
    pub fn format(&self) -> Format {
        self.format
    }

    /// An informational line on stderr (suppressed by `--quiet`, and in JSON mode).
    pub fn info(&self, msg: impl std::fmt::Display) {
        if !self.quiet && !self.is_json() {
            eprintln!("{msg}");
        }
    }

    /// A JSON value on stdout, for `--format json`. A reader that stopped reading (`| head`)
    /// ends the output quietly, not with a panic.
    pub fn json(&self, value: &impl Serialize) {
        use std::io::Write as _;
        let text = serde_json::to_string_pretty(value).expect("report serialises");
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// The error and each of its causes, one per line; a cause whose words the line above
    /// already holds (library errors often quote their source) is not printed twice.
    pub fn error(&self, err: &anyhow::Error) {
        eprintln!("error: {err}");
        let mut above = err.to_string();
        for cause in err.chain().skip(1) {
            let text = cause.to_string();
            if !above.contains(&text) {
                eprintln!("  caused by: {text}");
            }
            above = text;
        }
        if let Some(hint) = hint_for(err) {
            eprintln!("  hint: {hint}");
        }
    }

    /// A byte-counting progress bar for hashing.
    pub fn hashing_progress(&self, label: &'static str) -> BytesProgress {
        let bar = if self.quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>8} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        };
        BytesProgress(bar)
    }

    pub fn check_report(&self, report: &CheckReport, manifest: &str, model: &str) {
        if self.is_json() {
            #[derive(Serialize)]
            struct Json<'a> {
                ok: bool,
                manifest: &'a str,
                model: &'a str,
                #[serde(flatten)]
                report: &'a CheckReport,
            }
            return self.json(&Json {
                ok: report.is_match(),
                manifest,
                model,
                report,
            });
        }
        if report.subject_mismatch {
            sayln!(
                "✘ {manifest}: subject digest does not match the manifest's own resources (edited manifest)"
            );
        }
        for (label, files) in [
            ("modified", &report.modified),
            ("missing", &report.missing),
            ("extra", &report.extra),
        ] {
            for f in files {
                sayln!("✘ {label}: {f}");
            }
        }
        if report.is_match() {
            sayln!("✔ {model} matches {manifest} ({} files)", report.matched);
        } else {
            sayln!(
                "✘ {model} does not match {manifest}: {} modified, {} missing, {} extra, {} matching",
                report.modified.len(),
                report.missing.len(),
                report.extra.len(),
                report.matched
            );
        }
    }
}

impl Output {
    /// A verification report: one line per check (✔ pass, ✘ fail, – skipped), then the verdict.
    pub fn verify_report(&self, report: &modelseal::core::verify::Report, file: &str) {
        if self.is_json() {
            return self.json(report);
        }
        sayln!("{file}: {}", report.kind.name());
        if report.issuer.is_some() || report.subject.is_some() {
            sayln!(
                "  issuer {}, subject {}",
                report.issuer.as_deref().unwrap_or("-"),
                report.subject.as_deref().unwrap_or("-")
            );
        }
        for check in &report.verdict.checks {
            sayln!("{} {}: {}", mark(check.outcome), check.what, check.detail);
        }
        if report.verified {
            sayln!("✔ verified");
        } else {
            let failed: Vec<&str> = report.verdict.failures().map(|c| c.what.as_str()).collect();
            sayln!("✘ NOT verified: failed {}", failed.join(", "));
        }
    }
}

impl Output {
    /// Bars for a transfer: one per blob in flight and a total, on a terminal only.
    pub fn transfer_progress(&self, label: &'static str) -> TransferBars {
        let multi = if self.quiet || !std::io::stderr().is_terminal() {
            indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        } else {
            indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::stderr())
        };
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "{msg:>8} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        total.set_message(label);
        TransferBars { multi, total }
    }
}

/// `n` bytes in the largest binary unit that keeps it ≥ 1.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl Output {
    /// One informational line on what moved: new bytes apart from resumed, resent and reused
    /// ones. Said only when something was resumed, resent, reused or mounted.
    pub fn transfer_summary(&self, t: modelseal::oci::registry::TransferCounts) {
        if self.is_json() || (t.resent == 0 && t.resumed == 0 && t.reused == 0) {
            return;
        }
        self.info(format!(
            "transfer: sent {} (resent after cuts {}), received {} (resumed from disk {}), reused {} ({} blob(s) mounted)",
            human_bytes(t.sent),
            human_bytes(t.resent),
            human_bytes(t.received),
            human_bytes(t.resumed),
            human_bytes(t.reused),
            t.mounted
        ));
    }
}

pub struct TransferBars {
    multi: indicatif::MultiProgress,
    total: ProgressBar,
}

impl TransferProgress for TransferBars {
    fn total(&self, bytes: u64) {
        self.total.set_length(bytes);
    }

    fn blob(&self, name: &str, size: u64) -> modelseal::oci::target::OnBytes {
        self.bar(name, size, 0)
    }

    fn blob_resumed(&self, name: &str, size: u64, resumed: u64) -> modelseal::oci::target::OnBytes {
        self.bar(name, size, resumed)
    }
}

impl TransferBars {
    fn bar(&self, name: &str, size: u64, resumed: u64) -> modelseal::oci::target::OnBytes {
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template("  {msg:30!} [{bar:20}] {bytes}/{total_bytes}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        if resumed > 0 {
            bar.set_message(format!("{name} (resumed {})", human_bytes(resumed)));
            bar.set_position(resumed);
            self.total.inc(resumed);
        } else {
            bar.set_message(name.to_string());
        }
        let total = self.total.clone();
        std::sync::Arc::new(move |n| {
            bar.inc(n);
            total.inc(n);
            if bar.position() >= bar.length().unwrap_or(u64::MAX) {
                bar.finish_and_clear();
            }
        })
    }
}

impl Drop for TransferBars {
    fn drop(&mut self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Output {
    /// `discover --verify`: the subject, each referrer with ✔/✘ (statements) or · (not judged),
    /// the checks under each statement, then the policy's verdict.
    pub fn tree_verdict(&self, v: &TreeVerdict) {
        if self.is_json() {
            return self.json(v);
        }
        let mut nodes: Vec<TreeNode> = v
            .referrers
            .iter()
            .map(|r| TreeNode {
                label: format!(
                    "{} {} {}",
                    match &r.statement {
                        Some(s) if s.verified => "✔",
                        Some(_) => "✘",
                        None => "·",
                    },
                    r.artifact_type,
                    r.digest
                ),
                notes: r
                    .statement
                    .iter()
                    .flat_map(|s| &s.verdict.checks)
                    .map(|c| format!("{} {}: {}", mark(c.outcome), c.what, c.detail))
                    .collect(),
                children: Vec::new(),
            })
            .collect();
        nodes.extend(v.cosign.iter().map(|c| cosign_node(c, true)));
        say!(
            "{}",
            draw_tree(&format!("{}  (policy {})", v.subject, v.policy), &nodes)
        );
        if v.verified {
            sayln!("✔ policy met");
        } else if v.enforced {
            sayln!("✘ policy NOT met: {}", v.reasons.join("; "));
        } else {
            sayln!(
                "⚠ policy NOT met (level {}: reported, not enforced): {}",
                v.level.name(),
                v.reasons.join("; ")
            );
        }
    }
}

/// ✔ pass, ✘ fail, – skipped.
fn mark(outcome: modelseal::core::verdict::Outcome) -> &'static str {
    use modelseal::core::verdict::Outcome;
    match outcome {
        Outcome::Pass => "✔",
        Outcome::Fail => "✘",
        Outcome::Skipped => "–",
    }
}

/// A line of a tree: its label, lines shown under it without branches (a statement's checks),
/// and its children.
pub struct TreeNode {
    pub label: String,
    pub notes: Vec<String>,
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    pub fn leaf(label: impl Into<String>) -> Self {
        TreeNode {
            label: label.into(),
            notes: Vec::new(),
            children: Vec::new(),
        }
    }
}

/// The one tree drawing of the CLI (`discover`, `discover --verify`, `publish`): the root, then
/// each node under `├──`/`└──`, as oras draws referrers.
pub fn draw_tree(root: &str, nodes: &[TreeNode]) -> String {
    fn draw(nodes: &[TreeNode], prefix: &str, out: &mut String) {
        for (i, n) in nodes.iter().enumerate() {
            let (branch, pad) = if i + 1 == nodes.len() {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            out.push_str(&format!("{prefix}{branch}{}\n", n.label));
            for note in &n.notes {
                out.push_str(&format!("{prefix}{pad}    {note}\n"));
            }
            draw(&n.children, &format!("{prefix}{pad}"), out);
        }
    }
    let mut out = format!("{root}\n");
    draw(nodes, "", &mut out);
    out
}

impl modelseal::flows::Progress for Output {
    fn step(&self, step: Step) {
        self.info(format!("== {step}"));
    }

    fn hashing(&self) -> Box<dyn Progress + '_> {
        Box::new(self.hashing_progress("hashing"))
    }

    fn transfer(&self, label: &'static str) -> Box<dyn TransferProgress + '_> {
        Box::new(self.transfer_progress(label))
    }

    fn registered(&self, r: &Registration) {
        for pem in &r.fetched_keys {
            self.info(format!(
                "{}: service key fetched on first use, pin it with --ts-key:\n{pem}",
                r.service
            ));
        }
        match (r.entry, r.log_size) {
            (Some(entry), Some(size)) => self.info(format!(
                "registered with {}: entry {entry} of {size}",
                r.service
            )),
            _ => self.info(format!("registered with {}", r.service)),
        }
    }
}

/// One cosign signature or attestation in a tree: ✔/✘ when judged (· when not), its tag, what
/// it says, and an attestation's SLSA lineage.
pub fn cosign_node(c: &modelseal::oci::cosign::CosignVerdict, judged: bool) -> TreeNode {
    let mark = match (judged, c.verified) {
        (false, _) => "·",
        (true, true) => "✔",
        (true, false) => "✘",
    };
    let what = match &c.predicate_type {
        Some(p) => format!("cosign {} ({p})", c.kind.name()),
        None => format!("cosign {}", c.kind.name()),
    };
    let mut notes = vec![c.detail.clone()];
    if let Some(p) = &c.provenance {
        notes.extend(p.builder.iter().map(|b| format!("builder: {b}")));
        notes.extend(p.build_type.iter().map(|t| format!("build type: {t}")));
        notes.extend(p.materials.iter().map(|m| format!("material: {m}")));
    }
    TreeNode {
        label: format!("{mark} {what} {}  [tag {}]", c.digest, c.tag),
        notes,
        children: Vec::new(),
    }
}

/// A path as every command prints it, in text and JSON alike: relative to the current
/// directory when it lies under it, else absolute.
pub fn shown_path(path: &std::path::Path) -> String {
    let Ok(abs) = std::path::absolute(path) else {
        return path.display().to_string();
    };
    let cwd = std::env::current_dir().ok();
    match cwd.as_deref().and_then(|c| abs.strip_prefix(c).ok()) {
        Some(rel) if rel.as_os_str().is_empty() => ".".into(),
        Some(rel) => rel.display().to_string(),
        None => abs.display().to_string(),
    }
}

/// What to try next, for failures a newcomer meets first: nothing listening, a host name that
/// does not resolve, plain HTTP spoken to an HTTPS port and the reverse.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    if err
        .chain()
        .any(|c| c.downcast_ref::<super::trust::MissingKey>().is_some())
    {
        return Some(
            "make a key pair with `modelseal key generate -o NAME` (NAME.key signs, NAME.pub verifies), or fix the path",
        );
    }
    let text = err
        .chain()
        .map(|c| c.to_string().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    if text.contains("connection refused") {
        Some(
            "nothing is listening there: is the registry (or service) running, and is the port right?",
        )
    } else if text.contains("dns error") || text.contains("failed to lookup address") {
        Some(
            "the host name does not resolve: check the spelling (a reference is host[:port]/repository[:tag])",
        )
    } else if text.contains("invalid http version") || text.contains("wrong version number") {
        Some(
            "HTTP and HTTPS mixed up: --plain-http for a registry that speaks plain HTTP, none for HTTPS",
        )
    } else {
        None
    }
}

/// Adapts an indicatif bar to the core's progress callback.
pub struct BytesProgress(ProgressBar);

impl Progress for BytesProgress {
    fn start(&self, total_bytes: u64) {
        self.0.set_length(total_bytes);
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

impl Drop for BytesProgress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
