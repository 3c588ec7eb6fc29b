"""A B-B PDF signature, then pyHanko's document time-stamp over it (a TSA this script makes
with pyca/cryptography: its own root, a critical timeStamping EKU, RSA-2048, no revocation
source),
then a DSS written by pyHanko's incremental writer holding chosen certificates:

  bt.pdf   the DSS holds the signer's path only: not the TSA's, whose time-stamp gives the
           signature its trusted time (PAdES-B-T: its B-LT data is incomplete)
  lt.pdf   the DSS holds the TSA's certificate too (PAdES-B-LT)
  lta.pdf  lt.pdf with a second document time-stamp over that DSS (PAdES-B-LTA)

usage: doc_ts_dss.py IN.pdf SIGNER.pem CA.pem OUTDIR   (writes OUTDIR/tsa-root.pem too)
"""
import datetime as dt
import io
import sys

from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

src, signer_pem, ca_pem, out = sys.argv[1:5]
now = dt.datetime.now(dt.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make(subject, key, issuer, issuer_key, ca):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


root_key = ec.generate_private_key(ec.SECP256R1())
root = make(name("TSA test root"), root_key, name("TSA test root"), root_key, True)
# pyHanko's DummyTimeStamper signs with RSA only.
tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
tsa = make(name("TSA test"), tsa_key, root.subject, root_key, False)
open(f"{out}/tsa-root.pem", "wb").write(root.public_bytes(serialization.Encoding.PEM))
open(f"{out}/tsa.key.pem", "wb").write(tsa_key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
tsa_a = ax509.Certificate.load(tsa.public_bytes(serialization.Encoding.DER))
stamper = timestamps.DummyTimeStamper(
    tsa_cert=tsa_a, tsa_key=load_private_key_from_pemder(f"{out}/tsa.key.pem", passphrase=None),
    certs_to_embed=SimpleCertificateStore.from_certs([]))


def doc_ts(pdf):
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    o = io.BytesIO()
    signers.PdfTimeStamper(stamper).timestamp_pdf(w, "sha256", output=o)
    return o.getvalue()


def der(pem_path):
    data = open(pem_path, "rb").read()
    return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)


def with_dss(pdf, certs):
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    n = generic.pdf_name
    refs = generic.ArrayObject([w.add_object(generic.StreamObject(stream_data=c)) for c in certs])
    w.root[n("/DSS")] = w.add_object(generic.DictionaryObject({n("/Certs"): refs}))
    w.update_root()
    o = io.BytesIO()
    w.write(o)
    return o.getvalue()


stamped = doc_ts(open(src, "rb").read())
path = [der(signer_pem), der(ca_pem)]
open(f"{out}/bt.pdf", "wb").write(with_dss(stamped, path))
lt = with_dss(stamped, path + [tsa.public_bytes(serialization.Encoding.DER)])
open(f"{out}/lt.pdf", "wb").write(lt)
open(f"{out}/lta.pdf", "wb").write(doc_ts(lt))
