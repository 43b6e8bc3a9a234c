//! A Sigstore bundle attached to an OCI artifact as cosign attaches attestations
//! ([`crate::core::sigstore::attestation`]), judged against a scope's policy: signed by a policy
//! issuer's key, its in-toto subject this artifact's manifest digest, its predicate the model the
//! artifact holds.

use super::{ScopePolicy, StatementVerdict};
use crate::core::sigstore::{self, attestation};
use crate::core::verdict::{Check, Verdict};
use crate::core::verify::{Kind, Report};

impl ScopePolicy {
    /// Checks a key-signed Sigstore bundle attached to the artifact whose manifest digest is
    /// `manifest_digest` (`sha256:<hex>`) and whose signed model manifest is `manifest`:
    ///
    /// - the DSSE signature verifies with the key of one of the policy's issuers (keys only: a
    ///   keyless bundle is judged by [`Self::verify_statement`]);
    /// - one in-toto subject is `manifest_digest` — a bundle copied onto another artifact names
    ///   the artifact it was made for, and fails here;
    /// - the predicate is model-signing's and lists the same model (serialization, every file)
    ///   as `manifest`.
    ///
    /// A bundle carries no CWT claims: the issuers' `iss`/`sub` do not apply (its signer is its
    /// key, its subject the manifest digest), and are reported as skipped. It carries no receipt
    /// modelseal counts, so a policy requiring receipts is not met by it.
    pub fn verify_oci_attestation(
        &self,
        bundle: &[u8],
        manifest_digest: &str,
        manifest: &[u8],
    ) -> StatementVerdict {
        let mut verdict = Verdict::default();
        let finish = |verdict: Verdict| StatementVerdict {
            verified: verdict.is_verified(),
            report: Some(Report {
                kind: Kind::SigstoreBundle,
                verified: verdict.is_verified(),
                verdict: verdict.clone(),
                receipts: Vec::new(),
                model: None,
                issuer: None,
                subject: None,
            }),
            verdict,
        };
        let read = match sigstore::read_bundle(bundle) {
            Ok(b) => b,
            Err(e) => {
                verdict.push(Check::fail("statement", e.to_string()));
                return finish(verdict);
            }
        };
        // The signer: the first policy issuer one of whose keys verifies the DSSE signature.
        let mut signer = None;
        let mut why = "the policy trusts no issuer key".to_string();
        'issuers: for issuer in self.issuers.iter().filter(|i| !i.keys.is_empty()) {
            for k in &issuer.keys {
                match sigstore::verify_bundle(&read, &k.key) {
                    Ok(_) => {
                        signer = Some(issuer);
                        break 'issuers;
                    }
                    Err(e) => why = e.to_string(),
                }
            }
        }
        match signer {
            Some(issuer) => {
                verdict.push(Check::pass(
                    "signature",
                    format!("DSSE signature by the policy issuer key {}", issuer.source),
                ));
                for (claim, pattern) in [("iss", &issuer.iss), ("sub", &issuer.sub)] {
                    if let Some(p) = pattern {
                        verdict.push(Check::skipped(
                            format!("policy {claim}"),
                            format!(
                                "a Sigstore bundle has no {claim} claim ({} not checked): its signer is the key, its subject the manifest digest",
                                p.as_str()
                            ),
                        ));
                    }
                }
            }
            None => verdict.push(Check::fail(
                "signature",
                format!("not signed by a policy issuer key: {why}"),
            )),
        }
        let statement = match attestation::read_attestation(&read.payload) {
            Ok(s) => s,
            Err(e) => {
                verdict.push(Check::fail("payload", e.to_string()));
                return finish(verdict);
            }
        };
        let subjects = statement.subjects_text();
        verdict.push(if statement.names_manifest(manifest_digest) {
            Check::pass(
                "subject",
                format!("the DSSE statement's subject is this artifact's manifest {subjects}"),
            )
        } else {
            Check::fail(
                "subject",
                format!(
                    "the bundle's DSSE subject is {subjects}, not this artifact's manifest {manifest_digest}: it was made for another artifact"
                ),
            )
        });
        verdict.push(match same_model(&statement, manifest) {
            Ok(()) => Check::pass(
                "payload",
                "the predicate lists the same model (serialization, every file) as the artifact's signed manifest",
            ),
            Err(why) => Check::fail("payload", why),
        });
        if self.min_receipts > 0 || !self.required_profiles.is_empty() {
            verdict.push(Check::fail(
                "policy receipts",
                format!(
                    "the policy requires receipts ({} distinct, profiles [{}]); a key-signed bundle carries none modelseal counts",
                    self.min_receipts,
                    self.required_profiles.join(", ")
                ),
            ));
        }
        finish(verdict)
    }
}

/// Whether the attestation's predicate describes the model `manifest` describes.
fn same_model(statement: &attestation::OciAttestation, manifest: &[u8]) -> Result<(), String> {
    let signed = statement.model_manifest()?;
    let given = crate::core::manifest::ModelManifest::from_json(manifest)
        .map_err(|e| format!("the artifact's manifest is not a model manifest: {e}"))?;
    if signed.serialization != given.serialization {
        return Err(format!(
            "the predicate's serialization {:?} is not the artifact's {:?}",
            signed.serialization, given.serialization
        ));
    }
    if signed.resources != given.resources {
        let report = crate::core::manifest::compare(&given, &signed);
        let reasons = report.reasons();
        return Err(format!(
            "the predicate lists another model than the artifact: {}",
            if reasons.is_empty() {
                "resources listed differently".to_string()
            } else {
                reasons.join("; ")
            }
        ));
    }
    Ok(())
}
