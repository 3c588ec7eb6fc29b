"""DER surgery on a CMS ContentInfo of SignedData, for the hostile-input scripts (crl_flood.py,
timestamp_attacks.py): definite lengths only, bytes kept where not edited. Written for the
tests, nothing of kyso's.
"""
from asn1crypto import core as acore


def tlv(tag, body):
    n = len(body)
    l = bytes([n]) if n < 0x80 else bytes([0x80 | len(n.to_bytes((n.bit_length() + 7) // 8, 'big'))]) + n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([tag]) + l + body
def rd(b, off=0):
    tag, ln = b[off], b[off + 1]
    if ln < 0x80: return tag, 2, ln
    k = ln & 0x7f; return tag, 2 + k, int.from_bytes(b[off + 2:off + 2 + k], 'big')
def children(b):
    _, h, n = rd(b); out, i = [], h
    while i < h + n:
        _, hh, nn = rd(b, i); out.append(b[i:i + hh + nn]); i += hh + nn
    return out
oid_tlv = lambda o: acore.ObjectIdentifier(o).dump()
attribute = lambda oid, *v: tlv(0x30, oid_tlv(oid) + tlv(0x31, b''.join(v)))
sd_children = lambda ci: children(children(children(ci)[1])[0])
rebuild = lambda ci, kids: tlv(0x30, children(ci)[0] + tlv(0xA0, tlv(0x30, b''.join(kids))))
si_pos = lambda kids: max(i for i, k in enumerate(kids) if k[0] == 0x31)
def edit_signer(ci, f):
    kids = sd_children(ci); p = si_pos(kids); sis = children(kids[p]); sis[0] = f(sis[0]); kids[p] = tlv(0x31, b''.join(sis)); return rebuild(ci, kids)
signer_info = lambda ci: children(sd_children(ci)[si_pos(sd_children(ci))])[0]
unsigned = lambda si: [a for f in children(si) if f[0] == 0xA1 for a in children(f)]
def set_unsigned(si, attrs):
    fs = [f for f in children(si) if f[0] != 0xA1]
    if attrs: fs.append(tlv(0xA1, b''.join(attrs)))
    return tlv(0x30, b''.join(fs))
add_unsigned = lambda ci, a: edit_signer(ci, lambda si: set_unsigned(si, unsigned(si) + [a]))


def sigval(si):
    v = [f for f in children(si) if f[0] == 0x04][-1]; _, h, n = rd(v); return v[h:h + n]
