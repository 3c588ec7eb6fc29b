#!/usr/bin/env python3
"""A PAdES B-LTA signature made by pyHanko (a tool we did not write) with the LTV test PKI of
make_pki.py: a software key, pyHanko's own time-stamper with the PKI's TSA, validation data
fetched from the test's responders and embedded, then a document time-stamp.

    pyhanko_lta.py PKI_DIR IN.pdf OUT.pdf
"""
import os
import sys

from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore


def main():
    pki, src, dst = sys.argv[1:4]
    p = lambda f: os.path.join(pki, f)
    root, ca = load_cert_from_pemder(p("root.pem")), load_cert_from_pemder(p("ca.pem"))
    signer = signers.SimpleSigner(
        load_cert_from_pemder(p("signer.pem")),
        load_private_key_from_pemder(p("signer.key.pem"), passphrase=None),
        SimpleCertificateStore.from_certs([ca]))
    tsa = timestamps.DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(p("tsa.pem")),
        tsa_key=load_private_key_from_pemder(p("tsa.key.pem"), passphrase=None),
        certs_to_embed=SimpleCertificateStore.from_certs([root]))
    vc = ValidationContext(trust_roots=[root], other_certs=[ca], allow_fetching=True)
    meta = signers.PdfSignatureMetadata(
        field_name="PyHankoSignature", subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=True, use_pades_lta=True, validation_context=vc)
    with open(src, "rb") as f:
        w = IncrementalPdfFileWriter(f)
        with open(dst, "wb") as out:
            signers.sign_pdf(w, meta, signer=signer, timestamper=tsa, output=out)


if __name__ == "__main__":
    main()
