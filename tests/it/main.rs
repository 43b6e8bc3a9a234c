//! modelseal's integration tests, in one binary (one link, one set of shared fixtures).
//!
//! Every module is a part of the promise list in `docs/tests.md`; `common` holds the fixtures
//! they share: the binary, the test registry and fault fronts, keys and PKIs, a `ts serve`
//! process, the seed's Phi artifact, and publishing helpers. Run one part with
//! `scripts/registry.sh -- cargo test --test it MODULE::`.

mod common;

mod attach_race;
mod cosign_bundle;
mod cosign_tags;
mod flows_api;
mod hash_cli;
mod hash_vectors;
mod hmac;
mod interop;
mod interop_oras;
mod interop_receipts;
mod interop_scitt;
mod interop_sigstore;
mod kserve;
mod layering;
mod manifest_api;
mod modelpack;
mod net_hostile;
mod newcomer;
mod oci_cli;
mod oci_faults;
mod policy_v2;
mod promises;
mod pull_safety;
mod readme;
mod referrers_api;
mod scitt_cli;
mod sigstore_keyless;
mod statement_headers;
mod tls;
mod transfer;
mod transparency_crash;
mod transparency_http;
mod transparency_local;
mod ts_identity;
mod verify_api;
mod verify_attacks;
mod verify_policy;
mod x5chain_attacks;
