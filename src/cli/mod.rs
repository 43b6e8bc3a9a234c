//! The `modelseal` command line: argument parsing and dispatch. Each command lives in its own file
//! and hands its result to `output`; `main` turns the outcome into an exit code (see README).

/// `print!` for reports on stdout, but a reader that stopped reading (`modelseal discover | head`)
/// is not an error: the rest is dropped, the exit code stays the outcome's (`print!` panics).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` as [`say!`] is `print!`.
macro_rules! sayln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod artifact;
mod attach;
mod backup;
mod copy;
mod discover;
mod hash;
mod hmac;
mod ignore;
mod key;
mod legacy;
mod login;
mod manifest;
mod modelpack;
mod output;
mod policy;
mod print_cose;
mod publish;
mod pull;
mod push;
mod restore;
mod seal;
mod sign;
mod signer;
mod staple;
mod target;
mod trust;
mod ts;
mod verify;
mod verify_model;

use clap::{Parser, Subcommand};
use output::{Format, Output};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "modelseal",
    version,
    about = "Make an ML model's supply chain verifiable: manifests, signed statements, transparency, OCI",
    after_help = "Flags: -o/--output PATH is where a command writes (a file; for pull, a directory); \
                  --format text|json is the style of its report (table too for discover), as in oras. \
                  `--output json|text` still selects the style, with a warning, for one release.\n\n\
                  Exit codes: 0 success, 1 verification failed (the model or a signature does not match), \
                  2 could not run (bad arguments, unreadable or invalid input)."
)]
struct Cli {
    /// The style of reports on stdout: text for people, json for scripts (`discover` also
    /// takes table). Not where they go: that is each command's -o/--output.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// No progress bars or informational messages (errors are still printed).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Give up on a registry or transparency service silent for this long (connect, and wait
    /// for the next bytes of an answer); a small request's overall deadline is 6 times this, a
    /// registration's redirects and polls 12 times. Transfers that keep moving are never cut.
    #[arg(long, global = true, value_name = "SECONDS", default_value = "10", value_parser = parse_timeout)]
    timeout: std::time::Duration,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Hash(hash::HashArgs),
    Hmac(hmac::HmacArgs),
    /// Make signing keys.
    Key(key::KeyArgs),
    Sign(sign::SignArgs),
    Verify(verify::VerifyArgs),
    Staple(staple::StapleArgs),
    PrintCose(print_cose::PrintCoseArgs),
    Push(push::PushArgs),
    Attach(attach::AttachArgs),
    Discover(discover::DiscoverArgs),
    /// OCI manifests.
    Manifest(manifest::ManifestArgs),
    Pull(pull::PullArgs),
    Copy(copy::CopyArgs),
    Backup(backup::BackupArgs),
    Restore(restore::RestoreArgs),
    Login(login::LoginArgs),
    Logout(login::LogoutArgs),
    /// Trust policies for `--verify`.
    Policy(policy::PolicyArgs),
    VerifyModel(verify_model::VerifyModelArgs),
    Publish(publish::PublishArgs),
    Seal(seal::SealArgs),
    /// Embedded transparency logs.
    Ts(ts::TsArgs),
    Register(ts::RegisterArgs),
}

/// `--timeout`: seconds (fractions allowed), more than zero.
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err("the timeout is more than 0 and at most 86400 seconds".into());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// How a command that ran to the end came out.
pub enum Outcome {
    Success,
    /// The model, statement or signature did not match: a "no", not a failure to run.
    VerificationFailed,
}

pub fn main() -> ExitCode {
    let (args, deprecated) = legacy::rewrite(std::env::args_os().collect());
    let cli = Cli::parse_from(args);
    for warning in &deprecated {
        eprintln!("warning: {warning}");
    }
    if cli.format == Format::Table && !matches!(cli.command, Command::Discover(_)) {
        eprintln!("error: --format table is for discover; here it is text or json");
        return ExitCode::from(2);
    }
    let out = Output::new(cli.format, cli.quiet);
    modelseal::net::set_timeouts(modelseal::net::Timeouts::from_idle(cli.timeout));
    if !cli.quiet && cli.format != Format::Json {
        modelseal::net::set_notice(|m| eprintln!("{m}"));
    }
    let result = match cli.command {
        Command::Hash(args) => hash::run(args, &out),
        Command::Hmac(args) => hmac::run(args, &out),
        Command::Key(args) => key::run(args, &out),
        Command::Sign(args) => sign::run(args, &out),
        Command::Verify(args) => verify::run(args, &out),
        Command::Staple(args) => staple::run(args, &out),
        Command::PrintCose(args) => print_cose::run(args, &out),
        Command::Push(args) => push::run(args, &out),
        Command::Attach(args) => attach::run(args, &out),
        Command::Discover(args) => discover::run(args, &out),
        Command::Manifest(args) => manifest::run(args, &out),
        Command::Pull(args) => pull::run(args, &out),
        Command::Copy(args) => copy::run(args, &out),
        Command::Backup(args) => backup::run(args, &out),
        Command::Restore(args) => restore::run(args, &out),
        Command::Login(args) => login::login(args, &out),
        Command::Logout(args) => login::logout(args, &out),
        Command::Policy(args) => policy::run(args, &out),
        Command::VerifyModel(args) => verify_model::run(args, &out),
        Command::Publish(args) => publish::run(args, &out),
        Command::Seal(args) => seal::run(args, &out),
        Command::Ts(args) => ts::run(args, &out),
        Command::Register(args) => ts::register(args, &out),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::VerificationFailed) => ExitCode::from(1),
        Err(err) => {
            out.error(&err);
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every argument of every command, as `command sub --flag`, that `--help` shows without a
    /// description.
    fn undescribed(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let here = format!("{path} {}", cmd.get_name()).trim().to_string();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if arg.is_hide_set() || id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                let name = arg
                    .get_long()
                    .map(|l| format!("--{l}"))
                    .unwrap_or_else(|| id.to_uppercase());
                out.push(format!("{here} {name}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                out.push(format!("{here} {} (the command itself)", sub.get_name()));
            }
            undescribed(sub, &here, out);
        }
    }

    /// Every argument of every command, with the command's path.
    fn all_args(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        let here = format!("{path} {}", cmd.get_name()).trim().to_string();
        out.extend(cmd.get_arguments().map(|a| (here.clone(), a.clone())));
        for sub in cmd.get_subcommands() {
            all_args(sub, &here, out);
        }
    }

    /// One meaning per flag (issue 19): `-o` is always `--output` and a path; `--format` is only
    /// the global report style; the old spellings `--out` and `--output` are aliases.
    #[test]
    fn o_is_always_output_a_path_and_format_is_only_the_style() {
        let mut args = Vec::new();
        all_args(&Cli::command(), "", &mut args);
        let mut wrong = Vec::new();
        for (cmd, arg) in &args {
            let long = arg.get_long().unwrap_or_default();
            if arg.get_short() == Some('o') && long != "output" {
                wrong.push(format!("{cmd}: -o is --{long}"));
            }
            if long == "output" {
                if arg.get_short() != Some('o') {
                    wrong.push(format!("{cmd}: --output without -o"));
                }
                if arg.get_value_names().is_none_or(|n| {
                    !n.iter()
                        .any(|n| ["FILE", "DIR", "NAME"].contains(&n.as_str()))
                }) {
                    wrong.push(format!("{cmd}: --output is not a path"));
                }
            }
            if ["out", "output-dir"].contains(&long) {
                wrong.push(format!("{cmd}: --{long} (an alias of --output now)"));
            }
            if long == "format" && !arg.is_global_set() {
                wrong.push(format!("{cmd}: a --format of its own"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let outputs = args
            .iter()
            .filter(|(_, a)| a.get_long() == Some("output"))
            .count();
        assert!(outputs >= 8, "only {outputs} commands have -o/--output");
    }

    #[test]
    fn every_command_flag_and_argument_has_help_text() {
        let mut missing = Vec::new();
        undescribed(&Cli::command(), "", &mut missing);
        assert!(
            missing.is_empty(),
            "{} without help text:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
