#!/usr/bin/env python3
"""Make the benchmark inputs with fpdf2: a ~50 KB text PDF (and the same rewritten by qpdf
through pikepdf with object streams), a ~5 MB PDF with a scanned-page
sized image (incompressible noise, as a 200 dpi scan nearly is), and a 1 MB file for CAdES.

    make_bench_pdfs.py OUT_DIR
"""
import os
import sys
import zlib

from fpdf import FPDF

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_pdf(path, target):
    pages = 1
    while True:
        pdf = FPDF()
        pdf.add_font("DejaVu", "", FONT)
        pdf.set_font("DejaVu", size=11)
        for p in range(pages):
            pdf.add_page()
            for k in range(40):
                i = p * 40 + k
                pdf.cell(0, 6, f"Hồ sơ {i:06d}: Giấy chứng nhận quyền sử dụng đất, số định danh 0010990{i:05d}",
                         new_x="LMARGIN", new_y="NEXT")
        data = bytes(pdf.output())
        if len(data) >= target:
            open(path, "wb").write(data)
            return
        pages += 1


def image_pdf(path, target):
    from PIL import Image
    side = int((target / 3) ** 0.5)
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=190)
    pdf.output(path)


def objstm_pdf(src, path):
    """The same document as qpdf writes it (pikepdf): every object it can in object streams,
    a cross-reference stream — the layout whose earlier versions the verifier compares when a
    revision follows a signature."""
    import pikepdf
    with pikepdf.open(src) as pdf:
        pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    text_pdf(os.path.join(out, "bench-50k.pdf"), 50_000)
    objstm_pdf(os.path.join(out, "bench-50k.pdf"), os.path.join(out, "bench-50k-objstm.pdf"))
    image_pdf(os.path.join(out, "bench-5m.pdf"), 5_000_000)
    with open(os.path.join(out, "bench-1m.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    for n in ["bench-50k.pdf", "bench-50k-objstm.pdf", "bench-5m.pdf", "bench-1m.bin"]:
        print(n, os.path.getsize(os.path.join(out, n)))


if __name__ == "__main__":
    main()
