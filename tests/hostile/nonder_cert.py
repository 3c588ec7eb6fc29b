#!/usr/bin/env python3
"""A certificate that is not DER as DER writes it (helpers 179, 180): IN with `critical FALSE`
written out in its first non-critical extension (asn1crypto, a byte edit; the signature is
left as it was), for tests/token_cli.rs and tests/sign_cli.rs — nothing of kyso's.

    python3 nonder_cert.py IN.pem OUT.der [OUT.pem]
"""
import sys

from asn1crypto import pem, x509

_, _, der = pem.unarmor(open(sys.argv[1], 'rb').read())
c = x509.Certificate.load(der)
exts = c['tbs_certificate']['extensions']
for i, e in enumerate(exts):
    if not e['critical'].native:
        body = e.dump()[2:]
        n = 2 + body[1]
        new = body[:n] + b'\x01\x01\x00' + body[n:]
        exts[i] = x509.Extension.load(bytes([0x30, len(new)]) + new)
        break
else:
    sys.exit('no non-critical extension to write critical FALSE into')
out = c.dump(force=False)
open(sys.argv[2], 'wb').write(out)
if len(sys.argv) > 3:
    open(sys.argv[3], 'wb').write(pem.armor('CERTIFICATE', out))
