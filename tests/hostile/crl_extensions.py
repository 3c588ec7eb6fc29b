#!/usr/bin/env python3
"""A signed PDF given, after signing, a DSS whose one CRL parses to many times its size, for
tests/serve_hostile.rs -- DER written by hand, the update appended with pikepdf reading the
catalog, nothing of kyso's (helper 227, 2026-12-06: 74 KB of PDF held 463 MB under a 64 MiB
memory limit, and was judged):

    python3 crl_extensions.py IN OUT N

OUT is IN with an incremental update whose catalog gains /DSS << /CRLs [S] >>, S a
FlateDecode stream of one CRL: one revoked entry carrying N crlEntryExtensions of 9 bytes each
(reasonCode with an empty value; 3,600,000 of them make 32.4 MB, inflated from ~70 KB), and a
signature BIT STRING declaring 8 unused bits, so that the CRL fails to parse only after every
entry was read.
"""
import sys

from catalog_update import with_catalog_stream

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])


def tlv(tag, body):
    size = len(body)
    if size < 128:
        head = bytes([size])
    else:
        b = size.to_bytes((size.bit_length() + 7) // 8, 'big')
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + body


alg = tlv(0x30, tlv(0x06, bytes.fromhex('2a864886f70d01010b')) + b'\x05\x00')  # sha256WithRSA
name = tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, bytes.fromhex('550403')) + tlv(0x0c, b'CRL issuer'))))
when = lambda s: tlv(0x17, s)
exts = tlv(0x30, b'\x30\x07\x06\x03\x55\x1d\x15\x04\x00' * n)
revoked = tlv(0x30, tlv(0x30, tlv(0x02, b'\x01') + when(b'261201000000Z') + exts))
tbs = tlv(0x30, tlv(0x02, b'\x01') + alg + name + when(b'261201000000Z') + when(b'270101000000Z') + revoked)
crl = tlv(0x30, tbs + alg + tlv(0x03, b'\x08' + b'\x11' * 256))
with_catalog_stream(src, out, b'/DSS << /CRLs [%d 0 R] >>', b'', crl)
