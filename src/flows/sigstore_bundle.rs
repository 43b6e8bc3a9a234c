//! `--also-sigstore-bundle` of `publish` and `seal`: beside the transparent statement, the model
//! manifest as a cosign-shaped attestation of the pushed manifest
//! ([`crate::core::sigstore::attestation`], attached by [`crate::oci::sigstore_bundle`]), so
//! that cosign-based admission can check the same artifact.

use super::FlowError;
use crate::core::crypto::PrivateKey;
use crate::core::manifest::ModelManifest;
use crate::core::policy::ArtifactRef;
use crate::core::sigstore::attestation::write_attestation_bundle;
use crate::oci::Target;
use crate::oci::manifest::Descriptor;
use crate::oci::ops::{ReferrerNode, discover};
use crate::oci::sigstore_bundle::attach_bundle;

/// The name the attestation's subject gets: the repository as cosign names an image
/// (`host/path`), or a layout's directory name.
fn subject_name(reference: &str, oci_layout: bool) -> String {
    let r = ArtifactRef::parse(reference, oci_layout);
    if oci_layout {
        r.repository()
    } else {
        format!("{}/{}", r.name.host, r.repository())
    }
}

/// Signs the attestation of `model` for `subject` (the artifact at `reference`) with `key` and
/// attaches it; returns the subject's referrers after.
pub(super) async fn attach_sigstore_bundle<T: Target>(
    target: &T,
    subject: &Descriptor,
    (reference, oci_layout): (&str, bool),
    model: &ModelManifest,
    key: &PrivateKey,
    created: &str,
) -> Result<Vec<ReferrerNode>, FlowError> {
    let name = subject_name(reference, oci_layout);
    let (bundle, predicate_type) = write_attestation_bundle(&name, &subject.digest, model, key)?;
    attach_bundle(target, subject, &bundle, predicate_type, created).await?;
    Ok(discover(target, subject, None, 1).await?)
}
