#!/usr/bin/env python3
"""Make kyso's verification corpus with tools we did not write: a test PKI made with pyca
`cryptography`, PDFs signed by pyHanko, CMS signatures made by the OpenSSL CLI, and the
attack variants made from them by byte surgery. Each case is a directory with the input and a
case.json saying what `kyso verify` must answer.

    python3 -m venv v && v/bin/pip install 'pyhanko[pkcs11]' pyhanko-cli fpdf2
    v/bin/python tests/corpus/make_corpus.py

No private key is written into the repository: keys live in a temporary directory.
"""
import asyncio
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from asn1crypto import cms as acms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
UTC = dt.timezone.utc
KEYS = tempfile.mkdtemp(prefix="kyso-corpus-keys-")


def name(cn, o="Kyso Test PKI"):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer_name, issuer_key, nb, na, ca=False, pathlen=None, tsa=False, ku=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                          encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
    if tsa:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def save_key(label, key):
    p = os.path.join(KEYS, label + ".key.pem")
    with open(p, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return p


def save_cert(path, c):
    with open(path, "wb") as f:
        f.write(c.public_bytes(serialization.Encoding.PEM))


def make_pki():
    pki = os.path.join(HERE, "pki")
    os.makedirs(pki, exist_ok=True)
    t0, t_end = dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2045, 1, 1, tzinfo=UTC)
    P = {}
    root_k = rsa.generate_private_key(65537, 3072)
    root = cert(name("Kyso Test Root CA"), root_k, name("Kyso Test Root CA"), root_k, t0, t_end, ca=True)
    inter_k = rsa.generate_private_key(65537, 2048)
    inter = cert(name("Kyso Test Issuing CA"), inter_k, root.subject, root_k, t0, t_end, ca=True, pathlen=0)
    other_k = rsa.generate_private_key(65537, 2048)
    other = cert(name("Unrelated Root CA", "Somebody Else"), other_k, name("Unrelated Root CA", "Somebody Else"), other_k, t0, t_end, ca=True)
    P["root"], P["inter"], P["other"] = (root, root_k), (inter, inter_k), (other, other_k)
    now_nb, now_na = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2036, 1, 1, tzinfo=UTC)
    for label, key, nb, na in [
        ("rsa", rsa.generate_private_key(65537, 2048), now_nb, now_na),
        ("ec", ec.generate_private_key(ec.SECP256R1()), now_nb, now_na),
        ("revoked", rsa.generate_private_key(65537, 2048), now_nb, now_na),
        ("expired", rsa.generate_private_key(65537, 2048), dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2021, 1, 1, tzinfo=UTC)),
    ]:
        c = cert(name(f"Signer {label}", "Sở Tư pháp (test)"), key, inter.subject, inter_k, nb, na)
        P[label] = (c, key)
    tsa_k = rsa.generate_private_key(65537, 2048)
    P["tsa"] = (cert(name("Kyso Test TSA"), tsa_k, root.subject, root_k, t0, t_end, tsa=True), tsa_k)
    for label, (c, k) in P.items():
        save_cert(os.path.join(pki, f"{label}.pem"), c)
        save_key(label, k)
    # The revoked signer, revoked 2024-06-01 by the issuing CA.
    crl = (x509.CertificateRevocationListBuilder().issuer_name(inter.subject)
           .last_update(dt.datetime(2026, 1, 1, tzinfo=UTC)).next_update(dt.datetime(2036, 1, 1, tzinfo=UTC))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(P["revoked"][0].serial_number)
                                    .revocation_date(dt.datetime(2024, 6, 1, tzinfo=UTC)).build())
           .sign(inter_k, hashes.SHA256()))
    with open(os.path.join(pki, "issuing-ca.crl.pem"), "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))
    return pki


def signer(label, with_chain=True, pss=False):
    c = load_cert_from_pemder(os.path.join(HERE, "pki", f"{label}.pem"))
    k = load_private_key_from_pemder(os.path.join(KEYS, f"{label}.key.pem"), passphrase=None)
    reg = SimpleCertificateStore.from_certs([load_cert_from_pemder(os.path.join(HERE, "pki", "inter.pem"))] if with_chain else [])
    return signers.SimpleSigner(c, k, reg, prefer_pss=pss)


def tsa(fixed=None):
    c = load_cert_from_pemder(os.path.join(HERE, "pki", "tsa.pem"))
    k = load_private_key_from_pemder(os.path.join(KEYS, "tsa.key.pem"), passphrase=None)
    return timestamps.DummyTimeStamper(tsa_cert=c, tsa_key=k, fixed_dt=fixed)


def sign_pdf(data, s, field="Signature1", certify=False, perm=None, ts=None, subfilter=None):
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name=field, certify=certify, subfilter=subfilter,
                                        docmdp_permissions=perm or MDPPerm.FILL_FORMS)
    out = io.BytesIO()
    signers.sign_pdf(w, meta, signer=s, timestamper=ts, output=out)
    return out.getvalue()


def case(slug, data, expect, description, made_with, trust=("pki/root.pem",), certs=(), crl=(), detached=None, filename="doc.pdf",
         attack_class=None, before=None, extra_args=()):
    """One corpus case. `attack_class` names the class of issue 9 it exercises, `before` the
    verdict kyso gave before that class was closed (indication, subindication), `extra_args`
    further `kyso verify` arguments (paths relative to tests/corpus)."""
    d = os.path.join(HERE, slug)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, filename), "wb") as f:
        f.write(data)
    c = {"description": description, "made_with": made_with, "file": filename,
         "trust": list(trust), "certs": list(certs), "crl": list(crl),
         "expect": {"indication": expect[0], "subindication": expect[1]}}
    if attack_class is not None:
        c["class"] = attack_class
    if before is not None:
        c["before"] = {"indication": before[0], "subindication": before[1]}
    if extra_args:
        c["args"] = list(extra_args)
    if detached is not None:
        with open(os.path.join(d, "sig.p7s"), "wb") as f:
            f.write(detached)
        c["detached"] = "sig.p7s"
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(c, f, indent=1, ensure_ascii=False)
        f.write("\n")


def contents_span(data, nth=-1):
    """(start, end) of the hex digits inside the nth /Contents <...> of a signature."""
    spans = [(m.start(1), m.end(1)) for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", data)]
    return spans[nth]


def with_contents(data, new_der, nth=-1):
    s, e = contents_span(data, nth)
    h = new_der.hex().encode()
    h = h + b"0" * ((e - s) - len(h))
    assert len(h) == e - s
    return data[:s] + h + data[e:]


def cms_of(data, nth=-1):
    s, e = contents_span(data, nth)
    raw = bytes.fromhex(data[s:e].decode())
    return acms.ContentInfo.load(raw.rstrip(b"\x00") + b"\x00" * 0, strict=False)


def gen_time(pdf, nth=-1):
    """genTime of the signature time-stamp (RFC 3161 TSTInfo) in the nth signature's CMS."""
    for a in cms_of(pdf, nth)["content"]["signer_infos"][0]["unsigned_attrs"]:
        if a["type"].native == "signature_time_stamp_token":
            return a["values"][0]["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    raise ValueError("no signature time-stamp")


def openssl_cms(content, label, extra=()):
    d = tempfile.mkdtemp()
    src = os.path.join(d, "in")
    with open(src, "wb") as f:
        f.write(content)
    out = os.path.join(d, "out")
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", src, "-signer", os.path.join(HERE, "pki", f"{label}.pem"),
                    "-inkey", os.path.join(KEYS, f"{label}.key.pem"), "-certfile", os.path.join(HERE, "pki", "inter.pem"),
                    "-outform", "DER", "-out", out, *extra], check=True)
    return open(out, "rb").read()


def main():
    for d in os.listdir(HERE):
        if os.path.isdir(os.path.join(HERE, d)) and d not in ("__pycache__",):
            shutil.rmtree(os.path.join(HERE, d))
    make_pki()
    base = open(os.path.join(FIXTURES, "giay-phep.pdf"), "rb").read()
    three = open(os.path.join(FIXTURES, "three-pages.pdf"), "rb").read()
    from importlib.metadata import version
    py = "pyHanko " + version("pyhanko")

    # PAdES: /SubFilter /ETSI.CAdES.detached (pyHanko's default is adbe.pkcs7.detached).
    pades = SigSeedSubFilter.PADES
    valid = sign_pdf(base, signer("rsa"), subfilter=pades)
    case("pades-rsa-valid", valid, ("TOTAL-PASSED", None),
         "PAdES-B-B (/SubFilter /ETSI.CAdES.detached), RSA-2048, chain root → issuing CA → signer", py)
    case("pades-ec-valid", sign_pdf(base, signer("ec"), subfilter=pades), ("TOTAL-PASSED", None),
         "PAdES-B-B (/SubFilter /ETSI.CAdES.detached), ECDSA P-256", py)
    case("pades-rsa-pss", sign_pdf(base, signer("rsa", pss=True), subfilter=pades), ("TOTAL-PASSED", None),
         "PAdES-B-B (/SubFilter /ETSI.CAdES.detached), RSASSA-PSS", py)
    case("pades-adbe-pkcs7-detached", sign_pdf(base, signer("rsa"), subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED),
         ("TOTAL-PASSED", None), "/SubFilter /adbe.pkcs7.detached: accepted and reported as such", py)
    case("pades-untrusted-root", valid, ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
         "a valid signature checked against an unrelated root", py, trust=("pki/other.pem",))
    case("pades-missing-intermediate", sign_pdf(base, signer("rsa", with_chain=False), subfilter=pades),
         ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"), "the issuing CA is neither in the signature nor given", py)
    case("pades-missing-intermediate-given", sign_pdf(base, signer("rsa", with_chain=False), subfilter=pades), ("TOTAL-PASSED", None),
         "the issuing CA given with --certs", py, certs=("pki/inter.pem",))

    # Byte surgery on a valid signature.
    s, e = contents_span(valid)
    flipped = bytearray(valid)
    at = valid.find(b"GI") if valid.find(b"GI") > 0 and valid.find(b"GI") < s else 300
    flipped[at] ^= 0x01
    case("pades-byte-flipped", bytes(flipped), ("TOTAL-FAILED", "HASH_FAILURE"), "one byte of the signed content flipped", py + " + byte flip")
    ci = cms_of(valid)
    sd = ci["content"]
    sig = bytearray(sd["signer_infos"][0]["signature"].native)
    sig[-1] ^= 0x01
    sd["signer_infos"][0]["signature"] = bytes(sig)
    case("pades-signature-value-flipped", with_contents(valid, ci.dump(force=True)), ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
         "the last byte of the RSA signature value flipped", py + " + asn1crypto")
    garbage = valid[:s] + (b"DEADBEEF" * ((e - s) // 8 + 1))[: e - s] + valid[e:]
    case("pades-garbage-contents", garbage, ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "universal signature forgery: /Contents replaced by garbage", py + " + byte surgery")
    zeros = valid[:s] + b"0" * (e - s) + valid[e:]
    case("usf-zero-contents", zeros, ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "universal signature forgery: /Contents all zeros", py + " + byte surgery")
    m = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", valid)
    b1, b2, b3 = int(m.group(1)), int(m.group(2)), int(m.group(3))
    new = f"/ByteRange [0 {b1 - 1} {b2} {b3}]".encode()
    new = new + b" " * (len(m.group(0)) - len(new))
    case("pades-byterange-gap", valid[:m.start()] + new + valid[m.end():], ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "signature wrapping: /ByteRange leaves out one byte more than /Contents", py + " + byte surgery")

    # Incremental update changing page content (incremental saving attack).
    w = IncrementalPdfFileWriter(io.BytesIO(valid))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 500 Td (GIA MAO) Tj ET")
    ref = w.add_object(stream)
    contents = page["/Contents"]
    page["/Contents"] = generic.ArrayObject([contents, ref]) if not isinstance(contents, generic.ArrayObject) else generic.ArrayObject(list(contents) + [ref])
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    case("isa-page-content-added", out.getvalue(), ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "incremental saving attack: a later revision adds text to page 1", py + " incremental writer")

    two = sign_pdf(valid, signer("ec"), field="Signature2", subfilter=pades)
    case("pades-two-signatures", two, ("TOTAL-PASSED", None), "two sequential signatures, both valid", py)

    certified = sign_pdf(three, signer("rsa"), certify=True, perm=MDPPerm.FILL_FORMS)
    case("certified-p2-then-signed", sign_pdf(certified, signer("ec"), field="Signature2"), ("TOTAL-PASSED", None),
         "certification DocMDP P=2, then an approval signature: allowed", py)
    w = IncrementalPdfFileWriter(io.BytesIO(certified))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    annot = generic.DictionaryObject({generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                                      generic.pdf_name("/Subtype"): generic.pdf_name("/FreeText"),
                                      generic.pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(x) for x in (50, 600, 400, 650)]),
                                      generic.pdf_name("/Contents"): generic.TextStringObject("ĐÃ HỦY"),
                                      generic.pdf_name("/DA"): generic.pdf_string("/Helv 24 Tf 1 0 0 rg")})
    aref = w.add_object(annot)
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else generic.ArrayObject()
    page["/Annots"] = generic.ArrayObject(list(annots) + [aref])
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    case("evil-annotation-after-certification-p2", out.getvalue(), ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "evil annotation attack: a FreeText annotation added after a P=2 certification", py + " incremental writer")

    # Shadow attacks, rebuilt: what the signer saw is changed by a later revision.
    def shadow(signed, mutate):
        w = IncrementalPdfFileWriter(io.BytesIO(signed))
        mutate(w)
        out = io.BytesIO()
        w.write(out)
        return out.getvalue()

    def overwrite_content(w):
        page = w.root["/Pages"]["/Kids"][0].get_object()
        ref = page.raw_get("/Contents")
        stream = generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 700 Td (GIAY PHEP DA BI THU HOI) Tj ET")
        w.mark_update(ref)
        w.objects[(ref.generation, ref.idnum)] = stream

    case("shadow-replace-via-overwrite", shadow(valid, overwrite_content), ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "shadow replace via overwrite: a later revision redefines the page's content stream object", py + " incremental writer")
    # Hide via referenced object: the signed document already holds a hidden content stream;
    # the later revision only points the page at it.
    def with_hidden(w):
        hidden = w.add_object(generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 650 Td (DA THANH TOAN) Tj ET"))
        w.root["/KysoHidden"] = hidden
        w.update_root()
    prepared = shadow(base, with_hidden)
    signed_hidden = sign_pdf(prepared, signer("rsa"))

    def reveal(w):
        page = w.root["/Pages"]["/Kids"][0].get_object()
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), w.root.raw_get("/KysoHidden")])
        w.update_container(page)
    case("shadow-hide-via-referenced-object", shadow(signed_hidden, reveal), ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "shadow hide: content present but unused when signed, shown by a later revision", py + " incremental writer")
    case("shadow-original-before-reveal", signed_hidden, ("TOTAL-PASSED", None),
         "the shadow document as signed (its hidden object is not shown): valid", py)

    # Sneaky signature: after a P=2 certification, a signer nobody trusts adds a visible signature
    # whose appearance covers the page.
    atk_k = rsa.generate_private_key(65537, 2048)
    atk = cert(name("Attacker", "Nobody"), atk_k, name("Attacker", "Nobody"), atk_k,
               dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2036, 1, 1, tzinfo=UTC))
    save_cert(os.path.join(KEYS, "attacker.pem"), atk)
    save_key("attacker", atk_k)
    atk_signer = signers.SimpleSigner(load_cert_from_pemder(os.path.join(KEYS, "attacker.pem")),
                                      load_private_key_from_pemder(os.path.join(KEYS, "attacker.key.pem"), passphrase=None),
                                      SimpleCertificateStore())
    w = IncrementalPdfFileWriter(io.BytesIO(certified))
    fields.append_signature_field(w, fields.SigFieldSpec(sig_field_name="Sneaky", on_page=0, box=(40, 500, 560, 800)))
    mid = io.BytesIO()
    w.write(mid)
    sneaky = sign_pdf(mid.getvalue(), atk_signer, field="Sneaky")
    case("sneaky-signature-after-certification", sneaky, ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
         "sneaky signature: an untrusted signer adds a visible signature over the page after a P=2 certification; "
         "the certification stays intact (P=2 allows signing) but the document as a whole is not trusted, "
         "and the report says a later signature put an appearance on page 1", py)

    # FieldMDP: a P=2 certification that locks the dossier number; filling it afterwards breaks
    # the lock, filling it under a certification without a lock is allowed.
    def fill(signed_bytes):
        w = IncrementalPdfFileWriter(io.BytesIO(signed_bytes))
        for fref in w.root["/AcroForm"]["/Fields"]:
            f = fref.get_object()
            if f.get("/T") == "so_ho_so":
                f["/V"] = generic.TextStringObject("HS-2026-9999")
                w.update_container(f)
        out = io.BytesIO()
        w.write(out)
        return out.getvalue()

    def certify_with(lock):
        w = IncrementalPdfFileWriter(io.BytesIO(three))
        meta = signers.PdfSignatureMetadata(field_name="Signature1", certify=True, docmdp_permissions=MDPPerm.FILL_FORMS)
        spec = fields.SigFieldSpec(sig_field_name="Signature1",
                                   field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, ["so_ho_so"]) if lock else None)
        out = io.BytesIO()
        signers.sign_pdf(w, meta, signer=signer("rsa"), new_field_spec=spec, output=out)
        return out.getvalue()

    case("fieldmdp-locked-field-filled", fill(certify_with(True)), ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "P=2 certification with FieldMDP locking so_ho_so; the field is filled afterwards", py)
    case("certified-p2-form-filled", fill(certify_with(False)), ("TOTAL-PASSED", None),
         "P=2 certification without a field lock; filling a form field afterwards is allowed", py)

    case("unsigned-pdf", base, ("NO_SIGNATURE", None), "a PDF without signatures", "fpdf2")
    w = IncrementalPdfFileWriter(io.BytesIO(base))
    fields.append_signature_field(w, fields.SigFieldSpec(sig_field_name="Signature1"))
    out = io.BytesIO()
    w.write(out)
    case("empty-signature-field", out.getvalue(), ("NO_SIGNATURE", None), "an empty signature field is not a signature", py)

    case("revoked-with-crl", sign_pdf(base, signer("revoked")), ("TOTAL-FAILED", "REVOKED"),
         "signer revoked on 2024-06-01, signed after; CRL given", py, crl=("pki/issuing-ca.crl.pem",))
    case("expired-no-timestamp", sign_pdf(base, signer("expired")), ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"),
         "signer certificate expired 2021-01-01, no time-stamp", py)
    case("expired-with-timestamp", sign_pdf(base, signer("expired"), ts=tsa(dt.datetime(2020, 6, 1, tzinfo=UTC))),
         ("TOTAL-PASSED", None), "expired signer, time-stamp of 2020-06-01 proves the signature existed while valid", py)
    case("pades-b-t", sign_pdf(base, signer("rsa"), ts=tsa(), subfilter=pades), ("TOTAL-PASSED", None),
         "PAdES-B-T (/SubFilter /ETSI.CAdES.detached) with a TSA chained to the root", py)

    # OCSP responses from the issuing CA, in the PDF's Document Security Store (pyHanko).
    from asn1crypto import ocsp as aocsp
    from cryptography.x509 import ocsp
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    inter_c = x509.load_pem_x509_certificate(open(os.path.join(HERE, "pki", "inter.pem"), "rb").read())
    inter_k = serialization.load_pem_private_key(open(os.path.join(KEYS, "inter.key.pem"), "rb").read(), None)

    def ocsp_for(label, revoked, this_update=dt.datetime(2026, 1, 1, tzinfo=UTC)):
        c = x509.load_pem_x509_certificate(open(os.path.join(HERE, "pki", f"{label}.pem"), "rb").read())
        b = ocsp.OCSPResponseBuilder().add_response(
            cert=c, issuer=inter_c, algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=this_update, next_update=dt.datetime(2036, 1, 1, tzinfo=UTC),
            revocation_time=dt.datetime(2024, 6, 1, tzinfo=UTC) if revoked else None, revocation_reason=None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, inter_c)
        return aocsp.OCSPResponse.load(b.sign(inter_k, hashes.SHA256()).public_bytes(serialization.Encoding.DER))

    def with_ocsp(signed, response):
        buf = io.BytesIO(signed)
        DocumentSecurityStore.add_dss(buf, cms_of(signed).dump(), ocsps=[response], force_write=True)
        return buf.getvalue()

    case("ocsp-in-dss-revoked", with_ocsp(sign_pdf(base, signer("revoked")), ocsp_for("revoked", True)),
         ("TOTAL-FAILED", "REVOKED"), "signer revoked 2024-06-01; the issuing CA's OCSP response in the DSS says so",
         py + " DSS + pyca OCSP")
    # Without a time-stamp only the signer's claim dates a signature, so a "good" must cover the
    # validation time; with one, a response issued after its genTime covers the signature.
    signed = sign_pdf(base, signer("rsa"), ts=tsa(), subfilter=pades)
    # Whole seconds: genTime has a fraction, which RFC 5280 times (and these OCSP times) do not.
    fresh = (gen_time(signed) + dt.timedelta(seconds=1)).replace(microsecond=0)
    while dt.datetime.now(UTC) < fresh + dt.timedelta(milliseconds=200):
        time.sleep(0.1)
    case("ocsp-in-dss-good", with_ocsp(signed, ocsp_for("rsa", False, fresh)), ("TOTAL-PASSED", None),
         "PAdES-B-T (pyHanko, signature time-stamp by pki/tsa.pem) with the issuing CA's OCSP 'good' for the signer "
         "in the DSS, thisUpdate one second after the signing time (the time-stamp's genTime), producedAt when it "
         "was made: issued after the time the signature is proven to exist, it covers it: revocation checked",
         py + " DSS + pyca OCSP")

    # CMS from OpenSSL.
    content = "Quyết định số 123/QĐ-UBND — bản điện tử\n".encode()
    osl = "OpenSSL " + subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
    det = openssl_cms(content, "rsa", ["-cades"])
    case("cms-detached-valid", content, ("TOTAL-PASSED", None), "CAdES-B-B detached (openssl cms -sign -cades)", osl, detached=det, filename="doc.txt")
    case("cms-detached-modified", content.replace(b"123", b"124"), ("TOTAL-FAILED", "HASH_FAILURE"),
         "detached signature over content that was changed", osl, detached=det, filename="doc.txt")
    att = openssl_cms(content, "ec", ["-cades", "-nodetach"])
    case("cms-attached-valid", att, ("TOTAL-PASSED", None), "CAdES-B-B attached, ECDSA (openssl cms -sign -nodetach)", osl, filename="doc.p7m")
    i = att.find(b"123")
    bad = att[:i] + b"124" + att[i + 3:]
    case("cms-attached-modified", bad, ("TOTAL-FAILED", "HASH_FAILURE"), "attached content changed inside the CMS", osl, filename="doc.p7m")
    case("cms-truncated", att[: len(att) // 2], ("TOTAL-FAILED", "FORMAT_FAILURE"), "truncated DER", osl, filename="doc.p7m")
    case("cms-sha1", openssl_cms(content, "rsa", ["-md", "sha1", "-nodetach"]), ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
         "SHA-1 digest: refused by policy", osl, filename="doc.p7m")
    # The attack classes of issue 9, one module each, and those of the attacker reviews of the
    # new verifier (attacks_review; attacks_lta: long-term validation, revocation, fetching);
    # they use this module's helpers.
    sys.path.insert(0, HERE)
    import attacks_lta
    import attacks_pdf
    import attacks_pki
    import attacks_review
    this = sys.modules[__name__]
    attacks_pdf.make(this, py)
    attacks_pki.make(this, py)
    attacks_review.make(this, py)
    attacks_lta.make(this, py)
    shutil.rmtree(KEYS)
    print("corpus written to", HERE)


if __name__ == "__main__":
    main()
