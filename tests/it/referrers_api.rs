//! The native referrers path: a registry that answers `GET /v2/<name>/referrers/<digest>`.
//! Debian's distribution 2.8 does not, so a small spec-following front (tests/it/common/front.rs)
//! answers the referrers API from the manifests with a `subject` it has seen stored, and forwards
//! everything else to the real registry. modelseal must then use the API and write no tag-schema
//! index.

use crate::common::front;
use crate::common::registry;

use crate::common::{json_of, modelseal};

#[test]
fn with_the_referrers_api_attach_writes_no_tag_schema_index_and_discover_uses_the_api() {
    native_path("native/api", false);
}

#[test]
fn a_referrers_api_behind_a_bearer_token_is_found_too() {
    // As on ACR and GHCR: the API answers 401 with a Bearer challenge; the token realm is served
    // by the same front.
    native_path("native/token", true);
}

fn native_path(repo: &str, wants_token: bool) {
    let registry = registry();
    let (front_addr, api_calls) = front::referrers_front(registry.clone(), wants_token);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), b"{\"native\": true}").unwrap();
    std::fs::write(dir.path().join("model.scitt"), b"statement").unwrap();
    let reference = format!("{front_addr}/{repo}:v1");
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
    let tree = modelseal()
        .args(["discover", "--format", "json", &reference])
        .assert()
        .success();
    assert_eq!(
        json_of(&tree.get_output().stdout)["manifests"][0]["digest"],
        referrer.as_str()
    );
    assert!(
        *api_calls.lock().unwrap() >= 2,
        "the referrers API was not used"
    );
    let tags = std::process::Command::new("curl")
        .args(["-sf", &format!("http://{registry}/v2/{repo}/tags/list")])
        .output()
        .unwrap();
    let tags = json_of(&tags.stdout);
    assert!(
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t.as_str().unwrap().starts_with("sha256-")),
        "a tag-schema index was written although the registry has the referrers API: {tags}"
    );
}
