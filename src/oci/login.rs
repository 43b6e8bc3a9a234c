//! `login` and `logout`: credentials checked against the registry, then kept where Docker keeps
//! them — a credential helper when the Docker config names one, else `auths` in
//! `$DOCKER_CONFIG/config.json` (mode 0600). Reading them back is docker_credential's job.

use super::error::{OciError, Result};
use crate::core::atomic_file::write_atomic_private;
use base64::Engine;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The docker config file logins are read from and written to, as docker and oras find it:
/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json` (relative to the current
/// directory when `HOME` is unset).
pub fn docker_config_path() -> PathBuf {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker")
        });
    dir.join("config.json")
}

fn read_config() -> Result<Value> {
    let path = docker_config_path();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
            what: path.display().to_string(),
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
        Err(e) => Err(OciError::io(&path, e)),
    }
}

fn write_config(config: &Value) -> Result<()> {
    let path = docker_config_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| OciError::io(dir, e))?;
    }
    let mut bytes = serde_json::to_vec_pretty(config).expect("JSON serialises");
    bytes.push(b'\n');
    write_atomic_private(&path, &bytes).map_err(|e| OciError::io(&path, e))
}

/// The credential helper the config assigns to `registry`, if any.
fn helper_for(config: &Value, registry: &str) -> Option<String> {
    config
        .pointer(&format!(
            "/credHelpers/{}",
            registry.replace('~', "~0").replace('/', "~1")
        ))
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .map(|h| format!("docker-credential-{h}"))
}

fn run_helper(helper: &str, action: &str, input: &str) -> Result<()> {
    let mut child = Command::new(helper)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| OciError::io(helper, e))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .map_err(|e| OciError::io(helper, e))?;
    let out = child
        .wait_with_output()
        .map_err(|e| OciError::io(helper, e))?;
    if !out.status.success() {
        return Err(OciError::Registry(format!(
            "{helper} {action} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Where credentials were stored, for the user's information.
pub enum Stored {
    /// In a credential helper (`docker-credential-<name>`), by its name.
    Helper(String),
    /// Base64 in the `auths` of this docker config file.
    ConfigFile(PathBuf),
}

/// The keys of `auths` that docker_credential would read for `registry`: the registry itself, or
/// a key that names it with a scheme or a path (`https://ghcr.io/v1/`).
fn auths_keys_for(config: &Value, registry: &str) -> Vec<String> {
    let normalise = |k: &str| {
        let k = k
            .strip_prefix("https://")
            .or_else(|| k.strip_prefix("http://"))
            .unwrap_or(k);
        k.split('/').next().unwrap_or(k).to_ascii_lowercase()
    };
    let wanted = normalise(registry);
    config
        .get("auths")
        .and_then(Value::as_object)
        .map(|a| {
            a.keys()
                .filter(|k| k.as_str() == registry || normalise(k) == wanted)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Removes `registry`'s entries from `auths`; whether there were any.
fn remove_auths(config: &mut Value, registry: &str) -> bool {
    let keys = auths_keys_for(config, registry);
    let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut removed = false;
    for k in keys {
        removed |= auths.remove(&k).is_some();
    }
    removed
}

/// Stores credentials so that they are what is read next: with the helper the config names
/// (and then any `auths` entry for the registry is removed, since docker_credential reads
/// `auths` before `credsStore`), else in `auths`.
pub fn store_credentials(registry: &str, username: &str, secret: &str) -> Result<Stored> {
    let mut config = read_config()?;
    if let Some(helper) = helper_for(&config, registry) {
        let input =
            json!({"ServerURL": registry, "Username": username, "Secret": secret}).to_string();
        run_helper(&helper, "store", &input)?;
        if remove_auths(&mut config, registry) {
            write_config(&config)?;
        }
        return Ok(Stored::Helper(helper));
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"));
    if !config.is_object() {
        config = json!({});
    }
    remove_auths(&mut config, registry);
    let auths = config
        .as_object_mut()
        .expect("object")
        .entry("auths")
        .or_insert_with(|| json!({}));
    if !auths.is_object() {
        *auths = json!({});
    }
    auths[registry] = json!({ "auth": auth });
    write_config(&config)?;
    Ok(Stored::ConfigFile(docker_config_path()))
}

/// Removes stored credentials, as `docker logout` does: from the credential helper the config
/// names *and* from `auths` (a secret left there would keep being read). `false` when there
/// were none anywhere.
pub fn erase_credentials(registry: &str) -> Result<bool> {
    let mut config = read_config()?;
    let mut erased = false;
    let mut helper_error = None;
    if let Some(helper) = helper_for(&config, registry) {
        // A helper that has nothing for the registry fails its erase: that is "none there".
        match run_helper(&helper, "erase", registry) {
            Ok(()) => erased = true,
            Err(e) => helper_error = Some(e),
        }
    }
    if remove_auths(&mut config, registry) {
        write_config(&config)?;
        erased = true;
    }
    match helper_error {
        Some(e) if !erased => Err(e),
        _ => Ok(erased),
    }
}

/// Checks credentials the way `docker login` does: `GET /v2/`, then for a Bearer challenge a
/// token request to the realm with them (only if the realm passes the rule of
/// [`BearerChallenge::check_realm`](super::challenge::BearerChallenge::check_realm)), else
/// `GET /v2/` again with them. Plain HTTP only when `plain_http`.
pub async fn check_credentials(
    registry: &str,
    plain_http: bool,
    username: &str,
    secret: &str,
) -> Result<()> {
    let scheme = if plain_http { "http" } else { "https" };
    let client = crate::net::client();
    let request = crate::net::timeouts().request;
    let err =
        |e: reqwest::Error| OciError::Registry(format!("{registry}: {}", crate::net::describe(&e)));
    let first = client
        .get(format!("{scheme}://{registry}/v2/"))
        .timeout(request)
        .send()
        .await
        .map_err(err)?;
    if first.status().is_success() {
        return Ok(());
    }
    let challenge = first
        .headers()
        .get("www-authenticate")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let response = if let Some(bearer) = super::challenge::BearerChallenge::parse(&challenge) {
        if let super::challenge::RealmUse::OtherHost(host) = bearer
            .check_realm(scheme, registry)
            .map_err(|e| OciError::Registry(format!("{registry}: {e}")))?
        {
            crate::net::notice(&format!(
                "{registry}: the token service is on another host, {host} (HTTPS)"
            ));
        }
        bearer
            .token_request(&client, None, Some((username, secret)))
            .send()
            .await
            .map_err(err)?
    } else {
        client
            .get(format!("{scheme}://{registry}/v2/"))
            .basic_auth(username, Some(secret))
            .timeout(request)
            .send()
            .await
            .map_err(err)?
    };
    if response.status().is_success() {
        Ok(())
    } else {
        Err(OciError::Registry(format!(
            "{registry}: login refused ({})",
            response.status()
        )))
    }
}
