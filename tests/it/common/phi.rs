//! The scitt-for-phi vectors as a published artifact: Microsoft's statement, its root, the CCF and
//! MMR service keys, in a policy and an OCI layout.

use super::{modelseal, vector};
use std::path::{Path, PathBuf};

/// The real statement's issuer.
pub const DID: &str =
    "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.1";

pub fn phi(name: &str) -> PathBuf {
    vector(&format!("scitt-for-phi/{name}"))
}

/// A policy trusting the Microsoft root (from the statement's own x5chain) and the given services.
pub fn phi_policy(dir: &Path, services: &[&str], min_receipts: usize) -> PathBuf {
    let s =
        modelseal::core::cose::Sign1::parse(&std::fs::read(phi("signed-statement.scitt")).unwrap())
            .unwrap();
    std::fs::write(dir.join("root.der"), &s.x5chain().unwrap()[2]).unwrap();
    let mut text = format!(
        "version = 1\n[[policy]]\nname = \"phi\"\nscopes = [\"*\"]\nmin_receipts = {min_receipts}\n[[policy.issuers]]\nroot = \"root.der\"\niss = \"{DID}\"\n"
    );
    for s in services {
        std::fs::copy(phi(s), dir.join(s)).unwrap();
        text.push_str(&format!(
            "[[policy.transparency_services]]\nname = \"{s}\"\nkey = \"{s}\"\n"
        ));
    }
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Pushes the seed's manifest and attaches `statement` in a layout; returns the layout reference.
pub fn publish_seed(dir: &Path, statement: &Path) -> String {
    let layout = format!("{}:v1", dir.join("layout").display());
    modelseal()
        .args(["push", "--oci-layout", &layout])
        .arg(phi("model-manifest.json"))
        .assert()
        .success();
    modelseal()
        .args(["attach", "--oci-layout", &layout])
        .arg(statement)
        .assert()
        .success();
    layout
}

pub fn discover_verify(layout: &str, policy: &Path) -> assert_cmd::assert::Assert {
    modelseal()
        .args(["discover", "--oci-layout", "--verify", layout, "--policy"])
        .arg(policy)
        .assert()
}
