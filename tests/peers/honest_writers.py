"""Documents as the common PDF writers make them, honestly (no tricks), for tests/sign_cli.rs:
each must be signed. kyso refuses documents that PDF readers would show otherwise once signed
(docs/signing.md); these are the files such rules must not catch. Made by tools we did not
write: fpdf2, pikepdf (qpdf), PyMuPDF, mutool (MuPDF), pdftocairo and pdfunite (Poppler),
Ghostscript, img2pdf (a scan), pyHanko.

    python3 honest_writers.py OUT_DIR [PYHANKO_DIR]

writes the files into OUT_DIR and prints a JSON list of {"file", "writer", "refused",
"lenient"}: "refused" is the documented reason kyso gives for the one writer whose output it
knowingly refuses (`mutool clean -l`, docs/signing.md), else null; "lenient" why pyHanko's
strict reader refuses the writer's own file (validate with --no-strict-syntax), else null.
With PYHANKO_DIR, pyHanko also signs each file kyso signs (its CA in PYHANKO_DIR/root.pem,
made by tests/hostile/later_writers.py) into NAME.pyhanko.pdf: what kyso must judge
TOTAL-PASSED.
"""

import json
import os
import subprocess
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
made = []


def path(name):
    return os.path.join(out, name)


def keep(name, writer, refused=None, lenient=None):
    assert os.path.getsize(path(name)) > 0, name
    made.append({"file": name, "writer": writer, "refused": refused, "lenient": lenient})


# pyHanko's strict reader refuses these writers' files on their own (not what kyso adds):
# validate what kyso signs in them with --no-strict-syntax.
MUTOOL_FREE_HEAD = "mutool writes the free list's head with generation 65536"


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# fpdf2: three pages of Vietnamese text in an embedded TrueType subset, a link, metadata.
from fpdf import FPDF

pdf = FPDF()
pdf.add_font("serif", "", FONT)
pdf.set_font("serif", size=14)
pdf.set_title("Giấy phép kinh doanh")
pdf.set_author("Sở Kế hoạch và Đầu tư")
for i in range(3):
    pdf.add_page()
    pdf.multi_cell(0, 8, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        8,
        "Giấy phép số %d/2026/GP, trang %d: lệ phí 100.000 đồng." % (7 + i, i + 1),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 8, "dichvucong.gov.vn", link="https://dichvucong.gov.vn")
pdf.output(path("fpdf2.pdf"))
keep("fpdf2.pdf", "fpdf2")
base = path("fpdf2.pdf")

# pikepdf (qpdf): rewritten plainly, with object streams, linearized, QDF, uncompressed, as
# PDF 2.0, with an attachment, with an outline.
import pikepdf

for name, kw in [
    ("qpdf-plain", {}),
    ("qpdf-objstm", {"object_stream_mode": pikepdf.ObjectStreamMode.generate}),
    ("qpdf-linearized", {"linearize": True}),
    (
        "qpdf-linearized-objstm",
        {"linearize": True, "object_stream_mode": pikepdf.ObjectStreamMode.generate},
    ),
    ("qpdf-qdf", {"qdf": True}),
    (
        "qpdf-uncompressed",
        {"compress_streams": False, "stream_decode_level": pikepdf.StreamDecodeLevel.generalized},
    ),
    ("qpdf-pdf20", {"force_version": "2.0"}),
]:
    with pikepdf.open(base) as p:
        p.save(path(name + ".pdf"), **kw)
    keep(name + ".pdf", "pikepdf " + pikepdf.__version__)
with pikepdf.open(base) as p:
    p.attachments["ho-so.txt"] = pikepdf.AttachedFileSpec(p, "Hồ sơ kèm theo".encode())
    p.save(path("qpdf-attachment.pdf"))
keep("qpdf-attachment.pdf", "pikepdf")
with pikepdf.open(base) as p:
    with p.open_outline() as o:
        for i in range(3):
            o.root.append(pikepdf.OutlineItem("Trang %d" % (i + 1), i))
    p.save(path("qpdf-outline.pdf"))
keep("qpdf-outline.pdf", "pikepdf")

# PyMuPDF: a new document, a garbage-collected rewrite, an incremental save of an annotation,
# a form field.
import pymupdf

doc = pymupdf.open()
for i in range(2):
    page = doc.new_page()
    page.insert_text((72, 72), "Quyet dinh so %d/QD-UBND" % (i + 1), fontsize=14)
doc.save(path("pymupdf-new.pdf"))
keep("pymupdf-new.pdf", "PyMuPDF " + pymupdf.VersionBind)
doc = pymupdf.open(base)
doc.save(path("pymupdf-garbage.pdf"), garbage=4, deflate=True)
keep("pymupdf-garbage.pdf", "PyMuPDF")
run("cp", base, path("pymupdf-incremental.pdf"))
doc = pymupdf.open(path("pymupdf-incremental.pdf"))
doc[0].add_text_annot((400, 60), "Đã kiểm tra")
doc.saveIncr()
doc.close()
keep("pymupdf-incremental.pdf", "PyMuPDF")
doc = pymupdf.open(base)
w = pymupdf.Widget()
w.field_name = "so_ho_so"
w.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
w.rect = pymupdf.Rect(72, 500, 300, 520)
w.field_value = "000.00.12.H26-261201-0001"
doc[0].add_widget(w)
doc.save(path("pymupdf-form.pdf"))
keep("pymupdf-form.pdf", "PyMuPDF")

# mutool (MuPDF): cleaned, decompressed, compressed, merged; linearized, which kyso refuses.
run("mutool", "clean", "-gg", base, path("mutool-clean.pdf"))
keep("mutool-clean.pdf", "mutool", lenient=MUTOOL_FREE_HEAD)
run("mutool", "clean", "-d", base, path("mutool-decompressed.pdf"))
keep("mutool-decompressed.pdf", "mutool", lenient=MUTOOL_FREE_HEAD)
run("mutool", "clean", "-z", "-i", "-f", base, path("mutool-compressed.pdf"))
keep("mutool-compressed.pdf", "mutool", lenient=MUTOOL_FREE_HEAD)
run("mutool", "merge", "-o", path("mutool-merge.pdf"), base, path("pymupdf-new.pdf"))
keep("mutool-merge.pdf", "mutool")
run("mutool", "clean", "-l", base, path("mutool-linearized.pdf"))
keep(
    "mutool-linearized.pdf",
    "mutool",
    "linearization dictionary or hint tables name other pages",
)

# Poppler: a document redrawn by cairo, two documents united.
run("pdftocairo", "-pdf", base, path("pdftocairo.pdf"))
keep("pdftocairo.pdf", "pdftocairo")
run("pdfunite", base, path("pymupdf-new.pdf"), path("pdfunite.pdf"))
keep(
    "pdfunite.pdf",
    "pdfunite",
    lenient="pdfunite (Poppler 22.12) writes a trailer /Size short of its table",
)

# Ghostscript's pdfwrite (what "print to PDF" makes on many desks).
run(
    "gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=pdfwrite",
    "-sOutputFile=" + path("ghostscript.pdf"), base,
)
keep("ghostscript.pdf", "Ghostscript pdfwrite")

# A digitized paper: a page scanned at 150 dpi as a JPEG, wrapped by img2pdf (the image as
# it is, no re-encoding), as the one-stop shops' scanners deliver results.
import img2pdf
from PIL import Image, ImageDraw, ImageFont

scan = Image.new("L", (1240, 1754), 245)
draw = ImageDraw.Draw(scan)
big = ImageFont.truetype(FONT, 36)
draw.text((150, 150), "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH", font=big, fill=20)
for i in range(30):
    draw.text((150, 260 + 40 * i), "Dòng %d: nội dung đã số hóa từ bản giấy." % (i + 1), font=ImageFont.truetype(FONT, 24), fill=40)
scan.save(path("scan.jpg"), quality=80, dpi=(150, 150))
with open(path("img2pdf-scan.pdf"), "wb") as o:
    o.write(img2pdf.convert(path("scan.jpg")))
os.remove(path("scan.jpg"))
keep("img2pdf-scan.pdf", "img2pdf")

# pyHanko: an empty signature field appended in an update, and a full rewrite by its writer.
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import fields

with open(base, "rb") as f, open(path("pyhanko-field.pdf"), "wb") as o:
    w = IncrementalPdfFileWriter(f)
    fields.append_signature_field(
        w, fields.SigFieldSpec("ChuKy", on_page=0, box=(300, 60, 540, 120))
    )
    w.write(o)
keep("pyhanko-field.pdf", "pyHanko")
with open(base, "rb") as f, open(path("pyhanko-rewrite.pdf"), "wb") as o:
    copy_into_new_writer(PdfFileReader(f)).write(o)
keep("pyhanko-rewrite.pdf", "pyHanko")

if len(sys.argv) > 2:
    import io

    # Nothing written into the source tree (a __pycache__ beside later_writers.py).
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile"))
    from later_writers import ca
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    d = sys.argv[2]
    ca(d)
    signer = signers.SimpleSigner.load(
        os.path.join(d, "signer.key"),
        os.path.join(d, "signer.pem"),
        ca_chain_files=(os.path.join(d, "root.pem"),),
    )
    for m in made:
        if m["refused"]:
            continue
        with open(path(m["file"]), "rb") as f:
            w = IncrementalPdfFileWriter(io.BytesIO(f.read()), strict=m["lenient"] is None)
        meta = signers.PdfSignatureMetadata(field_name="PyHanko", subfilter=SigSeedSubFilter.PADES)
        with open(path(m["file"].replace(".pdf", ".pyhanko.pdf")), "wb") as o:
            signers.PdfSigner(meta, signer=signer).sign_pdf(w, output=o)

print(json.dumps(made))
