#!/usr/bin/env python3
"""An OCSP response with other certificates beside its signed answers, for tests/serve_auth.rs
-- made with asn1crypto, nothing of kyso's.

    python3 ocsp_certs.py IN OUT [CERT.pem ...]

OUT is the OCSPResponse IN with its BasicOCSPResponse's `certs` replaced by the given
certificates, in that order (none: no `certs`). The answers and their signature are left as
they are: the certificates are not signed, so anyone on the way of a response may do this
(helper 153: a genuine "revoked" whose responder certificate was swapped for a revoked
sibling of the same key was no longer believed).
"""
import sys

from asn1crypto import ocsp, pem, x509

src, out, certs = sys.argv[1], sys.argv[2], sys.argv[3:]
resp = ocsp.OCSPResponse.load(open(src, "rb").read())
basic = resp["response_bytes"]["response"].parsed
loaded = []
for path in certs:
    data = open(path, "rb").read()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    loaded.append(x509.Certificate.load(data))
new = ocsp.BasicOCSPResponse({
    "tbs_response_data": basic["tbs_response_data"],
    "signature_algorithm": basic["signature_algorithm"],
    "signature": basic["signature"],
    **({"certs": loaded} if loaded else {}),
})
whole = ocsp.OCSPResponse({
    "response_status": "successful",
    "response_bytes": {"response_type": "basic_ocsp_response", "response": new},
})
open(out, "wb").write(whole.dump(force=True))
