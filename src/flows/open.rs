//! What the flows share before they start: the policy scope a reference falls under, and the
//! artifact a reference names.

use super::FlowError;
use crate::core::policy::{ArtifactRef, ScopePolicy, TrustPolicy, locate};
use crate::oci::Target;
use crate::oci::manifest::Descriptor;
use crate::oci::open::{AnyTarget, open};
use crate::oci::registry::Connection;
use std::path::Path;

/// The trust policy's scope for `reference` (the policy from `policy`, `$MODELSEAL_POLICY` or
/// the default file; none, or no scope covering the reference, is an error: verification fails
/// closed), and the reference as the policy's claim templates read it.
fn scope_for(
    policy: Option<&Path>,
    reference: &str,
    oci_layout: bool,
) -> Result<(ScopePolicy, ArtifactRef), FlowError> {
    let path = locate(policy).map_err(FlowError::NoPolicy)?;
    let policy = TrustPolicy::load(&path)?;
    let (selection, artifact) = policy.select_reference(reference, oci_layout)?;
    Ok((selection.policy.clone(), artifact))
}

/// The target `reference` lives in and the manifest it names (a tag or digest is required).
async fn open_subject(
    reference: &str,
    oci_layout: bool,
    connection: &Connection,
) -> Result<(AnyTarget, Descriptor), FlowError> {
    let (target, selector) = open(reference, oci_layout, connection, false).await?;
    let selector = selector.ok_or_else(|| FlowError::NoSelector(reference.to_string()))?;
    let subject = target.resolve(&selector).await?;
    Ok((target, subject))
}

/// The policy scope for `reference` (checked first: without a policy nothing is fetched), then
/// the target and the manifest it names.
pub(super) async fn open_scoped(
    reference: &str,
    oci_layout: bool,
    connection: &Connection,
    policy: Option<&Path>,
) -> Result<(ScopePolicy, ArtifactRef, AnyTarget, Descriptor), FlowError> {
    let (scope, artifact) = scope_for(policy, reference, oci_layout)?;
    let (target, subject) = open_subject(reference, oci_layout, connection).await?;
    Ok((scope, artifact, target, subject))
}
