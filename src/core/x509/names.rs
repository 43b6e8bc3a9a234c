//! Name constraints (RFC 5280 §4.2.1.10, path processing §6.1.3 (b) and (c)): a CA that carries
//! them vouches only for names inside its permitted subtrees and outside its excluded ones.
//! Without this check the holder of a CA constrained to `team-a.example` (or `O=Team A`) could
//! issue a leaf for any name and a verifier trusting the root would take it.
//!
//! Checked per CA, against every certificate below it in the path (self-issued intermediates
//! excepted, the leaf always): the subject (a directoryName, and its emailAddress attributes as
//! rfc822Names) and every subjectAltName. Forms: dNSName, rfc822Name, URI (its host),
//! iPAddress, directoryName (an RDN prefix, compared as encoded). A constraint of another form
//! (otherName, x400Address, ediPartyName, registeredID) on a certificate that has a name of that
//! form cannot be checked, and is refused; as are `minimum`/`maximum`, which RFC 5280 forbids.
//! Constraints are honoured whether or not the extension is marked critical.

use der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{NameConstraints, SubjectAltName};
use x509_cert::name::Name;

/// pkcs-9 emailAddress, a legacy place for an rfc822Name in the subject.
const OID_EMAIL_ADDRESS: &str = "1.2.840.113549.1.9.1";

/// The names a certificate is known by, for constraint checks.
pub(super) struct CertNames {
    names: Vec<GeneralName>,
}

impl CertNames {
    /// The subject (when not empty), its emailAddress attributes, and the subjectAltNames of a
    /// certificate; `san` is the raw extension value, when it has one.
    pub(super) fn of(subject: &Name, san: Option<&[u8]>) -> Result<CertNames, String> {
        let mut names = Vec::new();
        if !subject.0.is_empty() {
            names.push(GeneralName::DirectoryName(subject.clone()));
        }
        for rdn in subject.0.iter() {
            for atv in rdn.0.iter() {
                if atv.oid.to_string() == OID_EMAIL_ADDRESS {
                    let email = der::asn1::Ia5StringRef::try_from(&atv.value)
                        .map_err(|e| format!("unreadable emailAddress in the subject: {e}"))?;
                    let email = der::asn1::Ia5String::new(email.as_str())
                        .map_err(|e| format!("unreadable emailAddress in the subject: {e}"))?;
                    names.push(GeneralName::Rfc822Name(email));
                }
            }
        }
        if let Some(san) = san {
            let san = SubjectAltName::from_der(san)
                .map_err(|e| format!("unreadable subjectAltName: {e}"))?;
            names.extend(san.0);
        }
        Ok(CertNames { names })
    }
}

/// Reads a CA's nameConstraints extension value.
pub(super) fn read(value: &[u8]) -> Result<NameConstraints, String> {
    let nc =
        NameConstraints::from_der(value).map_err(|e| format!("unreadable nameConstraints: {e}"))?;
    let all = nc.permitted_subtrees.iter().chain(&nc.excluded_subtrees);
    if all.flatten().any(|s| s.minimum != 0 || s.maximum.is_some()) {
        return Err("nameConstraints with a minimum or maximum, which RFC 5280 forbids".into());
    }
    Ok(nc)
}

/// `Err(reason)` when a name in `names` is outside what `nc` permits or inside what it
/// excludes, or cannot be checked against it.
pub(super) fn check(nc: &NameConstraints, names: &CertNames) -> Result<(), String> {
    let permitted = nc.permitted_subtrees.as_deref().unwrap_or_default();
    let excluded = nc.excluded_subtrees.as_deref().unwrap_or_default();
    for name in &names.names {
        for subtree in excluded {
            if within(name, &subtree.base)? == Some(true) {
                return Err(format!(
                    "{} is inside the excluded {}",
                    show(name),
                    show(&subtree.base)
                ));
            }
        }
        let bases: Vec<&GeneralName> = permitted
            .iter()
            .map(|s| &s.base)
            .filter(|b| same_form(name, b))
            .collect();
        if bases.is_empty() {
            continue;
        }
        let mut inside = false;
        for base in &bases {
            if within(name, base)? == Some(true) {
                inside = true;
                break;
            }
        }
        if !inside {
            let bases: Vec<String> = bases.iter().map(|b| show(b)).collect();
            return Err(format!(
                "{} is outside the permitted {}",
                show(name),
                bases.join(", ")
            ));
        }
    }
    Ok(())
}

fn same_form(a: &GeneralName, b: &GeneralName) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Whether `name` is inside the subtree `base`: `None` when they are of different forms (the
/// constraint says nothing about the name), an error when the form cannot be checked.
fn within(name: &GeneralName, base: &GeneralName) -> Result<Option<bool>, String> {
    use GeneralName as G;
    Ok(Some(match (name, base) {
        (G::DnsName(n), G::DnsName(b)) => dns_within(n.as_str(), b.as_str()),
        (G::Rfc822Name(n), G::Rfc822Name(b)) => email_within(n.as_str(), b.as_str())?,
        (G::UniformResourceIdentifier(n), G::UniformResourceIdentifier(b)) => {
            uri_within(n.as_str(), b.as_str())?
        }
        (G::IpAddress(n), G::IpAddress(b)) => ip_within(n.as_bytes(), b.as_bytes())?,
        (G::DirectoryName(n), G::DirectoryName(b)) => dn_within(n, b)?,
        (n, b) if same_form(n, b) => {
            return Err(format!(
                "{} cannot be checked against the CA's {} constraint",
                show(n),
                form(b)
            ));
        }
        _ => return Ok(None),
    }))
}

/// A host name inside a DNS constraint: the same name, or one made by adding labels on the
/// left (`example.com` holds `a.example.com`, not `badexample.com`); a constraint with a
/// leading dot holds only names below it; an empty one holds every name.
fn dns_within(name: &str, base: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        return true;
    }
    match base.strip_prefix('.') {
        Some(_) => name.ends_with(&base),
        None => name == base || name.ends_with(&format!(".{base}")),
    }
}

/// A mailbox inside an rfc822Name constraint: a whole mailbox names one; a host names all its
/// mailboxes; a domain with a leading dot names the mailboxes of the hosts below it.
fn email_within(name: &str, base: &str) -> Result<bool, String> {
    let (local, host) = name
        .rsplit_once('@')
        .ok_or_else(|| format!("rfc822Name {name} is not a mailbox"))?;
    let host = host.to_ascii_lowercase();
    let base_l = base.to_ascii_lowercase();
    Ok(match base.rsplit_once('@') {
        Some((base_local, base_host)) => {
            local == base_local && host == base_host.to_ascii_lowercase()
        }
        None if base_l.starts_with('.') => host.ends_with(&base_l),
        None => host == base_l,
    })
}

/// A URI inside a URI constraint, by its host: the constraint names a host (that host only)
/// or, with a leading dot, the hosts below a domain. A URI without a host name (a URN, an IP
/// literal) cannot be checked.
fn uri_within(uri: &str, base: &str) -> Result<bool, String> {
    let cannot = || format!("URI {uri} has no host name to check against a URI constraint");
    let rest = uri.split_once("://").ok_or_else(cannot)?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return Err(cannot());
    }
    let host = host_port
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host.is_empty() {
        return Err(cannot());
    }
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    Ok(if base.starts_with('.') {
        host.ends_with(&base)
    } else {
        host == base
    })
}

/// An address inside an address-and-mask constraint (8 bytes for IPv4, 32 for IPv6); an
/// address of the other family is not inside it.
fn ip_within(addr: &[u8], base: &[u8]) -> Result<bool, String> {
    if !matches!(addr.len(), 4 | 16) {
        return Err(format!("iPAddress of {} bytes", addr.len()));
    }
    if !matches!(base.len(), 8 | 32) {
        return Err(format!("iPAddress constraint of {} bytes", base.len()));
    }
    if base.len() != 2 * addr.len() {
        return Ok(false);
    }
    let (net, mask) = base.split_at(addr.len());
    Ok(addr
        .iter()
        .zip(net)
        .zip(mask)
        .all(|((a, n), m)| a & m == n & m))
}

/// A distinguished name inside a directoryName constraint: the constraint's RDNs are its first
/// ones. RDNs are compared as encoded (a name spelled in another string type does not match:
/// refused rather than guessed at).
fn dn_within(name: &Name, base: &Name) -> Result<bool, String> {
    if base.0.len() > name.0.len() {
        return Ok(false);
    }
    for (n, b) in name.0.iter().zip(base.0.iter()) {
        let (n, b) = (
            n.to_der().map_err(|e| e.to_string())?,
            b.to_der().map_err(|e| e.to_string())?,
        );
        if n != b {
            return Ok(false);
        }
    }
    Ok(true)
}

fn form(name: &GeneralName) -> &'static str {
    match name {
        GeneralName::OtherName(_) => "otherName",
        GeneralName::Rfc822Name(_) => "rfc822Name",
        GeneralName::DnsName(_) => "dNSName",
        GeneralName::DirectoryName(_) => "directoryName",
        GeneralName::EdiPartyName(_) => "ediPartyName",
        GeneralName::UniformResourceIdentifier(_) => "URI",
        GeneralName::IpAddress(_) => "iPAddress",
        GeneralName::RegisteredId(_) => "registeredID",
    }
}

/// `form value`, as a message names it.
fn show(name: &GeneralName) -> String {
    let value = match name {
        GeneralName::Rfc822Name(s) | GeneralName::DnsName(s) => s.to_string(),
        GeneralName::UniformResourceIdentifier(s) => s.to_string(),
        GeneralName::DirectoryName(n) => n.to_string(),
        GeneralName::IpAddress(o) => show_ip(o.as_bytes()),
        GeneralName::RegisteredId(o) => o.to_string(),
        GeneralName::OtherName(o) => o.type_id.to_string(),
        GeneralName::EdiPartyName(_) => String::new(),
    };
    format!("{} {value}", form(name)).trim_end().to_string()
}

fn show_ip(b: &[u8]) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let addr = |b: &[u8]| -> Option<IpAddr> {
        match b.len() {
            4 => Some(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?).into()),
            16 => Some(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?).into()),
            _ => None,
        }
    };
    match b.len() {
        4 | 16 => addr(b).map_or_else(|| hex::encode(b), |a| a.to_string()),
        8 | 32 => {
            let (net, mask) = b.split_at(b.len() / 2);
            match (addr(net), addr(mask)) {
                (Some(n), Some(m)) => format!("{n}/{m}"),
                _ => hex::encode(b),
            }
        }
        _ => hex::encode(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use x509_cert::ext::pkix::constraints::name::GeneralSubtree;

    fn dns(s: &str) -> GeneralName {
        GeneralName::DnsName(der::asn1::Ia5String::new(s).unwrap())
    }
    fn email(s: &str) -> GeneralName {
        GeneralName::Rfc822Name(der::asn1::Ia5String::new(s).unwrap())
    }
    fn dir(s: &str) -> GeneralName {
        GeneralName::DirectoryName(Name::from_str(s).unwrap())
    }
    fn subtree(base: GeneralName) -> GeneralSubtree {
        GeneralSubtree {
            base,
            minimum: 0,
            maximum: None,
        }
    }
    fn constraints(permitted: Vec<GeneralName>, excluded: Vec<GeneralName>) -> NameConstraints {
        let trees =
            |v: Vec<GeneralName>| (!v.is_empty()).then(|| v.into_iter().map(subtree).collect());
        NameConstraints {
            permitted_subtrees: trees(permitted),
            excluded_subtrees: trees(excluded),
        }
    }
    fn names(v: Vec<GeneralName>) -> CertNames {
        CertNames { names: v }
    }

    #[test]
    fn dns_constraints_hold_the_name_and_names_below_it_only() {
        assert!(dns_within("team-a.example", "team-a.example"));
        assert!(dns_within("Model.TEAM-A.example.", "team-a.example"));
        assert!(!dns_within("evilteam-a.example", "team-a.example"));
        assert!(!dns_within("team-a.example.evil", "team-a.example"));
        assert!(dns_within("x.team-a.example", ".team-a.example"));
        assert!(!dns_within("team-a.example", ".team-a.example"));
        assert!(dns_within("anything", ""));
    }

    #[test]
    fn mailbox_host_and_domain_email_constraints() {
        assert!(email_within("ci@team-a.example", "ci@team-a.example").unwrap());
        assert!(!email_within("other@team-a.example", "ci@team-a.example").unwrap());
        assert!(email_within("any@Team-A.example", "team-a.example").unwrap());
        assert!(!email_within("any@sub.team-a.example", "team-a.example").unwrap());
        assert!(email_within("any@sub.team-a.example", ".team-a.example").unwrap());
        assert!(!email_within("any@team-a.example.evil", ".team-a.example").unwrap());
        assert!(email_within("not-a-mailbox", "team-a.example").is_err());
    }

    #[test]
    fn uri_constraints_apply_to_the_host_and_refuse_uris_without_one() {
        let u = |n, b| uri_within(n, b);
        assert!(u("https://ci.team-a.example/build/1", ".team-a.example").unwrap());
        assert!(u("https://user@ci.team-a.example:8443/x", ".team-a.example").unwrap());
        assert!(!u("https://team-a.example.evil.example/x", ".team-a.example").unwrap());
        assert!(u("https://team-a.example", "team-a.example").unwrap());
        assert!(!u("https://x.team-a.example", "team-a.example").unwrap());
        assert!(u("urn:uuid:1234", ".team-a.example").is_err());
        assert!(u("https://[::1]/x", ".team-a.example").is_err());
    }

    #[test]
    fn address_constraints_compare_under_the_mask_and_family() {
        let v4 = [10, 0, 0, 0, 255, 0, 0, 0];
        assert!(ip_within(&[10, 1, 2, 3], &v4).unwrap());
        assert!(!ip_within(&[192, 168, 1, 1], &v4).unwrap());
        assert!(!ip_within(&[0; 16], &v4).unwrap());
        assert!(ip_within(&[1, 2, 3], &v4).is_err());
        assert_eq!(show_ip(&v4), "10.0.0.0/255.0.0.0");
    }

    #[test]
    fn directory_constraints_are_rdn_prefixes() {
        let base = Name::from_str("O=Team A,C=DE").unwrap();
        // Name::from_str reads RFC 4514 order (last RDN first): C=DE is the first RDN.
        let inside = Name::from_str("CN=signer,O=Team A,C=DE").unwrap();
        let outside = Name::from_str("CN=signer,O=Team B,C=DE").unwrap();
        assert!(dn_within(&inside, &base).unwrap());
        assert!(!dn_within(&outside, &base).unwrap());
        assert!(!dn_within(&Name::from_str("C=DE").unwrap(), &base).unwrap());
    }

    #[test]
    fn permitted_and_excluded_subtrees_decide_together_per_form() {
        let nc = constraints(
            vec![dns("team-a.example"), dir("O=Team A")],
            vec![dns("prod.team-a.example")],
        );
        assert!(
            check(
                &nc,
                &names(vec![dns("ci.team-a.example"), dir("CN=x,O=Team A")])
            )
            .is_ok()
        );
        let err = check(&nc, &names(vec![dns("evil.example")])).unwrap_err();
        assert_eq!(
            err,
            "dNSName evil.example is outside the permitted dNSName team-a.example"
        );
        let err = check(&nc, &names(vec![dns("db.prod.team-a.example")])).unwrap_err();
        assert!(
            err.contains("inside the excluded dNSName prod.team-a.example"),
            "{err}"
        );
        assert!(check(&nc, &names(vec![dir("CN=x,O=Team B")])).is_err());
        // A form the CA does not constrain is free.
        assert!(check(&nc, &names(vec![email("a@anywhere.example")])).is_ok());
    }

    #[test]
    fn a_constrained_form_that_cannot_be_checked_is_refused() {
        let rid = |s: &str| GeneralName::RegisteredId(der::asn1::ObjectIdentifier::new(s).unwrap());
        let nc = constraints(vec![rid("1.2.3")], vec![]);
        let err = check(&nc, &names(vec![rid("1.2.3.4")])).unwrap_err();
        assert!(err.contains("cannot be checked"), "{err}");
        // ... but says nothing about names of other forms.
        assert!(check(&nc, &names(vec![dns("x.example")])).is_ok());
        let mut with_max = constraints(vec![dns("a.example")], vec![]);
        with_max.permitted_subtrees.as_mut().unwrap()[0].maximum = Some(3);
        let der = with_max.to_der().unwrap();
        assert!(read(&der).unwrap_err().contains("minimum or maximum"));
    }
}
