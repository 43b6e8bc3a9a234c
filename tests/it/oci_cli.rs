//! push, attach, discover, manifest fetch and pull against the real registry that
//! `scripts/registry.sh` starts (MODELSEAL_TEST_REGISTRY; it has no referrers API, so the
//! tag-schema fallback is what runs) and against an OCI image layout.

use crate::common::front;
use crate::common::registry;

use crate::common::{json_of, modelseal, vector};
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CREATED: &str = "org.opencontainers.image.created=2025-07-15T09:13:25Z";

/// A scratch dir holding copies of the seed's files, and a `work/` subdir to run in, so that the
/// titles `../model-manifest.json` and `../2ts-statement.scitt` are typed exactly as in the seed.
fn seed_files() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for f in ["model-manifest.json", "2ts-statement.scitt"] {
        std::fs::copy(vector(&format!("scitt-for-phi/{f}")), dir.path().join(f)).unwrap();
    }
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    (dir, work)
}

fn push_and_attach_seed(work: &Path, target: &[&str]) {
    modelseal()
        .current_dir(work)
        .arg("push")
        .args(target)
        .args(["../model-manifest.json", "-a", CREATED])
        .assert()
        .success();
    modelseal()
        .current_dir(work)
        .arg("attach")
        .args(target)
        .args(["../2ts-statement.scitt", "-a", CREATED])
        .assert()
        .success();
}

#[test]
fn the_seed_push_and_attach_give_oras_manifests_byte_for_byte_in_a_layout_and_a_registry() {
    let (_dir, work) = seed_files();
    let repo = format!("{}/seed/phi:v1", registry());
    for target in [vec!["--oci-layout", "../layout:v1"], vec![repo.as_str()]] {
        push_and_attach_seed(&work, &target);
        let fetched = modelseal()
            .current_dir(&work)
            .args(["manifest", "fetch"])
            .args(&target)
            .assert()
            .success();
        assert_eq!(
            fetched.get_output().stdout,
            std::fs::read(vector("scitt-for-phi/oci-push-manifest.json")).unwrap()
        );
        let tree = modelseal()
            .current_dir(&work)
            .args(["discover", "--format", "json"])
            .args(&target)
            .assert()
            .success();
        let tree = json_of(&tree.get_output().stdout);
        let attached = &tree["manifests"][0];
        assert_eq!(
            attached["digest"],
            "sha256:636db14f13dcef763d58742eea6a313a84f2b5535834b22124a38e40d86445ec"
        );
        assert_eq!(attached["artifactType"], "scitt/transparent-statement");
        let reference = attached["reference"].as_str().unwrap().to_string();
        let (_, digest) = reference.split_once('@').unwrap();
        let by_digest = if target[0] == "--oci-layout" {
            format!("../layout@{digest}")
        } else {
            format!("{}/seed/phi@{digest}", registry())
        };
        let mut args = vec!["manifest", "fetch"];
        if target[0] == "--oci-layout" {
            args.push("--oci-layout");
        }
        let attach = modelseal()
            .current_dir(&work)
            .args(&args)
            .arg(&by_digest)
            .assert()
            .success();
        assert_eq!(
            attach.get_output().stdout,
            std::fs::read(vector("scitt-for-phi/oci-attach-manifest.json")).unwrap()
        );
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_model_round_trips_through_the_registry_with_two_referrers_and_the_fallback_index() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write(&src.join("manifest.json"), b"{\"model\": 1}");
    write(&src.join("a.scitt"), b"statement one");
    write(&src.join("b.scitt"), b"statement two");
    let reference = format!("{}/round/trip:v1", registry());
    modelseal()
        .current_dir(&src)
        .args(["push", &reference, "manifest.json"])
        .assert()
        .success();
    for s in ["a.scitt", "b.scitt"] {
        modelseal()
            .current_dir(&src)
            .args(["attach", &reference, s])
            .assert()
            .success();
    }
    modelseal()
        .args(["discover", &reference])
        .assert()
        .success()
        .stdout(contains("scitt/transparent-statement"))
        .stdout(predicates::function::function(|s: &str| {
            s.matches("sha256:").count() == 3
        }));
    // The tag schema index lists both: distribution 2.8 has no referrers API.
    let out = modelseal()
        .args(["pull", &reference, "-o"])
        .arg(dir.path().join("out"))
        .assert()
        .success();
    // Each file is progress (stderr, silenced by -q); the result is on stdout.
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("Downloaded"));
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("Pulled "));
    let quiet = modelseal()
        .args(["pull", "-q", &reference, "-o"])
        .arg(dir.path().join("out-quiet"))
        .assert()
        .success();
    assert!(!String::from_utf8_lossy(&quiet.get_output().stderr).contains("Downloaded"));
    assert_eq!(
        std::fs::read(dir.path().join("out/manifest.json")).unwrap(),
        b"{\"model\": 1}"
    );
    let tags = ureq_tags(&reference);
    assert!(
        tags.iter().any(|t| t.starts_with("sha256-")),
        "no referrers tag among {tags:?}"
    );
}

/// The repository's tags, read with curl from the registry's HTTP API.
fn ureq_tags(reference: &str) -> Vec<String> {
    let (host, rest) = reference.split_once('/').unwrap();
    let repo = rest.split(':').next().unwrap();
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("http://{host}/v2/{repo}/tags/list")])
        .output()
        .unwrap();
    let v = json_of(&out.stdout);
    v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pull_refuses_a_title_that_climbs_out_and_writes_nothing() {
    let (dir, work) = seed_files();
    push_and_attach_seed(&work, &["--oci-layout", "../layout:v1"]);
    let out = dir.path().join("pulled");
    modelseal()
        .current_dir(&work)
        .args(["pull", "--oci-layout", "../layout:v1", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("climbs out"));
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn a_corrupted_blob_is_caught_by_its_digest_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("w.bin"), &vec![7u8; 100_000]);
    modelseal()
        .current_dir(dir.path())
        .args([
            "push",
            "--oci-layout",
            "layout:v1",
            "w.bin:application/octet-stream",
        ])
        .assert()
        .success();
    let blob = std::fs::read_dir(dir.path().join("layout/blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::metadata(p).unwrap().len() == 100_000)
        .unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[500] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    modelseal()
        .current_dir(dir.path())
        .args(["pull", "--oci-layout", "layout:v1", "-o", "out"])
        .assert()
        .code(2)
        .stderr(contains("digest mismatch"));
    assert!(!dir.path().join("out/w.bin").exists());
}

#[test]
fn credentials_come_from_password_stdin_or_the_docker_config_and_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("m.json"), b"{}");
    let bin = assert_cmd::cargo::cargo_bin("modelseal");
    let config = dir.path().join("docker");
    std::fs::create_dir(&config).unwrap();
    // Pushes with -u/--password-stdin, then with the Docker config, then fails without
    // credentials and with a wrong password. Everything every run prints (stdout and stderr,
    // success or failure) goes to all.log, which must hold neither password nor their base64.
    let script = format!(
        r#"set -e
R=$MODELSEAL_TEST_REGISTRY
log() {{ "$@" >> all.log 2>&1; }}
printf 's3cret\n' | log {bin} push $R/auth/m:v1 m.json -u alice --password-stdin
printf '{{"auths":{{"%s":{{"auth":"%s"}}}}}}' "$R" "$(printf alice:s3cret | base64)" > {config}/config.json
DOCKER_CONFIG={config} log {bin} push $R/auth/m:v2 m.json
DOCKER_CONFIG={config} log {bin} discover $R/auth/m:v2
DOCKER_CONFIG={config} log {bin} pull $R/auth/m:v2 -o pulled
DOCKER_CONFIG={config} log {bin} --format json manifest fetch $R/auth/m:v2
cmp pulled/m.json m.json
if DOCKER_CONFIG=/nonexistent log {bin} pull $R/auth/m:v2 -o pulled2; then exit 12; fi
if DOCKER_CONFIG=/nonexistent log {bin} push $R/auth/m:v3 m.json; then exit 10; fi
if printf 'wr0ngpass\n' | log {bin} push $R/auth/m:v4 m.json -u alice --password-stdin; then exit 13; fi
if printf 'wr0ngpass\n' | log {bin} login $R -u alice --password-stdin; then exit 14; fi
grep -q . all.log || exit 15
for secret in s3cret wr0ngpass "$(printf alice:s3cret | base64)" "$(printf alice:wr0ngpass | base64)"; do
  if grep -qF "$secret" all.log; then echo "printed: $secret"; exit 11; fi
done
"#,
        bin = bin.display(),
        config = config.display()
    );
    let status = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/registry.sh"))
        .args(["--auth", "alice:s3cret", "--", "bash", "-c", &script])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "authenticated flow failed: {status}");
}

#[test]
fn the_acr_script_logs_in_with_an_identity_token_and_pushes_and_attaches() {
    // `az` is the one part that cannot run here: a stand-in prints a token; the registry is real
    // and accepts only that token as the password of ACR's all-zero user.
    let (dir, work) = seed_files();
    let bin_dir = dir.path().join("bin");
    write(&bin_dir.join("az"), b"#!/bin/sh\necho identity-token-123\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin_dir.join("az"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let env_file = dir.path().join("acr_env");
    std::fs::write(&env_file, "ACR_NAME=unused\nREPOSITORY=models/phi\nTAG=v1\nMANIFEST=../model-manifest.json\nSTATEMENT=../2ts-statement.scitt\n").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = format!(
        "ACR_REGISTRY=$MODELSEAL_TEST_REGISTRY bash {} > out.txt 2>&1; s=$?; cat out.txt; ! grep -q identity-token-123 out.txt && exit $s",
        root.join("acr/log_in_and_upload_to_acr.sh").display()
    );
    let path = format!(
        "{}:{}:{}",
        bin_dir.display(),
        assert_cmd::cargo::cargo_bin("modelseal")
            .parent()
            .unwrap()
            .display(),
        std::env::var("PATH").unwrap()
    );
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/registry.sh"))
        .args([
            "--auth",
            "00000000-0000-0000-0000-000000000000:identity-token-123",
            "--",
            "bash",
            "-c",
            &script,
        ])
        .current_dir(&work)
        .env("PATH", path)
        .env("ACR_ENV", &env_file)
        // The seed's creation time: the manifests then equal what oras pushed.
        .env("SOURCE_DATE_EPOCH", "1752570805")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("sha256:636db14f13dcef763d58742eea6a313a84f2b5535834b22124a38e40d86445ec"),
        "{stdout}"
    );
}

#[test]
fn copy_recursive_carries_the_referrer_tree_registry_to_layout_to_registry() {
    let (dir, work) = seed_files();
    let first = format!("{}/copy/src:v1", registry());
    push_and_attach_seed(&work, &[first.as_str()]);
    let layout = dir.path().join("backup");
    let layout_ref = format!("{}:v1", layout.display());
    modelseal()
        .args(["copy", "-r", &first, &layout_ref, "--to-oci-layout"])
        .assert()
        .success()
        .stdout(contains("2 manifest(s)"));
    let second = format!("{}/copy/dst:v1", registry());
    modelseal()
        .args(["copy", "-r", &layout_ref, &second, "--from-oci-layout"])
        .assert()
        .success();
    let tree = modelseal()
        .args(["discover", "--format", "json", &second])
        .assert()
        .success();
    let tree = json_of(&tree.get_output().stdout);
    assert_eq!(
        tree["manifests"][0]["digest"],
        "sha256:636db14f13dcef763d58742eea6a313a84f2b5535834b22124a38e40d86445ec"
    );
    let fetched = modelseal()
        .args(["manifest", "fetch", &second])
        .assert()
        .success();
    assert_eq!(
        fetched.get_output().stdout,
        std::fs::read(vector("scitt-for-phi/oci-push-manifest.json")).unwrap()
    );
}

#[test]
fn login_checks_the_password_stores_it_0600_and_logout_forgets_it() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("m.json"), b"{}");
    let bin = assert_cmd::cargo::cargo_bin("modelseal");
    let config = dir.path().join("docker");
    let script = format!(
        r#"set -e
R=$MODELSEAL_TEST_REGISTRY
export DOCKER_CONFIG={config}
if printf 'wrong\n' | {bin} login $R -u bob --password-stdin 2>err.txt; then exit 10; fi
grep -q refused err.txt || exit 11
[ ! -e {config}/config.json ] || exit 12
printf 'pa55\n' | {bin} login $R -u bob --password-stdin
[ "$(stat -c %a {config}/config.json)" = 600 ] || exit 13
{bin} push $R/login/m:v1 m.json
{bin} logout $R
if {bin} push $R/login/m:v2 m.json 2>/dev/null; then exit 14; fi
"#,
        bin = bin.display(),
        config = config.display()
    );
    let status = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/registry.sh"))
        .args(["--auth", "bob:pa55", "--", "bash", "-c", &script])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "login flow failed: {status}");
}

#[test]
fn many_files_upload_in_parallel_keep_their_order_and_all_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..9).map(|i| format!("shard-{i}.bin")).collect();
    for (i, n) in names.iter().enumerate() {
        write(&dir.path().join(n), &vec![i as u8; 50_000 + i * 1000]);
    }
    let reference = format!("{}/many/files:v1", registry());
    let files: Vec<String> = names
        .iter()
        .map(|n| format!("{n}:application/octet-stream"))
        .collect();
    modelseal()
        .current_dir(dir.path())
        .args(["push", &reference, "--artifact-type", "example/shards"])
        .args(&files)
        .assert()
        .success();
    let manifest = modelseal()
        .args(["manifest", "fetch", &reference])
        .assert()
        .success();
    let manifest = json_of(&manifest.get_output().stdout);
    let titles: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["annotations"]["org.opencontainers.image.title"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(titles, names.iter().map(String::as_str).collect::<Vec<_>>());
    let out = dir.path().join("out");
    modelseal()
        .args(["pull", &reference, "-o"])
        .arg(&out)
        .assert()
        .success();
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            std::fs::read(out.join(n)).unwrap(),
            vec![i as u8; 50_000 + i * 1000],
            "{n}"
        );
    }
    // A second push (through a front that counts) asks about every blob and uploads none: the
    // registry has them all; only the manifest is written again.
    let (uploads, heads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (u, h) = (uploads.clone(), heads.clone());
    let counting = front::start(
        registry(),
        Arc::new(
            move |method: &axum::http::Method,
                  path: &str,
                  _q: Option<&str>,
                  _h: &axum::http::HeaderMap| {
                if path.contains("/blobs/uploads") {
                    u.fetch_add(1, Ordering::SeqCst);
                } else if *method == axum::http::Method::HEAD && path.contains("/blobs/") {
                    h.fetch_add(1, Ordering::SeqCst);
                }
                None
            },
        ),
        Arc::new(|_: &axum::http::Method, _: &str, _: &[u8], _| Vec::new()),
    );
    modelseal()
        .current_dir(dir.path())
        .args([
            "push",
            &format!("{counting}/many/files:v1"),
            "--artifact-type",
            "example/shards",
        ])
        .args(&files)
        .assert()
        .success();
    assert_eq!(
        uploads.load(Ordering::SeqCst),
        0,
        "a blob was uploaded again"
    );
    assert!(
        heads.load(Ordering::SeqCst) >= names.len(),
        "every layer is asked about"
    );
    let again = modelseal()
        .args(["manifest", "fetch", &reference])
        .assert()
        .success();
    // The same layers (the manifest differs only by its creation time).
    assert_eq!(
        json_of(&again.get_output().stdout)["layers"],
        manifest["layers"]
    );
}

#[test]
fn the_same_round_trip_works_against_an_oci_layout() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("manifest.json"), b"{\"model\": 2}");
    write(&dir.path().join("a.scitt"), b"one");
    write(&dir.path().join("b.scitt"), b"two");
    let run = |args: &[&str]| {
        modelseal()
            .current_dir(dir.path())
            .args(args)
            .assert()
            .success()
    };
    run(&["push", "--oci-layout", "layout:v1", "manifest.json"]);
    run(&["attach", "--oci-layout", "layout:v1", "a.scitt"]);
    run(&["attach", "--oci-layout", "layout:v1", "b.scitt"]);
    let tree = run(&["discover", "--oci-layout", "layout:v1"]);
    let tree = String::from_utf8_lossy(&tree.get_output().stdout).to_string();
    assert_eq!(tree.matches("sha256:").count(), 3, "{tree}");
    let json = run(&["discover", "--oci-layout", "--format", "json", "layout:v1"]);
    assert_eq!(
        json_of(&json.get_output().stdout)["manifests"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    run(&["pull", "--oci-layout", "layout:v1", "-o", "out"]);
    assert_eq!(
        std::fs::read(dir.path().join("out/manifest.json")).unwrap(),
        b"{\"model\": 2}"
    );
    // The layout is a real OCI image layout: skopeo reads it. (scripts/test.sh installs skopeo
    // before the tests; a missing tool fails here rather than skipping the check.)
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", "oci:layout:v1"])
        .current_dir(dir.path())
        .output()
        .expect("skopeo is installed (scripts/test.sh does it: apt-get install skopeo)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json_of(&out.stdout)["artifactType"],
        "in-toto/model-manifest"
    );
}
