//! kill -9 under load: every registration the service acknowledged (201) survives, at its index,
//! and its receipt still verifies after the log reopens.

use modelseal::core::cose::Sign1;
use modelseal::core::crypto::{Algorithm, PrivateKey};
use modelseal::core::receipt::Receipt;
use modelseal::core::signed_statement::{StatementSpec, sign_statement};
use modelseal::transparency::TransparencyLog;
use modelseal::transparency::registration::RegistrationPolicy;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[test]
fn acknowledged_entries_survive_a_kill_9_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts");
    let issuer = PrivateKey::generate(Algorithm::ES256).unwrap();
    TransparencyLog::init(
        &ts,
        &RegistrationPolicy {
            issuer_keys: vec![issuer.public_key().to_spki_pem().into()],
            accept_any_issuer: false,
            issuer_roots: Vec::new(),
        },
    )
    .unwrap();
    let statements: Vec<Vec<u8>> = (0..400)
        .map(|i| {
            let spec = StatementSpec {
                issuer: "https://publisher.example".into(),
                subject: format!("model-{i}"),
                ..Default::default()
            };
            sign_statement(&issuer, format!("payload {i}").as_bytes(), &spec)
        })
        .collect();
    // Killed when dropped, also when the test panics.
    let mut server = crate::common::ts_server::serve(&ts, &[]);
    let url = server.url.clone();
    let acked: Arc<Mutex<Vec<(u64, usize)>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let statements = Arc::new(statements);
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (url, acked, done, statements) =
                (url.clone(), acked.clone(), done.clone(), statements.clone());
            rt.spawn(async move {
                let http = reqwest::Client::new();
                for i in (c..statements.len()).step_by(8) {
                    let Ok(r) = http
                        .post(format!("{url}/entries"))
                        .header("content-type", "application/cose")
                        .body(statements[i].clone())
                        .send()
                        .await
                    else {
                        return;
                    };
                    if r.status().as_u16() != 201 {
                        return;
                    }
                    let index: u64 = r.headers()["location"]
                        .to_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    acked.lock().unwrap().push((index, i));
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Kill the server hard once a good number of registrations were acknowledged; a server that
    // refuses (the clients stop) or stalls fails the test instead of hanging it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while done.load(Ordering::SeqCst) < 120 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} registrations acknowledged in 60 s",
            done.load(Ordering::SeqCst)
        );
        assert!(
            !clients.iter().all(|c| c.is_finished()),
            "every client stopped after {} acknowledged registrations (a refusal?)",
            done.load(Ordering::SeqCst)
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.kill();
    rt.block_on(async {
        for c in clients {
            let _ = c.await;
        }
    });
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 120);
    let log = TransparencyLog::open(&ts).expect("the log reopens after kill -9");
    assert!(
        log.size() >= acked.len() as u64,
        "{} entries for {} acknowledged",
        log.size(),
        acked.len()
    );
    for (index, i) in acked {
        let statement = Sign1::parse(&statements[i]).unwrap();
        assert_eq!(
            log.entry(index).unwrap(),
            statement.statement_without_unprotected(),
            "entry {index}"
        );
        let receipt = log.receipt(index).unwrap();
        Receipt::parse(&receipt)
            .unwrap()
            .verify(&statement, &log.public_key())
            .unwrap();
    }
}
