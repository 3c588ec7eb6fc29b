#!/usr/bin/env python3
"""OCSP "good" answers by delegated responders whose own status nobody can tell, for
tests/verify_cli.rs -- made with pyca/cryptography (certificates, the CMS signature by the
OpenSSL CLI) and asn1crypto (the OCSP responses), nothing of kyso's.

A CA delegates OCSP signing to a responder certificate (extendedKeyUsage OCSPSigning) without
id-pkix-ocsp-nocheck and naming no CRL distribution point or OCSP responder of its own. If the
responder's key is stolen and the CA revokes it, the thief still signs "good" for any
certificate of the CA; kyso took such an answer with only a note ("names no place for its own
status: not checked") while the signer's certificate named the CA's CRL -- where the revoked
responder is listed (found reviewing the last notes, 2026-12-03).

    python3 ocsp_responder.py DIR

DIR/root.pem (the CA, also the trust anchor), DIR/doc.txt, and for each signer a detached
CAdES signature of doc.txt (SIGNER.p7s) and a fresh "good" for it (SIGNER-RESPONDER.ocsp):
  signers:    cdp  -- names the CA's CRL (http://127.0.0.1:9/..., nothing serves it)
              aia  -- names only an OCSP responder URL (same nowhere), no CRL
  responders: bare    -- delegated, no ocsp-nocheck, names no place
              nocheck -- delegated, with id-pkix-ocsp-nocheck
"""
import datetime as dt
import os
import subprocess
import sys
import time

from asn1crypto import core as acore, ocsp as aocsp, x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
NOWHERE = "http://127.0.0.1:9"


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subj, key, issuer, ikey, ca=False, eku=None, cdp=None, aia=None, nocheck=False):
    b = (x509.CertificateBuilder().subject_name(subj).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOW - dt.timedelta(days=30)).not_valid_after(NOW + dt.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca and not eku,
                                      key_encipherment=False, data_encipherment=False, key_agreement=False,
                                      key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()), critical=False))
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    if aia:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(aia))]), critical=False)
    if nocheck:
        b = b.add_extension(x509.OCSPNoCheck(), critical=False)
    return b.sign(ikey, hashes.SHA256())


def write(fname, data):
    with open(os.path.join(out, fname), "wb") as f:
        f.write(data)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


ca_k = rsa.generate_private_key(65537, 2048)
ca = cert(name("OCSP Delegation Test CA"), ca_k, name("OCSP Delegation Test CA"), ca_k, ca=True)
write("root.pem", pem(ca))
write("doc.txt", "Giấy phép số 12/GP: lệ phí 100 VND\n".encode())

responders = {}
for label, nocheck in [("bare", False), ("nocheck", True)]:
    k = rsa.generate_private_key(65537, 2048)
    c = cert(name(f"OCSP responder ({label})"), k, ca.subject, ca_k,
             eku=[ExtendedKeyUsageOID.OCSP_SIGNING], nocheck=nocheck)
    responders[label] = (c, k)

signers = {}
for label, kw in [("cdp", {"cdp": f"{NOWHERE}/ocsp-test-ca.crl"}), ("aia", {"aia": f"{NOWHERE}/ocsp"})]:
    k = rsa.generate_private_key(65537, 2048)
    c = cert(name(f"Nguyen Van A ({label})"), k, ca.subject, ca_k, **kw)
    signers[label] = (c, k)
    write(f"{label}.pem", pem(c))
    write(f"{label}.key", k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-cades", "-outform", "DER", "-md", "sha256",
                    "-in", os.path.join(out, "doc.txt"), "-signer", os.path.join(out, f"{label}.pem"),
                    "-inkey", os.path.join(out, f"{label}.key"), "-out", os.path.join(out, f"{label}.p7s")],
                   check=True)
    os.remove(os.path.join(out, f"{label}.key"))

# The answers are produced after the signatures (their claimed signing time).
time.sleep(2)
produced = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
a_ca = ax509.Certificate.load(der(ca))
for s_label, (s, _) in signers.items():
    a_s = ax509.Certificate.load(der(s))
    for r_label, (r, rk) in responders.items():
        a_r = ax509.Certificate.load(der(r))
        tbs = aocsp.ResponseData({
            "responder_id": aocsp.ResponderId(name="by_key", value=a_r.public_key.sha1),
            "produced_at": produced,
            "responses": [{
                "cert_id": {"hash_algorithm": {"algorithm": "sha1"},
                            "issuer_name_hash": a_ca.subject.sha1,
                            "issuer_key_hash": a_ca.public_key.sha1,
                            "serial_number": a_s.serial_number},
                "cert_status": aocsp.CertStatus(name="good", value=acore.Null()),
                "this_update": produced,
                "next_update": produced + dt.timedelta(days=7),
            }],
        })
        sig = rk.sign(tbs.dump(), padding.PKCS1v15(), hashes.SHA256())
        basic = aocsp.BasicOCSPResponse({
            "tbs_response_data": tbs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": sig,
            "certs": [a_r],
        })
        resp = aocsp.OCSPResponse({
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        })
        write(f"{s_label}-{r_label}.ocsp", resp.dump())

