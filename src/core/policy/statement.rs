//! One statement judged against a scope's policy: the core verifier with the policy's issuers and
//! services, then the claims it requires (bound to the reference) and the receipts it counts.

use super::{ArtifactRef, ScopePolicy, TrustedService};
use crate::core::crypto::NamedKey;
use crate::core::verdict::{Check, Verdict};
use crate::core::verify::{ReceiptReport, Report, TrustInputs, VerifyRequest, verify};
use std::collections::BTreeSet;

/// One statement checked against a scope's policy.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StatementVerdict {
    /// Whether some trusted issuer's check passed with the policy's claims and receipts.
    pub verified: bool,
    /// The checks of the last issuer tried (the passing one, when one passed).
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The core verifier's report for that issuer; `None` when the statement could not be examined.
    pub report: Option<Report>,
}

impl ScopePolicy {
    /// Checks a (transparent) statement for `manifest` — the in-toto model manifest the artifact
    /// holds — against this policy: signature by a trusted issuer with the expected claims,
    /// every receipt by a trusted service, enough distinct receipts of the required profiles, and
    /// the binding (the statement signs exactly `manifest`, or its hash).
    ///
    /// `artifact` is the reference being verified: `{registry}`, `{repository}` and `{tag}` in
    /// the issuer's `iss`/`sub` are expanded from it.
    pub fn verify_statement(
        &self,
        statement: &[u8],
        manifest: &[u8],
        now: i64,
        artifact: &ArtifactRef,
    ) -> StatementVerdict {
        let service_keys: Vec<NamedKey> =
            self.services.iter().flat_map(|s| s.keys.clone()).collect();
        let mut last: Option<(Verdict, Option<Report>)> = None;
        for issuer in &self.issuers {
            let trust = TrustInputs {
                issuer_keys: issuer.keys.clone(),
                issuer_roots: issuer.roots.clone(),
                issuer_dids: issuer.did.iter().cloned().collect(),
                service_keys: service_keys.clone(),
                sigstore_identities: issuer.sigstore.iter().cloned().collect(),
                sigstore_root: None,
            };
            let request = VerifyRequest {
                bytes: statement,
                trust: &trust,
                payload: Some(manifest),
                model: None,
                statement: None,
                artifact: None,
                now,
            };
            let report = match verify(&request) {
                Ok(r) => r,
                Err(e) => {
                    let mut v = Verdict::default();
                    v.push(Check::fail("statement", e.to_string()));
                    last = Some((v, None));
                    continue;
                }
            };
            let mut verdict = report.verdict.clone();
            verdict.name_keys_tried("signature", &issuer.source);
            for (claim, expected, found) in [
                ("iss", &issuer.iss, &report.issuer),
                ("sub", &issuer.sub, &report.subject),
            ] {
                let Some(pattern) = expected else { continue };
                let found = found.as_deref().unwrap_or("");
                verdict.push(match pattern.matches(found, artifact) {
                    Ok(true) => Check::pass(
                        format!("policy {claim}"),
                        format!("{found}, as the policy requires ({})", pattern.as_str()),
                    ),
                    Ok(false) => {
                        let required = pattern
                            .expand(artifact)
                            .unwrap_or_else(|_| pattern.as_str().to_string());
                        Check::fail(
                            format!("policy {claim}"),
                            format!(
                                "statement {claim} {} ≠ required {required}",
                                if found.is_empty() { "(none)" } else { found }
                            ),
                        )
                    }
                    Err(why) => Check::fail(format!("policy {claim}"), why),
                });
            }
            self.check_receipts(&report, &mut verdict);
            let passed = verdict.is_verified();
            last = Some((verdict, Some(report)));
            if passed {
                break;
            }
        }
        let (verdict, report) = last.unwrap_or_default();
        StatementVerdict {
            verified: verdict.is_verified(),
            verdict,
            report,
        }
    }

    /// The policy service whose key verified a receipt. A receipt counts for a service only by
    /// that key, never by the `iss` or profile it claims; a receipt of another profile than the
    /// one the policy names for the service counts for none.
    fn service_of(&self, receipt: &ReceiptReport) -> Option<&TrustedService> {
        let by = receipt.verified_by.as_deref()?;
        let service = self.services.iter().find(|s| {
            s.keys
                .iter()
                .any(|k| hex::encode(k.key.spki_sha256()) == by)
        })?;
        match (&service.profile, &receipt.profile) {
            (Some(want), Some(got)) if want != got => None,
            _ => Some(service),
        }
    }

    fn check_receipts(&self, report: &Report, verdict: &mut Verdict) {
        // A receipt by a service the policy does not name: say which kid, and whose it knows.
        for r in report.receipts.iter().filter(|r| !r.verified) {
            let Some(kid) = &r.kid else { continue };
            let known = self.services.iter().any(|s| {
                s.keys.iter().any(|k| {
                    crate::core::verify::key_kids(k)
                        .iter()
                        .any(|x| &crate::core::verify::kid_text(x) == kid)
                })
            });
            if known {
                continue;
            }
            let services: Vec<String> = self
                .services
                .iter()
                .map(|s| {
                    let kids: Vec<String> = s
                        .keys
                        .iter()
                        .filter_map(|k| crate::core::verify::key_kids(k).last().cloned())
                        .map(|x| crate::core::verify::kid_text(&x))
                        .collect();
                    format!("{}: kid {}", s.name, kids.join(", "))
                })
                .collect();
            verdict.push(Check::fail(
                format!("receipt {} service", r.index),
                format!(
                    "the receipt's kid {kid} is not among the policy's services ({})",
                    if services.is_empty() {
                        "none".to_string()
                    } else {
                        services.join("; ")
                    }
                ),
            ));
        }
        // (service name, profile) for every receipt a policy service's key verified; distinct
        // services are counted by name (keys are unique across services: checked on load).
        let mut distinct: BTreeSet<(String, String)> = BTreeSet::new();
        for r in report.receipts.iter().filter(|r| r.verified) {
            match self.service_of(r) {
                Some(service) => {
                    distinct.insert((
                        service.name.clone(),
                        r.profile.clone().unwrap_or_default(),
                    ));
                }
                None => verdict.push(Check::skipped(
                    format!("receipt {}", r.index),
                    format!(
                        "verified, but its profile {} is not the one the policy names for the service whose key verified it: not counted",
                        r.profile.as_deref().unwrap_or("?")
                    ),
                )),
            }
        }
        let services: BTreeSet<&str> = distinct.iter().map(|(name, _)| name.as_str()).collect();
        let named = |set: &BTreeSet<&str>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter().copied().collect::<Vec<_>>().join(", ")
            }
        };
        if self.min_receipts > 0 {
            if services.len() >= self.min_receipts {
                verdict.push(Check::pass(
                    "policy receipts",
                    format!(
                        "receipts verified by the keys of {} distinct policy service(s) ({}); {} required",
                        services.len(),
                        named(&services),
                        self.min_receipts
                    ),
                ));
            } else {
                verdict.push(Check::fail(
                    "policy receipts",
                    format!(
                        "receipts verified by the keys of {} distinct policy service(s) ({}); the policy requires {}",
                        services.len(),
                        named(&services),
                        self.min_receipts
                    ),
                ));
            }
        }
        for profile in &self.required_profiles {
            if distinct.iter().any(|(_, p)| p == profile) {
                verdict.push(Check::pass(
                    "policy receipt profile",
                    format!("a {profile} receipt is present"),
                ));
            } else {
                verdict.push(Check::fail(
                    "policy receipt profile",
                    format!("the policy requires a {profile} receipt"),
                ));
            }
        }
    }
}
