//! Visible signature stamps (Decree 30/2020/NĐ-CP): the signer's stamp on a chosen page and
//! rectangle, and the digitized-copy stamp at the top right of page 1 with the agency and the
//! signing time (ISO 8601, +07:00), in a Times-style face at 10 pt, black.
//!
//! Text is set in an embedded, subsetted TrueType font (Liberation Serif by default: metric
//! compatible with Times New Roman, with the Vietnamese letters) as a Type0 font with
//! Identity-H encoding, a CIDFontType2 descendant, glyph widths and a ToUnicode CMap, so that
//! the stamp renders the same everywhere and its text can be copied and searched
//! (ISO 32000-1 §9.7, §9.10.3). The stamps are written in the same incremental update as the
//! signature, so the signature covers them.

use crate::error::{Result, SignError};
use kyso_pdf::{Dict, ObjRef, Object, Stream, Update};
use std::collections::BTreeMap;
use std::io::Write;
use unicode_normalization::UnicodeNormalization;

/// Where Debian's fonts-liberation2 puts the Times-metric serif face (Liberation 2 has the
/// Vietnamese letters; Liberation 1 in fonts-liberation does not).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";
/// Text size of both stamps (Decree 30/2020: 10 pt).
pub const FONT_SIZE: f64 = 10.0;
const LEADING: f64 = 12.0;
const PAD: f64 = 4.0;

/// A TrueType font file to set stamps in.
#[derive(Clone)]
pub struct StampFont {
    data: Vec<u8>,
    name: String,
}

impl std::fmt::Debug for StampFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StampFont")
            .field("name", &self.name)
            .finish()
    }
}

impl StampFont {
    /// Load and check a TrueType font.
    pub fn load(path: &std::path::Path) -> Result<StampFont> {
        let data = std::fs::read(path).map_err(|e| {
            SignError::Input(format!(
                "stamp font {}: {e} (Debian: apt install fonts-liberation2)",
                path.display()
            ))
        })?;
        let face = ttf_parser::Face::parse(&data, 0)
            .map_err(|e| SignError::Input(format!("stamp font {}: {e}", path.display())))?;
        let name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| {
                n.to_string().or_else(|| {
                    // Macintosh Roman names are plain ASCII for PostScript names.
                    n.name
                        .is_ascii()
                        .then(|| String::from_utf8_lossy(n.name).into_owned())
                })
            })
            .unwrap_or_else(|| "KysoStamp".into())
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
        Ok(StampFont { data, name })
    }
}

/// One box of text on a page.
#[derive(Debug, Clone)]
pub struct StampBox {
    /// [x1, y1, x2, y2] in default user space (points).
    pub rect: [f64; 4],
    pub lines: Vec<String>,
    pub border: bool,
    /// The page's /Rotate (0, 90, 180 or 270): the text is drawn upright as the page is shown,
    /// not in the page's own axes (sideways on a scanned page turned by /Rotate 90).
    pub rotate: u16,
}

/// A /CIDSet stream's bytes (ISO 32000-1 §9.8.3, Table 124): bit `7 - c % 8` of byte `c / 8`
/// set for each CID `c` below `n`.
fn cid_set(n: u16) -> Vec<u8> {
    let mut bits = vec![0u8; (n as usize).div_ceil(8)];
    for c in 0..n as usize {
        bits[c / 8] |= 0x80 >> (c % 8);
    }
    bits
}

/// Lays out text in one font and writes the font when done.
pub(crate) struct FontWriter<'f> {
    font: &'f StampFont,
    face: ttf_parser::Face<'f>,
    remap: subsetter::GlyphRemapper,
    /// new glyph id → (text it stands for, width in 1/1000 em)
    used: BTreeMap<u16, (String, i64)>,
    pub font_ref: ObjRef,
}

impl<'f> FontWriter<'f> {
    pub fn new(font: &'f StampFont, up: &mut Update) -> Result<Self> {
        let face = ttf_parser::Face::parse(&font.data, 0)
            .map_err(|e| SignError::Input(format!("stamp font: {e}")))?;
        Ok(FontWriter {
            font,
            face,
            remap: subsetter::GlyphRemapper::new(),
            used: BTreeMap::new(),
            font_ref: up.reserve(),
        })
    }

    fn units(&self) -> f64 {
        self.face.units_per_em() as f64
    }

    /// Hex of the 2-byte glyph codes for `text` (NFC), and its width in points at `size`.
    fn encode(&mut self, text: &str, size: f64) -> Result<(String, f64)> {
        let mut hex = String::new();
        let mut width = 0.0;
        for ch in text.nfc() {
            let gid = self.face.glyph_index(ch).ok_or_else(|| {
                SignError::Input(format!(
                    "the stamp font {} has no glyph for {ch:?}",
                    self.font.name
                ))
            })?;
            let adv = self.face.glyph_hor_advance(gid).unwrap_or(0) as f64;
            let w1000 = (adv * 1000.0 / self.units()).round() as i64;
            let new = self.remap.remap(gid.0);
            self.used
                .entry(new)
                .or_insert_with(|| (ch.to_string(), w1000));
            hex.push_str(&format!("{new:04X}"));
            width += adv * size / self.units();
        }
        Ok((hex, width))
    }

    /// The appearance stream (a form XObject, §8.10) of a stamp box.
    pub fn appearance(&mut self, b: &StampBox) -> Result<Object> {
        let (w, h) = ((b.rect[2] - b.rect[0]).abs(), (b.rect[3] - b.rect[1]).abs());
        // On a page shown turned a quarter, the box is as wide as shown as it is high on the
        // page; its /Matrix turns the drawing back (ISO 32000-1 §12.5.5 maps the turned /BBox
        // onto /Rect).
        let (w, h) = if b.rotate % 180 == 90 { (h, w) } else { (w, h) };
        let matrix: [i64; 4] = match b.rotate {
            90 => [0, 1, -1, 0],
            180 => [-1, 0, 0, -1],
            270 => [0, -1, 1, 0],
            _ => [1, 0, 0, 1],
        };
        let mut content = Vec::new();
        let _ = writeln!(content, "q");
        if b.border {
            let _ = writeln!(
                content,
                "0 0 0 RG 0.6 w 0.3 0.3 {:.2} {:.2} re S",
                w - 0.6,
                h - 0.6
            );
        }
        let _ = writeln!(content, "0 0 0 rg BT /F1 {FONT_SIZE} Tf");
        for (i, line) in b.lines.iter().enumerate() {
            let (hex, width) = self.encode(line, FONT_SIZE)?;
            let y = h - PAD - FONT_SIZE - i as f64 * LEADING;
            if y < 0.0 || width > w - 2.0 * PAD {
                return Err(SignError::Input(format!(
                    "the stamp box {:.0}×{:.0} pt is too small for {:?}",
                    w, h, line
                )));
            }
            let _ = writeln!(content, "1 0 0 1 {PAD:.2} {y:.2} Tm <{hex}> Tj");
        }
        let _ = writeln!(content, "ET Q");
        let resources = Dict::new().with(
            "Font",
            Object::Dict(Dict::new().with("F1", Object::Ref(self.font_ref))),
        );
        Ok(Object::Stream(Box::new(Stream {
            dict: Dict::new()
                .with("Type", Object::name("XObject"))
                .with("Subtype", Object::name("Form"))
                .with(
                    "BBox",
                    Object::Array(vec![
                        Object::Int(0),
                        Object::Int(0),
                        Object::Real(w),
                        Object::Real(h),
                    ]),
                )
                .with(
                    "Matrix",
                    Object::Array(
                        matrix
                            .iter()
                            .chain(&[0, 0])
                            .map(|v| Object::Int(*v))
                            .collect(),
                    ),
                )
                .with("Resources", Object::Dict(resources)),
            data: content,
        })))
    }

    /// Write the subsetted font: Type0 → CIDFontType2 → FontDescriptor → FontFile2, and the
    /// ToUnicode CMap (ISO 32000-1 §9.7.4, §9.10.3).
    pub fn finish(self, up: &mut Update) -> Result<()> {
        let subset = subsetter::subset(&self.font.data, 0, &self.remap)
            .map_err(|e| SignError::Input(format!("subsetting the stamp font: {e}")))?;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&subset)
            .map_err(|e| SignError::Encoding(e.to_string()))?;
        let compressed = z.finish().map_err(|e| SignError::Encoding(e.to_string()))?;
        // The CIDs the subset holds (CID = glyph id: /CIDToGIDMap /Identity), every one of
        // them: PDF/A-1 requires a subset CIDFont's /CIDSet (ISO 19005-1 §6.3.5), PDF/A-2 and
        // 3 require it complete when present. The subsetter renumbers the glyphs kept from 0.
        let glyphs = ttf_parser::Face::parse(&subset, 0)
            .map_err(|e| SignError::Encoding(format!("the subset stamp font: {e}")))?
            .number_of_glyphs();
        let cid_set = up.add(Object::Stream(Box::new(Stream {
            dict: Dict::new(),
            data: cid_set(glyphs),
        })));
        let file = up.add(Object::Stream(Box::new(Stream {
            dict: Dict::new()
                .with("Filter", Object::name("FlateDecode"))
                .with("Length1", Object::Int(subset.len() as i64)),
            data: compressed,
        })));
        // A subset tag derived from the glyphs used (§9.6.4).
        let tag: String = {
            let mut h: u64 = 1469598103934665603;
            for k in self.used.keys() {
                h = (h ^ *k as u64).wrapping_mul(1099511628211);
            }
            (0..6)
                .map(|i| (b'A' + ((h >> (i * 5)) % 26) as u8) as char)
                .collect()
        };
        let base = format!("{tag}+{}", self.font.name);
        let u = self.units();
        let scale = |v: i16| Object::Int((v as f64 * 1000.0 / u).round() as i64);
        let bb = self.face.global_bounding_box();
        let descriptor = up.add(Object::Dict(
            Dict::new()
                .with("Type", Object::name("FontDescriptor"))
                .with("FontName", Object::name(&base))
                .with("Flags", Object::Int(6))
                .with(
                    "FontBBox",
                    Object::Array(vec![
                        scale(bb.x_min),
                        scale(bb.y_min),
                        scale(bb.x_max),
                        scale(bb.y_max),
                    ]),
                )
                .with("ItalicAngle", Object::Int(0))
                .with("Ascent", scale(self.face.ascender()))
                .with("Descent", scale(self.face.descender()))
                .with(
                    "CapHeight",
                    scale(self.face.capital_height().unwrap_or(self.face.ascender())),
                )
                .with("StemV", Object::Int(80))
                .with("FontFile2", Object::Ref(file))
                .with("CIDSet", Object::Ref(cid_set)),
        ));
        let mut widths = Vec::new();
        for (gid, (_, w)) in &self.used {
            widths.push(Object::Int(*gid as i64));
            widths.push(Object::Array(vec![Object::Int(*w)]));
        }
        let cid_font = up.add(Object::Dict(
            Dict::new()
                .with("Type", Object::name("Font"))
                .with("Subtype", Object::name("CIDFontType2"))
                .with("BaseFont", Object::name(&base))
                .with(
                    "CIDSystemInfo",
                    Object::Dict(
                        Dict::new()
                            .with("Registry", Object::string("Adobe"))
                            .with("Ordering", Object::string("Identity"))
                            .with("Supplement", Object::Int(0)),
                    ),
                )
                .with("FontDescriptor", Object::Ref(descriptor))
                .with("DW", Object::Int(1000))
                .with("W", Object::Array(widths))
                .with("CIDToGIDMap", Object::name("Identity")),
        ));
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<_> = self.used.iter().collect();
        for chunk in entries.chunks(100) {
            cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for (gid, (text, _)) in chunk {
                let utf16: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
                cmap.push_str(&format!("<{gid:04X}> <{utf16}>\n"));
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        let to_unicode = up.add(Object::Stream(Box::new(Stream {
            dict: Dict::new(),
            data: cmap.into_bytes(),
        })));
        up.replace(
            self.font_ref,
            Object::Dict(
                Dict::new()
                    .with("Type", Object::name("Font"))
                    .with("Subtype", Object::name("Type0"))
                    .with("BaseFont", Object::name(&base))
                    .with("Encoding", Object::name("Identity-H"))
                    .with(
                        "DescendantFonts",
                        Object::Array(vec![Object::Ref(cid_font)]),
                    )
                    .with("ToUnicode", Object::Ref(to_unicode)),
            ),
        );
        Ok(())
    }
}

/// An attribute of the certificate subject (CN, title, O, …) as text.
pub fn subject_attribute(
    cert: &x509_cert::Certificate,
    oid: const_oid::ObjectIdentifier,
) -> Option<String> {
    use der::Decode;
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .rev()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| {
            let der = der::Encode::to_der(&atv.value).ok()?;
            der::asn1::Utf8StringRef::from_der(&der)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    der::asn1::PrintableStringRef::from_der(&der).map(|s| s.as_str().to_string())
                })
                .or_else(|_| {
                    der::asn1::Ia5StringRef::from_der(&der).map(|s| s.as_str().to_string())
                })
                .ok()
        })
}

/// ISO 8601 local time with offset, e.g. `2026-11-22T16:30:00+07:00`.
pub fn iso8601(t: std::time::SystemTime, offset_minutes: i32) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    kyso_pdf::date::at_offset(t, offset_minutes)
        .0
        .format(format)
        .unwrap_or_default()
}

/// The signer's stamp text: name, title, agency, time.
pub fn signer_lines(cert: &x509_cert::Certificate, when: &str) -> Vec<String> {
    use const_oid::db::rfc4519;
    let mut v = Vec::new();
    if let Some(n) = subject_attribute(cert, rfc4519::CN) {
        v.push(format!("Ký bởi: {n}"));
    }
    if let Some(t) = subject_attribute(cert, rfc4519::TITLE) {
        v.push(format!("Chức vụ: {t}"));
    }
    if let Some(o) = subject_attribute(cert, rfc4519::O) {
        v.push(format!("Cơ quan: {o}"));
    }
    v.push(format!("Thời gian ký: {when}"));
    v
}

/// The digitized-copy stamp text: the agency and the time.
pub fn copy_lines(cert: &x509_cert::Certificate, when: &str) -> Vec<String> {
    use const_oid::db::rfc4519;
    let agency = subject_attribute(cert, rfc4519::O)
        .or_else(|| subject_attribute(cert, rfc4519::CN))
        .unwrap_or_default();
    vec![agency, when.to_string()]
}

/// Width in points of `text` at the stamp size (for sizing the copy stamp).
pub fn text_width(font: &StampFont, text: &str) -> f64 {
    let Ok(face) = ttf_parser::Face::parse(&font.data, 0) else {
        return 0.0;
    };
    let u = face.units_per_em() as f64;
    text.nfc()
        .filter_map(|c| face.glyph_index(c))
        .map(|g| face.glyph_hor_advance(g).unwrap_or(0) as f64 * FONT_SIZE / u)
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cid_set_marks_each_cid_from_the_high_bit() {
        assert_eq!(super::cid_set(3), [0b1110_0000]);
        assert_eq!(super::cid_set(8), [0xFF]);
        assert_eq!(super::cid_set(9), [0xFF, 0x80]);
    }

    #[test]
    fn iso8601_has_the_offset() {
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(super::iso8601(t, 420), "2026-11-18T18:06:40+07:00");
        assert_eq!(super::iso8601(t, 0), "2026-11-18T11:06:40+00:00");
    }
}
