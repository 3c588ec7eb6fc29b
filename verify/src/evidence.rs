//! The validation data a verdict rests on: the certificates of every path (the signer's and
//! its time-stamps' TSAs'), and the CRLs and OCSP responses that gave their status — what a
//! B-LT signature embeds and what the archive keeps with a record, so that the verdict can be
//! reached again when the CAs no longer answer.

use crate::x509::{CertRef, Crl, Ocsp};

#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub certs: Vec<CertRef>,
    pub crls: Vec<Crl>,
    pub ocsps: Vec<Ocsp>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.crls.is_empty() && self.ocsps.is_empty()
    }

    pub fn add_certs<'a>(&mut self, certs: impl IntoIterator<Item = &'a CertRef>) {
        for c in certs {
            if !self.certs.iter().any(|x| x == c) {
                self.certs.push(c.clone());
            }
        }
    }

    pub fn add_crls(&mut self, crls: impl IntoIterator<Item = Crl>) {
        let mut have: std::collections::HashSet<[u8; 32]> =
            self.crls.iter().map(|c| *c.sha256()).collect();
        for c in crls {
            if have.insert(*c.sha256()) {
                self.crls.push(c);
            }
        }
    }

    pub fn add_ocsps(&mut self, ocsps: impl IntoIterator<Item = Ocsp>) {
        let mut have: std::collections::HashSet<[u8; 32]> =
            self.ocsps.iter().map(|o| *o.sha256()).collect();
        for o in ocsps {
            if have.insert(*o.sha256()) {
                self.ocsps.push(o);
            }
        }
    }

    pub fn merge(&mut self, other: &Evidence) {
        self.add_certs(other.certs.iter());
        self.add_crls(other.crls.iter().cloned());
        self.add_ocsps(other.ocsps.iter().cloned());
    }
}
