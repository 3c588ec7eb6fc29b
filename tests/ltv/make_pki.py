#!/usr/bin/env python3
"""A test PKI whose certificates name real responders on loopback, for the long-term
signature tests (tests/ltv_cli.rs): a root, an issuing CA whose certificates carry a CRL
distribution point and an OCSP URL, a signer, a delegated OCSP responder for `openssl ocsp`,
and a TSA. Made with pyca/cryptography; private keys go to OUT (a test's temporary directory).

    make_pki.py OUT CRL_PORT OCSP_PORT [--signer-days N] [--revoke-signer-at ISO8601]
    make_pki.py OUT --revoke-signer-at ISO8601|now [--compromised-since ISO8601]
        # reissue crl/ca.crl and index.txt only; with --compromised-since, the CRL entry says
        # keyCompromise with that invalidityDate (RFC 5280 §5.3.2)

Writes: root.pem, ca.pem, ca.key.pem, signer.pem, signer.key.pem (PKCS#8, for softhsm2-util),
ocsp.pem, ocsp.key.pem, tsa.pem, tsa.key.pem, crl/ca.crl, crl/root.crl (DER, served over HTTP),
index.txt (the `openssl ca` database `openssl ocsp -index` reads).
"""
import datetime as dt
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

UTC = dt.timezone.utc


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kyso LTV Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key():
    return rsa.generate_private_key(65537, 2048)


def build(subject, pub, issuer, issuer_key, nb, na, ca=False, eku=None, cdp=None, ocsp=None, nocheck=False):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(pub).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca and issuer != subject else None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
    b = b.add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                      encipher_only=False, decipher_only=False), critical=True)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(cdp)], relative_name=None, reasons=None, crl_issuer=None)]),
            critical=False)
    if ocsp:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp))]), critical=False)
    if nocheck:
        b = b.add_extension(x509.OCSPNoCheck(), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def write(out, fname, data):
    with open(os.path.join(out, fname), "wb") as f:
        f.write(data)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def pkcs8(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def crl(issuer_cert, issuer_key, revoked, now, compromised=None):
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer_cert.subject)
         .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(1), critical=False))
    for serial, when in revoked:
        e = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if compromised is not None:
            e = (e.add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                 .add_extension(x509.InvalidityDate(compromised.replace(tzinfo=None)), critical=False))
        b = b.add_revoked_certificate(e.build())
    return b.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def revoke_only(out, when, compromised=None):
    """The issuing CA revokes the signer as of `when`: a new CRL (issued now) and database."""
    load = lambda f: x509.load_pem_x509_certificate(open(os.path.join(out, f), "rb").read())
    ca, signer, responder = load("ca.pem"), load("signer.pem"), load("ocsp.pem")
    ca_k = serialization.load_pem_private_key(open(os.path.join(out, "ca.key.pem"), "rb").read(), None)
    now = dt.datetime.now(UTC)
    write(out, "crl/ca.crl", crl(ca, ca_k, [(signer.serial_number, when)], now, compromised))
    with open(os.path.join(out, "index.txt"), "w") as f:
        f.write(index_line(signer, when))
        f.write(index_line(responder))


def index_line(c, rev=None):
    """A line of the `openssl ca` database: V(alid) or R(evoked), expiry, revocation time,
    serial (hex, whole bytes), file name, subject."""
    exp = c.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    status, when = ("R", rev.strftime("%y%m%d%H%M%SZ")) if rev else ("V", "")
    subj = "".join(f"/{a.rfc4514_attribute_name}={a.value}" for a in c.subject)
    serial = f"{c.serial_number:X}"
    serial = "0" * (len(serial) % 2) + serial
    return f"{status}\t{exp}\t{when}\t{serial}\tunknown\t{subj}\n"


def main():
    if len(sys.argv) in (4, 6) and sys.argv[2] == "--revoke-signer-at":
        when = (dt.datetime.now(UTC) if sys.argv[3] == "now"
                else dt.datetime.fromisoformat(sys.argv[3]))
        since = dt.datetime.fromisoformat(sys.argv[5]) if len(sys.argv) == 6 else None
        return revoke_only(sys.argv[1], when, since)
    out, crl_port, ocsp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    args = sys.argv[4:]
    signer_days = int(args[args.index("--signer-days") + 1]) if "--signer-days" in args else 365
    revoke_at = (dt.datetime.fromisoformat(args[args.index("--revoke-signer-at") + 1])
                 if "--revoke-signer-at" in args else None)
    os.makedirs(os.path.join(out, "crl"), exist_ok=True)
    now = dt.datetime.now(UTC)
    t0, t_end = now - dt.timedelta(days=30), now + dt.timedelta(days=3650)
    crl_base = f"http://127.0.0.1:{crl_port}/crl"
    root_k, ca_k, signer_k, ocsp_k, tsa_k = key(), key(), key(), key(), key()
    root = build(name("LTV Test Root"), root_k.public_key(), name("LTV Test Root"), root_k, t0, t_end, ca=True)
    ca = build(name("LTV Test Issuing CA"), ca_k.public_key(), root.subject, root_k, t0, t_end, ca=True,
               cdp=f"{crl_base}/root.crl")
    signer = build(name("LTV Test Signer"), signer_k.public_key(), ca.subject, ca_k,
                   now - dt.timedelta(days=1), now + dt.timedelta(days=signer_days),
                   eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH],
                   cdp=f"{crl_base}/ca.crl", ocsp=f"http://127.0.0.1:{ocsp_port}")
    responder = build(name("LTV Test OCSP Responder"), ocsp_k.public_key(), ca.subject, ca_k, t0, t_end,
                      eku=[ExtendedKeyUsageOID.OCSP_SIGNING], nocheck=True)
    tsa = build(name("LTV Test TSA"), tsa_k.public_key(), root.subject, root_k, t0, t_end,
                eku=[ExtendedKeyUsageOID.TIME_STAMPING], cdp=f"{crl_base}/root.crl")
    for label, c, k in [("root", root, root_k), ("ca", ca, ca_k), ("signer", signer, signer_k),
                        ("ocsp", responder, ocsp_k), ("tsa", tsa, tsa_k)]:
        write(out, f"{label}.pem", pem(c))
        write(out, f"{label}.key.pem", pkcs8(k))
    revoked = [(signer.serial_number, revoke_at)] if revoke_at else []
    write(out, "crl/ca.crl", crl(ca, ca_k, revoked, now))
    write(out, "crl/root.crl", crl(root, root_k, [], now))
    with open(os.path.join(out, "index.txt"), "w") as f:
        f.write(index_line(signer, revoke_at))
        f.write(index_line(responder))


if __name__ == "__main__":
    main()
