#!/usr/bin/env python3
"""A page whose text is drawn with a font named by bytes that are not UTF-8 (/F#E9, the
Latin-1 `é`, as older Vietnamese producers write), and an update made after signing that puts
another font under that name: the same text bytes then show other glyphs. kyso compared
dictionary keys as UTF-8 text, so a key that is not UTF-8 never matched itself and the swap
went unseen (found while making the comparison linear, 2026-12-02). Written with Python and
nothing of kyso's.

    font_swap.py original OUT.pdf          a one-page permit to be signed
    font_swap.py swap SIGNED.pdf OUT.pdf   SIGNED.pdf with the font under /F#E9 replaced
"""
import re
import sys

mode = sys.argv[1]

if mode == "original":
    content = b"BT /F#E9 18 Tf 72 720 Td (GIAY PHEP XAY DUNG so 42) Tj ET"
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F#E9 5 0 R >> >> >>",
        4: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    pdf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    at = {}
    for num in sorted(objs):
        at[num] = len(pdf)
        pdf += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for num in sorted(objs):
        pdf += b"%010d 00000 n \n" % at[num]
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1,
        xref,
    )
    open(sys.argv[2], "wb").write(pdf)
elif mode == "swap":
    pdf = bytearray(open(sys.argv[2], "rb").read())
    prev = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
    size = max(int(m) for m in re.findall(rb"/Size (\d+)", bytes(pdf)))
    # The page as the signed file last wrote it (the signer may have added its widget).
    page = re.findall(rb"(?s)\n3 0 obj\s*(.*?)\s*endobj", bytes(pdf))[-1]
    assert b"/F#E9 5 0 R" in page, page
    font = size
    page = page.replace(b"/F#E9 5 0 R", b"/F#E9 %d 0 R" % font)
    if not pdf.endswith(b"\n"):
        pdf += b"\n"
    at = {}
    for num, body in [
        (3, page),
        # Symbol: the same bytes, other glyphs.
        (font, b"<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>"),
    ]:
        at[num] = len(pdf)
        pdf += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n"
    for num in sorted(at):
        pdf += b"%d 1\n%010d 00000 n \n" % (num, at[num])
    pdf += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        font + 1,
        prev,
        xref,
    )
    open(sys.argv[3], "wb").write(pdf)
else:
    sys.exit(f"unknown mode {mode}")
