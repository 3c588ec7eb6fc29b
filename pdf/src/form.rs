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

/// A node's own /T, resolved (readers resolve a partial name given by reference: kyso read
/// `/T 14 0 R` as no name and missed a lock on the full one; found by an attacker's reading,
/// 2026-12-02).
/// A name whose text cannot be shorter than [`MAX_NAME_BYTES`] decoded (each byte at least
/// half a character's UTF-8) is not decoded: it comes back as a name just over the limit, which
/// ends its branch as a longer one would (two hundred fields naming one 2 MB string decoded it
/// each time: 28 s for a 4.5 KB file; helper 215, 2026-12-06).
pub fn own_name(doc: &Document<'_>, d: &Dict) -> Option<String> {
    d.get("T").map(|t| {
        let o = doc.resolve(t).ok();
        match o.as_ref().and_then(Object::as_string) {
            Some(s) if s.len() > 2 * MAX_NAME_BYTES + 2 => "?".repeat(MAX_NAME_BYTES + 1),
            _ => text(o.as_ref()),
        }
    })
}

/// A node's own /FT, resolved (`/FT 14 0 R`, 14 being /Tx, is a text field to readers), a
/// long one kept as unknown.
pub fn own_type(doc: &Document<'_>, d: &Dict) -> Option<Vec<u8>> {
    let t = doc.resolve(d.get("FT")?).ok()?;
    let t = t.as_name()?;
    Some(if t.len() <= MAX_FT_BYTES {
        t.to_vec()
    } else {
        b"(unknown)".to_vec()
    })
}

/// One node of the form's field tree: a field, or a widget that is only a kid of one.
#[derive(Debug, Clone)]
pub struct FieldNode {
    /// Fully qualified name of the field this node is or belongs to.
    pub name: String,
    /// The name read up the node's /Parent chain, as readers read it, when that is another
    /// (a node two fields list as a kid, or whose /Parent is not the field that lists it).
    pub parent_name: Option<String>,
    /// `/FT`, own or inherited — inherited down /Kids and up /Parent alike; where the two
    /// disagree, [`DISAGREEING`] (no field type: not a signature).
    pub ft: Option<Vec<u8>>,
    /// Readers may name it otherwise than `name` and `parent_name` say: it (or a field above
    /// it) is a kid of several fields, or its /Parent chain loops or is deeper than kyso reads.
    pub unsure: bool,
    /// The nearest ancestor-or-self with a `/T`: the field object proper.
    pub field: Option<ObjRef>,
}

/// The field type of a node whose /Kids ancestors and /Parent chain give it different types:
/// kyso took a text field under a signature field's /Kids for a signature, Poppler and MuPDF
/// read /FT /Tx through its /Parent and drew its value from the form's defaults (found by an
/// attacker's reading, 2026-12-02).
pub const DISAGREEING: &[u8] = b"(disagreeing)";

/// Names and field types read up /Parent chains (§12.7.3.1–2: readers inherit /FT and build
/// fully qualified names through /Parent), each ancestor read once.
#[derive(Default)]
pub struct ByParent {
    memo: std::collections::HashMap<ObjRef, (String, Option<Vec<u8>>)>,
    bytes: usize,
}

impl ByParent {
    /// The fully qualified name and field type of node `d` (`r` when indirect) read up its
    /// /Parent chain: (name, /FT); `None` when the chain is too deep, loops or its names grow
    /// past what kyso keeps.
    pub fn read(
        &mut self,
        doc: &Document<'_>,
        r: Option<ObjRef>,
        d: &Dict,
    ) -> Option<(String, Option<Vec<u8>>)> {
        if let Some(m) = r.and_then(|r| self.memo.get(&r)) {
            return Some(m.clone());
        }
        let mut chain: Vec<(Option<ObjRef>, Dict)> = vec![(r, d.clone())];
        let mut base = (String::new(), None);
        while let Some(p) = chain.last().and_then(|(_, d)| d.get("Parent").cloned()) {
            if let Some(m) = p.as_ref().and_then(|p| self.memo.get(&p)) {
                base = m.clone();
                break;
            }
            if chain.len() > MAX_FIELD_DEPTH
                || p.as_ref()
                    .is_some_and(|p| chain.iter().any(|(c, _)| *c == Some(p)))
            {
                return None;
            }
            match doc.resolve(&p).ok().and_then(|o| o.as_dict().cloned()) {
                Some(pd) => chain.push((p.as_ref(), pd)),
                // A parent that is there but kyso cannot read: readers name the node through
                // it, kyso cannot (a lock on "x.amount" missed a field whose parent "x" held a
                // key twice; found by an attacker's reading, 2026-12-02).
                None if p.as_ref().is_some_and(|p| doc.holds(p.num)) => return None,
                None => break,
            }
        }
        let (mut name, mut ft) = base;
        for (r, d) in chain.iter().rev() {
            if let Some(t) = own_name(doc, d) {
                name = if name.is_empty() {
                    t
                } else {
                    format!("{name}.{t}")
                };
            }
            if let Some(own) = own_type(doc, d) {
                ft = Some(own);
            }
            if name.len() > MAX_NAME_BYTES || self.bytes + name.len() > MAX_NAMES_BYTES {
                return None;
            }
            if let Some(r) = r {
                self.bytes += name.len();
                self.memo.insert(*r, (name.clone(), ft.clone()));
            }
        }
        Some((name, ft))
    }
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
    // Shared /Kids arrays whose kids were marked met again: marked once (each field naming the
    // array re-read it whole: N fields sharing an array of M took N × M, 46 s for 350 KB, in
    // verification and, with no time limit, in signing; helper 200).
    let mut shared_marked = HashSet::new();
    let mut by_parent = ByParent::default();
    // Nodes met again from another parent (named after the first only), and each node's
    // parent in `out`.
    let mut again: HashSet<ObjRef> = HashSet::new();
    let mut parents: Vec<Option<usize>> = Vec::new();
    let mut pushes = 0usize;
    let mut name_bytes = 0usize;
    let mut stack: Vec<(Object, Option<usize>, usize)> = Vec::new();
    let mut push = |stack: &mut Vec<(Object, Option<usize>, usize)>,
                    again: &mut HashSet<ObjRef>,
                    f: &Object,
                    parent: Option<usize>,
                    depth: usize| {
        if let Some(r) = f.as_ref() {
            if !seen.insert(r) {
                again.insert(r);
                return;
            }
        }
        if pushes >= MAX_FIELD_PUSHES {
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
        push(&mut stack, &mut again, f, None, 0);
    }
    while let Some((f, parent, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || out.len() > MAX_FIELD_NODES || crate::stop::stopped() {
            continue;
        }
        let r = f.as_ref();
        let Ok(obj) = doc.resolve(&f) else { continue };
        let Some(d) = obj.as_dict() else { continue };
        let t = own_name(doc, d);
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
        let own = own_type(doc, d);
        let ft = own
            .clone()
            .or_else(|| parent_node.and_then(|p| p.ft.clone()));
        // Readers inherit up /Parent: where that gives another type or name, say so. A chain
        // kyso cannot read leaves a node's own type as it is (an empty signature field whose
        // /Parent loops is still a signature field) and its name unsure.
        let (parent_name, ft, unsure) = match by_parent.read(doc, r, d) {
            Some((n, pft)) => (
                (n != name).then_some(n),
                if pft == ft {
                    ft
                } else {
                    Some(DISAGREEING.to_vec())
                },
                false,
            ),
            None => (None, own.or_else(|| Some(DISAGREEING.to_vec())), true),
        };
        let field = if t.is_some() {
            r
        } else {
            parent_node.and_then(|p| p.field)
        };
        // A /Kids array by reference is read once: every kid of it is met the first time
        // (and named after that parent only: each is unsure).
        let kids = match d.get("Kids") {
            Some(Object::Ref(a)) if !seen_kids.insert(*a) => {
                if shared_marked.insert(*a) {
                    if let Ok(Object::Array(shared)) = doc.get(*a) {
                        again.extend(shared.iter().filter_map(Object::as_ref));
                    }
                }
                None
            }
            k => k.and_then(|k| doc.resolve(k).ok()),
        };
        out.push((
            r,
            d.clone(),
            FieldNode {
                name,
                parent_name,
                ft,
                unsure,
                field,
            },
        ));
        parents.push(parent);
        let me = out.len() - 1;
        if let Some(kids) = kids {
            let kids = kids.as_array().unwrap_or(&[]);
            // A branch cut at the depth limit holds fields kyso does not name.
            if depth + 1 > MAX_FIELD_DEPTH && !kids.is_empty() {
                out[me].2.unsure = true;
            }
            for k in kids.iter().rev() {
                push(&mut stack, &mut again, k, Some(me), depth + 1);
            }
        }
    }
    // Unsure below an unsure node, or one met from another parent too (parents come first).
    for i in 0..out.len() {
        let inherited = parents[i].is_some_and(|p| out[p].2.unsure);
        if inherited || out[i].0.is_some_and(|r| again.contains(&r)) {
            out[i].2.unsure = true;
        }
    }
    out
}
