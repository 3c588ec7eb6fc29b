"""A PDF/A declaration made where no signature reaches: an incremental update appended after
the last %%EOF, by hand, that gives the catalog (as pikepdf reads it) a new /Metadata stream
declaring PDF/A-<PART><CONFORMANCE>. Metadata is no content, so the signatures stay valid
(a change they allow); the declaration is the word of whoever appended it. tests/export_cli.rs.

    pdfa_claims.py IN OUT PART CONFORMANCE
"""

import re
import sys

import pikepdf

src, dst, part, conformance = sys.argv[1:5]
data = open(src, "rb").read()
pdf = pikepdf.open(src)
root = pdf.trailer.Root
root_num = root.objgen[0]
size = int(pdf.trailer.Size)
items = [k.encode() + b" " + v.unparse(resolved=False) for k, v in root.items() if k != "/Metadata"]
startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
xmp = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    'xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>%s</pdfaid:part>'
    "<pdfaid:conformance>%s</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>' % (part, conformance)
).encode()
out = bytearray(data)
if not out.endswith(b"\n"):
    out += b"\n"
meta = size
at_meta = len(out)
out += b"%d 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % (meta, len(xmp)) + xmp + b"\nendstream\nendobj\n"
at_root = len(out)
out += b"%d 0 obj\n<< " % root_num + b" ".join(items) + b" /Metadata %d 0 R >>\nendobj\n" % meta
xref = len(out)
out += b"xref\n%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n" % (root_num, at_root, meta, at_meta)
out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (size + 1, root_num, startxref, xref)
open(dst, "wb").write(out)
