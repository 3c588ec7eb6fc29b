"""Hostile packages for tests/bag_hostile.rs, made from a real export with Python's struct,
zipfile and tarfile (not with kyso's code): each is one that another reader -- Info-ZIP's unzip,
Python's zipfile, GNU tar -- reads differently from the way kyso read it before the fix.

    python3 packages.py KIND SOURCE OUT DOCUMENT

DOCUMENT is the path (inside the package folder) of the file the forger replaces; the forged
bytes are the original with one byte changed, so a reader that takes them gets another
document under the same name. Prints nothing; exits non-zero on a KIND it does not know.
"""
import struct
import sys
import tarfile
import zlib

kind, source, out, document = sys.argv[1:5]
src = open(source, 'rb').read()


def forge(b):
    b = bytearray(b)
    b[len(b) // 2] ^= 0x20
    return bytes(b)


# ---- zip (APPNOTE 6.3.10: local header 4.3.7, central record 4.3.12, end records 4.3.14-16) ----

def u16(b, at): return struct.unpack_from('<H', b, at)[0]
def u32(b, at): return struct.unpack_from('<I', b, at)[0]


def zip_parts():
    """The entries' bytes, the central records (bytearrays) and the entry count."""
    end = src.rfind(b'PK\x05\x06')
    n, cd_len, cd_at = u16(src, end + 10), u32(src, end + 12), u32(src, end + 16)
    recs, p = [], cd_at
    for _ in range(n):
        size = 46 + u16(src, p + 28) + u16(src, p + 30) + u16(src, p + 32)
        recs.append(bytearray(src[p:p + size]))
        p += size
    return src[:cd_at], recs, n


def rec_name(r): return bytes(r[46:46 + u16(r, 28)])
def set_u32(b, at, v): struct.pack_into('<I', b, at, v)


def local(name, data):
    return struct.pack('<IHHHHHIIIHH', 0x04034b50, 10, 0x800, 0, 0, 0x21, zlib.crc32(data),
                       len(data), len(data), len(name), 0) + name + data


def eocd(n, cd_len, cd_at, comment=b''):
    return struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, cd_len, cd_at, len(comment)) + comment


def zip64_end(n, cd_len, cd_at):
    return struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, n, n, cd_len, cd_at)


def the_document(recs):
    r = next(r for r in recs if rec_name(r).endswith(b'/' + document.encode()))
    at = u32(r, 42)
    data_at = at + 30 + u16(src, at + 26) + u16(src, at + 28)
    return r, at, src[data_at:data_at + u32(r, 24)]


def forged_directory(recs, at):
    """The central directory again, the document's record pointing at a forged local entry
    at `at` (the others at the entries as they are)."""
    r, _, data = the_document(recs)
    name, forged = rec_name(r), forge(the_document(recs)[2])
    out = []
    for x in recs:
        x = bytearray(x)
        if rec_name(x) == name:
            set_u32(x, 16, zlib.crc32(forged))
            set_u32(x, 42, at)
        out.append(x)
    return local(name, forged), b''.join(out)


def zip_case():
    entries, recs, n = zip_parts()
    cd = b''.join(recs)
    if kind == 'zip-records-past-count':
        # The end record counts n records; the directory holds one more, a second document
        # (Python's zipfile reads records to the directory's end, and the last one counts).
        r, _, data = the_document(recs)
        name, forged = rec_name(r), forge(data)
        extra = bytearray(r)
        set_u32(extra, 16, zlib.crc32(forged))
        set_u32(extra, 42, len(entries))
        loc = local(name, forged)
        return entries + loc + cd + extra + eocd(n, len(cd) + len(extra), len(entries) + len(loc))
    if kind == 'zip-gap-before-end':
        # The entries and directory again after the real ones, the document forged: readers
        # that shift every offset by the gap between the directory and the end record
        # (unzip, Python) read the copy.
        r, at, data = the_document(recs)
        forged = forge(data)
        data_at = at + 30 + u16(src, at + 26) + u16(src, at + 28)
        copy = bytearray(entries)
        copy[data_at:data_at + len(data)] = forged
        set_u32(copy, at + 14, zlib.crc32(forged))
        cd2 = bytearray(cd)
        p = 0
        for x in recs:
            if u32(x, 42) == at:
                set_u32(cd2, p + 16, zlib.crc32(forged))
            p += len(x)
        return entries + cd + bytes(copy) + bytes(cd2) + eocd(n, len(cd), len(entries))
    if kind == 'zip-second-end-in-comment':
        # The real end record's comment holds a forged entry, a directory naming it, and a
        # second end record: readers that take the last end record signature read those.
        at = len(entries) + len(cd) + 22
        loc, cd2 = forged_directory(recs, at)
        fake = eocd(n, len(cd2), at + len(loc))
        return entries + cd + eocd(n, len(cd), len(entries), loc + cd2 + fake + b'\n')
    if kind == 'zip64-record-not-before-locator':
        # The locator names the Zip64 end record after the directory; Python reads the one
        # right before the locator, which names a forged one.
        real_at = len(entries) + len(cd)
        loc, cd2 = forged_directory(recs, real_at + 56)
        body = entries + cd + zip64_end(n, len(cd), len(entries)) + loc + cd2
        body += zip64_end(n, len(cd2), real_at + 56 + len(loc))
        body += struct.pack('<IIQI', 0x07064b50, 0, real_at, 1)
        return body + eocd(0xffff, 0xffffffff, 0xffffffff)
    if kind == 'zip-local-size-grown':
        # The document's local header gives it more bytes than its central record: unzip reads
        # the local header's size, and so the document with a revision appended (a PDF reader
        # shows the last revision); both CRC-32s over those bytes.
        r, at, data = the_document(recs)
        extra = b'\n% a revision appended after the signature\n'
        grown = data + extra
        stop = at + 30 + u16(src, at + 26) + u16(src, at + 28) + len(data)
        head = bytearray(entries[:stop])
        set_u32(head, at + 14, zlib.crc32(grown))
        set_u32(head, at + 18, len(grown))
        set_u32(head, at + 22, len(grown))
        body = bytes(head) + extra + entries[stop:]
        out = []
        for x in recs:
            x = bytearray(x)
            if u32(x, 42) > at:
                set_u32(x, 42, u32(x, 42) + len(extra))
            if u32(x, 42) == at:
                set_u32(x, 16, zlib.crc32(grown))
            out.append(x)
        cd = b''.join(out)
        return body + cd + eocd(n, len(cd), len(body))
    if kind in ('zip-unicode-path', 'zip-symlink-attribute'):
        # Zipped again by Python's zipfile, stored, every entry as it was, but:
        # - zip-unicode-path: DOCUMENT and record 1's document each carry an Info-ZIP Unicode
        #   Path extra field (0x7075: version 1, the CRC-32 of the header's name, a name)
        #   naming the other; unzip (built with UNICODE_SUPPORT) extracts them swapped, so one
        #   citizen's folder holds the other's document;
        # - zip-symlink-attribute: DOCUMENT's external attributes say a symbolic link (Unix
        #   mode 0o120777): unzip makes a link whose target is the document's bytes.
        import io
        import zipfile
        zin = zipfile.ZipFile(io.BytesIO(src))
        names = zin.namelist()
        a = next(n for n in names if n.endswith('/' + document))
        other = document.replace('/0/', '/1/')
        b = next(n for n in names if n.endswith('/' + other))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as zout:
            for i in zin.infolist():
                z = zipfile.ZipInfo(i.filename, i.date_time)
                z.external_attr = i.external_attr
                z.create_system = 3
                if kind == 'zip-unicode-path' and i.filename in (a, b):
                    to = (b if i.filename == a else a).encode()
                    body = struct.pack('<BI', 1, zlib.crc32(i.filename.encode())) + to
                    z.extra = struct.pack('<HH', 0x7075, len(body)) + body
                if kind == 'zip-symlink-attribute' and i.filename == a:
                    z.external_attr = 0o120777 << 16
                zout.writestr(z, zin.read(i))
        return buf.getvalue()
    if kind == 'zip-deflated':
        # Zipped again by Python's zipfile with its documents deflated: kyso reads stored
        # entries only (no inflating, no bomb).
        import io
        import zipfile
        zin = zipfile.ZipFile(io.BytesIO(src))
        b = io.BytesIO()
        with zipfile.ZipFile(b, 'w') as zout:
            for i in zin.infolist():
                method = zipfile.ZIP_DEFLATED if i.filename.endswith('.pdf') else zipfile.ZIP_STORED
                zout.writestr(i, zin.read(i), compress_type=method)
        return b.getvalue()
    return None


# ---- tar (POSIX.1-1988 ustar headers, GNU long names, POSIX.1-2001 pax headers) ----

def tar_end():
    t = tarfile.open(source)
    last = t.getmembers()[-1]
    top = t.getmembers()[0].name.split('/')[0]
    return (last.offset_data + last.size + 511) // 512 * 512, top, t


def header(name, size_field, typ=b'0'):
    """One 512-byte header as GNU tar writes it (its magic), the size field as given."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b'0000644\0'
    h[108:116] = h[116:124] = b'0000000\0'
    h[124:136] = size_field
    h[136:148] = b'00000000000\0'
    h[156:157] = typ
    h[257:265] = b'ustar  \0'
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h)
    return bytes(h)


def octal(n): return b'%011o\0' % n
def padded(b): return b + bytes(-len(b) % 512)
def member(name, data, typ=b'0'): return header(name, octal(len(data)), typ) + padded(data)


def pax(*records):
    out = b''
    for k, v in records:
        r = b' %s=%s\n' % (k.encode(), v.encode())
        n = len(r) + len(str(len(r)))
        n = len(r) + len(str(n))
        out += b'%d' % n + r
    return member(b'././@PaxHeader', out, b'x')


def tar_case():
    end, top, t = tar_end()
    doc = ('%s/%s' % (top, document)).encode()
    forged = forge(t.extractfile(doc.decode()).read())
    aside = ('%s/notes.txt' % top).encode()  # a tag file kyso does not read
    body = src[:end]
    if kind == 'tar-pax-path-twice':
        # Two path records: the tar crate takes the first, GNU tar and Python the last.
        add = pax(('path', aside.decode()), ('path', doc.decode())) + member(aside, forged)
    elif kind == 'tar-long-name-and-pax-path':
        # A GNU long name (the tar crate's name) and a PAX path (GNU tar's) for one member.
        add = member(b'././@LongLink', aside + b'\0', b'L') + pax(('path', doc.decode()))
        add += member(aside, forged)
    elif kind == 'tar-pax-path-and-long-name':
        add = pax(('path', doc.decode())) + member(b'././@LongLink', aside + b'\0', b'L')
        add += member(aside, forged)
    elif kind == 'tar-pax-sparse-name':
        # A PAX sparse member (format 0.1, as GNU tar writes it): GNU tar names it by
        # GNU.sparse.name, which the tar crate does not read.
        add = pax(('GNU.sparse.major', '0'), ('GNU.sparse.minor', '1'),
                  ('GNU.sparse.name', doc.decode()), ('GNU.sparse.realsize', str(len(forged))),
                  ('GNU.sparse.numblocks', '1'), ('GNU.sparse.map', '0,%d' % len(forged)))
        add += member(('%s/GNUSparseFile.0/notes' % top).encode(), forged)
    elif kind == 'tar-size-base256-too-large':
        # A base-256 size with a high byte set: the tar crate keeps its low 64 bits, GNU tar
        # finds it out of range and skips to the next thing that looks like a header -- the
        # forged member inside the data kyso read.
        inner = padded(member(doc, forged))
        add = header(aside, b'\x80\x00\x00\x01' + struct.pack('>Q', len(inner))) + inner
    elif kind == 'tar-folder-over-file':
        # A folder member named like the document, after it: GNU tar replaces the file.
        add = header(doc + b'/', octal(0), b'5')
    elif kind == 'tar-long-name-of-1-gib':
        # A GNU long name of 1 GiB (a hole: no disk used), which the tar crate read whole.
        add = header(b'././@LongLink', octal(1 << 30), b'L')
        open(out, 'wb').write(body + add)
        import os
        os.truncate(out, len(body) + len(add) + (1 << 30) + 1024)
        return b''
    else:
        return None
    return body + add + bytes(1024)


if kind == 'tar-then-zip':
    # A tar and a zip in one file: the tar as it is, then OTHER (a zip: an E-ARK package)
    # appended by Python's zipfile, which writes its offsets from the file's start. GNU tar
    # stops at the tar's end blocks and unzip finds the zip's end record: each extracts its
    # own package. DOCUMENT here names the zip to append.
    import shutil
    import zipfile
    shutil.copyfile(source, out)
    with zipfile.ZipFile(out, 'a') as z, zipfile.ZipFile(document) as other:
        for i in other.infolist():
            z.writestr(i, other.read(i))
    sys.exit(0)
made = zip_case() if kind.startswith('zip') else tar_case()
if made is None:
    sys.exit('unknown kind ' + kind)
if made:
    open(out, 'wb').write(made)
