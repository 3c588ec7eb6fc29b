#!/usr/bin/env python3
"""An encryption dictionary where kyso did not look (helper 217, 2026-12-06): kyso refused an
/Encrypt in the file's last trailer only, while PDF readers that rebuild the cross-reference
table take one from elsewhere (MuPDF keeps the last /Encrypt of any dictionary outside an object
or of a /Type /XRef object; Poppler the first trailer naming the catalog; Ghostscript reads an
earlier trailer's even without a rebuild) and decrypt the document with it. A page drawing
"So tien: 100 VND" as written draws "So tien: 900 VND" once RC4-decrypted with the key of an
empty-password Standard handler (each half hidden in a comment of the other). Each forgery was
TOTAL-PASSED by the build before, while MuPDF and Poppler drew 900. Made with pyHanko (the
signatures) and by hand (the rest), nothing of kyso's.

    python3 encrypt_elsewhere.py OUTDIR

OUTDIR gets root.pem; signed.pdf (the control: the 100 VND page, plain, signed);
planted.pdf (the preparer's file: its first trailer names /Encrypt, its newest does not; the
page drawing 100 as written and 900 decrypted), planted-signed.pdf (the same page, the handler
named in a dictionary between objects, which pyHanko signs), planted-final.pdf (two /Info updates after the signature whose /Size are -1, a classic section
MuPDF repairs and a cross-reference stream Poppler rebuilds); outsider.pdf (signed.pdf, then an
update whose trailer names an /Encrypt and a second one whose trailer does not);
negative-size.pdf and indirect-size.pdf (signed.pdf, then an /Info update whose trailer's /Size
is -1, or a reference: MuPDF repairs the file on opening); no-size-stream.pdf (the update's
section a cross-reference stream without /Size: both readers rebuild; helper 218).
"""
import datetime as dt
import hashlib
import io
import os
import re
import struct
import sys
import zlib

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

D = sys.argv[1]
os.makedirs(D, exist_ok=True)
NOW = dt.datetime.now(dt.timezone.utc)


def cert(name, key, issuer, issuer_key, ca):
    return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(issuer_key, hashes.SHA256()))


if not os.path.exists(os.path.join(D, 'root.pem')):
    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'H217 Root')])
    root = cert(rn, rk, rn, rk, True)
    sk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Nguyen Van A')]), sk, rn, rk, False)
    for name, data in [('root.pem', root.public_bytes(serialization.Encoding.PEM)),
                       ('signer.pem', signer.public_bytes(serialization.Encoding.PEM)),
                       ('signer.key', sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))]:
        open(os.path.join(D, name), 'wb').write(data)

ID = b'/ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]'
ID0 = bytes.fromhex('0123456789ABCDEF0123456789ABCDEF')


def build(objs, trailer_extra=b'', stray=b''):
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    offs = {}
    for n in sorted(objs):
        offs[n] = len(out)
        out += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
    out += stray
    size = max(objs) + 1
    x = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % size
    for n in range(1, size):
        out += (b'%010d 00000 n \n' % offs[n]) if n in offs else b'0000000000 00000 f \n'
    out += (b'trailer\n<< /Size %d /Root 1 0 R %s%s >>\nstartxref\n%d\n%%%%EOF\n'
            % (size, trailer_extra, ID, x))
    return bytes(out)


def stream(data):
    return b'<< /Length %d >>\nstream\n' % len(data) + data + b'\nendstream'


def last_xref(pdf):
    return int(re.findall(rb'startxref\s+(\d+)', pdf)[-1])


def append(pdf, objs, trailer):
    """A classic update writing `objs` [(num, body)], with `trailer`'s entries."""
    out = bytearray(pdf)
    offs = {}
    for num, body in objs:
        offs[num] = len(out)
        out += b'%d 0 obj\n' % num + body + b'\nendobj\n'
    x = len(out)
    out += b'xref\n'
    for num in sorted(offs):
        out += b'%d 1\n%010d 00000 n \n' % (num, offs[num])
    out += b'trailer\n<< ' + trailer + b' /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (last_xref(pdf), x)
    return bytes(out)


def append_xref_stream(pdf, objs, trailer, num, size):
    """An update whose section is a cross-reference stream, object `num`, its /Size `size`
    (None: none)."""
    out = bytearray(pdf)
    ent = {}
    for n, body in objs:
        ent[n] = len(out)
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    x = len(out)
    ent[num] = x
    rows = b''.join(b'\x01' + ent[n].to_bytes(4, 'big') + b'\0\0' for n in sorted(ent))
    index = b' '.join(b'%d 1' % n for n in sorted(ent))
    data = zlib.compress(rows)
    size = b'' if size is None else b'/Size ' + size
    out += (b'%d 0 obj\n<< /Type /XRef %s /W [1 4 2] /Index [%s] %s /Prev %d /Length %d '
            b'/Filter /FlateDecode >>\nstream\n' % (num, size, index, trailer, last_xref(pdf), len(data))
            + data + b'\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n' % x)
    return bytes(out)


def sign(pdf):
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Sig1', subfilter=SigSeedSubFilter.PADES),
                      signer=s).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
    return out.getvalue()


# The Standard security handler, revision 2 (RC4, 40 bits), empty user password (ISO 32000-1
# §7.6.3.3, algorithms 2 and 4).
PAD = bytes.fromhex('28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A')


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for c in data:
        i = (i + 1) & 255
        j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        out.append(c ^ s[(s[i] + s[j]) & 255])
    return bytes(out)


def encrypt_dict(o, p):
    key = hashlib.md5(PAD + o + struct.pack('<i', p) + ID0).digest()[:5]
    u = rc4(key, PAD)
    return key, (b'<< /Filter /Standard /V 1 /R 2 /Length 40 /P %d /O <%s> /U <%s> >>'
                 % (p, o.hex().encode(), u.hex().encode()))


def object_key(key, num):
    return hashlib.md5(key + struct.pack('<i', num)[:3] + b'\0\0').digest()[:10]


# Page content 4: "100 VND" as written, "900 VND" decrypted — each half inside a comment of the
# other. The handler's /O is searched for (a few hundred tries) so that both read so.
A = b'BT /F1 16 Tf 60 700 Td (So tien: 100 VND) Tj ET %'
B = b'\nBT /F1 16 Tf 60 700 Td (So tien: 900 VND) Tj ET\n'


def craft(o):
    key, e = encrypt_dict(o, -4)
    k = rc4(object_key(key, 4), b'\0' * (1 + len(A) + len(B)))
    w = bytes([ord('%') ^ k[0]])
    if w not in b' \t\x0c\x00':
        return None
    c = w + A
    if any(x in b'\r\n' for x in bytes(a ^ b for a, b in zip(c, k))[1:]):
        return None
    tail = bytes(a ^ b for a, b in zip(B, k[len(c):]))
    if any(x in b'\r\n' for x in tail):
        return None
    data = c + tail
    if any(word in data for word in (b'obj', b'stream', b'xref', b'trailer', b'EOF')):
        return None
    return e, data


i = 0
while True:
    i += 1
    found = craft(hashlib.md5(b'o%d' % i).digest() * 2)
    if found:
        break
ENCRYPT, CONTENT = found
HELV = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
PAGE = {
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> >>',
    4: stream(b'BT /F1 16 Tf 60 700 Td (So tien: 100 VND) Tj ET'),
    5: HELV,
}


def write(name, data):
    open(os.path.join(D, name), 'wb').write(data)


signed = sign(build(PAGE))
write('signed.pdf', signed)

# The preparer's file: the first trailer names the handler, the newest does not.
planted = build({**PAGE, 4: stream(CONTENT), 10: ENCRYPT}, trailer_extra=b'/Encrypt 10 0 R ')
planted = append(planted, [(11, b'<< /Title (De nghi thanh toan) >>')],
                 b'/Size 12 /Root 1 0 R /Info 11 0 R ' + ID)
write('planted.pdf', planted)
# pyHanko takes the first trailer's /Encrypt too, and will not sign that file; the preparer
# writes the handler in a dictionary between objects instead, which MuPDF's repair takes.
stray = build({**PAGE, 4: stream(CONTENT), 10: ENCRYPT}, stray=b'<< /Encrypt 10 0 R ' + ID + b' >>\n')
ps = sign(stray)
write('planted-signed.pdf', ps)
size = int(re.findall(rb'/Size (\d+)', ps)[-1])
u = append(ps, [(11, b'<< /Title (De nghi thanh toan.) >>')], b'/Size -1 /Root 1 0 R /Info 11 0 R ' + ID)
u = append_xref_stream(u, [(11, b'<< /Title (De nghi thanh toan..) >>')],
                       b'/Root 1 0 R /Info 11 0 R ' + ID, size, b'-1')
write('planted-final.pdf', u)

# An outsider alone: the handler named by one update's trailer, the next one's does not.
size = int(re.findall(rb'/Size (\d+)', signed)[-1])
_, e = encrypt_dict(b'\x11' * 32, -4)
u = append(signed, [(size, e)], b'/Size %d /Root 1 0 R /Encrypt %d 0 R ' % (size + 1, size) + ID)
u = append(u, [(size + 1, b'<< /Title (x) >>')], b'/Size %d /Root 1 0 R /Info %d 0 R ' % (size + 2, size + 1) + ID)
write('outsider.pdf', u)

# A /Size MuPDF does not take, after the signature: it repairs the file on opening.
for name, given in [('negative-size.pdf', b'-1'), ('indirect-size.pdf', b'%d 0 R' % size)]:
    write(name, append(signed, [(size, b'<< /Title (x) >>')], b'/Size ' + given + b' /Root 1 0 R /Info %d 0 R ' % size + ID))
# A cross-reference stream without /Size after the signature: MuPDF ("xref stream missing Size
# entry") and Poppler rebuild the table on opening (helper 218).
write('no-size-stream.pdf', append_xref_stream(signed, [(size, b'<< /Title (Cap nhat) >>')],
                                               b'/Root 1 0 R /Info %d 0 R ' % size + ID, size + 1, None))
