//! Appending to a CMS SignedData (RFC 5652 §5) without touching what is signed or what an
//! archive time-stamp already covers: certificates and revocation data go into
//! SignedData.certificates and .crls (ETSI EN 319 122-1 §5.5.3, as B-LT wants them), digest
//! algorithms into .digestAlgorithms, attributes into a SignerInfo's unsignedAttrs. Everything
//! present is copied as the bytes it is; only the enclosing lengths are written anew.

use crate::error::{Result, SignError};
use kyso_verify::ber::{self, Tlv};

/// id-ri-ocsp-response (RFC 5940 §4.1).
const ID_RI_OCSP_RESPONSE: [u8; 10] = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02];

fn bad(what: &str) -> SignError {
    SignError::Input(format!("the CMS signature cannot be extended: {what}"))
}

/// A TLV with a definite length.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    kyso_verify::ber::tlv(tag, body)
}

/// `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value }` with one value.
pub fn attribute(oid: const_oid::ObjectIdentifier, value: &[u8]) -> Result<Vec<u8>> {
    let mut body = der::Encode::to_der(&oid)?;
    body.extend(tlv(0x31, value));
    Ok(tlv(0x30, &body))
}

/// Rebuild ContentInfo(SignedData), the SignedData's children (raw TLVs) changed by `f`.
fn edit(cms: &[u8], f: impl FnOnce(&mut Vec<Vec<u8>>) -> Result<()>) -> Result<Vec<u8>> {
    let e = |x: ber::BerError| bad(&x.to_string());
    let ci = ber::read(cms).map_err(e)?;
    let mut it = ci.children();
    let oid = it
        .next()
        .ok_or_else(|| bad("empty ContentInfo"))?
        .map_err(e)?;
    let explicit = it.next().ok_or_else(|| bad("no content"))?.map_err(e)?;
    let sd = explicit
        .children()
        .next()
        .ok_or_else(|| bad("no content"))?
        .map_err(e)?;
    let mut children: Vec<Vec<u8>> = sd
        .children()
        .map(|c| c.map(|c| c.raw.to_vec()))
        .collect::<std::result::Result<_, _>>()
        .map_err(e)?;
    f(&mut children)?;
    let sd = tlv(0x30, &children.concat());
    let mut body = oid.raw.to_vec();
    body.extend(tlv(0xa0, &sd));
    Ok(tlv(0x30, &body))
}

fn read(raw: &[u8]) -> Result<Tlv<'_>> {
    ber::read(raw).map_err(|e| bad(&e.to_string()))
}

/// The raw TLVs inside a constructed value.
fn items(raw: &[u8]) -> Result<Vec<Vec<u8>>> {
    read(raw)?
        .children()
        .map(|c| c.map(|c| c.raw.to_vec()).map_err(|e| bad(&e.to_string())))
        .collect()
}

/// Add certificates (DER), CRLs (DER) and OCSP responses (OCSPResponse DER, as RFC 5940
/// other revocation info) that the SignedData does not hold yet. SignedData.version becomes 5
/// when it holds other revocation info (RFC 5652 §5.1).
pub fn add_validation_data(
    cms: &[u8],
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
    ocsp_responses: &[Vec<u8>],
) -> Result<Vec<u8>> {
    edit(cms, |children| {
        fn pos(children: &[Vec<u8>], tag: u8) -> Option<usize> {
            children.iter().position(|c| c.first() == Some(&tag))
        }
        let encap = children
            .iter()
            .position(|c| c.first() == Some(&0x30))
            .ok_or_else(|| bad("no encapContentInfo"))?;
        // certificates [0] IMPLICIT SET OF CertificateChoices
        let mut have = match pos(children, 0xa0) {
            Some(i) => items(&children[i])?,
            None => Vec::new(),
        };
        let before = have.len();
        for c in certs {
            if !have.contains(c) {
                have.push(c.clone());
            }
        }
        if have.len() != before {
            let t = tlv(0xa0, &have.concat());
            match pos(children, 0xa0) {
                Some(i) => children[i] = t,
                None => children.insert(encap + 1, t),
            }
        }
        // crls [1] IMPLICIT SET OF RevocationInfoChoice
        let mut have = match pos(children, 0xa1) {
            Some(i) => items(&children[i])?,
            None => Vec::new(),
        };
        let before = have.len();
        for c in crls {
            if !have.contains(c) {
                have.push(c.clone());
            }
        }
        let mut other = false;
        for o in ocsp_responses {
            let mut body = ID_RI_OCSP_RESPONSE.to_vec();
            body.extend_from_slice(o);
            let choice = tlv(0xa1, &body);
            if !have.contains(&choice) {
                have.push(choice);
            }
        }
        other |= have.iter().any(|c| c.first() == Some(&0xa1));
        if have.len() != before {
            let t = tlv(0xa1, &have.concat());
            match pos(children, 0xa1) {
                Some(i) => children[i] = t,
                None => {
                    let at = pos(children, 0xa0).unwrap_or(encap) + 1;
                    children.insert(at, t)
                }
            }
        }
        if other {
            children[0] = vec![0x02, 0x01, 0x05];
        }
        Ok(())
    })
}

/// Add a digest algorithm (AlgorithmIdentifier DER) to SignedData.digestAlgorithms if absent
/// (EN 319 122-1 recommends it for the archive time-stamp's hash).
pub fn add_digest_algorithm(cms: &[u8], alg: &[u8]) -> Result<Vec<u8>> {
    let oid_of = |a: &[u8]| -> Option<Vec<u8>> {
        ber::read(a)
            .ok()?
            .children()
            .next()
            .and_then(|o| o.ok())
            .map(|o| o.raw.to_vec())
    };
    let want = oid_of(alg).ok_or_else(|| bad("bad algorithm identifier"))?;
    edit(cms, |children| {
        let i = children
            .iter()
            .position(|c| c.first() == Some(&0x31))
            .ok_or_else(|| bad("no digestAlgorithms"))?;
        let mut algs = items(&children[i])?;
        if !algs.iter().any(|a| oid_of(a).as_deref() == Some(&want[..])) {
            algs.push(alg.to_vec());
            children[i] = tlv(0x31, &algs.concat());
        }
        Ok(())
    })
}

/// Append an attribute (its DER) to the unsignedAttrs of SignerInfo `si`.
pub fn add_unsigned_attribute(cms: &[u8], si: usize, attr: &[u8]) -> Result<Vec<u8>> {
    edit(cms, |children| {
        let i = children
            .iter()
            .rposition(|c| c.first() == Some(&0x31))
            .ok_or_else(|| bad("no signerInfos"))?;
        let mut sis = items(&children[i])?;
        let target = sis.get_mut(si).ok_or_else(|| bad("no such SignerInfo"))?;
        let mut fields = items(target)?;
        match fields.iter().position(|f| f.first() == Some(&0xa1)) {
            Some(u) => {
                let mut attrs = items(&fields[u])?;
                attrs.push(attr.to_vec());
                fields[u] = tlv(0xa1, &attrs.concat());
            }
            None => fields.push(tlv(0xa1, attr)),
        }
        *target = tlv(0x30, &fields.concat());
        children[i] = tlv(0x31, &sis.concat());
        Ok(())
    })
}
