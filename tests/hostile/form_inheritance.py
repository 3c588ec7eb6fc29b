#!/usr/bin/env python3
"""Forms that kyso read otherwise than PDF readers do, for tests/verify_cli.rs -- documents
written by this script, signed by pyHanko with a CA made by pyca/cryptography, nothing of
kyso's (found by an attacker's reading of form fields, 2026-12-02; each final file was
TOTAL-PASSED by the release before while Poppler or MuPDF showed another value; each
"-signed.pdf" is the signed revision alone):

    python3 form_inheritance.py DIR

    DIR/needapp-indirect-font.pdf   /NeedAppearances given as `10 0 R` (10 being `true`):
                                    Poppler redraws the fields; after signing a form font's
                                    /Differences turn "100 VND" into "900 VND" ("00 VND")
    DIR/needapp-indirect-da.pdf     the same, the form's /DA turned white
    DIR/kids-sig-parent-tx-font.pdf a text field under a signature field's /Kids whose /Parent
                                    is a text field (readers inherit /FT up /Parent): the
                                    form font swapped after signing
    DIR/kids-sig-parent-tx-da.pdf   the same, the form's /DA turned white
    DIR/lock-shared-kids.pdf        a certification (P=2) locking "x.amount"; the field is a
                                    kid of both "a" and "x", its /Parent "x": its value changed
    DIR/lock-parent-only.pdf        the same lock; the field no /Kids lists, reached as a
                                    widget's /Parent only: its value changed
    DIR/noview-print.pdf            an unsigned signature widget added after signing with /F 36
                                    (Print | NoView): hidden on screen, printed over the page
    DIR/freetext-font.pdf           a free-text annotation without an appearance (Poppler draws
                                    it with the form's /DR font), the font swapped after signing

  found reading the fixes (each TOTAL-PASSED by the build before):
    DIR/ft-indirect-font.pdf        case 2 with the text field's /FT given by reference
    DIR/orphan-widget-font.pdf      a text widget without an appearance no /Fields array reaches
    DIR/freetext-subtype-indirect-font.pdf
                                    freetext-font with /Subtype given by reference
    DIR/dr-font-added.pdf           a field's /DA names a font /DR lacks; the font is added after
                                    signing (readers drew with a fallback font before)
    DIR/lock-indirect-t.pdf, lock-shared-kids-no-parent.pdf, lock-deep.pdf
                                    a lock on "x.amount" (or a 39-level name): the partial name
                                    by reference, a kid of two fields without /Parent, a field
                                    deeper than kyso walks
    DIR/sig-parent-loop.pdf         an empty signature field whose /Parent is itself, certified
                                    P=2, given a signature-like appearance afterwards
    DIR/unreadable-resources-font.pdf, unreadable-widget-da.pdf, lock-unreadable-parent.pdf
                                    a page's /Resources, a widget, a locked field's parent
                                    holding a key twice (kyso cannot read them; readers take the
                                    last): a font swapped, /DA turned white, a locked value
                                    changed (certified P=3)

  found reading the fixes for other tools' updates (2026-12-03; the first and the last two were
  TOTAL-PASSED by the builds before, needapp-objstm-order by one of them):
    DIR/needapp-generation.pdf      /NeedAppearances added as `N 1 R`, N `true` in an object
                                    stream (Poppler ignores generations there): the field
                                    redrawn from /V "DONG Y" over the "KHONG DONG Y" signed
    DIR/needapp-objstm-order.pdf    the preparer's `true` rewritten as a reference into an object
                                    stream whose offsets decrease (Poppler reads none of it)
    DIR/parent-da-locked-kid.pdf    a P=2 certification locking "grp.amount"; the parent "grp"
                                    gets a /DA drawing "999,999,999 VND" in the locked kid
    DIR/ff-real-locked.pdf          a locked combo box's /Ff written 131072.0 (Poppler draws a
                                    list box)

  found reading those fixes (2026-12-03; each TOTAL-PASSED by the build before):
    DIR/parent-da-untitled-node.pdf, parent-da-parent-only.pdf
                                    the parent's /DA reaching the locked kid through a node
                                    without /T, or by the kid's /Parent only
    DIR/differences-real.pdf        a page font's /Differences code 57 written 57.0 ("900 VND")
    DIR/annots-generation.pdf       a page's new /Annots `50 1 R` (MuPDF ignores generations)
                                    painting "900 VND"
  and reading those (each TOTAL-PASSED by every build before):
    DIR/function-size-real.pdf      a shading function's /Size [2] written [2.0] (P=1)
    DIR/colour-key-real.pdf         an image's colour-key /Mask written with reals (P=1)
    DIR/direct-parent.pdf           a locked widget inheriting /V from "note" through a /Parent
                                    written as a direct dictionary; "note" filled
    DIR/inherit-shared-chain.pdf, inherit-deep-chain.pdf, inherit-kid-parent.pdf
                                    the same through a chain shared with a longer one, a chain
                                    33 nodes deep, an untitled kid of "amount" whose /Parent is
                                    "note" (a fifth reading)

  found reading what permitted changes draw (2026-12-03):
    DIR/square-in-fields.pdf        a Square annotation (no widget) that /Fields also lists,
                                    certified P=2, given an appearance "900 VND" over the
                                    amount after certifying (kyso judged it as form filling)
    DIR/forward-value.pdf           an empty signature field over the amount given an
                                    appearance "900 VND" and a /V naming the object number the
                                    next signature's dictionary takes, by an update without a
                                    signature; then pyHanko signs another field ("Seal")
    DIR/empty-field-signed.pdf      the same empty field signed visibly by pyHanko: passes,
                                    with a note that the later signature drew there
    DIR/read-only-filled.pdf        a read-only text field ("so_tien", /Ff 1 on its parent)
                                    filled "900 VND" after a P=2 certification (no viewer fills
                                    it); push-button-redrawn.pdf: a push button over the amount,
                                    its empty appearance replaced by "900 VND"
    DIR/widget-ff-shadow.pdf        the read-only field again, its widget (no /T) carrying a
                                    /Ff 0 of its own (Poppler reads only the field's), only the
                                    widget's appearance replaced

DIR/root.pem is the anchor to trust.
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


rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Form Inheritance Root')])
root = cert(rn, rk, rn, rk, True)
sk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
signer_cert = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Nguyen Van A')]), sk, rn, rk, False)
for name, data in [
    ('root.pem', root.public_bytes(serialization.Encoding.PEM)),
    ('signer.pem', signer_cert.public_bytes(serialization.Encoding.PEM)),
    ('signer.key', sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())),
]:
    open(os.path.join(D, name), 'wb').write(data)

IDS = b'/ID [<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]'
HELV = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'


def build(objs):
    """A one-revision PDF of these objects (number -> body), object 1 the catalog."""
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
    out += b'trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n' % (size, IDS, x)
    return bytes(out)


def stream(data, extra=b''):
    return b'<< /Length %d %s>>\nstream\n' % (len(data), extra) + data + b'\nendstream'


def last_xref(pdf):
    return (int(re.findall(rb'startxref\s+(\d+)', pdf)[-1]),
            int(re.findall(rb'/Size (\d+)', pdf)[-1]))


def update(pdf, objs):
    """An incremental update with a classic xref table listing these objects."""
    prev, size = last_xref(pdf)
    out = bytearray(pdf)
    offs = {}
    for n in sorted(objs):
        offs[n] = len(out)
        out += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
    x = len(out)
    out += b'xref\n'
    for n in sorted(offs):
        out += b'%d 1\n%010d 00000 n \n' % (n, offs[n])
    out += b'trailer\n<< /Size %d /Root 1 0 R /Prev %d %s >>\nstartxref\n%d\n%%%%EOF\n' % (
        max(size, max(objs) + 1), prev, IDS, x)
    return bytes(out)


def raw(pdf, n):
    return re.findall(rb'\n%d 0 obj\s*(.*?)\s*endobj' % n, pdf, re.S)[-1]


def sign(pdf, field='Sig1', certify=None, lock=None):
    """pyHanko signs (a certification with DocMDP P=`certify`, a FieldMDP `lock` of
    (action, names) on a new field, when given)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if lock is not None:
        fields.append_signature_field(w, fields.SigFieldSpec(field, field_mdp_spec=fields.FieldMDPSpec(
            fields.FieldMDPAction.INCLUDE, lock)))
    kw = {}
    if certify:
        kw = dict(certify=True, docmdp_permissions={1: MDPPerm.NO_CHANGES, 2: MDPPerm.FILL_FORMS, 3: MDPPerm.ANNOTATE}[certify])
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES, **kw),
                      signer=s).sign_pdf(w, output=out)
    return out.getvalue()


def save(name, signed, final):
    open(os.path.join(D, name + '-signed.pdf'), 'wb').write(signed)
    open(os.path.join(D, name + '.pdf'), 'wb').write(final)


def type3_font(first):
    """A Type 3 font whose glyph for "1" draws a "9" (its glyph procedures objects `first`...)."""
    glyphs = [(48, b'zero', b'0'), (49, b'one', b'9'), (32, b'space', b' '), (86, b'V', b'V'),
              (78, b'N', b'N'), (68, b'D', b'D')]
    objs = {first + i: stream(b'600 0 0 -200 600 800 d1 BT /H 1000 Tf 0 0 Td (' + ch + b') Tj ET')
            for i, (_, _, ch) in enumerate(glyphs)}
    procs = b' '.join(b'/%s %d 0 R' % (g, first + i) for i, (_, g, _) in enumerate(glyphs))
    diffs = b' '.join(b'%d /%s' % (c, g) for c, g, _ in glyphs)
    font = (b'<< /Type /Font /Subtype /Type3 /FontBBox [0 -200 1000 800] /FontMatrix [0.001 0 0 0.001 0 0] '
            b'/CharProcs << ' + procs + b' >> /Encoding << /Type /Encoding /Differences [' + diffs + b'] >> '
            b'/FirstChar 32 /LastChar 86 /Widths [' + b' '.join(b'600' for _ in range(32, 87)) + b'] '
            b'/Resources << /Font << /H 9 0 R >> >> >>')
    return font, objs


def appearance(text):
    return stream(b'/Tx BMC BT /H2 14 Tf 0 g 2 8 Td (' + text + b') Tj ET EMC',
                  b'/Type /XObject /Subtype /Form /BBox [0 0 350 30] /Resources << /Font << /H2 9 0 R >> >> ')


PAGE = {
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
       b'/Resources << /Font << /F1 9 0 R >> >> /Annots [%s] >>',
    4: stream(b'BT /F1 14 Tf 50 750 Td (Payment order. Amount:) Tj ET'),
    7: HELV,
    9: HELV,
}


def page(annots, **objs):
    out = dict(PAGE)
    out[3] = PAGE[3] % annots
    out.update({int(k[1:]): v for k, v in objs.items()})
    return out


def fonts_swapped(signed):
    """After signing, the form's /Helv (object 7) becomes the Type 3 font."""
    font, glyphs = type3_font(last_xref(signed)[1])
    glyphs[7] = font
    return update(signed, glyphs)


# 1. /NeedAppearances given indirectly. pyHanko removes /NeedAppearances when it signs; kyso's
#    own signer and others leave it: sign as they do.
from pyhanko.pdf_utils import generic
from pyhanko.sign.signers import cms_embedder


def keep_need_appearances(writer, lock_sig_flags=True):
    form = writer.root['/AcroForm']
    if form.get('/SigFlags') != 3:
        form['/SigFlags'] = generic.NumberObject(3)
        writer.update_container(form)


pyhanko_ensure = cms_embedder.ensure_sig_flags
cms_embedder.ensure_sig_flags = keep_need_appearances
signed = sign(build(page(b'5 0 R',
    o1=b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /DR << /Font << /Helv 7 0 R >> >> '
       b'/DA (/Helv 14 Tf 0 g) /NeedAppearances 10 0 R >> >>',
    o5=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) /Rect [50 700 400 730] /F 4 '
       b'/P 3 0 R /AP << /N 6 0 R >> >>',
    o6=appearance(b'100 VND'),
    o10=b'true')))
cms_embedder.ensure_sig_flags = pyhanko_ensure
save('needapp-indirect-font', signed, update(signed, {
    7: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding '
       b'/BaseEncoding /WinAnsiEncoding /Differences [49 /nine] >> >>'}))
save('needapp-indirect-da', signed, update(signed, {1: raw(signed, 1).replace(b'14 Tf 0 g)', b'14 Tf 1 g)')}))

# 2. A text field kyso took for a signature: under a signature field's /Kids, its /Parent a
#    text field.
signed = sign(build(page(b'12 0 R',
    o1=b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
    o6=b'<< /Fields [10 0 R] /DR << /Font << /Helv 7 0 R >> >> /DA (/Helv 14 Tf 0 g) >>',
    o10=b'<< /FT /Sig /T (grp) /Kids [11 0 R] >>',
    o11=b'<< /T (amount) /V (100 VND) /Parent 13 0 R /Kids [12 0 R] >>',
    o12=b'<< /Type /Annot /Subtype /Widget /Rect [50 700 400 730] /F 4 /P 3 0 R /Parent 11 0 R >>',
    o13=b'<< /FT /Tx /T (grp) /Kids [11 0 R] >>')))
save('kids-sig-parent-tx-font', signed, fonts_swapped(signed))
save('kids-sig-parent-tx-da', signed, update(signed, {6: raw(signed, 6).replace(b'14 Tf 0 g)', b'14 Tf 1 g)')}))

# 3. A FieldMDP lock on "x.amount", the field named so up its /Parent chain only.
for name, objs in [
    ('lock-shared-kids', dict(
        o6=b'<< /Fields [10 0 R 11 0 R] /DR << /Font << /Helv 7 0 R >> >> /DA (/Helv 14 Tf 0 g) >>',
        o10=b'<< /T (a) /Kids [12 0 R] >>',
        o11=b'<< /T (x) /Kids [12 0 R] >>',
        o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) /Parent 11 0 R '
            b'/Rect [50 700 400 730] /F 4 /P 3 0 R /AP << /N 15 0 R >> >>')),
    ('lock-parent-only', dict(
        o6=b'<< /Fields [11 0 R] /DR << /Font << /Helv 7 0 R >> >> /DA (/Helv 14 Tf 0 g) >>',
        o11=b'<< /T (x) /Kids [12 0 R] >>',
        o12=b'<< /Type /Annot /Subtype /Widget /Parent 13 0 R /Rect [50 700 400 730] /F 4 /P 3 0 R '
            b'/AP << /N 15 0 R >> >>',
        o13=b'<< /FT /Tx /T (amount) /V (100 VND) /Parent 11 0 R /Kids [12 0 R] >>')),
]:
    signed = sign(build(page(b'12 0 R', o1=b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
                             o15=appearance(b'100 VND'), **objs)),
                  field='Cert', certify=2, lock=['x.amount'])
    size = last_xref(signed)[1]
    valued = 12 if name == 'lock-shared-kids' else 13
    changed = {valued: raw(signed, valued).replace(b'/V (100 VND)', b'/V (999,999,999 VND)'),
               size: appearance(b'999,999,999 VND')}
    changed[12] = changed.get(12, raw(signed, 12)).replace(b'/N 15 0 R', b'/N %d 0 R' % size)
    save(name, signed, update(signed, changed))

# 4. An unsigned signature widget added after signing, /F 36: printed over the page.
signed = sign(build({
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> >>',
    4: stream(b'BT /F1 16 Tf 60 700 Td (Ket qua: KHONG DAT) Tj ET'),
    5: HELV}))
size = last_xref(signed)[1]
pg = raw(signed, 3)
form = int(re.search(rb'/AcroForm\s*(\d+) 0 R', raw(signed, 1)).group(1))
w, f, ap = size, size + 1, size + 2
save('noview-print', signed, update(signed, {
    w: b'<< /Type /Annot /Subtype /Widget /Rect [40 680 560 730] /F 36 /P 3 0 R /Parent %d 0 R '
       b'/AP << /N %d 0 R >> >>' % (f, ap),
    f: b'<< /FT /Sig /T (Sig2) /Kids [%d 0 R] >>' % w,
    ap: stream(b'1 g 0 0 520 50 re f BT 0 g /F1 16 Tf 20 20 Td (Ket qua: DAT - da duyet) Tj ET',
               b'/Type /XObject /Subtype /Form /BBox [0 0 520 50] /Resources << /Font << /F1 5 0 R >> >> '),
    3: (re.sub(rb'/Annots\s*\[(.*?)\]', lambda m: b'/Annots [' + m.group(1) + b' %d 0 R]' % w, pg, flags=re.S)
        if b'/Annots' in pg else pg.rstrip()[:-2] + b' /Annots [%d 0 R] >>' % w),
    form: re.sub(rb'/Fields\s*\[(.*?)\]', lambda m: b'/Fields [' + m.group(1) + b' %d 0 R]' % f,
                 raw(signed, form), flags=re.S)}))

# 5. A free-text annotation without an appearance, drawn with the form's /DR font.
signed = sign(build(page(b'12 0 R',
    o1=b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
    o6=b'<< /Fields [] /DR << /Font << /Helv 7 0 R >> >> /DA (/Helv 14 Tf 0 g) >>',
    o12=b'<< /Type /Annot /Subtype /FreeText /Rect [50 700 400 730] /F 4 /P 3 0 R /Contents (100 VND) '
        b'/DA (/Helv 14 Tf 0 g) >>')))
save('freetext-font', signed, fonts_swapped(signed))

# Found reading the fixes of the above (2026-12-02), each TOTAL-PASSED by the build before.


def value_changed(signed, valued):
    """After signing, field object `valued` says 999,999,999 VND and widget 12 shows it."""
    size = last_xref(signed)[1]
    changed = {valued: raw(signed, valued).replace(b'/V (100 VND)', b'/V (999,999,999 VND)'),
               size: appearance(b'999,999,999 VND')}
    changed[12] = changed.get(12, raw(signed, 12)).replace(b'/N 15 0 R', b'/N %d 0 R' % size)
    return update(signed, changed)


FORM = b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>'
DEFAULTS = b'<< /Fields [%s] /DR << /Font << /Helv 7 0 R >> >> /DA (/Helv 14 Tf 0 g) >>'
# 6. /FT given by reference (14 is /Tx) under a signature field: readers resolve it.
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'10 0 R',
    o10=b'<< /FT /Sig /T (grp) /Kids [11 0 R] >>',
    o11=b'<< /T (amount) /FT 14 0 R /V (100 VND) /Parent 10 0 R /Kids [12 0 R] >>',
    o12=b'<< /Type /Annot /Subtype /Widget /Rect [50 700 400 730] /F 4 /P 3 0 R /Parent 11 0 R >>',
    o14=b'/Tx')))
save('ft-indirect-font', signed, fonts_swapped(signed))
# 7. A text widget on the page that no /Fields array reaches, without an appearance.
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'',
    o12=b'<< /Type /Annot /Subtype /Widget /Rect [50 700 400 730] /F 4 /P 3 0 R /Parent 13 0 R >>',
    o13=b'<< /FT /Tx /T (amount) /V (100 VND) /Kids [12 0 R] >>')))
save('orphan-widget-font', signed, fonts_swapped(signed))
# 8. A free-text annotation whose /Subtype is given by reference (13 is /FreeText).
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'',
    o12=b'<< /Type /Annot /Subtype 13 0 R /Rect [50 700 400 730] /F 4 /P 3 0 R /Contents (100 VND) '
        b'/DA (/Helv 14 Tf 0 g) >>',
    o13=b'/FreeText')))
save('freetext-subtype-indirect-font', signed, fonts_swapped(signed))
# 9. A /DA naming a font /DR lacks (readers fall back to another); the font added after signing.
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'12 0 R',
    o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) /Rect [50 700 400 730] '
        b'/F 4 /P 3 0 R /DA (/Foo 14 Tf 0 g) >>')))
size = last_xref(signed)[1]
font, added = type3_font(size + 1)
added[size] = font
added[6] = raw(signed, 6).replace(b'/Helv 7 0 R', b'/Helv 7 0 R /Foo %d 0 R' % size)
save('dr-font-added', signed, update(signed, added))
# 10. Locks on "x.amount" the field is named so otherwise: its partial name by reference, a kid
#     of "a" and "x" without /Parent, 39 levels deep (past what kyso walks).
for name, objs, lock, valued in [
    ('lock-indirect-t', dict(o6=DEFAULTS % b'11 0 R', o11=b'<< /T (x) /Kids [12 0 R] >>',
        o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T 14 0 R /V (100 VND) /Parent 11 0 R '
            b'/Rect [50 700 400 730] /F 4 /P 3 0 R /AP << /N 15 0 R >> >>',
        o14=b'(amount)'), 'x.amount', 12),
    ('lock-shared-kids-no-parent', dict(o6=DEFAULTS % b'10 0 R 11 0 R',
        o10=b'<< /T (a) /Kids [12 0 R] >>', o11=b'<< /T (x) /Kids [12 0 R] >>',
        o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) '
            b'/Rect [50 700 400 730] /F 4 /P 3 0 R /AP << /N 15 0 R >> >>'), 'x.amount', 12),
    ('lock-deep', dict(
        {'o%d' % (20 + i): b'<< /T (g%d) /Kids [%d 0 R]%s >>' % (
            i, 21 + i if i < 38 else 12, b' /Parent %d 0 R' % (19 + i) if i else b'') for i in range(39)},
        o6=DEFAULTS % b'20 0 R',
        o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) /Parent 58 0 R '
            b'/Rect [50 700 400 730] /F 4 /P 3 0 R /AP << /N 15 0 R >> >>'),
     '.'.join('g%d' % i for i in range(39)) + '.amount', 12),
]:
    signed = sign(build(page(b'12 0 R', o1=FORM, o15=appearance(b'100 VND'), **objs)),
                  field='Cert', certify=2, lock=[lock])
    save(name, signed, value_changed(signed, valued))
# 11. An empty signature field whose /Parent names itself, certified P=2, given a signature-like
#     appearance after certifying: still a signature field (kyso's warning), not form filling.
FAKE = stream(b'BT /H2 12 Tf 8 40 Td (Digitally signed by Tran Thi B, Director) Tj ET',
              b'/Type /XObject /Subtype /Form /BBox [0 0 350 60] /Resources << /Font << /H2 9 0 R >> >> ')
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'12 0 R',
    o12=b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Approver) /Parent 12 0 R /Rect [50 600 400 660] '
        b'/F 4 /P 3 0 R /AP << /N 13 0 R >> >>',
    o13=stream(b'', b'/Type /XObject /Subtype /Form /BBox [0 0 350 60] '))), field='Cert', certify=2)
size = last_xref(signed)[1]
save('sig-parent-loop', signed, update(signed, {
    12: raw(signed, 12).replace(b'/N 13 0 R', b'/N %d 0 R' % size), size: FAKE}))

# 12. Objects kyso cannot read (a key given twice with two values; readers take the last): what
#     they refer to was never walked. A page's /Resources so written, its font swapped after
#     signing; a widget so written, the form's /DA turned white; a locked field's parent so
#     written (certified P=3: the widget is then only an annotation to kyso).
signed = sign(build({
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources 5 0 R >>',
    4: stream(b'BT /F1 14 Tf 50 750 Td (Payment order. Amount: 100 VND) Tj ET'),
    5: b'<< /Font << /F1 8 0 R >> /Foo 1 /Foo 2 >>',
    8: HELV, 9: HELV}))
font, glyphs = type3_font(last_xref(signed)[1])
glyphs[8] = font
save('unreadable-resources-font', signed, update(signed, glyphs))
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'12 0 R',
    o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) /Rect [50 700 400 730] '
        b'/F 4 /P 3 0 R /Foo 1 /Foo 2 >>')))
save('unreadable-widget-da', signed, update(signed, {6: raw(signed, 6).replace(b'14 Tf 0 g)', b'14 Tf 1 g)')}))
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'11 0 R', o15=appearance(b'100 VND'),
    o11=b'<< /T (x) /Kids [12 0 R] /Foo 1 /Foo 2 >>',
    o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 VND) /Parent 11 0 R '
        b'/Rect [50 700 400 730] /F 4 /P 3 0 R /AP << /N 15 0 R >> >>')),
    field='Cert', certify=3, lock=['x.amount'])
save('lock-unreadable-parent', signed, value_changed(signed, 12))


# 4. Found reading the fixes for other tools' updates (2026-12-03; each TOTAL-PASSED by the build
#    before while Poppler showed another value).
def update_xs(pdf, objs, members, header=None):
    """An incremental update with a cross-reference stream; `members` (number -> body) go into
    a new object stream, written in the order given with `header` as its index when given."""
    import struct
    prev, size = last_xref(pdf)
    out = bytearray(pdf)
    top = max(list(objs) + list(members) + [size - 1]) + 1
    osn, top = top, top + 1
    entries = {}
    body = b''
    index = b''
    for i, (n, text) in enumerate(members.items()):
        index += b'%d %d ' % (n, len(body))
        body += text + b'\n'
        entries[n] = (2, osn, i)
    if header:
        # The cross-reference entries follow the index as written.
        listed = [int(t) for t in header.split()[0::2]]
        entries.update({n: (2, osn, listed.index(n)) for n in members})
        index = header.ljust(len(index))
    objs = dict(objs)
    objs[osn] = stream(index + body, b'/Type /ObjStm /N %d /First %d ' % (len(members), len(index)))
    for n in sorted(objs):
        entries[n] = (1, len(out), 0)
        out += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
    xs, top = top, top + 1
    x = len(out)
    entries[xs] = (1, x, 0)
    ks = sorted(entries)
    data = b''.join(struct.pack('>BIH', *entries[k]) for k in ks)
    d = (b'<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] /Root 1 0 R /Prev %d %s /Length %d >>'
         % (max(size, top), b' '.join(b'%d 1' % k for k in ks), prev, IDS, len(data)))
    out += b'%d 0 obj\n' % xs + d + b'\nstream\n' + data + b'\nendstream\nendobj\n'
    return bytes(out) + b'startxref\n%d\n%%%%EOF\n' % x


#    /NeedAppearances added as `N 1 R`, N `true` in an object stream (Poppler ignores the
#    generation of objects in object streams and redraws the field from /V "DONG Y"; its stored
#    appearance, which the signer saw, says "KHONG DONG Y").
def stale(need, value, shown):
    """A text field whose /V is `value` while its stored appearance shows `shown`."""
    return page(b'5 0 R', o1=b'<< /Type /Catalog /Pages 2 0 R /AcroForm 8 0 R >>',
                o8=b'<< /Fields [5 0 R] /DR << /Font << /Helv 7 0 R >> >> /DA (/Helv 14 Tf 0 g)%s >>' % need,
                o5=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (answer) /V (%s) /Rect [50 700 400 730] '
                   b'/F 4 /P 3 0 R /AP << /N 6 0 R >> >>' % value,
                o6=appearance(shown))


signed = sign(build(stale(b'', b'DONG Y', b'KHONG DONG Y')))
n = last_xref(signed)[1] + 5
save('needapp-generation', signed, update_xs(signed, {
    8: raw(signed, 8).rstrip()[:-2] + b' /NeedAppearances %d 1 R >>' % n}, {n: b'true'}))
#    The preparer's flag `true` (Poppler redraws "KHONG DONG Y" from /V over the stored "DONG
#    Y"), rewritten as a reference into an object stream whose offsets decrease: Poppler reads
#    no member of it, so no flag, and shows the stored appearance.
cms_embedder.ensure_sig_flags = keep_need_appearances
signed = sign(build(stale(b' /NeedAppearances true', b'KHONG DONG Y', b'DONG Y')))
cms_embedder.ensure_sig_flags = pyhanko_ensure
a = last_xref(signed)[1] + 5
save('needapp-objstm-order', signed, update_xs(
    signed, {8: raw(signed, 8).replace(b'/NeedAppearances true', b'/NeedAppearances %d 0 R' % a)},
    {a + 1: b'null', a: b'true'}, header=b'%d 5 %d 0 ' % (a, a + 1)))
#    A P=2 certification locking "grp.amount"; the parent field "grp" (not locked) gets a /DA
#    that draws "999,999,999 VND" and hides the value: its kid inherits it (Poppler draws the
#    fake, MuPDF nothing).
signed = sign(build(page(b'12 0 R 13 0 R', o1=FORM, o6=DEFAULTS % b'10 0 R',
    o10=b'<< /FT /Tx /T (grp) /DA (/Helv 14 Tf 0 g) /Kids [12 0 R 13 0 R] >>',
    o12=b'<< /Type /Annot /Subtype /Widget /T (amount) /V (100 VND) /Parent 10 0 R '
        b'/Rect [50 700 400 730] /F 4 /P 3 0 R >>',
    o13=b'<< /Type /Annot /Subtype /Widget /T (note) /Parent 10 0 R /Rect [50 650 400 680] '
        b'/F 4 /P 3 0 R >>')),
    field='Cert', certify=2, lock=['grp.amount'])
save('parent-da-locked-kid', signed, update(signed, {10: raw(signed, 10).replace(
    b'/DA (/Helv 14 Tf 0 g)', b'/DA (/Helv 14 Tf 0 g 2 9 Td (999,999,999 VND) Tj 3 Tr 1 g)')}))
#    A locked combo box's /Ff written as a real (131072.0): Poppler ignores a flag word that is
#    no integer and draws a list box ("APPROVED" selected-looking over "REJECTED").
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'12 0 R',
    o12=b'<< /Type /Annot /Subtype /Widget /FT /Ch /Ff 131072 /T (decision) '
        b'/Opt [(APPROVED) (REJECTED)] /V (REJECTED) /DA (/Helv 14 Tf 0 g) /Rect [50 700 400 722] '
        b'/F 4 /P 3 0 R >>')),
    field='Cert', certify=2, lock=['decision'])
save('ff-real-locked', signed, update(signed, {12: raw(signed, 12).replace(b'/Ff 131072', b'/Ff 131072.0')}))


# 5. Found reading those fixes (2026-12-03; each TOTAL-PASSED by the build before while Poppler
#    or MuPDF showed another value).
FAKE = b'/Helv 14 Tf 0 g 2 9 Td (999,999,999 VND) Tj 3 Tr 1 g'
#    The parent "grp" reaches the locked "amount" through a node without /T.
signed = sign(build(page(b'12 0 R 13 0 R', o1=FORM, o6=DEFAULTS % b'10 0 R',
    o10=b'<< /FT /Tx /T (grp) /DA (/Helv 14 Tf 0 g) /Kids [11 0 R 13 0 R] >>',
    o11=b'<< /Parent 10 0 R /Kids [12 0 R] >>',
    o12=b'<< /Type /Annot /Subtype /Widget /T (amount) /V (100 VND) /Parent 11 0 R '
        b'/Rect [50 700 400 730] /F 4 /P 3 0 R >>',
    o13=b'<< /Type /Annot /Subtype /Widget /Parent 10 0 R /Rect [50 650 400 680] /F 4 /P 3 0 R >>')),
    field='Cert', certify=2, lock=['grp.amount'])
save('parent-da-untitled-node', signed, update(signed, {10: raw(signed, 10).replace(
    b'/DA (/Helv 14 Tf 0 g)', b'/DA (' + FAKE + b')')}))
#    The locked "amount" names "grp" as /Parent only (grp, a field and widget, has no /Kids).
signed = sign(build(page(b'12 0 R 10 0 R', o1=FORM, o6=DEFAULTS % b'10 0 R 12 0 R',
    o10=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (grp) /DA (/Helv 14 Tf 0 g) '
        b'/Rect [50 650 400 680] /F 4 /P 3 0 R >>',
    o12=b'<< /Type /Annot /Subtype /Widget /T (amount) /V (100 VND) /Parent 10 0 R '
        b'/Rect [50 700 400 730] /F 4 /P 3 0 R >>')),
    field='Cert', certify=2, lock=['amount', 'grp.amount'])
save('parent-da-parent-only', signed, update(signed, {10: raw(signed, 10).replace(
    b'/DA (/Helv 14 Tf 0 g)', b'/DA (' + FAKE + b')')}))
#    A page font's /Differences code written 57.0 for 57 (readers take integer codes only:
#    /nine lands on code 49, "100 VND" reads "900 VND").
signed = sign(build({
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
       b'/Resources << /Font << /F1 9 0 R >> >> >>',
    4: stream(b'BT /F1 14 Tf 50 750 Td (Payment order. Amount: 100 VND) Tj ET'),
    9: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding '
       b'/BaseEncoding /WinAnsiEncoding /Differences [48 /zero 57 /nine] >> >>'}))
save('differences-real', signed, update(signed, {9: raw(signed, 9).replace(b'57 /nine', b'57.0 /nine')}))
#    A second page gets /Annots `50 1 R`, 50 (generation 0) listing a Square annotation that
#    paints "900 VND" over "100 VND": kyso could not resolve it and read no annotation; MuPDF
#    ignores generations and draws it.
signed = sign(build({
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
       b'/Resources << /Font << /F1 9 0 R >> >> >>',
    4: stream(b'BT /F1 14 Tf 50 750 Td (Payment order, page 1 of 2) Tj ET'),
    5: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 6 0 R '
       b'/Resources << /Font << /F1 9 0 R >> >> >>',
    6: stream(b'BT /F1 14 Tf 50 750 Td (Amount: 100 VND) Tj ET'),
    9: HELV}))
paint = stream(b'1 g 0 0 200 30 re f BT /F1 14 Tf 0 g 2 9 Td (Amount: 900 VND) Tj ET',
               b'/Type /XObject /Subtype /Form /BBox [0 0 200 30] /Resources << /Font << /F1 9 0 R >> >> ')
save('annots-generation', signed, update(signed, {
    5: raw(signed, 5).replace(b' >> >>', b' >> >> /Annots 50 1 R', 1),
    50: b'[51 0 R]',
    51: b'<< /Type /Annot /Subtype /Square /Rect [48 741 248 771] /F 4 /C [] /BS << /W 0 >> '
        b'/AP << /N 52 0 R >> >>',
    52: paint}))
#    A shading's sampled function /Size [2] written [2.0] under a P=1 certification (Poppler
#    takes only integers there and leaves the red bar out).
shaded = {
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
       b'/Resources << /Font << /F1 9 0 R >> /Shading << /Sh1 10 0 R >> >> >>',
    4: stream(b'q 50 600 500 100 re W n /Sh1 sh Q BT /F1 14 Tf 50 750 Td (Status: see the bar) Tj ET'),
    9: HELV,
    10: b'<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [50 0 550 0] /Function 11 0 R '
        b'/Extend [true true] >>',
    11: stream(b'\xff\x00\x00\xff\x00\x00',
               b'/FunctionType 0 /Domain [0 1] /Range [0 1 0 1 0 1] /Size [2] /BitsPerSample 8 '),
}
signed = sign(build(shaded), certify=1)
save('function-size-real', signed, update(signed, {11: raw(signed, 11).replace(b'/Size [2]', b'/Size [2.0]')}))
#    A "VOID" image made invisible by a colour-key /Mask [0 0 0 0 0 0], rewritten with reals
#    under a P=1 certification (MuPDF ignores such a mask and draws the black VOID).
pixels = bytes(255 * (1 - ((x // 4 + y // 4) % 2)) for y in range(16) for x in range(64) for _ in range(3))
masked = dict(shaded)
masked[3] = (b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
             b'/Resources << /Font << /F1 9 0 R >> /XObject << /Im1 10 0 R >> >> >>')
masked[4] = stream(b'BT /F1 14 Tf 50 750 Td (Amount: 100 VND) Tj ET q 400 0 0 100 50 600 cm /Im1 Do Q')
masked[10] = stream(pixels, b'/Type /XObject /Subtype /Image /Width 64 /Height 16 /ColorSpace /DeviceRGB '
                            b'/BitsPerComponent 8 /Mask [0 0 0 0 0 0] ')
del masked[11]
signed = sign(build(masked), certify=1)
save('colour-key-real', signed, update(signed, {10: raw(signed, 10).replace(
    b'/Mask [0 0 0 0 0 0]', b'/Mask [0.0 0.0 0.0 0.0 0.0 0.0]')}))
#    A widget whose /Parent is a direct dictionary whose /Parent is the field "note": filling
#    "note" changed the value readers draw in "amount" (locked).
signed = sign(build(page(b'12 0 R', o1=FORM, o6=DEFAULTS % b'10 0 R 12 0 R',
    o10=b'<< /FT /Tx /T (note) /V (100 VND) >>',
    o12=b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /F 4 /Rect [50 600 350 630] /P 3 0 R '
        b'/DA (/Helv 14 Tf 0 g) /Parent << /Parent 10 0 R >> >>')),
    field='Cert', certify=2, lock=['amount'])
save('direct-parent', signed, update(signed, {10: raw(signed, 10).replace(b'(100 VND)', b'(900000 VND)')}))
#    Then (a fifth reading): a locked "amount" three untitled steps below "note", its chain
#    shared with a field "b" listed first whose longer chain ran out of walk before "note"; the
#    same chain 33 untitled nodes deep; an untitled widget in the locked "amount"'s /Kids whose
#    /Parent is "note". Each time "note" is filled and "amount" shows the new value.
def chained(objs, name):
    signed = sign(build(page(b'22 0 R', o1=b'<< /Type /Catalog /Pages 2 0 R /AcroForm 20 0 R >>', **{
        'o%d' % n: v for n, v in objs.items()})), field='Cert', certify=2, lock=['amount'])
    save(name, signed, update(signed, {21: raw(signed, 21).replace(b'(100 VND)', b'(900000 VND)')}))


NOTE = b'<< /FT /Tx /T (note) /V (100 VND) >>'
AMOUNT = (b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /F 4 /Rect [50 600 350 630] '
          b'/P 3 0 R /DA (/Helv 14 Tf 0 g) /Parent 30 0 R >>')
shared = {20: b'<< /Fields [24 0 R 21 0 R 22 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv 7 0 R >> >> >>',
          21: NOTE, 22: AMOUNT, 30: b'<< /Parent 31 0 R >>', 31: b'<< /Parent 21 0 R >>',
          24: b'<< /FT /Tx /T (b) /Parent 40 0 R >>'}
shared.update({40 + i: b'<< /Parent %d 0 R >>' % (41 + i if i < 30 else 30) for i in range(31)})
chained(shared, 'inherit-shared-chain')
deep = {20: b'<< /Fields [21 0 R 22 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv 7 0 R >> >> >>',
        21: NOTE, 22: AMOUNT}
deep.update({30 + i: b'<< /Parent %d 0 R >>' % (31 + i if i < 32 else 21) for i in range(33)})
chained(deep, 'inherit-deep-chain')
chained({20: b'<< /Fields [23 0 R 21 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv 7 0 R >> >> >>',
         21: NOTE, 23: b'<< /FT /Tx /T (amount) /Kids [22 0 R] >>',
         22: b'<< /Type /Annot /Subtype /Widget /F 4 /Rect [50 600 350 630] /P 3 0 R '
             b'/DA (/Helv 14 Tf 0 g) /Parent 21 0 R >>'}, 'inherit-kid-parent')


# 5. Found reading what permitted changes draw (2026-12-03; each TOTAL-PASSED by the build
#    before while both readers showed "900 VND" over the signed "100 VND").
def cover(first):
    """A white box and "900 VND" drawn where the amount is (objects `first`, `first` + 1)."""
    return {first: stream(b'1 1 1 rg 0 0 300 30 re f 0 g BT /H 14 Tf 5 10 Td (900 VND) Tj ET',
                          b'/Type /XObject /Subtype /Form /BBox [0 0 300 30] '
                          b'/Resources << /Font << /H %d 0 R >> >> ' % (first + 1)),
            first + 1: HELV}


AMOUNT_AT = b'/Rect [200 742 500 772]'
pay = page(b'5 0 R', o4=stream(b'BT /F1 14 Tf 50 750 Td (Payment order. Amount: 100 VND) Tj ET'))
SQUARE = b'<< /Type /Annot /Subtype /Square ' + AMOUNT_AT + b' /F 4 /C [1 1 1] /Border [0 0 0] /T (note) /AP << /N %d 0 R >> >>'
signed = sign(build({**pay, 1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>',
                     5: SQUARE % 6, 6: stream(b'', b'/Type /XObject /Subtype /Form /BBox [0 0 300 30] ')}),
              field='Cert', certify=2)
first = last_xref(signed)[1]
save('square-in-fields', signed, update(signed, {5: SQUARE % first, **cover(first)}))

WITNESS = (b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Witness) ' + AMOUNT_AT + b' /F 4 /P 3 0 R%s >>')
signed = sign(build({**pay, 1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>',
                     5: WITNESS % b''}))
first = last_xref(signed)[1]


def forward(n):
    return update(signed, {5: WITNESS % (b' /V %d 0 R /AP << /N %d 0 R >>' % (n, first)), **cover(first)})


# The object number pyHanko gives the next signature's dictionary (the same for the same input).
probe = forward(999)
n = int(re.findall(rb'\n(\d+) 0 obj\s*<<\s*/Contents <', sign(probe, field='Seal')[len(probe):])[-1])
save('forward-value', signed, sign(forward(n), field='Seal'))
save('empty-field-signed', signed, sign(signed, field='Witness'))

# A read-only field (its parent's /Ff 1, inherited) and a push button, under P=2.
FIELD_AP = b'/Tx BMC BT /H 14 Tf 5 10 Td (%s) Tj ET EMC'
form = {**pay, 1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R 12 0 R] '
                  b'/DA (/H 12 Tf 0 g) /DR << /Font << /H 9 0 R >> >> >> >>',
        10: b'<< /FT /Tx /T (so_tien) /Ff 1 /V (100 VND) /Kids [5 0 R] >>',
        5: b'<< /Type /Annot /Subtype /Widget /Parent 10 0 R ' + AMOUNT_AT + b' /F 4 /P 3 0 R /AP << /N 6 0 R >> >>',
        6: stream(FIELD_AP % b'100 VND', b'/Type /XObject /Subtype /Form /BBox [0 0 300 30] /Resources << /Font << /H 9 0 R >> >> '),
        12: b'<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (in) ' + AMOUNT_AT + b' /F 4 /P 3 0 R /AP << /N 13 0 R >> >>',
        13: stream(b'', b'/Type /XObject /Subtype /Form /BBox [0 0 300 30] ')}
form[3] = form[3].replace(b'/Annots [5 0 R]', b'/Annots [5 0 R 12 0 R]')
signed = sign(build(form), field='Cert', certify=2)
first = last_xref(signed)[1]
save('read-only-filled', signed, update(signed, {
    10: raw(signed, 10).replace(b'(100 VND)', b'(900 VND)'),
    5: raw(signed, 5).replace(b'/N 6 0 R', b'/N %d 0 R' % first),
    first: stream(FIELD_AP % b'900 VND', b'/Type /XObject /Subtype /Form /BBox [0 0 300 30] /Resources << /Font << /H 9 0 R >> >> ')}))
save('push-button-redrawn', signed, update(signed, {
    12: raw(signed, 12).replace(b'/N 13 0 R', b'/N %d 0 R' % first),
    **cover(first)}))

# ... and (reading that rule) the widget's own /Ff 0 under the read-only field.
shadow = dict(form)
shadow[5] = form[5].replace(b' /F 4 ', b' /Ff 0 /F 4 ')
signed = sign(build(shadow), field='Cert', certify=2)
first = last_xref(signed)[1]
save('widget-ff-shadow', signed, update(signed, {
    5: raw(signed, 5).replace(b'/N 6 0 R', b'/N %d 0 R' % first),
    first: stream(FIELD_AP % b'900 VND', b'/Type /XObject /Subtype /Form /BBox [0 0 300 30] /Resources << /Font << /H 9 0 R >> >> ')}))
