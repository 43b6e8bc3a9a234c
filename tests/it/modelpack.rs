//! CNCF ModelPack artifacts: `publish`/`push --modelpack` write the model-spec shape;
//! `pull` reads ModelPack raw and tar layers, the legacy `cnai` spelling and KitOps layers, and
//! refuses hostile archives; `hash --from-oci` and `seal` work from the layers' descriptors, and
//! `pull --verify` compares each layer's digest with the signed manifest before downloading.
//! Artifacts "pushed by another tool" are written here by hand into an OCI layout; the same
//! flows against the real registry are in tests/it/interop_oras.rs.

use crate::common::publish::{ISSUER, dev_trust};
use crate::common::registry;
use crate::common::scitt::{Trust, local, ts_init};
use crate::common::sha256_digest;
use crate::common::{json_of, modelseal};
use predicates::str::contains;
use serde_json::{Value, json};

use std::path::{Path, PathBuf};

const EPOCH: &str = "1700000000";
const CREATED: &str = "2023-11-14T22:13:20Z";

/// A small model of every kind: weights, weight config, tokenizer, README, code.
fn model(dir: &Path) -> PathBuf {
    let m = dir.join("tiny");
    std::fs::create_dir_all(m.join("src")).unwrap();
    std::fs::write(m.join("model.safetensors"), b"\x00weights\x01".repeat(100)).unwrap();
    std::fs::write(m.join("config.json"), br#"{"torch_dtype":"bfloat16"}"#).unwrap();
    std::fs::write(m.join("tokenizer.json"), br#"{"vocab":{}}"#).unwrap();
    std::fs::write(m.join("README.md"), b"# tiny\n").unwrap();
    std::fs::write(m.join("src/infer.py"), b"print('hi')\n").unwrap();
    m
}

/// An OCI image layout written by hand, as another tool would: blobs and `index.json`.
struct Layout {
    root: PathBuf,
    manifests: Vec<Value>,
}

impl Layout {
    fn new(root: PathBuf) -> Self {
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let mut l = Layout {
            root,
            manifests: Vec::new(),
        };
        l.write_index();
        l
    }

    fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let d = sha256_digest(bytes);
        std::fs::write(self.root.join("blobs/sha256").join(&d[7..]), bytes).unwrap();
        json!({"mediaType": media_type, "digest": d, "size": bytes.len()})
    }

    /// A descriptor of `bytes` whose blob is not stored: what a verifier must never fetch.
    fn absent_blob(media_type: &str, bytes: &[u8]) -> Value {
        json!({"mediaType": media_type, "digest": sha256_digest(bytes), "size": bytes.len()})
    }

    fn layer(&self, media_type: &str, bytes: &[u8], annotations: &[(&str, &str)]) -> Value {
        let mut d = self.blob(media_type, bytes);
        if !annotations.is_empty() {
            d["annotations"] = annotations
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        d
    }

    /// Stores an image manifest with these layers (and config), tagged `tag` if given; returns
    /// its descriptor.
    fn manifest(&mut self, config: Value, layers: Vec<Value>, tag: Option<&str>) -> Value {
        let m = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.cncf.model.manifest.v1+json",
            "config": config,
            "layers": layers,
        });
        self.put(serde_json::to_vec(&m).unwrap(), tag)
    }

    fn put(&mut self, bytes: Vec<u8>, tag: Option<&str>) -> Value {
        // modelseal may have written the index since (a seal attaches referrers).
        self.manifests =
            json_of(&std::fs::read(self.root.join("index.json")).unwrap())["manifests"]
                .as_array()
                .unwrap()
                .clone();
        let mut d = self.blob("application/vnd.oci.image.manifest.v1+json", &bytes);
        if let Some(tag) = tag {
            self.manifests.retain(|m| {
                m["annotations"]["org.opencontainers.image.ref.name"].as_str() != Some(tag)
            });
            d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        }
        self.manifests.push(d.clone());
        self.write_index();
        d
    }

    fn write_index(&mut self) {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.manifests});
        std::fs::write(
            self.root.join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }

    fn model_config(&self, diff_ids: &[&Value]) -> Value {
        let ids: Vec<&Value> = diff_ids.iter().map(|l| &l["digest"]).collect();
        let config = json!({"descriptor": {"name": "foreign"}, "config": {}, "modelfs": {"type": "layers", "diffIds": ids}});
        self.blob(
            "application/vnd.cncf.model.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        )
    }

    fn reference(&self, tag: &str) -> String {
        format!("{}:{tag}", self.root.display())
    }
}

/// The manifest a layout's tag names, and its bytes' digest.
fn tagged(layout: &Path, tag: &str) -> (Value, String) {
    let index = json_of(&std::fs::read(layout.join("index.json")).unwrap());
    let d = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag}"))["digest"]
        .as_str()
        .unwrap()
        .to_string();
    (blob_json(layout, &d), d)
}

fn blob_json(layout: &Path, digest: &str) -> Value {
    json_of(&std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap())
}

fn publish_modelpack(model: &Path, layout: &Path, key: &Path) {
    modelseal()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("publish")
        .arg(model)
        .arg("--oci-layout")
        .arg(format!("{}:v1", layout.display()))
        .args(["--modelpack", "--param-size", "1.5B", "--key"])
        .arg(key)
        .args(["--issuer", ISSUER, "--subject", "test"])
        .assert()
        .success();
}

#[test]
fn modelpack_publish_writes_the_model_spec_shape() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = dev_trust(dir.path());
    let m = model(dir.path());
    let layout = dir.path().join("oci");
    publish_modelpack(&m, &layout, &key);
    let (manifest, _) = tagged(&layout, "v1");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.cncf.model.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.cncf.model.config.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = layers
        .iter()
        .map(|l| {
            (
                l["annotations"]["org.cncf.model.filepath"]
                    .as_str()
                    .unwrap(),
                l["mediaType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("README.md", "application/vnd.cncf.model.doc.v1.raw"),
            (
                "config.json",
                "application/vnd.cncf.model.weight.config.v1.raw"
            ),
            (
                "model.safetensors",
                "application/vnd.cncf.model.weight.v1.raw"
            ),
            ("src/infer.py", "application/vnd.cncf.model.code.v1.raw"),
            (
                "tokenizer.json",
                "application/vnd.cncf.model.weight.config.v1.raw"
            ),
        ]
    );
    for l in layers {
        let path = l["annotations"]["org.cncf.model.filepath"]
            .as_str()
            .unwrap();
        let bytes = std::fs::read(m.join(path)).unwrap();
        assert_eq!(
            l["digest"],
            sha256_digest(&bytes),
            "{path}: a raw layer is the file"
        );
        let meta: Value = serde_json::from_str(
            l["annotations"]["org.cncf.model.file.metadata+json"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(meta["name"], path.rsplit('/').next().unwrap());
        assert_eq!(meta["size"], bytes.len());
        assert_eq!(meta["mtime"], CREATED);
        assert_eq!(meta["typeflag"], 48);
        assert_eq!(
            (meta["uid"].clone(), meta["gid"].clone()),
            (json!(0), json!(0))
        );
    }
    let config = blob_json(&layout, manifest["config"]["digest"].as_str().unwrap());
    assert_eq!(config["descriptor"]["name"], "tiny");
    assert_eq!(config["descriptor"]["createdAt"], CREATED);
    assert_eq!(config["config"]["format"], "safetensors");
    assert_eq!(config["config"]["precision"], "bfloat16");
    assert_eq!(config["config"]["paramSize"], "1.5B");
    assert_eq!(config["modelfs"]["type"], "layers");
    let diff_ids: Vec<&Value> = layers.iter().map(|l| &l["digest"]).collect();
    assert_eq!(
        config["modelfs"]["diffIds"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        diff_ids
    );
    // The statement is a referrer of the ModelPack manifest, with the signed manifest beside it.
    modelseal()
        .args(["discover", "--oci-layout"])
        .arg(format!("{}:v1", layout.display()))
        .assert()
        .success()
        .stdout(contains("scitt/signed-statement")); // no --ts: no receipt
}

#[test]
fn modelpack_kinds_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path());
    let layout = dir.path().join("oci");
    modelseal()
        .arg("push")
        .args(["--modelpack"])
        .arg(&m)
        .arg("--oci-layout")
        .arg(format!("{}:v1", layout.display()))
        .args(["--kind", "*.json=doc", "--kind", "src/=dataset"])
        .assert()
        .success();
    // A kind without --modelpack would do nothing: refused.
    modelseal()
        .args(["push", "--oci-layout"])
        .arg(format!("{}:v2", layout.display()))
        .arg(m.join("README.md"))
        .args(["--kind", "*.md=doc"])
        .assert()
        .failure()
        .stderr(contains("need --modelpack"));
    let (manifest, _) = tagged(&layout, "v1");
    for l in manifest["layers"].as_array().unwrap() {
        let path = l["annotations"]["org.cncf.model.filepath"]
            .as_str()
            .unwrap();
        let want = match path {
            "config.json" | "tokenizer.json" | "README.md" => "doc",
            "src/infer.py" => "dataset",
            _ => "weight",
        };
        assert_eq!(
            l["mediaType"],
            format!("application/vnd.cncf.model.{want}.v1.raw"),
            "{path}"
        );
    }
}

#[test]
fn modelpack_digest_is_stable_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = dev_trust(dir.path());
    let m = model(dir.path());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    publish_modelpack(&m, &a, &key);
    publish_modelpack(&m, &b, &key);
    assert_eq!(tagged(&a, "v1").1, tagged(&b, "v1").1);
    // push --modelpack makes the same artifact publish does.
    let c = dir.path().join("c");
    modelseal()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["push", "--modelpack", "--param-size", "1.5B"])
        .arg(&m)
        .arg("--oci-layout")
        .arg(format!("{}:v1", c.display()))
        .assert()
        .success();
    assert_eq!(tagged(&a, "v1").1, tagged(&c, "v1").1);
}

#[test]
fn modelpack_publish_then_pull_verify_restores_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let m = model(dir.path());
    let layout = dir.path().join("oci");
    publish_modelpack(&m, &layout, &key);
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .arg("--oci-layout")
        .arg(format!("{}:v1", layout.display()))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    for f in [
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "README.md",
        "src/infer.py",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(m.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(!out.join("model-manifest.json").exists());
}

fn tar_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn pull_restores_raw_tar_cnai_and_kitops_layers() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Layout::new(dir.path().join("oci"));
    let layers = vec![
        l.layer(
            "application/vnd.cncf.model.weight.v1.raw",
            b"raw weights",
            &[("org.cncf.model.filepath", "weights/w.bin")],
        ),
        l.layer(
            "application/vnd.cncf.model.doc.v1.tar",
            &tar_bytes(&[("docs/README.md", b"readme")]),
            &[("org.cncf.model.filepath", "docs")],
        ),
        l.layer(
            "application/vnd.cncf.model.code.v1.tar+gzip",
            &gzip(&tar_bytes(&[("src/a.py", b"a"), ("src/b.py", b"b")])),
            &[],
        ),
        l.layer(
            "application/vnd.cnai.model.weight.config.v1.raw",
            b"{}",
            &[("org.cnai.model.filepath", "legacy/config.json")],
        ),
        l.layer(
            "application/vnd.kitops.modelkit.dataset.v1.tar+zstd",
            &zstd::encode_all(&tar_bytes(&[("data/train.csv", b"x,y\n")])[..], 3).unwrap(),
            &[],
        ),
    ];
    let config = l.blob(
        "application/vnd.kitops.modelkit.config.v1+json",
        br#"{"manifestVersion":"1.0.0"}"#,
    );
    l.manifest(config, layers, Some("v1"));
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--oci-layout", &l.reference("v1"), "-o"])
        .arg(&out)
        .assert()
        .success();
    for (f, want) in [
        ("weights/w.bin", &b"raw weights"[..]),
        ("docs/README.md", b"readme"),
        ("src/a.py", b"a"),
        ("src/b.py", b"b"),
        ("legacy/config.json", b"{}"),
        ("data/train.csv", b"x,y\n"),
    ] {
        assert_eq!(std::fs::read(out.join(f)).unwrap(), want, "{f}");
    }
}

/// A tar archive of one entry written header field by header field (the `tar` crate refuses
/// to build the hostile ones).
fn raw_tar(name: &str, kind: tar::EntryType, link: Option<&str>, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0; 1024]);
    out
}

#[test]
fn pull_refuses_hostile_tar_layers() {
    use tar::EntryType as T;
    let cases: [(&str, Vec<u8>, &str); 7] = [
        (
            "absolute path",
            raw_tar("/tmp/evil", T::Regular, None, b"x"),
            "absolute",
        ),
        (
            "dot-dot",
            raw_tar("a/../../evil", T::Regular, None, b"x"),
            "..",
        ),
        (
            "symlink out",
            raw_tar("link", T::Symlink, Some("/etc/passwd"), b""),
            "is a link",
        ),
        (
            "hard link",
            raw_tar("hard", T::Link, Some("../outside"), b""),
            "is a link",
        ),
        (
            "character device",
            raw_tar("dev", T::Char, None, b""),
            "device file",
        ),
        ("fifo", raw_tar("fifo", T::Fifo, None, b""), "device file"),
        (
            "a path twice",
            tar_bytes(&[("same", b"1"), ("same", b"2")]),
            "twice",
        ),
    ];
    for (case, archive, reason) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Layout::new(dir.path().join("oci"));
        let layer = l.layer("application/vnd.cncf.model.weight.v1.tar", &archive, &[]);
        let config = l.model_config(&[&layer]);
        l.manifest(config, vec![layer], Some("v1"));
        let out = dir.path().join("out");
        modelseal()
            .args(["pull", "--oci-layout", &l.reference("v1"), "-o"])
            .arg(&out)
            .assert()
            .failure()
            .stderr(contains(reason));
        let left: Vec<_> = std::fs::read_dir(&out)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{case}: {left:?} written");
        assert!(!dir.path().join("evil").exists(), "{case}");
    }
}

#[test]
fn hash_from_oci_equals_hash_of_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path());
    // The layout's directory name is the repository's name, as `hash DIR` names the model.
    let layout = dir.path().join("oci/tiny");
    modelseal()
        .args(["push", "--modelpack"])
        .arg(&m)
        .arg("--oci-layout")
        .arg(format!("{}:v1", layout.display()))
        .assert()
        .success();
    let from_dir = modelseal().arg("hash").arg(&m).assert().success();
    let from_oci = modelseal()
        .args(["hash", "--oci-layout", "--from-oci"])
        .arg(format!("{}:v1", layout.display()))
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&from_oci.get_output().stdout),
        String::from_utf8_lossy(&from_dir.get_output().stdout)
    );
    modelseal()
        .args(["hash", "--oci-layout", "--hash", "blake3", "--from-oci"])
        .arg(format!("{}:v1", layout.display()))
        .assert()
        .failure()
        .stderr(contains("sha256 digests only"));
}

#[test]
fn hash_from_oci_refuses_a_tar_layer() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Layout::new(dir.path().join("oci"));
    let layer = l.layer(
        "application/vnd.cncf.model.weight.v1.tar",
        &tar_bytes(&[("w", b"w")]),
        &[("org.cncf.model.filepath", "w")],
    );
    let config = l.model_config(&[&layer]);
    l.manifest(config, vec![layer], Some("v1"));
    modelseal()
        .args(["hash", "--oci-layout", "--from-oci", &l.reference("v1")])
        .assert()
        .failure()
        .stderr(contains("is a tar archive"));
}

/// A ModelPack artifact as another tool pushes it: raw layers with ModelPack media types.
fn foreign_artifact(l: &mut Layout) -> (Vec<Value>, Value) {
    let layers = vec![
        l.layer(
            "application/vnd.cncf.model.weight.v1.raw",
            b"foreign weights",
            &[("org.cncf.model.filepath", "model.gguf")],
        ),
        l.layer(
            "application/vnd.cncf.model.doc.v1.raw",
            b"# foreign\n",
            &[("org.cncf.model.filepath", "README.md")],
        ),
    ];
    let config = l.model_config(&layers.iter().collect::<Vec<_>>());
    (layers, config)
}

#[test]
fn seal_in_place_then_pull_verify_passes_and_a_swapped_layer_fails_before_download() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let mut l = Layout::new(dir.path().join("oci"));
    let (layers, config) = foreign_artifact(&mut l);
    let sealed = l.manifest(config.clone(), layers.clone(), Some("v1"));
    let ts = dir.path().join("ts");
    ts_init(&ts, Trust::Key(&dir.path().join("es256.pub")));
    let local = local(&ts);
    for (extra, artifact_type) in [
        (&[][..], "scitt/signed-statement"),
        (
            &["--hash-envelope", "--ts", &local][..],
            "scitt/transparent-statement",
        ),
    ] {
        modelseal()
            .args(["seal", "--oci-layout", &l.reference("v1"), "--key"])
            .arg(&key)
            .args(["--issuer", ISSUER, "--subject", "test"])
            .args(extra)
            .assert()
            .success()
            .stdout(contains(artifact_type));
    }
    // The artifact itself is untouched: the tag still names the digest the other tool pushed.
    assert_eq!(tagged(&l.root, "v1").1, sealed["digest"].as_str().unwrap());
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .args(["--oci-layout", &l.reference("v1"), "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("model.gguf")).unwrap(),
        b"foreign weights"
    );
    modelseal()
        .args(["discover", "--verify", "--policy"])
        .arg(&policy)
        .args(["--oci-layout", &l.reference("v1")])
        .assert()
        .success();

    // Swap the weights (their blob is not even stored: fetching it would fail differently) and
    // copy the statements' referrers onto the new manifest, as anyone who can push can.
    let mut swapped = layers.clone();
    swapped[0] = Layout::absent_blob("application/vnd.cncf.model.weight.v1.raw", b"evil weights");
    swapped[0]["annotations"] = json!({"org.cncf.model.filepath": "model.gguf"});
    let evil = l.manifest(config, swapped, Some("v1"));
    let index = json_of(&std::fs::read(l.root.join("index.json")).unwrap());
    let referrers: Vec<Value> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| blob_json(&l.root, d["digest"].as_str().unwrap()))
        .filter(|m| m["subject"]["digest"] == sealed["digest"])
        .collect();
    assert_eq!(referrers.len(), 2);
    for mut r in referrers {
        r["subject"] =
            json!({"mediaType": evil["mediaType"], "digest": evil["digest"], "size": evil["size"]});
        l.put(serde_json::to_vec(&r).unwrap(), None);
    }
    let out = dir.path().join("out2");
    let failed = modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .args(["--oci-layout", &l.reference("v1"), "-o"])
        .arg(&out)
        .assert()
        .code(1);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&failed.get_output().stdout),
        String::from_utf8_lossy(&failed.get_output().stderr)
    );
    assert!(
        !text.contains("not found"),
        "a swapped blob was fetched: {text}"
    );
    assert!(text.contains("payload: differs"), "{text}");
    assert!(
        std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0) == 0,
        "nothing written"
    );
}

#[test]
fn seal_refuses_a_tar_layer_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = dev_trust(dir.path());
    let mut l = Layout::new(dir.path().join("oci"));
    let layer = l.layer(
        "application/vnd.cncf.model.weight.v1.tar+gzip",
        &gzip(&tar_bytes(&[("w", b"w")])),
        &[],
    );
    let config = l.model_config(&[&layer]);
    l.manifest(config, vec![layer], Some("v1"));
    modelseal()
        .args(["seal", "--oci-layout", &l.reference("v1"), "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER])
        .assert()
        .failure()
        .stderr(contains("is a tar archive"));
}

#[test]
fn discover_names_other_tools_referrers() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Layout::new(dir.path().join("oci"));
    let (layers, config) = foreign_artifact(&mut l);
    let subject = l.manifest(config, layers, Some("v1"));
    let empty = l.blob("application/vnd.oci.empty.v1+json", b"{}");
    for (artifact_type, annotations) in [
        (
            "application/vnd.dev.sigstore.bundle.v0.3+json",
            json!({"dev.sigstore.bundle.content": "dsse-envelope",
                   "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"}),
        ),
        ("application/vnd.cncf.notary.signature", json!({})),
        ("application/spdx+json", json!({})),
        ("application/vnd.cyclonedx+json", json!({})),
    ] {
        let layer = l.blob(artifact_type, artifact_type.as_bytes());
        let m = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": artifact_type, "config": empty, "layers": [layer],
            "subject": {"mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]},
            "annotations": annotations});
        l.put(serde_json::to_vec(&m).unwrap(), None);
    }
    modelseal()
        .args(["discover", "--oci-layout", &l.reference("v1")])
        .assert()
        .success()
        .stdout(contains("(Sigstore bundle (cosign))"))
        .stdout(contains("(predicate https://slsa.dev/provenance/v1)"))
        .stdout(contains("(notation signature)"))
        .stdout(contains("(SBOM (SPDX))"))
        .stdout(contains("(SBOM (CycloneDX))"));
}

/// The same flows on the real registry (distribution, tag-schema referrers): publish gives the
/// digest the layout got; pull --verify restores the model; a foreign artifact with tar layers
/// copied there pulls; hash --from-oci reads it from the registry.
#[test]
fn modelpack_on_the_real_registry() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let m = model(dir.path());
    let layout = dir.path().join("oci");
    publish_modelpack(&m, &layout, &key);
    let reference = format!("{reg}/modelpack/tiny:v1");
    let published = modelseal()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["--format", "json", "publish"])
        .arg(&m)
        .arg(&reference)
        .args(["--modelpack", "--param-size", "1.5B", "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "test"])
        .assert()
        .success();
    assert_eq!(
        json_of(&published.get_output().stdout)["digest"],
        tagged(&layout, "v1").1.as_str()
    );
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .arg(&reference)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("src/infer.py")).unwrap(),
        std::fs::read(m.join("src/infer.py")).unwrap()
    );
    let from_oci = modelseal()
        .args(["hash", "--from-oci", &reference])
        .assert()
        .success();
    let from_dir = modelseal().arg("hash").arg(&m).assert().success();
    assert_eq!(from_oci.get_output().stdout, from_dir.get_output().stdout);

    let mut l = Layout::new(dir.path().join("foreign"));
    let layer = l.layer(
        "application/vnd.cncf.model.weight.v1.tar+gzip",
        &gzip(&tar_bytes(&[("w/weights.bin", b"w")])),
        &[],
    );
    let config = l.model_config(&[&layer]);
    l.manifest(config, vec![layer], Some("v1"));
    let foreign = format!("{reg}/modelpack/foreign-tar:v1");
    modelseal()
        .args(["copy", "--from-oci-layout", &l.reference("v1"), &foreign])
        .assert()
        .success();
    let out = dir.path().join("out-tar");
    modelseal()
        .args(["pull", &foreign, "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(out.join("w/weights.bin")).unwrap(), b"w");
}

/// oras-py and others push ModelPack layers under an empty config and no artifact type: sealed
/// and verified all the same.
#[test]
fn model_layers_under_an_empty_config_are_sealed_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (key, policy) = dev_trust(dir.path());
    let mut l = Layout::new(dir.path().join("oci"));
    let (layers, _) = foreign_artifact(&mut l);
    let empty = l.blob("application/vnd.oci.empty.v1+json", b"{}");
    let m = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": empty, "layers": layers});
    l.put(serde_json::to_vec(&m).unwrap(), Some("v1"));
    modelseal()
        .args(["seal", "--oci-layout", &l.reference("v1"), "--key"])
        .arg(&key)
        .args(["--issuer", ISSUER, "--subject", "test"])
        .assert()
        .success();
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", "--verify", "--policy"])
        .arg(&policy)
        .args(["--oci-layout", &l.reference("v1"), "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("README.md")).unwrap(),
        b"# foreign\n"
    );
}
