"""Mutants of a real exported package, for tests/bag_hostile.rs: bytes flipped, fields set to
extremes, the file cut short or a stretch of it doubled -- aimed at the structures a reader
parses (tar headers; zip local headers, central directory and end records) more often than at
the data between them. Made with Python's random (seeded), struct and tarfile, not kyso's code.

    python3 mutants.py SOURCE OUTDIR COUNT SEED

Writes OUTDIR/<i>.pkg for i in 0..COUNT and prints one line per mutant: its file name and what
was done to it.
"""
import os
import random
import struct
import sys
import tarfile

source, outdir, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src = open(source, 'rb').read()
rng = random.Random(seed)
is_zip = src[:4] == b'PK\x03\x04'


def structures():
    """(offset, length) of every header the format has."""
    spans = []
    if is_zip:
        end = src.rfind(b'PK\x05\x06')
        spans.append((end, len(src) - end))
        z64 = src.rfind(b'PK\x06\x06', 0, end)
        if z64 >= 0:
            spans.append((z64, end - z64))
        cd_at = struct.unpack_from('<I', src, end + 16)[0]
        if cd_at == 0xFFFFFFFF and z64 >= 0:
            cd_at = struct.unpack_from('<Q', src, z64 + 48)[0]
        p = cd_at
        while src[p:p + 4] == b'PK\x01\x02':
            size = 46 + sum(struct.unpack_from('<HHH', src, p + 28))
            spans.append((p, size))
            local = struct.unpack_from('<I', src, p + 42)[0]
            if local != 0xFFFFFFFF and src[local:local + 4] == b'PK\x03\x04':
                spans.append((local, 30 + sum(struct.unpack_from('<HH', src, local + 26))))
            p += size
    else:
        import io
        with tarfile.open(fileobj=io.BytesIO(src)) as t:
            for m in t.getmembers():
                spans.append((m.offset, m.offset_data - m.offset))
        spans.append((len(src) - 1024, 1024))
    return spans


spans = structures()
os.makedirs(outdir, exist_ok=True)
for i in range(count):
    b = bytearray(src)
    how = rng.choice(['flip', 'flip', 'flip', 'extreme', 'cut', 'double', 'flip-anywhere'])
    if how in ('flip', 'extreme'):
        at, n = rng.choice(spans)
        for _ in range(rng.randint(1, 4)):
            p = at + rng.randrange(max(n, 1))
            if p >= len(b):
                continue
            if how == 'flip':
                b[p] ^= 1 << rng.randrange(8)
            else:
                w = rng.choice([1, 2, 4, 8])
                b[p:p + w] = rng.choice([b'\xff', b'\x00', b'\x7f', b'\x80']) * w
        what = f'{how} near {at}'
    elif how == 'flip-anywhere':
        p = rng.randrange(len(b))
        b[p] ^= 0xFF
        what = f'flip at {p}'
    elif how == 'cut':
        at, n = rng.choice(spans)
        p = at + rng.randrange(max(n, 1))
        del b[p:]
        what = f'cut at {p}'
    else:
        at, n = rng.choice(spans)
        k = rng.randint(1, 2048)
        b[at:at] = src[at:at + k]
        what = f'{k} bytes doubled at {at}'
    name = f'{i}.pkg'
    open(os.path.join(outdir, name), 'wb').write(b)
    print(name, what)
