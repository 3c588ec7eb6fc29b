#!/usr/bin/env python3
"""PDFs whose cost to a validator grew with the square of their size: one shared object read
again for every item that names it, or one long run of bytes read again from every header in
it. Found by an algorithmic-complexity reading of verify/ and pdf/ (helper 200, 2026-12-06),
each measured at two or three sizes in a debug build before the fix. Written by hand (Python)
and signed by pyHanko, nothing of kyso's.

    python3 quadratic.py OUTDIR

OUTDIR gets root.pem and:
  kids-array.pdf     1,000 form fields whose /Kids all name one array of 200,000 integers: the
                     field tree re-read the array for every field (verification, and signing,
                     which has no time limit); unsigned.
  page-annots.pdf    1,000 pages whose /Annots all name one array of 100,000 integers, signed,
                     then an /Info update: the structure walk re-read it for every page.
  type-ref.pdf       1,000 unused dictionaries whose /Type names one array of 100,000
                     integers, signed, then an /Info update: the scan of object headers
                     resolved it for every header.
  form-parent.pdf    a text field of 10,000 kids (its /Kids inline), signed, then one kid filled:
                     each kid's /Parent chain re-read the parent.
  lock-names.pdf     a signature field locking 400,000 names (/Include), 4,000 text fields,
                     signed by pyHanko, then every field filled: each field looked through
                     every name.
  endstreams.pdf     one unused stream whose data holds 80,000 `999 0 obj<<>>stream` lines and
                     8 MB more, signed, then an /Info update: each such header searched for
                     `endstream` to the stream's end.
  hidden-byterange.pdf  999 headers each opening a string and naming /ByteRange, before 4 MB
                     of one string; unsigned: the search for signatures no field shows read
                     the whole string from each header.

And, from a reading of signing for what grew unchecked (helper 209, 2026-12-06), each unsigned
(for `kyso sign`) and as NAME-s.pdf signed then updated (for verification):
  long-line.pdf      a stream of one 4.8 MB line of `x obj `: the search for a comment before
                     each odd header read the line from its start.
  comment-line.pdf   a 160 KB line, then a comment line of 26,000 `x obj `: each went back over
                     the long line.
  poppler-names.pdf  `/Linearized 1 /L#0/L#0/…` (40,000), and the file's own length as digits:
                     every name, read as Poppler reads `#0/`, ran to the run's end.
  objstm-ints.pdf    two object streams (without /Type), each one array of 33 million `0 `
                     (64 MiB inflated from 64 KB), that the catalog names: 3.2 GB of objects.

And from a third sweep (helper 213, 2026-12-06), the same way:
  spaces.pdf         `1`, 200,000 spaces, `0`, then a comment line of `obj` keywords: the
                     spaces walked again for each.
  l-comments.pdf     `/Linearized 1` and 60,000 `/L%` on one line (and the file's length): each
                     /L skipped its comment to the line's end.
  byterange-window.pdf  a 1 MiB line, then 998 `/ByteRange` names: each searched back 1 MiB
                     byte by byte for an object's header.
  one-line-s.pdf     20,000 objects the catalog uses, written on one line, signed, then an
                     /Info update: each walked back to the line's start.
  nested-listed-s.pdf  16,000 headers nested in one another's strings in the signed bytes, each
                     listed by the update after the signature: each read to the end of the nest.
"""
import datetime as dt
import io
import os
import re
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

D = sys.argv[1]
os.makedirs(D, exist_ok=True)
NOW = dt.datetime.now(dt.timezone.utc)
IDS = b'/ID [<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]'


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


rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Quadratic Root')])
root = cert(rn, rk, rn, rk, True)
sk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
signer = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Nguyen Van A')]), sk, rn, rk, False)
for name, data in [('root.pem', root.public_bytes(serialization.Encoding.PEM)),
                   ('signer.pem', signer.public_bytes(serialization.Encoding.PEM)),
                   ('signer.key', sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))]:
    open(os.path.join(D, name), 'wb').write(data)


def build(objs, trailer=b''):
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    offs = {}
    for n in sorted(objs):
        offs[n] = len(out)
        out += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
    size = max(objs) + 1
    x = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % size
    for n in range(1, size):
        out += (b'%010d 00000 n \n' % offs[n]) if n in offs else b'0000000000 00000 f \n'
    out += b'trailer\n<< /Size %d /Root 1 0 R %s %s >>\nstartxref\n%d\n%%%%EOF\n' % (size, IDS, trailer, x)
    return bytes(out)


def sign(pdf):
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Sig1', subfilter=SigSeedSubFilter.PADES),
                      signer=s).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
    return out.getvalue()


def update(pdf, objs, trailer=b''):
    """A classic incremental update writing `objs` [(num, body)]."""
    out = bytearray(pdf)
    offs = {}
    for num, body in objs:
        offs[num] = len(out)
        out += b'%d 0 obj\n' % num + body + b'\nendobj\n'
    prev = int(re.findall(rb'startxref\s+(\d+)', pdf)[-1])
    size = max([int(re.findall(rb'/Size (\d+)', pdf)[-1])] + [n + 1 for n in offs])
    x = len(out)
    out += b'xref\n'
    for n in sorted(offs):
        out += b'%d 1\n%010d 00000 n \n' % (n, offs[n])
    out += b'trailer\n<< /Size %d /Root 1 0 R /Prev %d %s %s >>\nstartxref\n%d\n%%%%EOF\n' % (
        size, prev, IDS, trailer, x)
    return bytes(out)


def save(name, data):
    open(os.path.join(D, name), 'wb').write(data)


PAGE = b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>'
PAGES = b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'


def info_update(objs):
    """Signed, then an /Info update, so that the signature's later revisions are judged."""
    objs[8] = b'<< /Producer (x) >>'
    return update(sign(build(objs, b'/Info 8 0 R')), [(8, b'<< /Producer (y) >>')], b'/Info 8 0 R')


# kids-array
N, M = 1000, 200000
objs = {1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 4 0 R >> >>', 2: PAGES, 3: PAGE,
        4: b'[' + b' '.join(b'%d 0 R' % (10 + i) for i in range(N)) + b']',
        5: b'[' + b'0 ' * M + b']'}
for i in range(N):
    objs[10 + i] = b'<< /T (f%d) /Kids 5 0 R >>' % i
save('kids-array.pdf', build(objs))

# page-annots
N, M = 1000, 100000
objs = {1: b'<< /Type /Catalog /Pages 2 0 R >>',
        2: b'<< /Type /Pages /Kids [' + b' '.join(b'%d 0 R' % (10 + i) for i in range(N)) + b'] /Count %d >>' % N,
        7: b'[' + b'0 ' * M + b']'}
for i in range(N):
    objs[10 + i] = b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots 7 0 R >>'
save('page-annots.pdf', info_update(objs))

# type-ref
N, M = 1000, 100000
objs = {1: b'<< /Type /Catalog /Pages 2 0 R >>', 2: PAGES, 3: PAGE, 5: b'[' + b'0 ' * M + b']'}
for i in range(N):
    objs[10 + i] = b'<< /Type 5 0 R >>'
save('type-ref.pdf', info_update(objs))

# form-parent
N = 10000
kids = list(range(10, 10 + N))
objs = {1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /DA (/Helv 0 Tf 0 g) >> >>',
        2: PAGES, 3: PAGE,
        4: b'<< /T (table) /FT /Tx /Kids [' + b' '.join(b'%d 0 R' % k for k in kids) + b'] >>'}
for k in kids:
    objs[k] = b'<< /T (k%d) /Parent 4 0 R /V (a) >>' % k
save('form-parent.pdf', update(sign(build(objs)), [(kids[0], b'<< /T (k%d) /Parent 4 0 R /V (b) >>' % kids[0])]))

# lock-names
C, L = 4000, 400000
fields = list(range(20, 20 + C))
objs = {1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R ' + b' '.join(b'%d 0 R' % f for f in fields)
           + b'] /DA (/Helv 0 Tf 0 g) >> >>',
        2: PAGES,
        3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R] >>',
        4: b'<< /FT /Sig /T (Sig1) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /F 2 /P 3 0 R /Lock 5 0 R >>',
        5: b'<< /Type /SigFieldLock /Action /Include /Fields [' + b'(z) ' * L + b'] >>'}
for f in fields:
    objs[f] = b'<< /FT /Tx /T (f%d) /V (a) >>' % f
save('lock-names.pdf', update(sign(build(objs)), [(f, b'<< /FT /Tx /T (f%d) /V (b) >>' % f) for f in fields]))

# endstreams
data = b'999 0 obj<<>>stream\n' * 80000 + b'%' * 8000000
objs = {1: b'<< /Type /Catalog /Pages 2 0 R >>', 2: PAGES, 3: PAGE,
        5: b'<< /Length %d >>\nstream\n' % len(data) + data + b'\nendstream'}
save('endstreams.pdf', info_update(objs))

# hidden-byterange
H, F = 999, 4000000
objs = {1: b'<< /Type /Catalog /Pages 2 0 R >>', 2: PAGES, 3: PAGE,
        4: b'(' + b'9 0 obj << /X ( /ByteRange ' * H + b'a' * F + b')' * (H + 1)}
save('hidden-byterange.pdf', build(objs))


# Helper 209's. Each unsigned, and signed then updated (NAME-s.pdf).
def both(name, objs, own_length=False):
    if own_length:
        # The file holds its length as digits (what the signer's linearization check needs).
        objs[6] = b'(0000000000)'
        first = build(objs)
        objs[6] = b'(%010d)' % len(first)
        pdf = build(objs)
        assert len(pdf) == len(first)
        save(name + '.pdf', pdf)
    else:
        save(name + '.pdf', build(objs))
    save(name + '-s.pdf', info_update(dict(objs)))


def stream(data, extra=b''):
    return b'<< /Length %d %s>>\nstream\n' % (len(data), extra) + data + b'\nendstream'


CAT = b'<< /Type /Catalog /Pages 2 0 R >>'
both('long-line', {1: CAT, 2: PAGES, 3: PAGE, 5: stream(b'x obj ' * 800000)})
both('comment-line', {1: CAT, 2: PAGES, 3: PAGE, 5: stream(b'A' * 160000 + b'\n%' + b'x obj ' * 26000)})
both('poppler-names', {1: CAT, 2: PAGES, 3: PAGE, 5: stream(b'/Linearized 1 /' + b'L#0/' * 40000)},
     own_length=True)

# objstm-ints: written with a cross-reference stream (the members are type-2 entries).
import zlib
K = 2
objs = {1: b'<< /Type /Catalog /Pages 2 0 R /X [%s] >>' % b' '.join(b'%d 0 R' % (100 + s) for s in range(K)),
        2: PAGES, 3: PAGE}
members = {}
for s in range(K):
    c = zlib.compressobj(9)
    block = b'0 ' * (1 << 16)
    body = c.compress(b'%d 0 ' % (100 + s)) + c.compress(b' ' * (16 - len(b'%d 0 ' % (100 + s))))
    body += c.compress(b'[') + b''.join(c.compress(block) for _ in range(511)) + c.compress(b']') + c.flush()
    # (No /Type /ObjStm: kyso reads /N and /First alone, and the file then holds no `Stm` for
    # the header scan to decode the streams early and spend the budget twice.)
    objs[10 + s] = b'<< /N 1 /First 16 /Filter /FlateDecode /Length %d >>\nstream\n' % len(body) + body + b'\nendstream'
    members[100 + s] = 10 + s
pdf = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
offs = {}
for num in sorted(objs):
    offs[num] = len(pdf)
    pdf += b'%d 0 obj\n' % num + objs[num] + b'\nendobj\n'
xnum = 100 + K
offs[xnum] = len(pdf)
rows = bytearray()
for num in range(xnum + 1):
    if num in offs:
        rows += bytes([1]) + offs[num].to_bytes(4, 'big') + bytes(2)
    elif num in members:
        rows += bytes([2]) + members[num].to_bytes(4, 'big') + bytes(2)
    else:
        rows += bytes([0]) + bytes(4) + b'\xff\xff'
x = zlib.compress(bytes(rows))
pdf += (b'%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s /Filter /FlateDecode /Length %d >>\nstream\n'
        % (xnum, xnum + 1, IDS, len(x)) + x + b'\nendstream\nendobj\n')
pdf += b'startxref\n%d\n%%%%EOF\n' % offs[xnum]
save('objstm-ints.pdf', bytes(pdf))
save('objstm-ints-s.pdf', sign(bytes(pdf)))


# Helper 213's.
both('spaces', {1: CAT, 2: PAGES, 3: PAGE, 5: stream(b'\n1' + b' ' * 200000 + b'0\n%' + b'obj ' * 100000 + b'\n')})
both('l-comments', {1: CAT, 2: PAGES, 3: PAGE, 5: stream(b'/Linearized 1 ' + b'/L%' * 60000 + b'\n')},
     own_length=True)
both('byterange-window', {1: CAT, 2: PAGES, 3: PAGE, 5: stream(b'A' * 1048576 + b'\n' + b'/ByteRange ' * 998)})

N = 20000
nums = list(range(10, 10 + N))
objs = {1: b'<< /Type /Catalog /Pages 2 0 R /X [' + b' '.join(b'%d 0 R' % n for n in nums) + b'] >>',
        2: PAGES, 3: PAGE, 8: b'<< /Producer (x) >>'}
out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
offs = {}
for n in sorted(objs):
    offs[n] = len(out)
    out += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
for n in nums:
    offs[n] = len(out)
    out += b'%d 0 obj 0 endobj ' % n
out += b'\n'
size = max(offs) + 1
x = len(out)
out += b'xref\n0 %d\n0000000000 65535 f \n' % size
for n in range(1, size):
    out += (b'%010d 00000 n \n' % offs[n]) if n in offs else b'0000000000 00000 f \n'
out += b'trailer\n<< /Size %d /Root 1 0 R /Info 8 0 R %s >>\nstartxref\n%d\n%%%%EOF\n' % (size, IDS, x)
save('one-line-s.pdf', update(sign(bytes(out)), [(8, b'<< /Producer (y) >>')], b'/Info 8 0 R'))

N, B = 16000, 100000
data = b''.join(b'(%d 0 obj ' % (B + k) for k in range(N)) + b'(x)' + b' endobj)' * N
signed = sign(build({1: CAT, 2: PAGES, 3: PAGE, 5: stream(data), 8: b'<< /Producer (x) >>'}, b'/Info 8 0 R'))
out = bytearray(signed)
offs = {B + k: signed.index(b'(%d 0 obj ' % (B + k)) + 1 for k in range(N)}
offs[8] = len(out)
out += b'8 0 obj\n<< /Producer (y) >>\nendobj\n'
prev = int(re.findall(rb'startxref\s+(\d+)', signed)[-1])
x = len(out)
out += b'xref\n' + b''.join(b'%d 1\n%010d 00000 n \n' % (n, offs[n]) for n in sorted(offs))
out += b'trailer\n<< /Size %d /Root 1 0 R /Prev %d %s /Info 8 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (
    B + N, prev, IDS, x)
save('nested-listed-s.pdf', bytes(out))
