#!/usr/bin/env python3
"""pyHanko, in-process, signing with the same SoftHSM2 key kyso uses: the peer figure for
docs/benchmarks.md. Run by `kyso-bench sign` with SOFTHSM2_CONF pointing at the demo token.

    pyhanko_sign.py MODULE PIN_FILE KEY_LABEL SECONDS FILE.pdf... [--cades FILE]

Prints one JSON object: {"pades": {file: signatures_per_second}, "cades": {file: ...}}.
"""
import asyncio
import io
import json
import sys
import time

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session


def main():
    args = sys.argv[1:]
    module, pin_file, label, seconds = args[0], args[1], args[2], float(args[3])
    rest = args[4:]
    cades = []
    if "--cades" in rest:
        i = rest.index("--cades")
        cades = rest[i + 1:]
        rest = rest[:i]
    pin = open(pin_file).read().strip()
    from pyhanko.config.pkcs11 import TokenCriteria
    session = open_pkcs11_session(module, token_criteria=TokenCriteria(label="kyso-dev"), user_pin=pin)
    signer = PKCS11Signer(session, cert_label=label, key_label=label, other_certs_to_pull=())
    out = {"pades": {}, "cades": {}}
    for path in rest:
        data = open(path, "rb").read()
        meta = signers.PdfSignatureMetadata(field_name="Signature1")

        def once():
            w = IncrementalPdfFileWriter(io.BytesIO(data))
            buf = io.BytesIO()
            signers.sign_pdf(w, meta, signer=signer, output=buf)
            return buf

        for _ in range(3):
            once()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            once()
            n += 1
        out["pades"][path] = n / (time.perf_counter() - start)
    for path in cades:
        data = open(path, "rb").read()

        async def once_cms():
            return await signer.async_sign_general_data(data, "sha256", detached=True)

        loop = asyncio.new_event_loop()
        for _ in range(3):
            loop.run_until_complete(once_cms())
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            loop.run_until_complete(once_cms())
            n += 1
        out["cades"][path] = n / (time.perf_counter() - start)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
