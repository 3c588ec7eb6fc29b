"""An incremental update appended to a signed PDF, giving its catalog one more entry: a new
stream (FlateDecode) under `key`, or a dictionary holding it. The catalog is read with pikepdf;
the update is written by hand. Shared by crl_extensions.py and xmp_declarations.py."""
import re
import zlib

import pikepdf


def with_catalog_stream(src, out, entry, stream_keys, data):
    """`src` with an update whose catalog gains `entry % N` (N the new stream's number, e.g.
    b'/Metadata %d 0 R'), the stream's dictionary holding `stream_keys` and its data `data`
    compressed."""
    z = zlib.compress(data, 9)
    pdf_bytes = open(src, 'rb').read()
    pdf = pikepdf.open(src)
    num, gen = pdf.Root.objgen
    catalog = pdf.Root.unparse(resolved=True).strip()[:-2]
    new = int(pdf.trailer.Size)
    prev = int(re.findall(rb'startxref\s+(\d+)', pdf_bytes)[-1])
    if not pdf_bytes.endswith(b'\n'):
        pdf_bytes += b'\n'
    at_stream = len(pdf_bytes)
    s = (b'%d 0 obj\n<< %s /Filter /FlateDecode /Length %d >>\nstream\n' % (new, stream_keys, len(z))
         + z + b'\nendstream\nendobj\n')
    at_catalog = at_stream + len(s)
    c = b'%d %d obj\n' % (num, gen) + catalog + b' ' + entry % new + b' >>\nendobj\n'
    x = at_catalog + len(c)
    table = b'xref\n%d 1\n%010d %05d n \n%d 1\n%010d 00000 n \n' % (num, at_catalog, gen, new, at_stream)
    trailer = b'trailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (new + 1, num, gen, prev, x)
    open(out, 'wb').write(pdf_bytes + s + c + table + trailer)
