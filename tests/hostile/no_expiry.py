#!/usr/bin/env python3
"""A certificate with RFC 5280's "no well-defined expiration date", notAfter 99991231235959Z
(§4.1.2.5), by pyca/cryptography, and a detached CMS over OUTDIR/doc.txt by the OpenSSL CLI
with its key -- nothing of kyso's. `kyso verify` panicked writing that date at +07:00
(2026-12-06).

    python3 no_expiry.py OUTDIR      (writes cert.pem, key.pem, doc.txt, sig.p7s)
"""
import datetime as dt
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                  x509.NameAttribute(NameOID.COMMON_NAME, "Khong Het Han")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(0x9999)
        .not_valid_before(dt.datetime(2020, 1, 1))
        .not_valid_after(dt.datetime(9999, 12, 31, 23, 59, 59))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                       critical=True)
        .sign(key, hashes.SHA256()))
open(f"{out}/cert.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(f"{out}/key.pem", "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()))
open(f"{out}/doc.txt", "w").write("Giấy xác nhận số 9\n")
subprocess.run(["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-signer",
                f"{out}/cert.pem", "-inkey", f"{out}/key.pem", "-in", f"{out}/doc.txt",
                "-outform", "DER", "-out", f"{out}/sig.p7s"], check=True)
