#!/usr/bin/env python3
"""An OCSP response answering for a signer's serial twice — under its CA and under another CA
— for tests/verify_cli.rs; made with pyca/cryptography, asn1crypto and OpenSSL, nothing of
kyso's (helper 186).

    python3 ocsp_batch.py OUTDIR

OUTDIR gets root.pem, a signer (P-256) the root issued, doc.txt and its detached CAdES
sig.p7s (OpenSSL), root.crl (20 days old, still valid, listing nothing) and two responses
signed by the root:
- hold.ocsp: the signer on hold since 10 days ago (thisUpdate yesterday);
- hold-batch.ocsp: the same answer, and one more for the same serial under another CA, "good"
  with a thisUpdate of 2002. A responder serving several CAs, or a request for several
  certificates, gives such a response. kyso took the earliest thisUpdate over every answer for
  the serial as the time the hold was known, 2002, so the CRL of 20 days ago "lifted" it and a
  suspended signer's signature passed.
And chain/: root -> intermediate -> signer, chain/doc.txt and chain/sig.p7s, chain/root.crl (300
days old, still valid: the intermediate good), chain/root-hold.crl (yesterday's: the
intermediate on hold since 5 days ago) and chain/inter.crl (yesterday's: the signer good). The time the path's status was known is the older, 300 days ago; kyso showed the
signer's alone (helper 186).
"""
import datetime as dt
import hashlib
import os
import subprocess
import sys

from asn1crypto import core, ocsp
from asn1crypto import x509 as ax
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def name(cn):
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ocsp Batch Test"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
    ])


def cert(subject, key, issuer, issuer_key, ca, serial, crl_dp=None):
    """A certificate; a CA's names where its status is when `crl_dp` is given, a signer's
    always (so that its status is looked for)."""
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(now - dt.timedelta(days=400))
         .not_valid_after(now + dt.timedelta(days=3000 if ca else 700))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             issuer_key.public_key()), False))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), True)
    else:
        b = b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                          False), True)
        crl_dp = crl_dp or "http://127.0.0.1:9/root.crl"
    if crl_dp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl_dp)], None, None, None)]), False)
    return b.sign(issuer_key, hashes.SHA256())


def write_pem(path, c):
    open(path, "wb").write(c.public_bytes(serialization.Encoding.PEM))


def write_key(path, key):
    open(path, "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def sign_cms(d, text, *more):
    """d/doc.txt holding `text`, and its detached CMS d/sig.p7s by d/signer.pem (OpenSSL)."""
    open(f"{d}/doc.txt", "wb").write(text.encode())
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in", f"{d}/doc.txt",
                    "-signer", f"{d}/signer.pem", "-inkey", f"{d}/signer.key", *more,
                    "-outform", "DER", "-out", f"{d}/sig.p7s"], check=True)


root_key, other_key, signer_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
root = cert("Ocsp Batch Root", root_key, "Ocsp Batch Root", root_key, True, 1)
other = cert("Ocsp Batch Other CA", other_key, "Ocsp Batch Other CA", other_key, True, 2)
signer = cert("Ocsp Batch Signer", signer_key, "Ocsp Batch Root", root_key, False, 0x5151)
write_pem(f"{out}/root.pem", root)
write_pem(f"{out}/signer.pem", signer)
write_key(f"{out}/signer.key", signer_key)



def empty_crl(issuer, key, days_old, path, held=None):
    """A CRL of `issuer` listing nothing (or the serial `held` on hold since 5 days ago),
    issued `days_old` days ago, valid for 30 more."""
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
         .last_update(now - dt.timedelta(days=days_old)).next_update(now + dt.timedelta(days=30))
         .add_extension(x509.CRLNumber(days_old + 1), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                        False))
    if held is not None:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(held)
            .revocation_date(now - dt.timedelta(days=5))
            .add_extension(x509.CRLReason(x509.ReasonFlags.certificate_hold), False).build())
    c = b.sign(key, hashes.SHA256())
    open(path, "wb").write(c.public_bytes(serialization.Encoding.DER))


empty_crl(root, root_key, 20, f"{out}/root.crl")

sign_cms(out, "Giấy phép kinh doanh số 0101\n")


def der(c):
    return ax.Certificate.load(c.public_bytes(serialization.Encoding.DER))


def single(issuer, status, this_update, next_update):
    i = der(issuer)
    cid = ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(i.subject.dump()).digest(),
        "issuer_key_hash": hashlib.sha1(
            i["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]).digest(),
        "serial_number": signer.serial_number,
    })
    r = {"cert_id": cid, "cert_status": status, "this_update": this_update}
    if next_update is not None:
        r["next_update"] = next_update
    return ocsp.SingleResponse(r)


def response(path, singles):
    r = der(root)
    tbs = ocsp.ResponseData({
        "responder_id": ocsp.ResponderId(name="by_key", value=hashlib.sha1(
            r["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]).digest()),
        "produced_at": now - dt.timedelta(hours=1),
        "responses": singles,
    })
    sig = root_key.sign(tbs.dump(), ec.ECDSA(hashes.SHA256()))
    basic = ocsp.BasicOCSPResponse({"tbs_response_data": tbs,
                                    "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                                    "signature": sig})
    open(path, "wb").write(ocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
    }).dump())


held = single(root, ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo({
    "revocation_time": now - dt.timedelta(days=10),
    "revocation_reason": "certificate_hold",
})), now - dt.timedelta(days=1), now + dt.timedelta(days=7))
old_elsewhere = single(other, ocsp.CertStatus(name="good", value=core.Null()),
                       dt.datetime(2002, 4, 16, tzinfo=dt.timezone.utc), None)
response(f"{out}/hold.ocsp", [held])
response(f"{out}/hold-batch.ocsp", [held, old_elsewhere])

# A hold listed 5 days ago to begin 3 days ago, and a CRL of 4 days ago: issued between the
# listing and the start, that CRL's silence lifts nothing (it did; helper 188).
hold_status = lambda days: ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo({
    "revocation_time": now - dt.timedelta(days=days),
    "revocation_reason": "certificate_hold",
}))
good = ocsp.CertStatus(name="good", value=core.Null())
response(f"{out}/scheduled-hold.ocsp", [single(root, hold_status(3), now - dt.timedelta(days=5),
                                               now + dt.timedelta(days=7))])
empty_crl(root, root_key, 4, f"{out}/crl-4d.crl")
# As of three days ago (at.txt): a hold since 10 days ago, listed 9 days ago, and one response
# with two "good" answers — 5 days ago, and a minute after that time. The first lifts the
# hold; one answer kept per response (the later) left it in force (helper 188).
at = now - dt.timedelta(days=3)
open(f"{out}/at.txt", "w").write(at.strftime("%Y-%m-%dT%H:%M:%SZ"))
response(f"{out}/hold-9d.ocsp", [single(root, hold_status(10), now - dt.timedelta(days=9),
                                        now + dt.timedelta(days=7))])
# A keyCompromise answer with impossible dates (nextUpdate before thisUpdate): not believed,
# but no "good" may stand beside it — the CRL of 20 days ago passed the signature (helper 189).
revoked = ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo({
    "revocation_time": now - dt.timedelta(days=10),
    "revocation_reason": "key_compromise",
}))
response(f"{out}/revoked-baddates.ocsp", [single(root, revoked, now - dt.timedelta(days=1),
                                                 now - dt.timedelta(days=2))])
response(f"{out}/two-goods.ocsp", [
    single(root, good, now - dt.timedelta(days=5), now + dt.timedelta(days=7)),
    single(root, good, at + dt.timedelta(seconds=60), now + dt.timedelta(days=7)),
])


# The path: its status known as of the older CRL.
os.makedirs(f"{out}/chain", exist_ok=True)
inter_key, signer2_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
    ec.SECP256R1())
inter = cert("Ocsp Batch Inter", inter_key, "Ocsp Batch Root", root_key, True, 3,
             crl_dp="http://127.0.0.1:9/root.crl")
signer2 = cert("Ocsp Batch Signer Two", signer2_key, "Ocsp Batch Inter", inter_key, False, 0x5252)
write_pem(f"{out}/chain/inter.pem", inter)
write_pem(f"{out}/chain/signer.pem", signer2)
write_key(f"{out}/chain/signer.key", signer2_key)


empty_crl(root, root_key, 300, f"{out}/chain/root.crl")
# The intermediate CA on hold: the signature's reason said "no CRL could be had" (2026-12-06).
empty_crl(root, root_key, 1, f"{out}/chain/root-hold.crl", held=3)
empty_crl(inter, inter_key, 1, f"{out}/chain/inter.crl")
sign_cms(f"{out}/chain", "Quyết định số 42\n", "-certfile", f"{out}/chain/inter.pem")
