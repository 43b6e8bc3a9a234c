//! The README's journeys run as written (issue 19), so the README cannot drift from the binary.
//!
//! The convention, which README.md states too: every ```sh block runs, in order, in one bash
//! shell, from a scratch directory holding a copy of `examples/`; `localhost:5000` stands for the
//! test registry (`scripts/registry.sh`) and `127.0.0.1:8410` for a free port; a line that
//! starts `modelseal ts serve` is started in the background (and killed at the end); a command
//! that ends with `# expect failure` must fail; every other command must succeed. ```console
//! blocks (GHCR, ACR, your own paths) are not run.

use std::path::Path;
use std::process::{Command, Stdio};

/// The ```sh blocks of `markdown`, in order, as logical commands (continuation lines joined).
fn sh_commands(markdown: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_sh = !in_sh && fence.trim_end() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let command = std::mem::take(&mut pending);
        if !command.trim().is_empty() && !command.trim_start().starts_with('#') {
            commands.push(command);
        }
    }
    commands
}

/// The bash script that runs `commands`: each must succeed, or fail when marked so; `ts serve`
/// in the background, waited for, and killed when the script ends.
fn script(commands: &[String], ts_port: u16) -> String {
    let mut s = String::from(
        "set -u\nexport PATH\ntrap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT\nn=0\n",
    );
    for command in commands {
        n_line(&mut s, command);
        if command.trim_start().starts_with("modelseal ts serve") {
            // Its comment would swallow the `&`.
            let command = command.split(" #").next().unwrap_or_default().trim_end();
            let command = command.trim_end_matches('&');
            s.push_str(&format!(
                "{command} &\nfor i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/{ts_port}) 2>/dev/null && break; sleep 0.1; done\n"
            ));
        } else if let Some(body) = command.trim_end().strip_suffix("# expect failure") {
            s.push_str(&format!(
                "if {body}\nthen echo \"README: command $n should have failed\" >&2; exit 101; fi\n"
            ));
        } else {
            s.push_str(&format!(
                "{command}\nrc=$?; if [ $rc -ne 0 ]; then echo \"README: exit $rc from command $n\" >&2; exit 102; fi\n"
            ));
        }
    }
    s
}

fn n_line(s: &mut String, command: &str) {
    s.push_str(&format!(
        "n=$((n+1)); echo \"--- README command $n: {}\" >&2\n",
        command
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
            .replace('`', "\\`")
    ));
}

/// Kills the script's whole process group (bash, `ts serve`, any modelseal) when dropped, so a
/// panic or a timeout leaves nothing running.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn readme_sh_blocks_parse_into_commands() {
    let md = "text\n```sh\na \\\n  b   # note\n\n# only a comment\nc # expect failure\n```\n```console\nd\n```\n```sh\ne\n```\n";
    assert_eq!(
        sh_commands(md),
        ["a    b   # note", "c # expect failure", "e"]
    );
}

#[test]
fn readme_journeys_run_as_written() {
    let registry = std::env::var("MODELSEAL_TEST_REGISTRY").expect("run under scripts/registry.sh");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    // A repository prefix of its own: other tests share the registry.
    let stand_in = format!("{registry}/readme-{}", std::process::id());
    let ts_port = free_port();
    let readme = readme
        .replace("localhost:5000", &stand_in)
        .replace("127.0.0.1:8410", &format!("127.0.0.1:{ts_port}"));
    let commands = sh_commands(&readme);
    assert!(
        commands.iter().any(|c| c.contains("publish"))
            && commands.iter().any(|c| c.contains("pull --verify"))
            && commands.iter().any(|c| c.ends_with("# expect failure")),
        "the README's journeys are missing: {commands:#?}"
    );
    let scratch = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&root.join("examples"), &scratch.path().join("examples"));
    let bin_dir = assert_cmd::cargo::cargo_bin("modelseal")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new("bash")
            .arg("-c")
            .arg(script(&commands, ts_port))
            .current_dir(scratch.path())
            .env("PATH", path)
            .env("HOME", scratch.path()) // no policy or Docker config of the machine's
            .env_remove("MODELSEAL_POLICY")
            .env_remove("DOCKER_CONFIG")
            .env_remove("SOURCE_DATE_EPOCH")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let _group = Group(child.id());
    let (out, err) = {
        use std::io::Read;
        let (mut out, mut err) = (String::new(), String::new());
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            stdout.read_to_string(&mut out).unwrap();
            out
        });
        stderr.read_to_string(&mut err).unwrap();
        (reader.join().unwrap(), err)
    };
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the README's commands failed ({status}):\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    // The consumer's last word: the tampered file was refused, by name.
    assert!(
        out.contains("config.json") && out.contains('✘'),
        "verify-model did not name the tampered file:\n{out}"
    );
}

#[test]
fn a_command_marked_to_fail_that_succeeds_fails_the_script() {
    let run = |commands: &[&str]| {
        let commands: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
        Command::new("bash")
            .arg("-c")
            .arg(script(&commands, free_port()))
            .output()
            .unwrap()
    };
    assert!(run(&["true", "false # expect failure"]).status.success());
    assert_eq!(run(&["true # expect failure"]).status.code(), Some(101));
    assert_eq!(run(&["false", "true"]).status.code(), Some(102));
}
