//! Incremental updates (ISO 32000-1 §7.5.6): new and changed objects, a cross-reference
//! section for them and a trailer with /Prev, appended after the original bytes, which stay an
//! exact prefix of the result. The section is a table when the file's newest section is a
//! table, and a cross-reference stream when it is a stream, as §7.5.8.4 expects.

use crate::document::Document;
use crate::error::{PdfError, Result};
use crate::object::{write_object, Dict, ObjRef, Object, Stream};
use std::collections::BTreeMap;

/// An update being assembled over a document.
pub struct Update<'d, 'a> {
    doc: &'d Document<'a>,
    next: u32,
    objects: BTreeMap<u32, (ObjRef, Object)>,
}

/// The updated file and where its marked placeholders are.
#[derive(Debug)]
pub struct Written {
    pub bytes: Vec<u8>,
    /// Offset where the update starts (the original file's length, plus an EOL if it lacked one).
    pub update_start: usize,
    /// (marker, start, end) of each marked `Object::Raw`, as offsets into `bytes`.
    pub marks: Vec<(u32, usize, usize)>,
}

/// The highest object number an update gives out (ISO 32000-1 Annex C.2: 8,388,607 indirect
/// objects in a file). A file claiming more (`/Size 4294967295`) would have its numbers wrap,
/// and the update's objects replace the document's own.
pub const MAX_OBJECT_NUMBER: u32 = 8_388_607;

impl<'d, 'a> Update<'d, 'a> {
    /// An update over `doc`; refused when the file leaves no object numbers for one.
    pub fn new(doc: &'d Document<'a>) -> Result<Self> {
        let size = doc.size();
        if size > MAX_OBJECT_NUMBER {
            return Err(PdfError::Limit(format!(
                "the file's /Size or object numbers reach {size}: more than the {MAX_OBJECT_NUMBER} objects a PDF may hold, no number is left for an update"
            )));
        }
        Ok(Update {
            doc,
            next: size.max(1),
            objects: BTreeMap::new(),
        })
    }

    /// Number the new objects from `next` on (when it is above the file's /Size): numbers the
    /// file names anywhere but does not hold stay unresolved after the update, as before it.
    pub fn skip_to(&mut self, next: u32) -> Result<()> {
        if next > MAX_OBJECT_NUMBER {
            return Err(PdfError::Limit(format!(
                "the file names object numbers up to {}: more than the {MAX_OBJECT_NUMBER} objects a PDF may hold, no number is left for an update",
                next - 1
            )));
        }
        self.next = self.next.max(next);
        Ok(())
    }

    /// The numbers of the objects this update writes, new or replaced.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.objects.keys().copied()
    }

    /// Add a new object; its reference.
    pub fn add(&mut self, o: Object) -> ObjRef {
        let r = ObjRef::new(self.next, 0);
        self.next += 1;
        self.objects.insert(r.num, (r, o));
        r
    }

    /// Reserve a number now, to fill in later with [`Update::replace`].
    pub fn reserve(&mut self) -> ObjRef {
        self.add(Object::Null)
    }

    /// A new version of an existing (or reserved) object.
    pub fn replace(&mut self, r: ObjRef, o: Object) {
        self.objects.insert(r.num, (r, o));
    }

    /// Write the original file and the update.
    pub fn write(mut self) -> Written {
        let orig = self.doc.data();
        let mut out = Vec::with_capacity(orig.len() + 16 * 1024);
        out.extend_from_slice(orig);
        if !matches!(orig.last(), Some(b'\n') | Some(b'\r')) {
            out.push(b'\n');
        }
        let update_start = out.len();
        let mut marks = Vec::new();
        let mut offsets: BTreeMap<u32, (usize, u16)> = BTreeMap::new();
        for (num, (r, o)) in &self.objects {
            offsets.insert(*num, (out.len(), r.gen));
            out.extend_from_slice(format!("{} {} obj\n", r.num, r.gen).as_bytes());
            write_object(&mut out, o, &mut marks);
            out.extend_from_slice(b"\nendobj\n");
        }
        let old = self.doc.trailer();
        let newest = &self.doc.sections()[0];
        let mut trailer = Dict::new();
        for k in ["Root", "Info", "ID"] {
            if let Some(v) = old.get(k) {
                trailer.set(k, v.clone());
            }
        }
        trailer.set("Prev", Object::Int(newest.offset as i64));
        let xref_at;
        if newest.is_stream {
            // The stream itself is an entry of its own section.
            let me = ObjRef::new(self.next, 0);
            self.next += 1;
            xref_at = out.len();
            offsets.insert(me.num, (xref_at, 0));
            let mut index = Vec::new();
            let mut body = Vec::new();
            // Offsets in 4 bytes, or 8 in a file past 4 GiB (never cut short).
            let width: usize = if xref_at > u32::MAX as usize { 8 } else { 4 };
            for run in runs(&offsets) {
                index.push(Object::Int(run[0].0 as i64));
                index.push(Object::Int(run.len() as i64));
                for (_, (off, gen)) in run {
                    body.push(1u8);
                    body.extend_from_slice(&(off as u64).to_be_bytes()[8 - width..]);
                    body.extend_from_slice(&gen.to_be_bytes());
                }
            }
            trailer.set("Type", Object::name("XRef"));
            trailer.set("Size", Object::Int(self.next as i64));
            trailer.set(
                "W",
                Object::Array(vec![
                    Object::Int(1),
                    Object::Int(width as i64),
                    Object::Int(2),
                ]),
            );
            trailer.set("Index", Object::Array(index));
            out.extend_from_slice(format!("{} 0 obj\n", me.num).as_bytes());
            write_object(
                &mut out,
                &Object::Stream(Box::new(Stream {
                    dict: trailer,
                    data: body,
                })),
                &mut marks,
            );
            out.extend_from_slice(b"\nendobj\n");
        } else {
            xref_at = out.len();
            out.extend_from_slice(b"xref\n");
            for run in runs(&offsets) {
                out.extend_from_slice(format!("{} {}\n", run[0].0, run.len()).as_bytes());
                for (_, (off, gen)) in run {
                    out.extend_from_slice(format!("{off:010} {gen:05} n\r\n").as_bytes());
                }
            }
            trailer.set("Size", Object::Int(self.next as i64));
            out.extend_from_slice(b"trailer\n");
            write_object(&mut out, &Object::Dict(trailer), &mut marks);
            out.push(b'\n');
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        Written {
            bytes: out,
            update_start,
            marks,
        }
    }
}

/// Group consecutive object numbers into subsections.
fn runs(offsets: &BTreeMap<u32, (usize, u16)>) -> Vec<Vec<(u32, (usize, u16))>> {
    let mut out: Vec<Vec<(u32, (usize, u16))>> = Vec::new();
    for (&n, &v) in offsets {
        match out.last_mut() {
            Some(run) if run.last().is_some_and(|(m, _)| m + 1 == n) => run.push((n, v)),
            _ => out.push(vec![(n, v)]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal one-page PDF with a classic xref table.
    pub(crate) fn tiny_pdf() -> Vec<u8> {
        tiny_pdf_with("")
    }

    fn tiny_pdf_with(trailer_extra: &str) -> Vec<u8> {
        let objs = [
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Kids[3 0 R]/Count 1>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        ];
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offs = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offs.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let x = out.len();
        out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f\r\n");
        for o in offs {
            out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<</Size 4/Root 1 0 R{trailer_extra}>>\nstartxref\n{x}\n%%EOF\n")
                .as_bytes(),
        );
        out
    }

    #[test]
    fn update_keeps_the_original_as_prefix_and_reads_back() {
        let orig = tiny_pdf();
        let doc = Document::parse(&orig).unwrap();
        assert_eq!(doc.pages().unwrap(), vec![ObjRef::new(3, 0)]);
        let mut u = Update::new(&doc).unwrap();
        let info = u.add(Object::Dict(
            Dict::new().with("Title", Object::text("Giấy phép")),
        ));
        let mut cat = doc.dict(doc.root()).unwrap();
        cat.set("Lang", Object::string("vi-VN"));
        u.replace(doc.root(), Object::Dict(cat));
        let w = u.write();
        assert!(w.bytes.starts_with(&orig));
        let doc2 = Document::parse(&w.bytes).unwrap();
        assert_eq!(doc2.sections().len(), 2);
        assert_eq!(
            doc2.dict(doc2.root()).unwrap().get("Lang"),
            Some(&Object::string("vi-VN"))
        );
        assert!(doc2.get(info).is_ok());
        assert_eq!(doc2.size(), 5);
        // and a second update on top of the first
        let mut u = Update::new(&doc2).unwrap();
        u.add(Object::Int(7));
        let w3 = u.write();
        let doc3 = Document::parse(&w3.bytes).unwrap();
        assert_eq!(doc3.sections().len(), 3);
        assert_eq!(doc3.get(ObjRef::new(5, 0)).unwrap(), Object::Int(7));
        // The file as each section of its chain left it, newest first.
        let lang = |d: &Document| d.dict(d.root()).unwrap().get("Lang").cloned();
        let before_last = doc3.earlier(1).unwrap();
        assert_eq!(before_last.sections().len(), 2);
        assert_eq!(lang(&before_last), Some(Object::string("vi-VN")));
        assert!(before_last.get(info).is_ok());
        assert!(before_last.get(ObjRef::new(5, 0)).is_err());
        assert_eq!(before_last.entry(5), doc2.entry(5));
        assert_eq!(before_last.size(), 5);
        let first = doc3.earlier(2).unwrap();
        assert_eq!(first.sections().len(), 1);
        assert_eq!(lang(&first), None);
        assert!(first.get(info).is_err());
        assert_eq!(first.size(), 4);
        for n in 0..6 {
            assert_eq!(first.entry(n), doc.entry(n), "object {n}");
            assert_eq!(before_last.earlier(1).unwrap().entry(n), doc.entry(n));
        }
        assert!(doc3.earlier(3).is_err());
        assert!(first.earlier(1).is_err());
    }

    #[test]
    fn broken_files_are_refused_with_the_reason() {
        let orig = tiny_pdf();
        assert_eq!(
            Document::parse(b"hello").unwrap_err(),
            crate::PdfError::NotPdf
        );
        let cut = &orig[..orig.len() - 30];
        assert!(matches!(
            Document::parse(cut).unwrap_err(),
            crate::PdfError::NoStartXref | crate::PdfError::BrokenXref { .. }
        ));
        let mut bad = orig.clone();
        let x = bad.windows(4).rposition(|w| w == b"xref").unwrap();
        bad[x] = b'y';
        assert!(Document::parse(&bad).is_err());
        let enc = tiny_pdf_with("/Encrypt 9 0 R");
        assert_eq!(
            Document::parse(&enc).unwrap_err(),
            crate::PdfError::Encrypted
        );
        // Every truncation is an error or a parse, never a panic.
        for n in 0..orig.len() {
            let _ = Document::parse(&orig[..n]).map(|d| d.pages());
        }
    }
}
