//! Name constraints (RFC 5280 §4.2.1.10, processed as §6.1.3 (b)–(c) and §6.1.4 (g)): every
//! CA's permitted and excluded subtrees apply to the names of every certificate below it — the
//! subject DN (unless the certificate is a self-issued intermediate), the e-mail addresses in it,
//! and the subjectAltName entries. Forms processed: directoryName, rfc822Name, dNSName,
//! uniformResourceIdentifier (by host), iPAddress. A constraint on another form makes a
//! certificate carrying a name of that form fail, as §4.2.1.10 asks of a name form an
//! application does not process.

use crate::x509::{Cert, CertRef};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{NameConstraints, SubjectAltName};
use x509_cert::name::Name;

/// PKCS#9 emailAddress, which §4.2.1.10 says rfc822Name constraints also govern.
const EMAIL_ADDRESS: const_oid::ObjectIdentifier = const_oid::db::rfc3280::EMAIL_ADDRESS;

/// Name forms, for matching a constraint's form to a name's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Directory,
    Email,
    Dns,
    Uri,
    Ip,
    Other,
}

fn form(g: &GeneralName) -> Form {
    match g {
        GeneralName::DirectoryName(_) => Form::Directory,
        GeneralName::Rfc822Name(_) => Form::Email,
        GeneralName::DnsName(_) => Form::Dns,
        GeneralName::UniformResourceIdentifier(_) => Form::Uri,
        GeneralName::IpAddress(_) => Form::Ip,
        _ => Form::Other,
    }
}

/// A name of a certificate, in the form constraints are matched against.
#[derive(Debug, Clone)]
enum Subject {
    Directory(Name),
    Email(String),
    Dns(String),
    /// The host of a URI.
    Uri(String),
    Ip(Vec<u8>),
    Other,
    /// A name of this form whose value cannot be read as text (an invalid UTF8String, an
    /// attribute that is no string): it cannot be compared with a constraint, so any
    /// constraint of its form fails it.
    Unreadable(Form, String),
}

impl Subject {
    fn form(&self) -> Form {
        match self {
            Subject::Directory(_) => Form::Directory,
            Subject::Email(_) => Form::Email,
            Subject::Dns(_) => Form::Dns,
            Subject::Uri(_) => Form::Uri,
            Subject::Ip(_) => Form::Ip,
            Subject::Other => Form::Other,
            Subject::Unreadable(f, _) => *f,
        }
    }

    fn describe(&self) -> String {
        match self {
            Subject::Directory(n) => format!("directory name {n}"),
            Subject::Email(e) => format!("e-mail {e}"),
            Subject::Dns(d) => format!("DNS name {d}"),
            Subject::Uri(h) => format!("URI host {h}"),
            Subject::Ip(a) => format!("IP address {}", hex::encode(a)),
            Subject::Other => "a name of a form kyso does not process".into(),
            Subject::Unreadable(_, what) => format!("{what}, which cannot be read as text"),
        }
    }
}

fn names_of(c: &Cert, include_dn: bool) -> Result<Vec<Subject>, String> {
    let mut out = Vec::new();
    let dn = &c.tbs().subject;
    let readable =
        |a: &&x509_cert::attr::AttributeTypeAndValue| crate::x509::decode(&a.value).is_some();
    let atvs = || dn.0.iter().flat_map(|r| r.0.iter());
    if include_dn && !dn.0.is_empty() {
        if atvs().all(|a| readable(&a)) {
            out.push(Subject::Directory(dn.clone()));
        } else {
            out.push(Subject::Unreadable(
                Form::Directory,
                format!("directory name {dn}"),
            ));
        }
    }
    // Every emailAddress in the DN, in whatever string type it is written.
    for a in atvs().filter(|a| a.oid == EMAIL_ADDRESS) {
        out.push(match crate::x509::decode(&a.value) {
            Some(e) => Subject::Email(e),
            None => Subject::Unreadable(Form::Email, "an emailAddress".into()),
        });
    }
    let san = c.extension::<SubjectAltName>().map_err(|e| {
        format!(
            "certificate {}: unreadable subjectAltName ({e})",
            c.subject_string()
        )
    })?;
    for g in san.map(|(_, s)| s.0).unwrap_or_default() {
        out.push(match g {
            // As the subject's: a value that cannot be read cannot be compared.
            GeneralName::DirectoryName(n)
                if !n
                    .0
                    .iter()
                    .flat_map(|r| r.0.iter())
                    .all(|a| crate::x509::decode(&a.value).is_some()) =>
            {
                Subject::Unreadable(Form::Directory, format!("directory name {n}"))
            }
            GeneralName::DirectoryName(n) => Subject::Directory(n),
            GeneralName::Rfc822Name(e) => Subject::Email(e.to_string()),
            GeneralName::DnsName(d) => Subject::Dns(d.to_string()),
            GeneralName::UniformResourceIdentifier(u) => Subject::Uri(uri_host(u.as_ref())),
            GeneralName::IpAddress(a) => Subject::Ip(a.as_bytes().to_vec()),
            _ => Subject::Other,
        });
    }
    Ok(out)
}

/// The host of `scheme://[userinfo@]host[:port]/…` (§4.2.1.10: URI constraints apply to it).
fn uri_host(u: &str) -> String {
    let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

/// `name` is `base` or below it (its RDNs start with base's, compared as RFC 5280 §7.1 asks:
/// [`crate::x509::same_rdn`] — string types decoded, Unicode normalized, case folded; an
/// excluded `O=Bộ Công an` written composed also excludes it written decomposed).
fn dn_within(name: &Name, base: &Name) -> bool {
    base.0.len() <= name.0.len()
        && base
            .0
            .iter()
            .zip(name.0.iter())
            .all(|(b, n)| crate::x509::same_rdn(b, n))
}

/// `host` is `base` or a subdomain of it; a base starting with `.` admits subdomains only.
fn host_within(host: &str, base: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        return true;
    }
    if let Some(domain) = base.strip_prefix('.') {
        return host.ends_with(&format!(".{domain}"));
    }
    host == base || host.ends_with(&format!(".{base}"))
}

fn email_within(mailbox: &str, base: &str) -> bool {
    let mailbox = mailbox.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    if base.contains('@') {
        return mailbox == base;
    }
    let host = mailbox.rsplit_once('@').map(|(_, h)| h).unwrap_or("");
    if let Some(domain) = base.strip_prefix('.') {
        host.ends_with(&format!(".{domain}"))
    } else {
        host == base
    }
}

fn ip_within(addr: &[u8], base: &[u8]) -> bool {
    let n = addr.len();
    if base.len() != 2 * n {
        return false;
    }
    let (net, mask) = base.split_at(n);
    addr.iter()
        .zip(net)
        .zip(mask)
        .all(|((a, b), m)| a & m == b & m)
}

/// Does `name` fall in the subtree `base` (of the same form)?
fn within(name: &Subject, base: &GeneralName) -> bool {
    match (name, base) {
        (Subject::Directory(n), GeneralName::DirectoryName(b)) => dn_within(n, b),
        (Subject::Email(e), GeneralName::Rfc822Name(b)) => email_within(e, b.as_ref()),
        (Subject::Dns(d), GeneralName::DnsName(b)) => host_within(d, b.as_ref()),
        (Subject::Uri(h), GeneralName::UniformResourceIdentifier(b)) => host_within(h, b.as_ref()),
        (Subject::Ip(a), GeneralName::IpAddress(b)) => ip_within(a, b.as_bytes()),
        _ => false,
    }
}

/// Most name-to-subtree comparisons one path's name constraints may take.
const MAX_COMPARISONS: usize = 1_000_000;

/// Name-constraint violations along `path` (leaf first, anchor last), one message each.
pub fn check(path: &[CertRef]) -> Vec<String> {
    let mut problems = Vec::new();
    // Each name is compared with each subtree in force: 8,000 against 8,000 (550 KB of
    // certificates) took 19 s, again per SignerInfo, and never asked the stop (helper 243).
    // Past this many comparisons the path fails, said; the stop is asked as they go.
    let mut work = 0usize;
    // Constraints in force, from the CAs above the certificate being checked: (CA, permitted
    // subtrees by CA — each CA's set must admit the name —, excluded subtrees).
    let mut permitted: Vec<(String, Vec<GeneralName>)> = Vec::new();
    let mut excluded: Vec<(String, GeneralName)> = Vec::new();
    // From the certificate the anchor issued down to the leaf (the anchor's own constraints
    // are trust-anchor input that kyso does not take from the anchor certificate).
    for (i, c) in path.iter().enumerate().rev().skip(1) {
        let is_leaf = i == 0;
        let include_dn = is_leaf || !c.is_self_issued();
        let names = match names_of(c, include_dn) {
            Ok(v) => v,
            Err(m) => {
                problems.push(m);
                continue;
            }
        };
        for name in &names {
            work = work.saturating_add(
                permitted.iter().map(|(_, s)| s.len()).sum::<usize>() + excluded.len(),
            );
            if work > MAX_COMPARISONS || kyso_pdf::stop::stopped() {
                problems.push(format!(
                    "the names and name constraints of this path take more than {MAX_COMPARISONS} comparisons: not checked"
                ));
                return problems;
            }
            for (ca, subtrees) in &permitted {
                let same_form: Vec<&GeneralName> =
                    subtrees.iter().filter(|g| form(g) == name.form()).collect();
                if name.form() == Form::Other && !subtrees.iter().all(|g| form(g) != Form::Other) {
                    problems.push(format!(
                        "certificate {} carries {} that {ca}'s name constraints cover and kyso cannot check",
                        c.subject_string(),
                        name.describe()
                    ));
                } else if !same_form.is_empty() && !same_form.iter().any(|b| within(name, b)) {
                    problems.push(format!(
                        "certificate {}: {} is outside what {ca} permits (nameConstraints)",
                        c.subject_string(),
                        name.describe()
                    ));
                }
            }
            for (ca, b) in &excluded {
                if form(b) == Form::Other && name.form() == Form::Other {
                    problems.push(format!(
                        "certificate {} carries {} that {ca}'s name constraints cover and kyso cannot check",
                        c.subject_string(),
                        name.describe()
                    ));
                } else if matches!(name, Subject::Unreadable(f, _) if *f == form(b)) {
                    problems.push(format!(
                        "certificate {} carries {} that {ca}'s name constraints cover: it cannot be compared with them",
                        c.subject_string(),
                        name.describe()
                    ));
                } else if within(name, b) {
                    problems.push(format!(
                        "certificate {}: {} is excluded by {ca} (nameConstraints)",
                        c.subject_string(),
                        name.describe()
                    ));
                }
            }
        }
        if is_leaf {
            continue;
        }
        match c.extension::<NameConstraints>() {
            Ok(Some((_, nc))) => {
                let ca = c.subject_string();
                if let Some(p) = nc.permitted_subtrees {
                    permitted.push((ca.clone(), p.into_iter().map(|s| s.base).collect()));
                }
                for s in nc.excluded_subtrees.unwrap_or_default() {
                    excluded.push((ca.clone(), s.base));
                }
            }
            Ok(None) => {}
            Err(e) => problems.push(format!(
                "certificate {}: unreadable nameConstraints ({e})",
                c.subject_string()
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees_match_as_rfc_5280_says() {
        assert!(host_within("a.gov.vn", "gov.vn"));
        assert!(host_within("gov.vn", "gov.vn"));
        assert!(!host_within("evilgov.vn", "gov.vn"));
        assert!(!host_within("gov.vn", ".gov.vn"));
        assert!(host_within("x.gov.vn", ".gov.vn"));
        assert!(email_within("a@hanoi.gov.vn", ".gov.vn"));
        assert!(!email_within("a@gov.vn", ".gov.vn"));
        assert!(email_within("a@gov.vn", "gov.vn"));
        assert!(email_within("A@Gov.vn", "a@gov.vn"));
        assert!(!email_within("b@gov.vn", "a@gov.vn"));
        assert!(ip_within(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert_eq!(uri_host("https://user@CA.gov.vn:8443/crl"), "ca.gov.vn");
        assert_eq!(uri_host("http://[::1]/x"), "::1");
    }
}
