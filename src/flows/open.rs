//! What the flows share before they start: the policy scope a reference falls under, and the
//! artifact a reference names.

use super::FlowError;
use crate::core::policy::{ArtifactRef, ScopePolicy, TrustPolicy, locate};
use crate::oci::ReadTarget;
use crate::oci::manifest::Descriptor;
use crate::oci::open::{AnyTarget, open};
use crate::oci::registry::Connection;
use std::path::{Path, PathBuf};

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

/// An artifact to verify: where it is, how to reach it, and the trust policy to apply.
#[derive(Clone, Debug, Default)]
pub struct Artifact {
    /// `host/repo:tag|@digest`, or `DIR:tag|@digest` with `oci_layout`.
    pub reference: String,
    /// `reference` is an OCI image layout directory.
    pub oci_layout: bool,
    /// How to reach the registry (default: the Docker config's credentials).
    pub connection: Connection,
    /// `None`: `$MODELSEAL_POLICY`, else `~/.config/modelseal/policy.toml`.
    pub policy: Option<PathBuf>,
}

impl Artifact {
    /// The policy scope for the reference (checked first: without a policy nothing is fetched),
    /// then the target and the manifest the reference names.
    pub(super) async fn open(
        &self,
    ) -> Result<(ScopePolicy, ArtifactRef, AnyTarget, Descriptor), FlowError> {
        let (scope, artifact) =
            scope_for(self.policy.as_deref(), &self.reference, self.oci_layout)?;
        let (target, subject) =
            open_subject(&self.reference, self.oci_layout, &self.connection).await?;
        Ok((scope, artifact, target, subject))
    }
}
