"""Attack-class cases of issue 9 (pki): revocation (class 5), time-stamps (6), CMS (7), weak
algorithms (8), the false rejects about certificates and algorithms, and the BER nesting bomb.
Called by make_corpus.py with its own module as `mc`.

Everything here is made with tools we did not write: certificates, CRLs and most signatures by
pyca/cryptography, OCSP responses by asn1crypto, PDFs signed by pyHanko, CMS by the OpenSSL CLI,
and non-strict DER by a few lines of TLV encoding below (each signed over the exact bytes kept).
Certificates of this module are saved as tests/corpus/pki/x-*.pem; keys stay in mc.KEYS.
"""
import datetime as dt
import io
import os
import re
import subprocess
import tempfile
import time

from asn1crypto import cms as acms
from asn1crypto import core as acore
from asn1crypto import crl as acrl
from asn1crypto import ocsp as aocsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic, writer
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

UTC = dt.timezone.utc
NOWHERE = "http://127.0.0.1:9"  # loopback, discard port: nothing serves it, kyso verify never fetches
T0, T_END = dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2045, 1, 1, tzinfo=UTC)
EE_NB, EE_NA = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2036, 1, 1, tzinfo=UTC)
# RFC 7229 test certificate policies (id-TEST-certPolicyOne, -Two); an extension OID under the same
# test arc that nothing defines.
POLICY = x509.ObjectIdentifier("1.3.6.1.5.5.7.13.1")
OTHER_POLICY = x509.ObjectIdentifier("1.3.6.1.5.5.7.13.2")
UNKNOWN_EXT = x509.ObjectIdentifier("1.3.6.1.5.5.7.13.99")
SOTP = "Sở Tư pháp (test)"

mc = None  # make_corpus, set by make()


# ---------------------------------------------------------------------------------------------
# Files and keys

def pki(label):
    return os.path.join(mc.HERE, "pki", label)


def rel(label):
    return "pki/" + label


def load_key(label):
    with open(os.path.join(mc.KEYS, label + ".key.pem"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def load_x509(label):
    with open(pki(label + ".pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def save_der_as_pem(path, der, kind="CERTIFICATE"):
    """PEM around the exact bytes (also for non-strict DER that pyca would refuse to load)."""
    import base64
    b = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    with open(path, "w") as f:
        f.write(f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n")


def save_crl(label, crl_der):
    save_der_as_pem(pki(label), crl_der, "X509 CRL")
    return rel(label)


# ---------------------------------------------------------------------------------------------
# Certificates

def ku(ca=False, sign=True):
    return x509.KeyUsage(digital_signature=sign, content_commitment=sign and not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def make_cert(subject, pub, issuer_name, issuer_key, nb=EE_NB, na=EE_NA, ca=False, pathlen=None, key_usage=None,
              eku=None, eku_critical=False, cdp=None, ocsp_url=None, extra=(), serial=None, issuer_pub=None, ski=True):
    """A certificate with the extensions a case needs; `extra` is [(extension, critical)]."""
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(pub)
         .serial_number(serial or x509.random_serial_number()).not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True))
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
    b = b.add_extension(key_usage or ku(ca=ca), critical=True)
    if issuer_pub is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_pub), critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(cdp)], relative_name=None, reasons=None, crl_issuer=None)]),
            critical=False)
    if ocsp_url:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    for e, crit in extra:
        b = b.add_extension(e, critical=crit)
    algo = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return b.sign(issuer_key, algo)


def person(cn, o=SOTP):
    return mc.name(cn, o)


class Pki:
    """The CAs and signers of this module, saved under pki/x-*.pem."""

    def __init__(self):
        self.root = load_x509("root")
        self.root_k = load_key("root")
        self.inter = load_x509("inter")
        self.inter_k = load_key("inter")
        self.certs, self.keys = {}, {}

    def add(self, label, c, k):
        label = "x-" + label
        mc.save_cert(pki(label + ".pem"), c)
        mc.save_key(label, k)
        self.certs[label], self.keys[label] = c, k
        return label

    def ca(self, label, cn, issuer="root", key=None, o="Kyso Test PKI", **kw):
        k = key or rsa.generate_private_key(65537, 2048)
        ic, ik = self.issuer(issuer)
        c = make_cert(mc.name(cn, o), k.public_key(), ic.subject if ic is not None else mc.name(cn, o), ik or k,
                      nb=T0, na=T_END, ca=True, issuer_pub=(ic.public_key() if ic is not None else k.public_key()), **kw)
        return self.add(label, c, k)

    def issuer(self, label):
        if label == "root":
            return self.root, self.root_k
        if label is None:
            return None, None
        return self.certs[label], self.keys[label]

    def ee(self, label, cn, issuer, key=None, subject=None, **kw):
        k = key or rsa.generate_private_key(65537, 2048)
        ic, ik = self.issuer(issuer)
        c = make_cert(subject or person(cn), k.public_key(), ic.subject, ik, issuer_pub=ic.public_key(), **kw)
        return self.add(label, c, k)


def pyh_signer(label, chain=()):
    """pyHanko signer for pki/<label>.pem with the given chain certificates (labels) embedded."""
    c = load_cert_from_pemder(pki(label + ".pem"))
    k = load_private_key_from_pemder(os.path.join(mc.KEYS, label + ".key.pem"), passphrase=None)
    reg = SimpleCertificateStore.from_certs([load_cert_from_pemder(pki(x + ".pem")) for x in chain])
    return signers.SimpleSigner(c, k, reg)


def timestamper(label, chain=(), at=None):
    c = load_cert_from_pemder(pki(label + ".pem"))
    k = load_private_key_from_pemder(os.path.join(mc.KEYS, label + ".key.pem"), passphrase=None)
    reg = SimpleCertificateStore.from_certs([load_cert_from_pemder(pki(x + ".pem")) for x in chain])
    return timestamps.DummyTimeStamper(tsa_cert=c, tsa_key=k, certs_to_embed=reg, fixed_dt=at)


# ---------------------------------------------------------------------------------------------
# Documents

def small_pdf():
    """A one-page PDF written by pyHanko's writer (806 bytes): keeps the cases small."""
    w = writer.PdfFileWriter()
    n = generic.pdf_name
    font = w.add_object(generic.DictionaryObject({n("/Type"): n("/Font"), n("/Subtype"): n("/Type1"),
                                                  n("/BaseFont"): n("/Helvetica")}))
    res = generic.DictionaryObject({n("/Font"): generic.DictionaryObject({n("/F1"): font})})
    cs = w.add_object(generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 760 Td (GIAY PHEP - van ban thu nghiem) Tj ET"))
    w.insert_page(writer.PageObject(contents=cs, resources=res,
                                    media_box=generic.ArrayObject([generic.NumberObject(x) for x in (0, 0, 595, 842)])))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def spdf(data, s, **kw):
    """PAdES (/SubFilter /ETSI.CAdES.detached; pyHanko's default is adbe.pkcs7.detached)."""
    return mc.sign_pdf(data, s, subfilter=SigSeedSubFilter.PADES, **kw)


def claimed_time(pdf):
    """The /M of the last signature dictionary (pyHanko's PAdES carries no CMS signing-time)."""
    m = list(re.finditer(rb"/M\s*\(D(?::|\\072)(\d{14})(Z|[+-]\d\d'?\d\d'?)?\)", pdf))[-1]
    t = dt.datetime.strptime(m.group(1).decode(), "%Y%m%d%H%M%S")
    tz = (m.group(2) or b"Z").decode().replace("'", "")
    off = dt.timedelta(0) if tz == "Z" else (1 if tz[0] == "+" else -1) * dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
    return (t - off).replace(tzinfo=UTC)


def settle(t):
    """Wait until t is in the past, so nothing made afterwards is dated before what it follows."""
    while dt.datetime.now(UTC) < t + dt.timedelta(milliseconds=200):
        time.sleep(0.1)


def with_dss(pdf, ocsps=(), crls=(), certs=()):
    buf = io.BytesIO(pdf)
    DocumentSecurityStore.add_dss(buf, mc.cms_of(pdf).dump(), ocsps=[aocsp.OCSPResponse.load(o) for o in ocsps] or None,
                                  crls=[acrl.CertificateList.load(c) for c in crls] or None,
                                  certs=[ax509.Certificate.load(c) for c in certs] or None, force_write=True)
    return buf.getvalue()


def dss_ocsps(pdf):
    from pyhanko.pdf_utils.reader import PdfFileReader
    r = PdfFileReader(io.BytesIO(pdf))
    return [x.get_object().data for x in r.root["/DSS"]["/OCSPs"]]


def signed_ranges(pdf):
    m = list(re.finditer(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf))[-1]
    a, b, c = (int(x) for x in m.groups())
    return pdf[:a] + pdf[b:b + c]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


def openssl_sign(content, signers_, extra=(), certfile=("inter",)):
    """`openssl cms -sign -binary` with one or more -signer/-inkey pairs (labels), DER out."""
    d = tempfile.mkdtemp()
    src, out = os.path.join(d, "in"), os.path.join(d, "out")
    with open(src, "wb") as f:
        f.write(content)
    args = ["openssl", "cms", "-sign", "-binary", "-in", src, "-outform", "DER", "-out", out]
    for s in signers_:
        args += ["-signer", pki(s + ".pem"), "-inkey", os.path.join(mc.KEYS, s + ".key.pem")]
    if certfile:
        cf = os.path.join(d, "chain.pem")
        with open(cf, "wb") as f:
            for c in certfile:
                f.write(open(pki(c + ".pem"), "rb").read())
        args += ["-certfile", cf]
    subprocess.run(args + list(extra), check=True)
    return open(out, "rb").read()


# ---------------------------------------------------------------------------------------------
# CRLs (pyca) and OCSP responses (asn1crypto)

def make_crl(issuer_c, issuer_k, this_update, revoked=(), exts=(), number=1, next_update=EE_NA):
    """revoked: [(serial, date)]; exts: [(extension, critical)]."""
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer_c.subject)
         .last_update(this_update).next_update(next_update)
         .add_extension(x509.CRLNumber(number), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_c.public_key()), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    for e, crit in exts:
        b = b.add_extension(e, critical=crit)
    return b.sign(issuer_k, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def asn1(c):
    return ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))


def sign_raw(key, data):
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256()), "sha256_rsa"
    return key.sign(data, ec.ECDSA(hashes.SHA256())), "sha256_ecdsa"


def ocsp_tbs(cert, issuer, responder, status, this_update, produced_at=None, revoked_at=None, next_update=EE_NA):
    """ResponseData (RFC 6960 §4.2.1) for one certificate; `responder` signs (issuer or delegate)."""
    c, i, r = asn1(cert), asn1(issuer), asn1(responder)
    cert_id = aocsp.CertId({"hash_algorithm": {"algorithm": "sha1"}, "issuer_name_hash": i.subject.sha1,
                            "issuer_key_hash": i.public_key.sha1, "serial_number": c.serial_number})
    st = (aocsp.CertStatus(name="good", value=acore.Null()) if status == "good" else
          aocsp.CertStatus(name="revoked", value=aocsp.RevokedInfo({"revocation_time": revoked_at})))
    return aocsp.ResponseData({
        "responder_id": aocsp.ResponderId(name="by_key", value=r.public_key.sha1),
        "produced_at": produced_at or this_update,
        "responses": [{"cert_id": cert_id, "cert_status": st, "this_update": this_update, "next_update": next_update}],
    })


def ocsp_wrap(tbs_der, responder_k, embed=()):
    """BasicOCSPResponse signed over the exact bytes tbs_der, wrapped in an OCSPResponse, as DER
    built by hand so that non-strict tbs bytes survive."""
    sig, algo = sign_raw(responder_k, tbs_der)
    alg = acms.SignedDigestAlgorithm({"algorithm": algo}).dump()
    body = tbs_der + alg + tlv(0x03, b"\x00" + sig)
    if embed:
        body += tlv(0xA0, tlv(0x30, b"".join(c.public_bytes(serialization.Encoding.DER) for c in embed)))
    basic = tlv(0x30, body)
    rb = tlv(0x30, acore.ObjectIdentifier("1.3.6.1.5.5.7.48.1.1").dump() + tlv(0x04, basic))
    return tlv(0x30, b"\x0a\x01\x00" + tlv(0xA0, rb))


def make_ocsp(cert, issuer, responder, responder_k, status, this_update, embed=(), **kw):
    return ocsp_wrap(ocsp_tbs(cert, issuer, responder, status, this_update, **kw).dump(), responder_k, embed)


# ---------------------------------------------------------------------------------------------
# Non-strict DER (BER that CAs in the field write), signed over the exact bytes

def tlv(tag, body, long_form=False):
    n = len(body)
    if n < 0x80 and not long_form:
        return bytes([tag, n]) + body
    nb = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    return bytes([tag, 0x80 | len(nb)]) + nb + body


def ber_extensions(exts):
    """Extensions with `critical FALSE` written out (DER omits a DEFAULT value, X.690 §11.5) and
    each extnValue's length in long form (DER wants the shortest, §10.1)."""
    out = b""
    for e in exts:
        crit = b"\x01\x01\xff" if e["critical"].native else b"\x01\x01\x00"
        out += tlv(0x30, e["extn_id"].dump() + crit + tlv(0x04, e["extn_value"].contents, long_form=True))
    return tlv(0x30, out)


def nonstrict_cert(der, issuer_k):
    """Re-encode a certificate's TBS non-strictly and sign those bytes with issuer_k."""
    c = ax509.Certificate.load(der)
    t = c["tbs_certificate"]
    body = b"".join(t[f].dump() for f in ("version", "serial_number", "signature", "issuer", "validity", "subject",
                                          "subject_public_key_info"))
    body += tlv(0xA3, ber_extensions(t["extensions"]))
    tbs = tlv(0x30, body)
    sig, algo = sign_raw(issuer_k, tbs)
    return tlv(0x30, tbs + acms.SignedDigestAlgorithm({"algorithm": algo}).dump() + tlv(0x03, b"\x00" + sig))


def nonstrict_crl(der, issuer_k):
    c = acrl.CertificateList.load(der)
    t = c["tbs_cert_list"]
    body = b"".join(t[f].dump() for f in ("version", "signature", "issuer", "this_update", "next_update"))
    entries = b""
    for r in t["revoked_certificates"]:
        entries += tlv(0x30, r["user_certificate"].dump() + r["revocation_date"].dump() + ber_extensions(r["crl_entry_extensions"]))
    body += tlv(0x30, entries) + tlv(0xA0, ber_extensions(t["crl_extensions"]))
    tbs = tlv(0x30, body)
    sig, algo = sign_raw(issuer_k, tbs)
    return tlv(0x30, tbs + acms.SignedDigestAlgorithm({"algorithm": algo}).dump() + tlv(0x03, b"\x00" + sig))


def nonstrict_ocsp_tbs(tbs):
    """ResponseData with `version [0] v1` written out (DER omits the DEFAULT) and the responder's
    key hash with a long-form length."""
    rid = tbs["responder_id"]
    rid_ber = tlv(0xA2, tlv(0x04, rid.chosen.native, long_form=True))
    return tlv(0x30, tlv(0xA0, b"\x02\x01\x00") + rid_ber + tbs["produced_at"].dump() + tbs["responses"].dump())


# ---------------------------------------------------------------------------------------------

def make(mc_, made_with):
    global mc
    mc = mc_
    from importlib.metadata import version
    py = made_with
    pyca = "pyca/cryptography " + version("cryptography")
    a1 = "asn1crypto " + version("asn1crypto")
    osl = "OpenSSL " + run(["openssl", "version"], text=True).stdout.split()[1]
    doc = small_pdf()
    P = Pki()

    revocation(P, doc, py, pyca, a1)
    time_stamps(P, doc, py, pyca, a1)
    cms_class(P, doc, py, pyca, a1, osl)
    weak(P, doc, py, pyca, a1, osl)
    false_rejects(P, doc, py, pyca, a1, osl)
    no_crash()


def case(slug, data, expect, desc, made_with, cls, **kw):
    mc.case(slug, data, expect, desc, made_with, attack_class=cls, before=BEFORE.get(slug), **kw)


# The verdicts of the baseline kyso (built before issue 9's fixes), recorded by running it over
# each case (`kyso verify FILE … --json`).
BEFORE = {
    "ocsp-good-stale": ("TOTAL-PASSED", None),
    "ocsp-good-fresh": ("TOTAL-PASSED", None),
    "crl-revoked-beats-ocsp-good": ("TOTAL-PASSED", None),
    "delta-crl-only": ("TOTAL-PASSED", None),
    "crl-partitioned-idp": ("TOTAL-PASSED", None),
    "crl-unknown-critical-extension": ("TOTAL-PASSED", None),
    "ocsp-responder-expired": ("TOTAL-PASSED", None),
    "ocsp-responder-revoked": ("TOTAL-PASSED", None),
    "cdp-named-no-revocation-data": ("TOTAL-PASSED", None),
    "cdp-named-fresh-crl": ("TOTAL-PASSED", None),
    "tsa-revoked-before-gentime": ("TOTAL-PASSED", None),
    "tsa-untrusted-expired-signer": ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),
    "tsa-cert-directly-trusted-embedded": ("TOTAL-PASSED", None),
    "tsa-cert-directly-trusted": ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),
    "cms-two-signers-valid": ("TOTAL-PASSED", None),
    "cms-two-signers-second-broken": ("TOTAL-PASSED", None),
    "cms-injected-cert-same-issuer-serial": ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
    "pades-without-signing-certificate-attr": ("TOTAL-PASSED", None),
    "signer-cert-is-ca": ("TOTAL-PASSED", None),
    "signer-eku-serverauth-only": ("TOTAL-PASSED", None),
    "cms-sha1-broken-signature": ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
    "cms-sha1-content-changed": ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
    "rsa1024-sound": ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
    "rsa1024-broken": ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
    "cades-attached-around-pdf": ("TOTAL-FAILED", "FORMAT_FAILURE"),
    "cades-attached-around-pdf-modified": ("TOTAL-FAILED", "FORMAT_FAILURE"),
    "signer-p521": ("TOTAL-FAILED", "FORMAT_FAILURE"),
    "signer-ed25519": ("TOTAL-FAILED", "FORMAT_FAILURE"),
    "signer-rsa-9216": ("TOTAL-FAILED", "FORMAT_FAILURE"),
    "name-constraints-permitted": ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    "name-constraints-violated": ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    "name-constraints-violated-email": ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    "policy-constraints-explicit-ok": ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    "policy-constraints-explicit-missing": ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    "policy-constraints-explicit-other-policy": ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    "nonstrict-der-intermediate": ("TOTAL-FAILED", "FORMAT_FAILURE"),
    # kyso exited 3 with no report: "…x-ca-nonder.crl.pem: not a CRL: incorrect length for OCTET STRING"
    "nonstrict-der-crl-revoked": ("ERROR", "exit 3: not a CRL: incorrect length for OCTET STRING"),
    "nonstrict-der-ocsp-revoked": ("TOTAL-PASSED", None),
    # kyso aborted: "thread 'main' has overflowed its stack / fatal runtime error: stack overflow" (SIGABRT)
    "ber-nesting-bomb": ("CRASH", "stack overflow"),
}


# ---------------------------------------------------------------------------------------------
# Class 5: revocation

def revocation(P, doc, py, pyca, a1):
    C = "5 revocation"
    ca = P.ca("rev-ca", "Kyso Test Revocation CA")
    ca_c, ca_k = P.certs[ca], P.keys[ca]
    cdp, aia = f"{NOWHERE}/x-rev-ca.crl", f"{NOWHERE}/ocsp"
    both = P.ee("rev-aia", "Signer rev-aia", ca, cdp=cdp, ocsp_url=aia)
    cdp_only = P.ee("rev-cdp", "Signer rev-cdp", ca, cdp=cdp)
    s_both = P.certs[both]
    mw = f"{py} + {a1} (OCSP) + {pyca} (PKI, CRL)"
    names = (f"signer {both}.pem (CRL DP {cdp}, AIA OCSP {aia}, issued by {ca}.pem under the root; "
             "nothing serves those URLs)")

    def sign(label):
        signed = spdf(doc, pyh_signer(label, [ca]))
        t = claimed_time(signed)
        return signed, t

    # OCSP "good", stale: thisUpdate (and producedAt) six months before the signing time.
    signed, t = sign(both)
    stale = t - dt.timedelta(days=182)
    o = make_ocsp(s_both, ca_c, ca_c, ca_k, "good", stale)
    case("ocsp-good-stale", with_dss(signed, ocsps=[o]), ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko, {names}. The DSS holds the issuing CA's own OCSP response 'good' for the signer "
         f"with thisUpdate = producedAt = {stale:%Y-%m-%d %H:%M:%S}Z, 182 days before the signing time (/M), "
         "nextUpdate 2036. Evidence counts only if thisUpdate is at or after the control time (the signing time): "
         "this one says nothing about the certificate when it signed; the certificate names a CRL DP and an OCSP "
         "responder and no usable status can be had, so TRY_LATER. Peers judge OCSP by its thisUpdate..nextUpdate "
         "window at the current time and accept it: `openssl ocsp -respin` says 'Response verify OK … good', "
         "pyHanko 0.38 (revocation required for the signer) TRUSTED.", mw, C)

    # OCSP "good", fresh: a PAdES-B-T signature (without a time-stamp the status must be known at
    # the validation time), the response a second after the time-stamp's genTime.
    signed = spdf(doc, pyh_signer(both, [ca]), ts=mc.tsa())
    # Whole seconds: genTime has a fraction, which RFC 5280 times (and these OCSP times) do not.
    fresh = (mc.gen_time(signed) + dt.timedelta(seconds=1)).replace(microsecond=0)
    settle(fresh)
    o = make_ocsp(s_both, ca_c, ca_c, ca_k, "good", fresh)
    case("ocsp-good-fresh", with_dss(signed, ocsps=[o]), ("TOTAL-PASSED", None),
         f"control for ocsp-good-stale: same signer ({both}.pem, CRL DP and AIA OCSP), but a PAdES-B-T signature "
         "(pyHanko, signature time-stamp by the corpus TSA, pki/tsa.pem) and the issuing CA's OCSP 'good' in the "
         "DSS with thisUpdate = producedAt one second after the time-stamp's genTime. The time-stamp proves the "
         "signature existed at genTime, and the response, issued after it, shows the signer was not revoked then "
         "(without a time-stamp nothing but the signer's claim would date the signature, and the status would "
         "have to be known at the validation time): TOTAL-PASSED (openssl ocsp and pyHanko agree)", mw, C)

    # A CRL (fresh) saying revoked beats an OCSP "good" (fresh).
    signed, t = sign(both)
    fresh = t + dt.timedelta(seconds=1)
    settle(fresh)
    revoked_at = t - dt.timedelta(days=30)
    o = make_ocsp(s_both, ca_c, ca_c, ca_k, "good", fresh)
    crl = make_crl(ca_c, ca_k, fresh, revoked=[(s_both.serial_number, revoked_at)])
    case("crl-revoked-beats-ocsp-good", with_dss(signed, ocsps=[o], crls=[crl]), ("TOTAL-FAILED", "REVOKED"),
         f"PAdES-B-B by pyHanko, {names}. The DSS holds both an OCSP 'good' and a CRL from the issuing CA, each dated a second after "
         f"the signing time; the CRL lists the signer revoked on {revoked_at:%Y-%m-%d}, 30 days before signing. "
         "A revocation at or before the control time is conclusive and a CRL saying revoked beats an OCSP "
         "'good': REVOKED. (Peers: `openssl verify -crl_check` with that CRL says 'certificate revoked'; pyHanko "
         "0.38, asked for CRL or OCSP, stops at the OCSP 'good' and says TRUSTED.)", mw, C)

    # Incomplete CRLs: the only CRL given is a delta, partitioned, or has an unknown critical extension.
    signed, t = sign(cdp_only)
    fresh = t + dt.timedelta(seconds=1)
    settle(fresh)
    other = [(x509.random_serial_number(), t - dt.timedelta(days=10))]
    cdp_names = f"signer {cdp_only}.pem names the CRL DP {cdp} (no OCSP), issued by {ca}.pem"
    delta = make_crl(ca_c, ca_k, fresh, revoked=other, number=8,
                     exts=[(x509.DeltaCRLIndicator(7), True)])
    case("delta-crl-only", signed, ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko; {cdp_names}. The only CRL (--crl) is a delta CRL (critical deltaCRLIndicator, "
         "base CRL number 7) dated a second after signing, listing another serial: a delta CRL only updates a "
         "base CRL that is not given, so it is never a complete CRL and the signer's status is unknown: TRY_LATER. "
         "(pyHanko 0.38 with revocation required: untrusted. `openssl verify -crl_check` takes the delta as "
         "complete and says OK: OpenSSL 3.0 skips delta CRLs only with -extended_crl, and then says 'unable to "
         "get certificate CRL'.)",
         mw, C, crl=(save_crl("x-rev-ca-delta.crl.pem", delta),))
    part = make_crl(ca_c, ca_k, fresh, revoked=other, exts=[(x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(f"{NOWHERE}/x-rev-ca-part2.crl")], relative_name=None,
        only_contains_user_certs=False, only_contains_ca_certs=False, only_some_reasons=None, indirect_crl=False,
        only_contains_attribute_certs=False), True)])
    case("crl-partitioned-idp", signed, ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko; {cdp_names}. The only CRL (--crl), fresh, carries a critical "
         f"issuingDistributionPoint naming {NOWHERE}/x-rev-ca-part2.crl: a partition that does not cover the "
         "certificate (its CRL DP is another one; RFC 5280 §6.3.3 b.2.i), so it says nothing about it: TRY_LATER "
         "(`openssl verify -crl_check`: 'different CRL scope'; pyHanko 0.38 with revocation required: untrusted)",
         mw, C, crl=(save_crl("x-rev-ca-part2.crl.pem", part),))
    unk = make_crl(ca_c, ca_k, fresh, revoked=other, exts=[(x509.UnrecognizedExtension(UNKNOWN_EXT, b"\x05\x00"), True)])
    case("crl-unknown-critical-extension", signed, ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko; {cdp_names}. The only CRL (--crl), fresh, has a critical CRL extension of "
         f"unknown type {UNKNOWN_EXT.dotted_string} (NULL value): a CRL with an unrecognized critical extension "
         "must not be used (RFC 5280 §5.2), so the status is unknown: TRY_LATER (`openssl verify -crl_check`: "
         "'unhandled critical CRL extension'; pyHanko 0.38 with revocation required: untrusted)", mw, C,
         crl=(save_crl("x-rev-ca-unknown-crit.crl.pem", unk),))

    # Delegated OCSP responders: expired; revoked.
    resp_exp = P.ee("ocsp-expired", "Kyso Test OCSP responder (expired)", ca, subject=mc.name("Kyso Test OCSP responder (expired)"),
                    nb=dt.datetime(2024, 1, 1, tzinfo=UTC), na=dt.datetime(2025, 1, 1, tzinfo=UTC),
                    key_usage=ku(sign=True), eku=[ExtendedKeyUsageOID.OCSP_SIGNING], extra=[(x509.OCSPNoCheck(), False)])
    signed, t = sign(both)
    fresh = t + dt.timedelta(seconds=1)
    settle(fresh)
    o = make_ocsp(s_both, ca_c, P.certs[resp_exp], P.keys[resp_exp], "good", fresh, embed=[P.certs[resp_exp]])
    case("ocsp-responder-expired", with_dss(signed, ocsps=[o]), ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko, {names}. The DSS holds an OCSP 'good' (thisUpdate = producedAt a second after signing) signed by a "
         f"responder the issuing CA delegated ({resp_exp}.pem: extendedKeyUsage OCSPSigning, id-pkix-ocsp-nocheck, "
         "embedded in the response) whose certificate expired on 2025-01-01, before producedAt: the response is "
         "not believed, no other status: TRY_LATER (`openssl ocsp`: 'certificate has expired'; pyHanko 0.38: "
         "untrusted)", mw, C)

    resp_rev = P.ee("ocsp-revoked", "Kyso Test OCSP responder (revoked)", ca, subject=mc.name("Kyso Test OCSP responder (revoked)"),
                    key_usage=ku(sign=True), eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    signed, t = sign(both)
    fresh = t + dt.timedelta(seconds=1)
    settle(fresh)
    o = make_ocsp(s_both, ca_c, P.certs[resp_rev], P.keys[resp_rev], "good", fresh, embed=[P.certs[resp_rev]])
    crl_this = dt.datetime(2025, 7, 1, tzinfo=UTC)
    crl = make_crl(ca_c, ca_k, crl_this, revoked=[(P.certs[resp_rev].serial_number, dt.datetime(2025, 6, 1, tzinfo=UTC))])
    case("ocsp-responder-revoked", with_dss(signed, ocsps=[o]), ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko, {names}. The DSS holds an OCSP 'good' (fresh: a second after signing) signed by a delegated responder "
         f"({resp_rev}.pem: extendedKeyUsage OCSPSigning, no id-pkix-ocsp-nocheck). The issuing CA's CRL (--crl, "
         "thisUpdate 2025-07-01) lists the responder revoked on 2025-06-01, before producedAt: a revocation at or "
         "before the control time is conclusive whatever the CRL's age, so the response is not believed. The same "
         "CRL is too old (thisUpdate before the signing time) to vouch for the signer, which names a CRL DP and an "
         "OCSP responder: TRY_LATER. (The CRL is deliberately not fresh: a fresh complete CRL of the issuing CA "
         "that does not list the signer would itself prove the signer good.) Peers: `openssl verify -crl_check` "
         "with that CRL says the responder is revoked, but `openssl ocsp` does not look and says 'Response verify "
         "OK'; pyHanko 0.38 judges the CRL by its nextUpdate at the current time and takes it as proof that the "
         "signer is good: TRUSTED.", mw, C,
         crl=(save_crl("x-rev-ca-responder-revoked.crl.pem", crl),))

    # CRL DP named: no data at all; a fresh CRL.
    signed, t = sign(cdp_only)
    case("cdp-named-no-revocation-data", signed, ("INDETERMINATE", "TRY_LATER"),
         f"PAdES-B-B by pyHanko; {cdp_names}; no CRL or OCSP in the file or given: the certificate says where its "
         "status is published and none can be had (Circular 15/2025 asks for revocation checked at signing "
         "time): TRY_LATER (pyHanko 0.38 with revocation required for the signer: untrusted)", mw, C)
    signed = spdf(doc, pyh_signer(cdp_only, [ca]), ts=mc.tsa())
    # Whole seconds: genTime has a fraction, which RFC 5280 times (and these OCSP times) do not.
    fresh = (mc.gen_time(signed) + dt.timedelta(seconds=1)).replace(microsecond=0)
    settle(fresh)
    crl = make_crl(ca_c, ca_k, fresh, revoked=other)
    case("cdp-named-fresh-crl", signed, ("TOTAL-PASSED", None),
         f"control for cdp-named-no-revocation-data: the same signer ({cdp_only}.pem, CRL DP on loopback), but a "
         "PAdES-B-T signature (pyHanko, signature time-stamp by the corpus TSA, pki/tsa.pem) given the issuing "
         "CA's complete CRL (--crl; no issuingDistributionPoint, no delta) with thisUpdate one second after the "
         "time-stamp's genTime, listing another serial only: the time-stamp proves the signature existed at "
         "genTime and the CRL issued after it shows the signer was not revoked then (`openssl verify -crl_check`: "
         "OK; pyHanko 0.38: TRUSTED)", mw, C,
         crl=(save_crl("x-rev-ca-fresh.crl.pem", crl),))


# ---------------------------------------------------------------------------------------------
# Class 6: time-stamps

def time_stamps(P, doc, py, pyca, a1):
    C = "6 time-stamps"
    gen = dt.datetime(2020, 6, 1, tzinfo=UTC)
    # A TSA under the corpus root, revoked by the root before genTime.
    tsa_rev = P.ee("tsa-revoked", "Kyso Test TSA (revoked)", "root", subject=mc.name("Kyso Test TSA (revoked)"),
                   nb=T0, na=T_END, eku=[ExtendedKeyUsageOID.TIME_STAMPING], eku_critical=True)
    signed = spdf(doc, mc.signer("expired"), ts=timestamper(tsa_rev, at=gen))
    crl = make_crl(P.root, P.root_k, dt.datetime(2020, 6, 2, tzinfo=UTC),
                   revoked=[(P.certs[tsa_rev].serial_number, dt.datetime(2020, 3, 1, tzinfo=UTC))])
    case("tsa-revoked-before-gentime", signed, ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),
         "PAdES-B-T by pyHanko: signer expired.pem (valid 2020-2021, expired now) with a signature time-stamp of "
         f"2020-06-01 from {tsa_rev}.pem (issued by the corpus root, EKU timeStamping). The root's CRL (--crl, "
         "thisUpdate 2020-06-02) lists that TSA revoked on 2020-03-01, before genTime: the time-stamp proves "
         "nothing, so it fails (SIG_CONSTRAINTS_FAILURE) instead of rescuing the expired signer (`openssl verify "
         "-crl_check` on the TSA: 'certificate revoked'; pyHanko 0.38 with revocation required: the token is "
         "REVOKED)",
         f"{py} + {pyca}", C, crl=(save_crl("x-root-tsa-revoked.crl.pem", crl),))

    # A TSA under a root nobody trusts.
    troot = P.ca("tsa-root", "Unrelated TSA Root CA", issuer=None, o="Somebody Else")
    tsa_u = P.ee("tsa-untrusted", "Unrelated TSA", troot, subject=mc.name("Unrelated TSA", "Somebody Else"),
                 nb=T0, na=T_END, eku=[ExtendedKeyUsageOID.TIME_STAMPING], eku_critical=True)
    signed = spdf(doc, mc.signer("expired"), ts=timestamper(tsa_u, chain=[troot], at=gen))
    case("tsa-untrusted-expired-signer", signed, ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),
         f"PAdES-B-T by pyHanko: signer expired.pem with a signature time-stamp of 2020-06-01 from {tsa_u}.pem, "
         f"issued by {troot}.pem (self-signed, embedded in the token, not trusted): the TSA has no path to a "
         "trust anchor, so genTime proves nothing and the time-stamp fails: SIG_CONSTRAINTS_FAILURE (pyHanko 0.38: "
         "the token is untrusted)",
         f"{py} + {pyca}", C)
    trusted = ("pki/root.pem", rel(tsa_u + ".pem"))
    case("tsa-cert-directly-trusted-embedded", signed, ("TOTAL-PASSED", None),
         f"the same PDF as tsa-untrusted-expired-signer, with the TSA certificate {tsa_u}.pem itself given with "
         "--trust: a certificate in the trust list is a trust anchor whoever issued it, so the time-stamp of "
         "2020-06-01 proves the expired signer's signature existed while its certificate was valid (control for "
         "tsa-cert-directly-trusted: here the token also carries the TSA certificate)",
         f"{py} + {pyca}", "false rejects", trust=trusted)
    # The same, the token without certificates (RFC 3161 certReq false): the TSA certificate is
    # found only in the trust list.
    ci = mc.cms_of(signed)
    for a in ci["content"]["signer_infos"][0]["unsigned_attrs"]:
        if a["type"].native == "signature_time_stamp_token":
            a["values"][0]["content"]["certificates"] = None
    case("tsa-cert-directly-trusted", mc.with_contents(signed, ci.dump(force=True)), ("TOTAL-PASSED", None),
         f"tsa-cert-directly-trusted-embedded with the certificates removed from the time-stamp token's "
         "SignedData (asn1crypto; as a TSA answers a request with certReq false, RFC 3161 §2.4.1; they are not "
         f"signed): the TSA certificate {tsa_u}.pem, issued by a root nobody trusts, is given with --trust and "
         "must be found there, as a trust anchor: the time-stamp of 2020-06-01 proves the expired signer's "
         "signature existed while its certificate was valid. (pyHanko 0.38 does not look for the TSA certificate "
         "among the trust roots either: 'signer certificate not included in signature'.)", f"{py} + {pyca} + {a1}",
         "false rejects", trust=trusted)


# ---------------------------------------------------------------------------------------------
# Class 7: CMS

def cms_class(P, doc, py, pyca, a1, osl):
    C = "7 CMS"
    content = "Quyết định số 456/QĐ-UBND — hai người ký\n".encode()

    two = openssl_sign(content, ["rsa", "ec"], ["-nodetach", "-cades"])
    case("cms-two-signers-valid", two, ("TOTAL-PASSED", None),
         "CAdES-B-B attached with two SignerInfos (openssl cms -sign -cades -nodetach -signer rsa.pem … "
         "-signer ec.pem …): both verify (openssl cms -verify: successful)", osl, C, filename="doc.p7m")
    ci = acms.ContentInfo.load(two)
    si = ci["content"]["signer_infos"][1]
    second = "ECDSA, ec.pem" if "ecdsa" in si["signature_algorithm"]["algorithm"].native else "RSA, rsa.pem"
    sig = bytearray(si["signature"].native)
    sig[6] ^= 0x01  # inside the RSA value, or inside r of an ECDSA (r, s): the DER stays well formed
    si["signature"] = bytes(sig)
    case("cms-two-signers-second-broken", ci.dump(force=True), ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
         f"cms-two-signers-valid with the 7th byte of the second SignerInfo's signature value ({second}) "
         "flipped (asn1crypto): every SignerInfo is validated, and the broken one fails the document; the first "
         "still verifies (openssl cms -verify: 'Verification failure')", f"{osl} + {a1}", C, filename="doc.p7m")

    # A forged certificate with the signer's issuer and serial, first in SignedData.certificates.
    att = openssl_sign(content, ["rsa"], ["-nodetach", "-cades"])
    real = load_x509("rsa")
    fk = rsa.generate_private_key(65537, 2048)
    # Without a subjectKeyIdentifier the forged certificate is shorter than the real one, so it also
    # comes first for a reader that sorts the SET OF (X.690 §11.6 compares the encodings, length
    # octets first; the `der` crate's SetOfVec compares headers first): it is met first either way.
    forged = make_cert(real.subject, fk.public_key(), real.issuer, fk, serial=real.serial_number,
                       nb=real.not_valid_before_utc, na=real.not_valid_after_utc, ski=False)
    f_der, r_der = (c.public_bytes(serialization.Encoding.DER) for c in (forged, real))
    assert len(f_der) < len(r_der) and f_der < r_der, "the forged certificate would not sort first"
    ci = acms.ContentInfo.load(att)
    sd = ci["content"]
    sd["certificates"] = acms.CertificateSet([acms.CertificateChoices(name="certificate", value=asn1(forged))] + list(sd["certificates"]))
    injected = ci.dump(force=True)
    with tempfile.NamedTemporaryFile(suffix=".p7m") as f:
        f.write(injected)
        f.flush()
        r = run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f.name, "-CAfile", pki("root.pem"),
                 "-out", os.devnull], text=True)
    peer = ("successful" if r.returncode == 0 else
            "fails with '" + (re.findall(r"Verify error: ([^\n]+)", r.stderr) or ["verification failure"])[-1] + "' "
            "(OpenSSL took the forged certificate)")
    case("cms-injected-cert-same-issuer-serial", injected, ("TOTAL-PASSED", None),
         "CAdES-B-B attached by openssl cms -sign -cades (signer rsa.pem, issuerAndSerialNumber), then a forged "
         "certificate with the same subject, issuer and serial but another key (self-signed by that key, pyca) "
         "inserted first in SignedData.certificates (asn1crypto; certificates are not signed); it has no "
         "subjectKeyIdentifier, so it is shorter and comes first in DER's SET OF order too. Trying every "
         "candidate finds the real certificate, which the ESS signing-certificate-v2 also names: the injected one "
         f"can neither break nor hijack the signature. (openssl cms -verify on this file: {peer}; which of the "
         "two OpenSSL takes depends on the certificates' bytes.)", f"{osl} + {pyca} + {a1}",
         C, filename="doc.p7m")

    # PAdES with /SubFilter /ETSI.CAdES.detached whose CMS has no ESS signing-certificate(-v2).
    signed = spdf(doc, mc.signer("rsa"))
    plain = openssl_sign(signed_ranges(signed), ["rsa"], ["-nosmimecap"])
    assert b"ETSI.CAdES.detached" in signed
    case("pades-without-signing-certificate-attr", mc.with_contents(signed, plain), ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),
         "PAdES prepared and signed by pyHanko (/SubFilter /ETSI.CAdES.detached, signer rsa.pem), then /Contents "
         "replaced by `openssl cms -sign -binary -nosmimecap` (no -cades) over the /ByteRange bytes: a detached "
         "CMS whose signature is mathematically valid but whose signed attributes are only contentType, "
         "signingTime and messageDigest. PAdES baseline (ETSI EN 319 142-1 §6.3) requires the ESS "
         "signing-certificate-v2 that binds the signer certificate: SIG_CONSTRAINTS_FAILURE. (openssl cms -verify "
         "over the byte ranges: successful; pyHanko 0.38 does not require the attribute and says TRUSTED.)",
         f"{py} + {osl}", C)

    # Signer certificates that may not sign documents.
    ca = P.ca("ca", "Kyso Test Attack CA")
    is_ca = P.ee("signer-ca", "Signer that is a CA", ca, ca=True, key_usage=x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False))
    case("signer-cert-is-ca", spdf(doc, pyh_signer(is_ca, [ca])), ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko; the signer {is_ca}.pem (issued by {ca}.pem under the root, no pathLen limits) "
         "has basicConstraints cA=true (keyUsage digitalSignature, nonRepudiation, keyCertSign, cRLSign): a CA "
         "certificate is not a signer's certificate: CHAIN_CONSTRAINTS_FAILURE. (Peers do not refuse it: openssl "
         "verify, even with -purpose smimesign, says OK; pyHanko 0.38 TRUSTED.)", f"{py} + {pyca}", C)
    tls = P.ee("signer-serverauth", "tuphap.test.vn", ca, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    case("signer-eku-serverauth-only", spdf(doc, pyh_signer(tls, [ca])), ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko; the signer {tls}.pem has extendedKeyUsage serverAuth only (a TLS server "
         "certificate; keyUsage digitalSignature, nonRepudiation): its EKU allows none of anyExtendedKeyUsage, "
         "clientAuth, emailProtection, documentSigning, Adobe authenticDocumentsTrust, Microsoft document "
         "signing: CHAIN_CONSTRAINTS_FAILURE (`openssl verify -purpose smimesign`: 'unsuitable certificate "
         "purpose'; pyHanko 0.38 with its default key-usage settings: TRUSTED)", f"{py} + {pyca}", C)


# ---------------------------------------------------------------------------------------------
# Class 8: weak algorithms

def weak(P, doc, py, pyca, a1, osl):
    C = "8 weak algorithms"
    content = "Quyết định số 789/QĐ-UBND — SHA-1\n".encode()
    sha1 = openssl_sign(content, ["rsa"], ["-md", "sha1", "-nodetach"])
    ci = acms.ContentInfo.load(sha1)
    si = ci["content"]["signer_infos"][0]
    sig = bytearray(si["signature"].native)
    sig[-1] ^= 0x01
    si["signature"] = bytes(sig)
    case("cms-sha1-broken-signature", ci.dump(force=True), ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
         "like cms-sha1 (openssl cms -sign -md sha1 -nodetach, signer rsa.pem), with the last byte of the RSA "
         "signature value flipped (asn1crypto): the mathematics is checked first, and a broken signature is "
         "TOTAL-FAILED whatever its algorithm (openssl cms -verify: 'padding check failed')", f"{osl} + {a1}", C,
         filename="doc.p7m")
    i = sha1.find("789".encode())
    case("cms-sha1-content-changed", sha1[:i] + b"788" + sha1[i + 3:], ("TOTAL-FAILED", "HASH_FAILURE"),
         "like cms-sha1 with the attached content changed (789 → 788, byte surgery): the SHA-1 message digest "
         "differs: HASH_FAILURE (openssl cms -verify: 'content verify error')", f"{osl} + byte surgery", C,
         filename="doc.p7m")

    ca = "x-ca"
    weak_k = rsa.generate_private_key(65537, 1024)
    w = P.ee("rsa1024", "Signer rsa1024", ca, key=weak_k)
    signed = spdf(doc, pyh_signer(w, [ca]))
    case("rsa1024-sound", signed, ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko, SHA-256, signer {w}.pem with an RSA-1024 key (certificate issued by {ca}.pem, "
         "RSA-2048): the signature verifies, but RSA below 2048 bits is refused by policy: "
         "CRYPTO_CONSTRAINTS_FAILURE (pyHanko 0.38 agrees: CRYPTO_CONSTRAINTS_FAILURE)", f"{py} + {pyca}", C)
    ci = mc.cms_of(signed)
    si = ci["content"]["signer_infos"][0]
    sig = bytearray(si["signature"].native)
    sig[-1] ^= 0x01
    si["signature"] = bytes(sig)
    case("rsa1024-broken", mc.with_contents(signed, ci.dump(force=True)), ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
         "rsa1024-sound with the last byte of the RSA-1024 signature value flipped (asn1crypto): a broken weak "
         "signature is TOTAL-FAILED, not merely refused by policy (pyHanko 0.38: INVALID, 'cryptographically "
         "unsound')", f"{py} + {a1}", C)


# ---------------------------------------------------------------------------------------------
# False rejects

def false_rejects(P, doc, py, pyca, a1, osl):
    C = "false rejects"
    ca = "x-ca"
    pdf = doc
    p7m = openssl_sign(pdf, ["rsa"], ["-nodetach", "-cades"])
    case("cades-attached-around-pdf", p7m, ("TOTAL-PASSED", None),
         "an unsigned one-page PDF (pyHanko writer) wrapped in an attached CAdES-B-B: openssl cms -sign -binary "
         "-nodetach -cades, signer rsa.pem. The file is a CMS (.p7m), not a PDF, and it verifies (openssl cms "
         "-verify: successful)",
         osl, C, filename="doc.p7m")
    i = p7m.find(b"GIAY PHEP")
    case("cades-attached-around-pdf-modified", p7m[:i] + b"GIAY PHEX" + p7m[i + 9:], ("TOTAL-FAILED", "HASH_FAILURE"),
         "cades-attached-around-pdf with one byte of the embedded PDF's page text changed (byte surgery): the "
         "message digest differs: HASH_FAILURE (openssl cms -verify: 'content verify error')", f"{osl} + byte surgery",
         C, filename="doc.p7m")

    # Algorithms kyso does not support.
    for slug, key, what in [
        ("signer-p521", ec.generate_private_key(ec.SECP521R1()), "ECDSA P-521 (pyHanko signs with SHA-512)"),
        ("signer-ed25519", ed25519.Ed25519PrivateKey.generate(), "Ed25519 (RFC 8419)"),
        ("signer-rsa-9216", rsa.generate_private_key(65537, 9216), "RSA-9216"),
    ]:
        label = P.ee(slug[len("signer-"):], f"Signer {slug[len('signer-'):]}", ca, key=key)
        case(slug, spdf(doc, pyh_signer(label, [ca])), ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE"),
             f"PAdES-B-B by pyHanko with a {what} signer key ({label}.pem, issued by {ca}.pem with RSA-2048): an "
             "algorithm kyso does not implement is INDETERMINATE (unsupported), not a failed signature. (pyHanko 0.38 "
             "implements it and says TRUSTED; `openssl verify` of the certificate: OK.)",
             f"{py} + {pyca}", C)

    # nameConstraints (critical) on an intermediate.
    nc = P.ca("nc-ca", "Kyso Test Name-Constrained CA", extra=[(x509.NameConstraints(
        permitted_subtrees=[x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, SOTP)])),
                            x509.RFC822Name("tuphap.test.vn")],
        excluded_subtrees=None), True)])
    nc_desc = (f"{nc}.pem, issued by the root, carries a critical nameConstraints with permitted subtrees "
               f"directoryName C=VN, O={SOTP} and rfc822Name tuphap.test.vn")
    email = lambda a: [(x509.SubjectAlternativeName([x509.RFC822Name(a)]), False)]
    ok = P.ee("nc-ok", "Signer nc-ok", nc, extra=email("canbo@tuphap.test.vn"))
    case("name-constraints-permitted", spdf(doc, pyh_signer(ok, [nc])), ("TOTAL-PASSED", None),
         f"PAdES-B-B by pyHanko. {nc_desc}; the signer {ok}.pem (C=VN, O={SOTP}, CN=Signer nc-ok; "
         "subjectAltName canbo@tuphap.test.vn) is inside both: RFC 5280 §6.1 accepts (openssl verify: OK; "
         "pyHanko 0.38: TRUSTED)", f"{py} + {pyca}", C)
    bad = P.ee("nc-bad", "Signer nc-bad", nc, subject=person("Signer nc-bad", "Bộ Tài chính (test)"),
               extra=email("canbo@tuphap.test.vn"))
    case("name-constraints-violated", spdf(doc, pyh_signer(bad, [nc])), ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko. {nc_desc}; the signer {bad}.pem has O=Bộ Tài chính (test), outside the permitted "
         "directoryName subtree (its e-mail is inside): CHAIN_CONSTRAINTS_FAILURE (openssl verify: 'permitted "
         "subtree violation'; pyHanko 0.38: untrusted)", f"{py} + {pyca}", C)
    bad_mail = P.ee("nc-bad-email", "Signer nc-bad-email", nc, extra=email("canbo@gmail.test"))
    case("name-constraints-violated-email", spdf(doc, pyh_signer(bad_mail, [nc])),
         ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko. {nc_desc}; the signer {bad_mail}.pem has a permitted subject but the "
         "subjectAltName rfc822Name canbo@gmail.test, outside the permitted rfc822Name subtree: "
         "CHAIN_CONSTRAINTS_FAILURE (openssl verify: 'permitted subtree violation'; pyHanko 0.38: untrusted)",
         f"{py} + {pyca}", C)

    # policyConstraints requireExplicitPolicy=0 (critical) on an intermediate.
    pc = P.ca("pc-ca", "Kyso Test Policy CA", extra=[
        (x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None), True),
        (x509.CertificatePolicies([x509.PolicyInformation(POLICY, None)]), False)])
    pc_desc = (f"{pc}.pem, issued by the root, carries certificatePolicies {POLICY.dotted_string} and a critical "
               "policyConstraints requireExplicitPolicy=0, so every certificate after it must carry an acceptable "
               "policy (RFC 5280 §6.1.3-5: explicit_policy becomes 0)")
    pol = lambda oid: [(x509.CertificatePolicies([x509.PolicyInformation(oid, None)]), False)]
    ok = P.ee("pc-ok", "Signer pc-ok", pc, extra=pol(POLICY))
    case("policy-constraints-explicit-ok", spdf(doc, pyh_signer(ok, [pc])), ("TOTAL-PASSED", None),
         f"PAdES-B-B by pyHanko. {pc_desc}; the signer {ok}.pem asserts {POLICY.dotted_string}: the valid policy "
         "tree is not empty, the path is valid (`openssl verify -policy_check -policy anyPolicy`: OK; pyHanko "
         "0.38: TRUSTED)", f"{py} + {pyca}", C)
    miss = P.ee("pc-missing", "Signer pc-missing", pc)
    case("policy-constraints-explicit-missing", spdf(doc, pyh_signer(miss, [pc])),
         ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko. {pc_desc}; the signer {miss}.pem has no certificatePolicies: the valid policy "
         "tree becomes NULL while explicit_policy is 0: CHAIN_CONSTRAINTS_FAILURE (`openssl verify -policy_check "
         "-policy anyPolicy`: 'no explicit policy'; pyHanko 0.38: untrusted)", f"{py} + {pyca}", C)
    oth = P.ee("pc-other", "Signer pc-other", pc, extra=pol(OTHER_POLICY))
    case("policy-constraints-explicit-other-policy", spdf(doc, pyh_signer(oth, [pc])),
         ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
         f"PAdES-B-B by pyHanko. {pc_desc}; the signer {oth}.pem asserts only {OTHER_POLICY.dotted_string}, "
         "which no node of the tree expects: the tree is pruned to NULL with explicit_policy 0: "
         "CHAIN_CONSTRAINTS_FAILURE (openssl verify -policy_check -policy anyPolicy: 'no explicit policy'; "
         "pyHanko 0.38: untrusted)", f"{py} + {pyca}", C)

    nonstrict(P, doc, py, pyca, a1)


def nonstrict(P, doc, py, pyca, a1):
    C = "false rejects"
    # An issuing CA whose TBS is BER, signed by the root over those bytes.
    k = rsa.generate_private_key(65537, 2048)
    strict = make_cert(mc.name("Kyso Test Non-DER CA"), k.public_key(), P.root.subject, P.root_k, nb=T0, na=T_END,
                       ca=True, issuer_pub=P.root.public_key())
    ber = nonstrict_cert(strict.public_bytes(serialization.Encoding.DER), P.root_k)
    label = "x-nonder-ca"
    save_der_as_pem(pki(label + ".pem"), ber)
    mc.save_key(label, k)
    P.certs[label], P.keys[label] = strict, k  # `strict` only for its subject and key
    s = P.ee("nonder-signer", "Signer nonder", label)
    signed = spdf(doc, pyh_signer(s, [label]))
    embedded = [c.chosen.dump() for c in mc.cms_of(signed)["content"]["certificates"]]
    assert ber in embedded, "pyHanko re-encoded the non-DER CA certificate"
    assert ax509.Certificate.load(ber).dump(force=True) != ber, "the CA certificate is DER"
    r = run(["openssl", "verify", "-CAfile", pki("root.pem"), "-untrusted", pki(label + ".pem"), pki(s + ".pem")], text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    case("nonstrict-der-intermediate", signed, ("TOTAL-PASSED", None),
         f"PAdES-B-B by pyHanko, signer {s}.pem issued by {label}.pem, a CA certificate (embedded in the CMS as "
         "is) whose TBS is BER, not DER, as CAs in the field write: each extension has `critical FALSE` written "
         "out (DER omits a DEFAULT, X.690 §11.5) and each extnValue's length in long form (0x81 nn); the root "
         "signed those exact bytes. Signatures are checked over the bytes received: the chain holds. "
         "(`openssl verify -CAfile root.pem -untrusted x-nonder-ca.pem` says OK; pyHanko 0.38: TRUSTED.)", f"{py} + {pyca} + TLV by script", C)

    # A non-strict CRL listing the signer revoked; a non-strict OCSP response saying revoked.
    ca = "x-ca"
    ca_c, ca_k = P.certs[ca], P.keys[ca]
    rv = P.ee("nonder-revoked", "Signer nonder-revoked", ca, cdp=f"{NOWHERE}/x-ca.crl", ocsp_url=f"{NOWHERE}/ocsp")
    rv_c = P.certs[rv]
    revoked_at = dt.datetime(2025, 6, 1, tzinfo=UTC)
    signed = spdf(doc, pyh_signer(rv, [ca]))
    fresh = claimed_time(signed) + dt.timedelta(seconds=1)
    settle(fresh)
    strict_crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_c.subject).last_update(fresh).next_update(EE_NA)
                  .add_extension(x509.CRLNumber(3), critical=False)
                  .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(rv_c.serial_number)
                                           .revocation_date(revoked_at)
                                           .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                                           .build())
                  .sign(ca_k, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    ber_crl = nonstrict_crl(strict_crl, ca_k)
    crl_path = save_crl("x-ca-nonder.crl.pem", ber_crl)
    assert acrl.CertificateList.load(ber_crl).dump(force=True) != ber_crl, "the CRL is DER"
    r = run(["openssl", "verify", "-crl_check", "-CAfile", pki("root.pem"), "-untrusted", pki("x-ca.pem"),
             "-CRLfile", pki("x-ca-nonder.crl.pem"), pki(rv + ".pem")], text=True)
    assert "certificate revoked" in r.stdout + r.stderr, r.stdout + r.stderr
    case("nonstrict-der-crl-revoked", signed, ("TOTAL-FAILED", "REVOKED"),
         f"PAdES-B-B by pyHanko, signer {rv}.pem (names a CRL DP and an OCSP responder on loopback) issued by "
         f"{ca}.pem. The only CRL (--crl, thisUpdate a second "
         "after signing) lists the signer revoked (keyCompromise) on 2025-06-01, before signing; its TBS is BER: "
         "the CRL number and reason-code extensions have `critical FALSE` written out and long-form extnValue "
         "lengths, and the CA signed those bytes. Checked over the bytes received, it counts: REVOKED "
         "(`openssl verify -crl_check` with it: 'certificate revoked'; pyHanko 0.38: REVOKED)",
         f"{py} + {pyca} + TLV by script", C, crl=(crl_path,))

    signed = spdf(doc, pyh_signer(rv, [ca]))
    fresh = claimed_time(signed) + dt.timedelta(seconds=1)
    settle(fresh)
    tbs = ocsp_tbs(rv_c, ca_c, ca_c, "revoked", fresh, revoked_at=revoked_at)
    o = ocsp_wrap(nonstrict_ocsp_tbs(tbs), ca_k)
    out = with_dss(signed, ocsps=[o])
    assert dss_ocsps(out) == [o], "the DSS does not hold the OCSP response's exact bytes"
    basic = aocsp.OCSPResponse.load(o)["response_bytes"]["response"].parsed
    ca_c.public_key().verify(basic["signature"].native, basic["tbs_response_data"].dump(), padding.PKCS1v15(), hashes.SHA256())
    assert basic["tbs_response_data"].dump() != basic["tbs_response_data"].dump(force=True), "the OCSP response is DER"
    case("nonstrict-der-ocsp-revoked", out, ("TOTAL-FAILED", "REVOKED"),
         f"PAdES-B-B by pyHanko, signer {rv}.pem (CRL DP and OCSP on loopback) issued by {ca}.pem; the DSS holds the CA's OCSP response "
         "'revoked' (2025-06-01, before signing; thisUpdate = producedAt a second after signing) whose "
         "ResponseData is BER: `version [0] v1` written out (DER omits the DEFAULT) and the responder key hash "
         "with a long-form length; the CA signed those bytes. Checked over the bytes received, it counts: REVOKED. "
         "(pyca/cryptography verifies the signature over the bytes as received; `openssl ocsp` re-encodes "
         "ResponseData to DER before checking and says 'bad signature'; pyHanko 0.38, which keeps the bytes: "
         "REVOKED.)",
         f"{py} DSS + {a1} + TLV by script", C)


# ---------------------------------------------------------------------------------------------
# No crash

def no_crash():
    bomb = b"\x30\x80" * 204800
    case("ber-nesting-bomb", bomb, ("TOTAL-FAILED", "FORMAT_FAILURE"),
         "409,600 bytes of 0x30 0x80 (SEQUENCE, indefinite length) repeated: 204,800 nested indefinite-length "
         "BER constructions, never closed (written by script). Not a CMS: FORMAT_FAILURE, with bounded recursion. "
         "The baseline kyso aborted with a stack overflow (SIGABRT), which would take a whole service down",
         "Python script", "no crash", filename="doc.p7m")
