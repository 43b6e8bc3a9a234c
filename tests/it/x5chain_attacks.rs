//! Attacks with certificates, end to end through the CLI (issue 10 cases 1 and 2): a leaf that
//! expired (or is not valid yet) signing with a backdated (or forward-dated) `iat`, and a chain
//! that carries another team's CA past its trusted anchor to borrow that team's did:x509. Each
//! attack has a control beside it, the same steps with an honest certificate, which must pass:
//! a test that refuses everything proves nothing. docs/threat-model.md names these tests.

use crate::common::modelseal;
use crate::common::pki::{CODE_SIGNING, Pki, YEAR_2020, YEAR_2021, did_x509_eku, write_chain};
use crate::common::scitt::{Trust, local, ts_init};
use modelseal::core::clock;
use modelseal::flows::{ModelCheck, verify_model};
use predicates::str::contains;
use std::path::{Path, PathBuf};

const DAY: i64 = 86_400;

/// A log that registers anything (`--accept-any-issuer`): the attacker's choice of service,
/// which a consumer's policy may still list for its receipts.
fn any_issuer_log(dir: &Path) -> PathBuf {
    let ts = dir.join("any-ts");
    ts_init(&ts, Trust::AnyIssuer);
    ts
}

/// A consumer's policy: statements from an x5chain to `root` claiming `iss`, with at least one
/// receipt from the log at `ts`.
fn root_policy(dir: &Path, root: &Path, iss: &str, ts: &Path) -> PathBuf {
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 2\n[[policy]]\nname = \"team\"\nscopes = [\"*\"]\nmin_receipts = 1\n\
             [[policy.issuers]]\nroot = {root:?}\niss = {iss:?}\n\
             [[policy.transparency_services]]\nname = \"log\"\nkey = {key:?}\n",
            key = ts.join("service.pub"),
        ),
    )
    .unwrap();
    policy
}

/// `publish --files --x5chain` of the tiny model to `layout:tag`, registered with `ts`, signed
/// at `iat` (SOURCE_DATE_EPOCH, as a reproducible build would set it).
fn publish(layout: &Path, tag: &str, key: &Path, chain: &Path, iss: &str, ts: &Path, iat: i64) {
    modelseal()
        .env("SOURCE_DATE_EPOCH", iat.to_string())
        .args(["publish", "examples/tiny-model", "--oci-layout", "--files"])
        .arg(format!("{}:{tag}", layout.display()))
        .arg("--key")
        .arg(key)
        .arg("--x5chain")
        .arg(chain)
        .args(["--issuer", iss, "--ts"])
        .arg(local(ts))
        .assert()
        .success();
}

fn discover_verify(reference: &str, policy: &Path) -> assert_cmd::assert::Assert {
    modelseal()
        .args([
            "discover",
            "--oci-layout",
            "--verify",
            reference,
            "--policy",
        ])
        .arg(policy)
        .assert()
}

fn pull_verify(reference: &str, policy: &Path, out: &Path) -> assert_cmd::assert::Assert {
    modelseal()
        .args(["pull", "--oci-layout", "--verify", reference, "--policy"])
        .arg(policy)
        .arg("-o")
        .arg(out)
        .assert()
}

/// `sign` of the tiny model's config with an x5chain, claiming `iss`, at `iat`.
fn sign(dir: &Path, name: &str, key: &Path, chain: &Path, iss: &str, iat: i64) -> PathBuf {
    let out = dir.join(format!("{name}.cose"));
    modelseal()
        .args(["sign", "examples/tiny-model/config.json", "--key"])
        .arg(key)
        .arg("--x5chain")
        .arg(chain)
        .args([
            "--issuer",
            iss,
            "--subject",
            name,
            "--iat",
            &iat.to_string(),
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    out
}

fn verify_cert(statement: &Path, root: &Path) -> assert_cmd::assert::Assert {
    modelseal()
        .arg("verify")
        .arg(statement)
        .arg("--cert")
        .arg(root)
        .assert()
}

fn is_empty_or_absent(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

// Case 1: the holder of a leaf that expired in 2021 signs today with an iat in 2020, and
// registers it in a log that accepts anyone. Its receipt proves only today; at today the leaf
// has expired. Before the fix the chain was judged at the iat, and all of this passed.
#[test]
fn an_expired_leaf_with_a_backdated_iat_is_refused_by_verify_discover_and_pull() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let team = pki.ca(pki.root(), "team-ca");
    let now = clock::now();
    let expired = pki.leaf(&team, "expired", YEAR_2020, YEAR_2021, &[]);
    let valid = pki.leaf(&team, "valid", now - DAY, now + 400 * DAY, &[]);
    let iss = "https://team.example";
    let ts = any_issuer_log(d);
    let policy = root_policy(d, &pki.root().cert, iss, &ts);
    let layout = d.join("layout");
    let backdated = YEAR_2020 + 30 * DAY;
    publish(
        &layout,
        "v1",
        &expired.key,
        &expired.chain,
        iss,
        &ts,
        backdated,
    );
    publish(&layout, "v2", &valid.key, &valid.chain, iss, &ts, now);
    let (attack, control) = (
        format!("{}:v1", layout.display()),
        format!("{}:v2", layout.display()),
    );

    discover_verify(&control, &policy)
        .success()
        .stdout(contains("✔ policy met"));
    discover_verify(&attack, &policy)
        .code(1)
        .stdout(contains("certificate 0 (expired) had expired at"))
        .stdout(contains("registration time proven by verified receipt"))
        .stdout(contains("✘ policy NOT met"));

    let pulled = d.join("pulled");
    pull_verify(&control, &policy, &pulled).success();
    assert!(pulled.join("config.json").is_file());
    let refused = d.join("refused");
    pull_verify(&attack, &policy, &refused)
        .code(1)
        .stdout(contains("had expired at"))
        .stdout(contains("policy NOT met"));
    assert!(is_empty_or_absent(&refused), "nothing unverified on disk");
    // The library call a model server makes: the files match, the statement's time does not.
    let check = |reference: &str| {
        verify_model(&ModelCheck {
            model_dir: "examples/tiny-model".into(),
            manifest_ref: reference.into(),
            oci_layout: true,
            policy: Some(policy.clone()),
        })
        .unwrap()
    };
    assert!(check(&control).verified);
    let verdict = check(&attack);
    assert!(!verdict.verified && verdict.enforced);
    assert!(
        verdict.reasons.iter().any(|r| r.contains("had expired at")),
        "{:?}",
        verdict.reasons
    );

    // The bare statement, no receipt: no trusted time, so it is judged now.
    let statement = sign(d, "backdated", &expired.key, &expired.chain, iss, backdated);
    verify_cert(&statement, &pki.root().cert)
        .code(1)
        .stdout(contains("had expired at"))
        .stdout(contains("no trusted time"));
    let honest = sign(d, "honest", &valid.key, &valid.chain, iss, now);
    verify_cert(&honest, &pki.root().cert).success();
}

// Case 1, the other direction: a leaf valid only from next week signs with an iat inside its
// validity. The iat is a claim in the future; and judged now, the leaf is not valid yet.
#[test]
fn a_not_yet_valid_leaf_with_a_forward_dated_iat_is_refused_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let now = clock::now();
    let future = pki.leaf(pki.root(), "future", now + 7 * DAY, now + 400 * DAY, &[]);
    let iss = "https://team.example";
    let forward = sign(d, "forward", &future.key, &future.chain, iss, now + 8 * DAY);
    verify_cert(&forward, &pki.root().cert)
        .code(1)
        .stdout(contains("was not yet valid at"))
        .stdout(contains("✘ issued at"));
}

// Case 2: team B's leaf, chained [leaf(B), B-CA, ROOT, A-CA], claims team A's did:x509 (A-CA's
// fingerprint). A-CA was never validated (the path ends at ROOT); before the fix its
// fingerprint matched anyway. Refused by verify, by a service with ROOT as issuer root, and by
// discover/pull --verify; the same leaf claiming its own CA's did:x509 passes each.
#[test]
fn a_ca_carried_past_the_anchor_does_not_lend_its_did_x509() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(&d.join("pki"));
    let (ca_a, ca_b) = (
        pki.ca(pki.root(), "team-a-ca"),
        pki.ca(pki.root(), "team-b-ca"),
    );
    let now = clock::now();
    let leaf = pki.leaf(&ca_b, "team-b", now - DAY, now + 400 * DAY, &[CODE_SIGNING]);
    let (did_a, did_b) = (
        did_x509_eku(&ca_a, CODE_SIGNING),
        did_x509_eku(&ca_b, CODE_SIGNING),
    );
    let smuggling = d.join("smuggling.pem");
    write_chain(
        &smuggling,
        &[&leaf.der, &ca_b.der, &pki.root().der, &ca_a.der],
    );
    let root = &pki.root().cert;

    // verify --cert ROOT
    let attack = sign(d, "attack", &leaf.key, &smuggling, &did_a, now);
    verify_cert(&attack, root)
        .code(1)
        .stdout(contains("goes on past its trusted anchor"));
    let control = sign(d, "control", &leaf.key, &leaf.chain, &did_b, now);
    verify_cert(&control, root).success();

    // a transparency service trusting ROOT for issuers
    let ts = d.join("root-ts");
    ts_init(&ts, Trust::Root(root));
    let register = |statement: &Path, out: &str| {
        modelseal()
            .arg("register")
            .arg(statement)
            .arg("--ts")
            .arg(local(&ts))
            .arg("-o")
            .arg(d.join(out))
            .assert()
    };
    register(&attack, "attack.scitt")
        .code(2)
        .stderr(contains("goes on past its trusted anchor"));
    register(&control, "control.scitt").success();
    assert!(!d.join("attack.scitt").exists());

    // discover and pull --verify under a policy that trusts team A's did:x509 under ROOT
    let any = any_issuer_log(d);
    let policy = root_policy(d, root, &did_a, &any);
    let layout = d.join("layout");
    publish(&layout, "v1", &leaf.key, &smuggling, &did_a, &any, now);
    let reference = format!("{}:v1", layout.display());
    discover_verify(&reference, &policy)
        .code(1)
        .stdout(contains("goes on past its trusted anchor"));
    let out = d.join("pulled");
    pull_verify(&reference, &policy, &out).code(1);
    assert!(is_empty_or_absent(&out), "nothing unverified on disk");
    // Control: team A's own leaf, honestly chained, meets the same policy.
    let leaf_a = pki.leaf(&ca_a, "team-a", now - DAY, now + 400 * DAY, &[CODE_SIGNING]);
    publish(&layout, "v2", &leaf_a.key, &leaf_a.chain, &did_a, &any, now);
    discover_verify(&format!("{}:v2", layout.display()), &policy)
        .success()
        .stdout(contains("✔ policy met"));
}

/// Runs `openssl ARGS` in `dir` (`must_openssl` panics with its stderr when it fails).
fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (scripts/test.sh does it)")
}

fn must_openssl(dir: &Path, args: &[&str]) {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl` in `dir`: a self-signed P-256 CA `NAME.pem` (`NAME.key`), unless it exists.
fn openssl_root(dir: &Path, name: &str) -> PathBuf {
    let pem = dir.join(format!("{name}.pem"));
    if !pem.exists() {
        let key = format!("{name}.key");
        must_openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                &key,
            ],
        );
        must_openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                &key,
                "-subj",
                &format!("/CN={name}"),
                "-days",
                "30",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    pem
}

/// `openssl` in `dir`: a P-256 key `NAME.key` and a certificate `NAME.pem` for `subject`
/// (openssl's `/K=V/...` form), issued by the CA `issuer` (`ISSUER.pem`, `ISSUER.key`) with the
/// extension lines `ext` (openssl's x509v3 config syntax; sections after a blank line).
fn openssl_issue(dir: &Path, issuer: &str, name: &str, subject: &str, ext: &str) -> PathBuf {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let extfile = format!("{name}.ext");
    must_openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &key,
        ],
    );
    must_openssl(
        dir,
        &["req", "-new", "-key", &key, "-subj", subject, "-out", &csr],
    );
    std::fs::write(dir.join(&extfile), ext).unwrap();
    must_openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{issuer}.pem"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-CAcreateserial",
            "-days",
            "10",
            "-extfile",
            &extfile,
            "-out",
            &format!("{name}.pem"),
        ],
    );
    dir.join(format!("{name}.pem"))
}

/// `openssl` in `dir`: a P-256 CA `ca` and a leaf `name` signed by it with the extra extension
/// lines `ext` (openssl's x509v3 config syntax); returns (ca.pem, leaf.key, leaf.pem).
fn openssl_leaf(dir: &Path, name: &str, ext: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca = openssl_root(dir, "ca");
    let leaf = openssl_issue(dir, "ca", name, &format!("/CN={name}"), ext);
    (ca, dir.join(format!("{name}.key")), leaf)
}

// RFC 5280 §4.2: a certificate with a critical extension the verifier does not process must be
// refused, and a leaf whose keyUsage does not allow signing cannot sign statements.
#[test]
fn a_critical_extension_nobody_processes_and_a_leaf_not_for_signing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = clock::now();
    let (ca, key, leaf) = openssl_leaf(
        d,
        "critical",
        "1.3.6.1.4.1.99999.1=critical,ASN1:UTF8String:must understand\n",
    );
    let statement = sign(d, "critical-s", &key, &leaf, "https://team.example", now);
    verify_cert(&statement, &ca)
        .code(1)
        .stdout(contains("critical extension 1.3.6.1.4.1.99999.1"));
    let (_, key, leaf) = openssl_leaf(d, "encipher", "keyUsage=critical,keyEncipherment\n");
    let statement = sign(d, "encipher-s", &key, &leaf, "https://team.example", now);
    verify_cert(&statement, &ca)
        .code(1)
        .stdout(contains("lacks digitalSignature"));
    // Control: the same CA and a signing leaf.
    let (_, key, leaf) = openssl_leaf(d, "signer", "keyUsage=critical,digitalSignature\n");
    let statement = sign(d, "signer-s", &key, &leaf, "https://team.example", now);
    verify_cert(&statement, &ca).success();
}

/// What a CA extension file says to make an intermediate CA.
const CA_EXT: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n";

// RFC 5280 §4.2.1.10: a CA constrained to its team's names (dNSName team-a.example but not
// prod.team-a.example, directoryName O=Team A) issues leaves for other names. The policy trusts
// the root for `did:x509:…::san:dns:models.victim.example` (the victim team's name, under the
// same root). Before names were checked, the constrained CA's leaf claiming the victim's SAN met
// that policy (and the constraints, unless marked critical, were ignored by every check). Each
// case is also put to `openssl verify`, which must agree; controls pass beside the attacks.
#[test]
fn a_name_constrained_ca_cannot_vouch_for_names_outside_its_subtrees() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = openssl_root(d, "root");
    let constraints = "nameConstraints=critical,permitted;DNS:team-a.example,\
        excluded;DNS:prod.team-a.example,permitted;dirName:team_a\n\n[team_a]\nO=Team A\n";
    openssl_issue(
        d,
        "root",
        "team-a-ca",
        "/O=Team A/CN=team-a-ca",
        &format!("{CA_EXT}{constraints}"),
    );
    // The same constraint, not marked critical (RFC 5280 says CAs MUST mark it; some do not).
    openssl_issue(
        d,
        "root",
        "lax-ca",
        "/O=Team A/CN=lax-ca",
        &format!("{CA_EXT}nameConstraints=permitted;DNS:team-a.example\n"),
    );
    openssl_issue(d, "root", "victim-ca", "/O=Victim/CN=victim-ca", CA_EXT);
    // Email, URI and IP constraints, for the other forms.
    openssl_issue(
        d,
        "root",
        "forms-ca",
        "/O=Team A/CN=forms-ca",
        &format!(
            "{CA_EXT}nameConstraints=critical,permitted;email:.team-a.example,\
             permitted;URI:.team-a.example,permitted;IP:10.0.0.0/255.0.0.0\n"
        ),
    );
    // `san` in openssl's syntax: DNS:…, email:…, URI:…, IP:….
    let leaf = |ca: &str, name: &str, subject: &str, san: &str| {
        let pem = openssl_issue(
            d,
            ca,
            name,
            subject,
            &format!("keyUsage=critical,digitalSignature\nsubjectAltName={san}\n"),
        );
        let chain = d.join(format!("{name}.chain.pem"));
        let ca_pem = std::fs::read(d.join(format!("{ca}.pem"))).unwrap();
        std::fs::write(&chain, [std::fs::read(&pem).unwrap(), ca_pem].concat()).unwrap();
        // OpenSSL's own verdict on the same chain.
        let by_openssl = openssl(
            d,
            &[
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                &format!("{ca}.pem"),
                &format!("{name}.pem"),
            ],
        )
        .status
        .success();
        (d.join(format!("{name}.key")), chain, by_openssl)
    };
    let now = clock::now();
    let victim = "models.victim.example";
    let root_der =
        &modelseal::core::x509::read_certificates(&std::fs::read(&root).unwrap()).unwrap()[0];
    let did = {
        use base64::Engine;
        use sha2::Digest;
        let fp =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(root_der));
        format!("did:x509:0:sha256:{fp}::san:dns:{victim}")
    };

    let victim_dns = format!("DNS:{victim}");
    // (CA, leaf, subject, subjectAltName, refused with) — None: a control that must pass.
    let cases: [(&str, &str, &str, &str, Option<&str>); 12] = [
        (
            "team-a-ca",
            "team-a",
            "/O=Team A/CN=ci",
            "DNS:ci.team-a.example",
            None,
        ),
        (
            "victim-ca",
            "victim",
            "/O=Victim/CN=release",
            &victim_dns,
            None,
        ),
        (
            "team-a-ca",
            "dns-escape",
            "/O=Team A/CN=ci",
            &victim_dns,
            Some("dNSName models.victim.example is outside the permitted dNSName team-a.example"),
        ),
        (
            "team-a-ca",
            "excluded",
            "/O=Team A/CN=ci",
            "DNS:db.prod.team-a.example",
            Some(
                "dNSName db.prod.team-a.example is inside the excluded dNSName prod.team-a.example",
            ),
        ),
        (
            "team-a-ca",
            "dn-escape",
            "/O=Victim/CN=release",
            "DNS:ci.team-a.example",
            Some(
                "directoryName CN=release,O=Victim is outside the permitted directoryName O=Team A",
            ),
        ),
        (
            "lax-ca",
            "lax-escape",
            "/O=Team A/CN=ci",
            &victim_dns,
            Some("dNSName models.victim.example is outside the permitted dNSName team-a.example"),
        ),
        (
            "forms-ca",
            "email-in",
            "/CN=ci",
            "email:ci@mail.team-a.example",
            None,
        ),
        (
            "forms-ca",
            "email-out",
            "/CN=ci",
            "email:ci@victim.example",
            Some(
                "rfc822Name ci@victim.example is outside the permitted rfc822Name .team-a.example",
            ),
        ),
        (
            "forms-ca",
            "uri-in",
            "/CN=ci",
            "URI:https://ci.team-a.example/build",
            None,
        ),
        (
            "forms-ca",
            "uri-out",
            "/CN=ci",
            "URI:https://victim.example/build",
            Some("URI https://victim.example/build is outside the permitted URI .team-a.example"),
        ),
        ("forms-ca", "ip-in", "/CN=ci", "IP:10.1.2.3", None),
        (
            "forms-ca",
            "ip-out",
            "/CN=ci",
            "IP:192.168.1.1",
            Some("iPAddress 192.168.1.1 is outside the permitted iPAddress 10.0.0.0/255.0.0.0"),
        ),
    ];
    for (ca, name, subject, san, refused) in cases {
        let (key, chain, by_openssl) = leaf(ca, name, subject, san);
        assert_eq!(
            by_openssl,
            refused.is_none(),
            "{name}: openssl verify disagrees"
        );
        let statement = sign(
            d,
            &format!("{name}-s"),
            &key,
            &chain,
            "https://team.example",
            now,
        );
        let verdict = verify_cert(&statement, &root);
        match refused {
            None => {
                verdict.success();
            }
            Some(reason) => {
                verdict
                    .code(1)
                    .stdout(contains(format!(
                        "is outside the names certificate 1 ({ca}) may vouch for"
                    )))
                    .stdout(contains(reason));
            }
        }
    }

    // End to end: the constrained CA's leaf claims the victim's did:x509 and publishes; the
    // consumer's policy trusts that DID under the root.
    let any = any_issuer_log(d);
    let policy = root_policy(d, &root, &did, &any);
    let layout = d.join("layout");
    let (key, chain, _) = leaf("team-a-ca", "impostor", "/O=Team A/CN=ci", &victim_dns);
    publish(&layout, "v1", &key, &chain, &did, &any, now);
    let attack = format!("{}:v1", layout.display());
    discover_verify(&attack, &policy)
        .code(1)
        .stdout(contains("outside the permitted dNSName team-a.example"))
        .stdout(contains("✘ policy NOT met"));
    let out = d.join("pulled");
    pull_verify(&attack, &policy, &out).code(1);
    assert!(is_empty_or_absent(&out), "nothing unverified on disk");
    let (key, chain, _) = leaf("victim-ca", "release", "/O=Victim/CN=release", &victim_dns);
    publish(&layout, "v2", &key, &chain, &did, &any, now);
    discover_verify(&format!("{}:v2", layout.display()), &policy)
        .success()
        .stdout(contains("✔ policy met"));
}
