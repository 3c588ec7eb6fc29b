#!/usr/bin/env python3
"""A CRL of N revoked serials, DER, as a national CA's CRL can be (the size of the one a
verifier holds for every validation): `big_crl.py N OUT`. Written by pyca/cryptography, signed
by a throwaway RSA-2048 CA of its own."""
import datetime as dt
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

n, out = int(sys.argv[1]), sys.argv[2]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
now = dt.datetime.now(dt.timezone.utc)
b = (x509.CertificateRevocationListBuilder()
     .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Bench National CA')]))
     .last_update(now - dt.timedelta(days=1)).next_update(now + dt.timedelta(days=9)))
reason = x509.CRLReason(x509.ReasonFlags.key_compromise)
for i in range(n):
    b = b.add_revoked_certificate(
        x509.RevokedCertificateBuilder().serial_number(10**15 + i)
        .revocation_date(now - dt.timedelta(days=30)).add_extension(reason, critical=False).build())
with open(out, 'wb') as f:
    f.write(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
