//! Modification detection and prevention (ISO 32000-1 §12.8.2): the DocMDP permission a
//! certification signature sets for the whole document, and the fields a FieldMDP lock
//! forbids changing — matched to field objects by their fully qualified names.

use super::fields::{text, Found};
use kyso_pdf::{Document, Object};

/// A FieldMDP lock (§12.8.2.4): which fields a signature forbids changing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLock {
    pub action: Action,
    /// Fully qualified field names.
    pub fields: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    All,
    Include,
    Exclude,
}

impl FieldLock {
    /// Does the lock cover the field with this fully qualified name? (A name the lock lists
    /// covers its descendants too: locking `a` locks `a.b`.)
    pub fn locks(&self, name: &str) -> bool {
        // The name and each of its dotted prefixes looked up (a scan of the lock's names per
        // changed field cost names × fields; helper 200).
        let listed = self.fields.contains(name)
            || name
                .match_indices('.')
                .any(|(i, _)| self.fields.contains(&name[..i]));
        match self.action {
            Action::All => true,
            Action::Include => listed,
            Action::Exclude => !listed,
        }
    }
}

/// The transform of a signature's /Reference array with this method, resolved.
fn reference<'a>(doc: &Document<'a>, sig: &kyso_pdf::Dict, method: &str) -> Option<kyso_pdf::Dict> {
    let refs = doc.resolve(sig.get("Reference")?).ok()?;
    refs.as_array()?
        .iter()
        .take(64)
        .filter_map(|r| doc.resolve(r).ok())
        .filter_map(|r| r.as_dict().cloned())
        .find(|d| d.get("TransformMethod").is_some_and(|m| m.is_name(method)))
}

/// Is this the certification signature: the one the catalog's /Perms /DocMDP names in the
/// revision it signed (`signed`), with a DocMDP transform there? Its permission /P then, 1 to 3
/// (default 2; a value out of range is read as the strictest, 1). What a dictionary found later
/// says of itself decides nothing.
pub fn docmdp_permission(signed: &Document<'_>, f: &Found) -> Option<i64> {
    let root = signed.dict(signed.root()).ok()?;
    let perms = signed.resolve(root.get("Perms")?).ok()?;
    let sig = signed.resolve(perms.as_dict()?.get("DocMDP")?).ok()?;
    let sig = sig.as_dict()?;
    if sig.get("Contents")? != f.sig.get("Contents")? {
        return None;
    }
    let d = reference(signed, sig, "DocMDP")?;
    Some(signed.docmdp_level(d.get("TransformParams")))
}

/// The permission a signature's field lock sets for the revisions after it
/// ([`Document::lock_level`]), read in the revision the signature signed (`signed`).
pub fn lock_permission(signed: &Document<'_>, f: &Found) -> Option<i64> {
    let field = f.field.and_then(|r| signed.dict(r).ok());
    signed.lock_level(&f.sig, field.as_ref())
}

/// The FieldMDP lock of a signature: from its /Reference, or else from its field's /Lock.
pub fn field_lock(doc: &Document<'_>, f: &Found) -> Option<FieldLock> {
    let params = match reference(doc, &f.sig, "FieldMDP") {
        Some(d) => doc.resolve(d.get("TransformParams")?).ok()?,
        None => {
            let field = doc.dict(f.field?).ok()?;
            doc.resolve(field.get("Lock")?).ok()?
        }
    };
    let p = params.as_dict()?;
    let action = match p.get("Action").and_then(Object::as_name) {
        Some(b"Include") => Action::Include,
        Some(b"Exclude") => Action::Exclude,
        // /All, and anything else: the strictest reading
        _ => Action::All,
    };
    // Each name resolved: an indirect string read as "" made an /Include lock cover nothing
    // (found by an attacker's reading, 2026-12-02). A name that is no string makes the lock
    // the strictest reading.
    let names: Vec<Option<String>> = p
        .get("Fields")
        .and_then(|f| doc.resolve(f).ok())
        .and_then(|f| {
            f.as_array().map(|a| {
                a.iter()
                    .map(|x| {
                        let x = doc.resolve(x).ok();
                        x.as_ref()
                            .and_then(Object::as_string)
                            .is_some()
                            .then(|| text(x.as_ref()))
                    })
                    .collect()
            })
        })
        .unwrap_or_default();
    if names.iter().any(Option::is_none) {
        return Some(FieldLock {
            action: Action::All,
            fields: Default::default(),
        });
    }
    let fields = names.into_iter().flatten().collect();
    Some(FieldLock { action, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_match_fully_qualified_names_only() {
        let lock = |action, f: &[&str]| FieldLock {
            action,
            fields: f.iter().map(|s| s.to_string()).collect(),
        };
        let inc = lock(Action::Include, &["a.so_ho_so"]);
        assert!(inc.locks("a.so_ho_so"));
        assert!(!inc.locks("b.so_ho_so"));
        assert!(!inc.locks("so_ho_so"));
        let exc = lock(Action::Exclude, &["a.so_ho_so"]);
        assert!(!exc.locks("a.so_ho_so"));
        assert!(exc.locks("b.so_ho_so"));
        let parent = lock(Action::Include, &["a"]);
        assert!(parent.locks("a.x"));
        assert!(!parent.locks("ab"));
        assert!(lock(Action::All, &[]).locks("anything"));
    }
}
