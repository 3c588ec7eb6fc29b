//! The change classifier: every difference between a signed revision and the final file, as
//! one [`Change`] value. It judges nothing — `policy` does — but it looks at everything:
//!
//! - the cross-reference chain: the signed revision's sections must be the tail of the final
//!   chain, and every section added must lie after the signed bytes (a /Prev that skips the
//!   signed revision, or a section hidden inside the signed bytes, would let objects fall back
//!   or be redefined without being listed after the signature);
//! - every object the signed revision uses (see `roles`), compared with the object the final
//!   file resolves for the same reference — not only the objects later sections list;
//! - references the signed revision could not resolve, which later revisions must not define.

use super::fields::{text, FieldNode};
use super::roles::{Role, Roles};
use kyso_pdf::{Dict, Document, ObjRef, Object, XrefEntry};
use std::collections::{BTreeSet, HashMap, HashSet};

/// An annotation a later revision added to a page.
#[derive(Debug, Clone, PartialEq)]
pub struct AddedAnnot {
    pub subtype: String,
    /// A widget of a signature field.
    pub signature: bool,
    /// Its field holds a signature made after the signed revision (not one copied from it).
    pub signed: bool,
    /// That signature is a document time-stamp.
    pub doc_timestamp: bool,
    /// It shows something: a non-empty rectangle, a normal appearance, not hidden.
    pub visible: bool,
    /// The field's name, for messages.
    pub name: String,
}

/// A field a later revision added to the form's field list.
#[derive(Debug, Clone, PartialEq)]
pub struct AddedField {
    pub name: String,
    pub signature: bool,
    pub doc_timestamp: bool,
}

/// How a list (/Fields, /Annots) changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ListChange<T> {
    /// Old entries kept in order, new ones appended.
    Grew(Vec<T>),
    /// Entries removed, reordered or replaced.
    Replaced,
}

/// One difference between the signed revision and the final file.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The cross-reference chain does not keep the signed revision as it was.
    Chain(String),
    /// /Root names another object.
    CatalogReplaced,
    /// An object the signed revision used is gone (freed, or its generation changed).
    Deleted { num: u32, roles: BTreeSet<Role> },
    /// An object the signed revision used no longer reads.
    Unreadable { num: u32 },
    /// An object the signed revision referenced but could not read is defined later.
    DefinedAfterUnreadable { num: u32 },
    /// Keys of the catalog that changed (other than /AcroForm, /DSS, /Metadata and
    /// /Extensions, which have their own values, and /Version, which only raises the PDF version
    /// a later signature's features need).
    CatalogKeys(Vec<String>),
    /// /DSS now names another object or value; whether it is a dictionary.
    DssReplaced { is_dict: bool },
    /// /Metadata now names another object; whether it is a stream.
    MetadataReplaced { is_stream: bool },
    /// Keys of the form dictionary that changed, other than /Fields.
    AcroFormKeys(Vec<String>),
    /// The form's field list.
    Fields(ListChange<AddedField>),
    /// Keys of a page that changed, other than /Annots.
    PageKeys { page: usize, keys: Vec<String> },
    /// A page's annotations.
    Annots {
        page: usize,
        change: ListChange<AddedAnnot>,
    },
    /// An existing annotation (not a widget) changed.
    AnnotationModified { page: usize, subtype: String },
    /// A field (or widget) of the form changed: which keys.
    FieldChanged {
        name: String,
        signature: bool,
        /// A signature field that had no value in the signed revision.
        was_empty: bool,
        keys: Vec<String>,
    },
    /// A signature dictionary changed.
    SignatureValueChanged { num: u32 },
    /// Validation data (the DSS and what it holds) changed.
    ValidationData,
    /// Document metadata (XMP /Metadata, the trailer's /Info) changed.
    Metadata,
    /// A font of the form's default resources changed.
    FormFont { num: u32 },
    /// The catalog's /Extensions changed.
    Extensions,
    /// Anything else the document uses: page content, resources, fonts, images, appearances.
    Content { num: u32, what: String },
}

/// Equal as PDF objects (a real and an integer of the same value are equal; a stream's
/// /Length may differ).
pub fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Dict(x), Object::Dict(y)) => same_dict(x, y, &[]),
        (Object::Stream(x), Object::Stream(y)) => {
            same_dict(&x.dict, &y.dict, &["Length"]) && x.data == y.data
        }
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Object::Real(x), Object::Int(y)) | (Object::Int(y), Object::Real(x)) => *x == *y as f64,
        _ => a == b,
    }
}

/// Equal as maps, ignoring `skip` keys.
fn same_dict(a: &Dict, b: &Dict, skip: &[&str]) -> bool {
    changed_keys(a, b)
        .iter()
        .all(|k| skip.iter().any(|s| s == k))
}

/// The keys whose values differ (a key present on one side only differs).
pub fn changed_keys(a: &Dict, b: &Dict) -> Vec<String> {
    let keys: HashSet<&[u8]> =
        a.0.iter()
            .chain(b.0.iter())
            .map(|(k, _)| k.as_slice())
            .collect();
    let mut out: Vec<String> = keys
        .into_iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .filter(|k| match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => !same(x, y),
            (None, None) => false,
            _ => true,
        })
        .collect();
    out.sort();
    out
}

/// Old entries kept in order, new ones classified with `new`.
fn list_change<T>(
    old: &[Object],
    new: &[Object],
    mut classify: impl FnMut(&Object) -> T,
) -> ListChange<T> {
    if new.len() < old.len() || !old.iter().zip(new).all(|(a, b)| same(a, b)) {
        return ListChange::Replaced;
    }
    ListChange::Grew(new[old.len()..].iter().map(&mut classify).collect())
}

/// What the classifier compares.
pub struct Revisions<'a, 'd> {
    pub signed: &'a Document<'d>,
    pub last: &'a Document<'d>,
    /// Where the signed revision ends in the file.
    pub end: usize,
    pub roles: &'a Roles,
    /// The signed revision's field tree nodes.
    pub fields: &'a HashMap<ObjRef, FieldNode>,
    /// The final file's field tree nodes.
    pub last_fields: &'a HashMap<ObjRef, FieldNode>,
}

impl Revisions<'_, '_> {
    /// Whether object `num` may read differently in the final file: its entry differs, or it
    /// sits in an object stream whose entry differs.
    fn entry_changed(&self, num: u32) -> bool {
        let (a, b) = (self.signed.entry(num), self.last.entry(num));
        if a != b {
            return true;
        }
        match a {
            Some(XrefEntry::InStream { stream, .. }) => {
                self.signed.entry(stream) != self.last.entry(stream)
            }
            _ => false,
        }
    }

    fn list(doc: &Document<'_>, o: Option<&Object>) -> Vec<Object> {
        o.and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
    }

    /// Is the value `v` (in the final file) a signature made after the signed revision, and is
    /// it a document time-stamp?
    fn fresh_signature(&self, v: Option<&Object>) -> (bool, bool) {
        let Some(v) = v else { return (false, false) };
        if let Some(r) = v.as_ref() {
            // A signature value the signed revision already used is not a new signature.
            if self.roles.of.contains_key(&r) || self.roles.numbers.contains(&r.num) {
                return (false, false);
            }
        }
        let Some(d) = self.last.resolve(v).ok().and_then(|o| o.as_dict().cloned()) else {
            return (false, false);
        };
        let signed = d.get("ByteRange").is_some() && d.get("Contents").is_some();
        let ts = d.type_name() == Some(b"DocTimeStamp")
            || d.get("SubFilter")
                .is_some_and(|s| s.is_name("ETSI.RFC3161"));
        (signed, signed && ts)
    }

    fn added_annot(&self, o: &Object) -> AddedAnnot {
        let d = self
            .last
            .resolve(o)
            .ok()
            .and_then(|a| a.as_dict().cloned())
            .unwrap_or_default();
        let node = o.as_ref().and_then(|r| self.last_fields.get(&r));
        let parent = d
            .get("Parent")
            .and_then(|p| self.last.resolve(p).ok())
            .and_then(|p| p.as_dict().cloned());
        let signature = node.is_some_and(|n| n.ft.as_deref() == Some(b"Sig"))
            || d.get("FT").is_some_and(|t| t.is_name("Sig"))
            || parent
                .as_ref()
                .is_some_and(|p| p.get("FT").is_some_and(|t| t.is_name("Sig")));
        let value = d
            .get("V")
            .or_else(|| parent.as_ref().and_then(|p| p.get("V")));
        let (signed, doc_timestamp) = if signature {
            self.fresh_signature(value)
        } else {
            (false, false)
        };
        let area = d
            .get("Rect")
            .and_then(|r| self.last.resolve(r).ok())
            .and_then(|r| r.as_rect())
            .map(|v| (v[2] - v[0]) * (v[3] - v[1]))
            .unwrap_or(0.0);
        let flags = d.get("F").and_then(Object::as_int).unwrap_or(0);
        let hidden = flags & (2 | 32) != 0; // Hidden, NoView (§12.5.3)
        let has_appearance = d
            .get("AP")
            .and_then(|a| self.last.resolve(a).ok())
            .and_then(|a| a.as_dict().and_then(|a| a.get("N").cloned()))
            .is_some();
        AddedAnnot {
            subtype: d
                .get("Subtype")
                .and_then(Object::as_name)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_else(|| "?".into()),
            signature,
            signed,
            doc_timestamp,
            visible: area > 1.0 && !hidden && has_appearance,
            name: node
                .map(|n| n.name.clone())
                .unwrap_or_else(|| text(d.get("T"))),
        }
    }

    fn added_field(&self, o: &Object) -> AddedField {
        let d = self
            .last
            .resolve(o)
            .ok()
            .and_then(|a| a.as_dict().cloned())
            .unwrap_or_default();
        let node = o.as_ref().and_then(|r| self.last_fields.get(&r));
        let signature = node.is_some_and(|n| n.ft.as_deref() == Some(b"Sig"))
            || d.get("FT").is_some_and(|t| t.is_name("Sig"));
        let (_, doc_timestamp) = if signature {
            self.fresh_signature(d.get("V"))
        } else {
            (false, false)
        };
        AddedField {
            name: node
                .map(|n| n.name.clone())
                .unwrap_or_else(|| text(d.get("T"))),
            signature,
            doc_timestamp,
        }
    }

    fn acroform(&self, old: &Dict, new: &Dict, out: &mut Vec<Change>) {
        let keys = changed_keys(old, new);
        let other: Vec<String> = keys.iter().filter(|k| *k != "Fields").cloned().collect();
        if !other.is_empty() {
            out.push(Change::AcroFormKeys(other));
        }
        if keys.iter().any(|k| k == "Fields") {
            let a = Self::list(self.signed, old.get("Fields"));
            let b = Self::list(self.last, new.get("Fields"));
            out.push(Change::Fields(list_change(&a, &b, |o| self.added_field(o))));
        }
    }

    fn annots(&self, page: usize, old: &[Object], new: &[Object], out: &mut Vec<Change>) {
        out.push(Change::Annots {
            page,
            change: list_change(old, new, |o| self.added_annot(o)),
        });
    }

    /// Classify the change of object `r` (readable in both) under each of its roles.
    fn object(
        &self,
        r: ObjRef,
        roles: &BTreeSet<Role>,
        before: &Object,
        after: &Object,
        out: &mut Vec<Change>,
    ) {
        let what = || describe(before);
        let (bd, ad) = (before.as_dict(), after.as_dict());
        let shape_changed = std::mem::discriminant(before) != std::mem::discriminant(after);
        for role in roles {
            match role {
                Role::Catalog => {
                    let (Some(bd), Some(ad)) = (bd, ad) else {
                        out.push(Change::Content {
                            num: r.num,
                            what: "the document catalog".into(),
                        });
                        continue;
                    };
                    let keys = changed_keys(bd, ad);
                    let other: Vec<String> = keys
                        .iter()
                        .filter(|k| {
                            !matches!(
                                k.as_str(),
                                "AcroForm" | "DSS" | "Metadata" | "Extensions" | "Version"
                            )
                        })
                        .cloned()
                        .collect();
                    if !other.is_empty() {
                        out.push(Change::CatalogKeys(other));
                    }
                    for k in &keys {
                        match k.as_str() {
                            // Inline, or a reference to another object: judged like the form
                            // dictionary it names.
                            "AcroForm" => {
                                let old =
                                    bd.get("AcroForm").and_then(|a| self.signed.resolve(a).ok());
                                let new =
                                    ad.get("AcroForm").and_then(|a| self.last.resolve(a).ok());
                                match (
                                    old.as_ref().and_then(Object::as_dict),
                                    new.as_ref().and_then(Object::as_dict),
                                ) {
                                    (Some(o), Some(n)) => self.acroform(o, n, out),
                                    (None, Some(n)) => self.acroform(&Dict::new(), n, out),
                                    _ => out.push(Change::CatalogKeys(vec!["AcroForm".into()])),
                                }
                            }
                            "DSS" => out.push(Change::DssReplaced {
                                is_dict: ad
                                    .get("DSS")
                                    .and_then(|d| self.last.resolve(d).ok())
                                    .is_some_and(|d| matches!(d, Object::Dict(_))),
                            }),
                            "Metadata" => out.push(Change::MetadataReplaced {
                                is_stream: ad
                                    .get("Metadata")
                                    .and_then(|d| self.last.resolve(d).ok())
                                    .is_some_and(|d| matches!(d, Object::Stream(_))),
                            }),
                            "Extensions" => out.push(Change::Extensions),
                            _ => {}
                        }
                    }
                }
                Role::AcroForm => match (bd, ad) {
                    (Some(o), Some(n)) if !shape_changed => self.acroform(o, n, out),
                    _ => out.push(Change::AcroFormKeys(vec!["(the whole dictionary)".into()])),
                },
                Role::FieldList => {
                    let (Some(a), Some(b)) = (before.as_array(), after.as_array()) else {
                        out.push(Change::Fields(ListChange::Replaced));
                        continue;
                    };
                    out.push(Change::Fields(list_change(a, b, |o| self.added_field(o))));
                }
                Role::Page(n) => {
                    let (Some(bd), Some(ad)) = (bd, ad) else {
                        out.push(Change::PageKeys {
                            page: *n,
                            keys: vec!["(the whole page)".into()],
                        });
                        continue;
                    };
                    let keys = changed_keys(bd, ad);
                    let other: Vec<String> =
                        keys.iter().filter(|k| *k != "Annots").cloned().collect();
                    if !other.is_empty() || shape_changed {
                        out.push(Change::PageKeys {
                            page: *n,
                            keys: other,
                        });
                    }
                    if keys.iter().any(|k| k == "Annots") {
                        let a = Self::list(self.signed, bd.get("Annots"));
                        let b = Self::list(self.last, ad.get("Annots"));
                        self.annots(*n, &a, &b, out);
                    }
                }
                Role::Annots(n) => {
                    let (Some(a), Some(b)) = (before.as_array(), after.as_array()) else {
                        out.push(Change::Annots {
                            page: *n,
                            change: ListChange::Replaced,
                        });
                        continue;
                    };
                    self.annots(*n, a, b, out);
                }
                Role::Field => {
                    let node = self.fields.get(&r);
                    let (Some(bd), Some(ad)) = (bd, ad) else {
                        out.push(Change::Content {
                            num: r.num,
                            what: "a form field".into(),
                        });
                        continue;
                    };
                    let signature = node.is_some_and(|n| n.ft.as_deref() == Some(b"Sig"));
                    out.push(Change::FieldChanged {
                        name: node
                            .map(|n| n.name.clone())
                            .unwrap_or_else(|| text(bd.get("T"))),
                        signature,
                        was_empty: signature && bd.get("V").is_none(),
                        keys: changed_keys(bd, ad),
                    });
                }
                Role::Annotation(n) => {
                    // Widgets are judged as fields (the field tree reaches them too).
                    if roles.contains(&Role::Field) {
                        continue;
                    }
                    out.push(Change::AnnotationModified {
                        page: *n,
                        subtype: bd
                            .and_then(|d| d.get("Subtype"))
                            .and_then(Object::as_name)
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .unwrap_or_else(|| "?".into()),
                    });
                }
                Role::SignatureValue => out.push(Change::SignatureValueChanged { num: r.num }),
                Role::Dss => out.push(Change::ValidationData),
                Role::Metadata | Role::Info => {
                    if shape_changed {
                        out.push(Change::Content {
                            num: r.num,
                            what: what(),
                        });
                    } else {
                        out.push(Change::Metadata);
                    }
                }
                Role::FormFont => out.push(Change::FormFont { num: r.num }),
                Role::Extensions => out.push(Change::Extensions),
                Role::PageTreeNode => out.push(Change::Content {
                    num: r.num,
                    what: "the page tree".into(),
                }),
                Role::Perms => out.push(Change::CatalogKeys(vec!["Perms".into()])),
                Role::Content => out.push(Change::Content {
                    num: r.num,
                    what: format!("content the document shows or uses — {}", what()),
                }),
            }
        }
    }

    /// Every difference.
    pub fn changes(&self) -> Vec<Change> {
        let mut out = Vec::new();
        // The chain: the signed revision's sections as the tail, new sections after its end.
        let signed_chain = self.signed.chain_offsets();
        let last_chain = self.last.chain_offsets();
        let keeps_tail = last_chain.len() >= signed_chain.len()
            && last_chain[last_chain.len() - signed_chain.len()..] == signed_chain[..];
        if !keeps_tail {
            out.push(Change::Chain(
                "the final cross-reference chain does not continue from the signed revision's (a /Prev skips it or points elsewhere): objects may fall back to versions the signer did not see".into(),
            ));
            return out;
        }
        let added = &last_chain[..last_chain.len() - signed_chain.len()];
        if let Some(o) = added.iter().find(|o| **o < self.end) {
            out.push(Change::Chain(format!(
                "a cross-reference section at byte {o}, inside the signed bytes, is part of the final chain: it redefines objects without appearing after the signature"
            )));
            return out;
        }
        if self.signed.root() != self.last.root() {
            out.push(Change::CatalogReplaced);
            return out;
        }
        let mut refs: Vec<(&ObjRef, &BTreeSet<Role>)> = self.roles.of.iter().collect();
        refs.sort_by_key(|(r, _)| **r);
        for (r, roles) in refs {
            if !self.entry_changed(r.num) {
                continue;
            }
            let Ok(before) = self.signed.get(*r) else {
                continue; // walked, so readable; a failure here is the same as in the walk
            };
            let gen_now = match self.last.entry(r.num) {
                Some(XrefEntry::Offset { gen, .. }) => Some(gen),
                Some(XrefEntry::InStream { .. }) => Some(0),
                _ => None,
            };
            if gen_now != Some(r.gen) {
                out.push(Change::Deleted {
                    num: r.num,
                    roles: roles.clone(),
                });
                continue;
            }
            let Ok(after) = self.last.get(*r) else {
                out.push(Change::Unreadable { num: r.num });
                continue;
            };
            if !same(&before, &after) {
                self.object(*r, roles, &before, &after, &mut out);
            }
        }
        for r in &self.roles.unreadable {
            if self.entry_changed(r.num) && self.last.get(*r).is_ok() {
                out.push(Change::DefinedAfterUnreadable { num: r.num });
            }
        }
        out
    }
}

/// A short description of an object for messages: its kind, and the /Type or /Subtype it
/// claims (which decides nothing).
pub fn describe(o: &Object) -> String {
    let kind = match o {
        Object::Stream(_) => "a stream",
        Object::Dict(_) => "a dictionary",
        Object::Array(_) => "an array",
        _ => "a value",
    };
    let d = o.as_dict();
    match d.and_then(|d| {
        d.type_name()
            .or_else(|| d.get("Subtype").and_then(Object::as_name))
    }) {
        Some(t) => format!("{kind} that calls itself /{}", String::from_utf8_lossy(t)),
        None => kind.into(),
    }
}
