//! OCI interop with oras-py (PyPI `oras`) and skopeo against the real registry: they read what we
//! push, and we read what they push. Run by `scripts/interop.sh` under `scripts/registry.sh`.

use crate::common::front;
use crate::common::registry;

use crate::common::{json_of, modelseal};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn oras(jobs: &[Value]) -> Vec<Value> {
    let venv = PathBuf::from(
        std::env::var("MODELSEAL_PEER_VENV").expect("needs oras-py: run scripts/interop.sh"),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/oras_peer.py");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(jobs).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "oras-py script failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
#[ignore = "needs oras-py and a registry: run scripts/interop.sh"]
fn oras_py_pulls_what_we_push_and_reads_our_referrers_index() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "manifest.json", b"{\"model\": \"tiny\"}");
    write(dir.path(), "model.scitt", b"statement bytes");
    let reference = format!("{}/interop/ours:v1", registry());
    modelseal()
        .current_dir(dir.path())
        .args(["push", &reference, "manifest.json"])
        .assert()
        .success();
    let attached = modelseal()
        .current_dir(dir.path())
        .args(["attach", "--format", "json", &reference, "model.scitt"])
        .assert()
        .success();
    let referrer = json_of(&attached.get_output().stdout)["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let subject = modelseal()
        .args(["manifest", "fetch", "--descriptor", &reference])
        .assert()
        .success();
    let subject = json_of(&subject.get_output().stdout)["digest"]
        .as_str()
        .unwrap()
        .replace(':', "-");
    let out = dir.path().join("pulled");
    let results = oras(&[
        json!({"op": "pull", "registry": registry(), "target": reference, "outdir": out}),
        json!({"op": "manifest", "registry": registry(), "target": format!("{}/interop/ours:{subject}", registry())}),
    ]);
    assert_eq!(results[0]["files"], json!(["manifest.json"]));
    assert_eq!(
        std::fs::read(out.join("manifest.json")).unwrap(),
        b"{\"model\": \"tiny\"}"
    );
    let index = &results[1]["manifest"];
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert!(
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["digest"] == referrer.as_str()),
        "{index}"
    );
}

#[test]
#[ignore = "needs oras-py and a registry: run scripts/interop.sh"]
fn we_pull_what_oras_py_pushes_and_read_its_referrer() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "weights.bin", &[42u8; 70_000]);
    write(dir.path(), "sig.cose", b"signature");
    let reference = format!("{}/interop/theirs:v1", registry());
    let referrer_ref = format!("{}/interop/theirs:sig", registry());
    let results = oras(&[
        json!({"op": "push", "registry": registry(), "cwd": dir.path(), "target": reference, "files": ["weights.bin:application/octet-stream"]}),
        json!({"op": "push", "registry": registry(), "cwd": dir.path(), "target": referrer_ref, "files": ["sig.cose:application/scitt-statement+cose"], "subject": reference}),
    ]);
    assert!(
        results.iter().all(|r| r["status"].as_u64().unwrap() < 300),
        "{results:?}"
    );
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", &reference, "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("weights.bin")).unwrap(),
        vec![42u8; 70_000]
    );
    // oras-py does not maintain the tag-schema index, so on a registry without the referrers
    // API its referrer is found by tag; its manifest names our subject.
    let fetched = modelseal()
        .args(["manifest", "fetch", &referrer_ref])
        .assert()
        .success();
    let subject = modelseal()
        .args(["manifest", "fetch", "--descriptor", &reference])
        .assert()
        .success();
    assert_eq!(
        json_of(&fetched.get_output().stdout)["subject"]["digest"],
        json_of(&subject.get_output().stdout)["digest"]
    );
}

#[test]
#[ignore = "needs skopeo and a registry: run scripts/interop.sh"]
fn skopeo_reads_our_manifest_bytes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "manifest.json", b"{}");
    let reference = format!("{}/interop/skopeo:v1", registry());
    modelseal()
        .current_dir(dir.path())
        .args(["push", &reference, "manifest.json"])
        .assert()
        .success();
    let ours = modelseal()
        .args(["manifest", "fetch", &reference])
        .assert()
        .success();
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("skopeo is installed by scripts/test.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, ours.get_output().stdout);
}

#[test]
#[ignore = "needs oras-py and a registry: run scripts/interop.sh"]
fn we_discover_what_oras_py_attaches_where_the_registry_has_the_referrers_api() {
    // oras-py keeps no tag-schema index, so its referrers are discoverable only through the API:
    // the spec-following front (tests/it/common/front.rs) gives the real registry one.
    let (front, _) = front::referrers_front(registry(), false);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "manifest.json", b"{}");
    write(dir.path(), "sig.cose", b"signature");
    let reference = format!("{front}/interop/api:v1");
    modelseal()
        .current_dir(dir.path())
        .args(["push", &reference, "manifest.json"])
        .assert()
        .success();
    let subject = modelseal()
        .args(["manifest", "fetch", "--descriptor", &reference])
        .assert()
        .success();
    let subject = json_of(&subject.get_output().stdout);
    let results = oras(&[
        json!({"op": "push", "registry": front, "cwd": dir.path(), "target": format!("{front}/interop/api:sig"),
                               "files": ["sig.cose:application/scitt-statement+cose"], "subject_descriptor": subject}),
    ]);
    assert!(results[0]["status"].as_u64().unwrap() < 300, "{results:?}");
    let tree = modelseal()
        .args(["discover", "--format", "json", &reference])
        .assert()
        .success();
    let tree = json_of(&tree.get_output().stdout);
    assert_eq!(
        tree["manifests"].as_array().map(Vec::len),
        Some(1),
        "{tree}"
    );
}

/// The config `publish --modelpack` writes validates against the model-spec's JSON
/// schema (`schema/config-schema.json`, kept in ../shared/conformance), checked by `jsonschema`.
#[test]
#[ignore = "needs the peer venv: scripts/interop.sh"]
fn modelpack_config_validates_against_the_model_spec_schema() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("tiny");
    std::fs::create_dir_all(m.join("src")).unwrap();
    write(&m, "model.safetensors", b"weights");
    write(&m, "config.json", br#"{"torch_dtype":"float16"}"#);
    write(&m, "tokenizer.json", b"{}");
    write(&m, "README.md", b"# tiny");
    write(&m, "src/infer.py", b"print(1)");
    let layout = dir.path().join("oci");
    modelseal()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["push", "--modelpack"])
        .arg(&m)
        .arg("--oci-layout")
        .arg(format!("{}:v1", layout.display()))
        .args(["--param-size", "7B", "--architecture", "transformer"])
        .args(["--model-version", "1.0", "--quantization", "awq"])
        .assert()
        .success();
    let index = json_of(&std::fs::read(layout.join("index.json")).unwrap());
    let manifest = json_of(
        &std::fs::read(
            layout
                .join("blobs/sha256")
                .join(&index["manifests"][0]["digest"].as_str().unwrap()[7..]),
        )
        .unwrap(),
    );
    let config = layout
        .join("blobs/sha256")
        .join(&manifest["config"]["digest"].as_str().unwrap()[7..]);
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/modelpack/config-schema.json");
    let result = oras(&[json!({"op": "validate_schema", "registry": registry(),
        "schema": schema, "document": config})]);
    assert_eq!(
        result[0]["errors"],
        json!([]),
        "{}",
        std::fs::read_to_string(&config).unwrap()
    );
}

/// oras-py pushes raw files with ModelPack media types (no modelseal involved); `seal` signs
/// it in place from the descriptors, `hash --from-oci` equals `hash DIR`, `pull --verify`
/// restores it; the tag moved to a manifest with swapped weights fails, nothing written.
#[test]
#[ignore = "needs oras-py: scripts/interop.sh"]
fn seal_of_a_modelpack_pushed_by_oras_py_then_pull_verify() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = crate::common::publish::dev_trust(dir.path());
    let m = dir.path().join("foreign");
    std::fs::create_dir_all(&m).unwrap();
    write(&m, "model.gguf", b"gguf weights");
    write(&m, "README.md", b"# foreign");
    let digest = |b: &[u8]| {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
    };
    let config = json!({"descriptor": {"name": "foreign"}, "config": {"format": "gguf"},
        "modelfs": {"type": "layers", "diffIds": [digest(b"gguf weights"), digest(b"# foreign")]}});
    write(&m, "config.blob", config.to_string().as_bytes());
    let target = format!("{reg}/modelpack/foreign:v1");
    let push = |cwd: &Path| {
        oras(&[
            json!({"op": "push_modelpack", "registry": reg, "cwd": cwd, "target": target,
            "files": ["model.gguf:application/vnd.cncf.model.weight.v1.raw",
                      "README.md:application/vnd.cncf.model.doc.v1.raw"],
            "config": "config.blob:application/vnd.cncf.model.config.v1+json",
            "annotations": {"model.gguf": {"org.cncf.model.filepath": "model.gguf"},
                            "README.md": {"org.cncf.model.filepath": "README.md"}}}),
        ])
    };
    push(&m);
    let from_oci = modelseal()
        .args(["hash", "--plain-http", "--from-oci", &target])
        .assert()
        .success();
    let from_dir = modelseal()
        .args(["hash", "--ignore-paths"])
        .arg(m.join("config.blob"))
        .arg("--ignore-paths")
        .arg(m.join("annotations.json"))
        .arg(&m)
        .assert()
        .success();
    let (a, mut b) = (
        json_of(&from_oci.get_output().stdout),
        json_of(&from_dir.get_output().stdout),
    );
    // hash DIR records the two files it was told to leave out; the layers are the same.
    b["predicate"]["serialization"] = a["predicate"]["serialization"].clone();
    assert_eq!(a, b);
    let sealed = modelseal()
        .args(["--format", "json", "seal", "--plain-http", &target, "--key"])
        .arg(&key)
        .args(["--issuer", crate::common::publish::ISSUER])
        .assert()
        .success();
    let sealed = json_of(&sealed.get_output().stdout)["digest"]
        .as_str()
        .unwrap()
        .to_string();
    // distribution has no referrers API: the tag-schema index we wrote names each referrer's
    // artifactType (cosign#4422: tools filter on it).
    let index = modelseal()
        .args(["--format", "json", "manifest", "fetch", "--plain-http"])
        .arg(format!("{reg}/modelpack/foreign:sha256-{}", &sealed[7..]))
        .assert()
        .success();
    let index = json_of(&index.get_output().stdout);
    let entries = index["manifests"].as_array().unwrap();
    assert!(!entries.is_empty());
    for e in entries {
        // sealed without --ts: a signed statement, no receipt
        assert_eq!(e["artifactType"], "scitt/signed-statement", "{index}");
    }
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--plain-http", "--verify", "--policy"])
        .arg(&policy)
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("model.gguf")).unwrap(),
        b"gguf weights"
    );

    // Another push with swapped weights moves the tag: what it names now is not sealed.
    let evil = dir.path().join("evil");
    crate::common::copy_dir(&m, &evil);
    write(&evil, "model.gguf", b"evil weights");
    push(&evil);
    let out = dir.path().join("out2");
    modelseal()
        .args(["pull", "--plain-http", "--verify", "--policy"])
        .arg(&policy)
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1);
    assert_eq!(std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0), 0);
}
