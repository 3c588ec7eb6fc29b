#!/usr/bin/env python3
"""OCSP "good" answers that must not be believed, for tests/verify_cli.rs and
tests/verify_online.rs -- made with pyca/cryptography (certificates, CRLs; the CMS signatures by
the OpenSSL CLI), asn1crypto (the OCSP responses) and pyHanko's DummyTimeStamper (signature
time-stamps), nothing of kyso's.

A CA delegates OCSP signing to a responder certificate (extendedKeyUsage OCSPSigning). Whoever
holds a responder's key signs "good" for any certificate of the CA, so kyso must know the
responder may answer when it answered:
- `bare`: no id-pkix-ocsp-nocheck, naming no place for its own status. kyso took its answer
  with a note while the signer's certificate named the CA's CRL, where a revoked responder is
  listed (found reviewing the last notes, 2026-12-03).
- `expired`: with ocsp-nocheck, expired 20 days ago; its answer says producedAt 25 days ago
  (inside its validity) and thisUpdate an hour after the signature time-stamp. kyso judged the
  responder at producedAt and the "good" as issued after the time-stamp: TOTAL-PASSED, also
  online (an attacker's reading, 2026-12-03).
- `stolen`: no ocsp-nocheck, its CRL distribution point the CA's (http://127.0.0.1:PORT/ca.crl);
  the CA revoked it (keyCompromise) 5 days ago, and the signer 4 days ago, before the signature
  time-stamp. Its answer is dated consistently, after the time-stamp; beside it the CA's CRL of
  10 days ago, valid for 40 days, lists neither. kyso found the responder "good" in that CRL
  and fetched nothing: TOTAL-PASSED online though the CA's current CRL revokes the signer (the
  same reading).
- `keyenc`: ocsp-nocheck, but keyUsage keyEncipherment only (RFC 5280 §4.2.1.12): believed.

    python3 ocsp_responder.py DIR [PORT]

DIR/root.pem (the CA, also the trust anchor), DIR/doc.txt, and detached CAdES signatures of it
with a "good" for each:
  cdp.p7s, aia.p7s (no time-stamp): signers naming the CA's CRL (http://127.0.0.1:9/..., nothing
      serves it), or only an OCSP responder URL (same nowhere); cdp-bare.ocsp,
      cdp-nocheck.ocsp, aia-bare.ocsp, aia-nocheck.ocsp ("nocheck": delegated, with
      ocsp-nocheck).
  bt.p7s: CAdES-B-T (signature time-stamp a second after signing) by a signer whose CRL
      distribution point is http://127.0.0.1:PORT/ca.crl and OCSP responder
      http://127.0.0.1:PORT/ocsp; bt-expired.ocsp, bt-expired-honest.ocsp (the same
      responder, producedAt = thisUpdate: the control), bt-stolen.ocsp, bt-keyenc.ocsp;
      old.crl (at hand, lists no one), ca.crl (the CA's current CRL, to serve: revokes the
      stolen responder and the signer).
  plain.p7s: a signer naming no place for its status, revoked a day ago; plain-reordered.ocsp,
      plain-forged.ocsp, plain-many.ocsp, plain-revoked-sibling.ocsp with plain-sibling.crl,
      plain-sha224.ocsp, plain-swapped.ocsp (below).
"""
import asyncio
import datetime as dt
import hashlib
import os
import subprocess
import sys
import time

from asn1crypto import algos as aalgos, cms as acms, core as acore, keys as akeys, ocsp as aocsp, tsp as atsp, x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
NOWHERE = "http://127.0.0.1:9"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subj, key, issuer, ikey, ca=False, eku=None, cdp=None, aia=None, nocheck=False,
         nb=None, na=None, keyenc_only=False, eku_critical=False):
    b = (x509.CertificateBuilder().subject_name(subj).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(nb or NOW - dt.timedelta(days=30))
         .not_valid_after(na or NOW + dt.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca and not keyenc_only,
                                      content_commitment=not ca and not eku,
                                      key_encipherment=keyenc_only, data_encipherment=False, key_agreement=False,
                                      key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()), critical=False))
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    if aia:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(aia))]), critical=False)
    if nocheck:
        b = b.add_extension(x509.OCSPNoCheck(), critical=False)
    return b.sign(ikey, hashes.SHA256())


def write(fname, data):
    with open(os.path.join(out, fname), "wb") as f:
        f.write(data)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


ca_k = rsa.generate_private_key(65537, 2048)
ca = cert(name("OCSP Delegation Test CA"), ca_k, name("OCSP Delegation Test CA"), ca_k, ca=True)
write("root.pem", pem(ca))
write("doc.txt", "Giấy phép số 12/GP: lệ phí 100 VND\n".encode())

a_ca = ax509.Certificate.load(der(ca))


def good(subject, responder, responder_key, produced, this_update):
    """An OCSP response "good" for `subject`, signed with `responder_key`."""
    tbs = aocsp.ResponseData({
        "responder_id": aocsp.ResponderId(name="by_key", value=ax509.Certificate.load(der(responder)).public_key.sha1),
        "produced_at": produced,
        "responses": [{
            "cert_id": {"hash_algorithm": {"algorithm": "sha1"},
                        "issuer_name_hash": a_ca.subject.sha1,
                        "issuer_key_hash": a_ca.public_key.sha1,
                        "serial_number": subject.serial_number},
            "cert_status": aocsp.CertStatus(name="good", value=acore.Null()),
            "this_update": this_update,
            "next_update": this_update + dt.timedelta(days=7),
        }],
    })
    basic = aocsp.BasicOCSPResponse({
        "tbs_response_data": tbs,
        "signature_algorithm": {"algorithm": "sha256_rsa"},
        "signature": responder_key.sign(tbs.dump(), padding.PKCS1v15(), hashes.SHA256()),
        "certs": [ax509.Certificate.load(der(responder))],
    })
    return aocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
    }).dump()


def sign(label, **kw):
    """A signer certificate of the CA and its detached CAdES signature of doc.txt (OpenSSL)."""
    k = rsa.generate_private_key(65537, 2048)
    c = cert(name(f"Nguyen Van A ({label})"), k, ca.subject, ca_k, **kw)
    write(f"{label}.pem", pem(c))
    write(f"{label}.key", k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-cades", "-outform", "DER", "-md", "sha256",
                    "-in", os.path.join(out, "doc.txt"), "-signer", os.path.join(out, f"{label}.pem"),
                    "-inkey", os.path.join(out, f"{label}.key"), "-out", os.path.join(out, f"{label}.p7s")],
                   check=True)
    os.remove(os.path.join(out, f"{label}.key"))
    return c


def responder(label, **kw):
    k = rsa.generate_private_key(65537, 2048)
    return cert(name(f"OCSP responder ({label})"), k, ca.subject, ca_k, eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
                **kw), k


# Without a time-stamp: the status is needed at the validation time.
bare = responder("bare")
nocheck = responder("nocheck", nocheck=True)
signers = {"cdp": sign("cdp", cdp=f"{NOWHERE}/ocsp-test-ca.crl"), "aia": sign("aia", aia=f"{NOWHERE}/ocsp")}
time.sleep(2)
produced = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
for s_label, subject in signers.items():
    for r_label, (r, rk) in [("bare", bare), ("nocheck", nocheck)]:
        write(f"{s_label}-{r_label}.ocsp", good(subject, r, rk, produced, produced))

# CAdES-B-T: the signature time-stamp (by a TSA of the CA) says T, a second after signing.
ca_crl = f"http://127.0.0.1:{PORT}/ca.crl"
# Its certificate names the CA's OCSP responder too (most do): a thief holding a delegated
# responder's key can answer there (plain HTTP).
bt = sign("bt", cdp=ca_crl, aia=f"http://127.0.0.1:{PORT}/ocsp")
time.sleep(1)
T = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
tk = rsa.generate_private_key(65537, 2048)
tsa = cert(name("OCSP Delegation Test TSA"), tk, ca.subject, ca_k, eku=[ExtendedKeyUsageOID.TIME_STAMPING],
           eku_critical=True)
stamper = DummyTimeStamper(
    tsa_cert=ax509.Certificate.load(der(tsa)),
    tsa_key=akeys.PrivateKeyInfo.load(tk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption())),
    certs_to_embed=[a_ca], fixed_dt=T)
ci = acms.ContentInfo.load(open(os.path.join(out, "bt.p7s"), "rb").read())
si = ci["content"]["signer_infos"][0]
req = atsp.TimeStampReq({
    "version": 1, "cert_req": True,
    "message_imprint": {"hash_algorithm": aalgos.DigestAlgorithm({"algorithm": "sha256"}),
                        "hashed_message": hashlib.sha256(si["signature"].native).digest()}})
token = asyncio.run(stamper.async_request_tsa_response(req))["time_stamp_token"]
si["unsigned_attrs"] = acms.CMSAttributes([{"type": "signature_time_stamp_token", "values": [token]}])
write("bt.p7s", ci.dump(force=True))

after = T + dt.timedelta(seconds=1)
expired = responder("expired", nocheck=True, nb=NOW - dt.timedelta(days=30), na=NOW - dt.timedelta(days=20))
write("bt-expired.ocsp", good(bt, *expired, NOW - dt.timedelta(days=25), after))
write("bt-expired-honest.ocsp", good(bt, *expired, after, after))
stolen = responder("stolen", cdp=ca_crl)
write("bt-stolen.ocsp", good(bt, *stolen, after, after))
keyenc = responder("keyenc", nocheck=True, keyenc_only=True)
write("bt-keyenc.ocsp", good(bt, *keyenc, after, after))


def crl(this, nxt, revoked=()):
    b = x509.CertificateRevocationListBuilder().issuer_name(ca.subject).last_update(this).next_update(nxt)
    for serial, when in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False).build())
    return b.sign(ca_k, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


write("old.crl", crl(NOW - dt.timedelta(days=10), NOW + dt.timedelta(days=30)))
write("ca.crl", crl(NOW, NOW + dt.timedelta(days=7), [(stolen[0].serial_number, NOW - dt.timedelta(days=5)),
                                                       (bt.serial_number, NOW - dt.timedelta(days=4))]))


# A signer whose certificate names no place for its status, revoked a day ago (keyCompromise),
# and answers about it that a trust file renewed over plain HTTP may hold (helper 149,
# 2026-12-05: each was TOTAL-PASSED, "its revocation status was not checked"):
# - plain-reordered.ocsp: the delegated responder's genuine "revoked", with another certificate
#   of the same responder key, not certified for OCSP signing, put first in its certificates
#   (which its signature does not cover): the first signer alone decided, and was refused;
# - plain-forged.ocsp: a "good" for it signed by a responder of another CA: an answer not to
#   be believed is no "no answer";
# - plain-many.ocsp: the delegated responder's 64 "good" answers (SHA-256 CertIDs) before its
#   "revoked" one (SHA-1): only the first 64 answers for a certificate were read;
# - plain-revoked-sibling.ocsp: the responder's genuine "revoked", with another certificate of
#   its key first, certified for OCSP signing too but revoked by the CA (plain-sibling.crl, 2
#   days old, lists it and not the signer): that one alone was judged, the answer ignored, and
#   the older CRL's "good" stood (helper 151);
# - plain-sha224.ocsp: a "revoked" under a SHA-224 CertID, which kyso cannot match: it was
#   "no data" (helper 151);
# - plain-swapped.ocsp: the responder's genuine "revoked" with only that revoked sibling among
#   its certificates (swapped, not added): not believed, and plain-sibling.crl's older "good"
#   stood (helper 153).
def answer(subject, responder, responder_key, statuses, certs):
    """A BasicOCSPResponse about `subject`, one SingleResponse per (hash, status), produced now."""
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    singles = []
    for h, status in statuses:
        cert_status = (aocsp.CertStatus(name="good", value=acore.Null()) if status == "good" else
                       aocsp.CertStatus(name="revoked", value={"revocation_time": NOW - dt.timedelta(days=1),
                                                               "revocation_reason": "key_compromise"}))
        # kyso knows SHA-1 and SHA-2 CertIDs; others (SHA-224) it cannot match, only count.
        known = h in ("sha1", "sha256")
        singles.append({
            "cert_id": {"hash_algorithm": {"algorithm": h},
                        "issuer_name_hash": getattr(a_ca.subject, h) if known else hashlib.new(h, a_ca.subject.dump()).digest(),
                        "issuer_key_hash": getattr(a_ca.public_key, h) if known else hashlib.new(h, a_ca.public_key.dump()).digest(),
                        "serial_number": subject.serial_number},
            "cert_status": cert_status,
            "this_update": when,
            "next_update": when + dt.timedelta(days=7),
        })
    tbs = aocsp.ResponseData({
        "responder_id": aocsp.ResponderId(name="by_key", value=ax509.Certificate.load(der(responder)).public_key.sha1),
        "produced_at": when,
        "responses": singles,
    })
    basic = aocsp.BasicOCSPResponse({
        "tbs_response_data": tbs,
        "signature_algorithm": {"algorithm": "sha256_rsa"},
        "signature": responder_key.sign(tbs.dump(), padding.PKCS1v15(), hashes.SHA256()),
        "certs": [ax509.Certificate.load(der(c)) for c in certs],
    })
    return aocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
    }).dump()


plain = sign("plain")
n_cert, n_key = nocheck
sibling = cert(n_cert.subject, n_key, ca.subject, ca_k, nocheck=True)
write("plain-reordered.ocsp", answer(plain, n_cert, n_key, [("sha1", "revoked")], [sibling, n_cert]))
other_k = rsa.generate_private_key(65537, 2048)
other = cert(name("Another CA"), other_k, name("Another CA"), other_k, ca=True)
rogue_k = rsa.generate_private_key(65537, 2048)
rogue = cert(name("OCSP responder (rogue)"), rogue_k, other.subject, other_k,
             eku=[ExtendedKeyUsageOID.OCSP_SIGNING], nocheck=True)
write("plain-forged.ocsp", answer(plain, rogue, rogue_k, [("sha1", "good")], [rogue]))
write("plain-many.ocsp", answer(plain, n_cert, n_key, [("sha256", "good")] * 64 + [("sha1", "revoked")], [n_cert]))
sibling_certified = cert(n_cert.subject, n_key, ca.subject, ca_k, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
write("plain-revoked-sibling.ocsp", answer(plain, n_cert, n_key, [("sha1", "revoked")], [sibling_certified, n_cert]))
write("plain-sibling.crl", crl(NOW - dt.timedelta(days=2), NOW + dt.timedelta(days=30),
                               [(sibling_certified.serial_number, NOW - dt.timedelta(days=3))]))
write("plain-sha224.ocsp", answer(plain, n_cert, n_key, [("sha224", "revoked")], [n_cert]))
write("plain-swapped.ocsp", answer(plain, n_cert, n_key, [("sha1", "revoked")], [sibling_certified]))
