//! Opening the target a reference names: a registry, or an OCI layout with `--oci-layout`.
//! This enum is the one place that knows there are two kinds of target.

use super::error::Result;
use super::layout::OciLayout;
use super::manifest::Descriptor;
use super::reference::{RegistryReference, Selector, parse_layout_reference};
use super::registry::{Connection, Registry};
use super::target::{BlobSource, OnBytes, ReadTarget, Target};
use std::path::Path;

/// A target of either kind, itself a [`Target`] that forwards to the one it holds.
pub enum AnyTarget {
    /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
    Layout(OciLayout),
    /// A remote registry repository (distribution-spec 1.1).
    Registry(Box<Registry>),
}

/// Opens `reference` (a layout path when `oci_layout`); `create` makes a missing layout.
pub async fn open(
    reference: &str,
    oci_layout: bool,
    conn: &Connection,
    create: bool,
) -> Result<(AnyTarget, Option<Selector>)> {
    if oci_layout {
        let (dir, selector) = parse_layout_reference(reference)?;
        let layout = if create {
            OciLayout::open_or_create(&dir)?
        } else {
            OciLayout::open(&dir)?
        };
        return Ok((AnyTarget::Layout(layout), selector));
    }
    let r = RegistryReference::parse(reference)?;
    let selector = r.selector.clone();
    Ok((
        AnyTarget::Registry(Box::new(Registry::connect(&r, conn).await?)),
        selector,
    ))
}

impl AnyTarget {
    /// Bytes this target moved so far (a layout moves none over a network).
    pub fn transfer_counts(&self) -> super::registry::TransferCounts {
        match self {
            AnyTarget::Layout(_) => Default::default(),
            AnyTarget::Registry(r) => r.transfer_counts(),
        }
    }

    /// Mounts blobs from `repository` of the same registry before uploading them (registries
    /// only).
    pub fn set_mount_from(&mut self, repository: Option<String>) {
        if let AnyTarget::Registry(r) = self {
            r.set_mount_from(repository);
        }
    }

    /// The registry host and repository, for a registry.
    pub fn registry_repository(&self) -> Option<(&str, &str)> {
        match self {
            AnyTarget::Layout(_) => None,
            AnyTarget::Registry(r) => Some((
                r.reference().registry.as_str(),
                r.reference().repository.as_str(),
            )),
        }
    }
}

macro_rules! each {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            AnyTarget::Layout($t) => $e,
            AnyTarget::Registry($t) => $e,
        }
    };
}

impl ReadTarget for AnyTarget {
    fn name_of(&self, digest: &str) -> String {
        each!(self, t => t.name_of(digest))
    }
    async fn blob_exists(&self, blob: &Descriptor) -> Result<bool> {
        each!(self, t => t.blob_exists(blob).await)
    }
    async fn fetch_blob_to(
        &self,
        blob: &Descriptor,
        dest: &Path,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        each!(self, t => t.fetch_blob_to(blob, dest, on_bytes).await)
    }
    async fn read_blob_from(
        &self,
        blob: &Descriptor,
        start: u64,
    ) -> Result<super::target::ByteStream<'static>> {
        each!(self, t => t.read_blob_from(blob, start).await)
    }
    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        each!(self, t => t.resolve(selector).await)
    }
    async fn fetch_manifest(&self, manifest: &Descriptor) -> Result<Vec<u8>> {
        each!(self, t => t.fetch_manifest(manifest).await)
    }
    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        each!(self, t => t.referrers(subject, artifact_type).await)
    }
}

impl Target for AnyTarget {
    async fn push_blob(
        &self,
        blob: &Descriptor,
        source: BlobSource<'_>,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        each!(self, t => t.push_blob(blob, source, on_bytes).await)
    }
    async fn mount_blob(&self, blob: &Descriptor) -> Result<bool> {
        each!(self, t => t.mount_blob(blob).await)
    }
    async fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor> {
        each!(self, t => t.push_manifest(bytes, media_type, tag).await)
    }
}
