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

/// A revision too large to analyse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signed revision uses more than {MAX_OBJECTS} objects")]
pub struct TooLarge;

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
    /// Not followed: back references (/Parent, /P).
    Skip,
    /// The target takes the role.
    Role(Role),
    /// The target takes the role even if it has a place of its own in the document's structure
    /// (a page's own content: an object that is both a page's content stream and something
    /// else is page content).
    Strong(Role),
}

/// The role a value under `key` of a dictionary with role `role` takes.
fn child_role(role: Role, key: &[u8], sig_field: bool) -> Edge {
    use Role::*;
    if matches!(key, b"Parent" | b"P") {
        return Edge::Skip;
    }
    Edge::Role(match (role, key) {
        (Catalog, b"Pages") => PageTreeNode,
        (Catalog, b"AcroForm") => AcroForm,
        (Catalog, b"DSS") => Dss,
        (Catalog, b"Metadata") => Metadata,
        (Catalog, b"Perms") => Perms,
        (Catalog, b"Extensions") => Extensions,
        (PageTreeNode, b"Kids") => PageTreeNode,
        (Page(_), b"Contents" | b"Resources") => return Edge::Strong(Content),
        (Page(n), b"Annots") => Annots(n),
        (Annots(n), _) => Annotation(n),
        (Annotation(_), b"V") | (Field, b"V") if sig_field => SignatureValue,
        (Annotation(_), b"AP") | (Field, b"AP") => return Edge::Strong(Content),
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

/// Objects with a place of their own in the document's structure: the catalog, the page tree
/// and its pages, annotations, the field tree, signature values. A reference to one of them
/// from content (a structure element's /Pg, an outline's /Dest, an /OpenAction) does not make
/// it content.
fn structural(doc: &Document<'_>, fields: &HashMap<ObjRef, FieldNode>) -> HashSet<ObjRef> {
    let mut out: HashSet<ObjRef> = fields.keys().copied().collect();
    out.insert(doc.root());
    let Ok(root) = doc.dict(doc.root()) else {
        return out;
    };
    // The page tree, nodes and leaves, with every page's annotations.
    let mut stack: Vec<(Object, usize)> = root
        .get("Pages")
        .cloned()
        .map(|p| (p, 0))
        .into_iter()
        .collect();
    while let Some((o, depth)) = stack.pop() {
        if depth > 64 || out.len() > MAX_OBJECTS {
            break;
        }
        if let Some(r) = o.as_ref() {
            if !out.insert(r) && depth > 0 {
                continue;
            }
        }
        let Ok(node) = doc.resolve(&o) else { continue };
        let Some(d) = node.as_dict() else { continue };
        if let Some(kids) = d.get("Kids").and_then(|k| doc.resolve(k).ok()) {
            for k in kids.as_array().unwrap_or(&[]) {
                stack.push((k.clone(), depth + 1));
            }
        }
        if let Some(annots) = d.get("Annots").and_then(|a| doc.resolve(a).ok()) {
            if let Some(r) = d.get("Annots").and_then(Object::as_ref) {
                out.insert(r);
            }
            out.extend(
                annots
                    .as_array()
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Object::as_ref),
            );
        }
    }
    for (_, n) in fields.iter() {
        if let Some(f) = n.field {
            out.insert(f);
        }
    }
    out
}

/// Walk `doc` from its trailer. `fields`: the field tree's nodes by object (for which values
/// are signatures).
pub fn walk(doc: &Document<'_>, fields: &HashMap<ObjRef, FieldNode>) -> Result<Roles, TooLarge> {
    let mut roles = Roles::default();
    let pages: HashMap<ObjRef, usize> = doc
        .pages()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, i + 1))
        .collect();
    let places = structural(doc, fields);
    let mut work: Vec<(ObjRef, Edge)> = Vec::new();
    let t = doc.trailer();
    if let Some(r) = t.get("Root").and_then(Object::as_ref) {
        work.push((r, Edge::Role(Role::Catalog)));
    }
    if let Some(r) = t.get("Info").and_then(Object::as_ref) {
        work.push((r, Edge::Role(Role::Info)));
    }
    while let Some((r, edge)) = work.pop() {
        let (mut role, strong) = match edge {
            Edge::Skip => continue,
            Edge::Role(Role::Content) if places.contains(&r) => continue,
            Edge::Role(role) => (role, false),
            Edge::Strong(role) => (role, true),
        };
        // A page tree kid that is a page is that page.
        if role == Role::PageTreeNode {
            if let Some(n) = pages.get(&r) {
                role = Role::Page(*n);
            }
        }
        let entry = roles.of.entry(r).or_default();
        if !entry.insert(role) {
            continue;
        }
        if roles.of.len() > MAX_OBJECTS {
            return Err(TooLarge);
        }
        let obj = match doc.get(r) {
            Ok(o) => o,
            Err(_) => {
                roles.of.remove(&r);
                roles.unreadable.insert(r);
                continue;
            }
        };
        roles.numbers.insert(r.num);
        let sig_field = fields
            .get(&r)
            .is_some_and(|n| n.ft.as_deref() == Some(b"Sig"));
        // An indirect array of a page's content streams passes the page's claim on.
        let through = if strong && matches!(obj, Object::Array(_)) {
            Edge::Strong(role)
        } else {
            Edge::Role(role)
        };
        edges(&obj, through, sig_field, 0, &mut work);
    }
    Ok(roles)
}

/// The references in `o` (reached by `edge`), each with the edge that reaches it; inline
/// dictionaries and arrays are looked into with the role of the key they are under.
fn edges(o: &Object, edge: Edge, sig_field: bool, depth: usize, out: &mut Vec<(ObjRef, Edge)>) {
    if depth > kyso_pdf::parse::MAX_DEPTH {
        return;
    }
    let (role, strong) = match edge {
        Edge::Skip => return,
        Edge::Role(r) => (r, false),
        Edge::Strong(r) => (r, true),
    };
    let again = |r: Role| {
        if strong {
            Edge::Strong(r)
        } else {
            Edge::Role(r)
        }
    };
    match o {
        Object::Ref(r) => out.push((*r, edge)),
        Object::Array(a) => {
            // Elements of a list take the list's element role.
            let element = match role {
                Role::Annots(n) => Role::Annotation(n),
                Role::FieldList => Role::Field,
                Role::Perms => Role::SignatureValue,
                other => other,
            };
            for x in a {
                edges(x, again(element), sig_field, depth + 1, out);
            }
        }
        Object::Dict(_) | Object::Stream(_) => {
            let d = o.as_dict().expect("dict or stream");
            for (k, v) in &d.0 {
                let child = match child_role(role, k, sig_field) {
                    // Inside a page's own content everything is that content.
                    Edge::Role(r) if strong && r == Role::Content => Edge::Strong(r),
                    e => e,
                };
                edges(v, child, false, depth + 1, out);
            }
        }
        _ => {}
    }
}
