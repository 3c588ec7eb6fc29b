//! What each object of a signed revision is, by where the document uses it — never by what the
//! object says it is. A content stream that carries `/Type /DSS`, or a `/Metadata` entry
//! pointing at a page's content, does not make page content into validation data: an object
//! reached as page content is page content, whatever else it is reached as.
//!
//! The walk starts at the trailer's /Root and /Info and follows every reference, each edge
//! giving its target a role from the role of its source and the key it is under. References to
//! objects the revision cannot read (free, missing, or not at their offset) are collected: a
//! later revision must not define them, since viewers repair such objects when they display.

use super::fields::FieldNode;
use kyso_pdf::{Document, ObjRef, Object};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Most objects walked in one revision (every object of a very large file).
pub const MAX_OBJECTS: usize = 2_000_000;

/// Most objects walked in all the signed revisions of one file. Each signature before the last
/// walks the revision it signed, and they hold mostly the same objects: 32 signatures over
/// 70,000 objects in object streams, a 1.2 MB file, took 6.5 s (release; helper 215's shape),
/// and 64 over two million each would take minutes.
pub const MAX_WALKED: usize = MAX_OBJECTS;

/// The role of an object in a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Catalog,
    /// An intermediate node of the page tree.
    PageTreeNode,
    /// A page (1-based).
    Page(usize),
    /// A page's /Annots array.
    Annots(usize),
    /// An annotation of a page (widgets included).
    Annotation(usize),
    AcroForm,
    /// The form's /Fields array, or a field's /Kids array.
    FieldList,
    /// A node of the field tree: a field, or a widget that is a field's kid.
    Field,
    /// A signature dictionary (a signature field's value, or /Perms's).
    SignatureValue,
    /// The catalog's /Perms.
    Perms,
    /// The Document Security Store and everything in it.
    Dss,
    /// The catalog's XMP /Metadata stream.
    Metadata,
    /// The trailer's /Info.
    Info,
    /// The font dictionary of the form's default resources, and its fonts.
    FormFont,
    /// The catalog's /Extensions.
    Extensions,
    /// Anything else the document uses: page content and resources, fonts, images,
    /// appearances, names, outlines, actions.
    Content,
}

/// Roles of the objects of a revision.
#[derive(Debug, Default)]
pub struct Roles {
    pub of: HashMap<ObjRef, BTreeSet<Role>>,
    /// References to objects the revision cannot read.
    pub unreadable: BTreeSet<ObjRef>,
    /// Objects walked without error, by number (for "is this object number in use here").
    pub numbers: HashSet<u32>,
}

impl Roles {
    pub fn has(&self, r: ObjRef, role: Role) -> bool {
        self.of.get(&r).is_some_and(|s| s.contains(&role))
    }
}

/// How an edge gives its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    /// Not followed: back references of the document's structure (a field's /P): the
    /// structure is walked from its root anyway.
    Skip,
    /// A back reference followed only when it names no place of the structure (a page, a page
    /// tree node, a field: walked from the root anyway): an annotation's /P names its page,
    /// but Ghostscript takes an open popup's text from the dictionary its /P names when it
    /// has no /Parent — one rewritten "900 VND" after signing, never walked, passed as
    /// TOTAL-PASSED (helper 231).
    Back(Role),
    /// The target takes the role — unless the role is content and the target has a place of
    /// its own in the document's structure (a structure element's /Pg, an outline's /Dest
    /// name a page; they do not make it content).
    Role(Role),
    /// The target takes the role whatever else it is, and so does everything below it: what a
    /// page draws (its /Contents and /Resources, inherited ones too, and what they use) and
    /// what an annotation shows (its /AP).
    Strong(Role),
}

/// The role a value under `key` of a dictionary with role `role` takes.
fn child_role(role: Role, key: &[u8], sig_field: bool, widget: bool) -> Edge {
    use Role::*;
    Edge::Role(match (role, key) {
        // A field's or a widget's /Parent is a field, whether or not the /Fields tree reaches
        // it: readers take the value, type and appearance settings a widget inherits from
        // its /Parent chain (a widget whose /Parent no /Fields array held had that field's
        // value changed after signing, unseen; found by an attacker's reading, 2026-12-02).
        // A popup's /Parent is its markup annotation, whose text and author it shows, whether
        // or not a page lists that annotation: an annotation of the same page (Ghostscript drew
        // an open popup's text from a parent no page listed, which no walk reached, rewritten
        // "900 VND" after signing, TOTAL-PASSED; helper 228). An annotation's /P is its page,
        // unless it names something else ([`Edge::Back`]).
        (Field, b"Parent") => Field,
        (Annotation(_), b"Parent") if widget => Field,
        // Walked once whichever page's popup names it (below).
        (Annotation(n), b"Parent") => return Edge::Back(Annotation(n)),
        (Annotation(n), b"P") => return Edge::Back(Annotation(n)),
        (Field, b"P") => return Edge::Skip,
        (Catalog, b"Pages") => PageTreeNode,
        (Catalog, b"AcroForm") => AcroForm,
        (Catalog, b"DSS") => Dss,
        (Catalog, b"Metadata") => Metadata,
        (Catalog, b"Perms") => Perms,
        (Catalog, b"Extensions") => Extensions,
        // A page inherits from its ancestors, whether or not the tree's /Kids reach them:
        // a page's /Parent chain is page tree, and what it draws is content.
        (PageTreeNode | Page(_), b"Kids" | b"Parent") => PageTreeNode,
        (PageTreeNode | Page(_), b"Contents" | b"Resources") => return Edge::Strong(Content),
        (Page(n), b"Annots") => Annots(n),
        (Annots(n), _) => Annotation(n),
        (Annotation(_), b"V") | (Field, b"V") if sig_field => SignatureValue,
        (Annotation(_) | Field, b"AP") => return Edge::Strong(Content),
        (AcroForm, b"Fields") => FieldList,
        (AcroForm, b"DR") => FormFont,
        (FieldList, _) => Field,
        (Field, b"Kids") => FieldList,
        (Perms, _) => SignatureValue,
        (Dss, _) => Dss,
        (Info, _) => Info,
        (Extensions, _) => Extensions,
        (FormFont, _) => FormFont,
        _ => Content,
    })
}

/// Annotation subtypes (ISO 32000-2 §12.5.6): what may stand in a page's /Annots as an
/// annotation with a place of its own.
const ANNOTATION_SUBTYPES: [&[u8]; 28] = [
    b"Text",
    b"Link",
    b"FreeText",
    b"Line",
    b"Square",
    b"Circle",
    b"Polygon",
    b"PolyLine",
    b"Highlight",
    b"Underline",
    b"Squiggly",
    b"StrikeOut",
    b"Caret",
    b"Stamp",
    b"Ink",
    b"Popup",
    b"FileAttachment",
    b"Sound",
    b"Movie",
    b"Screen",
    b"Widget",
    b"PrinterMark",
    b"TrapNet",
    b"Watermark",
    b"3D",
    b"Redact",
    b"Projection",
    b"RichMedia",
];

/// Objects with a place of their own in the document's structure: the catalog, the page
/// tree's nodes and pages, the annotations of pages, the field tree's nodes. Each is a
/// dictionary, never a stream, and an annotation must have an annotation subtype: an object
/// cannot hide from being content by being listed somewhere it does not belong. A reference
/// from content that is not what a page draws (a structure element's /Pg, an outline's /Dest,
/// an /OpenAction) does not make such an object content.
fn structural(
    doc: &Document<'_>,
    pages: &[ObjRef],
    fields: &HashMap<ObjRef, FieldNode>,
) -> HashSet<ObjRef> {
    let is_dict = |r: ObjRef| matches!(doc.get(r), Ok(Object::Dict(_)));
    let mut out: HashSet<ObjRef> = fields.keys().copied().filter(|r| is_dict(*r)).collect();
    out.insert(doc.root());
    out.extend(pages.iter().copied());
    // Intermediate page tree nodes: from the root through /Kids.
    if let Ok(root) = doc.dict(doc.root()) {
        let mut stack: Vec<(ObjRef, usize)> = root
            .get("Pages")
            .and_then(Object::as_ref)
            .map(|r| (r, 0))
            .into_iter()
            .collect();
        while let Some((r, depth)) = stack.pop() {
            if depth > 64 || out.len() > MAX_OBJECTS || (depth > 0 && out.contains(&r)) {
                continue;
            }
            let Ok(Object::Dict(d)) = doc.get(r) else {
                continue;
            };
            if let Some(kids) = d.get("Kids").and_then(|k| doc.resolve(k).ok()) {
                out.insert(r);
                for k in kids.as_array().unwrap_or(&[]) {
                    if let Some(k) = k.as_ref() {
                        stack.push((k, depth + 1));
                    }
                }
            }
        }
    }
    // Each /Annots array by reference and each annotation read once (N pages sharing one
    // array of M read it N times, and each annotation in it: N × M; helper 200).
    let mut arrays = HashSet::new();
    let mut annotations = HashSet::new();
    for p in pages {
        let Ok(d) = doc.dict(*p) else { continue };
        if let Some(Object::Ref(a)) = d.get("Annots") {
            if !arrays.insert(*a) {
                continue;
            }
        }
        let Some(annots) = d.get("Annots").and_then(|a| doc.resolve(a).ok()) else {
            continue;
        };
        for a in annots
            .as_array()
            .unwrap_or(&[])
            .iter()
            .filter_map(Object::as_ref)
        {
            if !annotations.insert(a) {
                continue;
            }
            if let Ok(Object::Dict(ad)) = doc.get(a) {
                let subtype = ad.get("Subtype").and_then(Object::as_name);
                if subtype.is_some_and(|s| ANNOTATION_SUBTYPES.contains(&s)) {
                    out.insert(a);
                }
            }
        }
    }
    out
}

/// Why a revision cannot be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error("the signed revision uses more than {MAX_OBJECTS} objects")]
    TooLarge,
    #[error("the signed revisions use more than {MAX_WALKED} objects in all")]
    TooMany,
    #[error("the signed revision's page tree cannot be read: {0}")]
    PageTree(String),
    /// The work's stop fired (its time or memory limit): the caller discards the walk.
    #[error("stopped at the work's limit")]
    Stopped,
}

/// Walk `doc` from its trailer. `fields`: the field tree's nodes by object (for which values
/// are signatures); `left`: what the file's walks may still visit (of [`MAX_WALKED`]).
pub fn walk(
    doc: &Document<'_>,
    fields: &HashMap<ObjRef, FieldNode>,
    left: &mut usize,
) -> Result<Roles, WalkError> {
    let mut roles = Roles::default();
    let page_list = doc
        .pages()
        .map_err(|e| WalkError::PageTree(e.to_string()))?;
    let pages: HashMap<ObjRef, usize> = page_list
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, i + 1))
        .collect();
    let places = structural(doc, &page_list, fields);
    let mut seen: HashSet<(ObjRef, Role, bool)> = HashSet::new();
    // An object reached again under another role (an /Annots array every page shares, as
    // Annots(n) of each) is parsed at most twice: N pages over one array of M parsed it N
    // times (helper 200). It is kept from its second reading on: most objects are reached
    // once, and keeping each of them held a copy of every object of the revision (72 MB of
    // a 2.2 MB file of 200,000 objects, per walk). Streams are not kept (their data is the
    // bulk of a file); dictionaries and arrays, at most once each, hold no more than the
    // file's own objects.
    let mut parsed: HashMap<ObjRef, std::rc::Rc<Object>> = HashMap::new();
    let mut read_once: HashSet<ObjRef> = HashSet::new();
    let mut work: Vec<(ObjRef, Edge)> = Vec::new();
    let t = doc.trailer();
    if let Some(r) = t.get("Root").and_then(Object::as_ref) {
        work.push((r, Edge::Role(Role::Catalog)));
    }
    match t.get("Info") {
        Some(Object::Ref(r)) => work.push((*r, Edge::Role(Role::Info))),
        // Given directly in the trailer: what it refers to is the document information's too
        // (helper 236).
        Some(info @ Object::Dict(_)) => edges(info, Edge::Role(Role::Info), false, 0, &mut work),
        _ => {}
    }
    // What back references reached: each walked once, whichever page's annotation named it (one
    // dictionary that annotations of 4,000 pages name, holding an array of 1.5 million
    // elements, was walked once per page: 20 s for one revision; helper 233).
    let mut walked_back: HashSet<ObjRef> = HashSet::new();
    while let Some((r, edge)) = work.pop() {
        // Objects read from the cache check no stop: a walk that revisits them checks here,
        // so the service's time limit ends it (helper 233).
        if kyso_pdf::stop::stopped() {
            return Err(WalkError::Stopped);
        }
        let back = matches!(edge, Edge::Back(_));
        let (mut role, strong) = match edge {
            Edge::Skip => continue,
            Edge::Role(Role::Content) if places.contains(&r) => continue,
            Edge::Back(_) if places.contains(&r) || !walked_back.insert(r) => continue,
            Edge::Role(role) | Edge::Back(role) => (role, false),
            Edge::Strong(role) => (role, true),
        };
        // A page tree kid that is a page is that page.
        if role == Role::PageTreeNode {
            if let Some(n) = pages.get(&r) {
                role = Role::Page(*n);
            }
        }
        if !seen.insert((r, role, strong)) {
            continue;
        }
        if seen.len() > MAX_OBJECTS {
            return Err(WalkError::TooLarge);
        }
        *left = left.checked_sub(1).ok_or(WalkError::TooMany)?;
        let obj = match parsed.get(&r) {
            Some(o) => o.clone(),
            None => match doc.get(r) {
                Ok(o) => {
                    let o = std::rc::Rc::new(o);
                    if !matches!(*o, Object::Stream(_)) && !read_once.insert(r) {
                        parsed.insert(r, o.clone());
                    }
                    o
                }
                Err(_) => {
                    roles.unreadable.insert(r);
                    continue;
                }
            },
        };
        // A page no page tree holds any longer, named by an annotation's /P: a page, not what
        // a popup shows (walked as an annotation, its /Parent up the page tree made every page
        // a field, and an annotation added under P=3 failed; helper 233). A /Contents that is
        // text is what Ghostscript shows, whatever the /Type says.
        if back && page_like(&obj) {
            continue;
        }
        roles.of.entry(r).or_default().insert(role);
        roles.numbers.insert(r.num);
        let sig_field = fields
            .get(&r)
            .is_some_and(|n| n.ft.as_deref() == Some(b"Sig"));
        let through = if strong {
            Edge::Strong(role)
        } else if back {
            Edge::Back(role)
        } else {
            Edge::Role(role)
        };
        edges(&obj, through, sig_field, 0, &mut work);
    }
    Ok(roles)
}

/// A page or a page tree node (/Type /Page or /Pages) whose /Contents is no text.
fn page_like(o: &Object) -> bool {
    o.as_dict().is_some_and(|d| {
        d.get("Type")
            .is_some_and(|t| t.is_name("Page") || t.is_name("Pages"))
            && !matches!(d.get("Contents"), Some(Object::String(_)))
    })
}

/// The references in `o` (reached by `edge`), each with the edge that reaches it; inline
/// dictionaries and arrays are looked into with the role of the key they are under. Below a
/// strong edge every key is followed and every edge is strong.
fn edges(o: &Object, edge: Edge, sig_field: bool, depth: usize, out: &mut Vec<(ObjRef, Edge)>) {
    if depth > kyso_pdf::parse::MAX_DEPTH {
        return;
    }
    match o {
        Object::Ref(r) => out.push((*r, edge)),
        Object::Array(a) => {
            // Elements of a list take the list's element role.
            let element = |r: Role| match r {
                Role::Annots(n) => Role::Annotation(n),
                Role::FieldList => Role::Field,
                Role::Perms => Role::SignatureValue,
                other => other,
            };
            let e = match edge {
                Edge::Skip => return,
                Edge::Role(r) => Edge::Role(element(r)),
                Edge::Back(r) => Edge::Back(element(r)),
                Edge::Strong(r) => Edge::Strong(element(r)),
            };
            for x in a {
                edges(x, e, sig_field, depth + 1, out);
            }
        }
        Object::Dict(_) | Object::Stream(_) => {
            let d = o.as_dict().expect("dict or stream");
            // A /Subtype given by reference is whatever it resolves to: its /Parent is walked
            // as a field, as a widget's is (a reader resolving it takes a widget's value up
            // /Parent).
            let widget = match d.get("Subtype") {
                Some(Object::Name(n)) => n.as_slice() == b"Widget",
                _ => true,
            };
            for (k, v) in &d.0 {
                let child = match edge {
                    Edge::Skip => return,
                    Edge::Strong(_) => Edge::Strong(Role::Content),
                    Edge::Role(role) => child_role(role, k, sig_field, widget),
                    // What a back reference names is no widget: its /Parent is no field.
                    Edge::Back(role) => child_role(role, k, sig_field, false),
                };
                edges(v, child, false, depth + 1, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every object a walk visits is taken from the file's one budget, and a walk that would
    /// visit more than is left fails: the signed revisions of a file share it.
    #[test]
    fn a_walk_spends_the_files_budget_and_fails_past_it() {
        let pdf = include_bytes!("../../../tests/fixtures/giay-phep.pdf");
        let doc = Document::parse(pdf).unwrap();
        let fields = super::super::fields::field_names(&doc);
        let mut left = MAX_WALKED;
        let roles = walk(&doc, &fields, &mut left).unwrap();
        let visits = MAX_WALKED - left;
        assert!(visits >= roles.of.len() && roles.of.len() > 10, "{visits}");

        let mut left = visits;
        walk(&doc, &fields, &mut left).unwrap();
        assert_eq!(left, 0);
        let mut left = visits - 1;
        assert_eq!(
            walk(&doc, &fields, &mut left).unwrap_err(),
            WalkError::TooMany
        );
    }
}
