"""Attack classes of the second attacker review (long-term validation, revocation, fetching;
closed by commit 81be265); called by make_corpus.py with its own module as `mc`.

The review forged documents that kyso verified as TOTAL-PASSED (revocation data issued after
a certificate expired or before it was revoked, a DSS update dropping what a document
time-stamp covered, a back-dated token of a TSA revoked later, an OCSP "good" of a revoked
delegated responder, a CAdES signature time-stamp no archive time-stamp covers, a visible
document time-stamp painted over a page, a /DR font swapped where a widget has no usable
appearance), wrote inputs that took minutes (a DSS naming OCSP responses and CRLs thousands
of times, an ats-hash-index-v3 of tens of thousands of entries) and found false rejects (a
document time-stamp's TSA status given with --crl, `--at` before a document time-stamp). Each
class is re-made here with the corpus PKI (pki/root.pem, pki/inter.pem, pki/tsa.pem and the
certificates below, saved as pki/l-*.pem; keys in mc.KEYS) and tools we did not write:
pyHanko signs and time-stamps PDFs (PAdES, /SubFilter /ETSI.CAdES.detached, DummyTimeStamper
with fixed genTimes), pyca/cryptography makes certificates and CRLs, asn1crypto OCSP
responses, `openssl cms -sign -cades` the CAdES signatures, to which this script adds
time-stamps, CRLs and archive-time-stamp-v3 with its ats-hash-index-v3 by TLV surgery (EN 319
122-1 §5.5.3), and the PDF updates pyHanko will not write are written by hand (ISO 32000-1
§7.5.6).

Every date that matters is fixed (2024-2026), every certificate that names a CRL distribution
point names one on the loopback discard port (nothing answers), and every case passes
--offline, so verdicts do not depend on when they are checked (certificates run to 2036 or
2045) nor on the network. Files for tests/verify_online.rs, whose certificates name fixed
loopback ports that test serves, are written to online/ (no case.json there).

`BEFORE` is what the kyso binary built before commit 81be265 printed for each case (`kyso
verify FILE --trust pki/root.pem … --json`, run over the generated files).
"""
import asyncio
import datetime as dt
import hashlib
import io
import os
import subprocess

from asn1crypto import algos as aalgos
from asn1crypto import core as acore
from asn1crypto import tsp as atsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

import attacks_pki as pk

UTC = dt.timezone.utc
D = lambda *a: dt.datetime(*a, tzinfo=UTC)  # noqa: E731
NOWHERE = "http://127.0.0.1:9"  # loopback, discard port: nothing answers, and every case is --offline
# The fixed loopback ports tests/verify_online.rs serves: a CRL distribution point, and a
# responder that accepts connections and never answers.
ONLINE_PORT, STALL_PORT = 28517, 28518
EE_NB, EE_NA = D(2024, 1, 1), D(2036, 1, 1)

PASSED = ("TOTAL-PASSED", None)
REVOKED = ("TOTAL-FAILED", "REVOKED")
TRY_LATER = ("INDETERMINATE", "TRY_LATER")
WARNED = ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")
FAILED = ("TOTAL-FAILED", "FORMAT_FAILURE")

# The verdict of the kyso binary built before commit 81be265 (release build of 9e6227a, `kyso
# verify FILE --trust pki/root.pem … --json`), recorded by running it over the generated files;
# "TIMEOUT" where it gave no report within 600 s.
BEFORE = {
    "revoked-expired-signer-crl-after-expiry": PASSED,
    "revoked-expired-signer-ocsp-after-expiry": PASSED,
    "revoked-expired-signer-crl-listing-revocation": REVOKED,
    "dss-update-empties-dss-expired-signer": TRY_LATER,
    "signed-after-revocation-stale-crl": PASSED,
    "signed-after-revocation-stale-ocsp": PASSED,
    "signed-after-revocation-stale-crl-b-lta": PASSED,
    "signed-after-revocation-stale-crl-given-current-crl": REVOKED,
    "dss-revoking-crl-under-doc-timestamp": REVOKED,
    "dss-update-drops-revoking-crl": PASSED,
    "dss-update-empties-dss": TRY_LATER,
    "tsa-revoked-after-gentime-backdated": PASSED,
    "tsa-revoked-after-gentime-backdated-claim": PASSED,
    "ocsp-good-from-revoked-delegated-responder": PASSED,
    "ocsp-good-from-revoked-delegated-responder-crl-given": REVOKED,
    "cades-lta-revoked": REVOKED,
    "cades-lta-backdated-sig-ts-not-in-ats-index": PASSED,
    "cades-backdated-sig-ts-no-ats": REVOKED,
    "cades-lta-covered-crl-removed": WARNED,
    "cades-lta-covered-sig-ts-removed": REVOKED,
    "visible-doc-timestamp-over-approval": PASSED,
    "visible-doc-timestamp-over-certification-p2": PASSED,
    "form-dr-font-swapped-text-field-dangling-ap": PASSED,
    "form-dr-font-swapped-text-field-dangling-ap-control": PASSED,
    "form-dr-font-swapped-pushbutton-caption": PASSED,
    "form-dr-font-swapped-pushbutton-caption-control": PASSED,
    # Release build, on the 2 shared cores of the development machine.
    "dos-dss-3000-ocsp-x-3000-crl": ("TIMEOUT", "no report within 600 s"),
    "dos-dss-10000-crl-refs": PASSED,  # in 4.3 s (0.01 s after)
    "dos-ats-hash-index-20000-entries": WARNED,  # in 10.6 s (0.04 s after)
    "doc-timestamp-tsa-cdp-crl-given": TRY_LATER,
    "doc-timestamp-tsa-cdp-no-crl": TRY_LATER,
    "b-lta-at-before-doc-timestamp": ("INDETERMINATE", "NOT_YET_VALID"),
    "b-lta-good": PASSED,
}
TIMES = {"dos-dss-10000-crl-refs": "4.3 s", "dos-ats-hash-index-20000-entries": "10.6 s"}

mc = None  # make_corpus, set by make()


# --- PKI ----------------------------------------------------------------------------------------

def pki(f):
    return os.path.join(mc.HERE, "pki", f)


def load(label):
    c = x509.load_pem_x509_certificate(open(pki(label + ".pem"), "rb").read())
    k = serialization.load_pem_private_key(open(os.path.join(mc.KEYS, label + ".key.pem"), "rb").read(), None)
    return c, k


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


def issue(label, cn, issuer, nb=EE_NB, na=EE_NA, eku=None, cdp=None, ocsp_url=None, ca=False):
    """A certificate of `issuer` ("root" or "inter") saved as pki/<label>.pem, its key in mc.KEYS."""
    ic, ik = load(issuer)
    k = rsa.generate_private_key(65537, 2048)
    c = pk.make_cert(mc.name(cn, pk.SOTP if issuer == "inter" and not eku else "Kyso Test PKI"), k.public_key(),
                     ic.subject, ik, nb=nb, na=na, ca=ca, issuer_pub=ic.public_key(), eku=eku,
                     eku_critical=bool(eku), cdp=cdp, ocsp_url=ocsp_url)
    mc.save_cert(pki(label + ".pem"), c)
    mc.save_key(label, k)
    return c


def crl(issuer, this_update, next_update, revoked=()):
    """A CRL of `issuer` (pyca); revoked: [(certificate, date, reason or None)]."""
    ic, ik = load(issuer)
    b = (x509.CertificateRevocationListBuilder().issuer_name(ic.subject)
         .last_update(this_update).next_update(next_update)
         .add_extension(x509.CRLNumber(int(this_update.timestamp())), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ic.public_key()), critical=False))
    for c, when, reason in revoked:
        e = x509.RevokedCertificateBuilder().serial_number(c.serial_number).revocation_date(when)
        if reason is not None:
            e = e.add_extension(x509.CRLReason(reason), critical=False)
        b = b.add_revoked_certificate(e.build())
    return b.sign(ik, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp(cert, status, this_update, next_update, responder="inter", revoked_at=None):
    """An OCSP response (asn1crypto) for `cert`, an end entity of the issuing CA, signed by the CA
    itself or by a delegated responder (whose certificate it embeds)."""
    inter_c, _ = load("inter")
    rc, rk = load(responder)
    return pk.make_ocsp(cert, inter_c, rc, rk, status, this_update, next_update=next_update, revoked_at=revoked_at,
                        embed=() if responder == "inter" else (rc,))


# --- PDF ----------------------------------------------------------------------------------------

def sign(data, label, ts_at=None, tsa="tsa", field="Signature1", certify=False, perm=MDPPerm.FILL_FORMS, claimed=None):
    """PAdES by pyHanko with pki/<label>.pem (the issuing CA embedded); with a signature
    time-stamp of pki/<tsa>.pem at the fixed genTime ts_at; `claimed`: the signing time the
    signature dictionary's /M claims (pyHanko's signing session takes it as its system time;
    the clock otherwise)."""
    from pyhanko.sign.signers import pdf_signer
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES, certify=certify,
                                        docmdp_permissions=perm)
    out = io.BytesIO()
    init = pdf_signer.PdfSigningSession.__init__
    if claimed is not None:
        pdf_signer.PdfSigningSession.__init__ = lambda self, *a, **kw: init(self, *a, **{**kw, "system_time": claimed})
    try:
        signers.sign_pdf(w, meta, signer=pk.pyh_signer(label, ("inter",)),
                         timestamper=pk.timestamper(tsa, at=ts_at) if ts_at else None, output=out)
    finally:
        pdf_signer.PdfSigningSession.__init__ = init
    return out.getvalue()


def dss(pdf, crls=(), ocsps=(), certs=("inter",)):
    """A DSS update by pyHanko with the given CRLs, OCSP responses (DER) and certificates (labels)."""
    return pk.with_dss(pdf, ocsps=ocsps, crls=crls, certs=[der(load(c)[0]) for c in certs])


def doc_ts(pdf, at, tsa="tsa", field=None):
    """A document time-stamp by pyHanko (PdfTimeStamper) of pki/<tsa>.pem at genTime `at` (now
    when None), in a new invisible field or the named existing one."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = io.BytesIO()
    signers.PdfTimeStamper(pk.timestamper(tsa, at=at), field_name=field).timestamp_pdf(w, "sha256", output=out)
    return out.getvalue()


def replace_dss(pdf, crls=(), ocsps=(), certs=()):
    """An incremental update (pyHanko's writer) whose catalog names a new DSS holding only the
    given items: what an attacker appends to drop validation data."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    n = generic.pdf_name

    def arr(items):
        return generic.ArrayObject([w.add_object(generic.StreamObject(stream_data=x)) for x in items])
    w.root[n("/DSS")] = w.add_object(generic.DictionaryObject({n("/CRLs"): arr(crls), n("/OCSPs"): arr(ocsps),
                                                               n("/Certs"): arr(certs)}))
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def dss_repeated(pdf, crls=(), ocsps=(), times_crl=1, times_ocsp=1):
    """A DSS update whose arrays name the same few streams many times."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    n = generic.pdf_name

    def arr(items, times):
        return generic.ArrayObject([w.add_object(generic.StreamObject(stream_data=x)) for x in items] * times)
    w.root[n("/DSS")] = w.add_object(generic.DictionaryObject({
        n("/CRLs"): arr(crls, times_crl), n("/OCSPs"): arr(ocsps, times_ocsp),
        n("/Certs"): arr([der(load("inter")[0])], 1)}))
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


FORGED_AP = (b"1 1 1 rg 0 0 520 34 re f 0 0 0 rg BT /F1 18 Tf 12 10 Td "
             b"(GIAY PHEP - DA BI THU HOI) Tj ET")


def add_widget_field(pdf, field_name, rect, ap_content):
    """Incremental update (pyHanko's writer): a new signature field (merged field and widget) on
    page 1 with a normal appearance drawing `ap_content` in Helvetica."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    n = generic.pdf_name
    font = w.add_object(generic.DictionaryObject({n("/Type"): n("/Font"), n("/Subtype"): n("/Type1"),
                                                  n("/BaseFont"): n("/Helvetica")}))
    res = generic.DictionaryObject({n("/Font"): generic.DictionaryObject({n("/F1"): font})})
    x0, y0, x1, y1 = rect
    ap = w.add_object(generic.StreamObject({n("/Type"): n("/XObject"), n("/Subtype"): n("/Form"),
                                            n("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, x1 - x0, y1 - y0)]),
                                            n("/Resources"): res}, stream_data=ap_content))
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    widget = w.add_object(generic.DictionaryObject({
        n("/Type"): n("/Annot"), n("/Subtype"): n("/Widget"), n("/FT"): n("/Sig"),
        n("/T"): generic.TextStringObject(field_name),
        n("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in rect]),
        n("/F"): generic.NumberObject(4), n("/P"): page_ref, n("/AP"): generic.DictionaryObject({n("/N"): ap})}))
    page = page_ref.get_object()
    raw = page.raw_get("/Annots") if "/Annots" in page else None
    if isinstance(raw, generic.IndirectObject):
        raw.get_object().append(widget)
        w.mark_update(raw)
    else:
        page[n("/Annots")] = generic.ArrayObject(list(page.get("/Annots", [])) + [widget])
        w.mark_update(page_ref)
    af_raw = w.root.raw_get("/AcroForm")
    af = af_raw.get_object()
    fl = af.raw_get("/Fields")
    af["/Fields"].append(widget)
    if isinstance(fl, generic.IndirectObject):
        w.mark_update(fl)
    if isinstance(af_raw, generic.IndirectObject):
        w.mark_update(af_raw)
    else:
        w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def raw_update(pdf, objs):
    """An incremental update written by hand: objs = {number: body} (redefinitions or new
    objects), a classic xref table and a trailer with /Prev (ISO 32000-1 §7.5.6)."""
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    size = int(r.trailer["/Size"])
    root = r.trailer.raw_get("/Root")
    prev = int(pdf[pdf.rindex(b"startxref") + 9:].split()[0])
    out = bytearray(pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    offs = {}
    for num in sorted(objs):
        offs[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for num in sorted(offs):
        out += b"%d 1\n%010d 00000 n \n" % (num, offs[num])
    out += b"trailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        max([size] + [k + 1 for k in offs]), root.idnum, root.generation, prev, xref)
    return bytes(out)


def p2_build(widget):
    """A one-page land-use certificate written by hand whose form's /DR names /Helv (object 8),
    with one widget (object 7)."""
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [7 0 R] >>",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        6: b"<< /Fields [7 0 R] /DR << /Font << /Helv 8 0 R >> >> /DA (/Helv 0 Tf 0 g) >>",
        7: widget,
        8: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    content = b"BT /F1 14 Tf 40 760 Td (GIAY CHUNG NHAN QUYEN SU DUNG DAT) Tj ET BT /F1 12 Tf 40 728 Td (Dien tich:) Tj ET"
    objs[4] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offs = {}
    for k in sorted(objs):
        offs[k] = len(out)
        out += b"%d 0 obj\n" % k + objs[k] + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 9\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offs[k] for k in range(1, 9))
    out += b"trailer\n<< /Size 9 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % x
    return bytes(out)


def type3_swap(pdf):
    """Replace /DR's /Helv (object 8) by a Type3 font whose glyph 'one' draws a 9."""
    k = int(PdfFileReader(io.BytesIO(pdf), strict=False).trailer["/Size"])
    body, procs = {}, {}
    names = {32: b"space", 48: b"zero", 49: b"one", 50: b"two", 109: b"m"}
    draw = {b"space": b"", b"zero": b"(0)", b"one": b"(9)", b"two": b"(2)", b"m": b"(m)"}
    for code, nm in names.items():
        s = b"556 0 d0 BT /H 1000 Tf 0 0 Td " + draw[nm] + b" Tj ET" if draw[nm] else b"278 0 d0"
        body[k] = b"<< /Length %d >>\nstream\n" % len(s) + s + b"\nendstream"
        procs[nm] = k
        k += 1
    body[k] = b"<< " + b" ".join(b"/%s %d 0 R" % (nm, r) for nm, r in procs.items()) + b" >>"
    widths = b" ".join(b"278" if c == 32 else b"556" if c in names else b"0" for c in range(32, 110))
    body[8] = (b"<< /Type /Font /Subtype /Type3 /FontBBox [0 -200 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] "
               b"/CharProcs %d 0 R /Encoding << /Type /Encoding /Differences [32 /space 48 /zero /one /two 109 /m] >> "
               b"/FirstChar 32 /LastChar 109 /Widths [%s] /Resources << /Font << /H 5 0 R >> >> >>" % (k, widths))
    return raw_update(pdf, body)


# --- CAdES by TLV surgery (EN 319 122-1) --------------------------------------------------------

OID_TST = "1.2.840.113549.1.9.16.2.14"   # id-aa-signatureTimeStampToken
OID_ATS3 = "0.4.0.1733.2.4"              # id-aa-ets-archiveTimestampV3
OID_IDX3 = "0.4.0.19122.1.5"             # id-aa-ATSHashIndex-v3
tlv = pk.tlv


def rd(b, off=0):
    """(tag, header length, content length) at off (definite lengths only)."""
    tag, ln = b[off], b[off + 1]
    if ln < 0x80:
        return tag, 2, ln
    k = ln & 0x7f
    return tag, 2 + k, int.from_bytes(b[off + 2:off + 2 + k], "big")


def children(b):
    _, h, n = rd(b)
    out, i = [], h
    while i < h + n:
        _, hh, nn = rd(b, i)
        out.append(b[i:i + hh + nn])
        i += hh + nn
    return out


def oid_tlv(o):
    return acore.ObjectIdentifier(o).dump()


def attribute(oid, *values):
    return tlv(0x30, oid_tlv(oid) + tlv(0x31, b"".join(values)))


def sd_children(ci):
    return children(children(children(ci)[1])[0])


def rebuild(ci, kids):
    return tlv(0x30, children(ci)[0] + tlv(0xA0, tlv(0x30, b"".join(kids))))


def signer_info_set_pos(kids):
    return max(i for i, k in enumerate(kids) if k[0] == 0x31)


def edit_signer(ci, f):
    kids = sd_children(ci)
    pos = signer_info_set_pos(kids)
    sis = children(kids[pos])
    sis[0] = f(sis[0])
    kids[pos] = tlv(0x31, b"".join(sis))
    return rebuild(ci, kids)


def signer_info(ci):
    kids = sd_children(ci)
    return children(kids[signer_info_set_pos(kids)])[0]


def unsigned(si):
    return [a for f in children(si) if f[0] == 0xA1 for a in children(f)]


def set_unsigned(si, attrs):
    fs = [f for f in children(si) if f[0] != 0xA1]
    if attrs:
        fs.append(tlv(0xA1, b"".join(attrs)))
    return tlv(0x30, b"".join(fs))


def add_unsigned(ci, attr, first=False):
    return edit_signer(ci, lambda si: set_unsigned(si, [attr] + unsigned(si) if first else unsigned(si) + [attr]))


def add_field(ci, tag, items):
    """Append items to SignedData.certificates [0] or .crls [1]."""
    kids = sd_children(ci)
    existing = [k for k in kids if k[0] == tag]
    items = (children(existing[0]) if existing else []) + list(items)
    kids = [k for k in kids if k[0] != tag]
    # RFC 5652 §5.1 order: version, digestAlgorithms, encapContentInfo, [0], [1], signerInfos
    # (the first SET is digestAlgorithms: the insertion point is after encapContentInfo; an
    # earlier version put the field before digestAlgorithms, which OpenSSL refuses).
    encap = next(i for i, k in enumerate(kids) if k[0] == 0x30)
    after = [i for i, k in enumerate(kids) if i > encap and k[0] in ((0xA1, 0x31) if tag == 0xA0 else (0x31,))]
    kids.insert(min(after), tlv(tag, b"".join(items)))
    return rebuild(ci, kids)


def signature_value(si):
    v = [f for f in children(si) if f[0] == 0x04][-1]
    _, h, n = rd(v)
    return v[h:h + n]


def tst_token(digest, at, tsa="tsa"):
    """An RFC 3161 token over `digest` (SHA-256) by pyHanko's DummyTimeStamper of pki/<tsa>.pem."""
    req = atsp.TimeStampReq({"version": 1, "message_imprint": atsp.MessageImprint(
        {"hash_algorithm": aalgos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": digest}),
        "cert_req": True})
    resp = asyncio.run(pk.timestamper(tsa, at=at).async_request_tsa_response(req))
    return resp["time_stamp_token"].dump()


def add_signature_ts(ci, at, tsa="tsa", bare=False):
    """A signature time-stamp (unsigned attribute). `bare`: without the token's certificates,
    put first (it sorts first in the DER SET OF); the TSA certificate goes into
    SignedData.certificates, which no archive time-stamp index lists here."""
    tok = tst_token(hashlib.sha256(signature_value(signer_info(ci))).digest(), at, tsa)
    if bare:
        tok = rebuild(tok, [k for k in sd_children(tok) if k[0] != 0xA0])
        ci = add_field(ci, 0xA0, [der(load(tsa)[0])])
    return add_unsigned(ci, attribute(OID_TST, tok), first=bare)


def hash_index(ci):
    """ats-hash-index-v3 (EN 319 122-1 §5.5.3): SHA-256 of every certificate, CRL and unsigned
    attribute value (type and value) present."""
    kids = sd_children(ci)
    H = lambda x: hashlib.sha256(x).digest()  # noqa: E731
    certs = [c for k in kids if k[0] == 0xA0 for c in children(k)]
    crls = [c for k in kids if k[0] == 0xA1 for c in children(k)]
    vals = []
    for a in unsigned(signer_info(ci)):
        t, vs = children(a)
        vals += [t + v for v in children(vs)]
    seq = lambda items: tlv(0x30, b"".join(tlv(0x04, H(x)) for x in items))  # noqa: E731
    return tlv(0x30, tlv(0x30, oid_tlv("2.16.840.1.101.3.4.2.1")) + seq(certs) + seq(crls) + seq(vals))


def add_ats(ci, content, at, tsa="tsa"):
    """archive-time-stamp-v3: the token's imprint is over eContentType, the content's hash, the
    SignerInfo's fields but its unsigned attributes, and the ats-hash-index-v3, which goes into
    the token's own SignerInfo as an unsigned attribute."""
    index = hash_index(ci)
    kids = sd_children(ci)
    ect = children([k for k in kids if k[0] == 0x30][0])[0]
    fs = [f for f in children(signer_info(ci)) if f[0] != 0xA1]
    imprint = ect + hashlib.sha256(content).digest() + b"".join(fs) + index
    tok = tst_token(hashlib.sha256(imprint).digest(), at, tsa)
    tok = edit_signer(tok, lambda si: set_unsigned(si, unsigned(si) + [attribute(OID_IDX3, index)]))
    return add_unsigned(ci, attribute(OID_ATS3, tok))


def cades(content, label):
    """Detached CAdES-B-B by `openssl cms -sign -cades` (SHA-256), the issuing CA embedded."""
    return pk.openssl_sign(content, [label], extra=["-cades", "-md", "sha256"], certfile=("inter",))


# --- Cases -------------------------------------------------------------------------------------

class Lta:
    def __init__(self, mc_, made_with):
        from importlib.metadata import version
        self.mc, self.py = mc_, made_with
        self.pyca = "pyca/cryptography " + version("cryptography")
        self.a1 = "asn1crypto " + version("asn1crypto")
        self.osl = "OpenSSL " + subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
        self.made = []

    def case(self, slug, data, expect, klass, description, made_with=None, args=(), **kw):
        before = BEFORE.get(slug)
        if before is not None and before[0] == "TIMEOUT":
            description += f" Before commit 81be265 kyso gave {before[1]} (release build)."
        elif before is not None:
            description += " Before commit 81be265 kyso said " + before[0] + (f"/{before[1]}" if before[1] else "")
            if slug in TIMES:
                description += f", after {TIMES[slug]} (release build; the point of the case)."
            else:
                description += "; already right, so the case guards against a regression." if before == expect else "."
        assert len(data) < 1 << 20, f"{slug}: {len(data)} bytes"
        self.mc.case(slug, data, expect, description, made_with or f"{self.py} + {self.pyca} + {self.a1}",
                     attack_class="review 2: " + klass, before=before, extra_args=("--offline",) + tuple(args), **kw)
        self.made.append(slug)


def save_crl(name, data):
    """A CRL as PEM under pki/, its path relative to tests/corpus."""
    return pk.save_crl(name, data)


def make(mc_, made_with):
    global mc
    mc = mc_
    pk.mc = mc_
    m = Lta(mc_, made_with)
    certs(m)
    revocation_freshness(m)
    dss_of_every_revision(m)
    keys_known_compromised(m)
    cades_archive_time_stamps(m)
    page_overlays(m)
    exhaustion(m)
    false_rejects(m)
    online(m)
    return m.made


C = {}  # the certificates of this module, by label


def certs(m):
    cdp = f"{NOWHERE}/kyso-issuing-ca.crl"
    root_cdp = f"{NOWHERE}/kyso-root.crl"
    tsa_eku = [ExtendedKeyUsageOID.TIME_STAMPING]
    ocsp_eku = [ExtendedKeyUsageOID.OCSP_SIGNING]
    for label, cn, issuer, kw in [
        ("l-expired", "Signer l-expired", "inter", dict(na=D(2025, 6, 30), cdp=cdp)),
        ("l-revoked", "Signer l-revoked", "inter", dict(cdp=cdp)),
        ("l-stolen", "Signer l-stolen", "inter", dict(cdp=cdp)),
        ("l-r5", "Signer l-r5", "inter", dict(cdp=cdp)),
        ("l-good", "Signer l-good", "inter", dict(cdp=cdp)),
        ("l-ocsp", "Kyso Test OCSP responder", "inter", dict(nb=D(2020, 1, 1), na=D(2045, 1, 1), eku=ocsp_eku, cdp=cdp)),
        ("l-ocsp-revoked", "Kyso Test OCSP responder 2", "inter", dict(nb=D(2020, 1, 1), na=D(2045, 1, 1), eku=ocsp_eku, cdp=cdp)),
        ("l-tsa-revoked", "Kyso Test TSA revoked", "root", dict(nb=D(2020, 1, 1), na=D(2045, 1, 1), eku=tsa_eku, cdp=root_cdp)),
        ("l-tsa-old", "Kyso Test TSA old", "root", dict(nb=D(2020, 1, 1), na=D(2025, 1, 1), eku=tsa_eku)),
        ("l-tsa-cdp", "Kyso Test TSA with CDP", "root", dict(nb=D(2020, 1, 1), na=D(2045, 1, 1), eku=tsa_eku, cdp=root_cdp)),
        ("l-online", "Signer l-online", "inter", dict(cdp=f"http://127.0.0.1:{ONLINE_PORT}/kyso-issuing-ca.crl")),
        ("l-online-expired", "Signer l-online-expired", "inter",
         dict(na=D(2025, 6, 30), cdp=f"http://127.0.0.1:{ONLINE_PORT}/kyso-issuing-ca.crl")),
        ("l-stall", "Signer l-stall", "inter", dict(cdp=f"http://127.0.0.1:{STALL_PORT}/kyso-issuing-ca.crl",
                                                   ocsp_url=f"http://127.0.0.1:{STALL_PORT}/ocsp")),
    ]:
        C[label] = issue(label, cn, issuer, **kw)


# --- R1, R2: how fresh a "good" must be --------------------------------------------------------

def revocation_freshness(m):
    base = pk.small_pdf()
    kc = x509.ReasonFlags.key_compromise
    # R1: l-expired (valid 2024-01-01 to 2025-06-30) revoked 2025-03-01; a thief signs on
    # 2025-04-15 (signature time-stamp by pki/tsa.pem).
    rev1 = D(2025, 3, 1)
    signed = sign(base, "l-expired", ts_at=D(2025, 4, 15, 9))
    after_expiry = crl("inter", D(2025, 8, 1), D(2025, 8, 8))
    listing = crl("inter", D(2025, 4, 20), D(2025, 4, 27), [(C["l-expired"], rev1, kc)])
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-expired.pem (issuing CA; valid 2024-01-01 to "
             "2025-06-30; names a CRL distribution point on the loopback discard port, not asked: --offline), "
             "revoked by the CA on 2025-03-01 (keyCompromise); the signature time-stamp (pki/tsa.pem, DummyTimeStamper) "
             "says 2025-04-15 09:00Z, after the revocation.")
    m.case("revoked-expired-signer-crl-after-expiry",
           doc_ts(dss(signed, crls=[after_expiry]), D(2025, 8, 2)), TRY_LATER, "R1 data issued after expiry",
           f"{story} A DSS update adds the CA's CRL of 2025-08-01 (nextUpdate 2025-08-08), issued after the "
           "certificate expired: CAs drop expired certificates from their CRLs (RFC 5280 §3.3, §5), so it does not "
           "list the revocation, and a document time-stamp of 2025-08-02 covers it. Data issued after the "
           "certificate expired says nothing about it (the CRL declares no ExpiredCertsOnCRL); no other status, "
           "and the certificate names a distribution point: INDETERMINATE/TRY_LATER, not TOTAL-PASSED.")
    o = ocsp(C["l-expired"], "good", D(2025, 8, 1), D(2025, 8, 8))
    m.case("revoked-expired-signer-ocsp-after-expiry",
           doc_ts(dss(signed, ocsps=[o]), D(2025, 8, 2)), TRY_LATER, "R1 data issued after expiry",
           f"{story} A DSS update adds the issuing CA's OCSP response 'good' of 2025-08-01 (asn1crypto, signed by "
           "the CA, no archiveCutoff), produced after the certificate expired, and a document time-stamp of "
           "2025-08-02 covers it. A responder may answer 'good' for a certificate it no longer tracks: issued "
           "after expiry, without archiveCutoff, it says nothing; no other status: INDETERMINATE/TRY_LATER.")
    m.case("revoked-expired-signer-crl-listing-revocation",
           doc_ts(dss(signed, crls=[listing]), D(2025, 4, 21)), REVOKED, "R1 data issued after expiry",
           f"The control for revoked-expired-signer-crl-after-expiry. {story} A DSS update adds the CA's CRL of "
           "2025-04-20 (nextUpdate 2025-04-27), issued while the certificate was valid, listing the revocation; a "
           "document time-stamp of 2025-04-21 covers it. Revoked before the time-stamp proves the signature "
           "existed: TOTAL-FAILED/REVOKED.")
    r3b = doc_ts(dss(signed, crls=[listing]), D(2025, 4, 21))
    m.case("dss-update-empties-dss-expired-signer", replace_dss(r3b), REVOKED, "R3 DSS of every revision",
           "revoked-expired-signer-crl-listing-revocation (the CRL listing the revocation in the DSS, covered by a "
           "document time-stamp of 2025-04-21) with one more update written by pyHanko's writer: the catalog names "
           "a new, empty DSS. An online verifier reading only the final DSS would fetch the CA's current CRL, "
           "which no longer lists the expired certificate. The DSS of every revision is read, so the revoking CRL "
           "the document time-stamp covered is still there: TOTAL-FAILED/REVOKED.")

    # R2: l-online revoked 2026-11-20 (keyCompromise); a thief signs on 2026-11-25.
    rev2 = D(2026, 11, 20)
    s2 = sign(base, "l-online", ts_at=D(2026, 11, 25, 9))
    stale = crl("inter", D(2026, 11, 19), D(2026, 11, 26))
    # The CA's current CRL: l-online-expired (revoked 2025-03-01, expired 2025-06-30) is no
    # longer on it (RFC 5280 §3.3).
    current = crl("inter", D(2026, 11, 26), D(2026, 12, 3), [(C["l-online"], rev2, kc)])
    current_path = save_crl("l-online-current.crl.pem", current)
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-online.pem (issuing CA; names the CRL "
             f"distribution point http://127.0.0.1:{ONLINE_PORT}/kyso-issuing-ca.crl, which tests/verify_online.rs "
             "serves; here --offline), revoked by the CA on 2026-11-20 (keyCompromise); the signature time-stamp "
             "(pki/tsa.pem) says 2026-11-25 09:00Z, after the revocation.")
    note = ("The report says so: 'the status of CN=Signer l-online,… at 2026-11-25T09:00:00Z rests on a CRL of "
            "2026-11-19T00:00:00Z valid until 2026-11-26T00:00:00Z, issued before that time: a revocation "
            "published after it and before it expires would not show (verify online, or add fresher validation "
            "data, to rule that out)' (verify_corpus asserts verdicts only; tests/verify_online.rs asserts this "
            "note, and that online the current CRL makes it REVOKED).")
    stale_doc = dss(s2, crls=[stale])
    m.case("signed-after-revocation-stale-crl", stale_doc, PASSED, "R2 data issued before the revocation",
           f"{story} A DSS update adds the CA's weekly CRL of 2026-11-19 (nextUpdate 2026-11-26), issued before "
           "the revocation, whose window covers the time-stamp. Offline, with nothing fresher at hand, that is "
           "the status at the time-stamp as EN 319 102-1 §5.2.5.4 judges it without a freshness constraint (EU "
           f"DSS and pyHanko do the same): TOTAL-PASSED. {note}")
    o = ocsp(C["l-online"], "good", D(2026, 11, 19), D(2026, 11, 26))
    m.case("signed-after-revocation-stale-ocsp", dss(s2, ocsps=[o]), PASSED, "R2 data issued before the revocation",
           f"{story} A DSS update adds the CA's OCSP response 'good' of 2026-11-19 (nextUpdate 2026-11-26; "
           "asn1crypto, signed by the CA), issued before the revocation, its window covering the time-stamp: "
           "offline and with nothing fresher, TOTAL-PASSED (EN 319 102-1 default), the report saying the status "
           "rests on an OCSP response issued before the time.")
    m.case("signed-after-revocation-stale-crl-b-lta", doc_ts(stale_doc, D(2026, 11, 25, 10)), PASSED,
           "R2 data issued before the revocation",
           f"signed-after-revocation-stale-crl with a document time-stamp of 2026-11-25 10:00Z (pyHanko, "
           f"pki/tsa.pem) over the stale CRL. {story} The document time-stamp changes nothing about how fresh "
           "the CRL is: TOTAL-PASSED, with the same note.")
    m.case("signed-after-revocation-stale-crl-given-current-crl", stale_doc, REVOKED,
           "R2 data issued before the revocation",
           f"The control for signed-after-revocation-stale-crl, the same file, with --crl {current_path}: the CA's "
           "CRL of 2026-11-26 (nextUpdate 2026-12-03) listing the revocation of 2026-11-20. 'Revoked' from any "
           "source wins over a 'good' from another: TOTAL-FAILED/REVOKED.", crl=(current_path,))
    # For tests/verify_online.rs: the same CRL in DER, as its distribution point serves it.
    os.makedirs(os.path.join(mc.HERE, "online"), exist_ok=True)
    with open(os.path.join(mc.HERE, "online", "kyso-issuing-ca-current.crl"), "wb") as f:
        f.write(current)


# --- R3: a later DSS update drops what a document time-stamp covered ---------------------------

def dss_of_every_revision(m):
    base = pk.small_pdf()
    rev = D(2026, 11, 20)
    s = sign(base, "l-revoked", ts_at=D(2026, 11, 25, 9))
    stale = crl("inter", D(2026, 11, 19), D(2026, 11, 26))
    current = crl("inter", D(2026, 11, 26), D(2026, 12, 3), [(C["l-revoked"], rev, x509.ReasonFlags.key_compromise)])
    lta = doc_ts(dss(s, crls=[current]), D(2026, 11, 26, 10))
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-revoked.pem (issuing CA; CRL distribution "
             "point on the loopback discard port, --offline), revoked on 2026-11-20; signature time-stamp "
             "2026-11-25 09:00Z (pki/tsa.pem). An archivist's B-LTA update embeds the CA's CRL of 2026-11-26 "
             "listing the revocation (DSS, pyHanko) and a document time-stamp of 2026-11-26 10:00Z covers it.")
    m.case("dss-revoking-crl-under-doc-timestamp", lta, REVOKED, "R3 DSS of every revision",
           f"{story} Revoked before the signature time-stamp: TOTAL-FAILED/REVOKED (the control for "
           "dss-update-drops-revoking-crl and dss-update-empties-dss).")
    m.case("dss-update-drops-revoking-crl", replace_dss(lta, crls=[stale], certs=[der(load("inter")[0])]), REVOKED,
           "R3 DSS of every revision",
           f"{story} The forger then appends an update (pyHanko's writer; DSS changes are allowed after any "
           "signature) whose catalog names a new DSS holding only the CA's CRL of 2026-11-19 (nextUpdate "
           "2026-11-26), issued before the revocation. The baseline kyso read only the final DSS and passed the "
           "signature. The DSS of every revision is read, so the revoking CRL the document time-stamp covered "
           "still counts, and 'revoked' wins: TOTAL-FAILED/REVOKED.")
    m.case("dss-update-empties-dss", replace_dss(lta), REVOKED, "R3 DSS of every revision",
           f"{story} The forger then appends an update whose catalog names a new, empty DSS. The DSS of every "
           "revision is read: TOTAL-FAILED/REVOKED.")


# --- R4, R5: keys known to be compromised --------------------------------------------------------

def keys_known_compromised(m):
    base = pk.small_pdf()
    kc = x509.ReasonFlags.key_compromise
    # R4: l-stolen revoked 2024-03-01; the TSA l-tsa-revoked revoked by the root 2026-06-01
    # (keyCompromise); with both stolen keys the forger signs now and back-dates the token.
    s = sign(base, "l-stolen", ts_at=D(2024, 2, 1, 9), tsa="l-tsa-revoked")
    signer_crl = crl("inter", D(2026, 11, 26), D(2026, 12, 3), [(C["l-stolen"], D(2024, 3, 1), kc)])
    root_crl = crl("root", D(2026, 11, 26), D(2027, 11, 26), [(C["l-tsa-revoked"], D(2026, 6, 1), kc)])
    m.case("tsa-revoked-after-gentime-backdated", dss(s, crls=[signer_crl, root_crl]), REVOKED,
           "R4 TSA revoked after genTime",
           "A one-page PDF signed by pyHanko (PAdES) with pki/l-stolen.pem (issuing CA), revoked on 2024-03-01 "
           "(keyCompromise); its signature time-stamp is by pki/l-tsa-revoked.pem (a TSA of the root), which the "
           "root revoked on 2026-06-01 (keyCompromise), and claims genTime 2024-02-01 09:00Z: with both stolen "
           "keys, the forger signs later and back-dates the token before the signer's revocation. The DSS holds "
           "the CA's CRL listing the signer and the root's CRL listing the TSA (both of 2026-11-26). A token of a "
           "key revoked for compromise proves its genTime only if something shows it existed before the "
           "revocation; nothing does here, so the time-stamp is not relied on, the control time is the claimed "
           "signing time (/M, when the case was made), after the signer's revocation: TOTAL-FAILED/REVOKED.")

    s = sign(base, "l-stolen", ts_at=D(2024, 2, 1, 9), tsa="l-tsa-revoked", claimed=D(2024, 2, 1, 8, 55))
    m.case("tsa-revoked-after-gentime-backdated-claim", dss(s, crls=[signer_crl, root_crl]), WARNED,
           "R4 TSA revoked after genTime",
           "tsa-revoked-after-gentime-backdated with the signing time back-dated too: the signature dictionary's "
           "/M claims 2024-02-01 08:55Z, before the signer's revocation (pyHanko signing with that system time). "
           "The same pki/l-stolen.pem (revoked 2024-03-01), the same signature time-stamp of 2024-02-01 09:00Z by "
           "pki/l-tsa-revoked.pem (revoked by the root on 2026-06-01, keyCompromise), the same CRLs in the DSS. "
           "Nothing shows the token existed before its TSA's revocation, so it proves nothing "
           "(SIG_CONSTRAINTS_FAILURE, the first message), and only the signer's own claim dates the signature "
           "before its revocation (the report also says nothing proves the signature was made before it): "
           "INDETERMINATE/SIG_CONSTRAINTS_FAILURE, not TOTAL-PASSED.")

    # R5: an OCSP 'good' forged with the key of a revoked delegated responder without ocsp-nocheck.
    s5 = sign(base, "l-r5", ts_at=D(2026, 11, 30, 9))
    forged = ocsp(C["l-r5"], "good", D(2026, 11, 30, 10), D(2026, 12, 7), responder="l-ocsp-revoked")
    ca_crl = crl("inter", D(2026, 11, 30, 12), D(2026, 12, 7),
                 [(C["l-r5"], D(2026, 11, 29), kc), (C["l-ocsp-revoked"], D(2026, 11, 1), kc)])
    ca_crl_path = save_crl("l-r5-issuing-ca.crl.pem", ca_crl)
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-r5.pem (issuing CA; CRL distribution point "
             "on the loopback discard port), revoked on 2026-11-29; signature time-stamp 2026-11-30 09:00Z. A DSS "
             "update adds an OCSP response 'good' for it of 2026-11-30 10:00Z (asn1crypto) signed by "
             "pki/l-ocsp-revoked.pem, a delegated responder of the issuing CA (extendedKeyUsage OCSPSigning, no "
             "id-pkix-ocsp-nocheck) whose key was compromised: the CA revoked it on 2026-11-01.")
    m.case("ocsp-good-from-revoked-delegated-responder", dss(s5, ocsps=[forged]), TRY_LATER,
           "R5 delegated responder status",
           f"{story} Without ocsp-nocheck a delegated responder's own status must be known before its answers "
           "count (RFC 6960 §4.2.2.2.1); nothing at hand gives it (offline), so the response is ignored, and the "
           "signer's status is unknown while its certificate names a distribution point: INDETERMINATE/TRY_LATER.")
    m.case("ocsp-good-from-revoked-delegated-responder-crl-given", dss(s5, ocsps=[forged]), REVOKED,
           "R5 delegated responder status",
           f"The control for ocsp-good-from-revoked-delegated-responder, the same file. {story} Here the CA's CRL "
           f"of 2026-11-30 12:00Z is given (--crl {ca_crl_path}): it lists the responder (2026-11-01) and the "
           "signer (2026-11-29), so the response is not used and 'revoked' stands: TOTAL-FAILED/REVOKED.",
           crl=(ca_crl_path,))


# --- C1, C2: CAdES archive time-stamps -----------------------------------------------------------

def cades_archive_time_stamps(m):
    content = "Quyết định số 123/QĐ-UBND: cấp giấy phép xây dựng\n".encode()
    kc = x509.ReasonFlags.key_compromise
    crl_ = crl("inter", D(2024, 5, 2), D(2024, 5, 9), [(C["l-stolen"], D(2024, 3, 1), kc)])

    def genuine():
        ci = cades(content, "l-stolen")
        ci = add_signature_ts(ci, D(2024, 5, 1, 9))
        return add_field(ci, 0xA1, [crl_])
    lta = add_ats(genuine(), content, D(2024, 6, 1, 9))
    made = f"{m.osl} cms -sign -cades + {m.py} DummyTimeStamper + {m.pyca} + TLV surgery by tests/corpus/attacks_lta.py"
    story = ("A detached CAdES signature over doc.txt by `openssl cms -sign -cades` with pki/l-stolen.pem (issuing CA; "
             "revoked 2024-03-01, keyCompromise), to which this script adds a signature time-stamp of 2024-05-01 "
             "09:00Z (pki/tsa.pem), the CA's CRL of 2024-05-02 listing the revocation (SignedData.crls) and an "
             "archive-time-stamp-v3 of 2024-06-01 09:00Z (pki/tsa.pem) whose ats-hash-index-v3 lists every "
             "certificate, CRL and unsigned attribute then present (EN 319 122-1 §5.5.3).")
    m.case("cades-lta-revoked", content, REVOKED, "C1 CAdES ats-hash-index-v3",
           f"{story} Signed after the revocation: TOTAL-FAILED/REVOKED (the control for "
           "cades-lta-backdated-sig-ts-not-in-ats-index).", made, detached=lta, filename="doc.txt")
    forged = add_signature_ts(lta, D(2024, 2, 1, 9), tsa="l-tsa-old", bare=True)
    m.case("cades-lta-backdated-sig-ts-not-in-ats-index", content, REVOKED, "C1 CAdES ats-hash-index-v3",
           f"{story} A forger holding the leaked key of pki/l-tsa-old.pem (a TSA of the root, expired 2025-01-01) "
           "then adds a second signature time-stamp back-dated to 2024-02-01 09:00Z, before the revocation, "
           "without certificates so it sorts first; its TSA certificate goes into SignedData.certificates. The "
           "archive time-stamp's index lists neither, so its genTime lends that token no reliance; on its own the "
           "token's TSA has expired and nothing proves it existed while valid. The genuine time-stamp of "
           "2024-05-01 is the proof of existence, after the revocation: TOTAL-FAILED/REVOKED.",
           made, detached=forged, filename="doc.txt")
    no_ats = add_signature_ts(genuine(), D(2024, 2, 1, 9), tsa="l-tsa-old", bare=True)
    m.case("cades-backdated-sig-ts-no-ats", content, REVOKED, "C1 CAdES ats-hash-index-v3",
           "The same forged time-stamp of 2024-02-01 (pki/l-tsa-old.pem, expired 2025-01-01) added to the "
           "signature before any archive time-stamp. " + story.split(" and an archive")[0] + ". The expired "
           "TSA's token proves nothing; the genuine one is after the revocation: TOTAL-FAILED/REVOKED.",
           made, detached=no_ats, filename="doc.txt")
    # C2: removing what the archive time-stamp covered.
    no_crl = rebuild(lta, [k for k in sd_children(lta) if k[0] != 0xA1])
    m.case("cades-lta-covered-crl-removed", content, WARNED, "C2 CAdES removal under an archive time-stamp",
           f"cades-lta-revoked with the revoking CRL removed from SignedData.crls (TLV surgery). {story} The "
           "archive time-stamp's ats-hash-index-v3 lists a CRL that is no longer there, so the archive time-stamp "
           "fails (EN 319 122-1 §5.5.3) and the signature is INDETERMINATE/SIG_CONSTRAINTS_FAILURE, not passed.",
           made, detached=no_crl, filename="doc.txt")
    no_ts = edit_signer(lta, lambda si: set_unsigned(si, [a for a in unsigned(si) if children(a)[0] != oid_tlv(OID_TST)]))
    m.case("cades-lta-covered-sig-ts-removed", content, REVOKED, "C2 CAdES removal under an archive time-stamp",
           f"cades-lta-revoked with its signature time-stamp removed (TLV surgery). {story} The archive "
           "time-stamp no longer matches and proves nothing; the signature is then CAdES-B-B judged at its "
           "claimed signing time (openssl's signing-time, when the case was made), after the revocation: "
           "TOTAL-FAILED/REVOKED.", made, detached=no_ts, filename="doc.txt")


# --- P1, P2: what a page shows -------------------------------------------------------------------

def page_overlays(m):
    base = pk.small_pdf()
    rect = (60, 750, 580, 784)
    p1 = ("After the signature, a forger with no key of the PKI — only a trusted, public TSA — adds (pyHanko's "
          "writer) an empty signature field 'XacNhan' whose widget's appearance paints a white box with "
          "“GIAY PHEP - DA BI THU HOI” over the page's text, then fills that field with a document time-stamp "
          "(pyHanko PdfTimeStamper, pki/tsa.pem, when the case was made). A document time-stamp names no signer: "
          "the TSA vouches for a time, not for what the widget shows, so the earlier signature is INDETERMINATE/"
          "SIG_CONSTRAINTS_FAILURE with a warning naming the field, as for an unsigned visible field; the "
          "document time-stamp itself passes.")
    s = add_widget_field(sign(base, "rsa"), "XacNhan", rect, FORGED_AP)
    m.case("visible-doc-timestamp-over-approval", doc_ts(s, None, field="XacNhan"), WARNED,
           "P1 visible document time-stamp",
           "A one-page PDF signed by pyHanko (PAdES-B-B, approval) with pki/rsa.pem. " + p1)
    c = sign(base, "rsa", certify=True, perm=MDPPerm.FILL_FORMS)
    c = add_widget_field(c, "XacNhan", rect, FORGED_AP)
    m.case("visible-doc-timestamp-over-certification-p2", doc_ts(c, None, field="XacNhan"), WARNED,
           "P1 visible document time-stamp",
           "A one-page PDF certified by pyHanko (DocMDP P=2: form filling and signing) with pki/rsa.pem. " + p1)

    # P2: a font of the form's default resources swapped where a widget has no usable appearance.
    w_tx = (b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (dien_tich) /V (100 m2) /DA (/Helv 12 Tf 0 g) "
            b"/Rect [100 722 300 742] /F 4 /P 3 0 R /AP << /N 30 0 R >> >>")
    w_btn = (b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (dien_tich) /MK << /CA (100 m2) >> "
             b"/DA (/Helv 12 Tf 0 g) /Rect [100 722 300 742] /F 4 /P 3 0 R >>")
    swap = ("After the signature an update written by this script replaces /DR's /Helv (object 8) with a Type3 "
            "font whose glyph 'one' draws a 9: the value drawn from /DA and /DR reads “900 m2” (Poppler 22.12).")
    hand = f"{m.py} + a PDF and an update written by tests/corpus/attacks_lta.py"
    for slug, wdg, what in [
        ("form-dr-font-swapped-text-field-dangling-ap", w_tx,
         "a text field 'dien_tich' whose value is “100 m2” and whose widget names a normal appearance that does "
         "not exist (object 30 is never defined), so viewers draw the value from the form's /DA and /DR"),
        ("form-dr-font-swapped-pushbutton-caption", w_btn,
         "a push button 'dien_tich' whose caption (/MK /CA) is “100 m2” and which has no appearance at all, so "
         "viewers draw the caption from /DA and /DR"),
    ]:
        signed = sign(p2_build(wdg), "rsa")
        doc = ("A one-page land-use certificate written by this script, with " + what + ", signed by pyHanko "
               "(PAdES-B-B) with pki/rsa.pem.")
        m.case(slug, type3_swap(signed), FAILED, "P2 /DR font swap",
               f"{doc} {swap} A shown widget without a resolvable appearance makes the form's /DA and /DR count as "
               "drawn, so the swapped font is a change to what the signer saw: TOTAL-FAILED/FORMAT_FAILURE.", hand)
        m.case(slug + "-control", signed, PASSED, "P2 /DR font swap",
               f"The control for {slug}: {doc} Nothing changed after signing: TOTAL-PASSED.", hand)


# --- D1, D3: bounded work ------------------------------------------------------------------------

def exhaustion(m):
    base = pk.small_pdf()
    s = sign(base, "l-good", ts_at=D(2026, 11, 25, 9))
    o = ocsp(C["l-good"], "good", D(2026, 11, 26), D(2026, 12, 3), responder="l-ocsp")
    crl_ = crl("inter", D(2026, 11, 26), D(2026, 12, 3))
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-good.pem (issuing CA), signature time-stamp "
             "2026-11-25 09:00Z. An update written by pyHanko's writer (DSS changes are allowed after any "
             "signature, no key is needed) adds a DSS")
    d = dss_repeated(s, crls=[crl_], ocsps=[o], times_crl=3000, times_ocsp=3000)
    m.case("dos-dss-3000-ocsp-x-3000-crl", d, PASSED, "D1 bounded revocation work",
           f"{story} whose /OCSPs names one OCSP response 'good' (2026-11-26, by the delegated responder "
           "pki/l-ocsp.pem, without ocsp-nocheck) 3,000 times and whose /CRLs names one CRL of the CA (2026-11-26, "
           "empty) 3,000 times. The baseline kyso checked the responder's status against every CRL for every OCSP "
           "entry: 9,000,000 RSA verifications (the review measured 433 s at 1,000 x 1,000 in a debug build). Items are deduplicated by hash: a few verifications. The responder is not revoked in "
           "the CRL and both say 'good' after the time-stamp: TOTAL-PASSED (the point is that it finishes).")
    m.case("dos-dss-10000-crl-refs", dss_repeated(s, crls=[crl_], times_crl=10000), PASSED, "D1 bounded revocation work",
           f"{story} whose /CRLs names one CRL of the CA (2026-11-26, empty) 10,000 times: deduplicated, one "
           "verification; the CRL says 'good' after the time-stamp: TOTAL-PASSED.")

    # D3: an ats-hash-index-v3 of 20,000 entries against 50,000 items.
    content = "Hồ sơ số 789\n".encode()
    ci = cades(content, "rsa")
    distinct = [tlv(0x02, i.to_bytes(2, "big")) for i in range(30000)]
    nulls = [b"\x05\x00"] * 20000
    x = add_field(ci, 0xA0, distinct + nulls)
    h = hashlib.sha256(b"\x05\x00").digest()
    index = tlv(0x30, tlv(0x30, oid_tlv("2.16.840.1.101.3.4.2.1")) + tlv(0x30, tlv(0x04, h) * 20000)
                + tlv(0x30, b"") + tlv(0x30, b""))
    si = tlv(0x30, b"\x02\x01\x01" + tlv(0x30, b"") + tlv(0x30, oid_tlv("2.16.840.1.101.3.4.2.1"))
             + tlv(0x30, oid_tlv("1.2.840.113549.1.1.1")) + tlv(0x04, b"\0" * 16)
             + tlv(0xA1, attribute(OID_IDX3, index)))
    sd = tlv(0x30, b"\x02\x01\x03" + tlv(0x31, b"") + tlv(0x30, oid_tlv("1.2.840.113549.1.9.16.1.4")) + tlv(0x31, si))
    fake = tlv(0x30, oid_tlv("1.2.840.113549.1.7.2") + tlv(0xA0, sd))
    x = add_unsigned(x, attribute(OID_ATS3, fake))
    m.case("dos-ats-hash-index-20000-entries", content, WARNED, "D3 bounded ats-hash-index matching",
           "A detached CAdES signature over doc.txt by `openssl cms -sign -cades` with pki/rsa.pem, to which this "
           "script adds (TLV surgery; no key needed) 30,000 distinct small INTEGERs and 20,000 NULLs to "
           "SignedData.certificates and an archive-time-stamp-v3 whose token is a shell (no TSTInfo, a zero "
           "signature) with an ats-hash-index-v3 listing SHA-256(NULL) 20,000 times. The baseline kyso matched "
           "each listed hash against every item with a linear scan before checking anything (the review "
           "measured 39 s at 65,536 x 21,000 in a debug build): matching is linear now (multiset by hash). The archive time-stamp "
           "is not a valid token: INDETERMINATE/SIG_CONSTRAINTS_FAILURE (the point is that it finishes).",
           f"{m.osl} cms -sign -cades + TLV surgery by tests/corpus/attacks_lta.py", detached=x, filename="doc.txt")


# --- FR1, FR3: false rejects -----------------------------------------------------------------------

def false_rejects(m):
    base = pk.small_pdf()
    s = sign(base, "l-good", ts_at=D(2026, 11, 25, 9))
    good_crl = crl("inter", D(2026, 11, 26), D(2026, 12, 3))
    lta = doc_ts(dss(s, crls=[good_crl]), D(2026, 11, 27, 9), tsa="l-tsa-cdp")
    root_crl = crl("root", D(2026, 11, 28), D(2027, 11, 28))
    root_path = save_crl("l-root.crl.pem", root_crl)
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-good.pem (issuing CA), signature time-stamp "
             "2026-11-25 09:00Z (pki/tsa.pem), the CA's CRL of 2026-11-26 in the DSS, and a document time-stamp "
             "of 2026-11-27 09:00Z by pki/l-tsa-cdp.pem, a TSA of the root whose certificate names a CRL "
             "distribution point (loopback discard port, --offline); the DSS holds nothing for it.")
    m.case("doc-timestamp-tsa-cdp-crl-given", lta, PASSED, "FR1 --crl for a document time-stamp",
           f"{story} The root's CRL of 2026-11-28 (empty) is given with --crl {root_path}. The baseline kyso "
           "looked up a document time-stamp's TSA only in the DSS and said INDETERMINATE/TRY_LATER; --crl and "
           "--ocsp count for document time-stamps as for signature time-stamps: TOTAL-PASSED.", crl=(root_path,))
    m.case("doc-timestamp-tsa-cdp-no-crl", lta, TRY_LATER, "FR1 --crl for a document time-stamp",
           f"The control for doc-timestamp-tsa-cdp-crl-given, the same file. {story} No status for the TSA, whose "
           "certificate names where to get one: the document time-stamp is INDETERMINATE/TRY_LATER.")

    s = sign(base, "l-good", ts_at=D(2026, 11, 25, 9))
    fresh = crl("inter", D(2026, 11, 25, 10), D(2026, 12, 2))
    lta = doc_ts(dss(s, crls=[fresh]), D(2026, 11, 28, 9))
    story = ("A one-page PDF signed by pyHanko (PAdES-B-T) with pki/l-good.pem, signature time-stamp 2026-11-25 "
             "09:00Z, the CA's CRL of 2026-11-25 10:00Z in the DSS, and a document time-stamp of 2026-11-28 "
             "09:00Z (pki/tsa.pem): a good B-LTA.")
    m.case("b-lta-at-before-doc-timestamp", lta, PASSED, "FR3 --at before a document time-stamp",
           f"{story} Verified with --at 2026-11-26T12:00:00Z, between the signature and the document time-stamp: "
           "the document time-stamp made after that time is left out (with a message), and the signature passes "
           "as it did then. The baseline kyso said INDETERMINATE/NOT_YET_VALID for the document time-stamp: "
           "TOTAL-PASSED.", args=("--at", "2026-11-26T12:00:00Z"))
    m.case("b-lta-good", lta, PASSED, "FR3 --at before a document time-stamp",
           "The control for b-lta-at-before-doc-timestamp, the same file, verified now: TOTAL-PASSED.")


# --- Files for tests/verify_online.rs ----------------------------------------------------------

def online(m):
    """online/: what tests/verify_online.rs serves and verifies (not corpus cases)."""
    d = os.path.join(mc.HERE, "online")
    os.makedirs(d, exist_ok=True)
    doc = pk.small_pdf()
    for i in range(1, 6):
        doc = sign(doc, "l-stall", field=f"Signature{i}")
    with open(os.path.join(d, "stalled-responder-five-signatures.pdf"), "wb") as f:
        f.write(doc)
    with open(os.path.join(d, "revoked-expired-signer-no-data.pdf"), "wb") as f:
        f.write(sign(pk.small_pdf(), "l-online-expired", ts_at=D(2025, 4, 15, 9)))
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(f"""# Files for tests/verify_online.rs

Made by tests/corpus/attacks_lta.py (make_corpus.py) with the corpus PKI; not corpus cases.

- `../signed-after-revocation-stale-crl/doc.pdf` (a corpus case): signed with pki/l-online.pem,
  whose CRL distribution point is http://127.0.0.1:{ONLINE_PORT}/kyso-issuing-ca.crl; revoked
  2026-11-20, signature time-stamp 2026-11-25 09:00Z, the DSS holding the CA's CRL of
  2026-11-19 (before the revocation, window to 2026-11-26).
- `kyso-issuing-ca-current.crl`: the CA's CRL of 2026-11-26 listing that revocation (DER), what
  the test serves at that distribution point (also pki/l-online-current.crl.pem).
- `revoked-expired-signer-no-data.pdf`: signed (PAdES-B-T, time-stamp 2025-04-15 09:00Z, no
  revocation data) with pki/l-online-expired.pem (valid to 2025-06-30, the same distribution
  point), which the CA revoked on 2025-03-01 and which, expired, its current CRL no longer lists.
- `stalled-responder-five-signatures.pdf`: five approval signatures (pyHanko, PAdES-B-B, no
  revocation data) with pki/l-stall.pem, whose certificate names the OCSP responder
  http://127.0.0.1:{STALL_PORT}/ocsp and the CRL distribution point
  http://127.0.0.1:{STALL_PORT}/kyso-issuing-ca.crl, where the test accepts connections and never
  answers.
""")
