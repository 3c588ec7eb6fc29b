//! The interactive form's field tree (ISO 32000-1 §12.7.3.1): every field and widget the
//! catalog's /AcroForm /Fields reaches through /Kids, with its fully qualified name and type.
//! The verifier finds signatures with it and the signer checks what a new signature may be
//! added to, so both see the same fields.

use crate::document::Document;
use crate::object::{Dict, ObjRef, Object};
use std::collections::HashSet;

/// Deepest field tree walked (§12.7.3.1 sets no limit; real forms use 3 or 4 levels).
pub const MAX_FIELD_DEPTH: usize = 32;
/// Most nodes walked.
pub const MAX_FIELD_NODES: usize = 100_000;
/// Most references and inline fields put on the walk's stack (each at most once).
const MAX_FIELD_PUSHES: usize = 4 * MAX_FIELD_NODES;
/// Longest fully qualified field name followed (bytes).
pub const MAX_NAME_BYTES: usize = 4096;
/// Most bytes of names the walk keeps, all nodes together.
const MAX_NAMES_BYTES: usize = 16 << 20;
/// Longest field type kept as it is (the types are Btn, Tx, Ch and Sig).
const MAX_FT_BYTES: usize = 16;

/// A text string (§7.9.2.2), decoded as kyso-pdf does (UTF-16BE, UTF-8, PDFDocEncoding).
pub fn text(o: Option<&Object>) -> String {
    o.and_then(Object::as_string)
        .map(crate::object::decode_text)
        .unwrap_or_default()
}

/// One node of the form's field tree: a field, or a widget that is only a kid of one.
#[derive(Debug, Clone)]
pub struct FieldNode {
    /// Fully qualified name of the field this node is or belongs to.
    pub name: String,
    /// `/FT`, own or inherited.
    pub ft: Option<Vec<u8>>,
    /// The nearest ancestor-or-self with a `/T`: the field object proper.
    pub field: Option<ObjRef>,
}

/// Walk the form's field tree: every node reached by reference, with its field's fully
/// qualified name and type. Loops, depth and unreadable nodes end a branch.
pub fn field_tree(doc: &Document<'_>) -> Vec<(Option<ObjRef>, Dict, FieldNode)> {
    let mut out = Vec::new();
    let Ok(root) = doc.dict(doc.root()) else {
        return out;
    };
    let Some(acro) = root.get("AcroForm").and_then(|a| doc.resolve(a).ok()) else {
        return out;
    };
    let fields = acro
        .as_dict()
        .and_then(|a| a.get("Fields"))
        .and_then(|f| doc.resolve(f).ok());
    // A reference is walked once, from where it is met first: marked when pushed, so a /Kids
    // array that every field shares costs its length once, not once per field (N fields each
    // naming the same N kids made N² pushes, each with a copy of its parent's name: 27 s and
    // 267 MB for 540 KB; found by an attacker's reading, 2026-12-02). Children keep their
    // parent's place in `out`, not a copy of it.
    let mut seen = HashSet::new();
    let mut seen_kids = HashSet::new();
    let mut pushes = 0usize;
    let mut name_bytes = 0usize;
    let mut stack: Vec<(Object, Option<usize>, usize)> = Vec::new();
    let mut push = |stack: &mut Vec<(Object, Option<usize>, usize)>,
                    f: &Object,
                    parent: Option<usize>,
                    depth: usize| {
        if f.as_ref().is_some_and(|r| !seen.insert(r)) || pushes >= MAX_FIELD_PUSHES {
            return;
        }
        pushes += 1;
        stack.push((f.clone(), parent, depth));
    };
    for f in fields
        .as_ref()
        .and_then(Object::as_array)
        .unwrap_or(&[])
        .iter()
        .rev()
    {
        push(&mut stack, f, None, 0);
    }
    while let Some((f, parent, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || out.len() > MAX_FIELD_NODES || crate::stop::stopped() {
            continue;
        }
        let r = f.as_ref();
        let Ok(obj) = doc.resolve(&f) else { continue };
        let Some(d) = obj.as_dict() else { continue };
        let t = d.get("T").map(|t| text(Some(t)));
        let parent_node = parent.map(|i| &out[i].2);
        let name = match (parent_node, &t) {
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
            (Some(p), None) => p.name.clone(),
            (Some(p), Some(t)) if p.name.is_empty() => t.clone(),
            (Some(p), Some(t)) => format!("{}.{t}", p.name),
        };
        // A fully qualified name longer than any form has ends its branch (its signatures, if
        // any, are still found by their /ByteRange); so do names past the walk's budget (each
        // node keeps its own: a 31-deep chain of long names over 99,000 inline kids held
        // 440 MB; found by an attacker's reading, 2026-12-02).
        if name.len() > MAX_NAME_BYTES || name_bytes + name.len() > MAX_NAMES_BYTES {
            continue;
        }
        name_bytes += name.len();
        // Field types are short names (Btn, Tx, Ch, Sig); a longer one is none of them, and
        // is not copied to every kid (a 20 KB /FT inherited by every node held 2 GB).
        let ft = d
            .get("FT")
            .and_then(Object::as_name)
            .map(|t| {
                if t.len() <= MAX_FT_BYTES {
                    t.to_vec()
                } else {
                    b"(unknown)".to_vec()
                }
            })
            .or_else(|| parent_node.and_then(|p| p.ft.clone()));
        let field = if t.is_some() {
            r
        } else {
            parent_node.and_then(|p| p.field)
        };
        // A /Kids array by reference is read once: every kid of it is met the first time.
        let kids = match d.get("Kids") {
            Some(Object::Ref(a)) if !seen_kids.insert(*a) => None,
            k => k.and_then(|k| doc.resolve(k).ok()),
        };
        out.push((r, d.clone(), FieldNode { name, ft, field }));
        let me = out.len() - 1;
        if let Some(kids) = kids {
            for k in kids.as_array().unwrap_or(&[]).iter().rev() {
                push(&mut stack, k, Some(me), depth + 1);
            }
        }
    }
    out
}
