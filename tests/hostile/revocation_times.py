#!/usr/bin/env python3
"""Revocation data and times that kyso judged wrongly (an attacker's reading of kyso's
judgement of time, helper 139, 2026-12-05), for tests/verify_cli.rs: CAdES detached
signatures and RFC 3161 tokens assembled with asn1crypto, PKI and CRLs by pyca/cryptography,
PAdES by pyHanko -- nothing of kyso's.

    python3 revocation_times.py DIR

Each DIR/<case>/ holds doc.txt and sig.p7s; DIR/root.pem is the trust anchor. Every signature
is time-stamped 2026-06-01 unless said; "current" CRLs are dated four days before the run.

hold-lifted/         a CRL of 2026-03-02 lists the signer on hold (certificateHold) since
                     2026-03-01; CRLs of 2026-05-01 (to 2026-07-01) and the current one do not
                     (the hold was lifted before the signature): it was REVOKED
hold-at-signing/     the current CRL lists the hold since 2026-03-01: suspended when signed
hold-after-signing/  the current CRL lists a hold since 2026-09-01, after the time-stamp
hold-invalidity/     a hold since 2026-09-01 whose invalidityDate is 2026-05-01
hold-then-revoked/   on hold since 2026-03-01 (a CRL of 2026-03-02), revoked 2026-07-01 (the
                     current CRL): suspended when signed, then revoked for good -- a reading of
                     the first fix (helper 140) found it "revoked after the time-stamp: the
                     signature stands"
two-entries/         the current CRL lists the serial twice: a hold since 2026-09-01, then a
                     keyCompromise of 2026-03-01 (the first entry alone was read)
remove-from-crl/     a complete CRL whose entry has reason removeFromCRL (delta CRLs only): it
                     was read as a revocation
claim-future/        signing-time 2099-01-01, no time-stamp: TOTAL-PASSED without a word
ats-before-ts/       a CAdES-B-LT (time-stamp 2026-06-01) under an archive-time-stamp-v3 claiming
                     2026-03-01 (B-LTA, TOTAL-PASSED)
ats-out-of-order/    a CAdES-B-B of 2026-06-01 by a signer revoked 2026-04-01, an archive
                     time-stamp of 2026-08-01 and one over it claiming 2026-02-01: the earliest
                     proved the signature older than the revocation (TOTAL-PASSED)
ats-rogue-middle/    ats-out-of-order with an archive time-stamp between the August and February
                     ones, by a TSA nobody trusts, claiming 2099; the February one lists only it
                     (helper 145: TOTAL-PASSED)
ats-claim-after/     a CAdES-B-B claiming 2026-06-01 whose only archive time-stamp proves it
                     existed on 2026-02-01: passes (the revocation of 2026-04-01 came after),
                     but the claim went unsaid
ats-transitive/      ats-out-of-order with a third archive time-stamp, of 2026-03-01, listing the
                     February one but not the August one (helper 141: it still proved the
                     signature older than the revocation, INDETERMINATE)
ats-poisoned/        a good CAdES-B-T of 2026-06-01 into which anyone planted a "signature
                     time-stamp" no TSA signed, claiming 2026-11-30, before an honest archive
                     time-stamp of 2026-10-01 listed it (helper 141: the honest one was set
                     aside, INDETERMINATE)
ats-stolen-tsa/      ats-poisoned with the planted time-stamp signed by a second TSA, whose key
                     was stolen and which the root revoked (helper 143: a stolen key signs any
                     time; the honest archive time-stamp was set aside, INDETERMINATE)
ats-stolen-covered/  a revoked signer's B-B under archive time-stamps of 2026-08-01, of 2026-02-01 by
                     the stolen key over it, and of 2026-10-01 over both (helper 146: the February
                     one proved the signature older than the revocation, TOTAL-PASSED)
ats-hidden-33rd/     ats-out-of-order's signer with 32 values no TSA signed, then a signature
                     time-stamp of 2026-08-01, under an archive time-stamp claiming 2026-02-01
                     (helper 143: only 32 signature time-stamps were compared; the February one
                     proved the signature older than the revocation, TOTAL-PASSED)
ats-accuracy/        a signature time-stamp of 00:10 under an archive time-stamp of 00:00 with an
                     accuracy of an hour: in order
ats-after-at/        a CAdES-B-LT of 2026-06-01 with an archive time-stamp of 2026-10-01, judged
                     --at 2026-08-01: the later time-stamp was judged "in the future"
                     (INDETERMINATE)
doc-ts-out-of-order/ doc.pdf (pyHanko): a PAdES-B-B of 2026-06-01 by a signer revoked
                     2026-04-01 (the CRLs of 2026-06-02 and of now in the DSS), a document
                     time-stamp of 2026-08-01 and one over it claiming 2026-02-01: the earliest
                     proved the signature older than the revocation (TOTAL-PASSED; and judged
                     --at 2026-07-01, with the August one not considered, helper 145)
doc-ts-before-ts/    doc.pdf: a PAdES-B-T (time-stamp 2026-06-01) with its DSS, and a document
                     time-stamp claiming 2026-03-01 over it (PAdES-B-LTA, TOTAL-PASSED)
doc-ts-accuracy/     doc.pdf: the same PAdES-B-T under a document time-stamp of 00:10 with an
                     accuracy of an hour, and one of 00:05 over it: in order (helper 143: the
                     accuracy was counted the wrong way, INDETERMINATE)
"""
import datetime as dt
import hashlib
import os
import sys

from asn1crypto import cms as acms, core as acore, crl as acrl, tsp as atsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

D = lambda *a: dt.datetime(*a, tzinfo=dt.timezone.utc)
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
CURRENT = NOW - dt.timedelta(days=4)
CONTENT = 'Quyết định số 139/QĐ-UBND — thời gian\n'.encode()
CDP = 'http://127.0.0.1:9/'


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'VN'),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Time Test'),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key():
    return rsa.generate_private_key(65537, 2048)


def cert(subj, k, issuer, ik, ca=False, eku=None, cdp=None, nb=D(2020, 1, 1), na=D(2040, 1, 1)):
    b = (x509.CertificateBuilder().subject_name(subj).issuer_name(issuer).public_key(k.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ik.public_key()), critical=False)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                                      key_encipherment=False, data_encipherment=False, key_agreement=False,
                                      key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                        critical=True))
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    return b.sign(ik, hashes.SHA256())


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


def crl(issuer, ik, this, nxt, revoked=()):
    """revoked: (serial, date, reason, invalidity date or None)"""
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject).last_update(this)
         .next_update(nxt).add_extension(x509.CRLNumber(int(this.timestamp())), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ik.public_key()), critical=False))
    for serial, when, reason, inv in revoked:
        rb = (x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
              .add_extension(x509.CRLReason(reason), critical=False))
        if inv is not None:
            rb = rb.add_extension(x509.InvalidityDate(inv.replace(tzinfo=None)), critical=False)
        b = b.add_revoked_certificate(rb.build())
    return b.sign(ik, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def rsa_sign(k, data):
    return k.sign(data, padding.PKCS1v15(), hashes.SHA256())


def attr(t, v):
    return acms.CMSAttribute({'type': t, 'values': [v]})


def signer_info(c, k, attrs, unsigned=None):
    ac = ax509.Certificate.load(der(c))
    ess = atsp.SigningCertificateV2({'certs': [{'hash_algorithm': {'algorithm': 'sha256'},
                                                'cert_hash': hashlib.sha256(der(c)).digest()}]})
    sattrs = acms.CMSAttributes(attrs + [attr('signing_certificate_v2', ess)])
    return acms.SignerInfo({
        'version': 'v1',
        'sid': acms.SignerIdentifier({'issuer_and_serial_number': acms.IssuerAndSerialNumber(
            {'issuer': ac.issuer, 'serial_number': ac.serial_number})}),
        'digest_algorithm': {'algorithm': 'sha256'},
        'signed_attrs': sattrs,
        'signature_algorithm': {'algorithm': 'sha256_rsa'},
        'signature': rsa_sign(k, sattrs.dump()),
        'unsigned_attrs': unsigned,
    })


def signed(c, k, certs, signing_time, ts=None):
    """A detached CAdES over CONTENT, with a signature time-stamp of `ts` when given (made
    whole at once: asn1crypto's check of a changed structure took minutes)."""
    t = ({'utc_time': acore.UTCTime(signing_time)} if signing_time.year < 2050
         else {'generalized_time': acore.GeneralizedTime(signing_time)})
    attrs = [attr('content_type', 'data'), attr('message_digest', hashlib.sha256(CONTENT).digest()),
             attr('signing_time', acms.Time(t))]
    si = signer_info(c, k, attrs)
    if ts is not None:
        # RSA PKCS#1 v1.5 is deterministic: the same signature, now with its time-stamp.
        tok = token(hashlib.sha256(si['signature'].native).digest(), ts)
        si = signer_info(c, k, attrs, acms.CMSAttributes([attr('signature_time_stamp_token', tok)]))
    return acms.ContentInfo({'content_type': 'signed_data', 'content': acms.SignedData({
        'version': 'v1',
        'digest_algorithms': [{'algorithm': 'sha256'}],
        'encap_content_info': {'content_type': 'data', 'content': None},
        'certificates': [ax509.Certificate.load(der(x)) for x in [c] + certs],
        'signer_infos': [si],
    })}).dump()


def token(digest, gen, unsigned=None, accuracy=None, tsa=None):
    tsa_cert, tsa_key = tsa or (TSA, TK)
    info = atsp.TSTInfo({'version': 'v1', 'policy': '1.2.3.4.139',
                         'message_imprint': {'hash_algorithm': {'algorithm': 'sha256'},
                                             'hashed_message': digest},
                         'serial_number': int.from_bytes(os.urandom(8), 'big'), 'gen_time': gen,
                         **({'accuracy': {'seconds': accuracy}} if accuracy else {})})
    data = info.dump()
    si = signer_info(tsa_cert, tsa_key, [attr('content_type', 'tst_info'),
                               attr('message_digest', hashlib.sha256(data).digest())],
                     acms.CMSAttributes(unsigned) if unsigned else None)
    return settled(acms.ContentInfo({'content_type': 'signed_data', 'content': acms.SignedData({
        'version': 'v3',
        'digest_algorithms': [{'algorithm': 'sha256'}],
        'encap_content_info': {'content_type': 'tst_info', 'content': acore.ParsableOctetString(data)},
        'certificates': [ax509.Certificate.load(der(tsa_cert))],
        'signer_infos': [si],
    })}))


def settled(ci):
    """The structure re-read from its encoding: asn1crypto's check of what was changed is
    exponential in the changes made since the last encoding (three minutes for these files)."""
    return acms.ContentInfo.load(ci.dump())


def signed_data(ci):
    """A ContentInfo(SignedData)'s OID TLV and the children of its SignedData."""
    (_, _, body), = children(ci)
    oid, (_, _, explicit) = children(body)
    (_, _, sd), = children(explicit)
    return oid[1], children(sd)


def assemble(oid, parts):
    return tlv(0x30, oid + tlv(0xa0, tlv(0x30, b''.join(parts))))


def add(ci, crls=()):
    """The signature with more CRLs in its SignedData, spliced into its encoding (asn1crypto
    re-encoded a structure read back now and then, taking a minute or more)."""
    oid, parts = signed_data(ci)
    had = [t for p in parts if p[0] == 0xa1 for (_, t, _) in children(p[2])]
    kept = [p[1] for p in parts if p[0] != 0xa1]
    return assemble(oid, kept[:-1] + [tlv(0xa1, b''.join(had + list(crls)))] + kept[-1:])


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([tag, 0x80 | len(b)]) + b + body


def children(b):
    """The TLVs inside a DER value's body, each as (tag, whole TLV, body)."""
    out, i = [], 0
    while i < len(b):
        tag, n, j = b[i], b[i + 1], i + 2
        if n & 0x80:
            n, j = int.from_bytes(b[j:j + (n & 0x7f)], 'big'), j + (n & 0x7f)
        out.append((tag, b[i:j + n], b[j:j + n]))
        i = j + n
    return out


def add_ats(ci, at, keep=lambda value: True, accuracy=None, tsa=None):
    """An archive-time-stamp-v3 of `at` (EN 319 122-1 §5.5.3) over the signature as it is,
    spliced into its encoding (asn1crypto's re-encoding of a changed structure took minutes):
    its ats-hash-index-v3 lists the SHA-256 of every certificate, CRL and unsigned attribute
    value present (those `keep` accepts), and the imprint hashes the eContentType, the
    content's hash, the SignerInfo's fields but its unsigned attributes, and that index."""
    h = lambda x: hashlib.sha256(x).digest()
    oid, parts = signed_data(ci)
    (_, _, infos) = parts[-1]
    (_, _, si), = children(infos)
    fields = children(si)
    unsigned = [f for f in fields if f[0] == 0xa1]
    fields = [f for f in fields if f[0] != 0xa1]
    listed_in = lambda tag: [t for p in parts if p[0] == tag for (_, t, _) in children(p[2])]
    attrs = [t for (_, _, u) in unsigned for (_, t, _) in children(u)]
    vals = []
    for attr_ in attrs:
        (_, _, a), = children(attr_)
        (_, atype, _), (_, _, values) = children(a)
        vals += [atype + v for (_, v, _) in children(values) if keep(v)]
    listed = lambda items: tlv(0x30, b''.join(tlv(0x04, h(x)) for x in items))
    index = tlv(0x30, tlv(0x30, bytes.fromhex('0609608648016503040201'))
                + listed(listed_in(0xa0)) + listed(listed_in(0xa1)) + listed(vals))
    (_, _, eci) = parts[2]
    econtent_type = children(eci)[0][1]
    imprint = h(econtent_type + h(CONTENT) + b''.join(f[1] for f in fields) + index)
    tok = token(imprint, at, [attr('0.4.0.19122.1.5', acore.Any.load(index))], accuracy, tsa).dump()
    ats = tlv(0x30, tlv(0x06, bytes.fromhex('04008d450204')) + tlv(0x31, tok))
    si = tlv(0x30, b''.join(f[1] for f in fields) + tlv(0xa1, b''.join(attrs) + ats))
    return assemble(oid, [p[1] for p in parts[:-1]] + [tlv(0x31, si)]), tok


def signature_value(ci):
    oid, parts = signed_data(ci)
    (_, _, si), = children(parts[-1][2])
    return [body for (tag, _, body) in children(si) if tag == 0x04][-1]


def plant(ci, value, attr_type='2a864886f70d010910020e'):
    """The signature with one more unsigned attribute holding `value` (by default as a
    signature time-stamp), which anyone handling the file may add."""
    oid, parts = signed_data(ci)
    (_, _, si), = children(parts[-1][2])
    fields = children(si)
    attrs = b''.join(t for (tag, _, u) in fields if tag == 0xa1 for (_, t, _) in children(u))
    attrs += tlv(0x30, tlv(0x06, bytes.fromhex(attr_type)) + tlv(0x31, value))
    si = tlv(0x30, b''.join(f[1] for f in fields if f[0] != 0xa1) + tlv(0xa1, attrs))
    return assemble(oid, [p[1] for p in parts[:-1]] + [tlv(0x31, si)])


def junk_token(gen):
    """A "time-stamp token" no TSA signed: a TSTInfo claiming `gen` (GeneralizedTime text) in a
    SignedData with no SignerInfo."""
    oid = lambda h: tlv(0x06, bytes.fromhex(h))
    sha256 = tlv(0x30, oid('608648016503040201'))
    tst = tlv(0x30, tlv(0x02, b'\x01') + oid('2a0304') + tlv(0x30, sha256 + tlv(0x04, bytes(32)))
              + tlv(0x02, b'\x01') + tlv(0x18, gen))
    sd = tlv(0x30, tlv(0x02, b'\x03') + tlv(0x31, sha256)
             + tlv(0x30, oid('2a864886f70d0109100104') + tlv(0xa0, tlv(0x04, tst))) + tlv(0x31, b''))
    return tlv(0x30, oid('2a864886f70d010702') + tlv(0xa0, sd))


HOLD = x509.ReasonFlags.certificate_hold
RK = key()
ROOT = cert(name('Time Root'), RK, name('Time Root'), RK, ca=True)
IK = key()
INTER = cert(name('Time Issuing CA'), IK, ROOT.subject, RK, ca=True, cdp=CDP + 'root.crl')
TK = key()
TSA = cert(name('Time TSA'), TK, ROOT.subject, RK, eku=[ExtendedKeyUsageOID.TIME_STAMPING], cdp=CDP + 'root.crl')
# A second TSA, whose key was stolen: the root revoked it on 2026-11-15.
STOLEN_K = key()
STOLEN = cert(name('Time TSA 2'), STOLEN_K, ROOT.subject, RK, eku=[ExtendedKeyUsageOID.TIME_STAMPING], cdp=CDP + 'root.crl')
# A TSA nobody trusts (its certificate self-signed).
ROGUE = cert(name('Rogue TSA'), STOLEN_K, name('Rogue TSA'), STOLEN_K, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
ROOT_CRLS = [crl(ROOT, RK, CURRENT, NOW + dt.timedelta(days=90)),
             crl(ROOT, RK, D(2026, 6, 2), D(2026, 9, 2))]


SK = key()


def signer():
    """A certificate of its own (its own serial) for each case, over one key: RSA key
    generation is most of the script's time."""
    return cert(name('Time Signer'), SK, INTER.subject, IK, cdp=CDP + 'inter.crl', nb=D(2025, 1, 1), na=D(2028, 1, 1)), SK


def current_crl(revoked=()):
    return crl(INTER, IK, CURRENT, NOW + dt.timedelta(days=10), revoked)


def cases():
    s, k = signer()
    listed = crl(INTER, IK, D(2026, 3, 2), D(2026, 4, 1), [(s.serial_number, D(2026, 3, 1), HOLD, None)])
    yield 'hold-lifted', add(signed(s, k, [INTER], D(2026, 6, 1), ts=D(2026, 6, 1)),
                             [listed, crl(INTER, IK, D(2026, 5, 1), D(2026, 7, 1)), current_crl()] + ROOT_CRLS)
    for case, since, inv in [('hold-at-signing', D(2026, 3, 1), None),
                             ('hold-after-signing', D(2026, 9, 1), None),
                             ('hold-invalidity', D(2026, 9, 1), D(2026, 5, 1))]:
        s, k = signer()
        yield case, add(signed(s, k, [INTER], D(2026, 6, 1), ts=D(2026, 6, 1)),
                        [current_crl([(s.serial_number, since, HOLD, inv)])] + ROOT_CRLS)
    s, k = signer()
    yield 'remove-from-crl', add(signed(s, k, [INTER], D(2026, 6, 1), ts=D(2026, 6, 1)), [current_crl(
        [(s.serial_number, D(2026, 3, 1), x509.ReasonFlags.remove_from_crl, None)])] + ROOT_CRLS)
    s, k = signer()
    yield 'hold-then-revoked', add(signed(s, k, [INTER], D(2026, 6, 1), ts=D(2026, 6, 1)), [
        crl(INTER, IK, D(2026, 3, 2), D(2026, 4, 1), [(s.serial_number, D(2026, 3, 1), HOLD, None)]),
        current_crl([(s.serial_number, D(2026, 7, 1), x509.ReasonFlags.superseded, None)])] + ROOT_CRLS)
    s, k = signer()
    yield 'two-entries', add(signed(s, k, [INTER], D(2026, 6, 1), ts=D(2026, 6, 1)), [current_crl(
        [(s.serial_number, D(2026, 9, 1), HOLD, None),
         (s.serial_number, D(2026, 3, 1), x509.ReasonFlags.key_compromise, None)])] + ROOT_CRLS)
    s, k = signer()
    yield 'claim-future', add(signed(s, k, [INTER], D(2099, 1, 1)), [current_crl()] + ROOT_CRLS)
    # Archive time-stamps (CAdES-B-LTA), each with the TSA's own CRL for its time.
    tsa_crl = lambda at: crl(ROOT, RK, at + dt.timedelta(days=1), at + dt.timedelta(days=90))
    ats = lambda *a, **k: add_ats(*a, **k)[0]
    s, k = signer()
    yield 'ats-before-ts', ats(add(signed(s, k, [INTER, TSA], D(2026, 6, 1), ts=D(2026, 6, 1)),
                                   [current_crl()] + ROOT_CRLS), D(2026, 3, 1))
    s, k = signer()
    revoked = add(signed(s, k, [INTER, TSA], D(2026, 6, 1)), [current_crl(
        [(s.serial_number, D(2026, 4, 1), x509.ReasonFlags.key_compromise, None)])] + ROOT_CRLS)
    august, aug_token = add_ats(add(revoked, [tsa_crl(D(2026, 8, 1))]), D(2026, 8, 1))
    yield 'ats-out-of-order', ats(august, D(2026, 2, 1))
    yield 'ats-transitive', ats(ats(august, D(2026, 2, 1)), D(2026, 3, 1), keep=lambda v: v != aug_token)
    yield 'ats-claim-after', ats(revoked, D(2026, 2, 1))
    # The February one listing the August one through an archive time-stamp no trusted TSA
    # made, claiming 2099 (helper 145: the hashes prove the order whatever the one between
    # is; it passed the revoked signer's signature, TOTAL-PASSED).
    middle = ats(august, D(2099, 1, 1), tsa=(ROGUE, STOLEN_K))
    yield 'ats-rogue-middle', ats(middle, D(2026, 2, 1), keep=lambda v: v != aug_token)
    s, k = signer()
    yield 'ats-after-at', ats(add(signed(s, k, [INTER, TSA], D(2026, 6, 1), ts=D(2026, 6, 1)),
                                  [crl(INTER, IK, D(2026, 6, 2), D(2026, 9, 2)), current_crl()] + ROOT_CRLS
                                  + [tsa_crl(D(2026, 10, 1))]), D(2026, 10, 1))
    s, k = signer()
    bt = add(signed(s, k, [INTER, TSA], D(2026, 6, 1), ts=D(2026, 6, 1)),
             [crl(INTER, IK, D(2026, 6, 2), D(2026, 9, 2)), current_crl()] + ROOT_CRLS + [tsa_crl(D(2026, 10, 1))])
    yield 'ats-poisoned', ats(plant(bt, junk_token(b'20261130000000Z')), D(2026, 10, 1))
    s, k = signer()
    # The same with the poison signed by a TSA whose key was stolen: the root revoked it
    # (helper 143: a stolen key signs any time, and its token set the honest one aside).
    s, k = signer()
    bt = add(signed(s, k, [INTER, TSA], D(2026, 6, 1), ts=D(2026, 6, 1)),
             [crl(INTER, IK, D(2026, 6, 2), D(2026, 9, 2)), current_crl(), ROOT_CRLS[1],
              crl(ROOT, RK, CURRENT, NOW + dt.timedelta(days=90),
                  [(STOLEN.serial_number, D(2026, 11, 15), x509.ReasonFlags.key_compromise, None)]),
              tsa_crl(D(2026, 10, 1))])
    stolen = token(hashlib.sha256(signature_value(bt)).digest(), D(2026, 11, 30), tsa=(STOLEN, STOLEN_K))
    yield 'ats-stolen-tsa', ats(plant(bt, stolen.dump()), D(2026, 10, 1))
    # A February archive time-stamp by the stolen key over an honest August one, and an honest
    # one of October over both: the stolen TSA was revoked in November, after October (helper
    # 146: found "not genuine", the February one was never set aside, then validated at the
    # October time-stamp and passed the revoked signer, TOTAL-PASSED).
    s, k = signer()
    gone = add(signed(s, k, [INTER, TSA], D(2026, 6, 1)), [
        current_crl([(s.serial_number, D(2026, 4, 1), x509.ReasonFlags.key_compromise, None)]),
        ROOT_CRLS[1], tsa_crl(D(2026, 8, 1)), tsa_crl(D(2026, 10, 1)),
        crl(ROOT, RK, CURRENT, NOW + dt.timedelta(days=90),
            [(STOLEN.serial_number, D(2026, 11, 15), x509.ReasonFlags.key_compromise, None)])])
    yield 'ats-stolen-covered', ats(ats(ats(gone, D(2026, 8, 1)), D(2026, 2, 1), tsa=(STOLEN, STOLEN_K)),
                                    D(2026, 10, 1))
    # ats-out-of-order with 32 values no TSA signed before its August signature time-stamp
    # (helper 143: only the first 32 signature time-stamps were compared, and the February
    # archive time-stamp proved the signature older than the revocation).
    padded = revoked
    for i in range(32):
        padded = plant(padded, junk_token(b'202607010000%02dZ' % i))
    padded = plant(padded, token(hashlib.sha256(signature_value(revoked)).digest(), D(2026, 8, 1)).dump())
    yield 'ats-hidden-33rd', ats(add(padded, [tsa_crl(D(2026, 8, 1))]), D(2026, 2, 1))
    s, k = signer()
    yield 'ats-accuracy', ats(add(signed(s, k, [INTER, TSA], D(2026, 6, 1), ts=D(2026, 6, 1, 0, 10)),
                                  [current_crl()] + ROOT_CRLS), D(2026, 6, 1), accuracy=3600)


# PAdES with pyHanko: its clock pinned per signature (the signing time, /M), DummyTimeStamper's
# fixed_dt for each genTime, PyMuPDF for the blank document.
def pdf_cases():
    import io
    import warnings
    warnings.simplefilter('ignore', FutureWarning)
    import fitz
    import pyhanko.sign.signers.pdf_signer as ps
    from asn1crypto import keys as akeys
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    def pin(t):
        class Fixed(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return t
        ps.datetime = Fixed

    acert = lambda c: ax509.Certificate.load(der(c))
    akey = lambda k: akeys.PrivateKeyInfo.load(k.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    class Accurate(DummyTimeStamper):
        """pyHanko's test TSA, with an accuracy in its tokens when given."""
        def __init__(self, accuracy=None, **kw):
            super().__init__(**kw)
            self.accuracy = accuracy

        def _build_tst_info(self, *a, **kw):
            info = super()._build_tst_info(*a, **kw)
            if self.accuracy:
                info['accuracy'] = atsp.Accuracy({'seconds': self.accuracy})
            return info

    stamper = lambda at, accuracy=None: Accurate(accuracy, tsa_cert=acert(TSA), tsa_key=akey(TK), fixed_dt=at)

    def blank():
        d = fitz.open()
        d.new_page().insert_text((72, 72), 'Giay phep so 139')
        b = d.tobytes()
        d.close()
        return b

    def sign(s, k, when, ts_at=None):
        pin(when)
        signer_ = signers.SimpleSigner(signing_cert=acert(s), signing_key=akey(k),
                                       cert_registry=SimpleCertificateStore.from_certs([acert(INTER)]))
        meta = signers.PdfSignatureMetadata(field_name='Sig1', subfilter=fields.SigSeedSubFilter.PADES,
                                            md_algorithm='sha256')
        w = IncrementalPdfFileWriter(io.BytesIO(blank()))
        return signers.PdfSigner(meta, signer_, timestamper=stamper(ts_at) if ts_at else None).sign_pdf(w).getvalue()

    def dss(pdf, certs, crls):
        from pyhanko.pdf_utils.reader import PdfFileReader
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        DocumentSecurityStore.supply_dss_in_writer(
            w, PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1].pkcs7_content,
            certs=[acert(c) for c in certs], crls=[acrl.CertificateList.load(c) for c in crls])
        b = io.BytesIO()
        w.write(b)
        return b.getvalue()

    def doc_ts(pdf, at, accuracy=None):
        pin(at)
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        settings = ps.TimestampDSSContentSettings(include_vri=False, skip_if_unneeded=True, update_before_ts=False)
        return signers.PdfTimeStamper(stamper(at, accuracy)).timestamp_pdf(w, 'sha256', dss_settings=settings).getvalue()

    s, k = signer()
    gone = [(s.serial_number, D(2026, 4, 1), x509.ReasonFlags.key_compromise, None)]
    pdf = dss(sign(s, k, D(2026, 6, 1)), [INTER, ROOT, TSA],
              [current_crl(gone), crl(INTER, IK, D(2026, 6, 2), D(2026, 9, 2), gone)] + ROOT_CRLS)
    yield 'doc-ts-out-of-order', doc_ts(doc_ts(pdf, D(2026, 8, 1)), D(2026, 2, 1))
    s, k = signer()
    pdf = dss(sign(s, k, D(2026, 6, 1), D(2026, 6, 1, 0, 1)), [s, INTER, ROOT, TSA], [current_crl()] + ROOT_CRLS)
    yield 'doc-ts-before-ts', doc_ts(pdf, D(2026, 3, 1))
    yield 'doc-ts-accuracy', doc_ts(doc_ts(pdf, D(2026, 6, 1, 0, 10), 3600), D(2026, 6, 1, 0, 5))


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'root.pem'), 'wb') as f:
        f.write(ROOT.public_bytes(serialization.Encoding.PEM))
    for case, ci in cases():
        d = os.path.join(out, case)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'doc.txt'), 'wb') as f:
            f.write(CONTENT)
        with open(os.path.join(d, 'sig.p7s'), 'wb') as f:
            f.write(ci)
    for case, pdf in pdf_cases():
        os.makedirs(os.path.join(out, case), exist_ok=True)
        with open(os.path.join(out, case, 'doc.pdf'), 'wb') as f:
            f.write(pdf)


if __name__ == '__main__':
    main(sys.argv[1])
