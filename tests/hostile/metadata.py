"""An E-ARK zip whose descriptive metadata (tt05-2025.xml) or PREMIS (premis.xml) a forger
edited, the root METS's checksum (and size) of that file made to match, rezipped with Python's
zipfile (stored; every other entry as it was). tests/bag_hostile.rs.

    metadata.py SRC.zip OUT.zip KIND

KIND: subject, pages, drop, duplicate, unknown, doctype (tt05-2025.xml); digest, outcome (premis.xml);
format-claim, format-drop, format-add (premis.xml of a package whose record 0 declares PDF/A-1b
and record 1 no PDF/A: record 0's format identification event made to name PDF/A-2b, or taken
out; record 1 given a copy of it, tests/export_cli.rs); registry-key, registry-drop, registry-add,
registry-move (that package's premis.xml: the PRONOM identifier on record 0's document object
made fmt/477, taken out, copied onto record 1's document object, or moved onto record 0's
metadata.json object); registry-flood (registry-key behind 120 objects of files not there, about
record 1: more findings than a report lists);
reformat (both files rewritten by ElementTree, same values: prefixes renamed, attributes in
another order, no XML declaration — not a forgery); mets-label, mets-agent, mets-date, mets-div
(the root METS itself: its LABEL, its creator agent's name, the header's CREATEDATE alone, a
structural division's label), mets-drop-readme (documentation/README.txt taken out of the zip
and of the METS), mets-move-fptr (the documentation's fptr moved into the schemas' division),
mets-prefixed-label (LABEL written mets:LABEL, another attribute to a METS reader), mets-pi (a
stylesheet processing instruction), mets-bomb (a METS of a 1 MiB element name and 65,000
elements under it: gigabytes if every path copied it), mets-xmlns, mets-attrs (200,000
namespace declarations, or attributes, on its root element: the declarations took 277 s of
quadratic work until 2026-12-04); rep-crlf (manifest-sha256.txt with CRLF
line ends, which BagIt readers take, and a file's SIZE in the representation's METS edited);
rep-size, rep-label (the representation's METS: a file's SIZE,
its LABEL; the root METS's checksum of it made to match); renewal-time, renewal-tsa (premis-renewal-1.xml of a renewed
package: the event's time, the TSA agent's name), renewal-xsi (the token object's xsi:type in
another namespace).
"""

import hashlib
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

src, out, kind = sys.argv[1:4]
zin = zipfile.ZipFile(src)
names = [i.filename for i in zin.infolist()]
top = names[0].split("/")[0]
TT05 = top + "/metadata/descriptive/tt05-2025.xml"
PREMIS = top + "/metadata/preservation/premis.xml"
METS = top + "/METS.xml"


def one(pattern, text, repl, flags=0):
    new, n = re.subn(pattern, repl, text, count=1, flags=flags)
    assert n == 1, (kind, pattern)
    return new


def tai_lieu(text, rid):
    """The span of record rid's <taiLieu> (with its line's indentation and newline)."""
    m = re.search(r"  <taiLieu>\n    <maDinhDanh>[^<]*#%d</maDinhDanh>.*?</taiLieu>\n" % rid, text, re.S)
    assert m, rid
    return m


def reformat(text):
    root = ET.fromstring(text)
    for el in root.iter():
        items = list(el.attrib.items())
        el.attrib.clear()
        el.attrib.update(reversed(items))
    return ET.tostring(root, encoding="unicode")


edits = {}
tt05 = zin.read(TT05).decode("utf-8")
premis = zin.read(PREMIS).decode("utf-8")
if kind == "subject":
    m = tai_lieu(tt05, 0)
    t = one(r"<chuTheDuLieu>[^<]*</chuTheDuLieu>", m.group(0), "<chuTheDuLieu>001099999999</chuTheDuLieu>")
    edits[TT05] = tt05[: m.start()] + t + tt05[m.end():]
elif kind == "pages":
    m = tai_lieu(tt05, 0)
    t = one(r"<soLuongTrang>(\d+)</soLuongTrang>", m.group(0), lambda n: "<soLuongTrang>%d</soLuongTrang>" % (int(n.group(1)) + 1))
    edits[TT05] = tt05[: m.start()] + t + tt05[m.end():]
elif kind == "drop":
    m = tai_lieu(tt05, 1)
    edits[TT05] = tt05[: m.start()] + tt05[m.end():]
elif kind == "duplicate":
    m = tai_lieu(tt05, 0)
    edits[TT05] = tt05[: m.end()] + m.group(0) + tt05[m.end():]
elif kind == "unknown":
    m = tai_lieu(tt05, 0)
    t = one(r"(</maDinhDanh>\n)", m.group(0), r"\1    <ghiChu>bản sao đã chỉnh sửa</ghiChu>\n")
    edits[TT05] = tt05[: m.start()] + t + tt05[m.end():]
elif kind == "doctype":
    t = one(r"(<\?xml[^>]*\?>\n)", tt05, r'\1<!DOCTYPE duLieuLuuTru [<!ENTITY cq "UBND tỉnh Hà Nội">]>\n')
    m = tai_lieu(t, 0)
    u = one(r"<coQuanBanHanh>[^<]*</coQuanBanHanh>", m.group(0), "<coQuanBanHanh>&cq;</coQuanBanHanh>")
    edits[TT05] = t[: m.start()] + u + t[m.end():]
elif kind == "digest":
    m = [m for m in re.finditer(r"<premis:object .*?</premis:object>", premis, re.S)
         if "/records/0/document.pdf</premis:objectIdentifierValue>" in m.group(0)][0]
    o = m.group(0)
    d = re.search(r"<premis:messageDigest>([0-9a-f]+)</premis:messageDigest>", o)
    h = d.group(1)
    forged = ("0" if h[0] != "0" else "1") + h[1:]
    edits[PREMIS] = premis[: m.start()] + o.replace(h, forged) + premis[m.end():]
elif kind == "outcome":
    m = re.search(r"<premis:eventIdentifierValue>validation-0</premis:eventIdentifierValue>.*?</premis:event>", premis, re.S)
    assert m
    e = one(r"<premis:eventOutcome>[^<]*</premis:eventOutcome>", m.group(0), "<premis:eventOutcome>TOTAL-FAILED</premis:eventOutcome>")
    edits[PREMIS] = premis[: m.start()] + e + premis[m.end():]
elif kind.startswith("format-"):
    ev = r"  <premis:event>\n    <premis:eventIdentifier><premis:eventIdentifierType>local</premis:eventIdentifierType><premis:eventIdentifierValue>format-%d</premis:eventIdentifierValue>.*?</premis:event>\n"
    m = re.search(ev % 0, premis, re.S)
    assert m
    if kind == "format-claim":
        e = one(r"declares PDF/A-1b", m.group(0), "declares PDF/A-2b")
        edits[PREMIS] = premis[: m.start()] + e + premis[m.end():]
    elif kind == "format-drop":
        edits[PREMIS] = premis[: m.start()] + premis[m.end():]
    else:
        assert not re.search(ev % 1, premis, re.S)
        e = m.group(0).replace("format-0<", "format-1<").replace("/records/0/", "/records/1/")
        v = re.search(r"<premis:eventIdentifierValue>validation-1</premis:eventIdentifierValue>.*?</premis:event>\n", premis, re.S)
        assert v
        edits[PREMIS] = premis[: v.end()] + e + premis[v.end():]
elif kind.startswith("registry-"):
    def obj(rid, name):
        m = [m for m in re.finditer(r"<premis:object .*?</premis:object>", premis, re.S)
             if "/records/%d/%s</premis:objectIdentifierValue>" % (rid, name) in m.group(0)]
        assert len(m) == 1, (rid, name)
        return m[0]
    reg = r"<premis:formatRegistry>.*?</premis:formatRegistry>"
    m = obj(0, "document.pdf")
    r = re.search(reg, m.group(0)).group(0)
    if kind in ("registry-key", "registry-flood"):
        edited = premis[: m.start()] + one("fmt/354<", m.group(0), "fmt/477<") + premis[m.end():]
        if kind == "registry-flood":
            # 120 objects of files that are not there, about record 1, before it: the
            # findings listed fill up before record 0's is found.
            bogus = "".join(
                '  <premis:object xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="premis:file">'
                "<premis:objectIdentifier><premis:objectIdentifierType>local</premis:objectIdentifierType>"
                "<premis:objectIdentifierValue>representations/rep1/data/records/1/x%d</premis:objectIdentifierValue>"
                "</premis:objectIdentifier></premis:object>\n" % i for i in range(120))
            edited = edited.replace("  <premis:object ", bogus + "  <premis:object ", 1)
        edits[PREMIS] = edited
    elif kind == "registry-drop":
        edits[PREMIS] = premis[: m.start()] + one(reg, m.group(0), "") + premis[m.end():]
    else:
        # Record 0's registry copied onto record 1's document (add) or moved onto record 0's
        # metadata.json (move).
        t = obj(1, "document.pdf") if kind == "registry-add" else obj(0, "metadata.json")
        assert "formatRegistry" not in t.group(0)
        u = one(r"(</premis:formatDesignation>)", t.group(0), lambda x: x.group(1) + r)
        edited = premis[: t.start()] + u + premis[t.end():]
        if kind == "registry-move":
            m = re.search(re.escape(m.group(0)), edited)
            edited = edited[: m.start()] + one(reg, m.group(0), "") + edited[m.end():]
        edits[PREMIS] = edited
elif kind == "reformat":
    edits[TT05] = reformat(tt05)
    edits[PREMIS] = reformat(premis)
elif kind.startswith("renewal-"):
    name = top + "/metadata/preservation/premis-renewal-1.xml"
    r = zin.read(name).decode("utf-8")
    if kind == "renewal-time":
        r = one(r"<premis:eventDateTime>(\d{4})", r, lambda m: "<premis:eventDateTime>%d" % (int(m.group(1)) - 1))
    elif kind == "renewal-xsi":
        r = one(r'xsi:type="premis:file"', r, 'xmlns:evil="urn:example:evil" xsi:type="evil:file"')
    else:
        r = one(r"<premis:agentName>(?!kyso<)[^<]*</premis:agentName>", r, "<premis:agentName>Cục Chứng thực số</premis:agentName>")
    edits[name] = r
elif kind.startswith("rep-"):
    name = top + "/representations/rep1/METS.xml"
    r = zin.read(name).decode("utf-8")
    if kind in ("rep-size", "rep-crlf"):
        r = one(r'SIZE="(\d+)"', r, lambda m: 'SIZE="%d"' % (int(m.group(1)) + 1))
        if kind == "rep-crlf":
            name256 = top + "/metadata/preservation/manifest-sha256.txt"
            edits[name256] = zin.read(name256).decode("utf-8").replace("\n", "\r\n")
    else:
        r = one(r'LABEL="rep1"', r, 'LABEL="Bản gốc"')
    edits[name] = r
elif not kind.startswith("mets-"):
    sys.exit("unknown kind " + kind)

mets = zin.read(METS).decode("utf-8")
if kind == "mets-label":
    mets = one(r'LABEL="(\d+) records exported by kyso"', mets, lambda m: 'LABEL="%d records exported by kyso"' % (int(m.group(1)) + 1))
elif kind == "mets-agent":
    mets = one(r"<mets:name>kyso</mets:name>", mets, "<mets:name>Trung tâm Lưu trữ lịch sử</mets:name>")
elif kind == "mets-date":
    mets = one(r'CREATEDATE="(\d{4})', mets, lambda m: 'CREATEDATE="%d' % (int(m.group(1)) - 1))
elif kind == "mets-div":
    mets = one(r'LABEL="Documentation"', mets, 'LABEL="Tài liệu"')
elif kind == "mets-move-fptr":
    mets = one(r'(<mets:div ID="div-documentation" LABEL="Documentation">)<mets:fptr FILEID="filegrp-documentation"/>', mets, r"\1")
    mets = one(r'(<mets:div ID="div-schemas" LABEL="Schemas">)', mets, r'\1<mets:fptr FILEID="filegrp-documentation"/>')
elif kind == "mets-prefixed-label":
    mets = one(r' LABEL="Documentation"', mets, ' mets:LABEL="Documentation"')
elif kind == "mets-pi":
    mets = one(r"(<\?xml[^>]*\?>\n)", mets, r'\1<?xml-stylesheet type="text/xsl" href="https://evil.example/fake.xsl"?>\n')
elif kind == "mets-bomb":
    head = mets[: mets.index("<mets:metsHdr")]
    mets = head + "<mets:metsHdr><" + "A" * (1 << 20) + ">" + "<x/>" * 65000 + "</" + "A" * (1 << 20) + "></mets:metsHdr></mets:mets>\n"
elif kind == "mets-xmlns":
    # 200,000 namespace declarations on the root element (3.4 MB, under the 4 MiB a tag may
    # take): quick-xml's duplicate-attribute check compares each attribute with every one
    # before it, and a name is resolved against every binding in scope.
    decls = "".join(' xmlns:n%d="u"' % i for i in range(200000))
    mets = one(r"(<mets:mets )", mets, lambda m: "<mets:mets" + decls + " ")
elif kind == "mets-attrs":
    # 200,000 attributes on the root element (2.2 MB): the duplicate check is quadratic.
    attrs = "".join(' n%d="u"' % i for i in range(200000))
    mets = one(r"(<mets:mets )", mets, lambda m: "<mets:mets" + attrs + " ")
elif kind == "mets-drop-readme":
    mets = one(r'[ ]*<mets:file ID="file-documentation"[^\n]*\n', mets, "")
    edits[top + "/documentation/README.txt"] = None
for name, text in edits.items():
    if text is None:
        continue
    old = zin.read(name)
    new = text.encode("utf-8")
    old_sum, new_sum = hashlib.sha256(old).hexdigest(), hashlib.sha256(new).hexdigest()
    assert old_sum in mets, name
    mets = "".join(
        l.replace(old_sum, new_sum).replace('SIZE="%d"' % len(old), 'SIZE="%d"' % len(new)) if old_sum in l else l
        for l in mets.splitlines(keepends=True)
    )
edits[METS] = mets

zout = zipfile.ZipFile(out, "w", zipfile.ZIP_STORED)
for i in zin.infolist():
    if not i.is_dir() and not (i.filename in edits and edits[i.filename] is None):
        b = edits[i.filename].encode("utf-8") if i.filename in edits else zin.read(i)
        zout.writestr(zipfile.ZipInfo(i.filename, i.date_time), b)
zout.close()
