//! A small PKI for tests: a root, intermediate CAs and leaves (ECDSA P-256) with chosen validity
//! and EKUs, written as PEM files, each leaf with its PKCS#8 private key, so that
//! `modelseal sign --x5chain LEAF.chain.pem --key LEAF.key --iat SECS` can sign under them.
//!
//! ```ignore
//! let pki = Pki::new(dir.path());                  // makes root.pem (valid 2000..2049)
//! let team = pki.ca(pki.root(), "team-a");         // intermediate, signed by the root
//! let leaf = pki.leaf(&team, "signer", YEAR_2020, YEAR_2021, &[CODE_SIGNING]);
//! // leaf.cert, leaf.key, leaf.chain (leaf + intermediates, leaf first), pki.root().cert
//! ```

use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::EncodePem;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

/// id-kp-codeSigning.
pub const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
/// 2000-01-01T00:00:00Z and 2049-12-31T23:59:59Z: the CAs' validity.
pub const YEAR_2000: i64 = 946_684_800;
pub const END_OF_2049: i64 = 2_524_607_999;
/// Handy instants.
pub const YEAR_2020: i64 = 1_577_836_800;
pub const YEAR_2021: i64 = 1_609_459_200;

/// A certificate authority: its certificate (PEM file), key, and the chain above it.
pub struct Ca {
    /// Its certificate, PEM.
    pub cert: PathBuf,
    pub der: Vec<u8>,
    signing_key: SigningKey,
    /// DER certificates of the intermediates from this CA up to (not including) the root; empty
    /// for the root itself.
    intermediates: Vec<Vec<u8>>,
}

/// An end-entity certificate and its key.
pub struct Leaf {
    /// The leaf's PKCS#8 private key, PEM (what `modelseal sign --key` takes).
    pub key: PathBuf,
    /// Leaf then its intermediates (not the root), PEM: what `sign --x5chain` takes.
    pub chain: PathBuf,
    pub der: Vec<u8>,
    /// DER chain, leaf first (the same as `chain`).
    pub chain_der: Vec<Vec<u8>>,
}

pub struct Pki {
    dir: PathBuf,
    root: Ca,
    serial: Cell<u32>,
}

fn time(secs: i64) -> Time {
    Time::try_from(UNIX_EPOCH + Duration::from_secs(secs as u64)).expect("a representable time")
}

fn pem(der: &[u8]) -> String {
    use x509_cert::der::Decode;
    x509_cert::Certificate::from_der(der)
        .unwrap()
        .to_pem(LineEnding::LF)
        .unwrap()
}

impl Pki {
    /// A new PKI in `dir` (created if needed) with a root CA `root` valid 2000..2049
    /// (`DIR/root.pem`, `DIR/root.key`).
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let key = SigningKey::random(&mut rand_core::OsRng);
        let name = Name::from_str("CN=root,O=modelseal tests").unwrap();
        let builder = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            Validity {
                not_before: time(YEAR_2000),
                not_after: time(END_OF_2049),
            },
            name,
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap(),
            &key,
        )
        .unwrap();
        let der =
            x509_cert::der::Encode::to_der(&builder.build::<DerSignature>().unwrap()).unwrap();
        let root = write_ca(dir, "root", key, der, Vec::new());
        Pki {
            dir: dir.to_path_buf(),
            root,
            serial: Cell::new(2),
        }
    }

    pub fn root(&self) -> &Ca {
        &self.root
    }

    fn next_serial(&self) -> SerialNumber {
        let s = self.serial.get();
        self.serial.set(s + 1);
        SerialNumber::from(s)
    }

    /// An intermediate CA `name` under `parent`, valid 2000..2049 (`DIR/NAME.pem`, `.key`).
    pub fn ca(&self, parent: &Ca, name: &str) -> Ca {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let builder = CertificateBuilder::new(
            Profile::SubCA {
                issuer: subject_of(&parent.der),
                path_len_constraint: None,
            },
            self.next_serial(),
            Validity {
                not_before: time(YEAR_2000),
                not_after: time(END_OF_2049),
            },
            Name::from_str(&format!("CN={name},O=modelseal tests")).unwrap(),
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap(),
            &parent.signing_key,
        )
        .unwrap();
        let der =
            x509_cert::der::Encode::to_der(&builder.build::<DerSignature>().unwrap()).unwrap();
        let mut intermediates = vec![der.clone()];
        intermediates.extend(parent.intermediates.iter().cloned());
        write_ca(&self.dir, name, key, der, intermediates)
    }

    /// A leaf `name` issued by `ca`, valid from `not_before` to `not_after` (unix seconds), with
    /// the given EKU OIDs (none: no EKU extension). Writes `DIR/NAME.pem`, `DIR/NAME.key` and
    /// `DIR/NAME.chain.pem` (leaf, then `ca` and the intermediates above it).
    pub fn leaf(
        &self,
        ca: &Ca,
        name: &str,
        not_before: i64,
        not_after: i64,
        ekus: &[&str],
    ) -> Leaf {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let mut builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: subject_of(&ca.der),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            self.next_serial(),
            Validity {
                not_before: time(not_before),
                not_after: time(not_after),
            },
            Name::from_str(&format!("CN={name},O=modelseal tests")).unwrap(),
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap(),
            &ca.signing_key,
        )
        .unwrap();
        if !ekus.is_empty() {
            let oids = ekus
                .iter()
                .map(|o| ObjectIdentifier::new(o).expect("an OID"))
                .collect();
            builder.add_extension(&ExtendedKeyUsage(oids)).unwrap();
        }
        let der =
            x509_cert::der::Encode::to_der(&builder.build::<DerSignature>().unwrap()).unwrap();
        let key_path = self.dir.join(format!("{name}.key"));
        std::fs::write(
            &key_path,
            key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
        )
        .unwrap();
        let mut chain_der = vec![der.clone()];
        chain_der.extend(ca.intermediates.iter().cloned());
        let chain = self.dir.join(format!("{name}.chain.pem"));
        std::fs::write(&chain, chain_der.iter().map(|d| pem(d)).collect::<String>()).unwrap();
        Leaf {
            key: key_path,
            chain,
            der,
            chain_der,
        }
    }
}

/// Writes `certs` (DER) to `path` as one PEM chain, in the order given: for chains no honest
/// issuer would make.
pub fn write_chain(path: &Path, certs: &[&[u8]]) {
    std::fs::write(path, certs.iter().map(|d| pem(d)).collect::<String>()).unwrap();
}

/// The did:x509 of `ca` (its SHA-256 fingerprint) with an EKU policy.
pub fn did_x509_eku(ca: &Ca, eku: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let fingerprint =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&ca.der));
    format!("did:x509:0:sha256:{fingerprint}::eku:{eku}")
}

fn subject_of(der: &[u8]) -> Name {
    use x509_cert::der::Decode;
    x509_cert::Certificate::from_der(der)
        .unwrap()
        .tbs_certificate
        .subject
}

fn write_ca(
    dir: &Path,
    name: &str,
    key: SigningKey,
    der: Vec<u8>,
    intermediates: Vec<Vec<u8>>,
) -> Ca {
    let cert = dir.join(format!("{name}.pem"));
    std::fs::write(&cert, pem(&der)).unwrap();
    Ca {
        cert,
        der,
        signing_key: key,
        intermediates,
    }
}
