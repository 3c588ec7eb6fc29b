#!/usr/bin/env python3
"""A CAdES-B-LTA signature whose signer was revoked, and the same with junk CRLs put before the
revoking CRL in SignedData.crls (unsigned: anyone may add to it), for tests/verify_cli.rs --
made with the OpenSSL CLI, pyca/cryptography, asn1crypto and pyHanko's DummyTimeStamper,
nothing of kyso's (found by an attacker's reading, 2026-12-02: kyso looked at the first 64 CRLs
under the CA's name, and the revoking one was the 65th):

    python3 crl_flood.py DIR    DIR/root.pem, DIR/doc.txt and, each a detached signature of it:
                                lta.p7s (B-LTA: signature time-stamp, the CA's CRL revoking the
                                signer, an archive time-stamp covering that CRL); flooded.p7s
                                (63 junk CRLs under the CA's name, signed by another key, then
                                the CA's own earlier CRL without the revocation, then the
                                revoking one); flooded-past-cap.p7s (1,100 junk CRLs first);
                                removed.p7s (only the earlier CRL)
"""
import asyncio, datetime as dt, hashlib, os, subprocess, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from asn1crypto import core as acore, tsp as atsp, algos as aalgos, x509 as ax509, keys as akeys
from pyhanko.sign.timestamps import DummyTimeStamper

out = sys.argv[1]; os.makedirs(out, exist_ok=True)
D = lambda *a: dt.datetime(*a, tzinfo=dt.timezone.utc)
N = lambda cn: x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'VN'), x509.NameAttribute(NameOID.COMMON_NAME, cn)])

def cert(subj, key, issuer, ikey, ca=False, eku=None, cdp=None, nb=D(2024,1,1), na=D(2036,1,1)):
    b = (x509.CertificateBuilder().subject_name(subj).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                        encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()), critical=False))
    if eku: b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if cdp: b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    return b.sign(ikey, hashes.SHA256())

def pem(c): return c.public_bytes(serialization.Encoding.PEM)
def der(c): return c.public_bytes(serialization.Encoding.DER)

rk = rsa.generate_private_key(65537, 2048); root = cert(N('Flood Root CA'), rk, N('Flood Root CA'), rk, ca=True)
sk = rsa.generate_private_key(65537, 2048)
signer = cert(N('Signer (key stolen)'), sk, root.subject, rk, cdp='http://127.0.0.1:9/flood-root.crl')
tk = rsa.generate_private_key(65537, 2048)
tsa = cert(N('Flood TSA'), tk, root.subject, rk, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
open(f'{out}/root.pem', 'wb').write(pem(root))

def crl(this, nxt, revoked=(), key=rk, number=None):
    b = (x509.CertificateRevocationListBuilder().issuer_name(root.subject).last_update(this).next_update(nxt)
         .add_extension(x509.CRLNumber(number or int(this.timestamp())), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False).build())
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

R = D(2024, 4, 25)
crl_before = crl(D(2024, 4, 20), D(2024, 5, 20))                         # published before the revocation
crl_revoking = crl(D(2024, 5, 2), D(2024, 5, 9), [(signer.serial_number, R)])

from cms_tlv import *  # noqa: E402,F401,F403 (tlv, children, attribute, edit_signer, …)
def set_crls(ci, items):
    kids = [k for k in sd_children(ci) if k[0] != 0xA1]
    kids.insert(si_pos(kids), tlv(0xA1, b''.join(items))); return rebuild(ci, kids)

ts = lambda at: DummyTimeStamper(tsa_cert=ax509.Certificate.load(der(tsa)),
        tsa_key=akeys.PrivateKeyInfo.load(tk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        certs_to_embed=[ax509.Certificate.load(der(root))], fixed_dt=at)
def tst(digest, at):
    req = atsp.TimeStampReq({'version': 1, 'message_imprint': atsp.MessageImprint({'hash_algorithm': aalgos.DigestAlgorithm({'algorithm': 'sha256'}), 'hashed_message': digest}), 'cert_req': True})
    return asyncio.run(ts(at).async_request_tsa_response(req))['time_stamp_token'].dump()

def hash_index(ci):
    H = lambda x: hashlib.sha256(x).digest(); kids = sd_children(ci)
    certs = [c for k in kids if k[0] == 0xA0 for c in children(k)]
    crls = [c for k in kids if k[0] == 0xA1 for c in children(k)]
    vals = []
    for a in unsigned(signer_info(ci)):
        t, vs = children(a); vals += [t + v for v in children(vs)]
    seq = lambda items: tlv(0x30, b''.join(tlv(0x04, H(x)) for x in items))
    return tlv(0x30, tlv(0x30, oid_tlv('2.16.840.1.101.3.4.2.1')) + seq(certs) + seq(crls) + seq(vals))
def add_ats(ci, content, at):
    index = hash_index(ci); kids = sd_children(ci)
    ect = children([k for k in kids if k[0] == 0x30][0])[0]
    fs = [f for f in children(signer_info(ci)) if f[0] != 0xA1]
    tok = tst(hashlib.sha256(ect + hashlib.sha256(content).digest() + b''.join(fs) + index).digest(), at)
    tok = edit_signer(tok, lambda si: set_unsigned(si, unsigned(si) + [attribute('0.4.0.19122.1.5', index)]))
    return add_unsigned(ci, attribute('0.4.0.1733.2.4', tok))

content = 'Quyết định số 77/QĐ-UBND: thu hồi đất\n'.encode()
open(f'{out}/doc.txt', 'wb').write(content)
open(f'{out}/signer.pem', 'wb').write(pem(signer))
open(f'{out}/signer.key', 'wb').write(sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
subprocess.run(['openssl', 'cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', 'doc.txt', '-signer', 'signer.pem',
                '-inkey', 'signer.key', '-outform', 'DER', '-out', 'bb.p7s'], check=True, cwd=out)
ci = open(f'{out}/bb.p7s', 'rb').read()
ci = add_unsigned(ci, attribute('1.2.840.113549.1.9.16.2.14', tst(hashlib.sha256(sigval(signer_info(ci))).digest(), D(2024, 5, 1, 9))))
ci = set_crls(ci, [crl_revoking])
lta = add_ats(ci, content, D(2024, 6, 1, 9))
open(f'{out}/lta.p7s', 'wb').write(lta)
# The attacker (no key of anyone's): 63 junk CRLs under the CA's name (random key), then the CA's
# own earlier CRL (public), before the revoking CRL the archive time-stamp covers.
jk = ec.generate_private_key(ec.SECP256R1())
junk = [crl(D(2024, 1, 1), D(2024, 2, 1), key=jk, number=i + 1) for i in range(63)]
open(f'{out}/flooded.p7s', 'wb').write(set_crls(lta, junk + [crl_before, crl_revoking]))
open(f'{out}/removed.p7s', 'wb').write(set_crls(lta, [crl_before]))   # control: plain removal
many = [crl(D(2024, 1, 1), D(2024, 2, 1), key=jk, number=i + 1) for i in range(1100)]
open(f'{out}/flooded-past-cap.p7s', 'wb').write(set_crls(lta, many + [crl_before, crl_revoking]))
