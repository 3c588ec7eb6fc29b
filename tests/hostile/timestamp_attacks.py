#!/usr/bin/env python3
"""Time-stamps that proved what they must not (found by an attacker's reading of kyso's
time-stamp and long-term validation, 2026-12-03; each TOTAL-PASSED, or wrongly failed, by the
build of that morning), for tests/verify_cli.rs and tests/verify_online.rs -- CAdES made by the
OpenSSL CLI, PKI and CRLs by pyca/cryptography, RFC 3161 tokens by pyHanko's DummyTimeStamper,
unsigned attributes and ats-hash-index-v3 by the TLV helpers below (as tests/hostile/
crl_flood.py), nothing of kyso's.

    python3 timestamp_attacks.py DIR [PORT]

DIR/tsa-revoked-later/   a TSA key revoked on 2026-06-01 (keyCompromise) back-dates a signature
                         time-stamp to 2024-02-01 over a signature by a signer key revoked
                         2024-03-01; SignedData.crls holds only the CAs' CRLs of 2024-02-02
                         ("good"). Its distribution points (http://127.0.0.1:PORT/) publish
                         the current CRLs: www/ (to serve), current-*.crl.
DIR/tsa-anchor/          the TSA certificate a trust anchor (tsa-a.pem: issued by the root;
                         tsa-b.pem: self-signed), expired 2025-01-01, back-dating to 2024-02-01
                         a signature by a signer revoked 2024-03-01 (sig-a.p7s, sig-b.p7s)
DIR/tsa-anchor-revoked/  the same TSA (tsa.pem, in --trust) revoked by the root on 2023-06-01,
                         the root's CRL in SignedData.crls
DIR/ats-renewal/         a genuine CAdES-B-LTA with renewal: ok.p7s; reordered.p7s (the two
                         archive time-stamps swapped in the SET: still valid); late-crl-certs.p7s
                         (the CRL added after the archive time-stamps: B-LT, not B-LTA);
                         ok-certs.p7s (the control); fields-out-of-order.p7s,
                         fields-repeated.p7s (SignedData's [1] crls before digestAlgorithms,
                         or twice); junk-cert.p7s (a junk certificate added: still B-LTA)
DIR/budget-spent/        junk tokens spending the validation's signature checks before a
                         back-dated token by a revoked TSA in --trust (attack.p7s; control.p7s)
DIR/accuracy/            genTime 2024-02-29T23:50Z ± 1 h (acc.p7s) for a signer revoked
                         2024-03-01T00:00Z; noacc.p7s without accuracy
DIR/ats-no-sig-ts/       an archive time-stamp (2024-06-01: early.p7s; 2025-06-01: late.p7s)
                         over a signature with no signature time-stamp, by a signer whose
                         certificate expired 2025-01-01
DIR/sha1-index/          an archive time-stamp whose ats-hash-index-v3 uses SHA-1
DIR/token-shape/         tokens RFC 3161 does not allow (TSTInfo version 2, a critical
                         extension, no ESS signing-certificate, two SignerInfos, TSTInfo's tsa
                         naming another TSA; helper 171, 2026-12-05) and good.p7s, the control
"""
import os
import sys
import asyncio, datetime as dt, hashlib, os, subprocess, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from asn1crypto import core as acore, tsp as atsp, algos as aalgos, x509 as ax509, keys as akeys
from pyhanko.sign.timestamps import DummyTimeStamper
from asn1crypto import tsp as atsp

D = lambda *a: dt.datetime(*a, tzinfo=dt.timezone.utc)
N = lambda cn: x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'VN'), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
KC = x509.ReasonFlags.key_compromise

def key(): return rsa.generate_private_key(65537, 2048)

def cert(subj, k, issuer, ikey, ca=False, eku=None, eku_crit=True, cdp=None, nb=D(2020,1,1), na=D(2040,1,1), ku=True):
    b = (x509.CertificateBuilder().subject_name(subj).issuer_name(issuer).public_key(k.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()), critical=False))
    if ku:
        b = b.add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                        encipher_only=False, decipher_only=False), critical=True)
    if eku: b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_crit)
    if cdp: b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    return b.sign(ikey, hashes.SHA256())

def pem(c): return c.public_bytes(serialization.Encoding.PEM)
def der(c): return c.public_bytes(serialization.Encoding.DER)
def keypem(k): return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

def crl(issuer_cert, ik, this, nxt, revoked=()):
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer_cert.subject).last_update(this).next_update(nxt)
         .add_extension(x509.CRLNumber(int(this.timestamp())), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ik.public_key()), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            .add_extension(x509.CRLReason(KC), critical=False).build())
    return b.sign(ik, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

from cms_tlv import *  # noqa: E402,F401,F403 (tlv, children, attribute, edit_signer, …)
def set_field(ci, tag, items):
    kids = [k for k in sd_children(ci) if k[0] != tag]
    # RFC 5652 §5.1 order: ... encapContentInfo, [0] certificates, [1] crls, signerInfos
    pos = si_pos(kids)
    if tag == 0xA0:
        pos = min([i for i, k in enumerate(kids) if k[0] == 0xA1] + [pos])
    kids.insert(pos, tlv(tag, b''.join(items))); return rebuild(ci, kids)
def field(ci, tag):
    return [c for k in sd_children(ci) if k[0] == tag for c in children(k)]
def add_field(ci, tag, items): return set_field(ci, tag, field(ci, tag) + list(items))
OID_TST = '1.2.840.113549.1.9.16.2.14'; OID_ATS3 = '0.4.0.1733.2.4'; OID_IDX3 = '0.4.0.19122.1.5'

def stamper(tsa_cert, tsa_key, chain=(), at=None):
    return DummyTimeStamper(tsa_cert=ax509.Certificate.load(der(tsa_cert)),
        tsa_key=akeys.PrivateKeyInfo.load(tsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        certs_to_embed=[ax509.Certificate.load(der(c)) for c in chain], fixed_dt=at)
def tst(digest, at, tsa, tk, chain=(), alg='sha256'):
    req = atsp.TimeStampReq({'version': 1, 'message_imprint': atsp.MessageImprint({'hash_algorithm': aalgos.DigestAlgorithm({'algorithm': alg}), 'hashed_message': digest}), 'cert_req': True})
    return asyncio.run(stamper(tsa, tk, chain, at).async_request_tsa_response(req))['time_stamp_token'].dump()

def add_sig_ts(ci, at, tsa, tk, chain=()):
    return add_unsigned(ci, attribute(OID_TST, tst(hashlib.sha256(sigval(signer_info(ci))).digest(), at, tsa, tk, chain)))

def hash_index(ci, skip_unsigned=lambda t, v: False):
    H = lambda x: hashlib.sha256(x).digest(); kids = sd_children(ci)
    certs = [c for k in kids if k[0] == 0xA0 for c in children(k)]
    crls = [c for k in kids if k[0] == 0xA1 for c in children(k)]
    vals = []
    for a in unsigned(signer_info(ci)):
        t, vs = children(a); vals += [t + v for v in children(vs) if not skip_unsigned(t, v)]
    seq = lambda items: tlv(0x30, b''.join(tlv(0x04, H(x)) for x in items))
    return tlv(0x30, tlv(0x30, oid_tlv('2.16.840.1.101.3.4.2.1')) + seq(certs) + seq(crls) + seq(vals))
def add_ats(ci, content, at, tsa, tk, chain=(), index=None):
    index = index or hash_index(ci); kids = sd_children(ci)
    ect = children([k for k in kids if k[0] == 0x30][0])[0]
    fs = [f for f in children(signer_info(ci)) if f[0] != 0xA1]
    tok = tst(hashlib.sha256(ect + hashlib.sha256(content).digest() + b''.join(fs) + index).digest(), at, tsa, tk, chain)
    tok = edit_signer(tok, lambda si: set_unsigned(si, unsigned(si) + [attribute(OID_IDX3, index)]))
    return add_unsigned(ci, attribute(OID_ATS3, tok))

def cades(out, content, signer, sk, chain=()):
    open(f'{out}/doc.txt', 'wb').write(content)
    open(f'{out}/_s.pem', 'wb').write(pem(signer)); open(f'{out}/_s.key', 'wb').write(keypem(sk))
    args = ['openssl', 'cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', 'doc.txt', '-signer', '_s.pem',
            '-inkey', '_s.key', '-outform', 'DER', '-out', '_bb.p7s']
    if chain:
        open(f'{out}/_chain.pem', 'wb').write(b''.join(pem(c) for c in chain)); args += ['-certfile', '_chain.pem']
    subprocess.run(args, check=True, cwd=out)
    r = open(f'{out}/_bb.p7s', 'rb').read()
    for f in ('_s.pem', '_s.key', '_bb.p7s', '_chain.pem'):
        if os.path.exists(f'{out}/{f}'): os.remove(f'{out}/{f}')
    return r

ROOT = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9


def case(name):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    return d



def make_tsa_revoked_later():
    """F1: a TSA key compromised and revoked (2026-06-01, keyCompromise) back-dates a signature
    time-stamp to 2024-02-01 09:00Z over a signature by a signer key revoked 2024-03-01
    (keyCompromise). The forger puts in SignedData.crls only CRLs the CAs published just after the
    back-dated genTime (2024-02-02, both "good"), not the current ones. Online, the CAs' distribution
    points (127.0.0.1:28601, served by serve.py) publish the current CRLs listing both revocations.
        python f1_tsa_revoked_later.py DIR"""
    out = case('tsa-revoked-later'); os.makedirs(f'{out}/www', exist_ok=True)
    URL = f'http://127.0.0.1:{PORT}'
    rk = key(); root = cert(N('F1 Root'), rk, N('F1 Root'), rk, ca=True)
    ik = key(); inter = cert(N('F1 Issuing CA'), ik, root.subject, rk, ca=True, cdp=f'{URL}/root.crl')
    sk = key(); signer = cert(N('F1 Signer (key stolen)'), sk, inter.subject, ik, cdp=f'{URL}/inter.crl', nb=D(2024,1,1), na=D(2036,1,1))
    tk = key(); tsa = cert(N('F1 TSA (key stolen)'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING], cdp=f'{URL}/root.crl')
    open(f'{out}/root.pem', 'wb').write(pem(root))
    R_SIGNER, R_TSA = D(2024, 3, 1), D(2026, 6, 1)
    old_inter = crl(inter, ik, D(2024, 2, 2), D(2024, 2, 9))
    old_root = crl(root, rk, D(2024, 2, 2), D(2024, 3, 2))
    cur_inter = crl(inter, ik, D(2026, 12, 1), D(2026, 12, 8), [(signer.serial_number, R_SIGNER)])
    cur_root = crl(root, rk, D(2026, 12, 1), D(2027, 3, 1), [(tsa.serial_number, R_TSA)])
    open(f'{out}/www/inter.crl', 'wb').write(cur_inter); open(f'{out}/www/root.crl', 'wb').write(cur_root)
    open(f'{out}/current-root.crl', 'wb').write(cur_root); open(f'{out}/current-inter.crl', 'wb').write(cur_inter)
    content = 'Quyết định số 88/QĐ-UBND: thu hồi giấy phép\n'.encode()
    ci = cades(out, content, signer, sk, chain=[inter])          # signed now, with the stolen key
    ci = add_sig_ts(ci, D(2024, 2, 1, 9), tsa, tk)               # back-dated with the stolen TSA key
    ci = add_field(ci, 0xA1, [old_inter, old_root])
    open(f'{out}/sig.p7s', 'wb').write(ci)


def make_tsa_anchor():
    """F2: the TSA certificate is a trust anchor (given with --trust, as a trusted list names a
    time-stamping service by its certificate); it expired on 2025-01-01 and its key leaked after.
    The forger signs now with a signer key revoked 2024-03-01 (keyCompromise), back-dates a
    signature time-stamp to 2024-02-01 09:00Z with the expired TSA's key, and carries the CA's
    current CRL, which lists the revocation.
        python f2_expired_tsa_anchor.py DIR"""
    out = case('tsa-anchor')
    rk = key(); root = cert(N('F2 Root'), rk, N('F2 Root'), rk, ca=True)
    ik = key(); inter = cert(N('F2 Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('F2 Signer (key stolen)'), sk, inter.subject, ik, cdp='http://127.0.0.1:9/inter.crl', nb=D(2024,1,1), na=D(2036,1,1))
    tk = key()
    # (a) issued by the trusted root, and itself in the trust list
    tsa_a = cert(N('F2 TSA old (root-issued)'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING], nb=D(2020,1,1), na=D(2025,1,1))
    # (b) self-signed TSA certificate in the trust list
    tsa_b = cert(N('F2 TSA old (self-signed)'), tk, N('F2 TSA old (self-signed)'), tk, eku=[ExtendedKeyUsageOID.TIME_STAMPING], nb=D(2020,1,1), na=D(2025,1,1))
    open(f'{out}/root.pem', 'wb').write(pem(root))
    open(f'{out}/tsa-a.pem', 'wb').write(pem(tsa_a)); open(f'{out}/tsa-b.pem', 'wb').write(pem(tsa_b))
    cur_inter = crl(inter, ik, D(2026, 12, 1), D(2026, 12, 8), [(signer.serial_number, D(2024, 3, 1))])
    cur_root = crl(root, rk, D(2026, 12, 1), D(2027, 3, 1))
    content = 'Quyết định số 89/QĐ-UBND\n'.encode()
    base = cades(out, content, signer, sk, chain=[inter])
    for tag, t in (('a', tsa_a), ('b', tsa_b)):
        ci = add_sig_ts(base, D(2024, 2, 1, 9), t, tk)
        ci = add_field(ci, 0xA1, [cur_inter, cur_root])
        open(f'{out}/sig-{tag}.p7s', 'wb').write(ci)
    # control: the same root-issued TSA, not in the trust list (only the root)


def make_tsa_anchor_revoked():
    """F2b: as F2(a), but the TSA certificate is still within its validity and its issuer (the
    trusted root) revoked it on 2023-06-01 (keyCompromise), before the back-dated genTime
    2024-02-01; the root's CRL saying so is in SignedData.crls. The TSA certificate is in --trust.
        python f2b_revoked_tsa_anchor.py DIR"""
    out = case('tsa-anchor-revoked')
    rk = key(); root = cert(N('F2b Root'), rk, N('F2b Root'), rk, ca=True)
    ik = key(); inter = cert(N('F2b Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('F2b Signer (key stolen)'), sk, inter.subject, ik, cdp='http://127.0.0.1:9/inter.crl', nb=D(2024,1,1), na=D(2036,1,1))
    tk = key(); tsa = cert(N('F2b TSA'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING], cdp='http://127.0.0.1:9/root.crl')
    open(f'{out}/root.pem', 'wb').write(pem(root)); open(f'{out}/tsa.pem', 'wb').write(pem(tsa))
    cur_inter = crl(inter, ik, D(2026, 12, 1), D(2026, 12, 8), [(signer.serial_number, D(2024, 3, 1))])
    cur_root = crl(root, rk, D(2026, 12, 1), D(2027, 3, 1), [(tsa.serial_number, D(2023, 6, 1))])
    content = 'Quyết định số 90/QĐ-UBND\n'.encode()
    ci = add_sig_ts(cades(out, content, signer, sk, chain=[inter]), D(2024, 2, 1, 9), tsa, tk)
    open(f'{out}/sig.p7s', 'wb').write(add_field(ci, 0xA1, [cur_inter, cur_root]))


def make_ats_renewal():
    """F3/F4: a genuine CAdES-B-LTA with renewal. Signer valid (names a CDP), signature time-stamp
    2024-05-01 and archive time-stamp 1 of 2024-06-01 by TSA-old (valid 2020-2025, expired now),
    archive time-stamp 2 of 2024-12-01 by TSA-new (valid to 2040), whose ats-hash-index-v3 lists
    the first (renewal, EN 319 122-1 §5.5.3).
      ok.p7s          the CA's CRL (2024-05-02) in SignedData.crls before ATS1: the control
      reordered.p7s   the same bytes with the two archive-time-stamp-v3 attributes swapped
                      (unsignedAttrs is a SET: order carries no meaning; DER would sort them)
      late-crl.p7s    no CRL before the archive time-stamps; the CA's CRL of 2024-05-02 added to
                      SignedData.crls after ATS2 (no index lists it)
        python f3_ats_order_and_label.py DIR"""
    out = case('ats-renewal')
    rk = key(); root = cert(N('F3 Root'), rk, N('F3 Root'), rk, ca=True)
    ik = key(); inter = cert(N('F3 Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('F3 Signer'), sk, inter.subject, ik, cdp='http://127.0.0.1:9/inter.crl', nb=D(2024,1,1), na=D(2036,1,1))
    t1k = key(); tsa1 = cert(N('F3 TSA old'), t1k, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING], nb=D(2020,1,1), na=D(2025,1,1))
    t2k = key(); tsa2 = cert(N('F3 TSA new'), t2k, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    open(f'{out}/root.pem', 'wb').write(pem(root))
    c = crl(inter, ik, D(2024, 5, 2), D(2024, 5, 9))
    content = 'Quyết định số 91/QĐ-UBND\n'.encode()
    base = add_sig_ts(cades(out, content, signer, sk, chain=[inter]), D(2024, 5, 1, 9), tsa1, t1k)
    def lta(ci):
        ci = add_ats(ci, content, D(2024, 6, 1, 9), tsa1, t1k)
        return add_ats(ci, content, D(2024, 12, 1, 9), tsa2, t2k)
    ok = lta(add_field(base, 0xA1, [c]))
    open(f'{out}/ok.p7s', 'wb').write(ok)
    def swap(si):
        a = unsigned(si); i = [k for k, x in enumerate(a) if children(x)[0] == oid_tlv(OID_ATS3)]
        a[i[0]], a[i[1]] = a[i[1]], a[i[0]]; return set_unsigned(si, a)
    open(f'{out}/reordered.p7s', 'wb').write(edit_signer(ok, swap))
    open(f'{out}/late-crl.p7s', 'wb').write(add_field(lta(base), 0xA1, [c]))
    # With every certificate of the paths in SignedData.certificates (so the B-LT test can hold):
    withc = add_field(base, 0xA0, [der(tsa1), der(tsa2)])
    open(f'{out}/ok-certs.p7s', 'wb').write(lta(add_field(withc, 0xA1, [c])))
    open(f'{out}/late-crl-certs.p7s', 'wb').write(add_field(lta(withc), 0xA1, [c]))
    # SignedData's fields out of RFC 5652 order ([1] crls before digestAlgorithms), or [1]
    # twice: kyso read every one, the archive time-stamp's index the first; OpenSSL refuses.
    good = lta(add_field(withc, 0xA1, [c]))
    kids = sd_children(good)
    crls_field = [k for k in kids if k[0] == 0xA1][0]
    rest = [k for k in kids if k[0] != 0xA1]
    open(f'{out}/fields-out-of-order.p7s', 'wb').write(rebuild(good, rest[:1] + [crls_field] + rest[1:]))
    pos = si_pos(kids)
    open(f'{out}/fields-repeated.p7s', 'wb').write(rebuild(good, kids[:pos] + [tlv(0xA1, c)] + kids[pos:]))
    # A junk certificate anyone may add later: nothing the verdict rests on; still B-LTA.
    jk = key()
    open(f'{out}/junk-cert.p7s', 'wb').write(add_field(good, 0xA0, [der(cert(N('Junk'), jk, N('Junk'), jk, ca=True))]))


def make_accuracy():
    """F5: TSTInfo.accuracy ignored. Signer revoked 2024-03-01T00:00Z (keyCompromise). A token of an
    honest TSA whose clock is declared good to within an hour: genTime 2024-02-29T23:50Z, accuracy
    {seconds 3600} (RFC 3161 §2.4.2: the time lies within genTime ± accuracy). It proves only that
    the signature existed before 2024-03-01T00:50Z, after the revocation. The CA's CRL of
    2024-03-02 listing the revocation is in SignedData.crls.
      acc.p7s    accuracy 3600 s       noacc.p7s   the same without accuracy (control)
        python f5_accuracy.py DIR"""
    out = case('accuracy')
    class Coarse(DummyTimeStamper):
        def _build_tst_info(self, mi, dt_, req):
            t = super()._build_tst_info(mi, dt_, req)
            d = {k: t[k] for k in ('version', 'policy', 'message_imprint', 'serial_number', 'gen_time', 'tsa')}
            d['accuracy'] = atsp.Accuracy({'seconds': 3600})
            return atsp.TSTInfo(d)
    rk = key(); root = cert(N('F5 Root'), rk, N('F5 Root'), rk, ca=True)
    ik = key(); inter = cert(N('F5 Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('F5 Signer'), sk, inter.subject, ik, cdp='http://127.0.0.1:9/inter.crl', nb=D(2024,1,1), na=D(2036,1,1))
    tk = key(); tsa = cert(N('F5 TSA (accuracy 1 h)'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    open(f'{out}/root.pem', 'wb').write(pem(root))
    c = crl(inter, ik, D(2024, 3, 2), D(2024, 3, 9), [(signer.serial_number, D(2024, 3, 1))])
    content = 'Quyết định số 92/QĐ-UBND\n'.encode()
    base = cades(out, content, signer, sk, chain=[inter])
    kb = tk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for name, cls in (('acc', Coarse), ('noacc', DummyTimeStamper)):
        st = cls(tsa_cert=ax509.Certificate.load(der(tsa)), tsa_key=akeys.PrivateKeyInfo.load(kb), certs_to_embed=[], fixed_dt=D(2024, 2, 29, 23, 50))
        req = atsp.TimeStampReq({'version': 1, 'message_imprint': atsp.MessageImprint({'hash_algorithm': aalgos.DigestAlgorithm({'algorithm': 'sha256'}), 'hashed_message': hashlib.sha256(sigval(signer_info(base))).digest()}), 'cert_req': True})
        tok = asyncio.run(st.async_request_tsa_response(req))['time_stamp_token'].dump()
        open(f'{out}/{name}.p7s', 'wb').write(add_field(add_unsigned(base, attribute(OID_TST, tok)), 0xA1, [c]))


def make_sha1_index():
    """F6: an archive-time-stamp-v3 whose ats-hash-index-v3 uses hashIndAlgorithm SHA-1 (so every
    certificate, CRL and unsigned attribute, the signature time-stamp included, is bound to it by
    SHA-1 only; the signed content's hash in the imprint input is SHA-1 too, as kyso computes it
    with the index's algorithm), the token's own message imprint SHA-256.
        python f6_sha1_index.py DIR"""
    out = case('sha1-index')
    rk = key(); root = cert(N('F6 Root'), rk, N('F6 Root'), rk, ca=True)
    ik = key(); inter = cert(N('F6 Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('F6 Signer'), sk, inter.subject, ik, nb=D(2024,1,1), na=D(2036,1,1))
    tk = key(); tsa = cert(N('F6 TSA'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    open(f'{out}/root.pem', 'wb').write(pem(root))
    content = 'Quyết định số 93/QĐ-UBND\n'.encode()
    ci = add_sig_ts(cades(out, content, signer, sk, chain=[inter]), D(2024, 5, 1, 9), tsa, tk)
    H = lambda x: hashlib.sha1(x).digest(); kids = sd_children(ci)
    certs = [c for k in kids if k[0] == 0xA0 for c in children(k)]
    vals = [t + v for a in unsigned(signer_info(ci)) for t, vs in [children(a)] for v in children(vs)]
    seq = lambda items: tlv(0x30, b''.join(tlv(0x04, H(x)) for x in items))
    index = tlv(0x30, tlv(0x30, oid_tlv('1.3.14.3.2.26')) + seq(certs) + seq([]) + seq(vals))
    ect = children([k for k in kids if k[0] == 0x30][0])[0]
    fs = [f for f in children(signer_info(ci)) if f[0] != 0xA1]
    tok = tst(hashlib.sha256(ect + H(content) + b''.join(fs) + index).digest(), D(2024, 6, 1, 9), tsa, tk)
    tok = edit_signer(tok, lambda si: set_unsigned(si, unsigned(si) + [attribute(OID_IDX3, index)]))
    open(f'{out}/sig.p7s', 'wb').write(add_unsigned(ci, attribute(OID_ATS3, tok)))


def make_budget_spent():
    """A TSA certificate in --trust that its root revoked (2023-06-01), back-dating to 2024-02-01
    a signature by a signer whose issuing CA the root revoked (2023-07-01), the root's CRL in
    SignedData.crls (control.p7s: REVOKED). attack.p7s puts 21 junk tokens before it: one by
    the signer's own key, then 20 by TSA leaves of a "Burn CA" named like 100 junk
    certificates, spending the validation's 2,000 signature checks: path building for the real
    TSA gave up, kyso fell back to the TSA alone as an anchor (no one asked about its
    revocation), and the root's CRL, left unread, let the CA through as "not checked":
    TOTAL-PASSED (an attacker's reading, 2026-12-03)."""
    from cryptography.x509.oid import ExtendedKeyUsageOID as E
    out = case('budget-spent')
    rk = key(); root = cert(N('B Root'), rk, N('B Root'), rk, ca=True)
    ik = key(); inter = cert(N('B Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('B Signer (expired, key leaked)'), sk, inter.subject, ik, nb=D(2024,1,1), na=D(2025,1,1))
    tk = key(); tsa = cert(N('B TSA'), tk, root.subject, rk, eku=[E.TIME_STAMPING], cdp='http://127.0.0.1:9/root.crl')
    open(f'{out}/root.pem','wb').write(pem(root)); open(f'{out}/tsa.pem','wb').write(pem(tsa))
    rootcrl = crl(root, rk, D(2026,12,1), D(2027,3,1), [(tsa.serial_number, D(2023,6,1)), (inter.serial_number, D(2023,7,1))])
    content = 'Quyết định số 94/QĐ-UBND\n'.encode()
    base = add_field(cades(out, content, signer, sk, chain=[inter]), 0xA1, [rootcrl])
    digest = hashlib.sha256(sigval(signer_info(base))).digest()
    open(f'{out}/control.p7s','wb').write(add_unsigned(base, attribute(OID_TST, tst(digest, D(2024,2,1,9), tsa, tk))))
    jk = key(); lk = key()
    junk = [cert(N('Burn CA'), jk, N('Burn CA'), jk, ca=True) for _ in range(100)]
    leaves = [cert(N(f'Burn TSA {i}'), lk, N('Burn CA'), lk, eku=[E.TIME_STAMPING]) for i in range(20)]
    toks = [tst(digest, D(2024,1,2), signer, sk)]
    toks += [tst(digest, D(2024,1,3), l, lk) for l in leaves]
    toks += [tst(digest, D(2024,2,1,9), tsa, tk)]
    ci = set_field(base, 0xA0, field(base, 0xA0) + [der(c) for c in junk])
    open(f'{out}/attack.p7s','wb').write(add_unsigned(ci, attribute(OID_TST, *toks)))


def make_ats_without_sig_ts():
    """An archive-time-stamp-v3 over a signature that has no signature time-stamp: its imprint
    covers the SignerInfo's signature value, so it proves the signature existed at its genTime
    (EN 319 102-1 §5.6.2: a proof of existence of the signature). Signer valid 2024-01-01 to
    2025-01-01 (expired now), the CA's CRL of 2024-05-30 to 2024-06-06 (nothing revoked) in
    SignedData.crls.
      early.p7s   archive time-stamp of 2024-06-01, while the signer's certificate was valid
      late.p7s    archive time-stamp of 2025-06-01, after it expired (the control)"""
    out = case('ats-no-sig-ts')
    rk = key(); root = cert(N('A7 Root'), rk, N('A7 Root'), rk, ca=True)
    ik = key(); inter = cert(N('A7 Issuing CA'), ik, root.subject, rk, ca=True)
    sk = key(); signer = cert(N('A7 Signer'), sk, inter.subject, ik, cdp='http://127.0.0.1:9/inter.crl', nb=D(2024,1,1), na=D(2025,1,1))
    tk = key(); tsa = cert(N('A7 TSA'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    open(f'{out}/root.pem', 'wb').write(pem(root))
    c = crl(inter, ik, D(2024, 5, 30), D(2024, 6, 6))
    content = 'Quyết định số 97/QĐ-UBND\n'.encode()
    base = add_field(cades(out, content, signer, sk, chain=[inter]), 0xA1, [c])
    for name, at in (('early', D(2024, 6, 1, 9)), ('late', D(2025, 6, 1, 9))):
        open(f'{out}/{name}.p7s', 'wb').write(add_ats(base, content, at, tsa, tk))


def make_token_shapes():
    """Tokens RFC 3161 does not allow, each signed by a TSA the root issued, over the signature
    value (helper 171, 2026-12-05: each was a TOTAL-PASSED B-T, and `kyso sign --tsa` embedded
    them): version2.p7s (TSTInfo version 2), crit-ext.p7s (a critical extension in TSTInfo),
    no-ess.p7s (no ESS signing-certificate attribute), two-signers.p7s (the token's one
    SignerInfo given twice), tsa-other.p7s (TSTInfo's tsa naming another TSA); good.p7s, the
    same TSA's plain token (DummyTimeStamper: its tsa names the certificate's subject), and
    tsa-printable.p7s, its tsa the subject written with PrintableStrings (the same name)."""
    out = case('token-shape')
    rk = key(); root = cert(N('F9 Root'), rk, N('F9 Root'), rk, ca=True)
    sk = key(); signer = cert(N('F9 Signer'), sk, root.subject, rk, nb=D(2024, 1, 1), na=D(2036, 1, 1))
    tk = key(); tsa = cert(N('F9 TSA'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    open(f'{out}/root.pem', 'wb').write(pem(root))
    base = cades(out, 'Giấy chứng nhận số 7/GCN\n'.encode(), signer, sk)
    kb = tk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def tst_with(**changes):
        def build(self, mi, dt_, req):
            t = DummyTimeStamper._build_tst_info(self, mi, dt_, req)
            d = {k: t[k] for k in ('version', 'policy', 'message_imprint', 'serial_number', 'gen_time', 'tsa')}
            d.update(changes)
            return atsp.TSTInfo(d)
        return build

    def without_ess(self, data, md, dt_):
        from asn1crypto import cms as acms
        from cryptography.hazmat.primitives.asymmetric import padding
        attrs = acms.CMSAttributes([
            acms.CMSAttribute({'type': 'content_type', 'values': ['tst_info']}),
            acms.CMSAttribute({'type': 'message_digest', 'values': [hashlib.sha256(data).digest()]})])
        return tk.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256()), attrs

    def twice(self, *a):
        sd = DummyTimeStamper._build_signed_data(self, *a)
        sd['signer_infos'] = sd['signer_infos'] * 2
        return sd

    other = ax509.GeneralName(name='directory_name', value=ax509.Name.build({'common_name': 'Another TSA', 'country_name': 'VN'}))
    crit = atsp.Extensions([{'extn_id': '1.3.6.1.4.1.32473.9', 'critical': True, 'extn_value': acore.OctetString(b'x').dump()}])
    # The certificate's subject written with PrintableStrings (pyca wrote UTF8String for the
    # CN): the same name under RFC 5280's comparison, as a TSA may write it.
    same = ax509.GeneralName(name='directory_name', value=ax509.Name.build({'country_name': 'VN', 'common_name': 'F9 TSA'}, use_printable=True))
    shapes = {
        'good': {},
        'tsa-printable': {'_build_tst_info': tst_with(tsa=same)},
        'version2': {'_build_tst_info': tst_with(version=2)},
        'crit-ext': {'_build_tst_info': tst_with(extensions=crit)},
        'tsa-other': {'_build_tst_info': tst_with(tsa=other)},
        'no-ess': {'_sign_tst_info': without_ess},
        'two-signers': {'_build_signed_data': twice},
    }
    for name, hooks in shapes.items():
        cls = type(f'Stamper_{name}', (DummyTimeStamper,), hooks)
        st = cls(tsa_cert=ax509.Certificate.load(der(tsa)), tsa_key=akeys.PrivateKeyInfo.load(kb), certs_to_embed=[], fixed_dt=D(2026, 11, 2, 9))
        req = atsp.TimeStampReq({'version': 1, 'message_imprint': atsp.MessageImprint({'hash_algorithm': aalgos.DigestAlgorithm({'algorithm': 'sha256'}), 'hashed_message': hashlib.sha256(sigval(signer_info(base))).digest()}), 'cert_req': True})
        tok = asyncio.run(st.async_request_tsa_response(req))['time_stamp_token'].dump()
        open(f'{out}/{name}.p7s', 'wb').write(add_unsigned(base, attribute(OID_TST, tok)))


for make in (make_tsa_revoked_later, make_tsa_anchor, make_tsa_anchor_revoked, make_ats_renewal,
             make_accuracy, make_sha1_index, make_budget_spent, make_ats_without_sig_ts,
             make_token_shapes):
    make()
