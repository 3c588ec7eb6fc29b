#!/usr/bin/env python3
"""Time-stamp requests a TSA must not grant as they are (helper 171, 2026-12-05: kyso's TSA
granted each, and signed into its token what it was given), made with asn1crypto and byte
edits, nothing of kyso's, for tests/timestamp_cli.rs:

    python3 tsa_requests.py DIR

DIR/ok.tsq             a plain SHA-256 request with a nonce and certReq (the control)
DIR/params.tsq         SHA-256 whose AlgorithmIdentifier carries parameters INTEGER 5
DIR/ext-empty.tsq      an empty [0] extensions list (RFC 3161: SIZE (1..MAX))
DIR/certreq-false.tsq  certReq FALSE written out (a DEFAULT value DER leaves out; Mozilla's
                       winsign sends it: granted)
DIR/nonce-60.tsq       a nonce of 60 bytes
DIR/nonce-32.tsq       a 256-bit nonce with its top bit set (33 bytes written: granted)
"""
import hashlib
import os
import sys

from asn1crypto import algos, core, tsp

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
digest = hashlib.sha256(b'Giay phep xay dung so 1').digest()


def imprint(params=None):
    alg = {'algorithm': 'sha256'}
    mi = tsp.MessageImprint({'hash_algorithm': algos.DigestAlgorithm(alg), 'hashed_message': digest}).dump()
    if params is None:
        return mi
    # The AlgorithmIdentifier's NULL-less encoding, then the parameters appended to it.
    oid = core.ObjectIdentifier('2.16.840.1.101.3.4.2.1').dump()
    alg = oid + params
    alg = b'\x30' + bytes([len(alg)]) + alg
    body = alg + core.OctetString(digest).dump()
    return b'\x30' + bytes([len(body)]) + body


def request(mi, tail=b''):
    body = b'\x02\x01\x01' + mi + core.Integer(0x1234567890).dump() + tail
    return b'\x30' + bytes([len(body)]) + body


def write(name, der):
    open(os.path.join(out, name), 'wb').write(der)


write('ok.tsq', request(imprint(), b'\x01\x01\xff'))
write('params.tsq', request(imprint(core.Integer(5).dump()), b'\x01\x01\xff'))
write('ext-empty.tsq', request(imprint(), b'\x01\x01\xff\xa0\x00'))
write('certreq-false.tsq', request(imprint(), b'\x01\x01\x00'))
nonce = core.Integer(int.from_bytes(b'\x7f' + os.urandom(59), 'big')).dump()
body = b'\x02\x01\x01' + imprint() + nonce
write('nonce-60.tsq', b'\x30' + bytes([len(body)]) + body)
nonce = core.Integer(int.from_bytes(b'\xff' + os.urandom(31), 'big')).dump()
body = b'\x02\x01\x01' + imprint() + nonce
write('nonce-32.tsq', b'\x30' + bytes([len(body)]) + body)
# Each but params.tsq parses as a TimeStampReq to asn1crypto (it is no garbage kyso merely
# fails to read; asn1crypto holds SHA-256's parameters to NULL, as kyso now does).
for name in ('ok', 'ext-empty', 'certreq-false', 'nonce-60', 'nonce-32'):
    tsp.TimeStampReq.load(open(os.path.join(out, name + '.tsq'), 'rb').read()).native
