"""Attack-class cases of issue 9 (pdf); called by make_corpus.py with its own module as `mc`.

Each case is a real attack of its class that `kyso verify` must catch, made with tools we did
not write: pyHanko (signing, document time-stamps, its incremental writer and `generic`
objects) and bytes written by this script where pyHanko will not write the structure (an xref
section whose /Prev skips a revision, an xref hidden inside a stream, an xref entry pointing at
the wrong place, a freed signature dictionary, ...). Those hand-written incremental updates
follow ISO 32000-1 §7.5.6 and are laid out as `append_update` and `xref_stream` say.

`BEFORE` is what the kyso binary built before issue 9's fixes printed for each case (checked
by running it over the generated files); `PYHANKO` is what `pyhanko sign validate
--pretty-print --trust pki/root.pem` (pyHanko's own difference analysis) says about it.
"""
import datetime as dt
import io
import os
import re

from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import ObjStreamRef
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

C1 = "1 revision chains"
C2 = "2 unreadable objects in the signed revision"
C3 = "3 change rules by what an object is"
C4 = "4 DocMDP, FieldMDP, unsigned fields, freed signatures"
FR = "false rejects"
NC = "no crash or hang"

FAILED = ("TOTAL-FAILED", "FORMAT_FAILURE")
PASSED = ("TOTAL-PASSED", None)
NO_SIG = ("NO_SIGNATURE", None)

# The verdict of the kyso binary built before the fixes of issue 9 (`kyso verify FILE --trust
# pki/root.pem --json`), recorded by running it over the generated files.
CRASH = ("CRASH", None)
BEFORE = {
    "revision-prev-skips-signed-xref": PASSED,
    "revision-prev-skips-signed-xref-stream": PASSED,
    "revision-hidden-xref-in-signed-bytes": PASSED,
    "revision-hidden-xref-in-signed-bytes-xrefstm": FAILED,
    "revision-hidden-xref-in-signed-bytes-startxref-only": PASSED,
    "signed-object-wrong-offset-then-changed": PASSED,
    "signed-object-missing-from-xref-then-changed": PASSED,
    "signed-object-free-then-changed": PASSED,
    "content-stream-typed-dss-changed": PASSED,
    "metadata-points-to-content-stream": PASSED,
    "metadata-repointed-to-content-stream": FAILED,
    "acroform-replaced-xfa": PASSED,
    "acroform-replaced-needappearances": PASSED,
    "acroform-replaced-fields-reordered": PASSED,
    "acroform-replaced-fields-shortened": PASSED,
    "acroform-inline-xfa": FAILED,
    "docmdp-p1-then-approval-signature": PASSED,
    "docmdp-p1-then-annotation": FAILED,
    "unsigned-signature-field-over-content-after-certification": PASSED,
    "unsigned-signature-field-over-content-after-approval": PASSED,
    "unsigned-signature-field-invisible-after-approval": PASSED,
    "freed-signature-dictionary": NO_SIG,
    "freed-signature-dictionary-field-emptied": NO_SIG,
    "fieldmdp-exclude-same-partial-name": PASSED,
    "fieldmdp-include-other-parent-filled": FAILED,
    "doc-timestamp-untrusted-tsa": ("TOTAL-FAILED", "HASH_FAILURE"),
    "pdf-deeply-nested-object": FAILED,
    "pdf-object-stream-bomb": FAILED,
    "pdf-xref-offset-over-4gib": FAILED,
    "pdf-contents-ber-bomb": CRASH,
}

# What pyHanko's validator says (`pyhanko sign validate --pretty-print --trust pki/root.pem`).
INVALID = "the signature is judged INVALID (“some modifications may be illegitimate”): agrees."
PYHANKO = {
    "revision-prev-skips-signed-xref": INVALID,
    "revision-prev-skips-signed-xref-stream": INVALID,
    "revision-hidden-xref-in-signed-bytes": INVALID,
    "revision-hidden-xref-in-signed-bytes-xrefstm":
        "refuses hybrid-reference files in strict mode (“Settings do not permit validation of signatures in "
        "hybrid-reference files”); with --no-strict-syntax the signature is judged INVALID: agrees.",
    "revision-hidden-xref-in-signed-bytes-startxref-only": INVALID,
    "signed-object-wrong-offset-then-changed":
        "cannot read the file at all, with or without --no-strict-syntax (“Expected object ID (4 0) does "
        "not match actual (5 0)”). Poppler 22.12 (pdftotext) and MuPDF 1.21 (which says “repairing PDF "
        "document”) show the original number in the signed revision and the forged one in the final file.",
    "signed-object-missing-from-xref-then-changed":
        "refuses the file in strict mode (“Object addressed by Reference(idnum=4, generation=0) not found”); "
        "with --no-strict-syntax the signature is judged INVALID: agrees. Poppler 22.12 shows the original "
        "number in the signed revision (MuPDF 1.21 a page without text), the forged one in the final file.",
    "signed-object-free-then-changed":
        "refuses the file in strict mode (“Object with id 4 and generation 0 was found after 0 was freed”); "
        "with --no-strict-syntax the signature is judged INVALID: agrees. Poppler 22.12 shows the original "
        "number in the signed revision (MuPDF 1.21 a page without text), the forged one in the final file.",
    "content-stream-typed-dss-changed": INVALID,
    "metadata-points-to-content-stream": INVALID,
    "metadata-repointed-to-content-stream": INVALID,
    "acroform-replaced-xfa": INVALID,
    "acroform-replaced-needappearances":
        "VALID (“all modifications relate to signature maintenance”): it does not object to "
        "/NeedAppearances in a replaced form dictionary; disagrees.",
    "acroform-replaced-fields-reordered":
        "VALID (“all modifications relate to signature maintenance”): it does not object to a reordered "
        "/Fields in a replaced form dictionary; disagrees.",
    "acroform-replaced-fields-shortened": INVALID,
    "acroform-inline-xfa": INVALID,
    "docmdp-p1-then-approval-signature":
        "Signature1 INVALID (“incompatible with the current document modification policy”), Signature2 "
        "VALID: agrees.",
    "docmdp-p1-then-annotation": INVALID,
    "unsigned-signature-field-over-content-after-certification": INVALID,
    "unsigned-signature-field-over-content-after-approval":
        "VALID (“all modifications relate to signing and form filling operations”): it does not look at "
        "what an unsigned field's appearance covers; disagrees.",
    "unsigned-signature-field-invisible-after-approval": "VALID: agrees.",
    "freed-signature-dictionary":
        "finds no signature at all (`pyhanko sign list` lists none, `sign validate` reports nothing): "
        "fooled, like kyso before the fix.",
    "freed-signature-dictionary-field-emptied":
        "sees only an empty field (`pyhanko sign list`: Signature1:EMPTY) and validates nothing: fooled, "
        "like kyso before the fix.",
    "fieldmdp-exclude-same-partial-name": INVALID,
    "fieldmdp-include-other-parent-filled":
        "VALID (“all modifications relate to signing and form filling operations”): agrees.",
    "doc-timestamp-untrusted-tsa":
        "`sign validate` does not report document time-stamps; its validate_pdf_timestamp finds the "
        "token intact and valid with trust problem NO_CERTIFICATE_CHAIN_FOUND: agrees.",
    "pdf-deeply-nested-object": "stops with “Generic processing error” (a Python RecursionError).",
    "pdf-object-stream-bomb": INVALID,
    "pdf-xref-offset-over-4gib": "cannot read the file (“Stream ended prematurely”).",
    "pdf-contents-ber-bomb":
        "stops with “Generic processing error” (asn1crypto: “Indefinite-length recursion limit exceeded”).",
}


# --- Bytes of a PDF, written by hand -------------------------------------------------------

def last_startxref(data):
    """The offset the file's last `startxref` names."""
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def reader(data):
    return PdfFileReader(io.BytesIO(data), strict=False)


def ser(obj):
    """A pyHanko object as PDF bytes."""
    b = io.BytesIO()
    obj.write_to_stream(b, None)
    return b.getvalue()


def trailer_keys(data):
    """/Root, /Info and /ID of the newest trailer, as PDF bytes, and its /Size."""
    t = reader(data).trailer
    out = b""
    for k in ("/Root", "/Info", "/ID"):
        v = t.raw_get(k)
        if k == "/ID" and v is not None:
            out += b"/ID [%s] " % b" ".join(b"<%s>" % bytes(x.original_bytes).hex().encode() for x in v)
        elif v is not None:
            out += k.encode() + b" " + ser(v) + b" "
    return out, int(t["/Size"])


def stream(data, extra=b""):
    """The body of a stream object: `<< /Length n extra >> stream … endstream`."""
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def runs(nums):
    """Consecutive runs of object numbers: [(first, count), ...]."""
    out = []
    for n in sorted(nums):
        if out and out[-1][0] + out[-1][1] == n:
            out[-1][1] += 1
        else:
            out.append([n, 1])
    return out


def xref_table(entries):
    """An xref table (§7.5.4): `xref`, then per run of numbers a `first count` line and one
    20-byte line per object, `oooooooooo ggggg n` (in use at byte offset o) or `… f` (free)."""
    out = b"xref\n"
    for first, count in runs(entries):
        out += b"%d %d\n" % (first, count)
        for n in range(first, first + count):
            off, gen, kind = entries[n]
            out += b"%010d %05d %s \n" % (off, gen, kind.encode())
    return out


def append_update(data, objs=(), entries=None, prev=None, size=None, extra=b"", table=True):
    """Append one incremental update written by hand, and return (new bytes, {num: offset},
    offset of its xref section). The layout (ISO 32000-1 §7.5.6):

        N 0 obj <body> endobj          each (N, body) of `objs`, in order
        xref …                         the objects above, plus `entries` as given
        trailer << /Size /Root /Info /ID /Prev <extra> >>
        startxref <offset of xref>
        %%EOF

    `entries` ({num: (offset, gen, 'n' | 'f')}) re-lists or frees objects of earlier
    revisions; `prev` defaults to the previous startxref. With `table=False` the section is an
    xref stream instead (see `xref_stream`)."""
    keys, old_size = trailer_keys(data)
    prev = last_startxref(data) if prev is None else prev
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    at = {}
    for num, body in objs:
        at[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    ent = {n: (o, 0, "n") for n, o in at.items()}
    ent.update(entries or {})
    top = max(list(ent) + [old_size - 1]) + 1
    xref_at = len(out)
    tail = keys + b"/Prev %d " % prev + extra
    if table:
        ent.setdefault(0, (0, 65535, "f"))
        out += xref_table(ent)
        out += b"trailer\n<< /Size %d %s>>\n" % (size or top, tail)
    else:
        out += xref_stream(top, xref_at, ent, (size or top + 1), tail)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out), at, xref_at


def xref_stream(num, offset, entries, size, tail):
    """A cross-reference stream object (§7.5.8) numbered `num` at `offset`: /W [1 5 2], so one
    entry is 8 bytes: type (0 free, 1 at a byte offset, 2 in an object stream), then the offset
    (or the object stream's number) in 5 bytes, then the generation (or index) in 2 bytes.
    Unfiltered, so its bytes can be read in the file. It lists itself."""
    ent = dict(entries)
    ent[num] = (offset, 0, "n")
    body = b""
    for n in sorted(ent):
        o, g, kind = ent[n]
        t = {"f": 0, "n": 1, "s": 2}[kind]
        body += bytes([t]) + o.to_bytes(5, "big") + g.to_bytes(2, "big")
    index = b" ".join(b"%d %d" % (f, c) for f, c in runs(ent))
    d = b"/Type /XRef /W [1 5 2] /Index [%s] /Size %d %s" % (index, size, tail)
    return b"%d 0 obj\n%s\nendobj\n" % (num, stream(body, d))


def listed(data):
    """The entries the newest xref section lists (pyHanko's reader): {num: (offset, gen, kind)};
    objects inside object streams come back as (stream number, index, 's')."""
    r = reader(data)
    rev = r.xrefs.total_revisions - 1
    out = {}
    for ref in r.xrefs.explicit_refs_in_revision(rev):
        loc = r.xrefs.get_historical_ref(ref, rev)
        if isinstance(loc, ObjStreamRef):
            out[ref.idnum] = (loc.obj_stream_id, loc.ix_in_stream, "s")
        else:
            out[ref.idnum] = (loc, ref.generation, "n")
    return out


def raw_object(data, num, gen=0):
    """The text between `num gen obj` and `endobj` of the last definition of an object."""
    m = list(re.finditer(rb"(?<![0-9])%d %d obj\s*(.*?)\s*endobj" % (num, gen), data, re.S))[-1]
    return m.group(1)


def update(data, mutate):
    """An incremental update written by pyHanko's IncrementalPdfFileWriter."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    mutate(w)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def name(s):
    return generic.NameObject(s)


def num_array(*xs):
    return generic.ArrayObject([generic.FloatObject(x) for x in xs])


# --- The text of giay-phep.pdf, forged -----------------------------------------------------

def font_codes(pdf):
    """The glyph codes of page 1's font /F1 (Identity-H, two bytes a glyph), from its
    /ToUnicode CMap: {character: code}."""
    r = reader(pdf)
    page = r.root["/Pages"]["/Kids"][0].get_object()
    cmap = page["/Resources"]["/Font"]["/F1"]["/ToUnicode"].data.decode()
    return {chr(int(u, 16)): bytes.fromhex(c) for c, u in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]{4})>", cmap)}


def literal(codes, text):
    """`text` as the bytes of a PDF literal string in that font (parentheses escaped)."""
    raw = b"".join(codes[c] for c in text)
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def page_content(pdf):
    """The decoded content stream of page 1, and the page's /Contents reference."""
    r = reader(pdf)
    page = r.root["/Pages"]["/Kids"][0].get_object()
    return page["/Contents"].data, page.raw_get("/Contents").idnum


def forge(pdf):
    """Page 1's content with the holder's personal identification number changed from
    001099012345 to 001099054321: the licence now names someone else."""
    content, _ = page_content(pdf)
    codes = font_codes(pdf)
    old, new = literal(codes, "001099012345"), literal(codes, "001099054321")
    assert content.count(old) == 1
    return content.replace(old, new)


class Maker:
    """The shared inputs and one `case` call that records the class, the baseline verdict and
    pyHanko's opinion."""

    def __init__(self, mc, made_with):
        self.mc, self.py = mc, made_with
        fx = lambda f: open(os.path.join(mc.FIXTURES, f), "rb").read()
        self.base, self.three, self.objstm = fx("giay-phep.pdf"), fx("three-pages.pdf"), fx("giay-phep-objstm.pdf")
        self.made = []

    def sign(self, data, label="rsa", field="Signature1", **kw):
        """A PAdES signature by pyHanko (make_corpus.sign_pdf) with a signer of the test PKI."""
        kw.setdefault("subfilter", SigSeedSubFilter.PADES)
        return self.mc.sign_pdf(data, self.mc.signer(label), field=field, **kw)

    def case(self, slug, data, expect, klass, description, made_with=None, **kw):
        before = BEFORE.get(slug)
        if before == CRASH:
            description += (" Before issue 9's fixes `kyso verify` aborted on it (stack overflow, SIGABRT), "
                            "with no report.")
        elif before is not None:
            description += f" Before issue 9's fixes kyso said {before[0]}" + (f"/{before[1]}" if before[1] else "")
            description += ("; already right, so the case guards against a regression." if before == expect else ".")
        peer = PYHANKO.get(slug)
        if peer:
            description += " pyHanko 0.38's validator: " + peer
        self.mc.case(slug, data, expect, description, made_with or self.py, attack_class=klass,
                     before=BEFORE.get(slug), **kw)
        self.made.append(slug)


def make(mc, made_with):
    m = Maker(mc, made_with)
    chains(m)
    unreadable(m)
    by_what(m)
    mdp(m)
    untrusted_doc_timestamp(m)
    no_crash(m)
    return m.made


# --- Class 1: revision chains ---------------------------------------------------------------

def chains(m):
    hand = m.py + " + incremental updates written by tests/corpus/attacks_pdf.py"
    base, x0 = m.base, last_startxref(m.base)
    benign, content_num = page_content(base)
    forged = forge(base)

    # V0: page 1's content stream (object 4) forged; V1: the same object benign again. The
    # signer is given V1 and sees the real licence; the attacker keeps V0's bytes in the file.
    v0, _, x1 = append_update(base, [(content_num, stream(forged))])
    v1, _, x2 = append_update(v0, [(content_num, stream(benign))])
    signed = m.sign(v1)
    # A: one xref section re-listing exactly what the signature's revision lists (at the same
    # offsets, so every object the signature added is unchanged), with /Prev pointing at V0's
    # section: V1's section, the only one that lists the benign object 4, drops out of the
    # chain and object 4 resolves to V0's forged version without being listed anywhere after
    # the signature.
    attacked, _, _ = append_update(signed, entries=listed(signed), prev=x1)
    m.case("revision-prev-skips-signed-xref", attacked, FAILED, C1,
           "Class 1 (revision chains), /Prev skipping the signed revision's xref. Made from "
           "tests/fixtures/giay-phep.pdf: update V0 (written by this script) redefines page 1's "
           "content stream (object 4) with the holder's identification number changed "
           "(001099012345 → 001099054321); update V1 redefines object 4 back to the original text; "
           "pyHanko signs V1 (PAdES, Signer rsa). After the signature an update A (xref table + "
           "trailer, written by this script) re-lists every object the signature's revision lists, at "
           "the same offsets, but its trailer's /Prev points at V0's xref section, not at the "
           "signature's: the chain A → V0 → original skips V1 and the signature's own section, so "
           "a viewer shows the forged number while the signed bytes are intact and nothing after "
           "the signature lists object 4. The signed revision's xref sections must stay in the "
           "final chain: TOTAL-FAILED/FORMAT_FAILURE.", hand)

    # The same attack on a file with cross-reference streams (qpdf's object streams): V0, V1
    # and A are xref streams written by this script; pyHanko signs with an xref stream.
    ob = m.objstm
    benign_o, num_o = page_content(ob)
    forged_o = forge(ob)
    v0, _, x1 = append_update(ob, [(num_o, stream(forged_o))], table=False)
    v1, _, _ = append_update(v0, [(num_o, stream(benign_o))], table=False)
    signed = m.sign(v1)
    attacked, _, _ = append_update(signed, entries=listed(signed), prev=x1, table=False)
    m.case("revision-prev-skips-signed-xref-stream", attacked, FAILED, C1,
           "Class 1 (revision chains), the same /Prev skip with cross-reference streams. Made from "
           "tests/fixtures/giay-phep-objstm.pdf (qpdf, xref and object streams): updates V0 (page "
           "1's content stream, object 12, with the identification number forged) and V1 (object 12 "
           "benign again) are xref-stream updates written by this script; pyHanko signs V1 (its "
           "update is an xref stream too); the final update A is an xref stream re-listing every "
           "entry of the signature's section, at the same offsets, with /Prev "
           "pointing at V0's xref stream, so object 12 falls back to the forged version. "
           "TOTAL-FAILED/FORMAT_FAILURE.", hand)

    hidden_xref(m, hand)


def hidden_object_stream(m, prefix_len, inner_of):
    """Update U before signing, written by this script: one new stream object H (number 14,
    unreferenced, unfiltered) whose data is `inner_of(offset of H's data)`: bytes that hold a
    forged `4 0 obj` and a hidden xref section pointing at it. U's own xref lists only H.

        14 0 obj << /Length n >> stream
        4 0 obj << /Length … >> stream <forged page text> endstream endobj     ← inside H
        <hidden xref table or xref stream listing 4 at the offset above>       ← inside H
        endstream endobj
        xref / trailer (/Size 16: number 15 is kept for a hidden xref stream) / startxref / %%EOF
    """
    base = m.base
    head = b"14 0 obj\n<< /Length %d >>\nstream\n"
    # H's data starts after its header; the header's length depends on /Length's digits, so
    # fix the inner bytes' length first (offsets written with fixed width).
    probe = inner_of(0)
    start = prefix_len + len(head % len(probe))
    inner = inner_of(start)
    assert len(inner) == len(probe)
    return append_update(base, [(14, stream(inner))], size=16)


def hidden_xref(m, hand):
    base, x0 = m.base, last_startxref(m.base)
    forged = forge(base)
    keys, _ = trailer_keys(base)
    pre = len(base) + (0 if base.endswith(b"\n") else 1)
    obj4 = b"4 0 obj\n%s\nendobj\n" % stream(forged)

    # Variant 1: the update after signing points /Prev at a hidden xref table.
    def inner_table(start):
        hx = start + len(obj4)
        table = xref_table({4: (start, 0, "n"), 14: (pre, 0, "n")})
        return obj4 + table + b"trailer\n<< /Size 16 %s/Prev %010d >>\n" % (keys, x0), hx

    def inner_bytes(start):
        return inner_table(start)[0]

    prepared, at, _ = hidden_object_stream(m, pre, inner_bytes)
    assert at[14] == pre
    data_at = prepared.index(b"stream\n", pre) + 7
    hx = inner_table(data_at)[1]
    assert prepared[hx:hx + 4] == b"xref" and prepared[data_at:data_at + 7] == b"4 0 obj"
    signed = m.sign(prepared)
    attacked, _, _ = append_update(signed, entries=listed(signed), prev=hx)
    m.case("revision-hidden-xref-in-signed-bytes", attacked, FAILED, C1,
           "Class 1 (revision chains), a hidden xref table in signed bytes. Made from "
           "tests/fixtures/giay-phep.pdf: before signing, an update U written by this script adds an "
           "unreferenced, unfiltered stream object 14 whose data holds a complete `4 0 obj` (page 1's "
           "content with the identification number forged, 001099012345 → 001099054321) and, after "
           "it, an xref table + trailer listing object 4 at that offset (and 14), with /Prev to the "
           "original's xref. U's real xref lists only object 14, so the signer's view is the original "
           "page. pyHanko signs (PAdES, Signer rsa). After the signature, update A re-lists every "
           "object of the signature's revision at the same offsets, with /Prev pointing into stream "
           "14's data at the hidden table: the chain A → hidden → original puts the forged object 4 in "
           "force, listed only by a section inside the signed bytes. TOTAL-FAILED/FORMAT_FAILURE.",
           hand)

    # Variant 2: a hybrid trailer whose /XRefStm points at a hidden xref stream.
    def inner_stm(start):
        hx = start + len(obj4)
        xs = xref_stream(15, hx, {4: (start, 0, "n")}, 16, b"")
        # The stream lists itself (15) too: harmless, a reader never needs object 15.
        return obj4 + xs, hx

    prepared, at, _ = hidden_object_stream(m, pre, lambda s: inner_stm(s)[0])
    data_at = prepared.index(b"stream\n", pre) + 7
    hx = inner_stm(data_at)[1]
    assert prepared[hx:hx + 8] == b"15 0 obj"
    signed = m.sign(prepared)
    attacked, _, _ = append_update(signed, entries={}, extra=b"/XRefStm %d " % hx)
    m.case("revision-hidden-xref-in-signed-bytes-xrefstm", attacked, FAILED, C1,
           "Class 1 (revision chains), a hidden xref stream reached through a hybrid trailer's "
           "/XRefStm (§7.5.8.4). Made like revision-hidden-xref-in-signed-bytes, but the bytes hidden in "
           "stream 14 are the forged `4 0 obj` and an xref stream object (15 0 obj, /Type /XRef) listing "
           "object 4 at it. After pyHanko's signature, update A is an xref table listing nothing but "
           "the free head (object 0), with a trailer whose /Prev is the signature's section and whose "
           "/XRefStm points at the hidden stream: readers consult the /XRefStm entries before /Prev, "
           "so object 4 is the forged one. TOTAL-FAILED/FORMAT_FAILURE.", hand)

    # Variant 3: after signing, only `startxref <hidden> %%EOF` is appended. The hidden table's
    # /Prev is the signature's own xref section, whose offset the attacker predicts by signing
    # a copy of the prepared file once (pyHanko's layout is the same for the same signer: fixed
    # /Contents reservation, fixed-width dates and /ByteRange).
    def inner_pred(start, x_sig, size):
        hx = start + len(obj4)
        table = xref_table({4: (start, 0, "n")})
        return obj4 + table + b"trailer\n<< /Size %02d %s/Prev %010d >>\n" % (size, keys, x_sig), hx

    guess = (0, 16)
    for _ in range(3):
        prepared, _, _ = hidden_object_stream(m, pre, lambda s: inner_pred(s, *guess)[0])
        signed = m.sign(prepared)
        got = (last_startxref(signed), int(reader(signed).trailer["/Size"]))
        if got == guess:
            break
        guess = got
    assert got == guess, "pyHanko's layout did not repeat"
    data_at = prepared.index(b"stream\n", pre) + 7
    hx = inner_pred(data_at, *guess)[1]
    attacked = signed + b"startxref\n%d\n%%%%EOF\n" % hx
    m.case("revision-hidden-xref-in-signed-bytes-startxref-only", attacked, FAILED, C1,
           "Class 1 (revision chains), a hidden xref table made current by nothing but a new "
           "`startxref`. Made like revision-hidden-xref-in-signed-bytes, but the hidden table (inside "
           "stream 14's data, listing the forged object 4) has /Prev = the offset of the xref section "
           "pyHanko will write when signing: the attacker signs a copy once to learn it (the layout "
           "repeats for the same signer). After the real signature the only bytes appended are "
           "`startxref <offset of the hidden table> %%EOF`: the chain hidden → signature → U → original "
           "puts the forged object 4 in force, and no xref section lies after the signed bytes. "
           "TOTAL-FAILED/FORMAT_FAILURE.", hand)


# --- Class 2: unreadable objects in the signed revision ------------------------------------

def edit_xref(pdf, num, line):
    """giay-phep.pdf's one xref table (`xref`, `0 14`, 20-byte entries), edited in place: the
    entry of object `num` replaced by `line` (20 bytes), or removed when `line` is None (the
    subsection is split in two, `0 num` and `num+1 …`; the table is the file's last part and
    `startxref` points at its start, so nothing else moves)."""
    x = last_startxref(pdf)
    head = re.compile(rb"xref\r?\n0 (\d+)\r?\n").match(pdf, x)
    count, first = int(head.group(1)), head.end()
    lines = [pdf[first + 20 * i:first + 20 * (i + 1)] for i in range(count)]
    assert all(len(l) == 20 and l[-1:] == b"\n" for l in lines)
    if line is None:
        table = b"xref\n0 %d\n%s%d %d\n%s" % (num, b"".join(lines[:num]), num + 1, count - num - 1,
                                              b"".join(lines[num + 1:]))
    else:
        assert len(line) == 20
        lines[num] = line
        table = b"xref\n0 %d\n%s" % (count, b"".join(lines))
    return pdf[:x] + table + pdf[first + 20 * count:]


def unreadable(m):
    hand = m.py + " + xref entries edited and updates written by tests/corpus/attacks_pdf.py"
    base = m.base
    forged = forge(base)
    _, num = page_content(base)
    at = {n: o for n, (o, _, _) in listed(base).items()}
    variants = [
        ("signed-object-wrong-offset-then-changed",
         edit_xref(base, num, b"%010d 00000 n \n" % at[num + 1]),
         "its xref entry gives the offset of object 5 (the font) instead of object 4's: a reader "
         "that checks the object number cannot read object 4, and viewers rebuild the xref by "
         "scanning for `4 0 obj` and show the original text"),
        ("signed-object-missing-from-xref-then-changed", edit_xref(base, num, None),
         "object 4 is left out of the xref (the table becomes two subsections, `0 4` and `5 9`), "
         "though page 1 uses it and its bytes are still in the file, where viewers that rebuild "
         "the xref find it"),
        ("signed-object-free-then-changed",
         edit_xref(edit_xref(base, 0, b"%010d 65535 f \n" % num), num, b"0000000000 00001 f \n"),
         "object 4's xref entry says free (`0000000000 00001 f`, linked from entry 0) though page 1 "
         "uses it and its bytes are still in the file"),
    ]
    for slug, prepared, how in variants:
        signed = m.sign(prepared)
        attacked, _, _ = append_update(signed, [(num, stream(forged))])
        m.case(slug, attacked, FAILED, C2,
               "Class 2 (an unreadable object in the signed revision, changed later). Made from "
               "tests/fixtures/giay-phep.pdf with its xref table edited in place by this script: "
               f"page 1's content stream, object 4, is in the file but {how}. pyHanko signs it "
               "(PAdES, Signer rsa; the signature does not need object 4). After the signature an "
               "update written by this script defines `4 0 obj` properly, with the holder's "
               "identification number forged (001099012345 → 001099054321). What the signed "
               "revision held for object 4 cannot be known for sure, so a later change to it must "
               "fail closed: TOTAL-FAILED/FORMAT_FAILURE.", hand)


# --- Class 3: change rules by what an object is, not the role it claims --------------------

def with_keys(dict_bytes, extra):
    """A dictionary's bytes (`<< … >>`) with `extra` added before its final `>>`."""
    i = dict_bytes.rindex(b">>")
    return dict_bytes[:i] + extra + b"\n" + dict_bytes[i:]


def sign_leaving_metadata(m, data):
    """pyHanko's signature with its document-metadata update switched off for this one call
    (IncrementalPdfFileWriter._update_meta would otherwise replace a /Metadata that is not an
    XMP stream by a new XMP stream): a signer whose tool leaves /Info and /Metadata alone."""
    saved = IncrementalPdfFileWriter._update_meta
    IncrementalPdfFileWriter._update_meta = lambda self: None
    try:
        return m.sign(data)
    finally:
        IncrementalPdfFileWriter._update_meta = saved


def by_what(m):
    hand = m.py + " + incremental updates written by tests/corpus/attacks_pdf.py"
    base = m.base
    benign, num = page_content(base)
    forged = forge(base)
    root = reader(base).trailer.raw_get("/Root").idnum
    catalog = raw_object(base, root)

    # A content stream that calls itself /Type /DSS.
    prepared, _, _ = append_update(base, [(num, stream(benign, b"/Type /DSS "))])
    signed = m.sign(prepared)
    attacked, _, _ = append_update(signed, [(num, stream(forged, b"/Type /DSS "))])
    m.case("content-stream-typed-dss-changed", attacked, FAILED, C3,
           "Class 3 (change rules by what an object is): a content stream that claims to be a DSS. Made "
           "from tests/fixtures/giay-phep.pdf: before signing, an update written by this script "
           "redefines page 1's content stream (object 4) with the same text and `/Type /DSS` in its "
           "dictionary; pyHanko signs (PAdES, Signer rsa); after the signature, an update redefines "
           "object 4, still `/Type /DSS`, with the holder's identification number forged "
           "(001099012345 → 001099054321). The object is the page's content whatever /Type it "
           "carries: TOTAL-FAILED/FORMAT_FAILURE.", hand)

    # The catalog's /Metadata points at the page's content stream before signing.
    prepared, _, _ = append_update(base, [(root, with_keys(catalog, b"/Metadata %d 0 R" % num))])
    signed = sign_leaving_metadata(m, prepared)
    attacked, _, _ = append_update(signed, [(num, stream(forged))])
    m.case("metadata-points-to-content-stream", attacked, FAILED, C3,
           "Class 3 (change rules by what an object is): /Metadata pointing at a content stream. Made "
           "from tests/fixtures/giay-phep.pdf: before signing, an update written by this script adds "
           "`/Metadata 4 0 R` to the catalog, 4 being page 1's content stream; pyHanko signs (PAdES, "
           "Signer rsa, its XMP update switched off for this call so it leaves /Metadata as it is); "
           "after the signature, an update redefines object 4 with the identification number forged "
           "(001099012345 → 001099054321). Object 4 is page content, not XMP metadata, though the "
           "catalog names it so: TOTAL-FAILED/FORMAT_FAILURE.", hand + " (pyHanko's XMP update off)")

    signed = m.sign(base)
    cat = raw_object(signed, root)
    attacked, _, _ = append_update(signed, [(root, with_keys(cat, b"/Metadata %d 0 R" % num)),
                                            (num, stream(forged))])
    m.case("metadata-repointed-to-content-stream", attacked, FAILED, C3,
           "Class 3 (change rules by what an object is): /Metadata re-pointed at a content stream in "
           "the same update that changes it. Made from tests/fixtures/giay-phep.pdf signed by pyHanko "
           "(PAdES, Signer rsa; no /Metadata then); after the signature one update written by this "
           "script adds `/Metadata 4 0 R` to the catalog (a catalog /Metadata change is allowed) and "
           "redefines object 4, page 1's content stream, with the identification number forged. "
           "TOTAL-FAILED/FORMAT_FAILURE.", hand)

    acroform_cases(m)


XDP = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       "<xdp:xdp xmlns:xdp=\"http://ns.adobe.com/xdp/\">"
       "<template xmlns=\"http://www.xfa.org/schema/xfa-template/3.3/\">"
       "<subform name=\"form1\" layout=\"tb\" locale=\"vi_VN\">"
       "<pageSet><pageArea name=\"p1\"><contentArea x=\"0.25in\" y=\"0.25in\" w=\"7.77in\" h=\"11.19in\"/>"
       "<medium stock=\"a4\" short=\"210mm\" long=\"297mm\"/></pageArea></pageSet>"
       "<subform w=\"7.77in\" h=\"2in\"><draw name=\"t\" w=\"7.5in\" h=\"1in\"><font size=\"28pt\"/>"
       "<value><text>GIẤY PHÉP ĐÃ BỊ THU HỒI</text></value></draw></subform>"
       "</subform></template></xdp:xdp>\n").encode()


def acroform_cases(m):
    """three-pages.pdf has an indirect /AcroForm (object 3) with one text field, so_ho_so.
    pyHanko signs it (PAdES, approval, Signer rsa) and adds Signature1 to /Fields. Then pyHanko's
    incremental writer adds a NEW dictionary object, a changed copy of the form, and points the
    catalog's /AcroForm at it; object 3 itself is never touched."""
    signed = m.sign(m.three)

    def replaced(change):
        def mutate(w):
            form = generic.DictionaryObject(w.root["/AcroForm"])
            change(w, form)
            w.root["/AcroForm"] = w.add_object(form)
            w.update_root()
        return update(signed, mutate)

    def xfa(w, form):
        form[name("/XFA")] = w.add_object(generic.StreamObject(stream_data=XDP))

    def need(w, form):
        form[name("/NeedAppearances")] = generic.BooleanObject(True)

    def reorder(w, form):
        form[name("/Fields")] = generic.ArrayObject(list(reversed(list(form["/Fields"]))))

    def shorten(w, form):
        form[name("/Fields")] = generic.ArrayObject([f for f in form["/Fields"]
                                                     if f.get_object().get("/T") != "so_ho_so"])

    what = " (a new dictionary object replacing the catalog's /AcroForm reference)"
    for slug, change, how in [
        ("acroform-replaced-xfa", xfa, "adds /XFA, an XFA form (an XDP template drawing "
         "“GIẤY PHÉP ĐÃ BỊ THU HỒI”) that XFA viewers render"),
        ("acroform-replaced-needappearances", need, "sets /NeedAppearances true, so viewers "
         "regenerate every field's appearance"),
        ("acroform-replaced-fields-reordered", reorder, "reverses /Fields (Signature1 first, "
         "so_ho_so second)"),
        ("acroform-replaced-fields-shortened", shorten, "drops so_ho_so from /Fields, so the "
         "filled-in dossier number is no longer part of the form"),
    ]:
        m.case(slug, replaced(change), FAILED, C3,
               "Class 3 (change rules by what an object is): a changed /AcroForm reference. Made from "
               "tests/fixtures/three-pages.pdf (indirect /AcroForm, object 3, with the text field "
               "so_ho_so), signed by pyHanko (PAdES approval signature, Signer rsa). After the signature "
               "pyHanko's incremental writer adds a new form dictionary, a copy of the signed one that "
               f"{how}, and re-points the catalog's /AcroForm at it{what}; the signed object 3 is left "
               "alone. The new form must be judged like the old one changed in place: "
               "TOTAL-FAILED/FORMAT_FAILURE.", m.py + " incremental writer")

    # An inline /AcroForm: the catalog itself holds the form dictionary.
    base = m.base
    root = reader(base).trailer.raw_get("/Root").idnum
    prepared, _, _ = append_update(base, [(root, with_keys(raw_object(base, root), b"/AcroForm << /Fields [] >>"))])
    signed = m.sign(prepared)
    assert isinstance(reader(signed).root.raw_get("/AcroForm"), generic.DictionaryObject)

    def inline_xfa(w):
        w.root["/AcroForm"][name("/XFA")] = w.add_object(generic.StreamObject(stream_data=XDP))
        w.update_root()
    m.case("acroform-inline-xfa", update(signed, inline_xfa), FAILED, C3,
           "Class 3 (change rules by what an object is): /XFA added to an inline /AcroForm. Made from "
           "tests/fixtures/giay-phep.pdf: before signing, an update written by this script gives the "
           "catalog an inline `/AcroForm << /Fields [] >>`; pyHanko signs (PAdES, Signer rsa) and "
           "keeps the form inline; after the signature pyHanko's incremental writer rewrites the "
           "catalog with /XFA (an XDP template drawing “GIẤY PHÉP ĐÃ BỊ THU HỒI”) in the inline form. "
           "TOTAL-FAILED/FORMAT_FAILURE.",
           m.py + " incremental writer + an update written by tests/corpus/attacks_pdf.py")


# --- Class 4: DocMDP, FieldMDP, unsigned fields, freed signatures ---------------------------

def sign_despite_p1(m, data, label, field):
    """pyHanko refuses to sign a document certified with DocMDP P=1 ("Author signature forbids
    all changes", PdfSigner._enforce_certification_constraints): that check is replaced by a
    no-op for this one call; everything else is pyHanko's ordinary signing."""
    from pyhanko.sign.signers.pdf_signer import PdfSigner
    saved = PdfSigner._enforce_certification_constraints
    PdfSigner._enforce_certification_constraints = lambda self, reader: None
    try:
        return m.sign(data, label, field=field)
    finally:
        PdfSigner._enforce_certification_constraints = saved


def add_annotation(data, annot):
    def mutate(w):
        page = w.root["/Pages"]["/Kids"][0].get_object()
        ref = w.add_object(annot)
        old = page.get("/Annots")
        page["/Annots"] = generic.ArrayObject((list(old) if old is not None else []) + [ref])
        w.update_container(page)
    return update(data, mutate)


def free_text():
    return generic.DictionaryObject({
        name("/Type"): name("/Annot"), name("/Subtype"): name("/FreeText"),
        name("/Rect"): num_array(50, 600, 400, 650),
        name("/Contents"): generic.TextStringObject("ĐÃ HỦY"),
        name("/DA"): generic.pdf_string("/Helv 24 Tf 1 0 0 rg")})


OVERLAY = (b"q 1 1 1 rg 0 0 545 120 re f 0.8 0 0 rg 0 0 545 120 re 4 w S "
           b"BT /Helv 30 Tf 0.8 0 0 rg 24 70 Td (GIAY PHEP DA BI THU HOI) Tj "
           b"/Helv 14 Tf 0 -34 Td (Quyet dinh thu hoi so 99/QD-UBND) Tj ET Q")


def unsigned_field(data, field, box, appearance):
    """pyHanko's append_signature_field adds an empty signature field (field and widget in one
    object) on page 1; with `appearance`, its widget then gets an /AP /N form XObject that paints
    an opaque white box with red text over `box`. Without it, any /AP pyHanko wrote is removed."""
    def mutate(w):
        fields.append_signature_field(w, fields.SigFieldSpec(sig_field_name=field, on_page=0, box=box))
        widget = next(f.get_object() for f in w.root["/AcroForm"]["/Fields"] if f.get_object().get("/T") == field)
        if appearance:
            helv = generic.DictionaryObject({name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
                                             name("/BaseFont"): name("/Helvetica"),
                                             name("/Encoding"): name("/WinAnsiEncoding")})
            ap = generic.StreamObject({
                name("/Type"): name("/XObject"), name("/Subtype"): name("/Form"),
                name("/BBox"): num_array(0, 0, box[2] - box[0], box[3] - box[1]),
                name("/Resources"): generic.DictionaryObject({name("/Font"): generic.DictionaryObject({name("/Helv"): helv})}),
            }, stream_data=OVERLAY)
            widget[name("/AP")] = generic.DictionaryObject({name("/N"): w.add_object(ap)})
        else:
            widget.pop("/AP", None)
        w.update_container(widget)
    return update(data, mutate)


def mdp(m):
    py, base = m.py, m.base
    p1 = m.sign(base, certify=True, perm=MDPPerm.NO_CHANGES)
    m.case("docmdp-p1-then-approval-signature", sign_despite_p1(m, p1, "ec", "Signature2"), FAILED, C4,
           "Class 4 (DocMDP P=1): a certification signature that forbids every change, then an approval "
           "signature. Made from tests/fixtures/giay-phep.pdf: pyHanko certifies it (PAdES, Signer rsa, "
           "/DocMDP /P 1), then signs again (Signer ec, field Signature2) with its own P=1 check "
           "(PdfSigner._enforce_certification_constraints, which raises “Author signature forbids all "
           "changes”) replaced by a no-op for that call. The certification forbids the later "
           "revision, signature or not: the certification signature is TOTAL-FAILED/FORMAT_FAILURE "
           "(the approval signature itself is valid).", py + " (its P=1 check bypassed)")
    m.case("docmdp-p1-then-annotation", add_annotation(p1, free_text()), FAILED, C4,
           "Class 4 (DocMDP P=1), then an annotation. Made from tests/fixtures/giay-phep.pdf certified "
           "by pyHanko (PAdES, Signer rsa, /DocMDP /P 1); pyHanko's incremental writer then adds a "
           "FreeText annotation “ĐÃ HỦY” to page 1, which P=1 forbids: TOTAL-FAILED/FORMAT_FAILURE.", py + " incremental writer")

    over = (25, 690, 570, 810)  # the header and the licence's first lines on page 1
    p2 = m.sign(base, certify=True, perm=MDPPerm.FILL_FORMS)
    approved = m.sign(base)
    for slug, signed, what in [
        ("unsigned-signature-field-over-content-after-certification", p2,
         "certified by pyHanko (PAdES, Signer rsa, /DocMDP /P 2: form filling and signing allowed)"),
        ("unsigned-signature-field-over-content-after-approval", approved,
         "signed by pyHanko (PAdES approval signature, Signer rsa)"),
    ]:
        m.case(slug, unsigned_field(signed, "Overlay", over, True), ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"), C4,
               "Class 4 (unsigned signature fields): an empty signature field whose widget paints over "
               f"the page. Made from tests/fixtures/giay-phep.pdf {what}; then pyHanko's "
               "append_signature_field adds an unsigned signature field “Overlay” on page 1 at "
               f"{list(over)}, and its incremental writer gives the widget an /AP /N appearance (a form "
               "XObject: opaque white box, red border, “GIAY PHEP DA BI THU HOI” in Helvetica) over "
               "the licence's first lines. Adding a signature field is allowed, but what its "
               "appearance shows was signed by nobody and hides signed content: the earlier "
               "signature cannot stay TOTAL-PASSED; INDETERMINATE/SIG_CONSTRAINTS_FAILURE with a "
               "named warning.", py + " append_signature_field + incremental writer")
    m.case("unsigned-signature-field-invisible-after-approval", unsigned_field(approved, "Signature2", None, False),
           PASSED, C4,
           "Class 4 (unsigned signature fields), the control: tests/fixtures/giay-phep.pdf signed by "
           "pyHanko (PAdES, Signer rsa), then pyHanko's append_signature_field adds an empty, "
           "invisible signature field Signature2 (/Rect [0 0 0 0], no appearance) for a second "
           "signer. Nothing is shown: the signature stays TOTAL-PASSED (the report says the field "
           "is empty).", py + " append_signature_field")

    freed(m)
    fieldmdp(m)


def freed(m):
    hand = m.py + " + an update written by tests/corpus/attacks_pdf.py"
    signed = m.sign(m.base)
    r = reader(signed)
    root = r.root
    acro_ref = root.raw_get("/AcroForm")
    field_ref = root["/AcroForm"]["/Fields"].raw_get(0)
    field = field_ref.get_object()
    sig_ref = field.raw_get("/V")
    page_ref = root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    assert isinstance(acro_ref, generic.IndirectObject) and page["/Annots"].raw_get(0) == field_ref and len(page["/Annots"]) == 1
    # The signature dictionary freed: its entry `0000000000 00001 f`, linked from entry 0.
    free = {0: (sig_ref.idnum, 65535, "f"), sig_ref.idnum: (0, 1, "f")}

    # Variant 1: the field gone from /Fields and from page 1's /Annots too.
    page1 = generic.DictionaryObject({k: v for k, v in page.items() if k != "/Annots"})
    form = generic.DictionaryObject({name("/Fields"): generic.ArrayObject()})
    attacked, _, _ = append_update(signed, [(acro_ref.idnum, ser(form)), (page_ref.idnum, ser(page1))], entries=free)
    m.case("freed-signature-dictionary", attacked, FAILED, C4,
           "Class 4 (freed signature dictionaries). Made from tests/fixtures/giay-phep.pdf signed by "
           "pyHanko (PAdES, Signer rsa). After the signature an update written by this script marks "
           f"the signature dictionary (object {sig_ref.idnum}) free in its xref table "
           "(`0000000000 00001 f`), empties the form's /Fields (object "
           f"{acro_ref.idnum}, /SigFlags dropped) and removes /Annots from page 1 (object "
           f"{page_ref.idnum}): the document looks unsigned, its signature dictionary still in the "
           "file. The earlier revision's signature must still be found, and the update removed "
           "its field: TOTAL-FAILED/FORMAT_FAILURE.", hand)

    # Variant 2: the field kept (in /Fields and /Annots) but emptied: no /V.
    emptied = generic.DictionaryObject({k: v for k, v in field.items() if k != "/V"})
    attacked, _, _ = append_update(signed, [(field_ref.idnum, ser(emptied))], entries=free)
    m.case("freed-signature-dictionary-field-emptied", attacked, FAILED, C4,
           "Class 4 (freed signature dictionaries), the field kept. Made from "
           "tests/fixtures/giay-phep.pdf signed by pyHanko (PAdES, Signer rsa). After the signature an "
           "update written by this script marks the signature dictionary (object "
           f"{sig_ref.idnum}) free and rewrites the signature field (object {field_ref.idnum}) "
           "without its /V: an empty signature field, as if never signed. The signed field's value "
           "was removed: TOTAL-FAILED/FORMAT_FAILURE.", hand)


def fieldmdp(m):
    """A form with two text fields of the same partial name under different parents: full names
    a.so_ho_so and b.so_ho_so (ISO 32000-1 §12.7.3.2), written into giay-phep.pdf by pyHanko's
    incremental writer. The terminal fields carry /FT /Tx themselves and are their widgets."""
    def form(w):
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        parents, widgets = [], []
        for p, rect, value in [("a", (50, 60, 250, 80), "HS-2026-0001"), ("b", (300, 60, 500, 80), "HS-2026-0002")]:
            parent = generic.DictionaryObject({name("/T"): generic.pdf_string(p)})
            pref = w.add_object(parent)
            kid = generic.DictionaryObject({
                name("/Type"): name("/Annot"), name("/Subtype"): name("/Widget"), name("/FT"): name("/Tx"),
                name("/T"): generic.pdf_string("so_ho_so"), name("/V"): generic.pdf_string(value),
                name("/Parent"): pref, name("/Rect"): num_array(*rect), name("/P"): page_ref,
                name("/F"): generic.NumberObject(4)})
            kref = w.add_object(kid)
            parent[name("/Kids")] = generic.ArrayObject([kref])
            parents.append(pref)
            widgets.append(kref)
        w.root[name("/AcroForm")] = w.add_object(generic.DictionaryObject({name("/Fields"): generic.ArrayObject(parents)}))
        page[name("/Annots")] = generic.ArrayObject(widgets)
        w.update_container(page)
        w.update_root()
    prepared = update(m.base, form)

    def certify(action):
        w = IncrementalPdfFileWriter(io.BytesIO(prepared))
        meta = signers.PdfSignatureMetadata(field_name="Signature1", certify=True, subfilter=SigSeedSubFilter.PADES,
                                            docmdp_permissions=MDPPerm.FILL_FORMS)
        spec = fields.SigFieldSpec(sig_field_name="Signature1",
                                   field_mdp_spec=fields.FieldMDPSpec(action, ["a.so_ho_so"]))
        out = io.BytesIO()
        signers.sign_pdf(w, meta, signer=m.mc.signer("rsa"), new_field_spec=spec, output=out)
        return out.getvalue()

    def fill_b(data):
        def mutate(w):
            for p in w.root["/AcroForm"]["/Fields"]:
                p = p.get_object()
                if p.get("/T") == "b":
                    kid = p["/Kids"][0].get_object()
                    kid[name("/V")] = generic.pdf_string("HS-2026-9999")
                    w.update_container(kid)
        return update(data, mutate)

    both = ("Made from tests/fixtures/giay-phep.pdf: pyHanko's incremental writer adds a form with "
            "two text fields named so_ho_so under the parents a and b (full names a.so_ho_so and "
            "b.so_ho_so); pyHanko certifies it (PAdES, Signer rsa, /DocMDP /P 2) with the signature "
            "field's FieldMDP ")
    m.case("fieldmdp-exclude-same-partial-name", fill_b(certify(fields.FieldMDPAction.EXCLUDE)), FAILED, C4,
           "Class 4 (FieldMDP matched to the field object, not a name). " + both +
           "`/Action /Exclude /Fields [(a.so_ho_so)]`: every field but a.so_ho_so is locked, "
           "b.so_ho_so included. Then pyHanko's writer fills b.so_ho_so (/V HS-2026-9999). A lock "
           "matched by partial name would think b.so_ho_so excluded; it is locked: "
           "TOTAL-FAILED/FORMAT_FAILURE.", m.py)
    m.case("fieldmdp-include-other-parent-filled", fill_b(certify(fields.FieldMDPAction.INCLUDE)), PASSED, C4,
           "Class 4 (FieldMDP matched to the field object, not a name), a false reject. " + both +
           "`/Action /Include /Fields [(a.so_ho_so)]`: only a.so_ho_so is locked. Then pyHanko's "
           "writer fills b.so_ho_so (/V HS-2026-9999), which P=2 allows and no lock covers: "
           "TOTAL-PASSED.", m.py)


# --- False rejects ---------------------------------------------------------------------------

def untrusted_doc_timestamp(m):
    """A PAdES document time-stamp (/SubFilter /ETSI.RFC3161) by a TSA under the unrelated root
    (pki/other.pem, not given with --trust)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    mc = m.mc
    other = x509.load_pem_x509_certificate(open(os.path.join(mc.HERE, "pki", "other.pem"), "rb").read())
    other_k = serialization.load_pem_private_key(open(os.path.join(mc.KEYS, "other.key.pem"), "rb").read(), None)
    k = rsa.generate_private_key(65537, 2048)
    utc = dt.timezone.utc
    c = mc.cert(mc.name("Untrusted TSA", "Somebody Else"), k, other.subject, other_k,
                dt.datetime(2020, 1, 1, tzinfo=utc), dt.datetime(2045, 1, 1, tzinfo=utc), tsa=True)
    mc.save_cert(os.path.join(mc.KEYS, "untrusted-tsa.pem"), c)
    mc.save_key("untrusted-tsa", k)
    ts = timestamps.DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(os.path.join(mc.KEYS, "untrusted-tsa.pem")),
        tsa_key=load_private_key_from_pemder(os.path.join(mc.KEYS, "untrusted-tsa.key.pem"), passphrase=None),
        certs_to_embed=[load_cert_from_pemder(os.path.join(mc.HERE, "pki", "other.pem"))])
    out = io.BytesIO()
    signers.PdfTimeStamper(ts).timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(m.base)), "sha256", output=out)
    m.case("doc-timestamp-untrusted-tsa", out.getvalue(), ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"), FR,
           "False reject: a document time-stamp whose TSA is not trusted. tests/fixtures/giay-phep.pdf "
           "time-stamped by pyHanko's PdfTimeStamper (/SubFilter /ETSI.RFC3161) with a "
           "DummyTimeStamper whose TSA certificate (timeStamping EKU, made by pyca/cryptography) is "
           "issued by the unrelated root pki/other.pem, embedded in the token; only pki/root.pem is "
           "trusted. The imprint and the token's signature are sound, the TSA just chains to no "
           "trust anchor: INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND, not HASH_FAILURE.",
           m.py + " PdfTimeStamper + pyca/cryptography")


# --- No crash or hang: each a clean TOTAL-FAILED/FORMAT_FAILURE, exit status 1 ---------------

def no_crash(m):
    hand = m.py + " + an update written by tests/corpus/attacks_pdf.py"
    signed = m.sign(m.base)
    r = reader(signed)
    page_ref = r.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    annots = list(page.raw_get("/Annots"))
    _, size = trailer_keys(signed)

    def page_with(extra_annot):
        d = generic.DictionaryObject(page)
        d[name("/Annots")] = generic.ArrayObject(annots + [generic.IndirectObject(extra_annot, 0, None)])
        return ser(d)

    depth = 100_000
    nest = b"<< /Type /Annot /Subtype /Text /Rect [0 0 0 0] /Nest " + b"[" * depth + b"]" * depth + b" >>"
    attacked, _, _ = append_update(signed, [(size, nest), (page_ref.idnum, page_with(size))])
    m.case("pdf-deeply-nested-object", attacked, FAILED, NC,
           "No crash: arrays nested 100,000 deep. tests/fixtures/giay-phep.pdf signed by pyHanko "
           "(PAdES, Signer rsa); after it an update written by this script adds a Text annotation "
           f"(object {size}) whose /Nest value is `[` ×100,000 then `]` ×100,000, and page 1 lists it "
           "in /Annots. A reader must bound its recursion; the later revision adds an annotation "
           "(and cannot be read in full): TOTAL-FAILED/FORMAT_FAILURE, exit status 1.", hand)

    # An object stream claiming 100,000,000 objects in 27 bytes, in an xref-stream update: its
    # xref entry says object `size+1` is object 0 of object stream `size`.
    inner = b"%d 0 << /Type /Annot /Subtype /Text /Rect [0 0 0 0] >>" % (size + 1)
    first = len(b"%d 0 " % (size + 1))
    bomb = stream(inner, b"/Type /ObjStm /N 100000000 /First %d " % first)
    attacked, _, _ = append_update(signed, [(size, bomb), (page_ref.idnum, page_with(size + 1))],
                                   entries={size + 1: (size, 0, "s")}, table=False)
    m.case("pdf-object-stream-bomb", attacked, FAILED, NC,
           "No crash: an object stream whose /N is 100,000,000. tests/fixtures/giay-phep.pdf signed by "
           "pyHanko (PAdES, Signer rsa); after it an update written by this script (an xref stream, "
           f"/W [1 5 2]) adds object stream {size} (/Type /ObjStm /N 100000000, a few dozen bytes of "
           f"data holding one annotation) and lists object {size + 1} as its first member, which page "
           "1's /Annots now names. Allocations must be capped by the input's size: "
           "TOTAL-FAILED/FORMAT_FAILURE, exit status 1.", hand)

    attacked, _, _ = append_update(signed, entries={page_ref.idnum: (9999999999, 0, "n")}, size=4294967300)
    m.case("pdf-xref-offset-over-4gib", attacked, FAILED, NC,
           "No crash: offsets and sizes past 32 bits. tests/fixtures/giay-phep.pdf signed by pyHanko "
           "(PAdES, Signer rsa); after it an update written by this script lists page 1 (object "
           f"{page_ref.idnum}) at byte offset 9999999999 (past 4 GiB, past the end of the file) with "
           "trailer /Size 4294967300 (more than 2^32). Checked arithmetic, and a page that cannot be "
           "read: TOTAL-FAILED/FORMAT_FAILURE, exit status 1.", hand)

    # /Contents: 0x30 0x80 (SEQUENCE, indefinite length) 200,000 times: 400,000 bytes of BER
    # nested 200,000 deep, in a /Contents reserved that large by pyHanko, so /ByteRange still
    # leaves out exactly the /Contents string.
    w = IncrementalPdfFileWriter(io.BytesIO(m.base))
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)
    out = io.BytesIO()
    # pyHanko's bytes_reserved counts the hex digits of /Contents: 800,000 digits, 400,000 bytes.
    signers.sign_pdf(w, meta, signer=m.mc.signer("rsa"), output=out, bytes_reserved=800_000)
    big = out.getvalue()
    s, e = m.mc.contents_span(big)
    ber = b"\x30\x80" * ((e - s) // 4)
    assert e - s == 2 * len(ber) == 800_000, (e - s)
    m.case("pdf-contents-ber-bomb", m.mc.with_contents(big, ber), FAILED, NC,
           "No crash: 400 KB of nested indefinite-length BER in /Contents. tests/fixtures/giay-phep.pdf "
           "signed by pyHanko (PAdES, Signer rsa) with 400,000 bytes (800,000 hex digits) reserved for "
           "/Contents; then "
           "this script overwrites the /Contents hex string with 0x30 0x80 (SEQUENCE, indefinite "
           "length) repeated 200,000 times, filling it exactly: /ByteRange is unchanged and still "
           "leaves out exactly the /Contents string. Not a CMS (and nested 200,000 deep): "
           "TOTAL-FAILED/FORMAT_FAILURE, exit status 1, no stack overflow.",
           m.py + " + /Contents written by tests/corpus/attacks_pdf.py")
