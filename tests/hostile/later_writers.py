#!/usr/bin/env python3
"""Updates that other tools make to a PDF after kyso signed it, for tests/sign_cli.rs -- each
made by MuPDF or pyHanko as they update any PDF (found by a false-failure review, 2026-12-03:
each failed kyso's signature though it changes nothing a reader shows, or only what pyHanko
changes whenever it signs):

    python3 later_writers.py bases DIR         DIR/plain.pdf, a page of text (PyMuPDF);
                                               DIR/pyhanko/root.pem, pyHanko's CA;
                                               DIR/form.pdf, a filled text field (PyMuPDF's
                                               widget, /NeedAppearances false as it writes it);
                                               DIR/form-needapp.pdf, the same with true
    python3 later_writers.py pymupdf IN OUT    PyMuPDF 2.0 (MuPDF 1.28) saves a change of the
                                               document's title incrementally: a comment line
                                               "% Written by MuPDF 1.28.5" and a blank line
                                               before `trailer`
    python3 later_writers.py deface IN OUT    PyMuPDF writes "DA THU HOI" (revoked) over page 1
                                               and saves incrementally: a change no signature
                                               allows (its earlier signatures now fail)
    python3 later_writers.py mutool IN OUT     mutool 1.21 (`mutool run`) does the same
    python3 later_writers.py fill IN OUT       PyMuPDF fills the text fields ("200 VND") and
                                               saves incrementally: a new appearance, and the
                                               widget's /DA rewritten, /BS and /Ff 0 added
    python3 later_writers.py addfields IN OUT  `pyhanko sign addfields` adds an empty signature
                                               field with a box, its appearance an empty
                                               stream (a false-failure review, 2026-12-03:
                                               kyso warned of an appearance "shown")
    python3 later_writers.py predicted IN OUT  the same field, its empty appearance then
                                               rewritten by hand as a predicted Flate stream
                                               whose incomplete last row draws "900 VND"
                                               (kyso's decoder dropped that row: an attacker's
                                               reading, 2026-12-03)
    python3 later_writers.py pyhanko IN OUT DIR
                                               pyHanko countersigns invisibly with a CA of its
                                               own (DIR/root.pem; made by pyca/cryptography
                                               unless there);
                                               it deletes /NeedAppearances when it signs
"""
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile


def bases(d):
    import pymupdf
    os.makedirs(d, exist_ok=True)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Giay phep xay dung so 123/GPXD", fontsize=12)
    doc.save(os.path.join(d, "plain.pdf"))
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Le phi da nop:", fontsize=12)
    w = pymupdf.Widget()
    w.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    w.field_name = "so_tien"
    w.field_value = "100 VND"
    w.rect = pymupdf.Rect(72, 90, 300, 120)
    page.add_widget(w)
    doc.save(os.path.join(d, "form.pdf"))
    doc = pymupdf.open(os.path.join(d, "form.pdf"))
    assert doc.xref_get_key(doc.pdf_catalog(), "AcroForm/NeedAppearances") == ("bool", "false")
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm/NeedAppearances", "true")
    doc.save(os.path.join(d, "form-needapp.pdf"))
    ca(os.path.join(d, "pyhanko"))


def pymupdf_update(src, out):
    import pymupdf
    shutil.copyfile(src, out)
    doc = pymupdf.open(out)
    doc.set_metadata({**doc.metadata, "title": "Giay phep xay dung"})
    doc.saveIncr()
    doc.close()
    data = open(out, "rb").read()
    assert len(data) > os.path.getsize(src) and data.startswith(open(src, "rb").read())
    assert b"% Written by MuPDF" in data[os.path.getsize(src):], "PyMuPDF no longer writes its comment"


def pymupdf_fill(src, out):
    """PyMuPDF fills every text field with "200 VND" and saves incrementally (it rewrites the
    widget's /DA, adds /BS and /Ff 0, and writes a new appearance)."""
    import pymupdf
    shutil.copyfile(src, out)
    doc = pymupdf.open(out)
    n = 0
    for page in doc:
        for w in page.widgets():
            if w.field_type == pymupdf.PDF_WIDGET_TYPE_TEXT:
                w.field_value = "200 VND"
                w.update()
                n += 1
    assert n > 0, "no text field to fill"
    doc.saveIncr()
    doc.close()


def pymupdf_deface(src, out):
    import pymupdf
    shutil.copyfile(src, out)
    doc = pymupdf.open(out)
    doc[0].insert_text((72, 160), "DA THU HOI", fontsize=24)
    doc.saveIncr()
    doc.close()
    data = open(out, "rb").read()
    assert len(data) > os.path.getsize(src) and data.startswith(open(src, "rb").read())


def mutool_update(src, out):
    with tempfile.TemporaryDirectory() as t:
        js = os.path.join(t, "title.js")
        open(js, "w").write(
            'var doc = new PDFDocument(scriptArgs[0]);\n'
            'var info = doc.getTrailer().get("Info");\n'
            'if (!info || !info.isDictionary()) { info = doc.addObject({}); doc.getTrailer().put("Info", info); }\n'
            'info.put("Title", doc.newString("Giay phep xay dung"));\n'
            'doc.save(scriptArgs[1], "incremental");\n')
        subprocess.run(["mutool", "run", js, src, out], check=True)
    data = open(out, "rb").read()
    assert len(data) > os.path.getsize(src) and data.startswith(open(src, "rb").read())


def ca(d):
    """pyHanko's signer and the CA that issues it (pyca/cryptography), in `d`, once."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    if os.path.exists(os.path.join(d, "root.pem")):
        return
    os.makedirs(d, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)

    def cert(name, key, issuer, issuer_key, is_ca):
        return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=not is_ca, content_commitment=not is_ca,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=is_ca, crl_sign=is_ca,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(issuer_key, hashes.SHA256()))

    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Later Writers Root")])
    root = cert(rn, rk, rn, rk, True)
    sk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sc = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tran Thi B")]), sk, rn, rk, False)
    open(os.path.join(d, "root.pem"), "wb").write(pem(root))
    open(os.path.join(d, "signer.pem"), "wb").write(pem(sc))
    open(os.path.join(d, "signer.key"), "wb").write(sk.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def pyhanko_countersign(src, out, d):
    import io
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    ca(d)
    s = signers.SimpleSigner.load(os.path.join(d, "signer.key"), os.path.join(d, "signer.pem"),
                                  ca_chain_files=(os.path.join(d, "root.pem"),))
    w = IncrementalPdfFileWriter(io.BytesIO(open(src, "rb").read()))
    buf = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name="PhoiHop", subfilter=SigSeedSubFilter.PADES),
                      signer=s).sign_pdf(w, output=buf)
    open(out, "wb").write(buf.getvalue())


def pyhanko_addfields(src, out):
    # The pyHanko CLI itself, beside this interpreter: an empty signature field with a box.
    cli = os.path.join(os.path.dirname(sys.executable), "pyhanko")
    subprocess.run([cli, "sign", "addfields", "--field", "1/300,50,500,120/Extra", src, out],
                   check=True)


def predicted_appearance(src, out):
    # pyHanko's empty field, then an update by hand (an attacker's, 2026-12-03) rewriting its
    # empty appearance as a Flate stream with a PNG predictor: one full row of spaces, then an
    # incomplete row drawing "900 VND" in a white box. kyso's decoder dropped the incomplete
    # row and read white space; Poppler draws it.
    import re
    import zlib
    tmp = out + ".addf.pdf"
    pyhanko_addfields(src, tmp)
    pdf = open(tmp, "rb").read()
    os.remove(tmp)
    num = int(re.findall(rb"/T \(Extra\).*?/N (\d+) 0 R", pdf, re.S)[-1])
    draw = b"1 1 1 rg 0 0 200 70 re f BT 0 g /Helv 24 Tf 10 30 Td (Le phi: 900 VND) Tj ET"
    data = zlib.compress(b"\0" + b" " * 120 + b"\0" + draw)
    body = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 70] "
            b"/Resources << /Font << /Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> "
            b"/Filter /FlateDecode /DecodeParms << /Predictor 10 /Columns 120 >> /Length %d >>\nstream\n"
            % len(data)) + data + b"\nendstream"
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    size = max(int(x) for x in re.findall(rb"/Size (\d+)", pdf))
    root = re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1]
    upd = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    at = len(upd)
    upd += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    x = len(upd)
    upd += b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        num, at, size, root, prev, x)
    open(out, "wb").write(bytes(upd))


def main():
    cmd = sys.argv[1]
    if cmd == "bases":
        bases(sys.argv[2])
    elif cmd == "pymupdf":
        pymupdf_update(sys.argv[2], sys.argv[3])
    elif cmd == "fill":
        pymupdf_fill(sys.argv[2], sys.argv[3])
    elif cmd == "deface":
        pymupdf_deface(sys.argv[2], sys.argv[3])
    elif cmd == "mutool":
        mutool_update(sys.argv[2], sys.argv[3])
    elif cmd == "pyhanko":
        pyhanko_countersign(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "addfields":
        pyhanko_addfields(sys.argv[2], sys.argv[3])
    elif cmd == "predicted":
        predicted_appearance(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
