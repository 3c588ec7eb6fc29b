#!/usr/bin/env python3
"""A signed PDF given, after signing, XMP metadata of N namespace declarations on one element,
for tests/serve_hostile.rs -- the packet written by hand, the update appended by
catalog_update.py (pikepdf reads the catalog), nothing of kyso's (helper 229, 2026-12-06: a 4 MiB packet of 280,000
declarations, 700 KB in the file, held 80 MB when the archive read its PDF/A declaration at
ingest, under a 16 MiB memory limit):

    python3 xmp_declarations.py IN OUT N
"""
import sys

from catalog_update import with_catalog_stream

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
with_catalog_stream(src, out, b'/Metadata %d 0 R', b'/Type /Metadata /Subtype /XML', xmp)
