"""Documents a signer must not sign as asked, for tests/sign_cli.rs -- made with pyHanko, OpenSSL
and byte edits, nothing of kyso's (found by an attacker's reading, 2026-12-02):

    python3 signing_inputs.py nested IN OUT      IN signed by pyHanko in the field Grp.Sig1, a kid
                                                 of the field Grp (not at the form's top level)
    python3 signing_inputs.py docmdp IN OUT P    IN certified (OpenSSL CMS, a hand-written update)
                                                 with its DocMDP /P written as P: 4, 0, "9 0 R"...
    python3 signing_inputs.py size IN OUT        IN with an update whose trailer says
                                                 /Size 4294967295

Documents that PDF readers show otherwise once a signature's update is appended (found by an
attacker's reading, 2026-12-03: "pay 100 VND" shown before signing, another text after):

    python3 signing_inputs.py tail IN OUT        IN and 1,500 spaces: its startxref is past the
                                                 last 1,024 bytes, where readers look for it
    python3 signing_inputs.py prefix IN OUT      400 bytes of junk, then IN (Poppler counts
                                                 offsets from the header)
    python3 signing_inputs.py version IN OUT     IN with its header %PDF-X.Y, naming no version
                                                 (as pyHanko's test file minimal-illegal-header)
    python3 signing_inputs.py twice IN OUT       IN's page content written again after its end,
                                                 unlisted (a repairing reader shows it)
    python3 signing_inputs.py streampage IN OUT  IN with its page rewritten as a stream (no page
                                                 to Poppler)
    python3 signing_inputs.py root IN OUT        IN and, after its end, a trailer whose /Root names
                                                 another catalog (readers rebuilding the table
                                                 open the last one they find)
    python3 signing_inputs.py lin-xref IN OUT    a linearized file (byte edits) whose section after
                                                 the linearization dictionary, which Poppler
                                                 reads, places the page content at an earlier
                                                 version than the section startxref names (IN
                                                 unused)
    python3 signing_inputs.py lin-hint IN OUT    three pages linearized by qpdf (pikepdf), pages 2
                                                 and 3 then swapped in the page tree, not in the
                                                 hint tables (Poppler shows the hints' order;
                                                 IN unused)
    python3 signing_inputs.py objstm-past IN OUT an xref stream placing object 30 in object
                                                 stream 31, past its /Size (MuPDF rebuilds the
                                                 table, and shows a plain object the table frees)
    python3 signing_inputs.py dangling IN OUT    a hybrid file whose page names 30 0 R, its /Size:
                                                 Poppler rebuilds the table and takes a plain
                                                 header over an object-stream member (IN unused)
    python3 signing_inputs.py dangling-both IN OUT  the same, its /XRefStm also placing 29 in
                                                 object stream 30 (MuPDF rebuilds too)
    python3 signing_inputs.py shadow IN OUT T    a hybrid file whose page is in an object stream
                                                 (pay 999999 VND) with a plain header of the same
                                                 number the table does not use (pay 100 VND: what
                                                 Poppler rebuilding the table shows); T the
                                                 trigger: none, info-gen (/Info 20 1 R, the table
                                                 holding 20 0), wrong-header (the table placing
                                                 20 at object 10's header) (IN unused)
    python3 signing_inputs.py gap IN OUT V       a sixth reading's files (IN unused), V one of:
                                                 objstm-first (an object stream whose first
                                                 offset is 200, a decoy where Poppler reads),
                                                 objstm-big (page 1 only in an object stream
                                                 holding member 3000000000, which Poppler drops),
                                                 wrap (`4294967299 0 obj` after page 1, object 3
                                                 to readers that repair), objx (a line
                                                 `3 0 objx`, a header to Poppler's rebuild),
                                                 midcount (a node of two pages saying /Count 1),
                                                 nul, split, endobj-line (a header only Poppler's
                                                 rebuild reads: a NUL, a 255-byte split, after
                                                 `endobj`), wrap20 (a 20-digit number MuPDF
                                                 wraps to 3), hidden (a line `12` before page
                                                 1's header, which Poppler's rebuild then does
                                                 not see), typeless (a node without /Type
                                                 holding a /MediaBox: a page to MuPDF),
                                                 offws (an honest file whose table points one
                                                 byte before a header)
    python3 signing_inputs.py mupdf IN OUT V     an eighth reading's files, of MuPDF's repair (IN
                                                 unused), V one of: size (an older section's
                                                 trailer saying /Size 99999999, which makes MuPDF
                                                 repair, before signing and after), root (after
                                                 the trailer, `<</Root 8-1 0 R>>`: catalog 8 to
                                                 MuPDF's repair, no reference to kyso), member
                                                 (an object stream no table uses, its member
                                                 numbered 13, the number the update would give
                                                 its widget: a stamp covering the page)
    python3 signing_inputs.py count IN OUT       IN with a second page in its page tree and /Count
                                                 left at 1 (readers show one page)
    python3 signing_inputs.py linearized IN OUT  IN with a second page, linearized by qpdf
                                                 (pikepdf): an honest file
    python3 signing_inputs.py lin-o IN OUT       the same with /O naming the second page (Poppler
                                                 shows it first while /L is the file's length)
    python3 signing_inputs.py shared IN OUT      IN with a second page, both pages naming one
                                                 indirect /Annots array (pikepdf)
    python3 signing_inputs.py annots IN -        prints how many annotations each page of IN has
    python3 signing_inputs.py crop IN OUT        IN with a /CropBox of [100 100 400 500] on its
                                                 page (pikepdf)
    python3 signing_inputs.py rotate IN OUT R    IN with its page's /Rotate R (pikepdf)
    python3 signing_inputs.py deep-crop IN OUT   the crop above on the page tree's root, the
                                                 page 64 levels below it (pikepdf)
    python3 signing_inputs.py cert3-lock2 IN OUT IN certified by pyHanko with P=3, then signed
                                                 in a field locked with /P 2
    python3 signing_inputs.py signed IN OUT      IN signed by pyHanko
    python3 signing_inputs.py locked IN OUT      IN signed by pyHanko in a field locked with
                                                 /P 1 ("lock document after signing")
    python3 signing_inputs.py locked-cosigned IN OUT
                                                 that, then signed again by pyHanko
    python3 signing_inputs.py fields-annots IN OUT
                                                 IN on three pages, a text field whose one
                                                 indirect array is the form's /Fields and page
                                                 1's /Annots (pikepdf)
    python3 signing_inputs.py rects IN -         prints each page's /CropBox and its
                                                 annotations' /Rect

Keys and certificates are made in a temporary folder (self-signed: only what the signer does
with the document matters, not whom it trusts).
"""
import os
import re
import subprocess
import sys
import tempfile

mode, src_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
src = open(src_path, 'rb').read()
tmp = tempfile.mkdtemp()


def key_and_cert():
    key, cert = os.path.join(tmp, 'k.pem'), os.path.join(tmp, 'c.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
                    '-out', cert, '-days', '30', '-subj', '/C=VN/O=Other agency/CN=Other official',
                    # An official's certificate, not a CA's (it is trusted as itself).
                    '-addext', 'basicConstraints=critical,CA:FALSE',
                    '-addext', 'keyUsage=critical,digitalSignature,nonRepudiation'],
                   check=True, capture_output=True)
    return key, cert


def obj(n):
    m = re.search(rb'(?<![0-9])%d 0 obj\s*(.*?)\s*endobj' % n, src, re.S)
    return m.group(1)


def update(objs, size):
    """An incremental update (a classic xref table) replacing or adding `objs`."""
    body = bytearray(src if src.endswith(b'\n') else src + b'\n')
    offs = {}
    for n in sorted(objs):
        offs[n] = len(body)
        body += b'%d 0 obj\n' % n + objs[n] + b'\nendobj\n'
    prev = int(re.findall(rb'startxref\s+(\d+)', src)[-1])
    root = re.findall(rb'/Root\s+(\d+)\s+0\s+R', src)[-1]
    x = len(body)
    body += b'xref\n'
    for n in sorted(offs):
        body += b'%d 1\n%010d 00000 n\r\n' % (n, offs[n])
    body += b'trailer\n<< /Size %d /Root %s 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (
        size, root, prev, x)
    return body


def size_of():
    return max(int(s) for s in re.findall(rb'/Size\s+(\d+)', src))


if mode == 'nested':
    from pyhanko.sign import fields, signers
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    key, cert = key_and_cert()
    signer = signers.SimpleSigner.load(key, cert)
    w = IncrementalPdfFileWriter(open(src_path, 'rb'), strict=False)
    res = signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name='Grp.Sig1'), signer=signer,
                           new_field_spec=fields.SigFieldSpec('Grp.Sig1'))
    open(out, 'wb').write(res.getvalue())
elif mode == 'docmdp':
    p = sys.argv[4].encode()
    root_num = int(re.findall(rb'/Root\s+(\d+)\s+0\s+R', src)[-1])
    cat = obj(root_num)
    pages = int(re.search(rb'/Pages (\d+) 0 R', cat).group(1))
    page_num = int(re.search(rb'/Kids\s*\[\s*(\d+) 0 R', obj(pages)).group(1))
    page = obj(page_num)
    assert b'/Annots' not in page and b'/AcroForm' not in cat, 'a fixture without a form'
    n = size_of()
    sig_n, widget_n, form_n, one_n = n, n + 1, n + 2, n + 3
    p = p.replace(b'ONE', b'%d 0 R' % one_n)
    res = 8192
    br = b'/ByteRange [0 0000000000 0000000000 0000000000]'
    sig = (b'<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached ' + br +
           b' /Contents <' + b'0' * (2 * res) + b"> /M (D:20261202120000+07'00') /Reference [ << "
           b'/Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P '
           + p + b' /V /1.2 >> >> ] >>')
    body = update({
        root_num: cat[:-2] + b' /Perms << /DocMDP %d 0 R >> /AcroForm %d 0 R >>' % (sig_n, form_n),
        page_num: page.rstrip()[:-2] + b' /Annots [%d 0 R] >>' % widget_n,
        sig_n: sig,
        widget_n: b'<< /Type /Annot /Subtype /Widget /FT /Sig /T (Cert1) /V %d 0 R /F 132 '
                  b'/Rect [0 0 0 0] /P %d 0 R >>' % (sig_n, page_num),
        form_n: b'<< /Fields [%d 0 R] /SigFlags 3 >>' % widget_n,
        one_n: b'1',
    }, one_n + 1)
    c0 = body.index(b'/Contents <') + len(b'/Contents ')
    c1 = c0 + 2 * res + 2
    i = body.index(br)
    body[i:i + len(br)] = b'/ByteRange [0 %010d %010d %010d]' % (c0, c1, len(body) - c1)
    ranges = os.path.join(tmp, 'ranges.bin')
    open(ranges, 'wb').write(bytes(body[:c0]) + bytes(body[c1:]))
    key, cert = key_and_cert()
    der = os.path.join(tmp, 'cms.der')
    subprocess.run(['openssl', 'cms', '-sign', '-binary', '-md', 'sha256', '-cades', '-in', ranges,
                    '-signer', cert, '-inkey', key, '-outform', 'DER', '-out', der], check=True)
    cms = open(der, 'rb').read().hex().upper().encode()
    body[c0 + 1:c0 + 1 + len(cms)] = cms
    open(out, 'wb').write(bytes(body))
elif mode == 'size':
    root_num = int(re.findall(rb'/Root\s+(\d+)\s+0\s+R', src)[-1])
    cat = obj(root_num)
    open(out, 'wb').write(bytes(update({root_num: cat}, 4294967295)))
elif mode == 'tail':
    open(out, 'wb').write(src + b' ' * 1500)
elif mode == 'prefix':
    # Offsets moved by the junk, as counted from the file's first byte (kyso, MuPDF).
    junk = b'JUNK' * 100
    b = re.sub(rb'(?m)^(\d{10}) (\d{5}) n', lambda m: b'%010d %s n' % (int(m.group(1)) + len(junk),
                                                                    m.group(2)), src)
    b = re.sub(rb'startxref\s+(\d+)', lambda m: b'startxref\n%d' % (int(m.group(1)) + len(junk)), b)
    open(out, 'wb').write(junk + b)
elif mode == 'version':
    assert re.match(rb'%PDF-\d\.\d', src), src[:9]
    open(out, 'wb').write(b'%PDF-X.Y' + src[8:])
elif mode == 'twice':
    root_num = int(re.findall(rb'/Root\s+(\d+)\s+0\s+R', src)[-1])
    pages = int(re.search(rb'/Pages (\d+) 0 R', obj(root_num)).group(1))
    page_num = int(re.search(rb'/Kids\s*\[\s*(\d+) 0 R', obj(pages)).group(1))
    content = int(re.search(rb'/Contents (\d+) 0 R', obj(page_num)).group(1))
    text = b'BT /F1 24 Tf 72 700 Td (pay 999999 VND) Tj ET'
    open(out, 'wb').write(src + b'%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n'
                          % (content, len(text), text))
elif mode == 'root':
    open(out, 'wb').write(src + b'trailer\n<< /Root 99 0 R >>\n')
elif mode == 'lin-xref':
    font = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'

    def content(t):
        t = b'BT /F1 24 Tf 72 700 Td (%s) Tj ET' % t
        return b'<< /Length %d >>\nstream\n%s\nendstream' % (len(t), t)

    objs = [(1, b'<< /Type /Catalog /Pages 2 0 R >>'),
            (2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] '
                b'/Resources << /Font << /F1 5 0 R >> >> >>'),
            (3, b'<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>'),
            (5, font), (4, content(b'pay 100 VND')), (4, content(b'pay 999999 VND'))]

    def section(offs):
        return b'xref\n0 11\n0000000000 65535 f\r\n' + b''.join(
            b'%010d 00000 n\r\n' % offs[n] if n in offs else b'0000000000 65535 f\r\n'
            for n in range(1, 11)) + b'trailer\n<< /Size 11 /Root 1 0 R >>\n'

    def build(length):
        b = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
        b += b'10 0 obj\n<< /Linearized 1 /L %010d /O 3 /N 1 /H [0 0] /E 0 /T 0 >>\nendobj\n' % length
        first_page = len(b)
        b += section({})
        offs, earlier = {}, None
        for n, body in objs:
            if n == 4 and earlier is None:
                earlier = len(b)
            offs[n] = len(b)
            b += b'%d 0 obj\n%s\nendobj\n' % (n, body)
        b[first_page:first_page + len(section({}))] = section({**offs, 4: earlier})
        x = len(b)
        b += section(offs) + b'startxref\n%d\n%%%%EOF\n' % x
        return bytes(b)

    made = build(0)
    made = build(len(made))
    assert b'/L %010d' % len(made) in made
    open(out, 'wb').write(made)
elif mode in ('objstm-past', 'dangling', 'dangling-both'):
    import struct
    head = b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'
    font = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'

    def stream(content, extra=b''):
        return b'<< /Length %d %s >>\nstream\n%s\nendstream' % (len(content), extra, content)

    def text(t):
        return b'BT /F1 24 Tf 72 700 Td (%s) Tj ET' % t

    b, offs = bytearray(head), {}

    def put(n, body):
        offs[n] = len(b)
        b.extend(b'%d 0 obj\n%s\nendobj\n' % (n, body))

    if mode == 'objstm-past':
        size = 31
        put(1, b'<< /Type /Catalog /Pages 2 0 R >>')
        put(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
        put(3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] '
               b'/Resources << /Font << /F1 5 0 R >> >> /Contents [6 0 R 8 0 R] >>')
        put(5, font)
        put(6, stream(text(b'pay 100 VND') + b'\n('))      # freed; its string swallows 8
        put(8, stream(text(b'pay 999999 VND') + b'\n%)'))
        x = len(b)
        rows = b''
        for n in range(size):
            if n == 0:
                rows += struct.pack('>BIH', 0, 0, 65535)
            elif n in offs and n != 6:
                rows += struct.pack('>BIH', 1, offs[n], 0)
            elif n == 30:
                rows += struct.pack('>BIH', 2, size, 0)
            else:
                rows += struct.pack('>BIH', 0, 0, 0)
        b += b'9 0 obj\n%s\nendobj\n' % stream(
            rows, b'/Type /XRef /W [1 4 2] /Size %d /Root 1 0 R' % size)
        b += b'startxref\n%d\n%%%%EOF\n' % x
    else:
        size = 30
        form = b'/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>'
        put(1, b'<< /Type /Catalog /Pages 2 0 R >>')
        put(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
        put(3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /LastModified %d 0 R '
               b'/Resources 6 0 R /Contents 8 0 R >>' % size)
        put(5, font)
        put(6, b'<< /XObject << /X 10 0 R >> >>')             # the plain version
        put(8, stream(b'/X Do'))
        put(10, stream(text(b'pay 100 VND'), form))
        put(11, stream(text(b'pay 999999 VND'), form))
        member, index = b'<< /XObject << /X 11 0 R >> >>', b'6 0 '.ljust(8)
        put(7, stream(index + member, b'/N 1 /First %d' % len(index)))
        rows = struct.pack('>BIH', 2, 7, 0)
        ranges = b'6 1'
        if mode == 'dangling-both':
            rows += struct.pack('>BIH', 2, size, 0)
            ranges += b' 29 1'
        xs = len(b)
        put(9, stream(rows, b'/Type /XRef /W [1 4 2] /Size %d /Index [%s]' % (size, ranges)))
        x = len(b)
        t = b'xref\n0 1\n0000000000 65535 f\r\n'
        for n in sorted(offs):
            if n != 6:
                t += b'%d 1\n%010d 00000 n\r\n' % (n, offs[n])
        b += t + b'trailer\n<< /Size %d /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n' % (
            size, xs, x)
    open(out, 'wb').write(bytes(b))
elif mode == 'shadow':
    import struct
    trigger = sys.argv[4]
    size = 21
    b, offs = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), {}

    def stream(content, extra=b''):
        return b'<< /Length %d %s >>\nstream\n%s\nendstream' % (len(content), extra, content)

    def put(n, body, listed=True):
        if listed:
            offs[n] = len(b)
        b.extend(b'%d 0 obj\n%s\nendobj\n' % (n, body))

    page = (b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] '
            b'/Resources << /Font << /F1 5 0 R >> >> /Contents %d 0 R >>')
    if trigger == 'objstm-only':
        # No plain page 3 at all; the catalog names 16, which the table frees.
        put(1, b'<< /Type /Catalog /Pages 2 0 R /OCProperties 16 0 R >>')
        put(2, b'<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 1 >>')
        put(4, page % 10)
    else:
        put(1, b'<< /Type /Catalog /Pages 2 0 R >>')
        put(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
        put(3, page % 10, listed=False)
    put(5, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>')
    put(10, stream(b'BT /F1 24 Tf 72 700 Td (pay 100 VND) Tj ET'))
    put(11, stream(b'BT /F1 24 Tf 72 700 Td (pay 999999 VND) Tj ET'))
    if trigger != 'wrong-header':
        put(20, b'<< /Producer (a writer) >>')
    index = b'3 0 '.ljust(8)
    put(7, stream(index + page % 11, b'/Type /ObjStm /N 1 /First %d' % len(index)))
    xs = len(b)
    put(9, stream(struct.pack('>BIH', 2, 7, 0), b'/Type /XRef /W [1 4 2] /Size %d /Index [3 1]' % size))
    if trigger == 'wrong-header':
        offs[20] = offs[10]
    x = len(b)
    t = b'xref\n0 1\n0000000000 65535 f\r\n'
    for n in sorted(offs):
        t += b'%d 1\n%010d 00000 n\r\n' % (n, offs[n])
    info = b'/Info 20 1 R' if trigger == 'info-gen' else b'/Info 20 0 R'
    b += t + b'trailer\n<< /Size %d /Root 1 0 R %s /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n' % (
        size, info, xs, x)
    open(out, 'wb').write(bytes(b))
elif mode == 'gap':
    import struct
    variant = sys.argv[4]
    size = 21
    b, offs = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), {}

    def stream(content, extra=b''):
        return b'<< /Length %d %s >>\nstream\n%s\nendstream' % (len(content), extra, content)

    def text(t):
        return b'BT /F1 24 Tf 72 700 Td (%s) Tj ET' % t

    def put(n, body):
        offs[n] = len(b)
        b.extend(b'%d 0 obj\n%s\nendobj\n' % (n, body))

    def page(parent, content):
        return (b'<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] '
                b'/Resources << /Font << /F1 5 0 R >> >> /Contents %d 0 R >>' % (parent, content))

    injected = {'objx': b'3 0 objx', 'nul': b'3\x00junk\n0 objx', 'split': b' ' * 254 + b'30 objx',
                'endobj-line': b'x endobj 3 0 objx'}
    wrapped = {'wrap': b'4294967299 0 obj', 'wrap20': b'18446744073709551619 0 %c\nobj'}
    trigger = (b' /OCProperties 16 0 R' if variant in ('wrap', 'wrap20', 'hidden', *injected)
               else b'')
    put(1, b'<< /Type /Catalog /Pages 2 0 R%s >>' % trigger)
    if variant in ('midcount', 'typeless'):
        put(2, b'<< /Type /Pages /Kids [6 0 R 7 0 R] /Count 3 >>')
        if variant == 'midcount':
            put(6, b'<< /Type /Pages /Parent 2 0 R /Kids [3 0 R 4 0 R] /Count 1 >>')
        else:
            put(6, b'<< /Parent 2 0 R /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 612 792] >>')
        put(3, page(6, 10))
        put(4, page(6, 11))
        put(7, page(2, 12))
        put(12, stream(text(b'page 3')))
    elif variant == 'offws':
        put(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
        put(3, page(2, 10))
        offs[3] -= 1
    elif variant in ('objstm-first', 'objstm-big'):
        put(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>' if variant == 'objstm-first'
            else b'<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 1 >>')
        if variant == 'objstm-big':
            put(4, page(2, 10))
    else:
        put(2, b'<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 1 >>')
        if variant == 'hidden':
            b.extend(b'12\n')  # a line holding a number: Poppler reads the next as its rest
        put(3, page(2, 11))
        if variant in wrapped:
            b.extend(b'%s\n%s\nendobj\n' % (wrapped[variant], page(2, 10)))
        put(4, page(2, 10))
        if variant in injected:
            put(12, stream(b'% data\n' + injected[variant] + b'\n% more data'))
    put(5, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>')
    put(10, stream(text(b'pay 100 VND')))
    put(11, stream(text(b'pay 999999 VND')))
    put(20, b'<< /Producer (a writer) >>')
    if variant in ('objstm-first', 'objstm-big'):
        if variant == 'objstm-first':
            index = b'3 200 '.ljust(200)
            data = index + page(2, 10).ljust(200) + page(2, 11)
        else:
            member = page(2, 11)
            index = b'3 0 3000000000 %d ' % (len(member) + 1)
            data = index + member + b' null'
        put(7, stream(data, b'/Type /ObjStm /N %d /First %d' % (
            1 if variant == 'objstm-first' else 2, len(index))))
        x = len(b)
        rows = b''
        for n in range(size):
            if n == 0:
                rows += struct.pack('>BIH', 0, 0, 65535)
            elif n == 3:
                rows += struct.pack('>BIH', 2, 7, 0)
            elif n == 9:
                rows += struct.pack('>BIH', 1, x, 0)
            elif n in offs:
                rows += struct.pack('>BIH', 1, offs[n], 0)
            else:
                rows += struct.pack('>BIH', 0, 0, 0)
        b += b'9 0 obj\n%s\nendobj\n' % stream(
            rows, b'/Type /XRef /W [1 4 2] /Size %d /Root 1 0 R /Info 20 0 R' % size)
    else:
        x = len(b)
        t = b'xref\n0 1\n0000000000 65535 f\r\n'
        for n in sorted(offs):
            sep = b'\t' if variant in wrapped and n == 3 else b' '
            t += b'%d%s1\n%010d 00000 n\r\n' % (n, sep, offs[n])
        b += t + b'trailer\n<< /Size %d /Root 1 0 R /Info 20 0 R >>\n' % size
    b += b'startxref\n%d\n%%%%EOF\n' % x
    open(out, 'wb').write(bytes(b))
elif mode == 'mupdf':
    variant = sys.argv[4]
    b, offs = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), {}

    def stream(content, extra=b''):
        return b'<< /Length %d %s >>\nstream\n%s\nendstream' % (len(content), extra, content)

    def text(t):
        return b'BT /F1 24 Tf 72 700 Td (%s) Tj ET' % t

    def put(n, body):
        offs[n] = len(b)
        b.extend(b'%d 0 obj\n%s\nendobj\n' % (n, body))

    def page(parent, content):
        return (b'<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] '
                b'/Resources << /Font << /F1 5 0 R >> >> /Contents %d 0 R >>' % (parent, content))

    def table(nums):
        return b'xref\n0 1\n0000000000 65535 f\r\n' + b''.join(
            b'%d 1\n%010d 00000 n\r\n' % (n, offs[n]) for n in nums)

    put(1, b'<< /Type /Catalog /Pages 2 0 R >>')
    put(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
    put(3, page(2, 4))
    put(4, stream(text(b'pay 999999 VND' if variant == 'root' else b'pay 100 VND')))
    put(5, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>')
    if variant == 'root':
        put(8, b'<< /Type /Catalog /Pages 9 0 R >>')
        put(9, b'<< /Type /Pages /Kids [10 0 R] /Count 1 >>')
        put(10, page(9, 11))
        put(11, stream(text(b'pay 100 VND')))
    if variant == 'member':
        member = (b'<< /Type /Annot /Subtype /Stamp /F 4 /Rect [0 0 612 792] '
                  b'/AP << /N 7 0 R >> >>')
        put(6, stream(b'13 0 ' + member, b'/Type /ObjStm /N 1 /First 5'))
        put(7, stream(b'1 1 1 rg 0 0 612 792 re f 0 0 0 rg ' + text(b'pay 999999 VND'),
                      b'/Type /XObject /Subtype /Form /BBox [0 0 612 792] '
                      b'/Resources << /Font << /F1 5 0 R >> >>'))
    prev = b''
    if variant == 'size':
        older = len(b)
        b += table([1, 2, 3, 4, 5]) + b'trailer\n<< /Size 99999999 /Root 1 0 R >>\n'
        prev = b' /Prev %d' % older
    x = len(b)
    b += table(sorted(offs)) + b'trailer\n<< /Size 12 /Root 1 0 R%s >>\n' % prev
    if variant == 'root':
        b += b'<< /Root 8-1 0 R >>\n'
    b += b'startxref\n%d\n%%%%EOF\n' % x
    open(out, 'wb').write(bytes(b))
elif mode == 'count':
    root_num = int(re.findall(rb'/Root\s+(\d+)\s+0\s+R', src)[-1])
    pages = int(re.search(rb'/Pages (\d+) 0 R', obj(root_num)).group(1))
    node = obj(pages)
    page_num = int(re.search(rb'/Kids\s*\[\s*(\d+) 0 R', node).group(1))
    n = size_of()
    node = re.sub(rb'/Kids\s*\[\s*(\d+) 0 R\s*\]', b'/Kids [\\1 0 R %d 0 R]' % n, node)
    open(out, 'wb').write(bytes(update({pages: node, n: obj(page_num)}, n + 1)))
elif mode == 'streampage':
    root_num = int(re.findall(rb'/Root\s+(\d+)\s+0\s+R', src)[-1])
    pages = int(re.search(rb'/Pages (\d+) 0 R', obj(root_num)).group(1))
    page_num = int(re.search(rb'/Kids\s*\[\s*(\d+) 0 R', obj(pages)).group(1))
    page = obj(page_num).rstrip()
    open(out, 'wb').write(bytes(update(
        {page_num: page[:-2] + b' /Length 0 >>\nstream\n\nendstream'}, size_of())))
elif mode == 'lin-hint':
    import pikepdf
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for t in [b'page 1', b'page 2: pay 100 VND', b'page 3: pay 999999 VND']:
        pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
            Contents=pdf.make_stream(b'BT /F1 24 Tf 72 700 Td (' + t + b') Tj ET'),
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)))))
    pdf.save(out, linearize=True)
    b = open(out, 'rb').read()
    m = re.search(rb'/Kids \[ (\d+) 0 R (\d+) 0 R (\d+) 0 R \]', b)
    swapped = b'/Kids [ %s 0 R %s 0 R %s 0 R ]' % (m.group(1), m.group(3), m.group(2))
    assert len(swapped) == len(m.group(0))
    open(out, 'wb').write(b.replace(m.group(0), swapped))
elif mode in ('linearized', 'lin-o', 'shared'):
    import pikepdf
    pdf = pikepdf.open(src_path)
    pdf.pages.append(pdf.pages[0])
    if mode == 'shared':
        annots = pdf.make_indirect(pikepdf.Array())
        for pg in pdf.pages:
            pg.obj.Annots = annots
        pdf.save(out)
        sys.exit(0)
    pdf.save(out, linearize=True)
    if mode == 'lin-o':
        b = bytearray(open(out, 'rb').read())
        second = pikepdf.open(out).pages[1].objgen[0]
        m = re.search(rb'/O (\d+)', b[:1024])
        new = b'%d' % second
        assert len(new) <= len(m.group(1))
        b[m.start(1):m.end(1)] = new.ljust(len(m.group(1)))
        open(out, 'wb').write(bytes(b))
elif mode == 'crop':
    import pikepdf
    pdf = pikepdf.open(src_path)
    pdf.pages[0].obj.CropBox = pikepdf.Array([100, 100, 400, 500])
    pdf.save(out)
elif mode == 'rotate':
    import pikepdf
    pdf = pikepdf.open(src_path)
    pdf.pages[0].obj.Rotate = int(sys.argv[4])
    pdf.save(out)
elif mode == 'deep-crop':
    # The crop box on the page tree's root, the page 64 levels below it (the deepest kyso
    # takes): its inherited /CropBox is read from the 65th dictionary up.
    import pikepdf
    pdf = pikepdf.open(src_path)
    page = pdf.pages[0].obj
    top = pdf.Root.Pages
    top.CropBox = pikepdf.Array([100, 100, 400, 500])
    node = top
    for _ in range(63):
        kid = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Pages, Count=1, Parent=node))
        node.Kids = pikepdf.Array([kid])
        node = kid
    node.Kids = pikepdf.Array([page])
    page.Parent = node
    pdf.save(out)
elif mode in ('signed', 'locked', 'locked-cosigned'):
    # Signed by pyHanko; `locked`: in a field whose lock says /P 1 (FieldMDP /All and
    # doc_mdp_update_value: Acrobat's "lock document after signing"); `locked-cosigned`: that,
    # then signed again by pyHanko in a second field. The signer's (self-signed) certificate
    # is written beside OUT as OUT.signer.pem, to be trusted.
    import shutil
    from pyhanko.sign import fields, signers
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    key, cert = key_and_cert()
    shutil.copy(cert, out + '.signer.pem')
    signer = signers.SimpleSigner.load(key, cert)
    spec = fields.SigFieldSpec('Sig1')
    if mode != 'signed':
        spec = fields.SigFieldSpec('Sig1', field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.ALL),
                                   doc_mdp_update_value=fields.MDPPerm.NO_CHANGES)
    w = IncrementalPdfFileWriter(open(src_path, 'rb'), strict=False)
    res = signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name='Sig1'), signer=signer,
                           new_field_spec=spec)
    if mode == 'locked-cosigned':
        w = IncrementalPdfFileWriter(res, strict=False)
        res = signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name='Sig2'), signer=signer,
                               new_field_spec=fields.SigFieldSpec('Sig2'))
    open(out, 'wb').write(res.getvalue())
elif mode == 'cert3-lock2':
    # Certified by pyHanko with DocMDP P=3 (annotations allowed), then signed by pyHanko in a
    # second field whose lock says /P 2 (no annotations after it).
    from pyhanko.sign import fields, signers
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    key, cert = key_and_cert()
    signer = signers.SimpleSigner.load(key, cert)
    w = IncrementalPdfFileWriter(open(src_path, 'rb'), strict=False)
    res = signers.sign_pdf(w, signers.PdfSignatureMetadata(
        field_name='Cert', certify=True, docmdp_permissions=fields.MDPPerm.ANNOTATE),
        signer=signer, new_field_spec=fields.SigFieldSpec('Cert'))
    w = IncrementalPdfFileWriter(res, strict=False)
    res = signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name='Sig2'), signer=signer,
                           new_field_spec=fields.SigFieldSpec(
                               'Sig2', field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.ALL),
                               doc_mdp_update_value=fields.MDPPerm.FILL_FORMS))
    open(out, 'wb').write(res.getvalue())
elif mode == 'fields-annots':
    # A text field whose widget array is both the form's /Fields and page 1's /Annots (one
    # indirect array), in a three-page document (pikepdf).
    import pikepdf
    pdf = pikepdf.open(src_path)
    while len(pdf.pages) < 3:
        pdf.pages.append(pdf.pages[0])
    page = pdf.pages[0].obj
    tx = pdf.make_indirect(pikepdf.Dictionary(
        FT=pikepdf.Name.Tx, Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget,
        Rect=[50, 700, 300, 720], T=pikepdf.String('amount'), V=pikepdf.String('100 VND'),
        P=page, F=4))
    shared = pdf.make_indirect(pikepdf.Array([tx]))
    page.Annots = shared
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(
        Fields=shared, DA=pikepdf.String('/Helv 0 Tf 0 g')))
    pdf.save(out)
elif mode == 'rects':
    import json
    import pikepdf
    print(json.dumps([{'crop': [float(v) for v in pg.obj.get('/CropBox', pg.obj.MediaBox)],
                       'annots': [[float(v) for v in a.Rect] for a in pg.obj.get('/Annots', [])]}
                      for pg in pikepdf.open(src_path).pages]))
elif mode == 'annots':
    import json
    import pikepdf
    print(json.dumps([len(pg.obj.get('/Annots', [])) for pg in pikepdf.open(src_path).pages]))
else:
    sys.exit(f'unknown mode {mode}')
