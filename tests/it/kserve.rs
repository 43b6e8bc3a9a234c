//! The KServe storage initializer (`examples/kserve/`): its entrypoint, run as KServe runs it
//! (`entrypoint.sh STORAGE_URI DEST`), against the real registry, with the policy laid out as the
//! ConfigMap mounts it. No Kubernetes here: the YAML is checked for the names that tie it
//! together, and the policy it carries for being one `modelseal` reads.

use crate::common::publish::ISSUER;
use crate::common::scitt::{Trust, local, ts_init};
use crate::common::{keygen, modelseal, registry};
use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLE: &str = "examples/kserve";

/// `entrypoint.sh SRC DEST` with `modelseal` on PATH and the policy from `policy_dir`.
fn initialize(src: &str, dest: &Path, policy_dir: &Path) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("modelseal");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg(format!("{EXAMPLE}/storage-initializer/entrypoint.sh"))
        .arg(src)
        .arg(dest)
        .env("PATH", path)
        .env("MODELSEAL_POLICY", policy_dir.join("policy.toml"))
        .output()
        .unwrap()
}

/// What the ConfigMap holds: `policy.toml` with the publisher's and the service's keys beside
/// it, paths relative (as `policy init` writes them).
fn configmap(dir: &Path, publisher: &Path, service: &Path, scope: &str) -> PathBuf {
    let mount = dir.join("etc-modelseal");
    std::fs::create_dir_all(&mount).unwrap();
    std::fs::copy(publisher, mount.join("publisher.pub")).unwrap();
    std::fs::copy(service, mount.join("service.pub")).unwrap();
    modelseal()
        .current_dir(&mount)
        .args(["policy", "init", "--issuer-key", "publisher.pub"])
        .args(["--ts-key", "service.pub", "--min-receipts", "1"])
        .args(["--scope", scope, "-o", "policy.toml"])
        .assert()
        .success();
    mount
}

#[test]
fn the_storage_initializer_writes_only_a_verified_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "ES256");
    let ts = ts_init(&d.join("ts"), Trust::Key(&public));
    let repo = format!("{}/kserve/tiny", registry());
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            &format!("{repo}:v1"),
            "--files",
            "--key",
        ])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "tiny", "--ts", &local(&ts)])
        .assert()
        .success();
    let mount = configmap(
        d,
        &public,
        &ts.join("service.pub"),
        &format!("{}/kserve/*", registry()),
    );

    // Verified: the model lands in /mnt/models (here DEST), file for file.
    let dest = d.join("mnt-models");
    let out = initialize(&format!("modelseal://{repo}:v1"), &dest, &mount);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert_eq!(
            std::fs::read(dest.join(file)).unwrap(),
            std::fs::read(Path::new("examples/tiny-model").join(file)).unwrap(),
            "{file}"
        );
    }

    // The same model signed by someone the policy does not trust: the init fails, nothing is
    // written, and the log says why.
    std::fs::create_dir_all(d.join("stranger")).unwrap();
    let (stranger, _) = keygen(&d.join("stranger"), "ES256");
    let stranger_ts = ts_init(&d.join("stranger-ts"), Trust::AnyIssuer);
    modelseal()
        .args([
            "publish",
            "examples/tiny-model",
            &format!("{repo}:v2"),
            "--files",
            "--key",
        ])
        .arg(&stranger)
        .args([
            "--issuer",
            ISSUER,
            "--subject",
            "tiny",
            "--ts",
            &local(&stranger_ts),
        ])
        .assert()
        .success();
    let refused = d.join("mnt-models-2");
    let out = initialize(&format!("modelseal://{repo}:v2"), &refused, &mount);
    assert!(!out.status.success());
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("policy NOT met"), "{log}");
    assert!(!refused.exists() || std::fs::read_dir(&refused).unwrap().next().is_none());

    // A URI this initializer does not serve is a usage error, before anything is fetched.
    let out = initialize(&format!("s3://{repo}:v1"), &d.join("other"), &mount);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a modelseal:// URI"));
}

#[test]
fn the_kserve_manifests_tie_the_initializer_the_uri_and_the_policy_together() {
    let read = |f: &str| std::fs::read_to_string(Path::new(EXAMPLE).join(f)).unwrap();
    let storage = read("cluster-storage-container.yaml");
    let service = read("inference-service.yaml");
    let configmap = read("policy-configmap.yaml");
    // KServe finds its init container by this name, and picks it by the URI's prefix.
    assert!(storage.contains("name: storage-initializer"));
    assert!(storage.contains("- prefix: modelseal://"));
    assert!(service.contains("storageUri: modelseal://"));
    // The volume the initializer mounts is the one the InferenceService declares, from the
    // ConfigMap that holds the policy, mounted where the entrypoint looks by default.
    assert!(
        storage.contains("name: modelseal-policy") && service.contains("name: modelseal-policy")
    );
    assert!(configmap.contains("name: modelseal-policy"));
    assert!(storage.contains("mountPath: /etc/modelseal"));
    assert!(read("storage-initializer/entrypoint.sh").contains("/etc/modelseal/policy.toml"));
    // The policy in the ConfigMap is one modelseal reads: lint it (its keys are placeholders,
    // so only the key files may be reported missing).
    let policy: String = configmap
        .split("policy.toml: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let parsed: toml::Value = toml::from_str(&policy).unwrap();
    assert_eq!(parsed["version"].as_integer(), Some(2));
    assert_eq!(
        parsed["policy"][0]["issuers"][0]["key"].as_str(),
        Some("publisher.pub")
    );
}
