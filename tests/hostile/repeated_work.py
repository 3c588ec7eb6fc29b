#!/usr/bin/env python3
"""PDFs that made kyso repeat the same work for every signed revision, signature or field
(found by a fourth complexity reading, helper 215, 2026-12-06), each measured in a debug build
before the fix. Written by hand (Python), nothing of kyso's; the signatures are placeholders
(their /ByteRange is real, their CMS is not), which is all the costly reading needs.

    python3 repeated_work.py OUTDIR

OUTDIR gets:
  field-names.pdf       200 form fields whose /T all name one 2 MB string in an object stream:
                        each field's name was resolved and decoded (signing 28 s for 4.5 KB).
  revisions-array.pdf   eight signed revisions; the catalog names one 5.5-million-element
                        array in an object stream: each signed revision parsed it with a
                        budget of its own (memory 8 x 500 MB: the process aborted).
  xrefstm-blanks.pdf    1,000 cross-reference streams, each listing its own number at the
                        start of one megabyte of blank lines: each walked it (21 s, 1.2 MB).
  unparsed-blanks.pdf   2,000 headers `5 0 obj` kyso cannot parse before object 5, whose
                        entry points at the start of a megabyte of blank lines, signed, then
                        updated: each walked it (43 s, 2 MB).
  signatures-refs.pdf   64 signatures over the whole file, whose cross-reference stream leaves
                        its own number out, and an array of 5 million references: every
                        object re-read for each signature (51 s, 70 KB).
  sections-names.pdf    3,000 one-object updates behind a 2 MB string, signed: the scan for
                        /Encrypt names ran over the whole file for every earlier revision's
                        view (16.6 s for 2.5 MB; my own, found re-reading the change).
  revisions-table.pdf   64 signed revisions over one cross-reference stream of 300,000 free
                        entries behind a megabyte of padding: each signed revision read the
                        whole table with a count of its own (1.1 GB; a 4 MB file of this
                        shape held 4.9 GB; found while measuring, 2026-12-06).

    python3 repeated_work.py OUTDIR --upload-limit

writes only revisions-table-32m.pdf: the same shape at the service's upload limit (8,000,000
entries behind 32 MB of padding), which held 2.4 GB after the shared count and before
limits.validation_memory_mib (docs/benchmarks.md, "Memory").
"""
import os
import re
import sys
import zlib

D = sys.argv[1]
UPLOAD_LIMIT = sys.argv[2:] == ["--upload-limit"]
os.makedirs(D, exist_ok=True)


class PDF:
    def __init__(self):
        self.buf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.offsets = {}

    def add(self, num, body):
        if isinstance(body, str):
            body = body.encode()
        self.offsets[num] = len(self.buf)
        self.buf += b"%d 0 obj\n" % num + body + b"\nendobj\n"

    def add_stream(self, num, extra, data, compress=True):
        if compress:
            data = zlib.compress(data, 9)
            d = b"<< /Length %d /Filter /FlateDecode %s >>" % (len(data), extra)
        else:
            d = b"<< /Length %d %s >>" % (len(data), extra)
        self.offsets[num] = len(self.buf)
        self.buf += b"%d 0 obj\n" % num + d + b"\nstream\n" + data + b"\nendstream\nendobj\n"

    def classic_xref(self, trailer, entries, prev=None, size=None):
        """entries: num -> (offset, gen, 'n' or 'f')."""
        x = len(self.buf)
        out = bytearray(b"xref\n")
        for n in sorted(entries):
            o, g, k = entries[n]
            out += b"%d 1\n%010d %05d %s\r\n" % (n, o, g, k.encode())
        size = size or max(entries) + 1
        t = b"<< /Size %d %s" % (size, trailer) + (b" /Prev %d" % prev if prev is not None else b"")
        self.buf += out + b"trailer\n" + t + b" >>\nstartxref\n%d\n%%%%EOF\n" % x
        self.offsets = {}
        return x

    def xref_stream(self, num, trailer, entries=None, prev=None, size=None, own=True):
        """entries: num -> (type, field 2, field 3); own: list the stream itself."""
        if entries is None:
            entries = {n: (1, o, 0) for n, o in self.offsets.items()}
        x = len(self.buf)
        entries = dict(entries)
        if own:
            entries[num] = (1, x, 0)
        nums = sorted(entries)
        body = b"".join(t.to_bytes(1, "big") + a.to_bytes(4, "big") + b.to_bytes(4, "big")
                        for t, a, b in (entries[n] for n in nums))
        index = b" ".join(b"%d 1" % n for n in nums)
        size = size or max(nums) + 1
        extra = b"/Type /XRef /Size %d /W [1 4 4] /Index [%s] %s" % (size, index, trailer)
        if prev is not None:
            extra += b" /Prev %d" % prev
        data = zlib.compress(body, 9)
        self.buf += (b"%d 0 obj\n<< /Length %d /Filter /FlateDecode %s >>\nstream\n" % (num, len(data), extra)
                     + data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % x)
        self.offsets = {}
        return x


def objstm(members):
    head, body = bytearray(), bytearray()
    for n, b in members:
        head += b"%d %d " % (n, len(body))
        body += b + b"\n"
    return b"/Type /ObjStm /N %d /First %d" % (len(members), len(head)), bytes(head) + bytes(body)


PLACEHOLDER = rb"/ByteRange \[0 AAAAAAAAAA BBBBBBBBBB CCCCCCCCCC\] /Contents <"


def sig(num):
    return ("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange "
            "[0 AAAAAAAAAA BBBBBBBBBB CCCCCCCCCC] /Contents <%s> >>" % ("30" * 64))


def byteranges(buf, ends):
    """Each placeholder, in order, covering the file up to its end in `ends` (or the file's)."""
    for k, m in enumerate(re.finditer(PLACEHOLDER, buf)):
        b = m.end() - 1
        c = b + 2 + 128
        end = ends[k] if ends else len(buf)
        buf[m.start():m.end()] = b"/ByteRange [0 %010d %010d %010d] /Contents <" % (b, c, end - c)
    return buf


def write(name, buf):
    if UPLOAD_LIMIT and name != "revisions-table-32m.pdf":
        return
    open(os.path.join(D, name), "wb").write(bytes(buf))


# field-names.pdf
p = PDF()
p.add(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 6 0 R >> >>")
p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
p.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
members = [(6, b"[" + b" ".join(b"%d 0 R" % (1000 + i) for i in range(200)) + b"]")]
members += [(1000 + i, b"<</T 99 0 R /FT /Tx>>") for i in range(200)]
members.append((99, b"(" + b"a" * 2_000_000 + b")"))
d, data = objstm(members)
p.add_stream(500, d, data)
entries = {0: (0, 0, 65535)}
entries.update({n: (2, 500, i) for i, (n, _) in enumerate(members)})
entries.update({n: (1, o, 0) for n, o in p.offsets.items()})
p.xref_stream(900, b"/Root 1 0 R", entries=entries)
write("field-names.pdf", p.buf)

# revisions-array.pdf
p = PDF()


def catalog(n):
    return "<< /Type /Catalog /Pages 2 0 R /Big 6 0 R /AcroForm << /Fields [%s] /SigFlags 3 >> >>" % \
        " ".join("%d 0 R" % (10 + i) for i in range(n))


def page(n):
    return "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [%s] >>" % \
        " ".join("%d 0 R" % (10 + i) for i in range(n))


p.add(1, catalog(0))
p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
p.add(3, page(0))
d, data = objstm([(6, b"[" + b"0 " * 5_500_000 + b"]")])
p.add_stream(5, d, data)
entries = {0: (0, 0, 65535), 6: (2, 5, 0)}
entries.update({n: (1, o, 0) for n, o in p.offsets.items()})
prev = p.xref_stream(1000, b"/Root 1 0 R", entries=entries, size=1100)


def signed_revisions(p, prev, count, first_xref, size):
    """`count` updates over `prev`, each adding a signature field and its placeholder
    signature; the end of each."""
    ends = []
    for k in range(count):
        p.add(1, catalog(k + 1))
        p.add(3, page(k + 1))
        p.add(10 + k, "<< /FT /Sig /T (S%d) /V %d 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 >>" % (k, 200 + k))
        p.add(200 + k, sig(200 + k))
        prev = p.xref_stream(first_xref + k, b"/Root 1 0 R", prev=prev, size=size)
        ends.append(len(p.buf))
    return ends


write("revisions-array.pdf", byteranges(p.buf, signed_revisions(p, prev, 8, 1001, 1100)))

# xrefstm-blanks.pdf
p = PDF()
p.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
p.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>")
p.add_stream(4, b"", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET", compress=False)
blank = len(p.buf)
p.buf += b"\n" * 1_000_000
entries = {0: (0, 0, 65535), 100: (1, blank, 0)}
entries.update({n: (1, o, 0) for n, o in p.offsets.items()})
prev = p.xref_stream(100, b"/Root 1 0 R", entries=entries, own=False, size=1101)
for k in range(1, 1000):
    prev = p.xref_stream(100 + k, b"/Root 1 0 R", entries={100 + k: (1, blank, 0)}, own=False,
                         prev=prev, size=1101)
write("xrefstm-blanks.pdf", p.buf)

# unparsed-blanks.pdf
p = PDF()
p.add(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R] /SigFlags 3 >> >>")
p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
p.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R /Annots [10 0 R] >>")
p.add(10, "<< /FT /Sig /T (S0) /V 11 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 >>")
p.add(11, sig(11))
p.buf += b"5 0 obj <</A 1 /A 2>> endobj\n" * 2000
blank = len(p.buf)
p.buf += b"\n" * 1_000_000
p.add_stream(5, b"", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET", compress=False)
entries = {0: (0, 65535, "f")}
entries.update({n: (o, 0, "n") for n, o in p.offsets.items()})
entries[5] = (blank, 0, "n")
x = p.classic_xref(b"/Root 1 0 R", entries)
signed_end = len(p.buf)
p.add(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R] /SigFlags 3 >> >>")
p.classic_xref(b"/Root 1 0 R", {n: (o, 0, "n") for n, o in p.offsets.items()}, prev=x, size=12)
write("unparsed-blanks.pdf", byteranges(p.buf, [signed_end]))

# signatures-refs.pdf
p = PDF()
fields = " ".join("%d 0 R" % (10 + i) for i in range(64))
p.add(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] /SigFlags 3 >> >>" % fields)
p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
p.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [%s] >>" % fields)
for i in range(64):
    p.add(10 + i, "<< /FT /Sig /T (S%d) /V %d 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 >>" % (i, 200 + i))
    p.add(200 + i, sig(200 + i))
p.add(9, "null")
d, data = objstm([(6, b"[" + b"9 0 R " * 5_000_000 + b"]")])
p.add_stream(5, d, data)
entries = {0: (0, 0, 65535), 6: (2, 5, 0)}
entries.update({n: (1, o, 0) for n, o in p.offsets.items()})
p.xref_stream(7, b"/Root 1 0 R", entries=entries, own=False, size=300)
write("signatures-refs.pdf", byteranges(p.buf, None))

# sections-names.pdf
p = PDF()
p.add(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>")
p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
p.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
p.add(4, b"(" + b"a" * 2_000_000 + b")")
p.add(5, "<< /FT /Sig /T (S0) /V 6 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /F 132 >>")
p.add(6, sig(6))
entries = {0: (0, 65535, "f")}
entries.update({n: (o, 0, "n") for n, o in p.offsets.items()})
prev = p.classic_xref(b"/Root 1 0 R", entries)
for k in range(3000):
    p.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    prev = p.classic_xref(b"/Root 1 0 R", {n: (o, 0, "n") for n, o in p.offsets.items()}, prev=prev, size=7)
write("sections-names.pdf", byteranges(p.buf, None))

# revisions-table.pdf (and, --upload-limit, revisions-table-32m.pdf)
def revisions_table(name, n, pad, w3=4):
    p = PDF()
    p.add(1, catalog(0))
    p.add(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    p.add(3, page(0))
    p.add_stream(4, b"", b"%" * pad, compress=False)
    # One subsection of n + 1 entries (`/Index [0 n+1]`), all free but the five objects and
    # the stream itself: 5 + w3 bytes each (decoded within kyso's 64 MiB a stream), compressed
    # to a few kilobytes a 300,000.
    entries = {k: (0, 0, 0) for k in range(n)}
    entries.update({k: (1, o, 0) for k, o in p.offsets.items()})
    prev = len(p.buf)
    entries[n] = (1, prev, 0)
    body = zlib.compress(b"".join(t.to_bytes(1, "big") + a.to_bytes(4, "big") + b.to_bytes(w3, "big")
                                  for t, a, b in (entries[k] for k in range(n + 1))), 9)
    p.buf += (b"%d 0 obj\n<< /Length %d /Filter /FlateDecode /Type /XRef /Size %d /W [1 4 %d] "
              b"/Index [0 %d] /Root 1 0 R >>\nstream\n" % (n, len(body), n + 100, w3, n + 1)
              + body + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % prev)
    p.offsets = {}
    write(name, byteranges(p.buf, signed_revisions(p, prev, 64, n + 11, n + 100)))


revisions_table("revisions-table.pdf", 300_000, 1_000_000)
if UPLOAD_LIMIT:
    revisions_table("revisions-table-32m.pdf", 8_000_000, 32_000_000, w3=1)
