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
    let mut stack: Vec<(Object, Option<FieldNode>, usize)> = fields
        .as_ref()
        .and_then(Object::as_array)
        .unwrap_or(&[])
        .iter()
        .rev()
        .map(|f| (f.clone(), None, 0))
        .collect();
    let mut seen = HashSet::new();
    while let Some((f, parent, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || out.len() > MAX_FIELD_NODES {
            continue;
        }
        let r = f.as_ref();
        if let Some(r) = r {
            if !seen.insert(r) {
                continue;
            }
        }
        let Ok(obj) = doc.resolve(&f) else { continue };
        let Some(d) = obj.as_dict() else { continue };
        let t = d.get("T").map(|t| text(Some(t)));
        let name = match (&parent, &t) {
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
            (Some(p), None) => p.name.clone(),
            (Some(p), Some(t)) if p.name.is_empty() => t.clone(),
            (Some(p), Some(t)) => format!("{}.{t}", p.name),
        };
        let ft = d
            .get("FT")
            .and_then(Object::as_name)
            .map(<[u8]>::to_vec)
            .or_else(|| parent.as_ref().and_then(|p| p.ft.clone()));
        let field = if t.is_some() {
            r
        } else {
            parent.as_ref().and_then(|p| p.field)
        };
        let node = FieldNode { name, ft, field };
        if let Some(kids) = d.get("Kids").and_then(|k| doc.resolve(k).ok()) {
            for k in kids.as_array().unwrap_or(&[]).iter().rev() {
                stack.push((k.clone(), Some(node.clone()), depth + 1));
            }
        }
        out.push((r, d.clone(), node));
    }
    out
}
