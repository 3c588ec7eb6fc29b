"""A forger's (or a careless archivist's) script for tests/bag_hostile.rs: make a folder bag
consistent again after files were added, removed or changed in it, the way any BagIt tool
would -- with Python's hashlib, not with kyso's code -- so that the manifests, Payload-Oxum and
the tag manifest all agree with what is on disk and only kyso's own checks are left.

    python3 rebag.py BAG [TAGFILE...]

Rewrites manifest-sha256.txt and manifest-sha512.txt over every file under BAG/data,
Payload-Oxum in bag-info.txt, and tagmanifest-sha256.txt over bagit.txt, bag-info.txt, both
manifests, the renewals (kyso-renewal-*.tsr) and each TAGFILE given (a path in BAG).
"""
import hashlib
import os
import re
import sys

bag, extra = sys.argv[1], sys.argv[2:]


def digest(path, alg):
    h = hashlib.new(alg)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 16), b''):
            h.update(chunk)
    return h.hexdigest()


files = []
for top, dirs, names in os.walk(os.path.join(bag, 'data')):
    for n in names:
        files.append(os.path.relpath(os.path.join(top, n), bag))
files.sort()
size = 0
for alg in ('sha256', 'sha512'):
    with open(os.path.join(bag, f'manifest-{alg}.txt'), 'w', encoding='utf-8') as m:
        for rel in files:
            m.write(f'{digest(os.path.join(bag, rel), alg)}  {rel}\n')
size = sum(os.path.getsize(os.path.join(bag, rel)) for rel in files)
info_path = os.path.join(bag, 'bag-info.txt')
info = open(info_path, encoding='utf-8').read()
info = re.sub(r'(?m)^Payload-Oxum: .*$', f'Payload-Oxum: {size}.{len(files)}', info)
open(info_path, 'w', encoding='utf-8').write(info)
tags = ['bagit.txt', 'bag-info.txt', 'manifest-sha256.txt', 'manifest-sha512.txt']
tags += sorted(n for n in os.listdir(bag) if re.fullmatch(r'kyso-renewal-\d+\.tsr', n))
tags += extra
with open(os.path.join(bag, 'tagmanifest-sha256.txt'), 'w', encoding='utf-8') as m:
    for rel in tags:
        m.write(f'{digest(os.path.join(bag, rel), "sha256")}  {rel}\n')
