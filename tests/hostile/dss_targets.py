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

    python3 dss_targets.py bombs IN OUT   IN with nine Flate bombs first in its /DSS /Certs
    python3 dss_targets.py count IN       the numbers of entries of IN's /Certs, /CRLs, /OCSPs
"""
import os
import sys
import zlib

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

if sys.argv[1] == 'bombs':
    # python3 dss_targets.py bombs IN OUT: nine 200-byte streams, each inflating (two Flate
    # filters) to 40 MiB, put first in IN's /DSS /Certs: decoding them spends the document's
    # budget before the items after them are read (helper 179: every renewal then added the
    # same validation data again).
    src, dst = sys.argv[2], sys.argv[3]
    raw = zlib.compress(zlib.compress(b'\0' * (40 << 20), 9), 9)
    with open(src, 'rb') as f:
        w = IncrementalPdfFileWriter(f)
        old = w.root['/DSS']
        flate = generic.NameObject('/FlateDecode')
        bombs = [w.add_object(generic.StreamObject(
            {generic.NameObject('/Filter'): generic.ArrayObject([flate, flate])}, encoded_data=raw))
            for _ in range(9)]
        d = generic.DictionaryObject({generic.NameObject('/Type'): generic.NameObject('/DSS')})
        d[generic.NameObject('/Certs')] = generic.ArrayObject(bombs + list(old.raw_get('/Certs')))
        for k in ('/CRLs', '/OCSPs', '/VRI'):
            if k in old:
                d[generic.NameObject(k)] = old.raw_get(k)
        w.root[generic.NameObject('/DSS')] = w.add_object(d)
        w.update_root()
        with open(dst, 'wb') as o:
            w.write(o)
    sys.exit(0)
if sys.argv[1] == 'count':
    # python3 dss_targets.py count IN: the entries of IN's /DSS /Certs, /CRLs, /OCSPs.
    from pyhanko.pdf_utils.reader import PdfFileReader
    with open(sys.argv[2], 'rb') as f:
        dss = PdfFileReader(f).root['/DSS']
        print(' '.join(str(len(dss[k])) if k in dss else '0' for k in ('/Certs', '/CRLs', '/OCSPs')))
    sys.exit(0)

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
