//! The policy that judges a signature's later changes (ISO 32000-1 §12.8.2, ETSI EN 319 142-1
//! §5.4, and what Adobe and pyHanko allow): further signatures and document time-stamps,
//! validation data (DSS), document metadata, form filling where a certification allows it, and
//! annotations where it allows them. Everything else fails the signature.
//!
//! DocMDP P=1 permits no change but validation data and document time-stamps (the updates
//! EN 319 142-1 makes for B-LT and B-LTA, which ISO 32000-2 §12.8.2.2 does not count as
//! changes). A signature field added later that is not signed and shows an appearance on a
//! page is something nobody signed over the signed content: the signature becomes
//! INDETERMINATE, with a warning naming the field.

use super::diff::{AddedAnnot, AddedField, Change, ListChange};
use super::mdp::FieldLock;

/// What a signature permits after it.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    /// The DocMDP permission of the document's certification signature, if any (1–3).
    pub docmdp: Option<i64>,
    /// This signature's FieldMDP lock.
    pub lock: Option<FieldLock>,
    /// `docmdp`'s P=1 was set by a signature's field lock (its /P, ISO 32000-2 §12.7.5.5:
    /// Acrobat's "lock document after signing"), not by a certification.
    pub locked_by_field: bool,
}

/// The judgement of a signature's later changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    /// Changes that fail the signature.
    pub violations: Vec<String>,
    /// Things that make the signature INDETERMINATE.
    pub warnings: Vec<String>,
    /// Allowed changes worth telling.
    pub notes: Vec<String>,
}

use super::diff::key_list as keys;

impl Permissions {
    fn frozen(&self) -> bool {
        self.docmdp == Some(1)
    }

    /// Who set P=1, as the messages name it.
    fn who(&self) -> &'static str {
        if self.locked_by_field {
            "a signature's field lock"
        } else {
            "the certification"
        }
    }

    fn field(&self, f: &AddedField, j: &mut Judgement) {
        if !f.signature {
            j.violations.push(format!(
                "a form field that is not a signature ({:?}) was added",
                f.name
            ));
        } else if self.frozen() && !f.doc_timestamp {
            j.violations.push(format!(
                "signature field {:?} was added, which {} (DocMDP P=1: no changes) forbids",
                f.name,
                self.who()
            ));
        }
    }

    fn annot(&self, page: usize, a: &AddedAnnot, j: &mut Judgement) {
        if !a.signature {
            if self.docmdp != Some(3) {
                j.violations.push(format!(
                    "a {} annotation was added to page {page}",
                    a.subtype
                ));
            } else if a.visible || a.actions {
                // Permitted, and said: an annotation can draw over what was certified, and
                // its actions (on opening the page, say) switch layers or hide fields in
                // viewers that run them.
                j.notes.push(format!(
                    "a {} annotation was added to page {page} after this signature, as the certification (DocMDP P=3) permits: what it shows{} was not signed by this signature",
                    a.subtype,
                    if a.actions { ", and the actions it carries (/A, /AA)," } else { "" }
                ));
            }
            return;
        }
        // A signature field needs no action; one added with actions can, in a viewer that runs
        // them (on opening the page, say), switch the signed content's layers off or hide
        // fields: nothing a signature covers (an attacker's reading, 2026-12-03: /AA /PO
        // SetOCGState on an invisible signature widget).
        if a.actions {
            j.violations.push(format!(
                "a signature widget ({:?}) added to page {page} after this signature carries actions (/A, /AA) a viewer may run, which can hide or switch what the page shows",
                a.name
            ));
        }
        // Under P=1 only an invisible document time-stamp may be added.
        let lta_update = a.doc_timestamp && !a.visible;
        if self.frozen() && !lta_update {
            j.violations.push(format!(
                "a signature widget ({:?}) was added to page {page}, which {} (DocMDP P=1: no changes) forbids",
                a.name,
                self.who()
            ));
        }
        match (a.visible, a.signed) {
            // A TSA vouches for a time, not for what a page shows: anyone can have a document
            // time-stamp made over content of their choosing.
            (true, true) if a.doc_timestamp => j.warnings.push(format!(
                "a document time-stamp ({:?}) added after this signature shows an appearance on page {page}: no signer vouches for what it shows",
                a.name
            )),
            (true, true) => j.notes.push(format!(
                "a later signature ({:?}) put a visible appearance on page {page}: what it shows was not signed by this signature",
                a.name
            )),
            (true, false) => j.warnings.push(format!(
                "an unsigned signature field ({:?}) added after this signature shows an appearance on page {page} that no signature covers",
                a.name
            )),
            _ => {}
        }
    }

    /// Judge the changes.
    pub fn judge(&self, changes: &[Change]) -> Judgement {
        let mut j = Judgement::default();
        for c in changes {
            if kyso_pdf::stop::stopped() {
                break; // the caller discards the result
            }
            match c {
                Change::Chain(m) => j.violations.push(m.clone()),
                Change::CatalogReplaced => {
                    j.violations.push("the document catalog was replaced by another object".into())
                }
                Change::Deleted { num, .. } => j.violations.push(format!("object {num}, which the signed revision uses, was deleted")),
                Change::Unreadable { num } => j.violations.push(format!(
                    "object {num} was replaced by one that cannot be read"
                )),
                Change::DefinedAfterUnreadable { num } => j.violations.push(format!(
                    "object {num} is used by the signed revision but could not be read there (missing, free or misplaced, which viewers repair); a later revision defines it"
                )),
                Change::CatalogKeys(k) => j.violations.push(format!("the document catalog's {} changed", keys(k))),
                Change::DssReplaced { is_dict } => {
                    if !is_dict {
                        j.violations.push("the catalog's /DSS was replaced by something that is not a dictionary".into());
                    }
                }
                Change::MetadataReplaced { is_stream } => {
                    if self.frozen() {
                        j.violations.push(format!("the document metadata changed, which {} (DocMDP P=1) forbids", self.who()));
                    } else if !is_stream {
                        j.violations.push("the catalog's /Metadata was replaced by something that is not a stream".into());
                    }
                }
                Change::AcroFormKeys(k) => {
                    // /DA and a rewritten /DR change how field values without an appearance
                    // are drawn; only /SigFlags may change (and /DR grow: FormResourcesAdded).
                    let bad: Vec<String> =
                        k.iter().filter(|k| k.as_str() != "SigFlags").cloned().collect();
                    if !bad.is_empty() {
                        j.violations.push(format!("the form's {} changed", keys(&bad)));
                    }
                }
                Change::NeedAppearancesCleared => {
                    let m = "a later revision removed the form's /NeedAppearances (pyHanko does when it signs): readers now show the fields' stored appearances where, when this signature was made, they redrew each field from its value; check that the fields show what was signed";
                    if self.frozen() {
                        j.violations.push(format!("{m} ({}, DocMDP P=1, forbids any change)", self.who()));
                    } else {
                        j.warnings.push(m.into());
                    }
                }
                Change::FormResourcesAdded { used_for_drawing: true } => j.violations.push(
                    "the form's default resources gained entries, and a viewer draws field values or annotation text with them (one without an appearance)".into(),
                ),
                Change::FormResourcesAdded { used_for_drawing: false } => {
                    if self.frozen() {
                        j.violations.push(format!("the form's default resources changed, which {} (DocMDP P=1) forbids", self.who()));
                    }
                }
                Change::Fields(ListChange::Replaced) => j
                    .violations
                    .push("the form's field list lost, reordered or replaced fields".into()),
                Change::Fields(ListChange::Grew(added)) => {
                    for f in added {
                        self.field(f, &mut j);
                    }
                }
                Change::PageKeys { page, keys: k } => {
                    j.violations.push(format!("page {page}: {} changed", if k.is_empty() { "the page object".into() } else { keys(k) }))
                }
                Change::Annots { page, change: ListChange::Replaced } => {
                    j.violations.push(format!("annotations of page {page} were removed or replaced"))
                }
                Change::Annots { page, change: ListChange::Grew(added) } => {
                    for a in added {
                        self.annot(*page, a, &mut j);
                    }
                }
                Change::AnnotationModified { page, subtype } => {
                    if self.docmdp != Some(3) {
                        j.violations.push(format!("a {subtype} annotation of page {page} was changed"));
                    } else {
                        j.notes.push(format!("a {subtype} annotation of page {page} was changed after this signature, as the certification (DocMDP P=3) permits: what it shows was not signed by this signature"));
                    }
                }
                Change::FieldChanged {
                    name,
                    also,
                    unsure,
                    signature,
                    was_empty,
                    fillable,
                    terminal,
                    value_signed,
                    value_timestamp,
                    visible,
                    flag_hidden,
                    was_visible,
                    keys: k,
                } => {
                    // Locked under any name it goes by (readers name a field up its /Parent
                    // chain: a field two fields list as a kid passed a lock on its other
                    // name; found by an attacker's reading, 2026-12-02).
                    let locked = self.lock.as_ref().is_some_and(|l| {
                        *unsure || l.locks(name) || also.iter().any(|n| l.locks(n))
                    });
                    if *signature {
                        self.signature_field_changed(
                            name,
                            locked,
                            *was_empty,
                            (*value_signed, *value_timestamp),
                            (*was_visible, *visible, *flag_hidden),
                            k,
                            &mut j,
                        )
                    } else {
                        self.field_changed(name, locked, *fillable, *terminal, k, &mut j)
                    }
                }
                Change::SignatureValueChanged { num } => j.violations.push(format!("signature dictionary {num} was changed")),
                Change::ValidationData => {}
                Change::Metadata => {
                    if self.frozen() {
                        j.violations.push(format!("the document metadata changed, which {} (DocMDP P=1) forbids", self.who()));
                    }
                }
                Change::MetadataUnread(why) => {
                    if self.frozen() {
                        j.violations.push(format!("the document metadata (XMP) changed, which {} (DocMDP P=1) forbids but for an update's restated dates and producer, and kyso could not compare the two packets: {why}", self.who()));
                    }
                }
                Change::FormFont { num, used_for_drawing } => {
                    if *used_for_drawing {
                        j.violations.push(format!(
                            "font {num} of the form's default resources changed, and a viewer draws field values or annotation text with it (one without an appearance)"
                        ))
                    } else if self.frozen() {
                        j.violations.push(format!("form font {num} changed, which {} (DocMDP P=1) forbids", self.who()))
                    }
                }
                Change::FormDefaults { keys: k, used_for_drawing } => {
                    if *used_for_drawing {
                        j.violations.push(format!(
                            "the form's {} changed, and a viewer draws field values or annotation text with them (one without an appearance)",
                            keys(k)
                        ))
                    } else if self.frozen() {
                        j.violations.push(format!("the form's {} changed, which {} (DocMDP P=1) forbids", keys(k), self.who()))
                    }
                }
                Change::Extensions => {}
                Change::RebuiltHistory { num, place, what, content } => {
                    let m = format!(
                        "a PDF reader that rebuilds this file's cross-reference table (which readers do when they find it damaged) may show object {num} as an earlier revision of the document had it ({place}): {what} differ from what this signature covers"
                    );
                    if *content {
                        j.warnings.push(m)
                    } else {
                        j.notes.push(m)
                    }
                }
                Change::RebuiltField { name, keys: k } => j.warnings.push(format!(
                    "a PDF reader that rebuilds this file's cross-reference table (which readers do when they find it damaged) may show form field {name:?} as it was before it was filled: its {} differ from what this signature covers",
                    keys(k)
                )),
                Change::Content { num, what } => j.violations.push(format!("object {num} ({what}) was changed")),
            }
        }
        j
    }

    /// A signature field changed: signing an empty one (its value set once to a signature
    /// made later, its appearance added) is allowed; an appearance given to an empty field
    /// without a signature is a warning; anything else about a signed one is a violation.
    #[allow(clippy::too_many_arguments)]
    fn signature_field_changed(
        &self,
        name: &str,
        locked: bool,
        was_empty: bool,
        (value_signed, value_timestamp): (bool, bool),
        (was_visible, visible, flag_hidden): (bool, bool, bool),
        k: &[String],
        j: &mut Judgement,
    ) {
        // What it showed when this signature was made is gone from some reader: drawn
        // no more, or hidden by flags that Poppler and MuPDF honour (pdf.js does not).
        let taken_away = was_visible && (!visible || flag_hidden);
        if locked {
            j.violations.push(format!(
                "signature field {name:?} is locked by this signature (FieldMDP) and was changed"
            ));
            return;
        }
        let appearance_only = k.iter().all(|k| matches!(k.as_str(), "AP" | "AS" | "F"));
        let signing = k
            .iter()
            .all(|k| matches!(k.as_str(), "V" | "AP" | "AS" | "F"));
        if !was_empty {
            j.violations.push(format!(
                "signature field {name:?}, already signed, was altered"
            ));
        } else if value_signed && signing {
            if self.frozen() {
                j.violations.push(format!(
                    "signature field {name:?} was signed, which {} (DocMDP P=1: no changes) forbids",
                    self.who()
                ));
            } else if taken_away {
                // A warning: a document time-stamp (anyone can have one made) put into the
                // field after it was hidden took the drawing away, and "900 VND" showed
                // (helper 230).
                j.warnings.push(format!(
                    "a later signature ({name:?}) took away what an empty signature field of this one showed when it was made: the page shows otherwise than this signature saw it"
                ));
            } else if value_timestamp && visible {
                j.warnings.push(format!(
                    "signature field {name:?} was given a document time-stamp after this signature and shows an appearance: no signer vouches for what it shows"
                ));
            } else if visible {
                // As for a visible signature added in a field of its own.
                j.notes.push(format!(
                    "a later signature ({name:?}) put a visible appearance on an empty signature field of this one: what it shows was not signed by this signature"
                ));
            }
        } else if appearance_only {
            if self.frozen() && (visible || was_visible) {
                j.violations.push(format!(
                    "the unsigned signature field {name:?} was shown otherwise after this signature, which {} (DocMDP P=1: no changes) forbids",
                    self.who()
                ));
            } else if was_visible {
                // What it showed was part of what the signer saw (helper 228).
                j.warnings.push(format!(
                    "the unsigned signature field {name:?} showed an appearance when this signature was made, and was shown otherwise after it: the page shows what no signature covers"
                ));
            } else if visible {
                j.warnings.push(format!(
                    "the unsigned signature field {name:?} was given an appearance after this signature that no signature covers"
                ));
            }
        } else {
            j.violations.push(format!(
                "signature field {name:?} got a value that is not a signature made after this one"
            ));
        }
    }

    fn field_changed(
        &self,
        name: &str,
        locked: bool,
        fillable: bool,
        terminal: bool,
        k: &[String],
        j: &mut Judgement,
    ) {
        if locked {
            j.violations.push(format!(
                "form field {name:?} is locked by this signature (FieldMDP) and was changed"
            ));
            return;
        }
        match self.docmdp {
            // No viewer lets its user fill a read-only field or a push button: a change to
            // one is no form filling.
            Some(p) if p >= 2 && !fillable => j.violations.push(format!(
                "form field {name:?}, read-only or a push button (no viewer fills it), was changed: {} changed",
                keys(k)
            )),
            // Filling is of a field that holds the value; the fields under another take its
            // /DA, /Q, /V and /Ff, locked ones too.
            Some(p) if p >= 2 && !terminal => j.violations.push(format!(
                "form field {name:?}, whose fields under it inherit what it holds: {} changed",
                keys(k)
            )),
            Some(p) if p >= 2 => {
                // Filling a field: its value, appearance and appearance state, and how a reader
                // draws the value when it redraws it (/DA, /Q, /MK, /BS: PyMuPDF rewrites them
                // when it fills; found by a false-failure review, 2026-12-03). None of these
                // shows more than the new appearance the filler may write anyway.
                let bad: Vec<String> = k
                    .iter()
                    .filter(|k| !matches!(k.as_str(), "V" | "AS" | "AP" | "DA" | "Q" | "MK" | "BS"))
                    .cloned()
                    .collect();
                if !bad.is_empty() {
                    j.violations.push(format!("form field {name:?}: {} changed", keys(&bad)));
                }
            }
            Some(_) => j.violations.push(format!(
                "form field {name:?} was filled in or changed, which {} (DocMDP P=1: no changes) forbids",
                self.who()
            )),
            None => j.violations.push(format!(
                "form field {name:?} was filled in or changed, which no certification permits"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_sixteen_keys_and_counts_the_rest() {
        let many: Vec<String> = (0..3600).map(|i| format!("K{i}")).collect();
        let j = Permissions::default().judge(&[Change::CatalogKeys(many)]);
        assert_eq!(j.violations.len(), 1);
        assert!(
            j.violations[0].contains("/K0, /K1,") && j.violations[0].contains("/K15 and 3584 more"),
            "{:?}",
            j.violations
        );
        assert!(j.violations[0].len() < 300, "{}", j.violations[0]);
    }

    fn annot(signature: bool, signed: bool, ts: bool, visible: bool) -> AddedAnnot {
        AddedAnnot {
            subtype: if signature { "Widget" } else { "FreeText" }.into(),
            signature,
            signed,
            doc_timestamp: ts,
            visible,
            name: "X".into(),
            actions: false,
        }
    }

    fn grew(a: AddedAnnot) -> Change {
        Change::Annots {
            page: 1,
            change: ListChange::Grew(vec![a]),
        }
    }

    #[test]
    fn docmdp_p1_admits_only_validation_data_and_document_time_stamps() {
        let p1 = Permissions {
            docmdp: Some(1),
            ..Default::default()
        };
        let lta = [
            Change::ValidationData,
            Change::DssReplaced { is_dict: true },
            Change::Fields(ListChange::Grew(vec![AddedField {
                name: "ts".into(),
                signature: true,
                doc_timestamp: true,
            }])),
            grew(annot(true, true, true, false)),
            Change::AcroFormKeys(vec!["SigFlags".into()]),
        ];
        assert_eq!(p1.judge(&lta), Judgement::default());
        for bad in [
            grew(annot(true, true, false, false)),
            grew(annot(true, true, true, true)),
            Change::Metadata,
            Change::MetadataUnread("the XMP packet was not read: a limit".into()),
            Change::FormResourcesAdded {
                used_for_drawing: false,
            },
            Change::FieldChanged {
                fillable: true,
                name: "s".into(),
                also: vec![],
                unsure: false,
                signature: true,
                was_empty: true,
                value_signed: true,
                value_timestamp: false,
                visible: false,
                flag_hidden: false,
                was_visible: false,
                terminal: true,
                keys: vec!["V".into()],
            },
        ] {
            assert_eq!(
                p1.judge(std::slice::from_ref(&bad)).violations.len(),
                1,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn actions_on_an_added_signature_widget_fail_and_are_said_of_p3_annotations() {
        let acting = |signature, visible| AddedAnnot {
            actions: true,
            ..annot(signature, false, false, visible)
        };
        for docmdp in [None, Some(2), Some(3)] {
            let p = Permissions {
                docmdp,
                ..Default::default()
            };
            let j = p.judge(&[grew(acting(true, false))]);
            assert_eq!(j.violations.len(), 1, "{docmdp:?} {j:?}");
            assert!(j.violations[0].contains("actions"), "{j:?}");
        }
        let p3 = Permissions {
            docmdp: Some(3),
            ..Default::default()
        };
        let j = p3.judge(&[grew(acting(false, false))]);
        assert!(j.violations.is_empty() && j.notes.len() == 1, "{j:?}");
        assert!(j.notes[0].contains("actions it carries"), "{j:?}");
    }

    #[test]
    fn unsigned_visible_fields_are_warnings_and_annotations_need_p3() {
        let p2 = Permissions {
            docmdp: Some(2),
            ..Default::default()
        };
        let j = p2.judge(&[grew(annot(true, false, false, true))]);
        assert!(j.violations.is_empty() && j.warnings.len() == 1, "{j:?}");
        let j = p2.judge(&[grew(annot(true, true, false, true))]);
        assert!(j.violations.is_empty() && j.warnings.is_empty() && j.notes.len() == 1);
        assert_eq!(
            p2.judge(&[grew(annot(false, false, false, true))])
                .violations
                .len(),
            1
        );
        let p3 = Permissions {
            docmdp: Some(3),
            ..Default::default()
        };
        let added = p3.judge(&[grew(annot(false, false, false, true))]);
        assert!(added.violations.is_empty() && added.warnings.is_empty());
        // Permitted, and said: what a new annotation shows was not signed.
        assert!(
            added
                .notes
                .iter()
                .any(|n| n.contains("as the certification (DocMDP P=3) permits")),
            "{added:?}"
        );
        // Without a certification, filling a field is not permitted; with P=2 it is, unless
        // no viewer lets its user fill the field (read-only, a push button).
        let p2 = Permissions {
            docmdp: Some(2),
            ..Default::default()
        };
        let filled = |fillable| Change::FieldChanged {
            fillable,
            name: "so_ho_so".into(),
            also: vec![],
            unsure: false,
            signature: false,
            was_empty: false,
            terminal: true,
            value_signed: false,
            value_timestamp: false,
            visible: true,
            flag_hidden: false,
            was_visible: false,
            keys: vec!["V".into()],
        };
        assert_eq!(p2.judge(&[filled(false)]).violations.len(), 1);
        let fill = filled(true);
        assert_eq!(
            Permissions::default()
                .judge(std::slice::from_ref(&fill))
                .violations
                .len(),
            1
        );
        assert!(p2.judge(std::slice::from_ref(&fill)).violations.is_empty());
        // How a reader draws the value may change with it; not on a field holding fields
        // (they inherit /DA, /Q, /V: a locked kid drew another value).
        let restyled = |terminal| Change::FieldChanged {
            fillable: true,
            name: "so_ho_so".into(),
            also: vec![],
            unsure: false,
            signature: false,
            was_empty: false,
            terminal,
            value_signed: false,
            value_timestamp: false,
            visible: true,
            flag_hidden: false,
            was_visible: false,
            keys: ["AP", "DA", "BS", "V"].map(String::from).to_vec(),
        };
        assert!(p2.judge(&[restyled(true)]).violations.is_empty());
        assert_eq!(p2.judge(&[restyled(false)]).violations.len(), 1);
    }

    #[test]
    fn a_visible_document_time_stamp_is_a_warning() {
        let none = Permissions::default();
        // Added as a new widget.
        let j = none.judge(&[grew(annot(true, true, true, true))]);
        assert!(j.violations.is_empty() && j.warnings.len() == 1, "{j:?}");
        // Put into an existing empty signature field.
        let stamp = |visible| Change::FieldChanged {
            fillable: true,
            name: "ky".into(),
            also: vec![],
            unsure: false,
            signature: true,
            was_empty: true,
            terminal: true,
            value_signed: true,
            value_timestamp: true,
            visible,
            flag_hidden: false,
            was_visible: false,
            keys: vec!["V".into(), "AP".into()],
        };
        let j = none.judge(&[stamp(true)]);
        assert!(j.violations.is_empty() && j.warnings.len() == 1, "{j:?}");
        assert_eq!(none.judge(&[stamp(false)]), Judgement::default());
    }
}
