//! PDF objects (ISO 32000-1 §7.3) and their serialization.

use std::fmt::Write as _;

/// An indirect reference `num gen R` (§7.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub num: u32,
    pub gen: u16,
}

impl ObjRef {
    pub fn new(num: u32, gen: u16) -> Self {
        ObjRef { num, gen }
    }
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} R", self.num, self.gen)
    }
}

/// A dictionary, keys in file order (§7.3.7). Keys are names without the slash.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    pub fn new() -> Self {
        Dict(Vec::new())
    }

    pub fn get(&self, key: &str) -> Option<&Object> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Set a key, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: Object) {
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            slot.1 = value;
        } else {
            self.0.push((key.as_bytes().to_vec(), value));
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key.as_bytes());
    }

    pub fn with(mut self, key: &str, value: Object) -> Self {
        self.set(key, value);
        self
    }

    /// The value of `/Type`, if it is a name.
    pub fn type_name(&self) -> Option<&[u8]> {
        self.get("Type").and_then(Object::as_name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A stream (§7.3.8): its dictionary and its bytes as stored (still encoded).
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub dict: Dict,
    pub data: Vec<u8>,
}

/// Any PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    /// A string's bytes (literal or hex in the file).
    String(Vec<u8>),
    /// A name's bytes, without the slash and with `#xx` decoded.
    Name(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    /// Boxed: a stream is rare beside the numbers, names and references of a file, and inline
    /// it made every object 56 bytes instead of 32.
    Stream(Box<Stream>),
    Ref(ObjRef),
    /// Bytes written as they are: placeholders that are patched after writing (kyso's own).
    Raw(Vec<u8>, Option<u32>),
}

impl Object {
    /// The references this object holds, in the order written (a stream's: its dictionary's),
    /// added to `out`.
    pub fn references_into(&self, out: &mut Vec<ObjRef>) {
        match self {
            Object::Ref(r) => out.push(*r),
            Object::Array(a) => a.iter().for_each(|x| x.references_into(out)),
            Object::Dict(d) => d.0.iter().for_each(|(_, x)| x.references_into(out)),
            Object::Stream(s) => s.dict.0.iter().for_each(|(_, x)| x.references_into(out)),
            _ => {}
        }
    }

    pub fn name(s: &str) -> Object {
        Object::Name(s.as_bytes().to_vec())
    }

    pub fn string(s: &str) -> Object {
        Object::String(s.as_bytes().to_vec())
    }

    /// A text string (§7.9.2.2): PDFDocEncoding-safe ASCII as is, anything else UTF-16BE with BOM.
    pub fn text(s: &str) -> Object {
        if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            Object::String(s.as_bytes().to_vec())
        } else {
            let mut v = vec![0xfe, 0xff];
            for u in s.encode_utf16() {
                v.extend_from_slice(&u.to_be_bytes());
            }
            Object::String(v)
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A number, integer or real.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Object::Int(i) => Some(*i as f64),
            Object::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// A rectangle (§7.9.5), normalized to [llx, lly, urx, ury].
    pub fn as_rect(&self) -> Option<[f64; 4]> {
        let v: Vec<f64> = self
            .as_array()?
            .iter()
            .filter_map(Object::as_number)
            .collect();
        (v.len() == 4).then(|| {
            [
                v[0].min(v[2]),
                v[1].min(v[3]),
                v[0].max(v[2]),
                v[1].max(v[3]),
            ]
        })
    }

    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Option<ObjRef> {
        match self {
            Object::Ref(r) => Some(*r),
            _ => None,
        }
    }

    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_name(&self, n: &str) -> bool {
        self.as_name() == Some(n.as_bytes())
    }
}

/// Serialize an object. Positions of `Raw` placeholders with a marker are recorded as
/// (marker, start, end) relative to `out`.
pub fn write_object(out: &mut Vec<u8>, o: &Object, marks: &mut Vec<(u32, usize, usize)>) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(fmt_real(*r).as_bytes()),
        Object::String(s) => write_string(out, s),
        Object::Name(n) => write_name(out, n),
        Object::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, v, marks);
            }
            out.push(b']');
        }
        Object::Dict(d) => write_dict(out, d, marks),
        Object::Stream(s) => {
            let mut d = s.dict.clone();
            d.set("Length", Object::Int(s.data.len() as i64));
            write_dict(out, &d, marks);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.data);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Ref(r) => out.extend_from_slice(r.to_string().as_bytes()),
        Object::Raw(bytes, mark) => {
            let start = out.len();
            out.extend_from_slice(bytes);
            if let Some(m) = mark {
                marks.push((*m, start, out.len()));
            }
        }
    }
}

fn write_dict(out: &mut Vec<u8>, d: &Dict, marks: &mut Vec<(u32, usize, usize)>) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        write_name(out, k);
        out.push(b' ');
        write_object(out, v, marks);
    }
    out.extend_from_slice(b">>");
}

fn fmt_real(r: f64) -> String {
    if r.is_finite() {
        let s = format!("{r}");
        if s.contains('e') {
            format!("{r:.6}")
        } else {
            s
        }
    } else {
        "0".into()
    }
}

/// Names (§7.3.5): regular characters as they are, everything else as `#xx`.
pub fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        if b.is_ascii_graphic() && !b"#()<>[]{}/%".contains(&b) {
            out.push(b);
        } else {
            let _ = write!(HexPush(out), "#{b:02X}");
        }
    }
}

/// Strings: literal with escapes when printable, hex otherwise.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().all(|b| (0x20..0x7f).contains(b)) {
        out.push(b'(');
        for &b in s {
            if matches!(b, b'(' | b')' | b'\\') {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b')');
    } else {
        out.push(b'<');
        for b in s {
            let _ = write!(HexPush(out), "{b:02X}");
        }
        out.push(b'>');
    }
}

struct HexPush<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexPush<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// PDFDocEncoding (ISO 32000-1 Annex D.2) where it differs from Latin-1: 0x18–0x1F and
/// 0x80–0xA0.
const PDF_DOC_HIGH: [char; 41] = [
    '\u{2022}', '\u{2020}', '\u{2021}', '\u{2026}', '\u{2014}', '\u{2013}', '\u{0192}', '\u{2044}',
    '\u{2039}', '\u{203A}', '\u{2212}', '\u{2030}', '\u{201E}', '\u{201C}', '\u{201D}', '\u{2018}',
    '\u{2019}', '\u{201A}', '\u{2122}', '\u{FB01}', '\u{FB02}', '\u{0141}', '\u{0152}', '\u{0160}',
    '\u{0178}', '\u{017D}', '\u{0131}', '\u{0142}', '\u{0153}', '\u{0161}', '\u{017E}', '\u{FFFD}',
    '\u{20AC}', '\u{FFFD}', '\u{FFFD}', '\u{FFFD}', '\u{FFFD}', '\u{FFFD}', '\u{FFFD}', '\u{FFFD}',
    '\u{FFFD}',
];
const PDF_DOC_LOW: [char; 8] = [
    '\u{02D8}', '\u{02C7}', '\u{02C6}', '\u{02D9}', '\u{02DD}', '\u{02DB}', '\u{02DA}', '\u{02DC}',
];

/// A text string's characters (§7.9.2.2): UTF-16BE after its byte order mark, UTF-8 after
/// its BOM (PDF 2.0), else PDFDocEncoding — so that `/T (dien_tich\x85m2)` and the same name
/// in UTF-16 are one name.
pub fn decode_text(b: &[u8]) -> String {
    if let Some(u16s) = b.strip_prefix(&[0xfe, 0xff]) {
        let u: Vec<u16> = u16s
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&u);
    }
    if let Some(utf8) = b.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    b.iter()
        .map(|&c| match c {
            0x18..=0x1f => PDF_DOC_LOW[(c - 0x18) as usize],
            0x80..=0xa0 => PDF_DOC_HIGH[(c - 0x80) as usize],
            0xad => '\u{FFFD}',
            _ => c as char,
        })
        .collect()
}

#[cfg(test)]
mod text_tests {
    /// A file of 200,000 objects holds millions of them: each byte counts (the stream boxed).
    #[test]
    fn an_object_is_four_words() {
        assert_eq!(std::mem::size_of::<super::Object>(), 32);
    }

    #[test]
    fn text_strings_decode_in_every_encoding_the_same() {
        let dash = "dien_tich\u{2013}m2";
        assert_eq!(super::decode_text(b"dien_tich\x85m2"), dash);
        let mut utf16 = vec![0xfe, 0xff];
        for u in dash.encode_utf16() {
            utf16.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(super::decode_text(&utf16), dash);
        let mut utf8 = vec![0xef, 0xbb, 0xbf];
        utf8.extend_from_slice(dash.as_bytes());
        assert_eq!(super::decode_text(&utf8), dash);
        assert_eq!(super::decode_text(b"Gi\xe1y"), "Gi\u{e1}y");
    }
}
