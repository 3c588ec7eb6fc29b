"""CMS signatures and certificates a verifier must not believe, for tests/verify_cli.rs -- made
with the OpenSSL CLI, pyca/cryptography, asn1crypto and pyHanko, nothing of kyso's (found by an
attacker's reading of kyso's verifier, 2026-12-02):

    python3 cms_attacks.py trailing DIR       DIR/signed.p7m: OpenSSL's attached CAdES around a
                                              one-page PDF; DIR/forged.p7m: the same with an
                                              incremental update of that PDF appended (offsets
                                              from its %PDF- header), replacing the page's text:
                                              a PDF reader shows the update; DIR/forged-attr.p7m:
                                              the update inside an unsigned attribute instead;
                                              DIR/forged-lexer.p7m: its objects alone there, with
                                              a comment and NULs in their headers (MuPDF shows
                                              them), and with signed generation numbers
                                              (forged-sign.p7m); DIR/text-pdf-attr.p7m: a signed
                                              text with a whole PDF in an unsigned attribute;
                                              DIR/text-detached-pdf.p7s: a detached signature
                                              of the text carrying that PDF as its eContent;
                                              DIR/chunked.p7m: signed.p7m in BER, its eContent
                                              in two chunks; DIR/forged-lone-sign.p7m (MuPDF)
                                              and forged-long-line.p7m (Poppler): the objects
                                              with `3 + obj` headers, or at the end of comment
                                              lines over 255 bytes; forged-escaped.p7m: with
                                              `3 0 o#62j` headers (MuPDF)
    python3 cms_attacks.py pss DIR            DIR/pss-1024.p7m and pss-2048.p7m: OpenSSL CAdES by
                                              RSA-PSS keys (id-RSASSA-PSS) of those sizes
    python3 cms_attacks.py names DIR          under DIR/sub.pem, which excludes the subtree
                                              C=VN, O=Bộ Công an (NFC, UTF8String): leaves whose O
                                              is that name composed, decomposed (NFD), as a
                                              BMPString, as invalid UTF-8, and one outside it
                                              (DIR/<leaf>.p7m)
    python3 cms_attacks.py dss-junk IN OUT ROOT
                                              IN with a pyHanko update putting 64 junk CRLs (the
                                              issuer name of ROOT, signed by another key) first
                                              in its /DSS /CRLs
    python3 cms_attacks.py time-stamps DIR    PAdES-B-T by pyHanko (its DummyTimeStamper at a
                                              fixed time): DIR/before-cert.pdf, a time-stamp
                                              dated before the signer's certificate was valid;
                                              DIR/tsa-ca.pdf, by a TSA certificate that is a CA;
                                              DIR/tsa-eku.pdf, by one whose timeStamping EKU is
                                              not critical and names another purpose too;
                                              DIR/good.pdf, as it should be
    python3 cms_attacks.py paths DIR          DIR/paths.p7m: 2 SignerInfos with 16 signature
                                              time-stamps each, every token by a TSA certificate
                                              of its own, all naming an issuer shared by 70 junk
                                              certificates with RSA-8192 keys (e = 2^33-1)

    python3 cms_attacks.py attributes DIR     detached signatures of DIR/doc.txt built with
                                              asn1crypto and signed with pyca/cryptography
                                              (helper 242): honest.p7s; md-twice.p7s (a
                                              message-digest for doc.txt and one for
                                              other.txt), md-two-values.p7s, ct-twice.p7s,
                                              time-twice.p7s; ess-serial-other.p7s (an ESS
                                              certHash of the signer with another's serial);
                                              unsorted.p7s (the signer signed its attributes
                                              in the order written, not DER's); ecdsa-label.p7s
                                              (zeros labelled ecdsa-with-SHA256 under the RSA
                                              signer); unsigned-twice.p7s and algs-twice.p7s
                                              (an unsigned attribute, or the digest algorithm,
                                              given twice: edits anyone can make);
                                              ci-extra.p7s and explicit-extra.p7s (a ZIP after
                                              SignedData inside ContentInfo or its [0]);
                                              revoked-later.p7s with revoked.crl (revoked after
                                              the time it claims, no time-stamp); (helper 245)
                                              unsorted-ber.p7s and md-twice-ber.p7s (those two
                                              with an indefinite-length encapContentInfo);
                                              two-signers-N.p7s (OpenSSL's CAdES by two
                                              signers, N < 12); content-ts.p7s (a signed
                                              content time-stamp by `openssl ts`, its genTime
                                              with milliseconds, the attributes in the order
                                              written); md-same-twice.p7s (one digest value
                                              given twice, after signing); ber-value.p7s (a
                                              signed private attribute whose value is BER);
                                              md-pieces.p7s (the digest rewritten in BER
                                              pieces after signing)
    python3 cms_attacks.py trust-paths DIR    detached signatures of DIR/doc.txt by OpenSSL
                                              under certificates pyca/cryptography makes (and
                                              asn1crypto edits, re-signed; helper 243):
                                              revoked-sub.p7s, its Sub CA revoked by the root's
                                              CRL (root.crl; sub.crl is the Sub CA's), to be
                                              trusted with root-and-sub.pem as well as root.pem;
                                              crldp-twice.p7s (the signer's certificate names
                                              its CRL distribution points twice);
                                              alg-mismatch.p7s (its TBS names md5WithRSA, its
                                              issuer signed with SHA-256); poe-before-ca.p7s (a
                                              signature time-stamp, tsa-root.pem's, older than
                                              the Sub CA its signer's path runs through);
                                              stale-sub.p7s, carrying an expired older
                                              certificate of the Sub CA (same name and key),
                                              to be trusted with root-and-sub.pem (helper 245);
                                              current-sub.p7s with root-old-and-sub.pem (the
                                              expired one listed first); rolled.p7s, signed
                                              under a rollover link certificate that
                                              root-and-link.pem trusts, expired (helper 246);
                                              renewal-carried.p7s, carrying a renewal of the
                                              Sub CA pre-dated into next month (helper 247)
    python3 cms_attacks.py extend-inputs DIR  what `kyso extend` must take to B-LTA (helper
                                              244): bt-docts.pdf, pyHanko's PAdES-B-T with a
                                              document time-stamp and no DSS; empty-ts.p7s,
                                              OpenSSL's CAdES of DIR/doc.txt with a
                                              signature-time-stamp attribute of no value
                                              (asn1crypto); root.crl, the root's (empty)

Each DIR gets root.pem, the anchor to trust.
"""
import base64
import datetime as dt
import hashlib
import os
import re
import secrets
import subprocess
import sys
import unicodedata

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
mode = sys.argv[1]
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'giay-phep.pdf')


def sh(*args, cwd):
    subprocess.run(args, check=True, capture_output=True, cwd=cwd)


def pem(path, obj):
    with open(path, 'wb') as f:
        f.write(obj.public_bytes(serialization.Encoding.PEM))


def key_pem(path, key):
    with open(path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def make_cert(subject, key, issuer, issuer_key, ca=False, extra=(), days_back=1):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - dt.timedelta(days=days_back)).not_valid_after(NOW + dt.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                      encipher_only=False, decipher_only=False), critical=True))
    for ext, crit in extra:
        b = b.add_extension(ext, critical=crit)
    return b.sign(issuer_key, hashes.SHA256())


def name(*attrs):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'VN')] + list(attrs))


def root(d):
    k = rsa.generate_private_key(65537, 2048)
    n = name(x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Kyso Hostile PKI'),
             x509.NameAttribute(NameOID.COMMON_NAME, 'Hostile Test Root'))
    c = make_cert(n, k, n, k, ca=True, days_back=30)
    pem(os.path.join(d, 'root.pem'), c)
    return c, k


def cms_sign(d, cert, key, content, out, extra=(), cades=True):
    pem(os.path.join(d, 'signer.pem'), cert)
    key_pem(os.path.join(d, 'signer.key'), key)
    with open(os.path.join(d, 'content.bin'), 'wb') as f:
        f.write(content)
    sh('openssl', 'cms', '-sign', '-binary', '-nodetach', *(['-cades'] if cades else []), '-md', 'sha256',
       '-in', 'content.bin', '-signer', 'signer.pem', '-inkey', 'signer.key', '-outform', 'DER', '-out', out,
       *extra, cwd=d)


if mode == 'trailing':
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)
    k = rsa.generate_private_key(65537, 2048)
    c = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Signer')), k, rc.subject, rk)
    pdf = open(FIXTURE, 'rb').read()
    cms_sign(d, c, k, pdf, 'signed.p7m')
    signed = open(os.path.join(d, 'signed.p7m'), 'rb').read()
    base = signed.index(b'%PDF-')
    # The update, numbered from the embedded PDF's first byte: page 3 gets a new content
    # stream and a font of its own.
    text = b'BT /FX 28 Tf 72 700 Td (PAY 999999 VND) Tj ET'
    prev = int(re.findall(rb'startxref\s+(\d+)', pdf)[-1])
    size = max(int(s) for s in re.findall(rb'/Size\s+(\d+)', pdf))

    def update(at):
        """The update, its first byte at offset `at` of the file (fixed length)."""
        body = bytearray(b'\n')
        offs = {}
        for num, obj in [
            (3, b'<< /Type /Page /Parent 1 0 R /Contents %d 0 R /Resources << /Font << /FX << /Type /Font '
                b'/Subtype /Type1 /BaseFont /Helvetica >> >> >> >>' % size),
            (size, b'<< /Length %d >>\nstream\n' % len(text) + text + b'\nendstream'),
        ]:
            offs[num] = at - base + len(body)
            body += b'%d 0 obj\n' % num + obj + b'\nendobj\n'
        x = at - base + len(body)
        body += b'xref\n'
        for num in sorted(offs):
            body += b'%d 1\n%010d 00000 n\r\n' % (num, offs[num])
        body += b'trailer\n<< /Size %d /Root 2 0 R /Prev %d >>\nstartxref\n%010d\n%%%%EOF\n' % (
            size + 1, prev, x)
        return bytes(body)

    open(os.path.join(d, 'forged.p7m'), 'wb').write(signed + update(len(signed)))
    # The same update inside the CMS, the value of an unsigned attribute (the signature does
    # not cover it), so that the file still ends with its ContentInfo.
    from asn1crypto import cms as acms
    from asn1crypto import core as ac

    def with_attr(body):
        ci = acms.ContentInfo.load(signed)
        si = ci['content']['signer_infos'][0]
        si['unsigned_attrs'] = acms.CMSAttributes([acms.CMSAttribute(
            {'type': '1.3.6.1.4.1.99999.1', 'values': [ac.OctetString(body)]})])
        return ci.dump(force=True)

    draft = with_attr(update(0))
    at = draft.rindex(update(0))
    assert at + len(update(0)) == len(draft), 'the attribute ends the file'
    open(os.path.join(d, 'forged-attr.p7m'), 'wb').write(draft[:at] + update(at))
    # The update's objects alone, their headers written as MuPDF's lexer still reads them (a
    # comment, NUL for white space): MuPDF repairs the file and shows them, with no
    # cross-reference keyword anywhere.
    objects = (b'\n3 0 %c\nobj\n<< /Type /Page /Parent 1 0 R /Contents ' + b'%d' % size
               + b' 0 R /Resources << /Font << /FX << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>'
               + b'\nendobj\n' + b'%d\x000\x00obj\n<< /Length %d >>\nstream\n' % (size, len(text)) + text
               + b'\nendstream\nendobj\n')
    open(os.path.join(d, 'forged-lexer.p7m'), 'wb').write(with_attr(objects))
    # The same objects, each generation number a lone sign (`3 + obj`: MuPDF reads `+` as the
    # number 0), and, for Poppler, each header at the end of a comment line longer than the
    # 255 bytes Poppler reads of a line at once while it rebuilds a damaged cross-reference
    # table (`%AAA…3 0` then `obj` on the next line), after 30 KB of spaces so that the signed
    # PDF's startxref is not in the last 24 KB Poppler looks at (found by an attacker's reading
    # of the rule above, 2026-12-02).
    page = objects[objects.index(b'<< /Type /Page'):objects.index(b'\nendobj\n')]
    stream = objects[objects.index(b'<< /Length'):objects.rindex(b'\nendobj\n')]
    open(os.path.join(d, 'forged-lone-sign.p7m'), 'wb').write(with_attr(
        b'\n3 + obj\n' + page + b'\nendobj\n%d + obj\n' % size + stream + b'\nendobj\n'))
    # Its keyword written with a name escape (MuPDF decodes `o#62j` as `obj`; found reading
    # the rule of the keyword).
    open(os.path.join(d, 'forged-escaped.p7m'), 'wb').write(with_attr(
        b'\n3 0 o#62j\n' + page + b'\nendobj\n%d 0 o#62j\n' % size + stream + b'\nendobj\n'))
    long_comment = b'%' + b'A' * 254
    open(os.path.join(d, 'forged-long-line.p7m'), 'wb').write(with_attr(
        b' ' * 30000 + b'\n' + long_comment + b'3 0\nobj\n' + page + b'\nendobj\n' + long_comment
        + b'%d 0\nobj\n' % size + stream + b'\nendobj\n'))
    # A signed text, and a whole PDF of the attacker's in an unsigned attribute: Poppler and
    # MuPDF find its header and show it.
    cms_sign(d, c, k, 'Công văn số 12: đồng ý cấp phép\n'.encode(), 'text.p7m')
    signed = open(os.path.join(d, 'text.p7m'), 'rb').read()
    body = b'%PDF-1.4\n'
    for i, o in enumerate([
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << '
        b'/F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>',
        b'<< /Length %d >>\nstream\n' % len(text) + text + b'\nendstream',
    ], 1):
        body += b'%d 0 obj\n' % i + o + b'\nendobj\n'
    body += b'trailer\n<< /Size 5 /Root 1 0 R >>\n'
    open(os.path.join(d, 'text-pdf-attr.p7m'), 'wb').write(with_attr(body))
    # The same objects, their generation numbers signed (`+0`: MuPDF reads them).
    open(os.path.join(d, 'forged-sign.p7m'), 'wb').write(with_attr(
        objects.replace(b'3 0 %c\nobj', b'3 +0 obj').replace(b'\x000\x00obj', b' +0 obj')))
    # A detached signature over the text, its (unsigned) eContent a whole PDF: given the text,
    # the signature holds; a PDF reader opening the .p7s shows the PDF.
    sh('openssl', 'cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', 'content.bin',
       '-signer', 'signer.pem', '-inkey', 'signer.key', '-outform', 'DER', '-out', 'text.p7s', cwd=d)
    ci = acms.ContentInfo.load(open(os.path.join(d, 'text.p7s'), 'rb').read())
    ci['content']['encap_content_info']['content'] = ac.OctetString(body)
    open(os.path.join(d, 'text-detached-pdf.p7s'), 'wb').write(ci.dump(force=True))
    # The attached PDF's eContent in two BER chunks (indefinite lengths around it): the chunk
    # header is bytes inside the PDF the signature does not cover.
    p7m = acms.ContentInfo.load(open(os.path.join(d, 'signed.p7m'), 'rb').read())
    sd = p7m['content']
    eci = sd['encap_content_info']
    octets = eci['content'].native
    half = len(octets) // 2

    def prim(b):
        return ac.OctetString(b).dump()

    def indef(tag, inner):
        return bytes([tag, 0x80]) + inner + b'\x00\x00'
    chunked = indef(0x24, prim(octets[:half]) + prim(octets[half:]))
    eci_ber = indef(0x30, eci['content_type'].dump() + indef(0xa0, chunked))
    sd_ber = indef(0x30, sd['version'].dump() + sd['digest_algorithms'].dump() + eci_ber
                   + sd['certificates'].dump() + sd['signer_infos'].dump())
    ci_ber = indef(0x30, p7m['content_type'].dump() + indef(0xa0, sd_ber))
    open(os.path.join(d, 'chunked.p7m'), 'wb').write(ci_ber)
elif mode == 'pss':
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)
    key_pem(os.path.join(d, 'root.key'), rk)
    with open(os.path.join(d, 'ext.cnf'), 'w') as f:
        f.write('[ee]\nbasicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature, nonRepudiation\n')
    with open(os.path.join(d, 'content.bin'), 'wb') as f:
        f.write('Quyết định cấp phép\n'.encode())
    for bits in (1024, 2048):
        sh('openssl', 'genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', f'rsa_keygen_bits:{bits}', '-out',
           f'pss-{bits}.key', cwd=d)
        sh('openssl', 'req', '-new', '-key', f'pss-{bits}.key', '-subj', f'/C=VN/CN=Signer PSS {bits}',
           '-out', f'pss-{bits}.csr', cwd=d)
        sh('openssl', 'x509', '-req', '-in', f'pss-{bits}.csr', '-CA', 'root.pem', '-CAkey', 'root.key',
           '-set_serial', str(bits), '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'ee',
           '-out', f'pss-{bits}.pem', cwd=d)
        sh('openssl', 'cms', '-sign', '-binary', '-nodetach', '-cades', '-md', 'sha256', '-in', 'content.bin',
           '-signer', f'pss-{bits}.pem', '-inkey', f'pss-{bits}.key', '-keyopt', 'rsa_padding_mode:pss',
           '-outform', 'DER', '-out', f'pss-{bits}.p7m', cwd=d)
elif mode == 'names':
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)
    bca = unicodedata.normalize('NFC', 'Bộ Công an')
    sk = rsa.generate_private_key(65537, 2048)
    excluded = x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'VN'),
                                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, bca)]))
    sub = make_cert(name(x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Kyso Hostile PKI'),
                         x509.NameAttribute(NameOID.COMMON_NAME, 'Constrained CA')), sk, rc.subject, rk, ca=True,
                    extra=[(x509.NameConstraints(permitted_subtrees=None, excluded_subtrees=[excluded]), True)])
    pem(os.path.join(d, 'sub.pem'), sub)
    for leaf, org in [
        ('nfc', x509.NameAttribute(NameOID.ORGANIZATION_NAME, bca)),
        ('nfd', x509.NameAttribute(NameOID.ORGANIZATION_NAME, unicodedata.normalize('NFD', bca))),
        ('bmp', x509.NameAttribute(NameOID.ORGANIZATION_NAME, bca, _type=_ASN1Type.BMPString)),
        ('outside', x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Sở Tư pháp')),
    ]:
        k = rsa.generate_private_key(65537, 2048)
        c = make_cert(name(org, x509.NameAttribute(NameOID.COMMON_NAME, f'Signer {leaf}')), k, sub.subject, sk)
        cms_sign(d, c, k, 'Công văn\n'.encode(), f'{leaf}.p7m', extra=('-certfile', 'sub.pem'))
    # The excluded name with its first byte made invalid UTF-8 (0xFF for "B"), the certificate
    # signed again by the constrained CA: a value no reader can compare with the constraint.
    k = rsa.generate_private_key(65537, 2048)
    c = make_cert(name(x509.NameAttribute(NameOID.ORGANIZATION_NAME, bca),
                       x509.NameAttribute(NameOID.COMMON_NAME, 'Signer bad-utf8')), k, sub.subject, sk)
    der = c.public_bytes(serialization.Encoding.DER)
    tbs = c.tbs_certificate_bytes
    value = b'\x0c' + bytes([len(bca.encode())]) + bca.encode()
    assert tbs.count(value) == 1
    bad_tbs = tbs.replace(value, value[:2] + b'\xff' + value[3:])
    sig = sk.sign(bad_tbs, padding.PKCS1v15(), hashes.SHA256())
    assert len(sig) == len(c.signature) and der.count(c.signature) == 1
    bad = der.replace(tbs, bad_tbs).replace(c.signature, sig)
    # OpenSSL will not load such a certificate: it signs with the sound one (no ESS attribute
    # naming its hash), which is then replaced by the bad one, byte for byte as long.
    cms_sign(d, c, k, 'Công văn\n'.encode(), 'good-utf8.p7m', extra=('-certfile', 'sub.pem'), cades=False)
    p7m = open(os.path.join(d, 'good-utf8.p7m'), 'rb').read()
    assert p7m.count(der) == 1 and len(bad) == len(der)
    open(os.path.join(d, 'bad-utf8.p7m'), 'wb').write(p7m.replace(der, bad))
elif mode == 'dss-junk':
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    src, out, root_pem = sys.argv[2], sys.argv[3], sys.argv[4]
    issuer = x509.load_pem_x509_certificate(open(root_pem, 'rb').read()).subject
    other = rsa.generate_private_key(65537, 2048)
    junk = []
    for i in range(64):
        crl = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
               .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
               .add_extension(x509.CRLNumber(1000 + i), critical=False)
               .sign(other, hashes.SHA256()))
        junk.append(crl.public_bytes(serialization.Encoding.DER))
    w = IncrementalPdfFileWriter(open(src, 'rb'), strict=False)
    root_dict = w.root
    dss = root_dict['/DSS']
    refs = [w.add_object(generic.StreamObject(stream_data=j)) for j in junk]
    old = dss.get('/CRLs', generic.ArrayObject())
    dss['/CRLs'] = generic.ArrayObject(refs + list(old))
    if isinstance(root_dict.raw_get('/DSS'), generic.IndirectObject):
        w.mark_update(root_dict.raw_get('/DSS'))
    else:
        w.update_root()
    with open(out, 'wb') as f:
        w.write(f)
elif mode == 'time-stamps':
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from cryptography.x509.oid import ExtendedKeyUsageOID
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)

    def files(tag, cert, key):
        pem(os.path.join(d, f'{tag}.pem'), cert)
        key_pem(os.path.join(d, f'{tag}.key'), key)
        return os.path.join(d, f'{tag}.pem'), os.path.join(d, f'{tag}.key')

    def tsa(tag, ca, eku, critical):
        k = rsa.generate_private_key(65537, 2048)
        # Valid from ten days back: the time-stamp two days back is within its validity.
        c = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, f'TSA {tag}')), k, rc.subject, rk, ca=ca,
                      extra=[(x509.ExtendedKeyUsage(eku), critical)], days_back=10)
        cf, kf = files(f'tsa-{tag}', c, k)
        return load_cert_from_pemder(cf), load_private_key_from_pemder(kf, None)

    sk = rsa.generate_private_key(65537, 2048)
    sc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Signer')), sk, rc.subject, rk)
    scf, skf = files('signer', sc, sk)
    signer = signers.SimpleSigner.load(skf, scf, ca_chain_files=[os.path.join(d, 'root.pem')])
    ts = [ExtendedKeyUsageOID.TIME_STAMPING]
    for out, (tcert, tkey), when in [
        ('good.pdf', tsa('good', False, ts, True), NOW),
        ('before-cert.pdf', tsa('early', False, ts, True), NOW - dt.timedelta(days=2)),
        ('tsa-ca.pdf', tsa('ca', True, ts, True), NOW),
        ('tsa-eku.pdf', tsa('eku', False, ts + [ExtendedKeyUsageOID.CODE_SIGNING], False), NOW),
    ]:
        stamper = timestamps.DummyTimeStamper(tsa_cert=tcert, tsa_key=tkey, fixed_dt=when)
        w = IncrementalPdfFileWriter(open(FIXTURE, 'rb'), strict=False)
        meta = signers.PdfSignatureMetadata(field_name='Signature1', subfilter=SigSeedSubFilter.PADES)
        res = signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(w)
        open(os.path.join(d, out), 'wb').write(res.getvalue())
elif mode == 'paths':
    from asn1crypto import algos
    from asn1crypto import cms as acms
    from asn1crypto import core as ac
    from asn1crypto import keys as ak
    from asn1crypto import tsp as atsp
    from asn1crypto import x509 as ax
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    SIGNERS, TOKENS, JUNK = 2, 16, 70
    SHA256_RSA = algos.SignedDigestAlgorithm({'algorithm': 'sha256_rsa'})
    SHA256 = algos.DigestAlgorithm({'algorithm': 'sha256'})

    def tlv(tag, body):
        n = len(body)
        if n < 0x80:
            return bytes([tag, n]) + body
        nb = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        return bytes([tag, 0x80 | len(nb)]) + nb + body

    def setof(items, tag=0x31):
        return tlv(tag, b''.join(sorted(items)))

    def seq(*items):
        return tlv(0x30, b''.join(items))

    def oid(s):
        return ac.ObjectIdentifier(s).dump()

    def aname(cn):
        return ax.Name.build({'common_name': cn})

    def tbs(serial, issuer, subject, spki, exts=None):
        t = lambda y: ax.Time(name='utc_time', value=dt.datetime(y, 1, 1, tzinfo=UTC))
        return ax.TbsCertificate({'version': 'v3', 'serial_number': serial, 'signature': SHA256_RSA,
                                  'issuer': aname(issuer), 'subject': aname(subject),
                                  'validity': {'not_before': t(2024), 'not_after': t(2040)},
                                  'subject_public_key_info': spki, 'extensions': exts or []})

    def acert(t, sig):
        return ax.Certificate({'tbs_certificate': t, 'signature_algorithm': SHA256_RSA, 'signature_value': sig})

    def spki_of(k):
        return ak.PublicKeyInfo.load(k.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))

    def big_spki():
        n = secrets.randbits(8192) | (1 << 8191) | 1
        return ak.PublicKeyInfo({'algorithm': {'algorithm': 'rsa'},
                                 'public_key': ak.RSAPublicKey({'modulus': n, 'public_exponent': (1 << 33) - 1})})

    def rsasign(k, data):
        return k.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def ias(c):
        return acms.IssuerAndSerialNumber({'issuer': c['tbs_certificate']['issuer'],
                                           'serial_number': c['tbs_certificate']['serial_number'].native})

    def attr(o, *vals):
        return seq(oid(o), setof(list(vals)))

    def signer_info(k, c, econtent_type, econtent, extra_signed=(), unsigned=()):
        sa = [attr('1.2.840.113549.1.9.3', oid(econtent_type)),
              attr('1.2.840.113549.1.9.4', tlv(0x04, hashlib.sha256(econtent).digest()))] + list(extra_signed)
        sa_set = setof(sa)
        sig = rsasign(k, sa_set)
        body = (ac.Integer(1).dump() + ias(c).dump() + SHA256.dump() + b'\xa0' + sa_set[1:]
                + algos.SignedDigestAlgorithm({'algorithm': 'rsassa_pkcs1v15'}).dump() + tlv(0x04, sig))
        if unsigned:
            body += setof(list(unsigned), tag=0xa1)
        return tlv(0x30, body), sig

    def signed_data(econtent_type, econtent, sis, certs=()):
        body = (ac.Integer(3 if econtent_type != '1.2.840.113549.1.7.1' else 1).dump() + setof([SHA256.dump()])
                + seq(oid(econtent_type), tlv(0xa0, tlv(0x04, econtent))))
        if certs:
            body += setof([c.dump() for c in certs], tag=0xa0)
        body += setof(sis)
        return seq(oid('1.2.840.113549.1.7.2'), tlv(0xa0, tlv(0x30, body)))

    signer_k = rsa.generate_private_key(65537, 2048)
    tsa_k = rsa.generate_private_key(65537, 2048)
    st = tbs(1, 'Attacker', 'Attacker', spki_of(signer_k))
    signer = acert(st, rsasign(signer_k, st.dump()))
    eku = [{'extn_id': 'extended_key_usage', 'critical': True, 'extn_value': ['time_stamping']}]
    junk = [acert(tbs(1000 + i, 'Junk Root', 'Junk CA', big_spki()), b'\x01') for i in range(JUNK)]
    # A TSA certificate per token (one key): each is a leaf of its own to build a path for.
    # Its signature value of 1,024 bytes makes every junk RSA-8192 key run its modexp.
    tsas = [acert(tbs(2 + i, 'Junk CA', 'Attacker TSA', spki_of(tsa_k), eku), secrets.token_bytes(1024))
            for i in range(SIGNERS * TOKENS)]
    content = b'hello\n'
    sis = []
    serial = 0
    for n in range(SIGNERS):
        stime = attr('1.2.840.113549.1.9.5', ac.UTCTime(dt.datetime(2026, 1, 1, 0, n, tzinfo=UTC)).dump())
        _, sig = signer_info(signer_k, signer, '1.2.840.113549.1.7.1', content, [stime])
        toks = []
        for _ in range(TOKENS):
            tst = atsp.TSTInfo({'version': 1, 'policy': '1.2.3.4',
                                'message_imprint': {'hash_algorithm': {'algorithm': 'sha256'},
                                                    'hashed_message': hashlib.sha256(sig).digest()},
                                'serial_number': serial + 1, 'gen_time': dt.datetime(2026, 1, 1, tzinfo=UTC)}).dump()
            # ESS signing-certificate-v2 naming the TSA certificate (SHA-256, the default):
            # without it the token is refused before any path is built (RFC 3161 §2.4.1).
            ess = attr('1.2.840.113549.1.9.16.2.47',
                       seq(seq(seq(tlv(0x04, hashlib.sha256(tsas[serial].dump()).digest())))))
            tsi, _ = signer_info(tsa_k, tsas[serial], '1.2.840.113549.1.9.16.1.4', tst, [ess])
            toks.append(signed_data('1.2.840.113549.1.9.16.1.4', tst, [tsi], [tsas[serial]]))
            serial += 1
        si, _ = signer_info(signer_k, signer, '1.2.840.113549.1.7.1', content, [stime],
                            [attr('1.2.840.113549.1.9.16.2.14', *toks)])
        sis.append(si)
    open(os.path.join(d, 'paths.p7m'), 'wb').write(
        signed_data('1.2.840.113549.1.7.1', content, sis, [signer] + junk))
elif mode == 'attributes':
    # Signed and unsigned attributes, algorithms and ContentInfo as OpenSSL and pyHanko refuse
    # or accept them (helper 242, 2026-12-06).
    import io
    import zipfile
    from asn1crypto import cms, core, tsp
    from asn1crypto import x509 as ax509
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)
    sk = rsa.generate_private_key(65537, 2048)
    sc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Attribute Signer')), sk, rc.subject, rk)
    ok = rsa.generate_private_key(65537, 2048)
    oc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Other Signer')), ok, rc.subject, rk)
    der = lambda c: c.public_bytes(serialization.Encoding.DER)
    signer, other = ax509.Certificate.load(der(sc)), ax509.Certificate.load(der(oc))
    doc, other_doc = b'Giay phep so 1: cap cho Nguyen Van A.\n', b'Giay phep so 1: cap cho Tran Thi B.\n'
    for f, b in (('doc.txt', doc), ('other.txt', other_doc)):
        with open(os.path.join(d, f), 'wb') as out:
            out.write(b)
    signed_at = NOW - dt.timedelta(hours=1)

    def attr(t, vals):
        return cms.CMSAttribute({'type': t, 'values': vals})

    def ess(serial=None):
        return attr('signing_certificate_v2', [tsp.SigningCertificateV2({'certs': [{
            'cert_hash': hashlib.sha256(signer.dump()).digest(),
            'issuer_serial': {'issuer': [ax509.GeneralName({'directory_name': signer.issuer})],
                              'serial_number': serial if serial is not None else signer.serial_number}}]})])

    ct = attr('content_type', ['data'])
    st = attr('signing_time', [cms.Time({'utc_time': signed_at})])
    md = attr('message_digest', [hashlib.sha256(doc).digest()])
    md_other = attr('message_digest', [hashlib.sha256(other_doc).digest()])

    def ci(attrs, raw=None, alg='sha256_rsa', unsigned=None, algs=1, zeros=False):
        sa = cms.CMSAttributes(attrs)
        data = raw if raw is not None else sa.dump(force=True)
        if raw is not None:
            sa = cms.CMSAttributes.load(raw)
        sig = b'\0' * 256 if zeros else sk.sign(data, padding.PKCS1v15(), hashes.SHA256())
        si = {'version': 'v1',
              'sid': cms.SignerIdentifier({'issuer_and_serial_number': {
                  'issuer': signer.issuer, 'serial_number': signer.serial_number}}),
              'digest_algorithm': {'algorithm': 'sha256'}, 'signed_attrs': sa,
              'signature_algorithm': {'algorithm': alg}, 'signature': sig}
        if unsigned:
            si['unsigned_attrs'] = cms.CMSAttributes(unsigned)
        return cms.ContentInfo({'content_type': 'signed_data', 'content': cms.SignedData({
            'version': 'v1', 'digest_algorithms': [{'algorithm': 'sha256'}] * algs,
            'encap_content_info': {'content_type': 'data'},
            'certificates': [cms.CertificateChoices({'certificate': signer})],
            'signer_infos': [cms.SignerInfo(si)]})}).dump()

    def save(n, b):
        with open(os.path.join(d, n + '.p7s'), 'wb') as out:
            out.write(b)

    def tlv(tag, body):
        n = len(body)
        head = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, 'big')
        return bytes([tag]) + head + body

    def split(b):
        """The first TLV of `b` (DER, one-byte tag), its contents and what follows."""
        n, at = b[1], 2
        if n & 0x80:
            n, at = int.from_bytes(b[2:2 + (n & 0x7f)], 'big'), 2 + (n & 0x7f)
        return b[:at + n], b[at:at + n], b[at + n:]

    def children(b):
        """The TLVs inside the DER value `b`."""
        body, out = split(b)[1], []
        while body:
            one, _, body = split(body)
            out.append(one)
        return out

    honest = ci([ct, st, md, ess()])
    save('honest', honest)
    save('md-twice', ci([ct, st, md, md_other, ess()]))
    save('md-two-values', ci([ct, st, attr('message_digest', [hashlib.sha256(doc).digest(),
                                                               hashlib.sha256(other_doc).digest()]), ess()]))
    save('ct-twice', ci([ct, st, md, ess(), attr('content_type', ['signed_data'])]))
    save('time-twice', ci([ct, st, attr('signing_time', [cms.Time({'utc_time': NOW})]), md, ess()]))
    save('ess-serial-other', ci([ct, st, md, ess(serial=other.serial_number)]))
    # The attributes as the signer wrote and signed them, in an order DER does not sort to.
    parts = [a.dump() for a in (md, ess(), st, ct)]
    save('unsorted', ci([], raw=tlv(0x31, b''.join(parts))))
    save('ecdsa-label', ci([ct, st, md, ess()], alg='sha256_ecdsa', zeros=True))
    junk = attr('1.3.6.1.4.1.99999.1', [core.OctetString(b'note added later')])
    save('unsigned-twice', ci([ct, st, md, ess()], unsigned=[junk, junk]))
    save('algs-twice', ci([ct, st, md, ess()], algs=2))
    z = io.BytesIO()
    with zipfile.ZipFile(z, 'w') as f:
        f.writestr('lenh-chi.txt', 'Chi 900.000.000 VND cho Tran Thi B')
    zip_der = tlv(0x04, z.getvalue())
    oid, explicit = children(honest)
    save('ci-extra', tlv(0x30, oid + explicit + zip_der))
    save('explicit-extra', tlv(0x30, oid + tlv(0xa0, children(explicit)[0] + zip_der)))
    # Revoked now, an hour after the time the signature claims; nothing proves it older.
    save('revoked-later', honest)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(rc.subject)
           .last_update(NOW - dt.timedelta(minutes=1)).next_update(NOW + dt.timedelta(days=7))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(sc.serial_number)
                                    .revocation_date(NOW - dt.timedelta(minutes=2)).build())
           .sign(rk, hashes.SHA256()))
    with open(os.path.join(d, 'revoked.crl'), 'wb') as out:
        out.write(crl.public_bytes(serialization.Encoding.DER))
    # BER outside the SignerInfos (an indefinite-length encapContentInfo): the parse then
    # re-encodes everything, and a SignerInfo matched to its received bytes by its encoding
    # found none (helper 245: the unsorted attributes failed, two digests passed).
    def indefinite(tag, body):
        return bytes([tag, 0x80]) + body + b'\0\0'

    def with_ber_encap(b):
        oid, explicit = children(b)
        parts = children(children(explicit)[0])
        parts[2] = indefinite(0x30, b''.join(children(parts[2])))
        return tlv(0x30, oid + tlv(0xa0, tlv(0x30, b''.join(parts))))
    save('unsorted-ber', with_ber_encap(open(os.path.join(d, 'unsorted.p7s'), 'rb').read()))
    # One message-digest attribute holding the same value twice, an edit made after signing
    # (helper 246: checked against a copy of kyso's making, it passed); and a private attribute
    # whose value the signer wrote in BER, signed as written, in a BER SignedData (re-encoded
    # whole, it failed).
    def digest_rewritten(b, values):
        """`b` with its message-digest attribute's values (a SET's contents) made by
        `values(value)` from the one value it signed, after signing."""
        oid, explicit = children(b)
        sd = children(children(explicit)[0])
        si = children(children(sd[-1])[0])
        attrs = children(si[3])
        for n, a in enumerate(attrs):
            t, vals = children(a)
            if t == tlv(0x06, bytes.fromhex('2a864886f70d010904')):
                attrs[n] = tlv(0x30, t + tlv(0x31, values(children(vals)[0])))
        si[3] = tlv(0xa0, b''.join(attrs))
        sd[-1] = tlv(0x31, tlv(0x30, b''.join(si)))
        return tlv(0x30, oid + tlv(0xa0, tlv(0x30, b''.join(sd))))
    save('md-same-twice', digest_rewritten(honest, lambda v: v + v))
    # The message digest written as a constructed OCTET STRING of two pieces, after signing
    # (the signature is over DER, as RFC 5652 §5.4 asks; OpenSSL accepts it).
    save('md-pieces', digest_rewritten(honest, lambda v: tlv(0x24, tlv(0x04, split(v)[1][:16]) + tlv(0x04, split(v)[1][16:]))))
    ber_value = bytes([0x30, 0x80]) + tlv(0x0c, b'ghi chu') + b'\0\0'
    private = tlv(0x30, tlv(0x06, bytes.fromhex('2b0601040182e4ff0101')) + tlv(0x31, ber_value))
    save('ber-value', with_ber_encap(ci([], raw=tlv(0x31, ct.dump() + md.dump() + ess().dump() + private))))
    save('md-twice-ber', with_ber_encap(open(os.path.join(d, 'md-twice.p7s'), 'rb').read()))
    # A private attribute whose value is a context-specific primitive [0] with a long-form
    # length, signed as written: OpenSSL keeps a value of a class other than universal whole
    # (helper 248: re-encoded with a minimal length, it failed).
    ctx_value = tlv(0x30, tlv(0x06, bytes.fromhex('2b0601040182e4ff0105')) + tlv(0x31, b'\x80\x81\x03abc'))
    save('ctx-long-length', ci([], raw=tlv(0x31, ct.dump() + md.dump() + ess().dump() + st.dump() + ctx_value)))
    # 60,000 private attributes of distinct types beside the honest ones, signed: each type was
    # searched for among all those before it (helper 248: 100,000 took 47 s, before any
    # signature check).
    many = [tlv(0x30, core.ObjectIdentifier('1.3.6.1.4.1.99999.7.%d' % i).dump() + tlv(0x31, tlv(0x05, b'')))
            for i in range(60000)]
    save('many-attribute-types', ci([], raw=tlv(0x31, b''.join(sorted([ct.dump(), md.dump(), ess().dump(), st.dump()] + many)))))
    # Two signers: OpenSSL writes their SignerInfos in byte order, the parse sorts them by value,
    # which differs for about seven pairs of random serial numbers in ten — each was then
    # checked against the other's attributes, and failed (helper 245). Twelve pairs.
    for n in range(12):
        pair = []
        for tag in ('one', 'two'):
            k = rsa.generate_private_key(65537, 2048)
            c = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, f'Signer {tag} {n}')), k, rc.subject, rk)
            pem(os.path.join(d, tag + '.pem'), c)
            key_pem(os.path.join(d, tag + '.key'), k)
        sh('openssl', 'cms', '-sign', '-binary', '-cades', '-in', 'doc.txt', '-md', 'sha256',
           '-signer', 'one.pem', '-inkey', 'one.key', '-signer', 'two.pem', '-inkey', 'two.key',
           '-outform', 'DER', '-out', f'two-signers-{n}.p7s', cwd=d)
    # A content time-stamp among the signed attributes (EN 319 122-1 §5.2.8), made by
    # `openssl ts` with milliseconds in its genTime: an honest shape the matching of received
    # and parsed attributes must keep whole.
    tk = rsa.generate_private_key(65537, 2048)
    tc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Content TSA')), tk, rc.subject, rk,
                   extra=[(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), True)])
    pem(os.path.join(d, 'tsa.pem'), tc)
    key_pem(os.path.join(d, 'tsa.key'), tk)
    with open(os.path.join(d, 'ts.cnf'), 'w') as f:
        f.write(f"""[tsa]
default_tsa = t
[t]
dir = {d}
serial = {d}/ts.serial
crypto_device = builtin
signer_cert = {d}/tsa.pem
signer_key = {d}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
clock_precision_digits = 3
ess_cert_id_alg = sha256
""")
    with open(os.path.join(d, 'ts.serial'), 'w') as f:
        f.write('01\n')
    sh('openssl', 'ts', '-query', '-data', 'doc.txt', '-sha256', '-cert', '-no_nonce', '-out', 'ct.tsq', cwd=d)
    sh('openssl', 'ts', '-reply', '-config', 'ts.cnf', '-queryfile', 'ct.tsq', '-out', 'ct.tsr', cwd=d)
    token = tsp.TimeStampResp.load(open(os.path.join(d, 'ct.tsr'), 'rb').read())['time_stamp_token']
    assert b'.' in token['content']['encap_content_info']['content'].parsed['gen_time'].contents
    content_ts = cms.CMSAttribute({'type': '1.2.840.113549.1.9.16.2.20', 'values': [token]})
    # (Signed in the order written, not DER's: the bytes covered are the attributes as received.)
    save('content-ts', ci([], raw=tlv(0x31, b''.join(a.dump() for a in (content_ts, md, ess(), st, ct)))))
    # OpenSSL, for the record: what it refuses and accepts of these.
    for n in ('honest', 'md-twice', 'unsorted', 'unsigned-twice', 'algs-twice', 'ci-extra', 'explicit-extra',
              'unsorted-ber', 'md-twice-ber', 'two-signers-0', 'content-ts', 'md-same-twice', 'ber-value', 'md-pieces',
              'ctx-long-length', 'many-attribute-types'):
        r = subprocess.run(['openssl', 'cms', '-verify', '-binary', '-inform', 'DER', '-in', n + '.p7s',
                            '-content', 'doc.txt', '-CAfile', 'root.pem', '-purpose', 'any', '-out', '/dev/null'],
                           cwd=d, capture_output=True)
        print(n, 'openssl:', 'accepts' if r.returncode == 0 else 'refuses')
elif mode == 'trust-paths':
    # Certification paths through trusted intermediates, repeated extensions, algorithm
    # mismatches and a proof of existence older than a CA (helper 243, 2026-12-06).
    from asn1crypto import algos, cms, core, tsp
    from asn1crypto import x509 as ax509
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)
    der = lambda c: c.public_bytes(serialization.Encoding.DER)

    def ca(cn, issuer, issuer_key, days_back=30):
        k = rsa.generate_private_key(65537, 2048)
        return make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, cn)), k, issuer, issuer_key,
                         ca=True, days_back=days_back), k

    def leaf(cn, issuer, issuer_key, days_back=30, extra=()):
        k = rsa.generate_private_key(65537, 2048)
        return make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, cn)), k, issuer, issuer_key,
                         days_back=days_back, extra=extra), k

    def crl(issuer, key, serials):
        b = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
             .last_update(NOW - dt.timedelta(minutes=1)).next_update(NOW + dt.timedelta(days=7)))
        for s in serials:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(s)
                                          .revocation_date(NOW - dt.timedelta(days=2)).build())
        return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def write(n, b):
        with open(os.path.join(d, n), 'wb') as f:
            f.write(b)

    def resigned(cert, issuer_key, edit):
        """`cert` with its TBS edited by asn1crypto and signed again by `issuer_key`."""
        c = ax509.Certificate.load(der(cert))
        tbs = c['tbs_certificate']
        edit(tbs)
        body = tbs.dump(force=True)
        return ax509.Certificate({'tbs_certificate': tbs, 'signature_algorithm': c['signature_algorithm'],
                                  'signature_value': issuer_key.sign(body, padding.PKCS1v15(), hashes.SHA256())}).dump()

    def signed(out, cert_der, key, chain_pems):
        with open(os.path.join(d, 's.pem'), 'wb') as f:
            f.write(x509.load_der_x509_certificate(cert_der).public_bytes(serialization.Encoding.PEM))
        key_pem(os.path.join(d, 's.key'), key)
        with open(os.path.join(d, 'chain.pem'), 'wb') as f:
            for c in chain_pems:
                f.write(c.public_bytes(serialization.Encoding.PEM))
        sh('openssl', 'cms', '-sign', '-binary', '-in', 'doc.txt', '-signer', 's.pem', '-inkey', 's.key',
           '-certfile', 'chain.pem', '-md', 'sha256', '-outform', 'DER', '-out', out, cwd=d)

    write('doc.txt', b'Quyet dinh so 12: cap phep xay dung.\n')
    sc, sk = ca('Sub CA', rc.subject, rk)
    lc, lk = leaf('Signer', sc.subject, sk)
    with open(os.path.join(d, 'root-and-sub.pem'), 'wb') as f:
        f.write(rc.public_bytes(serialization.Encoding.PEM) + sc.public_bytes(serialization.Encoding.PEM))
    write('root.crl', crl(rc.subject, rk, [sc.serial_number]))
    write('sub.crl', crl(sc.subject, sk, []))
    signed('revoked-sub.p7s', der(lc), lk, [sc])
    # An older certificate of the same Sub CA (same name, same key), expired, in the signature:
    # taken before the trusted current one, the path failed as expired (helper 245).
    old_sub = (x509.CertificateBuilder().subject_name(sc.subject).issuer_name(rc.subject)
               .public_key(sk.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - dt.timedelta(days=400)).not_valid_after(NOW - dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .sign(rk, hashes.SHA256()))
    signed('stale-sub.p7s', der(lc), lk, [old_sub])
    with open(os.path.join(d, 'root-old-and-sub.pem'), 'wb') as f:
        for c in (rc, old_sub, sc):
            f.write(c.public_bytes(serialization.Encoding.PEM))
    signed('current-sub.p7s', der(lc), lk, [sc])
    # A renewal of the Sub CA pre-dated into next month (same name and key), carried after the
    # current one: sorted first by its later end, it failed the path (helper 247).
    renewal = (x509.CertificateBuilder().subject_name(sc.subject).issuer_name(rc.subject)
               .public_key(sk.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW + dt.timedelta(days=30)).not_valid_after(NOW + dt.timedelta(days=3000))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .sign(rk, hashes.SHA256()))
    signed('renewal-carried.p7s', der(lc), lk, [sc, renewal])
    # A key rollover's link certificate (the root's name, a new key, signed by the old key),
    # expired, on the trust list beside the old root: self-issued but not self-signed, it is
    # no root (helper 246: taken for one, its dates went unchecked).
    nk = rsa.generate_private_key(65537, 2048)
    link = (x509.CertificateBuilder().subject_name(rc.subject).issuer_name(rc.subject)
            .public_key(nk.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=400)).not_valid_after(NOW - dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(rk, hashes.SHA256()))
    with open(os.path.join(d, 'root-and-link.pem'), 'wb') as f:
        for c in (rc, link):
            f.write(c.public_bytes(serialization.Encoding.PEM))
    rolled, rolled_key = leaf('Signer Under New Key', rc.subject, nk)
    signed('rolled.p7s', der(rolled), rolled_key, [link])
    # The signer's certificate with its CRL distribution points given twice.
    dp = x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier('http://127.0.0.1:9/sub.crl')], None, None, None)])
    tc, tk = leaf('Signer Twice', sc.subject, sk, extra=((dp, False),))

    def twice(tbs):
        exts = tbs['extensions']
        dup = [e for e in exts if e['extn_id'].native == 'crl_distribution_points'][0]
        tbs['extensions'] = ax509.Extensions(list(exts) + [ax509.Extension.load(dup.dump())])
    signed('crldp-twice.p7s', resigned(tc, sk, twice), tk, [sc])

    # The TBS names md5WithRSA; the issuer signed with SHA-256 (the outer field says so).
    mc, mk = leaf('Signer Mismatch', sc.subject, sk)

    def md5(tbs):
        tbs['signature'] = algos.SignedDigestAlgorithm({'algorithm': 'md5_rsa'})
    signed('alg-mismatch.p7s', resigned(mc, sk, md5), mk, [sc])

    # A Sub CA valid from 5 days ago, its signer from 30 days ago, and a time-stamp of 10.
    yc, yk = ca('Young Sub CA', rc.subject, rk, days_back=5)
    oc, ok = leaf('Signer Older Than Its CA', yc.subject, yk, days_back=30)
    signed('poe-before-ca.p7s', der(oc), ok, [yc])
    trk = rsa.generate_private_key(65537, 2048)
    trn = name(x509.NameAttribute(NameOID.COMMON_NAME, 'TSA Root'))
    trc = make_cert(trn, trk, trn, trk, ca=True, days_back=60)
    tak = rsa.generate_private_key(65537, 2048)
    tac = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'TSA')), tak, trn, trk, days_back=60,
                    extra=((x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), True),))
    pem(os.path.join(d, 'tsa-root.pem'), trc)
    def stamped(n, days_ago, tsa_cert, tsa_key):
        """The signature in file `n` with a signature time-stamp of `days_ago` days ago by
        `tsa_cert`, a token built by asn1crypto, signed by pyca/cryptography."""
        ci = cms.ContentInfo.load(open(os.path.join(d, n), 'rb').read())
        si = ci['content']['signer_infos'][0]
        gen = (NOW - dt.timedelta(days=days_ago)).replace(microsecond=0)
        tst = tsp.TSTInfo({'version': 'v1', 'policy': '1.2.3.4.1',
                           'message_imprint': {'hash_algorithm': {'algorithm': 'sha256'},
                                               'hashed_message': hashlib.sha256(si['signature'].native).digest()},
                           'serial_number': 7, 'gen_time': gen}).dump()
        ta = ax509.Certificate.load(der(tsa_cert))
        attrs = cms.CMSAttributes([
            cms.CMSAttribute({'type': 'content_type', 'values': ['tst_info']}),
            cms.CMSAttribute({'type': 'message_digest', 'values': [hashlib.sha256(tst).digest()]}),
            cms.CMSAttribute({'type': 'signing_certificate_v2', 'values': [tsp.SigningCertificateV2(
                {'certs': [{'cert_hash': hashlib.sha256(ta.dump()).digest()}]})]})])
        token = cms.ContentInfo({'content_type': 'signed_data', 'content': cms.SignedData({
            'version': 'v3', 'digest_algorithms': [{'algorithm': 'sha256'}],
            'encap_content_info': {'content_type': 'tst_info', 'content': core.ParsableOctetString(tst)},
            'certificates': [cms.CertificateChoices({'certificate': ta})],
            'signer_infos': [cms.SignerInfo({
                'version': 'v1', 'sid': cms.SignerIdentifier({'issuer_and_serial_number': {
                    'issuer': ta.issuer, 'serial_number': ta.serial_number}}),
                'digest_algorithm': {'algorithm': 'sha256'}, 'signed_attrs': attrs,
                'signature_algorithm': {'algorithm': 'sha256_rsa'},
                'signature': tsa_key.sign(attrs.dump(force=True), padding.PKCS1v15(), hashes.SHA256())})]})})
        si['unsigned_attrs'] = cms.CMSAttributes([cms.CMSAttribute(
            {'type': 'signature_time_stamp_token', 'values': [token]})])
        write(n, ci.dump())
    stamped('poe-before-ca.p7s', 10, tac, tak)

    # A Sub CA renewed with the same name and key: signed (faketime) and time-stamped 200 days
    # ago under the old certificate (valid then, expired 10 days ago), the renewal (valid from
    # 30 days ago) carried beside it or given with --certs. Built for today's validity, the path
    # took the renewal and failed as not yet valid at the time-stamp's time (helper 248;
    # OpenSSL `-attime` and pyHanko pass it).
    ark = rsa.generate_private_key(65537, 2048)
    arn = name(x509.NameAttribute(NameOID.COMMON_NAME, 'Renewal Root'))
    arc = make_cert(arn, ark, arn, ark, ca=True, days_back=3000)
    pem(os.path.join(d, 'renewal-root.pem'), arc)
    rsk = rsa.generate_private_key(65537, 2048)
    rsn = name(x509.NameAttribute(NameOID.COMMON_NAME, 'Renewed Sub CA'))

    def sub_cert(start, end):
        return (x509.CertificateBuilder().subject_name(rsn).issuer_name(arn).public_key(rsk.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(NOW + dt.timedelta(days=start)).not_valid_after(NOW + dt.timedelta(days=end))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(ark, hashes.SHA256()))
    old_rs, new_rs = sub_cert(-400, -10), sub_cert(-30, 1000)
    pem(os.path.join(d, 'renewed-sub-ca.pem'), new_rs)
    rlc, rlk = leaf('Signer Under Renewed CA', rsn, rsk, days_back=300)
    rtc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Renewal TSA')), tak, arn, ark, days_back=400,
                    extra=((x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), True),))
    pem(os.path.join(d, 'rs.pem'), rlc)
    key_pem(os.path.join(d, 'rs.key'), rlk)
    past = (NOW - dt.timedelta(days=200)).strftime('%Y-%m-%d %H:%M:%S')
    for n, chain in (('renewed-sub.p7s', [old_rs, new_rs]), ('renewed-sub-given.p7s', [old_rs])):
        with open(os.path.join(d, 'rs-chain.pem'), 'wb') as f:
            for c in chain:
                f.write(c.public_bytes(serialization.Encoding.PEM))
        subprocess.run(['faketime', '-f', '@' + past, 'openssl', 'cms', '-sign', '-binary', '-in', 'doc.txt',
                        '-signer', 'rs.pem', '-inkey', 'rs.key', '-certfile', 'rs-chain.pem', '-md', 'sha256',
                        '-outform', 'DER', '-out', n], cwd=d, check=True, env=dict(os.environ, TZ='UTC'))
        stamped(n, 200, rtc, tak)

    # The Sub CA trusted, its root absent, an unrelated root trusted beside it; 120 certificates
    # named like the Sub CA (other keys) appended to the signature, as anyone may: each had to
    # be ruled out by a signature check before the path could end at the trusted Sub CA, and
    # the budget ran out (helper 248; OpenSSL -partial_chain and pyHanko pass it).
    from cryptography.hazmat.primitives.asymmetric import ec
    with open(os.path.join(d, 'other-root-and-sub.pem'), 'wb') as f:
        f.write(trc.public_bytes(serialization.Encoding.PEM) + sc.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(d, 'root-other-root-and-sub.pem'), 'wb') as f:
        for c in (rc, trc, sc):
            f.write(c.public_bytes(serialization.Encoding.PEM))
    fk = ec.generate_private_key(ec.SECP256R1())
    ci = cms.ContentInfo.load(open(os.path.join(d, 'current-sub.p7s'), 'rb').read())
    look_alikes = [cms.CertificateChoices({'certificate': ax509.Certificate.load(der(
        x509.CertificateBuilder().subject_name(sc.subject).issuer_name(rc.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(1000 + i).not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(fk, hashes.SHA256())))}) for i in range(120)]
    carried = list(ci['content']['certificates'])
    ci['content']['certificates'] = cms.CertificateSet(carried + look_alikes)
    write('flooded-sub.p7s', ci.dump(force=True))
    # The same flood and one more certificate named like the Sub CA's absent root: a junk one
    # self-signed by another key, or the real root itself, untrusted (signers often embed it).
    # Judged by names, either turned off a fallback tried on 2026-12-07 (helper 251); there is
    # none now, and all three floods read INDETERMINATE.
    junk_root = (x509.CertificateBuilder().subject_name(rc.subject).issuer_name(rc.subject)
                 .public_key(fk.public_key()).serial_number(7).not_valid_before(NOW - dt.timedelta(days=30))
                 .not_valid_after(NOW + dt.timedelta(days=30))
                 .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                 .sign(fk, hashes.SHA256()))
    for n, extra in (('flooded-sub-root-named.p7s', junk_root), ('flooded-sub-with-root.p7s', rc)):
        ci['content']['certificates'] = cms.CertificateSet(
            carried + look_alikes + [cms.CertificateChoices({'certificate': ax509.Certificate.load(der(extra))})])
        write(n, ci.dump(force=True))

    # One Sub CA trusted twice (same name and key): under an old root no longer at hand (a
    # root rollover), and under the trusted root, which revoked it. Honest verdict: revoked.
    # Certificates named like the old root, appended, used up the search above the first
    # alias; a fallback tried on 2026-12-07 then ended the path there, the revocation never
    # looked at (helper 252: TOTAL-PASSED). Never TOTAL-PASSED now.
    old_root_name = name(x509.NameAttribute(NameOID.COMMON_NAME, 'Retired Root G1'))
    ork = rsa.generate_private_key(65537, 2048)
    ask = rsa.generate_private_key(65537, 2048)
    asn = name(x509.NameAttribute(NameOID.COMMON_NAME, 'Rolled Over Sub CA'))

    def alias(issuer, issuer_key):
        return (x509.CertificateBuilder().subject_name(asn).issuer_name(issuer).public_key(ask.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=30))
                .not_valid_after(NOW + dt.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256()))
    a_old, a_new = alias(old_root_name, ork), alias(rc.subject, rk)
    with open(os.path.join(d, 'root-and-both-aliases.pem'), 'wb') as f:
        for c in (rc, a_old, a_new):
            f.write(c.public_bytes(serialization.Encoding.PEM))
    write('alias-root.crl', crl(rc.subject, rk, [a_new.serial_number]))
    write('alias-sub.crl', crl(asn, ask, []))
    ac, ak = leaf('Signer Under Rolled Over CA', asn, ask)
    signed('alias-revoked.p7s', der(ac), ak, [a_new])
    ci = cms.ContentInfo.load(open(os.path.join(d, 'alias-revoked.p7s'), 'rb').read())
    flood = [cms.CertificateChoices({'certificate': ax509.Certificate.load(der(
        x509.CertificateBuilder().subject_name(old_root_name).issuer_name(old_root_name)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(2000 + i).not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(fk, hashes.SHA256())))}) for i in range(110)]
    ci['content']['certificates'] = cms.CertificateSet(list(ci['content']['certificates']) + flood)
    write('alias-revoked-flooded.p7s', ci.dump(force=True))
    # The same with the re-issue's name written otherwise — in capitals, or as a
    # PrintableString — which the search links as the same name: compared as bytes, it was
    # not counted as the same CA and the flood passed again (helper 254).
    for tag, cn in (('case', x509.NameAttribute(NameOID.COMMON_NAME, 'ROLLED OVER SUB CA')),
                    ('printable', x509.NameAttribute(NameOID.COMMON_NAME, 'Rolled Over Sub CA',
                                                     _type=_ASN1Type.PrintableString))):
        other = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(rc.subject)
                 .public_key(ask.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(NOW - dt.timedelta(days=30)).not_valid_after(NOW + dt.timedelta(days=30))
                 .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                 .sign(rk, hashes.SHA256()))
        with open(os.path.join(d, f'root-and-{tag}-aliases.pem'), 'wb') as f:
            for c in (rc, a_old, other):
                f.write(c.public_bytes(serialization.Encoding.PEM))
        write(f'alias-{tag}-root.crl', crl(rc.subject, rk, [other.serial_number]))
        signed(f'alias-{tag}.p7s', der(ac), ak, [other])
        ci = cms.ContentInfo.load(open(os.path.join(d, f'alias-{tag}.p7s'), 'rb').read())
        ci['content']['certificates'] = cms.CertificateSet(list(ci['content']['certificates']) + flood)
        write(f'alias-{tag}-flooded.p7s', ci.dump(force=True))
elif mode == 'extend-inputs':
    # Inputs `kyso extend` refused as if validation data were missing (helper 244, 2026-12-06).
    from asn1crypto import cms
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from cryptography.x509.oid import ExtendedKeyUsageOID
    d = sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rc, rk = root(d)
    sk = rsa.generate_private_key(65537, 2048)
    sc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'Signer')), sk, rc.subject, rk)
    tk = rsa.generate_private_key(65537, 2048)
    tc = make_cert(name(x509.NameAttribute(NameOID.COMMON_NAME, 'TSA')), tk, rc.subject, rk, days_back=10,
                   extra=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)])
    for tag, c, k in (('signer', sc, sk), ('tsa', tc, tk)):
        pem(os.path.join(d, tag + '.pem'), c)
        key_pem(os.path.join(d, tag + '.key'), k)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(rc.subject)
           .last_update(NOW - dt.timedelta(minutes=1)).next_update(NOW + dt.timedelta(days=7))
           .sign(rk, hashes.SHA256()))
    with open(os.path.join(d, 'root.crl'), 'wb') as f:
        f.write(crl.public_bytes(serialization.Encoding.DER))
    signer = signers.SimpleSigner.load(os.path.join(d, 'signer.key'), os.path.join(d, 'signer.pem'),
                                       ca_chain_files=[os.path.join(d, 'root.pem')])
    stamper = timestamps.DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(os.path.join(d, 'tsa.pem')),
        tsa_key=load_private_key_from_pemder(os.path.join(d, 'tsa.key'), None))
    w = IncrementalPdfFileWriter(open(FIXTURE, 'rb'), strict=False)
    meta = signers.PdfSignatureMetadata(field_name='Signature1', subfilter=SigSeedSubFilter.PADES)
    bt = signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(w)
    out = signers.PdfTimeStamper(stamper).timestamp_pdf(IncrementalPdfFileWriter(bt, strict=False), 'sha256')
    with open(os.path.join(d, 'bt-docts.pdf'), 'wb') as f:
        f.write(out.getvalue())
    with open(os.path.join(d, 'doc.txt'), 'wb') as f:
        f.write(b'Quyet dinh so 7: cap giay phep.\n')
    sh('openssl', 'cms', '-sign', '-binary', '-cades', '-in', 'doc.txt', '-signer', 'signer.pem',
       '-inkey', 'signer.key', '-md', 'sha256', '-outform', 'DER', '-out', 'bb.p7s', cwd=d)
    ci = cms.ContentInfo.load(open(os.path.join(d, 'bb.p7s'), 'rb').read())
    si = ci['content']['signer_infos'][0]
    si['unsigned_attrs'] = cms.CMSAttributes([cms.CMSAttribute(
        {'type': 'signature_time_stamp_token', 'values': []})])
    with open(os.path.join(d, 'empty-ts.p7s'), 'wb') as f:
        f.write(ci.dump())
else:
    sys.exit(f'unknown mode {mode}')
