//! Spellings of the previous release, rewritten to the current flags before clap parses the
//! command line, each with a one-line warning on stderr (kept for one release).
//!
//! The convention now, as oras has it: `-o/--output PATH` is where a command writes (a file, or
//! pull's directory) and `--format text|json` is the style of its report. Before, `--output
//! text|json` was the style (on every command), `sign --format` chose a COSE statement or a
//! Sigstore bundle, and `push/publish --format` a model manifest or a ModelPack artifact.

use std::ffi::OsString;

/// Global flags that take a value, so that their value is not taken for the command's name.
const GLOBAL_WITH_VALUE: [&str; 3] = ["--format", "--timeout", "--output"];

/// `args` (the program name first) with the deprecated spellings replaced, and a warning for each.
pub fn rewrite(args: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut warnings = Vec::new();
    let mut command: Option<String> = None;
    let mut iter = args.into_iter();
    out.extend(iter.next());
    let mut rest: Vec<OsString> = iter.collect();
    rest.reverse(); // popped from the end: the next argument is last
    while let Some(arg) = rest.pop() {
        let Some(text) = arg.to_str().map(str::to_string) else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(rest.into_iter().rev());
            break;
        }
        // `--flag value` or `--flag=value`.
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (text.clone(), None),
        };
        let next_value = |rest: &Vec<OsString>| -> Option<String> {
            inline
                .clone()
                .or_else(|| rest.last().and_then(|v| v.to_str()).map(str::to_string))
        };
        let take_value = |rest: &mut Vec<OsString>| {
            if inline.is_none() {
                rest.pop();
            }
        };
        let replacement: Option<(Vec<String>, String)> = match (flag.as_str(), command.as_deref())
        {
            ("--output", _) => match next_value(&rest).as_deref() {
                Some(style @ ("json" | "text")) => Some((
                    vec!["--format".into(), style.into()],
                    format!(
                        "`--output {style}` is deprecated: use `--format {style}` (-o/--output names a file or directory; this alias goes in the next release)"
                    ),
                )),
                _ => None,
            },
            ("--format", Some("sign")) => match next_value(&rest).as_deref() {
                Some("sigstore-bundle") => Some((
                    vec!["--sigstore-bundle".into()],
                    "`sign --format sigstore-bundle` is deprecated: use `sign --sigstore-bundle` (--format is the report's style)".into(),
                )),
                Some("cose") => Some((
                    Vec::new(),
                    "`sign --format cose` is deprecated: a COSE statement is the default (--format is the report's style)".into(),
                )),
                _ => None,
            },
            ("--format", Some(cmd @ ("push" | "publish"))) => {
                match next_value(&rest).as_deref() {
                    Some("modelpack") => Some((
                        vec!["--modelpack".into()],
                        format!(
                            "`{cmd} --format modelpack` is deprecated: use `{cmd} --modelpack` (--format is the report's style)"
                        ),
                    )),
                    Some("manifest") => Some((
                        Vec::new(),
                        format!(
                            "`{cmd} --format manifest` is deprecated: a model manifest artifact is the default (--format is the report's style)"
                        ),
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((words, warning)) = replacement {
            take_value(&mut rest);
            out.extend(words.into_iter().map(OsString::from));
            warnings.push(warning);
            continue;
        }
        if command.is_none() {
            if GLOBAL_WITH_VALUE.contains(&flag.as_str()) && inline.is_none() {
                out.push(arg);
                out.extend(rest.pop());
                continue;
            }
            if !text.starts_with('-') {
                command = Some(text);
            }
        }
        out.push(arg);
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    fn run(line: &str) -> (String, Vec<String>) {
        let args = std::iter::once("modelseal")
            .chain(line.split_whitespace())
            .map(Into::into)
            .collect();
        let (out, warnings) = rewrite(args);
        let out: Vec<String> = out[1..]
            .iter()
            .map(|a| a.to_str().unwrap().to_string())
            .collect();
        (out.join(" "), warnings)
    }

    #[test]
    fn output_json_or_text_becomes_format_with_a_warning() {
        for (old, new) in [
            ("--output json hash m", "--format json hash m"),
            ("hash --output text m", "hash --format text m"),
            ("discover r --output=json", "discover r --format json"),
            (
                "--quiet --output json pull r -o d",
                "--quiet --format json pull r -o d",
            ),
        ] {
            let (line, warnings) = run(old);
            assert_eq!(line, new, "{old}");
            assert_eq!(warnings.len(), 1, "{old}");
            assert!(warnings[0].contains("use `--format"), "{}", warnings[0]);
        }
    }

    #[test]
    fn output_as_a_path_and_current_flags_are_left_alone() {
        for line in [
            "hash m --output manifest.json",
            "hash m -o json",
            "pull r --output ./json",
            "--format json discover r",
            "--timeout 5 sign m --format-x y",
            "verify s -- --output json",
            "--format json sign m",
        ] {
            let (out, warnings) = run(line);
            assert_eq!(out, line);
            assert!(warnings.is_empty(), "{line}: {warnings:?}");
        }
    }

    #[test]
    fn old_artifact_and_signature_formats_become_their_flags() {
        for (old, new) in [
            (
                "sign m --format sigstore-bundle -o s",
                "sign m --sigstore-bundle -o s",
            ),
            ("sign m --format=cose -o s", "sign m -o s"),
            ("push --format modelpack d r", "push --modelpack d r"),
            (
                "--output json publish m r --format modelpack",
                "--format json publish m r --modelpack",
            ),
            ("publish m r --format manifest", "publish m r"),
        ] {
            let (line, warnings) = run(old);
            assert_eq!(line, new, "{old}");
            assert!(!warnings.is_empty(), "{old}");
        }
        // Before the command, or on another command, --format is the style.
        assert_eq!(run("--format json push d r").0, "--format json push d r");
        assert_eq!(
            run("discover r --format table").0,
            "discover r --format table"
        );
    }
}
