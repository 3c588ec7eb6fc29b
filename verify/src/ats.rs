//! CAdES archive time-stamps (ETSI EN 319 122-1 §5.5.2–5.5.3): archive-time-stamp-v3 and its
//! ats-hash-index-v3, over the exact bytes of a SignedData as it is — every piece is a slice
//! of the original encoding, never a re-encoding (a decoder that sorts SET OF would change
//! what was hashed).
//!
//! The message imprint's input is, in order: the eContentType OID (its TLV); the hash of the
//! signed content (raw digest bytes); the SignerInfo's version, sid, digestAlgorithm,
//! signedAttrs (with its `[0]` tag, as on the wire), signatureAlgorithm and signature (each
//! TLV); and the ATSHashIndexV3 value (its TLV), which lists the hash of every certificate
//! (CertificateChoices TLV), every revocation choice (RevocationInfoChoice TLV) and every value
//! of every unsigned attribute (attrType TLV ‖ AttributeValue TLV) present when the time-stamp
//! was made.

use crate::ber::{self, BerError, Tlv};
use crate::crypto::Hash;
use const_oid::ObjectIdentifier;
use der::Encode;

/// id-aa-ets-archiveTimestampV3 (0.4.0.1733.2.4).
pub const ID_AA_ETS_ARCHIVE_TIMESTAMP_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.1733.2.4");
/// id-aa-ATSHashIndex-v3 (0.4.0.19122.1.5).
pub const ID_AA_ATS_HASH_INDEX_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.19122.1.5");

/// Why a SignedData's parts cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartsError {
    #[error("not BER: {0}")]
    Ber(#[from] BerError),
    #[error("not a ContentInfo of SignedData as RFC 5652 §5.1 lays it out ({0})")]
    Layout(&'static str),
}

/// An unsigned attribute: its type's TLV and each value's TLV.
#[derive(Debug, Clone)]
pub struct Attr<'a> {
    pub oid: Option<ObjectIdentifier>,
    pub attr_type: &'a [u8],
    pub values: Vec<&'a [u8]>,
    /// The whole Attribute.
    pub raw: &'a [u8],
}

/// A SignerInfo's parts.
#[derive(Debug, Clone)]
pub struct SignerParts<'a> {
    /// version, sid, digestAlgorithm, signedAttrs (if any), signatureAlgorithm, signature.
    pub fields: Vec<&'a [u8]>,
    pub unsigned: Vec<Attr<'a>>,
    pub raw: &'a [u8],
}

/// The parts of a ContentInfo(SignedData) archive time-stamps hash.
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    /// The children of SignedData, in order (version, digestAlgorithms, encapContentInfo,
    /// [0] certificates, [1] crls, signerInfos).
    pub children: Vec<Tlv<'a>>,
    pub econtent_type: &'a [u8],
    /// The attached content's octets (segments of a constructed OCTET STRING joined).
    pub econtent: Option<Vec<u8>>,
    pub certificates: Vec<&'a [u8]>,
    pub crls: Vec<&'a [u8]>,
    pub signers: Vec<SignerParts<'a>>,
}

fn octets(t: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), PartsError> {
    if depth > ber::MAX_DEPTH {
        return Err(BerError::TooDeep.into());
    }
    if t.constructed {
        for c in t.children() {
            octets(&c?, out, depth + 1)?;
        }
    } else {
        out.extend_from_slice(t.contents);
    }
    Ok(())
}

fn attrs<'a>(set: &Tlv<'a>) -> Result<Vec<Attr<'a>>, PartsError> {
    let mut out = Vec::new();
    for a in set.children() {
        let a = a?;
        let mut it = a.children();
        let t = it
            .next()
            .ok_or(PartsError::Layout("an attribute without a type"))??;
        let vals = it
            .next()
            .ok_or(PartsError::Layout("an attribute without values"))??;
        out.push(Attr {
            oid: <ObjectIdentifier as der::Decode>::from_der(t.raw).ok(),
            attr_type: t.raw,
            values: vals
                .children()
                .map(|v| v.map(|v| v.raw))
                .collect::<Result<_, _>>()?,
            raw: a.raw,
        });
    }
    Ok(out)
}

/// Read the parts of a ContentInfo(SignedData) (DER or BER; trailing bytes ignored).
pub fn parts(cms: &[u8]) -> Result<Parts<'_>, PartsError> {
    let ci = ber::read(cms)?;
    let mut it = ci.children();
    let _oid = it.next().ok_or(PartsError::Layout("empty ContentInfo"))??;
    let explicit = it
        .next()
        .ok_or(PartsError::Layout("ContentInfo without content"))??;
    let sd = explicit
        .children()
        .next()
        .ok_or(PartsError::Layout("ContentInfo without content"))??;
    let children: Vec<Tlv<'_>> = sd.children().collect::<Result<_, _>>()?;
    let encap = children
        .iter()
        .find(|t| t.tag_byte() == 0x30)
        .ok_or(PartsError::Layout("no encapContentInfo"))?;
    let mut e = encap.children();
    let econtent_type = e.next().ok_or(PartsError::Layout("no eContentType"))??.raw;
    let econtent = match e.next().transpose()? {
        Some(explicit) => {
            let o = explicit
                .children()
                .next()
                .ok_or(PartsError::Layout("empty eContent"))??;
            let mut v = Vec::new();
            octets(&o, &mut v, 0)?;
            Some(v)
        }
        None => None,
    };
    let list = |tag: u8| -> Result<Vec<&[u8]>, PartsError> {
        Ok(match children.iter().find(|t| t.tag_byte() == tag) {
            Some(t) => t
                .children()
                .map(|c| c.map(|c| c.raw))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        })
    };
    let certificates = list(0xa0)?;
    let crls = list(0xa1)?;
    let sis = children
        .iter()
        .rev()
        .find(|t| t.tag_byte() == 0x31)
        .ok_or(PartsError::Layout("no signerInfos"))?;
    let mut signers = Vec::new();
    for si in sis.children() {
        let si = si?;
        let mut fields = Vec::new();
        let mut unsigned = Vec::new();
        for f in si.children() {
            let f = f?;
            if f.tag_byte() == 0xa1 {
                unsigned = attrs(&f)?;
            } else {
                fields.push(f.raw);
            }
        }
        signers.push(SignerParts {
            fields,
            unsigned,
            raw: si.raw,
        });
    }
    Ok(Parts {
        econtent_type,
        econtent,
        certificates,
        crls,
        signers,
        children,
    })
}

/// DER of a SEQUENCE OF OCTET STRING of hashes.
fn hash_list(h: Hash, items: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    let octets: Vec<der::asn1::OctetString> = items
        .filter_map(|i| der::asn1::OctetString::new(h.digest(&[&i])).ok())
        .collect();
    octets.to_der().unwrap_or_default()
}

/// The AlgorithmIdentifier of a hash, without parameters (as DSS writes it).
fn alg_id(h: Hash) -> Vec<u8> {
    let oid = match h {
        Hash::Sha1 => const_oid::db::rfc5912::ID_SHA_1,
        Hash::Sha256 => const_oid::db::rfc5912::ID_SHA_256,
        Hash::Sha384 => const_oid::db::rfc5912::ID_SHA_384,
        Hash::Sha512 => const_oid::db::rfc5912::ID_SHA_512,
    };
    spki::AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
    .to_der()
    .unwrap_or_default()
}

fn seq(body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let b = n.to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        out.push(0x80 | (b.len() - skip) as u8);
        out.extend_from_slice(&b[skip..]);
    }
    out.extend_from_slice(body);
    out
}

/// The ATSHashIndexV3 (its DER) of signer `si` as the SignedData is now, with `h`; the
/// hashIndAlgorithm is always written.
pub fn hash_index(p: &Parts<'_>, si: usize, h: Hash) -> Option<Vec<u8>> {
    let signer = p.signers.get(si)?;
    let mut body = alg_id(h);
    body.extend(hash_list(h, p.certificates.iter().map(|c| c.to_vec())));
    body.extend(hash_list(h, p.crls.iter().map(|c| c.to_vec())));
    body.extend(hash_list(
        h,
        signer.unsigned.iter().flat_map(|a| {
            a.values.iter().map(|v| {
                let mut x = a.attr_type.to_vec();
                x.extend_from_slice(v);
                x
            })
        }),
    ));
    Some(seq(&body))
}

/// The input of an archive-time-stamp-v3's message imprint for signer `si`: `content_digest`
/// the signed content's digest by `h` (the attached content's when attached, else the detached
/// content's; made once per algorithm for all the tokens), `index` the ATSHashIndexV3 TLV.
pub fn imprint_input(
    p: &Parts<'_>,
    si: usize,
    content_digest: &[u8],
    index: &[u8],
) -> Option<Vec<u8>> {
    let signer = p.signers.get(si)?;
    let mut m = p.econtent_type.to_vec();
    m.extend_from_slice(content_digest);
    for f in &signer.fields {
        m.extend_from_slice(f);
    }
    m.extend_from_slice(index);
    Some(m)
}

/// The hashes an ATSHashIndexV3 lists: (algorithm, certificates, crls, unsigned attribute
/// values).
pub struct Index {
    pub hash: Option<Hash>,
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub unsigned: Vec<Vec<u8>>,
}

/// Read an ATSHashIndexV3 (hashIndAlgorithm DEFAULT sha256).
pub fn read_index(tlv: &[u8]) -> Result<Index, PartsError> {
    let t = ber::read(tlv)?;
    let mut it = t.children().peekable();
    let mut hash = Some(Hash::Sha256);
    if let Some(Ok(first)) = it.peek() {
        if first.tag_byte() == 0x30
            && first
                .children()
                .next()
                .and_then(Result::ok)
                .is_some_and(|c| c.tag_byte() == 0x06)
        {
            let oid = first
                .children()
                .next()
                .and_then(Result::ok)
                .and_then(|o| <ObjectIdentifier as der::Decode>::from_der(o.raw).ok());
            hash = oid.and_then(|o| Hash::from_oid(&o));
            it.next();
        }
    }
    let mut lists = Vec::new();
    for l in it {
        let l = l?;
        lists.push(
            l.children()
                .map(|o| o.map(|o| o.contents.to_vec()))
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    let [certificates, crls, unsigned]: [Vec<Vec<u8>>; 3] = lists
        .try_into()
        .map_err(|_| PartsError::Layout("an ats-hash-index-v3 without its three lists"))?;
    Ok(Index {
        hash,
        certificates,
        crls,
        unsigned,
    })
}

/// The digests, by one hash algorithm, of what a SignerInfo's SignedData holds now: its
/// certificates, CRLs and unsigned attribute values, each counted — made once per algorithm
/// and signer, for all its archive time-stamps (each token had every item copied and hashed
/// again: 32 tokens over 24 MiB of CRLs took 9.8 s; helper 242).
pub struct Present {
    pub hash: Hash,
    certificates: std::collections::HashMap<Vec<u8>, usize>,
    crls: std::collections::HashMap<Vec<u8>, usize>,
    unsigned: std::collections::HashMap<Vec<u8>, usize>,
}

impl Present {
    pub fn of(p: &Parts<'_>, si: usize, h: Hash) -> Option<Present> {
        let signer = p.signers.get(si)?;
        let count = |items: &mut dyn Iterator<Item = Vec<u8>>| {
            let mut m = std::collections::HashMap::new();
            for d in items {
                *m.entry(d).or_default() += 1;
            }
            m
        };
        Some(Present {
            hash: h,
            certificates: count(&mut p.certificates.iter().map(|c| h.digest(&[c]))),
            crls: count(&mut p.crls.iter().map(|c| h.digest(&[c]))),
            unsigned: count(
                &mut signer
                    .unsigned
                    .iter()
                    .flat_map(|a| a.values.iter().map(|v| h.digest(&[a.attr_type, v]))),
            ),
        })
    }
}

/// Items an index lists that the SignedData no longer holds (an archive time-stamp vouches
/// for them; their removal is a failure). `now`: what signer `si` holds, by the index's hash
/// ([`Present::of`]).
pub fn missing(
    p: &Parts<'_>,
    si: usize,
    index: &Index,
    now: Option<&Present>,
) -> Vec<&'static str> {
    let Some(h) = index.hash else {
        return vec!["the index's hash algorithm is unknown"];
    };
    if p.signers.get(si).is_none() {
        return vec!["the signer"];
    }
    let Some(now) = now.filter(|n| n.hash == h) else {
        return vec!["the signer"];
    };
    // Multiset inclusion by hash: each listed digest must be matched by a distinct item
    // present now. Linear in the sizes, whatever their order.
    let has_all = |listed: &[Vec<u8>], present: &std::collections::HashMap<Vec<u8>, usize>| {
        let mut used: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
        listed.iter().all(|l| {
            let n = used.entry(l.as_slice()).or_default();
            *n += 1;
            present.get(l).is_some_and(|have| *n <= *have)
        })
    };
    let mut out = Vec::new();
    if !has_all(&index.certificates, &now.certificates) {
        out.push("a certificate");
    }
    if !has_all(&index.crls, &now.crls) {
        out.push("a CRL or OCSP response");
    }
    if !has_all(&index.unsigned, &now.unsigned) {
        out.push("an unsigned attribute");
    }
    out
}
