//! Any bytes as a statement or receipt, verified against the real Phi-4 statement's trust
//! inputs: the whole verifier (receipts of every profile, x5chain, did:x509) must fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::core::crypto::read_public_keys;
use modelseal::core::verify::{TrustInputs, VerifyRequest, verify};
use std::sync::OnceLock;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/scitt-for-phi");

struct Fixture {
    trust: TrustInputs,
    statement: Vec<u8>,
    manifest: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let read = |n: &str| std::fs::read(format!("{VECTORS}/{n}")).expect("vector");
        let statement = read("signed-statement.scitt");
        let chain = modelseal::core::cose::Sign1::parse(&statement).unwrap().x5chain().unwrap();
        let mut service_keys = read_public_keys(&read("ccf-service-key.pem")).unwrap();
        service_keys.extend(read_public_keys(&read("mmr-service-key.pem")).unwrap());
        Fixture {
            trust: TrustInputs { issuer_keys: Vec::new(), issuer_roots: vec![chain[2].clone()], service_keys },
            statement,
            manifest: read("model-manifest.json"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let _ = verify(&VerifyRequest {
        bytes: data,
        trust: &f.trust,
        payload: Some(&f.manifest),
        model: None,
        statement: Some(&f.statement),
        now: 1_750_370_739,
    });
});
