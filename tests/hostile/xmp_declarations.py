#!/usr/bin/env python3
"""A signed PDF given, after signing, XMP metadata of N namespace declarations on one element,
for tests/serve_hostile.rs -- the packet written by hand, the update appended with pikepdf
reading the catalog, nothing of kyso's (helper 229, 2026-12-06: a 4 MiB packet of 280,000
declarations, 700 KB in the file, held 80 MB when the archive read its PDF/A declaration at
ingest, under a 16 MiB memory limit):

    python3 xmp_declarations.py IN OUT N
"""
import re
import sys
import zlib

import pikepdf

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])


def prefix(i):
    s = b''
    while True:
        s = bytes([97 + i % 26]) + s
        i //= 26
        if i == 0:
            return s


declarations = b' '.join(b'xmlns:' + prefix(i) + b'="u"' for i in range(n))
xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
       b'xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" ' + declarations + b' pdfaid:part="2" pdfaid:conformance="B"/>'
       b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
assert len(xmp) <= 4 << 20, len(xmp)
z = zlib.compress(xmp, 9)

data = open(src, 'rb').read()
pdf = pikepdf.open(src)
num, gen = pdf.Root.objgen
catalog = pdf.Root.unparse(resolved=True).strip()[:-2]
new = int(pdf.trailer.Size)
prev = int(re.findall(rb'startxref\s+(\d+)', data)[-1])
if not data.endswith(b'\n'):
    data += b'\n'
at_stream = len(data)
s = (b'%d 0 obj\n<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length %d >>\nstream\n' % (new, len(z))
     + z + b'\nendstream\nendobj\n')
at_catalog = at_stream + len(s)
c = b'%d %d obj\n' % (num, gen) + catalog + b' /Metadata %d 0 R >>\nendobj\n' % new
x = at_catalog + len(c)
table = b'xref\n%d 1\n%010d %05d n \n%d 1\n%010d 00000 n \n' % (num, at_catalog, gen, new, at_stream)
trailer = b'trailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (new + 1, num, gen, prev, x)
open(out, 'wb').write(data + s + c + table + trailer)
