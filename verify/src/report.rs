//! The verdict: ETSI EN 319 102-1 indications (§5.1.2) and sub-indications (§5.1.3), per
//! signature and for the document, as JSON (DESIGN.md "The verify command") and as the human
//! summary Circular 15/2025/TT-BKHCN asks a verifier to show.

use serde::Serialize;

/// Main indication (EN 319 102-1 §5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub enum Indication {
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    /// The document carries no signature at all (kyso's, for the document-level verdict).
    #[serde(rename = "NO_SIGNATURE")]
    NoSignature,
}

impl Indication {
    /// Worse verdicts order later: PASSED < INDETERMINATE < FAILED.
    fn rank(self) -> u8 {
        match self {
            Indication::TotalPassed => 0,
            Indication::NoSignature => 1,
            Indication::Indeterminate => 2,
            Indication::TotalFailed => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::Indeterminate => "INDETERMINATE",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::NoSignature => "NO_SIGNATURE",
        }
    }

    /// `kyso verify`'s exit status: 0 passed, 1 failed, 2 indeterminate or no signature.
    pub fn exit_code(self) -> i32 {
        match self {
            Indication::TotalPassed => 0,
            Indication::TotalFailed => 1,
            Indication::Indeterminate | Indication::NoSignature => 2,
        }
    }
}

/// Sub-indications (EN 319 102-1 §5.1.3) that kyso reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    NotYetValid,
    Expired,
    SigConstraintsFailure,
    ChainConstraintsFailure,
    CertificateChainGeneralFailure,
    CryptoConstraintsFailure,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    RevokedNoPoe,
    OutOfBoundsNoPoe,
    TryLater,
    /// A detached signature given without its content: nothing to check it over.
    SignedDataNotFound,
    /// A time-stamp over another claims an earlier time than it: the two cannot both be
    /// right (EN 319 102-1 §5.1.3, TIMESTAMP_ORDER_FAILURE).
    TimestampOrderFailure,
}

/// The signer's certificate, as the report shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SignerSummary {
    pub subject: String,
    pub issuer: String,
    /// Hex.
    pub serial: String,
    /// SHA-256 of the certificate's DER, hex.
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
}

/// One signature's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub indication: Indication,
    pub subindication: Option<SubIndication>,
    /// e.g. `PAdES-B-T`, `CAdES-B-B`, `PDF adbe.pkcs7.detached`.
    pub format: String,
    pub signer: Option<SignerSummary>,
    /// Claimed signing time (CMS signing-time or PDF /M), RFC 3339.
    pub signing_time: Option<String>,
    /// Time of a valid signature time-stamp (proof of existence), RFC 3339.
    pub timestamp: Option<String>,
    /// PDF: the signature covers the whole file.
    pub covers_whole_document: Option<bool>,
    /// PDF: the field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The chain used, signer first (subjects).
    pub chain: Vec<String>,
    /// What was checked and what is wrong, in English; the first is the reason for the verdict.
    pub messages: Vec<String>,
    /// Circular 15/2025 items, machine-readable, for the human summary.
    pub facts: Facts,
    /// PDF: what later revisions changed that this signature does not allow (each also in
    /// `messages`); empty when nothing did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The validation data the verdict rests on.
    #[serde(skip)]
    pub evidence: crate::Evidence,
}

/// What Circular 15/2025 asks a verifier to show, gathered while validating (in the JSON
/// report as `facts`, for pages and programs that show the eight items themselves).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// The bytes signed are the bytes present.
    pub integrity: Option<bool>,
    /// The certificate was valid (in its period, not revoked as far as known) when signed.
    pub valid_at_signing: Option<bool>,
    /// Revocation status could be checked.
    pub revocation_checked: bool,
    /// The body that manages the certificate (the issuing CA's organization, or its name).
    pub ca_body: Option<String>,
    /// A certification path to a trust anchor was found: the issuer and the managing body
    /// (items 2 and 4) are vouched for, not only what the signer's certificate says.
    pub chain_trusted: bool,
    /// The time `valid_at_signing` is judged at is proven by a time-stamp, not claimed by the
    /// signer.
    pub time_proven: bool,
    /// The signer's certificate was on hold (certificateHold, a suspension) when judged, since
    /// this time (RFC 3339), and nothing at hand shows the hold lifted: the reason for a
    /// TRY_LATER, which "no CRL or OCSP response could be had" misstated (helper 178).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hold_since: Option<String>,
    /// Another certificate the verdict rests on — a CA of the path, a time-stamp's TSA or a CA
    /// of that — was on hold when judged, since this time (RFC 3339; the earliest), and nothing
    /// at hand shows the hold lifted: the reason for a TRY_LATER (it read "no CRL or OCSP
    /// response could be had"; 2026-12-06). For a document time-stamp, `on_hold_since` is its
    /// TSA's certificate, item 7's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_on_hold_since: Option<String>,
    /// The data at hand lists the signer's certificate revoked on this date (RFC 3339),
    /// before or after the signature: in the English messages only until 2026-12-05.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The signer's certificate was found not revoked by a CRL or OCSP response that knew its
    /// status at this time (RFC 3339; the latest such item): a revocation published after it
    /// would not show. Item 7 says it (helper 178: a stale CRL's "good" read as a plain "có").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_as_of: Option<String>,
}

impl SignatureReport {
    pub fn new(format: impl Into<String>) -> Self {
        SignatureReport {
            indication: Indication::TotalPassed,
            subindication: None,
            format: format.into(),
            signer: None,
            signing_time: None,
            timestamp: None,
            covers_whole_document: None,
            field: None,
            chain: Vec::new(),
            messages: Vec::new(),
            facts: Facts::default(),
            changes: Vec::new(),
            evidence: crate::Evidence::default(),
        }
    }

    /// Record a finding; the verdict becomes the worse of the current one and this one.
    pub fn fail(&mut self, ind: Indication, sub: SubIndication, msg: impl Into<String>) {
        let msg = msg.into();
        if ind.rank() > self.indication.rank() {
            self.indication = ind;
            self.subindication = Some(sub);
            self.messages.insert(0, msg);
        } else {
            self.messages.push(msg);
        }
    }

    pub fn note(&mut self, msg: impl Into<String>) {
        self.messages.push(msg.into());
    }
}

/// The verdict on a file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub indication: Indication,
    pub subindication: Option<SubIndication>,
    pub signatures: Vec<SignatureReport>,
    /// Document-level findings (a file that cannot be read, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}

/// Most characters of one text of a report (a message, a name): past it the text is cut and
/// ends in "…".
pub const MAX_TEXT: usize = 2_000;
/// Most entries of one list of a report (messages, changes, the chain): past it the rest are
/// told as one entry.
pub const MAX_ENTRIES: usize = 64;
/// Most characters of all the texts of a report together. Past it each list keeps its first
/// entry (a signature's first message is the reason for its verdict) and tells how many more
/// were left out, and every other text is cut to [`MIN_TEXT`] characters.
/// A file signed 64 times, whose later revision gave its catalog 3,600 keys of 127 control
/// characters, made a report of 353 MB of JSON — written after the validation's memory limit,
/// stored whole with an archive record the audit then refused (helper 227). At most six bytes
/// of JSON a character (`\u001b`), a report stays under 4 MB.
pub const MAX_REPORT_TEXT: usize = 512 * 1024;
/// What any text keeps once [`MAX_REPORT_TEXT`] is spent.
pub const MIN_TEXT: usize = 64;

/// `s` cut to at most `max` characters, the last of them "…".
fn cut(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max.saturating_sub(1)) {
        if s[at..].chars().nth(1).is_some() {
            s.truncate(at);
            s.push('…');
        }
    }
}

/// Each text of `v` once, where it first is, with how many times it was there: 1,000 junk
/// CRLs each said "does not verify" and pushed the one message that told what was not looked
/// at past a list's bounds.
fn once_each(v: &mut Vec<String>) {
    use std::collections::hash_map::{Entry, HashMap};
    let mut place: HashMap<&str, usize> = HashMap::new();
    let mut keep: Vec<(usize, usize)> = Vec::new();
    for (i, s) in v.iter().enumerate() {
        match place.entry(s.as_str()) {
            Entry::Occupied(e) => keep[*e.get()].1 += 1,
            Entry::Vacant(e) => {
                e.insert(keep.len());
                keep.push((i, 1));
            }
        }
    }
    if keep.len() == v.len() {
        return;
    }
    let mut once = Vec::with_capacity(keep.len());
    for (i, times) in keep {
        let mut s = std::mem::take(&mut v[i]);
        if times > 1 {
            s.push_str(&format!(" ({times} times)"));
        }
        once.push(s);
    }
    *v = once;
}

/// The characters the texts of a report may still take ([`MAX_REPORT_TEXT`]).
struct TextBudget(usize);

impl TextBudget {
    fn text(&mut self, s: &mut String) {
        cut(s, MAX_TEXT.min(self.0).max(MIN_TEXT));
        self.0 = self.0.saturating_sub(s.chars().count());
    }

    fn optional(&mut self, s: &mut Option<String>) {
        if let Some(s) = s {
            self.text(s);
        }
    }

    fn list(&mut self, v: &mut Vec<String>) {
        once_each(v);
        // Room left for the entry telling what was left out, if anything is.
        let room = if v.len() > MAX_ENTRIES {
            MAX_ENTRIES - 1
        } else {
            v.len()
        };
        let mut kept = 0;
        for s in v.iter_mut().take(room) {
            if kept > 0 && self.0 == 0 {
                break;
            }
            self.text(s);
            kept += 1;
        }
        if kept < v.len() {
            let more = v.len() - kept;
            v.truncate(kept);
            v.push(format!(
                "… and {more} more left out: a report holds at most {MAX_ENTRIES} entries a list and {MAX_REPORT_TEXT} characters in all"
            ));
        }
    }

    fn signature(&mut self, s: &mut SignatureReport) {
        self.list(&mut s.messages);
        self.list(&mut s.changes);
        self.text(&mut s.format);
        self.optional(&mut s.field);
        if let Some(who) = &mut s.signer {
            for t in [
                &mut who.subject,
                &mut who.issuer,
                &mut who.serial,
                &mut who.not_before,
                &mut who.not_after,
            ] {
                self.text(t);
            }
        }
        self.optional(&mut s.signing_time);
        self.optional(&mut s.timestamp);
        self.optional(&mut s.facts.ca_body);
        self.list(&mut s.chain);
    }
}

impl Report {
    /// The worst indication over all signatures, or NO_SIGNATURE; every text and list within
    /// the report's bounds ([`MAX_REPORT_TEXT`]).
    pub fn from_signatures(
        mut signatures: Vec<SignatureReport>,
        mut messages: Vec<String>,
    ) -> Report {
        let mut budget = TextBudget(MAX_REPORT_TEXT);
        budget.list(&mut messages);
        for s in &mut signatures {
            budget.signature(s);
        }
        let worst = signatures.iter().max_by_key(|s| s.indication.rank());
        let (indication, subindication) = match worst {
            Some(s) => (s.indication, s.subindication),
            None => (Indication::NoSignature, None),
        };
        Report {
            indication,
            subindication,
            signatures,
            messages,
        }
    }

    /// A file that cannot be read as what it claims to be.
    pub fn format_failure(msg: impl Into<String>) -> Report {
        let mut s = SignatureReport::new("unreadable");
        s.fail(Indication::TotalFailed, SubIndication::FormatFailure, msg);
        s.facts.integrity = Some(false);
        Report::from_signatures(vec![s], Vec::new())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    /// The human summary, Vietnamese or English, with the eight items of Circular 15/2025;
    /// every label from the catalogue (`i18n.json`), times as the reader expects them.
    pub fn summary(&self, lang: Lang) -> String {
        use crate::i18n::{display_time, tr};
        let verdict = |i: Indication| match i {
            Indication::TotalPassed => tr("verdict.TOTAL-PASSED", lang),
            Indication::TotalFailed => tr("verdict.TOTAL-FAILED", lang),
            Indication::Indeterminate => tr("verdict.INDETERMINATE", lang),
            Indication::NoSignature => tr("verdict.NO_SIGNATURE", lang),
        };
        let mut out = String::new();
        let result = format!(
            "{}: {} ({}{})\n",
            tr("summary.result", lang),
            verdict(self.indication),
            self.indication.as_str(),
            self.subindication
                .map(|s| format!(
                    " / {}",
                    serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                ))
                .unwrap_or_default()
        );
        out.push_str(&result);
        // The overall messages are English: labelled so in the Vietnamese summary, as each
        // signature's details are (a reviewer of the Vietnamese texts, 2026-12-07).
        if !self.messages.is_empty() && lang == Lang::Vi {
            out.push_str(&format!("  {}:\n", tr("summary.details", lang)));
        }
        for m in &self.messages {
            out.push_str(&format!("  {}\n", shown(m, MAX_SHOWN_MESSAGE)));
        }
        for (i, s) in self.signatures.iter().enumerate() {
            // "Signature 1 — Signature1 [PAdES-B-T]"; a CMS has no field: "Signature 1 [CAdES-B-B]".
            let field = match s.field.as_deref() {
                Some(f) if !f.is_empty() => format!(" — {}", shown(f, MAX_SHOWN_VALUE)),
                _ => String::new(),
            };
            // A document time-stamp is no one's signature: headed and itemised as what it is
            // (its TSA was labelled "Người ký", the signer; helper 178).
            let heading = match s.format == DOC_TIMESTAMP {
                true => tr("summary.doc_timestamp", lang).replace("{n}", &(i + 1).to_string()),
                false => format!("{} {}", tr("summary.signature", lang), i + 1),
            };
            out.push_str(&format!("\n{heading}{field} [{}]\n", s.format));
            let sub = s.subindication.and_then(|x| {
                serde_json::to_value(x)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
            });
            let reason = |out: &mut String| {
                if let Some(sub) = sub
                    .as_deref()
                    .filter(|_| s.indication != Indication::TotalPassed)
                {
                    let (key, since) = reason_key(s, sub);
                    out.push_str(&format!(
                        "  {}: {}\n",
                        tr("summary.reason", lang),
                        tr(&key, lang)
                            .replace("{since}", &display_time(since.unwrap_or_default(), lang))
                    ));
                }
            };
            // A file that is no signed document has no signer to show: not eight empty items
            // (a helper's reading in Vietnamese, 2026-12-05).
            if s.signer.is_none() && s.subindication == Some(SubIndication::FormatFailure) {
                out.push_str(&format!("  {}\n", tr("summary.unreadable", lang)));
                reason(&mut out);
            } else {
                self.items(s, lang, &mut out);
                reason(&mut out);
            }
            if !s.changes.is_empty() {
                out.push_str(&format!("  {}:\n", tr("summary.changes", lang)));
                for c in &s.changes {
                    out.push_str(&format!("    * {}\n", shown(c, MAX_SHOWN_MESSAGE)));
                }
            }
            if !s.messages.is_empty() && lang == Lang::Vi {
                out.push_str(&format!("  {}:\n", tr("summary.details", lang)));
            }
            for m in &s.messages {
                out.push_str(&format!("  - {}\n", shown(m, MAX_SHOWN_MESSAGE)));
            }
        }
        // The verdict again, last: what a reader's eye ends on is never a line a signature's
        // text could have written.
        if !self.signatures.is_empty() {
            out.push('\n');
            out.push_str(&result);
        }
        out
    }
}

impl Report {
    /// The eight items of one signature, each line `  N. label: value`.
    fn items(&self, s: &SignatureReport, lang: Lang, out: &mut String) {
        use crate::i18n::{display_time, tr};
        let verdict = |i: Indication| match i {
            Indication::TotalPassed => tr("verdict.TOTAL-PASSED", lang),
            Indication::TotalFailed => tr("verdict.TOTAL-FAILED", lang),
            Indication::Indeterminate => tr("verdict.INDETERMINATE", lang),
            Indication::NoSignature => tr("verdict.NO_SIGNATURE", lang),
        };
        let yes_no = |b: Option<bool>| match b {
            Some(true) => tr("word.yes", lang),
            Some(false) => tr("word.no", lang),
            None => tr("word.unknown", lang),
        };
        // What was never looked at is said so: a signature that failed on its bytes (a changed
        // document, a broken value) had no path built and no time judged, and items 2, 4, 5
        // and 7 said "no path to a trusted root" and "no signing time" (2026-12-05).
        let stopped = s.indication == Indication::TotalFailed && s.chain.is_empty();
        let not_checked = || tr("word.not_checked", lang).to_string();
        let known = |v: &str| {
            if v.trim().is_empty() {
                tr("word.unknown", lang).to_string()
            } else {
                shown(v, MAX_SHOWN_VALUE).into_owned()
            }
        };
        let signer = s.signer.clone().unwrap_or_default();
        let time = match (&s.timestamp, &s.signing_time) {
            // A document time-stamp's own time: "(by a time-stamp)" after it said nothing
            // (helper 187).
            (Some(ts), _) if s.format == DOC_TIMESTAMP => display_time(ts, lang),
            (Some(ts), _) => format!(
                "{} ({})",
                display_time(ts, lang),
                tr("time.timestamp", lang)
            ),
            (None, Some(st)) => {
                format!("{} ({})", display_time(st, lang), tr("time.claimed", lang))
            }
            _ if stopped => not_checked(),
            // A document time-stamp always carries a time: one not verified is not known,
            // never "none" (a reviewer of the Vietnamese texts, 2026-12-07).
            _ if s.format == DOC_TIMESTAMP => tr("word.unknown", lang).to_string(),
            _ => tr("word.none", lang).to_string(),
        };
        // Items 2 and 4 are what the signer's certificate says until a path to a trust anchor
        // vouches for them; item 7 is judged at the signer's claimed time unless a time-stamp
        // proves it, and says when revocation could not be checked.
        let vouched = |v: &str| {
            let v = known(v);
            if s.facts.chain_trusted {
                v
            } else if stopped {
                format!("{v} ({})", not_checked())
            } else {
                format!("{v} ({})", tr("word.unverified", lang))
            }
        };
        let valid_at_signing = if stopped {
            not_checked()
        } else {
            let mut notes = Vec::new();
            if s.facts.valid_at_signing.is_some() && !s.facts.time_proven {
                notes.push(tr("word.claimed", lang).to_string());
            }
            // On hold: said as such, not as a status that could not be checked (item 7, the
            // reason and the warning contradicted each other; helper 187).
            if let Some(since) = s.facts.on_hold_since.as_deref() {
                notes.push(tr("word.on_hold", lang).replace("{since}", &display_time(since, lang)));
            } else if s.facts.valid_at_signing == Some(true) && !s.facts.revocation_checked {
                notes.push(tr("word.revocation_unchecked", lang).to_string());
            }
            if let Some(at) = s
                .facts
                .status_as_of
                .as_deref()
                .filter(|_| s.facts.valid_at_signing == Some(true))
                .filter(|_| s.subindication != Some(SubIndication::TryLater))
            {
                notes.push(tr("word.status_as_of", lang).replace("{at}", &display_time(at, lang)));
            }
            // The status could not be had (TRY_LATER): whether a certificate its dates put in
            // force was so is not known ("có" was shown; helper 178). Dates that say no say
            // no whatever the status (helper 181).
            let answer = if s.subindication == Some(SubIndication::TryLater)
                && s.facts.valid_at_signing == Some(true)
            {
                tr("word.unknown", lang)
            } else {
                yes_no(s.facts.valid_at_signing)
            };
            match notes.is_empty() {
                true => answer.to_string(),
                false => format!("{answer} ({})", notes.join("; ")),
            }
        };
        let period = if signer.not_before.is_empty() {
            tr("word.unknown", lang).to_string()
        } else {
            tr("page.period", lang)
                .replace("{from}", &display_time(&signer.not_before, lang))
                .replace("{to}", &display_time(&signer.not_after, lang))
        };
        // The ETSI name beside the reader's word for it, unless they are the same word
        // ("INDETERMINATE (INDETERMINATE)" in English; helper 192).
        let status = match verdict(s.indication) {
            v if v == s.indication.as_str() => v.to_string(),
            v => format!("{v} ({})", s.indication.as_str()),
        };
        let values = [
            status,
            vouched(&signer.issuer),
            known(&signer.subject),
            vouched(s.facts.ca_body.as_deref().unwrap_or(&signer.issuer)),
            time,
            yes_no(s.facts.integrity).to_string(),
            valid_at_signing,
            period,
        ];
        let time_stamp = s.format == DOC_TIMESTAMP;
        for (n, v) in values.iter().enumerate() {
            let key = match time_stamp && TIME_STAMP_ITEMS.contains(&(n + 1)) {
                true => format!("item.ts.{}", n + 1),
                false => format!("item.{}", n + 1),
            };
            let label = tr(&key, lang);
            out.push_str(&format!("  {}. {label}: {v}\n", n + 1));
        }
        // The trust anchor the path reached: the national root, or which other.
        if let Some(root) = s.chain.last().filter(|_| s.facts.chain_trusted) {
            out.push_str(&format!(
                "  {}: {}\n",
                tr("summary.anchor", lang),
                shown(root, MAX_SHOWN_VALUE)
            ));
        }
        if let Some(at) = &s.facts.revoked_at {
            out.push_str(&format!(
                "  {}: {}\n",
                tr("summary.revoked_at", lang),
                display_time(at, lang)
            ));
        }
        if !s.facts.revocation_checked && !stopped && s.facts.on_hold_since.is_none() {
            out.push_str(&format!("  {}\n", tr("warning.revocation", lang)));
        }
    }
}

/// The items labelled otherwise for a document time-stamp (`item.ts.N` in the catalogue): its
/// status, its TSA, its time, its TSA's certificate in force then.
pub const TIME_STAMP_ITEMS: [usize; 4] = [1, 3, 5, 7];

/// Longest value (a name, a field) and message shown whole in the human summary.
pub const MAX_SHOWN_VALUE: usize = 512;
pub const MAX_SHOWN_MESSAGE: usize = 2048;

/// The format of a PDF's document time-stamp (ETSI.RFC3161): its eight items speak of the
/// time-stamp and its TSA, not of a signer.
pub const DOC_TIMESTAMP: &str = "PAdES document time-stamp";

/// What the PDF validation says when it fails a signature for a later revision's change (the
/// web page looks for the same words).
pub const CHANGED_AFTER: &str = "the document was changed after this signature";

/// Did a later revision change the document in a way the signature does not allow — not a
/// signature that could not be read, nor a later revision that could not be analysed
/// (helper 181)?
fn changed_after_signing(s: &SignatureReport) -> bool {
    s.messages.iter().any(|m| m.starts_with(CHANGED_AFTER))
}

/// The catalogue key of a failed signature's reason, and the start of the hold it names: a
/// format failure that is a change after signing is said as such — "the file is malformed,
/// cannot be read" was all a reader of a document edited after signing was told (helper
/// 178) —, and a TRY_LATER that is a certificate on hold says whose: the signer's, a document
/// time-stamp's TSA's (item 7's certificate), or another the verdict rests on (they read "no
/// CRL or OCSP response could be had"). The web page chooses the same way (verify.js).
fn reason_key<'a>(s: &'a SignatureReport, sub: &str) -> (String, Option<&'a str>) {
    if sub == "FORMAT_FAILURE" && changed_after_signing(s) {
        return ("reason.CHANGED_AFTER_SIGNING".into(), None);
    }
    if sub == "TRY_LATER" {
        if let Some(since) = s.facts.on_hold_since.as_deref() {
            let key = match s.format == DOC_TIMESTAMP {
                true => "reason.TRY_LATER.TSA_ON_HOLD",
                false => "reason.TRY_LATER.ON_HOLD",
            };
            return (key.into(), Some(since));
        }
        if let Some(since) = s.facts.path_on_hold_since.as_deref() {
            return ("reason.TRY_LATER.PATH_ON_HOLD".into(), Some(since));
        }
    }
    (format!("reason.{sub}"), None)
}

/// Text from outside (a certificate's names, a PDF's field and key names, file names in a
/// package, messages quoting them) as a human report shows it: every character that moves the
/// cursor, clears or recolours a terminal, starts a line, or reorders or hides text — C0 and
/// C1 controls, DEL, line and paragraph separators, bidirectional controls, zero-width
/// characters — written as a visible `\u{…}` escape, and the whole cut at `max` characters.
/// A certificate's O of `ESC[2J` and a fake "HỢP LỆ" report cleared the screen and printed
/// that report in place of the real verdict; a PDF name did the same with no certificate at
/// all (found by an attacker's reading, 2026-12-02). The JSON report keeps the text as it is.
pub fn shown(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(hides) && s.chars().nth(max).is_none() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max * 4) + 16);
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if hides(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that hide, reorder or break text: controls (C0, C1, DEL), the soft hyphen,
/// fillers (U+115F, U+1160, U+3164, U+FFA0, U+17B4/5), zero-width and bidirectional characters,
/// line and paragraph separators, variation selectors, tags, invisible musical and shorthand
/// format controls. One set for the CLI's reports, the service's stated purposes and the web
/// page (`HIDING` in src/serve/web/app.js): the CLI escaped fewer — a soft hyphen, U+3164 or
/// tags in a certificate's name showed as nothing (helper 185).
pub fn hides(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
            | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
            | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF)
}

/// Language of the human summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helper 227's report: 64 signatures, each with copies of a message naming keys of 127
    /// control characters (3,600 of them there, 100 here), and a list longer than any.
    #[test]
    fn a_report_stays_within_its_bounds_and_keeps_each_verdicts_reason() {
        let keys = "\u{1}".repeat(127);
        let long = format!("the catalog's {} changed", vec![keys; 100].join(", "));
        let signatures: Vec<SignatureReport> = (0..64)
            .map(|i| {
                let mut s = SignatureReport::new("PAdES-B-B");
                s.fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    long.clone(),
                );
                s.changes = (0..60).map(|n| format!("{n}: {long}")).collect();
                s.messages
                    .extend((0..100).map(|n| format!("note {n} of signature {i}")));
                s
            })
            .collect();
        let honest = SignatureReport::new("PAdES-B-B");
        let r = Report::from_signatures(signatures, vec!["x".repeat(10); 200]);
        let json = r.to_json();
        assert!(json.len() < 4 << 20, "{} bytes", json.len());
        for s in &r.signatures {
            assert!(s.messages.len() <= MAX_ENTRIES, "{}", s.messages.len());
            // The reason for the verdict is kept, cut.
            assert!(s.messages[0].starts_with("the catalog's \u{1}"));
            assert!(s.messages[0].ends_with('…'));
            assert!(s.messages[0].chars().count() <= MAX_TEXT);
            assert!(s.messages.last().unwrap().contains("more left out"));
        }
        // The first signature's list is cut by its length, a later one's by the total.
        assert_eq!(r.signatures[0].messages.len(), MAX_ENTRIES);
        assert!(r.signatures[0].messages[62].starts_with("note 61 "));
        assert_eq!(r.signatures[63].messages.len(), 2);
        assert_eq!(r.signatures[63].changes.len(), 2);
        assert_eq!(r.signatures[63].messages[0].chars().count(), MIN_TEXT);
        assert_eq!(r.messages.len(), 1);
        assert!(r.messages[0].ends_with(" (200 times)"));
        // A text said many times is said once, with how many.
        let mut s = SignatureReport::new("CAdES");
        s.fail(Indication::Indeterminate, SubIndication::TryLater, "why");
        for _ in 0..1000 {
            s.note("a CRL does not verify");
        }
        s.note("1,100 CRLs were not looked at");
        let r = Report::from_signatures(vec![s], Vec::new());
        assert_eq!(
            r.signatures[0].messages,
            [
                "why",
                "a CRL does not verify (1000 times)",
                "1,100 CRLs were not looked at"
            ]
        );
        // A report within its bounds is left as it is.
        let mut small = honest.clone();
        small.note("a note");
        let r = Report::from_signatures(vec![small], vec!["a message".into()]);
        assert_eq!(r.signatures[0].messages, ["a note"]);
        assert_eq!(r.messages, ["a message"]);
        let mut s = "abc".to_string();
        cut(&mut s, 3);
        assert_eq!(s, "abc");
        cut(&mut s, 2);
        assert_eq!(s, "a…");
    }

    #[test]
    fn what_hides_is_shown_as_an_escape() {
        let name = "Nguy\u{00AD}ễn\u{3164}Văn\u{E0041}An\u{202E}\u{1B}[2J";
        assert_eq!(
            shown(name, 512),
            "Nguy\\u{ad}ễn\\u{3164}Văn\\u{e0041}An\\u{202e}\\u{1b}[2J"
        );
        assert_eq!(shown("Nguyễn Văn An", 512), "Nguyễn Văn An");
        assert_eq!(shown("abcdef", 3), "abc…");
    }
}
