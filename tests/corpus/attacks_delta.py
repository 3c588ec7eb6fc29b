"""Delta CRLs (RFC 5280 §5.2.4, §5.3.1) against kyso's validator: the cases of the attacker
readings of 2026-12-05 (helpers 156-158). Run on its own, not by make_corpus.py, under
libfaketime so that pyHanko's signing time is the time-stamp's:

    faketime '2026-10-01 12:00:00' python3 tests/corpus/attacks_delta.py

It makes its own PKI (a CA "Delta CA (test)" and a TSA under it; pki/d-root.pem, keys
discarded), CRLs and delta CRLs with pyca/cryptography, and PAdES B-T signatures of
tests/fixtures/giay-phep.pdf with pyHanko (DummyTimeStamper, genTime T0 = 2026-10-01 12:00
UTC), the CRLs added in DSS updates by pyHanko as anyone may add them to a signed PDF. Every
date is fixed and in the past, every case passes --offline, and the signer's certificate names
a CRL distribution point on the loopback discard port (nothing answers).

`BEFORE` in each case.json is what kyso printed at the commit the case names, before the fix.
"""
import datetime as dt
import io
import json
import os

from asn1crypto import crl as acrl
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MADE_WITH = ("pyHanko (PAdES B-T, DummyTimeStamper, DSS updates) + pyca/cryptography (PKI, CRLs, "
             "delta CRLs), tests/corpus/attacks_delta.py under faketime")


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kyso Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer, ikey, nb, na, ca=False, tsa=False, cdp=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()), critical=False)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca and not tsa,
                                      key_encipherment=False, data_encipherment=False, key_agreement=False,
                                      key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                        critical=True))
    if tsa:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    return b.sign(ikey, hashes.SHA256())


root_k = ec.generate_private_key(ec.SECP256R1())
tsa_k = rsa.generate_private_key(65537, 2048)
signer_k = ec.generate_private_key(ec.SECP256R1())
ROOT = cert(name("Delta CA (test)"), root_k, name("Delta CA (test)"), root_k,
            dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2045, 1, 1, tzinfo=UTC), ca=True)
TSA = cert(name("Delta CA TSA (test)"), tsa_k, ROOT.subject, root_k,
           dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2045, 1, 1, tzinfo=UTC), tsa=True)
SIGNER = cert(name("Signer d-delta"), signer_k, ROOT.subject, root_k,
              dt.datetime(2026, 9, 1, tzinfo=UTC), dt.datetime(2036, 1, 1, tzinfo=UTC),
              cdp="http://127.0.0.1:9/delta-ca.crl")
S = SIGNER.serial_number
RF = x509.ReasonFlags


def crl(number, this, nxt, entries=(), base=None):
    b = (x509.CertificateRevocationListBuilder().issuer_name(ROOT.subject).last_update(this).next_update(nxt)
         .add_extension(x509.CRLNumber(number), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_k.public_key()), critical=False))
    if base is not None:
        b = b.add_extension(x509.DeltaCRLIndicator(base), critical=True)
    for when, reason in entries:
        e = x509.RevokedCertificateBuilder().serial_number(S).revocation_date(when)
        if reason:
            e = e.add_extension(x509.CRLReason(reason), critical=False)
        b = b.add_revoked_certificate(e.build())
    return acrl.CertificateList.load(b.sign(root_k, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def asn1(c):
    return ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))


def pkey(k):
    return akeys.PrivateKeyInfo.load(k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))


def signed():
    base = open(os.path.join(os.path.dirname(HERE), "fixtures", "giay-phep.pdf"), "rb").read()
    s = signers.SimpleSigner(asn1(SIGNER), pkey(signer_k), SimpleCertificateStore.from_certs([asn1(ROOT)]))
    ts = timestamps.DummyTimeStamper(tsa_cert=asn1(TSA), tsa_key=pkey(tsa_k), fixed_dt=T0)
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(base)),
                     signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES),
                     signer=s, timestamper=ts, output=out)
    return out.getvalue()


def with_dss(pdf, crls):
    contents = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].pkcs7_content
    buf = io.BytesIO(pdf)
    DocumentSecurityStore.add_dss(buf, contents, crls=crls, force_write=True)
    return buf.getvalue()


def case(slug, pdf, expect, before, description, args=()):
    d = os.path.join(HERE, slug)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "doc.pdf"), "wb") as f:
        f.write(pdf)
    c = {"description": description, "made_with": MADE_WITH, "file": "doc.pdf",
         "trust": ["pki/d-root.pem"], "certs": [], "crl": [],
         "expect": {"indication": expect[0], "subindication": expect[1]},
         "class": "5 revocation",
         "before": {"indication": before[0], "subindication": before[1]}}
    c["args"] = ["--offline", *args]
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(c, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    with open(os.path.join(HERE, "pki", "d-root.pem"), "wb") as f:
        f.write(ROOT.public_bytes(serialization.Encoding.PEM))
    doc = signed()
    full1 = crl(1, T0 - DAY, T0 + 6 * DAY)
    lt = with_dss(doc, [full1])
    passed, try_later = ("TOTAL-PASSED", None), ("INDETERMINATE", "TRY_LATER")
    case("delta-revokes-before-the-time-stamp", with_dss(lt, [crl(2, T0 - DAY / 2, T0 + DAY, [(T0 - DAY / 2 - HOUR, None)], base=1)]),
         ("TOTAL-FAILED", "REVOKED"), passed,
         "A complete CRL (number 1) valid across the signature time-stamp says 'good'; the CA's next delta CRL "
         "(base 1), issued before the time-stamp, revokes the signer before it. A revocation in a delta counts "
         "(its silence does not). Before a25effa kyso ignored the delta whole and passed the signature.")
    case("delta-on-a-newer-base-before-the-time-stamp", with_dss(lt, [crl(3, T0 - DAY / 2, T0 + DAY, base=2)]),
         try_later, passed,
         "A complete CRL (number 1) valid across the signature time-stamp; a delta CRL issued before the "
         "time-stamp builds on complete CRL 2, which the document lacks: what was revoked between CRL 1 and CRL 2 "
         "is in neither, so CRL 1's 'good' tells nothing at the time-stamp (helper 157). Before 69e2405 "
         "kyso passed it.")
    case("delta-on-a-newer-base-after-the-time-stamp", with_dss(lt, [crl(3, T0 + 2 * DAY, T0 + 3 * DAY, base=2)]),
         passed, try_later,
         "The same complete CRL, and the CA's delta issued two days after the time-stamp on complete CRL 2, "
         "added in a DSS update (anyone may): the delta says nothing of the time-stamp's time, and the "
         "signature stands (helper 158: at 69e2405 every long-term signature resting on a complete CRL was "
         "spoiled so; fixed in a8f0302).")
    holds = with_dss(doc, [crl(1, T0 - 3 * DAY, T0 + 6 * DAY)])
    hold = crl(2, T0 - 2 * DAY, T0 - DAY, [(T0 - 2 * DAY - HOUR, RF.certificate_hold)], base=1)
    release = crl(3, T0 - DAY, T0 + DAY, [(T0 - DAY - HOUR, RF.remove_from_crl)], base=1)
    case("delta-hold-in-force-at-the-time-stamp", with_dss(holds, [hold]), try_later, passed,
         "Complete CRL 1 (before the hold) valid across the time-stamp; a delta issued before the time-stamp "
         "puts the signer on hold (certificateHold), and nothing at hand lifts it: the signer was suspended "
         "when it signed. Before 69e2405 kyso passed it (deltas were ignored, then their holds passed over).")
    case("delta-hold-lifted-by-remove-from-crl", with_dss(holds, [hold, release]), passed, try_later,
         "The same hold, lifted before the time-stamp by the next delta's removeFromCRL entry: the signer was "
         "not suspended when it signed (helper 158: at 69e2405 the hold stood for good). Beside it, for "
         "tests/ltv_cli.rs: base.pdf (the signature with complete CRL 1 only) and the two deltas, hold.crl "
         "and release.crl.")
    d = os.path.join(HERE, "delta-hold-lifted-by-remove-from-crl")
    for f, b in [("base.pdf", holds), ("hold.crl", hold.dump()), ("release.crl", release.dump())]:
        with open(os.path.join(d, f), "wb") as out:
            out.write(b)
    revoked = with_dss(doc, [crl(1, T0 - DAY, T0 + 6 * DAY, [(T0 - 2 * DAY, RF.key_compromise)])])
    case("delta-remove-from-crl-hides-no-revocation",
         with_dss(revoked, [crl(2, T0 - DAY / 2, T0 + DAY, [(T0 - DAY / 2 - HOUR, RF.remove_from_crl)], base=1)]),
         ("TOTAL-FAILED", "REVOKED"), ("TOTAL-FAILED", "REVOKED"),
         "Complete CRL 1 revokes the signer (keyCompromise) before the time-stamp; a delta lists it with "
         "removeFromCRL, which lifts holds only: still revoked.")
    late = with_dss(lt, [crl(5, T0 + 2 * DAY, T0 + 3 * DAY, [(T0 + DAY, RF.superseded)], base=4)])
    case("delta-revokes-after-the-validation-time", late, passed, try_later,
         "A delta issued two days after the time-stamp revokes the signer a day after it, and the document is "
         "validated at an hour after the time-stamp (--at): that CRL did not exist then, and anyone may add it "
         "to a document (helper 158: at 69e2405 a CRL ahead of --at listing the signer was a veto).",
         args=("--at", (T0 + HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")))
    case("crl-after-the-validation-time-revokes-before-it",
         with_dss(lt, [crl(2, T0 + 2 * DAY, T0 + 9 * DAY, [(T0 - HOUR, RF.key_compromise)])]),
         ("TOTAL-FAILED", "REVOKED"), passed,
         "Complete CRL 1 says 'good' across the time-stamp; the CA's complete CRL 2, issued two days after it "
         "and added in a DSS update, revokes the signer (keyCompromise) an hour before it. Validated at an hour "
         "after the time-stamp (--at), CRL 2 did not exist yet, but the revocation it lists from before the "
         "control time is the truth about that time (helper 159: at a8f0302 it was ignored and the signature "
         "passed; its later entries and its silence still tell nothing).",
         args=("--at", (T0 + HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")))
    print("delta cases written to", HERE)


if __name__ == "__main__":
    main()
