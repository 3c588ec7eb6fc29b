#!/usr/bin/env python3
"""pyHanko, in-process, validating the same signed PDF kyso validates: the peer figure for
docs/benchmarks.md. Run by `kyso-bench verify`.

    pyhanko_validate.py CA.pem SECONDS FILE.pdf [--all]

--all: every signature of the file, as kyso's verifier does (else the first one).
Prints {"per_second": N, "last": "<pyHanko's summary of the last run>"}.
"""
import json
import sys
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def main():
    ca, seconds, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    every = "--all" in sys.argv[4:]
    root = load_cert_from_pemder(ca)
    data = open(path, "rb").read()

    def once():
        import io
        r = PdfFileReader(io.BytesIO(data))
        vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
        sigs = r.embedded_signatures if every else r.embedded_signatures[:1]
        return [validate_pdf_signature(s, vc) for s in sigs]

    for _ in range(2):
        st = once()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        st = once()
        n += 1
    print(json.dumps({"per_second": n / (time.perf_counter() - start), "last": [s.summary() for s in st]}))


if __name__ == "__main__":
    main()
