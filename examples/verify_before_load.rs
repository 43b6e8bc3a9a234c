//! A model server's load path, guarded: the weights on disk are loaded only if the artifact in the
//! registry (or layout) carries a statement that meets the trust policy and the files match the
//! manifest it signs — the way the seed's MLServer runtime refused a tampered model.
//!
//!   cargo run --example verify_before_load -- MODEL_DIR MANIFEST_REF POLICY [--oci-layout]

use modelseal::flows::{ModelCheck, verify_model};
use std::process::ExitCode;

/// What the guard decided.
#[derive(Debug)]
pub enum Load {
    /// Verified (or the policy only audits), and loaded: the config's size.
    Loaded(usize),
    /// Not verified under an enforcing policy: the reasons, nothing loaded.
    Refused(String),
    /// Verification or loading could not run.
    Failed(String),
}

fn load_model(dir: &std::path::Path) -> std::io::Result<usize> {
    // Stand-in for the real loader: read the config the runtime would parse.
    Ok(std::fs::read(dir.join("config.json"))?.len())
}

/// Verifies, then loads only what verified.
pub fn guarded_load(check: &ModelCheck) -> Load {
    match verify_model(check) {
        Ok(v) if v.verified || !v.enforced => {
            if !v.verified {
                eprintln!("warning (policy not enforced): {}", v.reasons.join("; "));
            }
            match load_model(&check.model_dir) {
                Ok(n) => Load::Loaded(n),
                Err(e) => Load::Failed(format!("verified, but loading failed: {e}")),
            }
        }
        Ok(v) => Load::Refused(v.reasons.join("; ")),
        Err(e) => Load::Failed(format!("cannot verify: {e}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, reference, policy, rest @ ..] = args.as_slice() else {
        eprintln!("usage: verify_before_load MODEL_DIR MANIFEST_REF POLICY [--oci-layout]");
        return ExitCode::from(2);
    };
    let check = ModelCheck {
        model_dir: model.into(),
        manifest_ref: reference.clone(),
        oci_layout: rest.iter().any(|a| a == "--oci-layout"),
        policy: Some(policy.into()),
    };
    match guarded_load(&check) {
        Load::Loaded(n) => {
            println!("verified; model loaded ({n} bytes of config)");
            ExitCode::SUCCESS
        }
        Load::Refused(reasons) => {
            eprintln!("refusing to load {model}: {reasons}");
            ExitCode::from(1)
        }
        Load::Failed(why) => {
            eprintln!("{model}: {why}");
            ExitCode::from(2)
        }
    }
}
