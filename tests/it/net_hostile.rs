//! modelseal against servers that misbehave on purpose (issue 11): token realms that would take
//! credentials elsewhere, proxies that see where a password goes, servers that never answer,
//! redirect forever, or send answers without end, and a referrer cycle in a real registry
//! (`scripts/registry.sh -- cargo test --test it net_hostile::`). Every run is the CLI, end to end.

use crate::common::front;
use crate::common::hostile;
use crate::common::registry;
use crate::common::sha256_digest;

use crate::common::modelseal;
use axum::body::Body;
use axum::response::Response;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "s3cr3t-Pa55";

struct Run {
    code: Option<i32>,
    text: String,
    took: Duration,
}

/// Runs modelseal with `args`, `stdin`, extra env; stdout and stderr together.
fn run(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let mut cmd = modelseal();
    cmd.args(args).write_stdin(stdin.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        if !env.iter().any(|(e, _)| e == &k) {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        took: start.elapsed(),
    }
}

fn docker_config_with(dir: &Path, registry: &str) -> String {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    std::fs::write(
        dir.join("config.json"),
        serde_json::json!({"auths": {registry: {"auth": auth}}}).to_string(),
    )
    .unwrap();
    dir.display().to_string()
}

/// Case 1: a registry whose challenge names a token realm on another host over plain HTTP.
/// login, pull (Docker-config credentials) and push (-u/--password-stdin) all refuse before
/// any credential leaves, and say which realm and why; the realm sees nothing.
#[test]
fn a_token_realm_on_another_host_over_http_gets_no_credentials() {
    let (realm, realm_seen) = hostile::recorder(200);
    let realm_port = realm.rsplit_once(':').unwrap().1.to_string();
    // "localhost" is another host name than the registry's 127.0.0.1.
    let challenge = format!("Bearer realm=\"http://localhost:{realm_port}/token\",service=\"x\"");
    let (registry, _) = hostile::server(Arc::new(move |_| {
        Response::builder()
            .status(401)
            .header("www-authenticate", challenge.as_str())
            .body(Body::empty())
            .unwrap()
    }));
    let config = tempfile::tempdir().unwrap();
    let docker_config = docker_config_with(config.path(), &registry);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("m.json"), b"{}").unwrap();
    let m = work.path().join("m.json").display().to_string();
    let out = work.path().join("out").display().to_string();
    let reference = format!("{registry}/hostile/realm:v1");
    let env = [("DOCKER_CONFIG", docker_config.as_str())];
    for (args, stdin) in [
        (
            vec!["login", registry.as_str(), "-u", "user", "--password-stdin"],
            SECRET,
        ),
        (vec!["pull", reference.as_str(), "-o", out.as_str()], ""),
        (
            vec![
                "push",
                reference.as_str(),
                m.as_str(),
                "-u",
                "user",
                "--password-stdin",
            ],
            SECRET,
        ),
    ] {
        let r = run(&args, &format!("{stdin}\n"), &env);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.text);
        assert!(
            r.text.contains("refusing token realm http://localhost:")
                && r.text.contains("another host"),
            "{args:?}: {}",
            r.text
        );
        assert!(!r.text.contains(SECRET), "{args:?} printed the secret");
        assert!(!r.text.contains("Login Succeeded"));
    }
    assert!(
        realm_seen
            .lock()
            .unwrap()
            .iter()
            .all(|s| s.header("authorization").is_none()),
        "the realm was sent credentials"
    );
}

/// Case 2: names that merely start with "localhost" or "127.0.0.1" are other hosts: login
/// goes to them over HTTPS (a CONNECT through the proxy), never a plain-HTTP GET a proxy (or
/// anyone on the way) could read the password from.
#[test]
fn login_to_names_that_only_start_with_localhost_uses_https() {
    let (proxy, seen) = hostile::recorder(502);
    let proxy_url = format!("http://{proxy}");
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("NO_PROXY", ""),
    ];
    for name in [
        "localhost.attacker.example:5000",
        "127.0.0.1.nip.io:5000",
        "localhostregistry.example.com",
    ] {
        let r = run(
            &[
                "login",
                name,
                "-u",
                "user",
                "--password-stdin",
                "--timeout",
                "3",
            ],
            &format!("{SECRET}\n"),
            &env,
        );
        assert_eq!(r.code, Some(2), "{name}: {}", r.text);
        assert!(!r.text.contains(SECRET));
    }
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty(), "the proxy saw nothing");
    for s in seen.iter() {
        assert!(s.line.starts_with("CONNECT "), "plain HTTP: {}", s.line);
        assert!(s.header("authorization").is_none());
    }
}

/// Case 3: after `login` stored `auths[reg]` and the user set `credsStore`, logout erases from
/// the helper *and* from `auths`; a login with a helper leaves no `auths` entry shadowing it.
#[test]
fn logout_erases_the_helper_and_the_config_file() {
    let (registry, _) = hostile::server(Arc::new(|_| Response::new(Body::from("{}"))));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let calls = dir.path().join("calls");
    let helper = bin.join("docker-credential-mstest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\ncat > /dev/null\nexit 0\n",
            calls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let config_dir = dir.path().join("docker");
    std::fs::create_dir(&config_dir).unwrap();
    let config = config_dir.join("config.json");
    let env = [
        ("DOCKER_CONFIG", config_dir.to_str().unwrap()),
        ("PATH", path.as_str()),
    ];
    let auths_has = |reg: &str| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
        v["auths"].get(reg).is_some()
    };
    // login stores in auths (no helper yet); then the user sets credsStore.
    let r = run(
        &["login", &registry, "-u", "user", "--password-stdin"],
        &format!("{SECRET}\n"),
        &env,
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(auths_has(&registry));
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    v["credsStore"] = "mstest".into();
    std::fs::write(&config, v.to_string()).unwrap();
    let r = run(&["logout", &registry], "", &env);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        !auths_has(&registry),
        "logout left the secret in config.json"
    );
    assert!(!std::fs::read_to_string(&config).unwrap().contains("auth\""));
    assert_eq!(std::fs::read_to_string(&calls).unwrap().trim(), "erase");
    // With the helper set, login stores with it and leaves no auths entry that would be read
    // first (docker_credential reads auths before credsStore).
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    v["auths"] = serde_json::json!({ &registry: {"auth": "dXNlcjpvbGQ="} });
    std::fs::write(&config, v.to_string()).unwrap();
    let r = run(
        &["login", &registry, "-u", "user", "--password-stdin"],
        &format!("{SECRET}\n"),
        &env,
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(!auths_has(&registry));
    assert!(std::fs::read_to_string(&calls).unwrap().contains("store"));
}

/// Cases 4 and 6: `--ts http://user:secret@host` against a service that redirects to itself
/// forever (and echoes the URL back in its error): the secret reached the server, and is in no
/// message; the loop ends at the hop limit at once; a 302 "pending" loop ends at the deadline.
#[test]
fn redirect_loops_end_and_service_credentials_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = crate::common::keygen(dir.path(), "ES256");
    let statement = dir.path().join("s.cose");
    let manifest = dir.path().join("m.json");
    std::fs::write(&manifest, b"{\"x\":1}").unwrap();
    let r = run(
        &[
            "sign",
            manifest.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--issuer",
            "https://iss.example",
            "--subject",
            "s",
            "-o",
            statement.to_str().unwrap(),
        ],
        "",
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    let out = dir.path().join("out.scitt");
    let register = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "register",
            statement.to_str().unwrap(),
            "--ts",
            url,
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args, "", &[])
    };
    // 303 to itself, forever.
    let (looping, seen) = hostile::server(Arc::new(|_| {
        Response::builder()
            .status(303)
            .header("location", "/entries/again")
            .body(Body::empty())
            .unwrap()
    }));
    let r = register(&format!("http://user:{SECRET}@{looping}"), &[]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("redirects and polls"), "{}", r.text);
    assert!(r.took < Duration::from_secs(10), "took {:?}", r.took);
    assert!(!r.text.contains(SECRET), "printed: {}", r.text);
    assert!(r.text.contains("***@"), "{}", r.text);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|s| s.header("authorization").is_some()),
        "the server never got the credentials: the test proves nothing"
    );
    // An error that echoes the URL with its userinfo.
    let (echo, _) = hostile::server(Arc::new(|r| {
        Response::builder()
            .status(400)
            .body(Body::from(format!(
                "bad request to http://user:{SECRET}@host{}",
                r.uri()
            )))
            .unwrap()
    }));
    let r = register(&format!("http://user:{SECRET}@{echo}"), &[]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(!r.text.contains(SECRET), "printed: {}", r.text);
    // A silent service: the timeout message names no secret either.
    let silent = hostile::silent();
    let r = register(
        &format!("http://user:{SECRET}@{silent}"),
        &["--timeout", "1"],
    );
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(!r.text.contains(SECRET), "printed: {}", r.text);
    // 302 "still pending" forever: the deadline (12 x --timeout) ends it.
    let (pending, _) = hostile::server(Arc::new(|_| {
        Response::builder()
            .status(302)
            .header("location", "/entries/1")
            .header("retry-after", "1")
            .body(Body::empty())
            .unwrap()
    }));
    let r = register(&format!("http://{pending}"), &["--timeout", "0.25"]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("deadline"), "{}", r.text);
    assert!(r.took < Duration::from_secs(8), "took {:?}", r.took);
}

/// Case 5: a server that accepts and never answers. pull, discover, login and register give up
/// after --timeout; with the default, within 10 s (plus start-up).
#[test]
fn a_server_that_never_answers_is_given_up_on() {
    let silent = hostile::silent();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let statement = dir.path().join("s.cose");
    std::fs::write(&statement, b"not even cose").unwrap();
    let reference = format!("{silent}/silent/m:v1");
    let url = format!("http://{silent}");
    let runs: Vec<Vec<&str>> = vec![
        vec!["pull", &reference, "-o", &out],
        vec!["discover", &reference],
        vec!["manifest", "fetch", &reference],
        vec!["login", &silent, "-u", "u", "--password-stdin"],
    ];
    for args in &runs {
        let mut args = args.clone();
        args.extend(["--timeout", "1"]);
        let r = run(&args, "pw\n", &[]);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.text);
        assert!(
            r.took < Duration::from_secs(8),
            "{args:?} took {:?}",
            r.took
        );
        assert!(r.text.contains("timed out"), "{args:?}: {}", r.text);
    }
    // register needs a COSE statement before it talks: sign one.
    let (key, _) = crate::common::keygen(dir.path(), "ES256");
    let m = dir.path().join("m.json");
    std::fs::write(&m, b"{}").unwrap();
    assert_eq!(
        run(
            &[
                "sign",
                m.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--issuer",
                "i",
                "--subject",
                "s",
                "-o",
                statement.to_str().unwrap(),
            ],
            "",
            &[]
        )
        .code,
        Some(0)
    );
    let o = dir.path().join("o").display().to_string();
    let r = run(
        &[
            "register",
            statement.to_str().unwrap(),
            "--ts",
            &url,
            "-o",
            &o,
            "--timeout",
            "1",
        ],
        "",
        &[],
    );
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(
        r.took < Duration::from_secs(8),
        "register took {:?}",
        r.took
    );
    // The default gives up within 10 s.
    let r = run(&["pull", &reference, "-o", &out], "", &[]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(
        r.took < Duration::from_secs(14),
        "default pull took {:?}",
        r.took
    );
}

/// Cases 8 and 9: answers without end. A manifest (with and without Content-Length) is refused
/// at the 4 MiB cap, a SCRAPI answer at the 1 MiB receipt cap, each naming the limit.
#[test]
fn endless_answers_are_refused_at_their_cap_while_reading() {
    for with_length in [true, false] {
        let (registry, _) = hostile::server(Arc::new(move |r| {
            if r.uri().path().contains("/manifests/") {
                hostile::endless(
                    600 << 20,
                    b' ',
                    with_length,
                    200,
                    "application/vnd.oci.image.manifest.v1+json",
                )
            } else {
                Response::new(Body::from("{}"))
            }
        }));
        let r = run(
            &["manifest", "fetch", &format!("{registry}/big/m:v1")],
            "",
            &[],
        );
        assert_eq!(r.code, Some(2), "{}", r.text);
        assert!(r.text.contains("4194304-byte limit"), "{}", r.text);
        assert!(r.took < Duration::from_secs(10), "took {:?}", r.took);
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = crate::common::keygen(dir.path(), "ES256");
    let m = dir.path().join("m.json");
    let statement = dir.path().join("s.cose");
    std::fs::write(&m, b"{}").unwrap();
    let signed = run(
        &[
            "sign",
            m.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--issuer",
            "i",
            "--subject",
            "s",
            "-o",
            statement.to_str().unwrap(),
        ],
        "",
        &[],
    );
    assert_eq!(signed.code, Some(0), "{}", signed.text);
    for with_length in [true, false] {
        let (service, _) = hostile::server(Arc::new(move |_| {
            hostile::endless(2 << 30, 0xa0, with_length, 201, "application/cose")
        }));
        let o = dir.path().join("o").display().to_string();
        let r = run(
            &[
                "register",
                statement.to_str().unwrap(),
                "--ts",
                &format!("http://{service}"),
                "-o",
                &o,
            ],
            "",
            &[],
        );
        assert_eq!(r.code, Some(2), "{}", r.text);
        assert!(
            r.text.contains("1048576-byte limit for a receipt"),
            "{}",
            r.text
        );
    }
}

/// Case 10: anyone with push access tags `sha256-<A>` with an index listing A itself and an
/// unrelated manifest B. copy -r and discover finish, copy only A and its real referrer, and
/// report the two listed manifests whose subject is not A.
#[test]
fn a_referrer_cycle_and_foreign_referrers_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.json"), b"{\"model\":1}").unwrap();
    std::fs::write(dir.path().join("b.json"), b"{\"other\":1}").unwrap();
    std::fs::write(dir.path().join("sig.txt"), b"a real referrer").unwrap();
    let reg = registry();
    let a_ref = format!("{reg}/cycle/m:v1");
    let b_ref = format!("{reg}/cycle/m:other");
    let in_dir = |args: &[&str]| {
        let mut cmd = modelseal();
        cmd.current_dir(dir.path()).args(args);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    in_dir(&["push", &a_ref, "m.json"]);
    in_dir(&["push", &b_ref, "b.json"]);
    in_dir(&[
        "attach",
        &a_ref,
        "sig.txt",
        "--artifact-type",
        "example/sig",
    ]);
    let a = in_dir(&["manifest", "fetch", &a_ref]);
    let b = in_dir(&["manifest", "fetch", &b_ref]);
    let (a_digest, b_digest) = (sha256_digest(&a), sha256_digest(&b));
    // The tag-schema index attach wrote, plus A itself and B.
    let tag = format!("sha256-{}", &a_digest[7..]);
    let index_url = format!("http://{reg}/v2/cycle/m/manifests/{tag}");
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-sf"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {args:?}");
        out.stdout
    };
    let mut index: serde_json::Value = serde_json::from_slice(&curl(&[
        "-H",
        "Accept: application/vnd.oci.image.index.v1+json",
        &index_url,
    ]))
    .unwrap();
    for (digest, bytes) in [(&a_digest, &a), (&b_digest, &b)] {
        index["manifests"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": bytes.len(),
                "artifactType": "example/sig",
            }));
    }
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.index.v1+json",
        "--data-binary",
        &index.to_string(),
        &index_url,
    ]);

    let layout = dir.path().join("layout").display().to_string();
    let start = Instant::now();
    let r = run(
        &[
            "copy",
            "-r",
            &a_ref,
            &format!("{layout}:v1"),
            "--to-oci-layout",
        ],
        "",
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(r.text.contains("(2 manifest(s))"), "{}", r.text);
    for d in [&a_digest, &b_digest] {
        assert!(
            r.text.contains(&format!("skipped referrer {d}")),
            "{}",
            r.text
        );
    }
    let r = run(
        &["discover", &a_ref, "--depth", "50", "--format", "table"],
        "",
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.text.contains(&format!("skipped referrer {b_digest}")),
        "{}",
        r.text
    );
    let rows = r.text.lines().filter(|l| l.contains("example/sig")).count();
    assert_eq!(rows, 1, "{}", r.text);
}

/// Case 7: `ts serve`'s limits, in process with short timeouts: stalled uploads over the
/// large-body cap get 503 + Retry-After, a normal registration still succeeds while they hold
/// their connections, a client that sends no headers is cut at the header timeout, and one
/// over the connection cap gets 503 at once.
#[test]
fn ts_serve_bears_stalled_clients_and_still_registers() {
    use modelseal::transparency::TransparencyLog;
    use modelseal::transparency::registration::RegistrationPolicy;
    use modelseal::transparency::server::{ServeLimits, router_with, serve};
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts");
    let policy = RegistrationPolicy {
        issuer_keys: Vec::new(),
        issuer_roots: Vec::new(),
        accept_any_issuer: true,
    };
    TransparencyLog::init_with_key(&ts, &policy, None).unwrap();
    let log = Arc::new(TransparencyLog::open(&ts).unwrap());
    let limits = ServeLimits {
        header_read: Duration::from_millis(700),
        body_read: Duration::from_secs(30),
        connections: 40,
        small_bodies: 4,
        large_bodies: 2,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let base2 = base.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = router_with(log, base2, limits);
            serve(listener, app, limits, std::future::pending())
                .await
                .unwrap();
        });
    });
    // 10 stalled 4 MiB uploads: 1 MiB sent, then silence.
    let mut stalled = Vec::new();
    let mut busy = 0;
    for _ in 0..10 {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST /entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/cose\r\nContent-Length: {}\r\n\r\n",
            4 << 20
        )
        .unwrap();
        let _ = s.write_all(&vec![0u8; 1 << 20]);
        stalled.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    for s in &mut stalled {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 512];
        if let Ok(n) = s.read(&mut buf) {
            let head = String::from_utf8_lossy(&buf[..n]);
            if head.starts_with("HTTP/1.1 503") {
                assert!(head.to_lowercase().contains("retry-after: 1"), "{head}");
                busy += 1;
            }
        }
    }
    assert!(
        busy >= 8,
        "only {busy} of the stalled uploads over the cap got 503"
    );
    // A normal registration, through the CLI, while two stalled uploads hold their permits.
    let (key, _) = crate::common::keygen(dir.path(), "ES256");
    let m = dir.path().join("m.json");
    let statement = dir.path().join("s.cose");
    std::fs::write(&m, b"{}").unwrap();
    let signed = run(
        &[
            "sign",
            m.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--issuer",
            "i",
            "--subject",
            "s",
            "-o",
            statement.to_str().unwrap(),
        ],
        "",
        &[],
    );
    assert_eq!(signed.code, Some(0), "{}", signed.text);
    let service_pub = ts.join(modelseal::transparency::log::PUBLIC_KEY_FILE);
    let o = dir.path().join("o.scitt");
    let r = run(
        &[
            "register",
            statement.to_str().unwrap(),
            "--ts",
            &base,
            "--ts-key",
            service_pub.to_str().unwrap(),
            "-o",
            o.to_str().unwrap(),
        ],
        "",
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    // A client that never sends its headers is cut at the header timeout.
    let mut quiet = std::net::TcpStream::connect(addr).unwrap();
    quiet
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = quiet.read(&mut buf).unwrap_or(0);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "not cut: {:?}",
        start.elapsed()
    );
    let _ = n;
    // Over the connection cap: 503 at once.
    let mut held = Vec::new();
    for _ in 0..45 {
        held.push(std::net::TcpStream::connect(addr).unwrap());
    }
    let mut last = held.pop().unwrap();
    last.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut answer = String::new();
    let _ = last.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    drop(stalled);
}

/// Case 5, the other half: a blob transfer that keeps moving is never cut, even when it takes
/// longer than a small request's overall deadline (6 x --timeout): only silence counts.
#[test]
fn a_slow_blob_that_keeps_moving_is_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let weights: Vec<u8> = (0..2_000_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.path().join("w.bin"), &weights).unwrap();
    let reference = format!("{}/slow/blob:v1", registry());
    let mut cmd = modelseal();
    cmd.current_dir(dir.path())
        .args(["push", &reference, "w.bin:application/octet-stream"])
        .assert()
        .success();
    let digest = sha256_digest(&weights);
    let bytes = Arc::new(weights.clone());
    let intercept = Arc::new(
        move |method: &axum::http::Method,
              path: &str,
              _q: Option<&str>,
              _h: &axum::http::HeaderMap| {
            if *method != axum::http::Method::GET || !path.ends_with(&format!("/blobs/{digest}")) {
                return None;
            }
            // 10 pieces, 0.8 s apart: 8 s in all, never silent for 1 s.
            let bytes = bytes.clone();
            let len = bytes.len();
            let piece = len.div_ceil(10);
            let stream = futures_util::stream::unfold(0usize, move |i| {
                let bytes = bytes.clone();
                async move {
                    if i * piece >= bytes.len() {
                        return None;
                    }
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(800)).await;
                    }
                    let end = ((i + 1) * piece).min(bytes.len());
                    Some((
                        Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(
                            &bytes[i * piece..end],
                        )),
                        i + 1,
                    ))
                }
            });
            Some(
                Response::builder()
                    .header("content-length", len.to_string())
                    .header("content-type", "application/octet-stream")
                    .header("docker-content-digest", digest.as_str())
                    .body(Body::from_stream(stream))
                    .unwrap(),
            )
        },
    );
    let slow = front::start(
        registry(),
        intercept,
        Arc::new(|_: &axum::http::Method, _: &str, _: &[u8], _| Vec::new()),
    );
    let out = dir.path().join("out");
    let r = run(
        &[
            "pull",
            &format!("{slow}/slow/blob:v1"),
            "-o",
            out.to_str().unwrap(),
            "--timeout",
            "1",
        ],
        "",
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.took > Duration::from_secs(6),
        "the blob was not slow: {:?}",
        r.took
    );
    assert_eq!(std::fs::read(out.join("w.bin")).unwrap(), weights);
}

/// Case 10 in verification: a valid statement attached to another artifact B (same model
/// manifest, another OCI manifest) and listed in A's tag-schema index does not verify A: its
/// subject is B. (Without the check, it would meet the policy for A.)
#[test]
fn verification_ignores_a_statement_whose_subject_is_another_manifest() {
    const DID: &str = "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.1";
    let dir = tempfile::tempdir().unwrap();
    let phi = |f: &str| crate::common::vector(&format!("scitt-for-phi/{f}"));
    let s =
        modelseal::core::cose::Sign1::parse(&std::fs::read(phi("signed-statement.scitt")).unwrap())
            .unwrap();
    std::fs::write(dir.path().join("root.der"), &s.x5chain().unwrap()[2]).unwrap();
    let mut policy = format!(
        "version = 1\n[[policy]]\nname = \"phi\"\nscopes = [\"*\"]\nmin_receipts = 2\n[[policy.issuers]]\nroot = \"root.der\"\niss = \"{DID}\"\n"
    );
    for k in ["ccf-service-key.pem", "mmr-service-key.pem"] {
        std::fs::copy(phi(k), dir.path().join(k)).unwrap();
        policy.push_str(&format!(
            "[[policy.transparency_services]]\nname = \"{k}\"\nkey = \"{k}\"\n"
        ));
    }
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    std::fs::copy(
        phi("model-manifest.json"),
        dir.path().join("model-manifest.json"),
    )
    .unwrap();
    std::fs::copy(phi("2ts-statement.scitt"), dir.path().join("s.scitt")).unwrap();
    let reg = registry();
    let (a_ref, b_ref) = (format!("{reg}/verify/phi:a"), format!("{reg}/verify/phi:b"));
    let in_dir = |args: &[&str]| {
        let out = modelseal()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            out.stdout,
        )
    };
    for (r, t) in [
        (&a_ref, "2025-01-01T00:00:00Z"),
        (&b_ref, "2025-01-02T00:00:00Z"),
    ] {
        let created = format!("org.opencontainers.image.created={t}");
        assert_eq!(
            in_dir(&["push", r, "model-manifest.json", "-a", &created]).0,
            Some(0)
        );
    }
    assert_eq!(in_dir(&["attach", &b_ref, "s.scitt"]).0, Some(0));
    let verify = |r: &str| {
        in_dir(&[
            "discover",
            "--verify",
            r,
            "--policy",
            policy_path.to_str().unwrap(),
        ])
    };
    let (code, text, _) = verify(&b_ref);
    assert_eq!(
        code,
        Some(0),
        "the statement should meet the policy for B: {text}"
    );
    let b_digest = sha256_digest(&in_dir(&["manifest", "fetch", &b_ref]).2);
    let a_digest = sha256_digest(&in_dir(&["manifest", "fetch", &a_ref]).2);
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .arg("-sf")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {args:?}");
        out.stdout
    };
    let b_index = curl(&[
        "-H",
        "Accept: application/vnd.oci.image.index.v1+json",
        &format!(
            "http://{reg}/v2/verify/phi/manifests/sha256-{}",
            &b_digest[7..]
        ),
    ]);
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.index.v1+json",
        "--data-binary",
        std::str::from_utf8(&b_index).unwrap(),
        &format!(
            "http://{reg}/v2/verify/phi/manifests/sha256-{}",
            &a_digest[7..]
        ),
    ]);
    let (code, text, _) = verify(&a_ref);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("its subject is {b_digest}")),
        "{text}"
    );
}
