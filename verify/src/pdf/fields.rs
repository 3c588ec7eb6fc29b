//! Where a PDF's signatures are (ISO 32000-1 §12.7.3.1, §12.8.1): the signature fields of the
//! form, and every signature dictionary in the file that no field shows — also one a later
//! revision freed or removed from the form, which is still in the file's bytes.

use kyso_pdf::{Dict, Document, ObjRef, Object};
use std::collections::{HashMap, HashSet};

/// Most `/ByteRange` occurrences looked at for hidden signatures.
pub const MAX_BYTERANGE_HITS: usize = 1_000;

/// A file with more /ByteRange entries than kyso looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the file holds more than {MAX_BYTERANGE_HITS} /ByteRange entries, or more reading in the objects around them than a file of its size can need")]
pub struct TooManyByteRanges;

/// Most other fields named as sharing one signature dictionary (`Found::shared_by`).
const MAX_SHARED_NAMES: usize = 8;

/// A signature dictionary, as found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The field's fully qualified name, or a description of where the dictionary was found.
    pub name: String,
    /// The field object, when a field shows the signature.
    pub field: Option<ObjRef>,
    /// The signature dictionary's object, when indirect.
    pub sig_ref: Option<ObjRef>,
    pub sig: Dict,
    /// No field of the final document shows this signature.
    pub hidden: bool,
    /// Other signature fields whose value is this same signature dictionary. Each signature
    /// is made with a field of its own: a second field naming it shows an appearance its
    /// signer never made (an empty field given an appearance and a /V pointing at the object
    /// number the next signature would take passed as signed by it; found by an attacker's
    /// reading, 2026-12-03).
    pub shared_by: Vec<String>,
}

pub use kyso_pdf::form::{field_tree, text, FieldNode};

/// Fully qualified names of the form's fields and widgets, by object.
pub fn field_names(doc: &Document<'_>) -> HashMap<ObjRef, FieldNode> {
    field_tree(doc)
        .into_iter()
        .filter_map(|(r, _, n)| r.map(|r| (r, n)))
        .collect()
}

/// Signature fields with a value, and the names of empty ones.
pub fn signature_fields(doc: &Document<'_>) -> (Vec<Found>, Vec<String>) {
    let mut found: Vec<Found> = Vec::new();
    // Where each signature dictionary is in `found`: a form of 100,000 signature fields (the
    // field tree's limit) is looked up in linear time, not quadratic.
    let mut at: HashMap<ObjRef, usize> = HashMap::new();
    let mut empty = Vec::new();
    for (r, d, node) in field_tree(doc) {
        if node.ft.as_deref() != Some(b"Sig") {
            continue;
        }
        match d.get("V") {
            Some(Object::Ref(v)) => {
                if let Some(&i) = at.get(v) {
                    // (A field's widgets repeating its value are that one field.) A few
                    // names say enough; 100,000 fields naming one signature are not listed.
                    let f = &mut found[i];
                    if f.name != node.name
                        && f.shared_by.len() < MAX_SHARED_NAMES
                        && !f.shared_by.contains(&node.name)
                    {
                        f.shared_by.push(node.name);
                    }
                    continue;
                }
                // A value MuPDF takes for a signature (any dictionary, a stream's too, so it
                // draws the widget's own appearance) is judged as one: a stream or an object
                // kyso cannot read fails as a signature, where it was passed over unreported
                // (found by an attacker's reading, 2026-12-06). A value that is not there is
                // an empty field.
                let sig = match doc.get(*v) {
                    Ok(Object::Dict(sig)) => sig,
                    Ok(Object::Stream(s)) => s.dict,
                    Ok(Object::Null) => {
                        empty.push(node.name);
                        continue;
                    }
                    Err(_) if !doc.holds(v.num) => {
                        empty.push(node.name);
                        continue;
                    }
                    // Not a dictionary (a number, a string): no reader takes it for a
                    // signature.
                    Ok(_) => continue,
                    Err(_) => Dict::new(),
                };
                at.insert(*v, found.len());
                found.push(Found {
                    name: node.name,
                    field: r,
                    sig_ref: Some(*v),
                    sig,
                    hidden: false,
                    shared_by: Vec::new(),
                });
            }
            Some(Object::Dict(sig)) => found.push(Found {
                name: node.name,
                field: r,
                sig_ref: None,
                sig: sig.clone(),
                hidden: false,
                shared_by: Vec::new(),
            }),
            // A widget that is only a kid of its field carries no value of its own.
            _ if d.get("T").is_none() && node.field != r => {}
            _ => empty.push(node.name),
        }
    }
    (found, empty)
}

fn is_signature_dict(d: &Dict) -> bool {
    d.get("ByteRange").is_some()
        && d.get("Contents").and_then(Object::as_string).is_some()
        && d.type_name()
            .is_none_or(|t| t == b"Sig" || t == b"DocTimeStamp")
}

/// The start of the indirect object (`N G obj`) whose bytes hold `at`, looking back from it.
fn object_start_before(data: &[u8], at: usize) -> Option<usize> {
    let mut end = at;
    // A signature dictionary's /Contents may precede its /ByteRange: skip back over up to
    // 1 MiB of it, one `obj` keyword at a time.
    let floor = at.saturating_sub(1 << 20);
    while end > floor {
        // (memmem's search, not a byte-by-byte window: up to 1,000 /ByteRange names each
        // searched back 1 MiB took 36 s; found by an attacker's reading, 2026-12-06.)
        let hit = memchr::memmem::rfind(&data[floor..end], b"obj")? + floor;
        // `<digits> <digits> obj` right before
        let mut i = hit;
        let mut fields = 0;
        // Not below the floor either: 30 MB of white space before a lone `obj` is walked
        // once, not once per /ByteRange.
        while fields < 2 {
            while i > floor && kyso_pdf::parse::is_ws(data[i - 1]) {
                i -= 1;
            }
            let digits_end = i;
            while i > floor && data[i - 1].is_ascii_digit() {
                i -= 1;
            }
            if i == digits_end {
                break;
            }
            fields += 1;
        }
        // A header cut by the floor (`1234 0 obj` read from `234`) names another object.
        let cut = i == floor
            && floor > 0
            && (data[floor - 1].is_ascii_digit() || kyso_pdf::parse::is_ws(data[floor - 1]));
        if fields == 2 && !cut {
            return Some(i);
        }
        end = hit;
    }
    None
}

/// Signature dictionaries in the file's bytes that `known` does not hold (by /Contents): a
/// signature hidden by a later revision — its field removed, its object freed or replaced.
/// Every object any cross-reference section placed is a candidate, and so is any `N G obj`
/// written before a `/ByteRange`.
pub fn hidden_signatures(
    doc: &Document<'_>,
    known: &[Found],
) -> Result<Vec<Found>, TooManyByteRanges> {
    let data = doc.data();
    let hits: Vec<usize> = memchr::memmem::find_iter(data, b"/ByteRange")
        .take(MAX_BYTERANGE_HITS + 1)
        .collect();
    if hits.len() > MAX_BYTERANGE_HITS {
        return Err(TooManyByteRanges);
    }
    if hits.len() <= known.len() {
        return Ok(Vec::new());
    }
    let placed = doc.all_offsets();
    let known_contents: HashSet<Vec<u8>> = known
        .iter()
        .filter_map(|f| {
            f.sig
                .get("Contents")
                .and_then(Object::as_string)
                .map(<[u8]>::to_vec)
        })
        .collect();
    let mut out: Vec<Found> = Vec::new();
    let mut tried = HashSet::new();
    // What the candidates may read, all told: four times the file. Each is read within what is
    // left, a failed reading charged all it was let read; past it, the file is refused, not
    // searched in part (a thousand headers before one long string each read the string: 1,000
    // × the file, 20 s for 2 MB; helper 200).
    let mut left = data.len().saturating_mul(4).saturating_add(1 << 20);
    for h in hits {
        if kyso_pdf::stop::stopped() {
            break; // the caller discards the result
        }
        let i = placed.partition_point(|(_, o)| *o <= h);
        let mut starts: Vec<usize> = Vec::new();
        if let Some(&(_, o)) = i.checked_sub(1).and_then(|i| placed.get(i)) {
            starts.push(o);
        }
        starts.extend(object_start_before(data, h));
        for start in starts {
            if !tried.insert(start) {
                continue;
            }
            let limit = start.saturating_add(left).min(data.len());
            let read = kyso_pdf::document::read_indirect_to(&data[..limit], start, &|r| {
                doc.get(r).ok().and_then(|o| o.as_int())
            });
            let spent = match &read {
                Ok((_, _, end)) => end.saturating_sub(start),
                Err(_) => limit - start,
            };
            left = left.saturating_sub(spent.max(1));
            if left == 0 {
                return Err(TooManyByteRanges);
            }
            let Ok((r, Object::Dict(d), _)) = read else {
                continue;
            };
            let contents = d
                .get("Contents")
                .and_then(Object::as_string)
                .map(<[u8]>::to_vec);
            if !is_signature_dict(&d)
                || contents
                    .as_ref()
                    .is_some_and(|c| known_contents.contains(c))
                || out
                    .iter()
                    .any(|f| f.sig.get("Contents") == d.get("Contents"))
            {
                continue;
            }
            out.push(Found {
                name: format!("(object {} — no field shows it)", r.num),
                field: None,
                sig_ref: Some(r),
                sig: d,
                hidden: true,
                shared_by: Vec::new(),
            });
        }
    }
    Ok(out)
}
