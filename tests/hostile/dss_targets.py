#!/usr/bin/env python3
"""A signed PDF whose catalog's /DSS names what is not a DSS, or a DSS too large to read whole
(helper 175, 2026-12-05), each one incremental update by pyHanko's writer, nothing of kyso's:

    python3 dss_targets.py IN OUTDIR

OUTDIR/page.pdf     /DSS names page 1 (an object the signature covers as a page): kyso extend
                    wrote its new DSS over it, the signature then failed, and it said "extended"
OUTDIR/sigdict.pdf  /DSS names the signature dictionary
OUTDIR/many.pdf     a DSS whose /Certs lists one 1 MiB stream 2,000 times (the signer kept 2 GB)
OUTDIR/huge.pdf     the same stream listed 20,000 times (past 20 GB)
OUTDIR/fill.pdf     a DSS whose /Certs lists 10,000 junk streams, each of its own (helper 177:
                    what kyso added after them was past the 10,000 entries the verifier reads)
"""
import os
import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def update(name, dss):
    with open(src, 'rb') as f:
        w = IncrementalPdfFileWriter(f)
        w.root['/DSS'] = dss(w)
        w.update_root()
        with open(os.path.join(out, name), 'wb') as o:
            w.write(o)


def page(w):
    return w.root['/Pages'].raw_get('/Kids')[0]


def sigdict(w):
    fields = w.root['/AcroForm']['/Fields']
    sig = [f.get_object() for f in fields if f.get_object().get('/FT') == '/Sig'][0]
    return sig.raw_get('/V')


def repeated(n):
    def dss(w):
        blob = w.add_object(generic.StreamObject(stream_data=os.urandom(1 << 20)))
        certs = w.add_object(generic.ArrayObject([blob] * n))
        return w.add_object(generic.DictionaryObject({
            generic.NameObject('/Type'): generic.NameObject('/DSS'),
            generic.NameObject('/Certs'): certs}))
    return dss


def junk(n):
    def dss(w):
        items = [w.add_object(generic.StreamObject(stream_data=b'junk %d' % i)) for i in range(n)]
        certs = w.add_object(generic.ArrayObject(items))
        return w.add_object(generic.DictionaryObject({
            generic.NameObject('/Type'): generic.NameObject('/DSS'),
            generic.NameObject('/Certs'): certs}))
    return dss


update('page.pdf', page)
update('fill.pdf', junk(10000))
update('sigdict.pdf', sigdict)
update('many.pdf', repeated(2000))
update('huge.pdf', repeated(20000))
