//! Load generator for `scripts/bench/ts.sh`: CLIENTS concurrent SCRAPI clients register TOTAL
//! fresh statements with a running `modelseal ts serve`; prints registrations per second (each
//! acknowledged only once durable) and latency percentiles.
//!
//!   cargo run --release --example ts_load -- URL CLIENTS TOTAL
//!   cargo run --release --example ts_load -- local:DIR CLIENTS TOTAL   (the in-process log: each
//!   client thread appends and takes a receipt, one durable commit per registration)

use modelseal::core::crypto::{Algorithm, PrivateKey};
use modelseal::core::signed_statement::{StatementSpec, sign_statement};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, clients, total] = args.as_slice() else {
        eprintln!("usage: ts_load URL CLIENTS TOTAL");
        std::process::exit(2);
    };
    let (clients, total): (usize, usize) = (
        clients.parse().expect("CLIENTS"),
        total.parse().expect("TOTAL"),
    );
    let key = PrivateKey::generate(Algorithm::ES256).expect("key");
    let statements: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..total)
            .map(|i| {
                let spec = StatementSpec {
                    issuer: "https://bench.example".into(),
                    subject: format!("m{i}"),
                    ..Default::default()
                };
                sign_statement(&key, format!("{{\"n\": {i}}}").as_bytes(), &spec)
            })
            .collect(),
    );
    if let Some(dir) = url.strip_prefix("local:") {
        let log = Arc::new(
            modelseal::transparency::TransparencyLog::open(std::path::Path::new(dir)).expect("log"),
        );
        let start = Instant::now();
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let (log, statements) = (log.clone(), statements.clone());
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    for i in (c..statements.len()).step_by(clients) {
                        let t = Instant::now();
                        let index = log
                            .append(std::slice::from_ref(&statements[i]))
                            .expect("append")[0];
                        log.receipt(index).expect("receipt");
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    lat
                })
            })
            .collect();
        let mut latencies: Vec<f64> = threads
            .into_iter()
            .flat_map(|t| t.join().expect("client"))
            .collect();
        report(
            "local",
            clients,
            total,
            start.elapsed().as_secs_f64(),
            &mut latencies,
        );
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let mut latencies: Vec<f64> = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (url, statements) = (url.clone(), statements.clone());
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut lat = Vec::new();
                for i in (c..statements.len()).step_by(clients) {
                    let t = Instant::now();
                    let r = http
                        .post(format!("{url}/entries"))
                        .header("content-type", "application/cose")
                        .body(statements[i].clone())
                        .send()
                        .await
                        .expect("POST");
                    assert_eq!(r.status().as_u16(), 201, "registration refused");
                    let _ = r.bytes().await;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("client"));
        }
        all
    });
    report(
        "SCRAPI",
        clients,
        total,
        start.elapsed().as_secs_f64(),
        &mut latencies,
    );
}

fn report(kind: &str, clients: usize, total: usize, secs: f64, latencies: &mut [f64]) {
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{kind:>6} {clients:>3} clients: {total} registrations in {secs:.2} s = {:.0}/s durable; latency p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / secs,
        pct(0.5),
        pct(0.99)
    );
}
