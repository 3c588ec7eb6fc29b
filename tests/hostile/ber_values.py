#!/usr/bin/env python3
"""An attached CMS (.p7m) whose encapsulated content is an indefinite-length SEQUENCE of N
NULLs, for tests/serve_hostile.rs -- bytes written by hand, nothing of kyso's (helper 229,
2026-12-06: being BER, it is re-encoded as DER before it is parsed, each of its values in a
buffer of its own; 16 million NULLs, 32 MB, held 1 GB under a 256 MiB memory limit):

    python3 ber_values.py OUT N
"""
import sys

out, n = sys.argv[1], int(sys.argv[2])


def length(size):
    if size < 0x80:
        return bytes([size])
    b = size.to_bytes((size.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + length(len(body)) + body


DATA = bytes.fromhex('06092a864886f70d010701')
SIGNED_DATA = bytes.fromhex('06092a864886f70d010702')
content = b'\x30\x80' + b'\x05\x00' * n + b'\x00\x00'
signed = tlv(0x30, tlv(0x02, b'\x01') + tlv(0x31, b'') + tlv(0x30, DATA + tlv(0xa0, content)) + tlv(0x31, b''))
open(out, 'wb').write(tlv(0x30, SIGNED_DATA + tlv(0xa0, signed)))
