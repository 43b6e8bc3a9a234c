//! A model server's load path, guarded: the weights on disk are loaded only if the artifact in the
//! registry (or layout) carries a statement that meets the trust policy and the files match the
//! manifest it signs — the way the seed's MLServer runtime refused a tampered model.
//!
//!   cargo run --example verify_before_load -- MODEL_DIR MANIFEST_REF POLICY [--oci-layout]

use modelseal::flows::{ModelCheck, verify_model};
use std::process::ExitCode;

fn load_model(dir: &std::path::Path) -> std::io::Result<usize> {
    // Stand-in for the real loader: read the config the runtime would parse.
    Ok(std::fs::read(dir.join("config.json"))?.len())
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
    match verify_model(&check) {
        Ok(verdict) if verdict.verified => match load_model(&check.model_dir) {
            Ok(n) => {
                println!("verified; model loaded ({n} bytes of config)");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("verified, but loading failed: {e}");
                ExitCode::from(2)
            }
        },
        Ok(verdict) => {
            eprintln!("refusing to load {}: {}", model, verdict.reasons.join("; "));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("cannot verify {model}: {e}");
            ExitCode::from(2)
        }
    }
}
