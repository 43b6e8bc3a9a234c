//! A release job: publish a model with the library — hash, sign, (register,) push to an OCI
//! image layout, attach the statement — and print what was published as JSON.
//!
//!   cargo run --example publish -- MODEL_DIR LAYOUT_DIR:TAG KEY.pem ISSUER [local:TS_DIR]

use modelseal::core::crypto::PrivateKey;
use modelseal::flows::{Progress, PublishRequest, Step, publish};
use std::process::ExitCode;

/// The job's log: one line per stage, on stderr.
struct JobLog;

impl Progress for JobLog {
    fn step(&self, step: Step) {
        eprintln!("release: {step}");
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, layout, key, issuer, services @ ..] = args.as_slice() else {
        eprintln!("usage: publish MODEL_DIR LAYOUT_DIR:TAG KEY.pem ISSUER [local:TS_DIR ...]");
        return ExitCode::from(2);
    };
    let key = match std::fs::read_to_string(key)
        .map_err(|e| e.to_string())
        .and_then(|pem| PrivateKey::from_pem(&pem).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{key}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut request = PublishRequest::new(model, layout, key, issuer);
    request.oci_layout = true;
    request.files = true;
    for s in services {
        match s.parse() {
            Ok(service) => request.services.push(service),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(publish(&request, &JobLog)) {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("a report serialises")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("publishing {model} failed: {e}");
            ExitCode::from(1)
        }
    }
}
