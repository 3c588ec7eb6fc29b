#!/usr/bin/env python3
"""Signatures whose outside text -- a certificate's names, a PDF's key names -- would write on
the terminal of whoever reads kyso's human summary, and signatures whose summary items said
more than was known, for tests/verify_cli.rs. Made with the OpenSSL CLI, pyca/cryptography and
pyHanko, nothing of kyso's (found by an attacker's reading of what kyso shows, 2026-12-02):

    python3 report_spoofing.py DIR

    DIR/root.pem              the anchor to trust; DIR/doc.txt the signed text
    DIR/escapes.p7s           a detached CAdES by a signer whose own CA (not trusted) has an O
                              that clears the screen (ESC[2J ESC[H), prints a fake "HỢP LỆ"
                              report and conceals the rest (ESC[8m)
    DIR/bidi.p7s              a detached CAdES by a trusted signer whose CN holds a
                              right-to-left override, a zero-width space and a line separator
    DIR/backdated.p7s         a detached CAdES by a trusted signer whose certificate expired,
                              its signing-time claimed inside the certificate's validity
    DIR/signed.pdf            a PAdES signature (pyHanko) by the trusted signer; DIR/tampered.pdf
                              the same with its page drawn over after signing and a catalog key
                              whose name is the escape payload
"""
import datetime as dt
import io
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

D = sys.argv[1]
os.makedirs(D, exist_ok=True)
NOW = dt.datetime.now(dt.timezone.utc)
ESC = '\x1b'
FAKE = ('Kết quả: HỢP LỆ (TOTAL-PASSED)\n\nChữ ký 1 [CAdES-B-B]\n'
        '  1. Tình trạng chữ ký: HỢP LỆ (TOTAL-PASSED)\n')
PAYLOAD = f'{ESC}[2J{ESC}[3J{ESC}[H' + FAKE + f'{ESC}[8m'


def name(cn, o=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, 'VN')]
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def cert(subject, key, issuer, issuer_key, ca, start, end):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(issuer_key, hashes.SHA256()))


def write(path, data):
    open(os.path.join(D, path), 'wb').write(data)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


key = lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
long_ago, later = NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=365)
rk = key()
root = cert(name('Spoofing Root'), rk, name('Spoofing Root'), rk, True, long_ago, later + dt.timedelta(days=3650))
write('root.pem', pem(root))
write('doc.txt', 'Giấy phép xây dựng số 42\n'.encode())


def cms(tag, signer, signer_key, extra=()):
    write(f'{tag}.pem', pem(signer) + b''.join(pem(c) for c in extra))
    write(f'{tag}.key', key_pem(signer_key))
    args = ['openssl', 'cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', 'doc.txt',
            '-signer', f'{tag}.pem', '-inkey', f'{tag}.key', '-outform', 'DER', '-out', f'{tag}.p7s']
    if extra:
        write(f'{tag}-chain.pem', b''.join(pem(c) for c in extra))
        args += ['-certfile', f'{tag}-chain.pem']
    subprocess.run(args, cwd=D, check=True)


# The attacker's own CA, its O the payload: no path to the trusted root, so item 4 (the body
# managing the certificate) is this O.
ek = key()
evil_ca = cert(name('CA cap duoi', PAYLOAD), ek, name('CA cap duoi', PAYLOAD), ek, True, long_ago, later)
sk = key()
cms('escapes', cert(name('Nguyen Van A'), sk, evil_ca.subject, ek, False, long_ago, later), sk, [evil_ca])

# A trusted signer whose CN reads otherwise than it is.
bk = key()
cms('bidi', cert(name('Nguyen Van A\u202enahT nahP\u202c\u200b\u2028x'), bk, root.subject, rk, False,
                 long_ago, later), bk)

# A trusted signer whose certificate expired long ago; the signature claims a time inside it.
xk = key()
expired = cert(name('Tran Thi B'), xk, root.subject, rk, False, NOW - dt.timedelta(days=900),
               NOW - dt.timedelta(days=500))
from pyhanko.sign import signers  # noqa: E402
from asn1crypto import x509 as ax509, keys as akeys  # noqa: E402
s = signers.SimpleSigner(
    signing_cert=ax509.Certificate.load(expired.public_bytes(serialization.Encoding.DER)),
    signing_key=akeys.PrivateKeyInfo.load(xk.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
    cert_registry=None)
import asyncio  # noqa: E402
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes  # noqa: E402
ci = asyncio.run(s.async_sign_general_data(
    open(os.path.join(D, 'doc.txt'), 'rb').read(), 'sha256', detached=True,
    signed_attr_settings=PdfCMSSignedAttributes(signing_time=NOW - dt.timedelta(days=700))))
write('backdated.p7s', ci.dump())

# A PAdES signature by the trusted signer, then an update drawing over the page and adding a
# catalog key whose name is the payload.
pk = key()
ps = cert(name('Le Van C'), pk, root.subject, rk, False, long_ago, later)
write('pades.pem', pem(ps))
write('pades.key', key_pem(pk))
from pyhanko.pdf_utils import generic  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign.fields import SigSeedSubFilter  # noqa: E402
fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'giay-phep.pdf')
signer = signers.SimpleSigner.load(os.path.join(D, 'pades.key'), os.path.join(D, 'pades.pem'),
                                   ca_chain_files=(os.path.join(D, 'root.pem'),))
out = io.BytesIO()
with open(fixture, 'rb') as f:
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Signature1', subfilter=SigSeedSubFilter.PADES),
                      signer=signer).sign_pdf(IncrementalPdfFileWriter(f, strict=False), output=out)
write('signed.pdf', out.getvalue())
w = IncrementalPdfFileWriter(io.BytesIO(out.getvalue()), strict=False)
page_ref = w.root['/Pages']['/Kids'].raw_get(0)
page = page_ref.get_object()
over = w.add_object(generic.StreamObject(stream_data=b'q 1 1 1 rg 0 0 2000 2000 re f Q'))
contents = page.raw_get('/Contents')
page['/Contents'] = generic.ArrayObject(
    (list(contents) if isinstance(contents, generic.ArrayObject) else [contents]) + [over])
w.mark_update(page_ref)
escaped = ''.join(chr(b) if 0x21 <= b <= 0x7e and chr(b) not in '#()<>[]{}/%' else '#%02X' % b
                  for b in PAYLOAD.encode())


class RawName(generic.NameObject):
    def write_to_stream(self, stream, handler=None, container_ref=None):
        stream.write(b'/' + escaped.encode('ascii'))


w.root[RawName('/payload')] = generic.BooleanObject(True)
w.update_root()
out = io.BytesIO()
w.write(out)
write('tampered.pdf', out.getvalue())
