//! Any bytes through the COSE_Sign1 parser and every accessor a verifier calls: errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelseal::core::cose::Sign1;
use modelseal::core::receipt::Receipt;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Sign1::parse(data) {
        let _ = s.algorithm();
        let _ = s.claims();
        let _ = s.x5chain();
        let _ = s.hash_envelope();
        let _ = s.content_type();
        let _ = s.to_be_signed(None);
        if let Ok(receipts) = s.receipts() {
            for r in receipts {
                let _ = Receipt::parse(&r);
            }
        }
        let _ = s.statement_without_unprotected();
        let again = s.to_bytes();
        // Re-encoding what we parsed must parse again.
        assert!(Sign1::parse(&again).is_ok());
    }
    let _ = Receipt::parse(data);
});
