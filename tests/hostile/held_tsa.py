#!/usr/bin/env python3
"""A time-stamp authority on hold (suspended), for tests/verify_cli.rs -- PKI and CRLs by
pyca/cryptography, the signature and RFC 3161 tokens by pyHanko (its DummyTimeStamper), nothing
of kyso's.

    python3 held_tsa.py IN.pdf OUTDIR

OUTDIR gets root.pem (P-256), a TSA (RSA-2048, critical timeStamping EKU) and a signer (P-256)
it issued, both naming http://127.0.0.1:9/root.crl, and:
- doc-ts.pdf: IN.pdf with pyHanko's document time-stamp by that TSA;
- cades-bt.p7s over doc.txt: a detached CAdES-B-T by the signer, its signature time-stamp by
  that TSA;
- hold.crl: the root's CRL of yesterday, listing the TSA on hold (certificateHold) since five
  days ago; good.crl: the root's CRL of yesterday listing nothing.
kyso's verdict on either with hold.crl was TRY_LATER for the right cause, but its reason read
"no CRL or OCSP response could be had yet" (2026-12-06).
"""
import asyncio
import datetime as dt
import io
import os
import sys

from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

src, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
CRL_URL = "http://127.0.0.1:9/root.crl"


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make(cn, key, issuer, issuer_key, ca, serial, eku=None):
    b = (x509.CertificateBuilder().subject_name(name(cn))
         .issuer_name(issuer.subject if issuer else name(cn))
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(now - dt.timedelta(days=30))
         .not_valid_after(now + dt.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), critical=True)
    else:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]), critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def pem(path, c):
    open(path, "wb").write(c.public_bytes(serialization.Encoding.PEM))


def key_pem(path, k):
    open(path, "wb").write(k.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


root_key = ec.generate_private_key(ec.SECP256R1())
root = make("Held Tsa Root", root_key, None, root_key, True, 1)
# pyHanko's DummyTimeStamper signs with RSA only.
tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
tsa = make("Held Tsa", tsa_key, root, root_key, False, 0x75A,
           ExtendedKeyUsageOID.TIME_STAMPING)
signer_key = ec.generate_private_key(ec.SECP256R1())
signer = make("Held Tsa Signer", signer_key, root, root_key, False, 0x51)
pem(f"{out}/root.pem", root)
for n, k in (("tsa", tsa_key), ("signer", signer_key)):
    key_pem(f"{out}/{n}.key.pem", k)


def crl(path, held):
    b = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
         .last_update(now - dt.timedelta(days=1)).next_update(now + dt.timedelta(days=30))
         .add_extension(x509.CRLNumber(2 if held else 1), False))
    if held:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(tsa.serial_number)
            .revocation_date(now - dt.timedelta(days=5))
            .add_extension(x509.CRLReason(x509.ReasonFlags.certificate_hold), False).build())
    c = b.sign(root_key, hashes.SHA256())
    open(path, "wb").write(c.public_bytes(serialization.Encoding.DER))


crl(f"{out}/hold.crl", True)
crl(f"{out}/good.crl", False)


def asn1(c):
    return ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))


stamper = timestamps.DummyTimeStamper(
    tsa_cert=asn1(tsa),
    tsa_key=load_private_key_from_pemder(f"{out}/tsa.key.pem", passphrase=None),
    certs_to_embed=SimpleCertificateStore.from_certs([asn1(root)]))

w = IncrementalPdfFileWriter(io.BytesIO(open(src, "rb").read()), strict=False)
o = io.BytesIO()
signers.PdfTimeStamper(stamper).timestamp_pdf(w, "sha256", output=o)
open(f"{out}/doc-ts.pdf", "wb").write(o.getvalue())

doc = "Giấy chứng nhận số 7\n".encode()
open(f"{out}/doc.txt", "wb").write(doc)
signer_obj = signers.SimpleSigner(
    signing_cert=asn1(signer),
    signing_key=load_private_key_from_pemder(f"{out}/signer.key.pem", passphrase=None),
    cert_registry=SimpleCertificateStore.from_certs([asn1(root)]))
ci = asyncio.run(signer_obj.async_sign_general_data(doc, "sha256", detached=True,
                                                    use_cades=True, timestamper=stamper))
open(f"{out}/cades-bt.p7s", "wb").write(ci.dump())
