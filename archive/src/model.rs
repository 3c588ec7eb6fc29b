//! What the archive keeps: records, their status and its rules, the events of the log, and
//! what callers may say about a document, who they are and why they read.

use crate::error::{ArchiveError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A record's validity (a status change is an event; the record never changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Valid,
    SupersededBy { record: u64 },
    Revoked { reason: String },
    Expired { on: String },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::SupersededBy { .. } => "superseded",
            Status::Revoked { .. } => "revoked",
            Status::Expired { .. } => "expired",
        }
    }

    /// The rules of a status change, checked by the writer (against every earlier write,
    /// including its own batch) and again by the audit over the log:
    /// - a revoked record's status is final;
    /// - a record is valid from its ingest: no change sets "valid" again;
    /// - a record is superseded only by another record that exists (`exists`);
    /// - a revocation says why; an expiry is a calendar date.
    pub fn check_change(
        id: u64,
        current: &Status,
        new: &Status,
        exists: impl Fn(u64) -> bool,
    ) -> Result<()> {
        if let Status::Revoked { .. } = current {
            return Err(ArchiveError::Status {
                id,
                status: "revoked".into(),
                what: "a revoked record's status is final".into(),
            });
        }
        match new {
            Status::Valid => Err(ArchiveError::Input(
                "a record is valid from its ingest; a status change is superseded_by, revoked or expired".into(),
            )),
            Status::SupersededBy { record } if *record == id => Err(ArchiveError::StatusRefused {
                id,
                what: "a record cannot supersede itself".into(),
            }),
            Status::SupersededBy { record } if !exists(*record) => {
                Err(ArchiveError::StatusRefused {
                    id,
                    what: format!("record {record}, which would supersede it, does not exist"),
                })
            }
            Status::SupersededBy { .. } => Ok(()),
            Status::Revoked { reason } => {
                if reason.trim().is_empty() {
                    return Err(ArchiveError::Input("a revocation needs a reason".into()));
                }
                check_text("revocation reason", reason, 1000)
            }
            Status::Expired { on } => check_date("expiry date", on),
        }
    }
}

/// One signature found at ingest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FoundSignature {
    pub signer: String,
    pub time: Option<String>,
    pub format: String,
    pub indication: String,
}

/// Bytes kept in the `content` column family, by their SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Blob {
    pub sha256: String,
    pub sha512: String,
    pub size: u64,
}

/// The validation data of a record's signatures, kept with it at ingest (issue 13 point 6):
/// every certificate of the signers' and their time-stamps' paths, and the CRLs and OCSP
/// responses that gave their status — taken from the document (a B-LT signature's DSS or
/// unsigned attributes), given by the caller (`--crl`, `--ocsp`) or fetched by the validator —
/// so the verdict can be reached again when the CAs no longer answer, even for a B-B document
/// received from another agency. Each item is a content-addressed blob (`content` column
/// family), checked by the audit like the document. The time-stamp tokens themselves are part
/// of the signatures, inside the document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ValidationData {
    /// When it was gathered (the ingest validation), RFC 3339.
    pub gathered: String,
    /// `online`: the validator could fetch from the responders the certificates name;
    /// `offline`: only what the document carried and the caller gave.
    pub mode: String,
    /// DER certificates.
    pub certificates: Vec<Blob>,
    /// DER CRLs.
    pub crls: Vec<Blob>,
    /// DER OCSPResponse (RFC 6960 §4.2.1).
    pub ocsp_responses: Vec<Blob>,
}

impl ValidationData {
    /// Every blob, with what it is (`certificate`, `crl`, `ocsp`).
    pub fn blobs(&self) -> impl Iterator<Item = (&'static str, &Blob)> {
        self.certificates
            .iter()
            .map(|b| ("certificate", b))
            .chain(self.crls.iter().map(|b| ("crl", b)))
            .chain(self.ocsp_responses.iter().map(|b| ("ocsp", b)))
    }
}

/// Validation data as the ingest gathered it (DER items), before the writer stores it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gathered {
    pub time: String,
    pub online: bool,
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsp_responses: Vec<Vec<u8>>,
}

/// A signed document and what is known of it. Written once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub id: u64,
    pub code: String,
    pub subject: String,
    pub doc_type: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    /// YYYY-MM-DD
    pub issue_date: Option<String>,
    pub content_sha256: String,
    pub content_sha512: String,
    pub media_type: String,
    pub size: u64,
    /// A detached CMS signature over the content, kept beside it.
    pub detached_signature: Option<Blob>,
    pub signatures: Vec<FoundSignature>,
    /// The validation report made at ingest (kyso verify's JSON); `null` in a listing's
    /// records ([`listing`]).
    #[serde(deserialize_with = "report_unless_listing")]
    pub report: serde_json::Value,
    /// Why the record was kept although its signatures did not pass (given by the caller).
    pub kept_unverified: Option<String>,
    /// The client's request id (unique per ingest user).
    pub request_id: Option<String>,
    pub ingest_user: String,
    pub ingest_time: String,
    /// The log index of the ingest event.
    pub leaf: u64,
    pub meta: BTreeMap<String, String>,
    /// The validation data kept at ingest (records stored before kyso kept it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_data: Option<ValidationData>,
    /// The PDF/A conformance the document declares in its XMP metadata (`PDF/A-1b`), read at
    /// ingest: a declaration, not a validation (`kyso_verify::pdfa`). None for a document that
    /// declares none, and for records stored before kyso read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdfa_declared: Option<String>,
    /// The pages a PDF shows (its newest revision's page tree), counted at ingest: the
    /// circular's số lượng trang. None for other documents, and for records stored before
    /// kyso counted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u64>,
}

/// The day (YYYY-MM-DD) of an ingest time (RFC 3339) at +07:00: the date a record without an
/// issue date is counted and selected by (`stats`, an agency's records between two dates).
pub(crate) fn ingest_day(t: &str) -> Result<String> {
    use time::format_description::well_known::Rfc3339;
    // Checked: a stored time whose +07:00 day is past year 9999 panicked the reader, the
    // writer thread and every open that rebuilt the counters (helper 191).
    let t = time::OffsetDateTime::parse(t, &Rfc3339)
        .map_err(|e| ArchiveError::Inconsistent(format!("time {t:?}: {e}")))?
        .checked_to_offset(time::macros::offset!(+7))
        .ok_or_else(|| {
            ArchiveError::Inconsistent(format!("time {t:?}: past year 9999 at +07:00"))
        })?;
    Ok(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// What a caller says about a document it archives.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// `<subject id>.<document type code>`
    pub code: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    /// YYYY-MM-DD
    pub issue_date: Option<String>,
    /// Free key=value metadata.
    pub meta: BTreeMap<String, String>,
}

impl Metadata {
    /// Refuse what cannot be stored: control characters (the lookup keys use 0x00), lengths
    /// beyond what a record needs, dates that are not calendar dates; characters that show
    /// nothing or turn the text around ([`check_shown`]); metadata keys not in Unicode NFC.
    pub fn check(&self) -> Result<()> {
        for (what, v, max) in [
            ("title", &self.title, 1000),
            ("agency", &self.agency, 200),
            ("procedure", &self.procedure, 200),
            ("dossier", &self.dossier, 200),
        ] {
            if let Some(v) = v {
                check_text(what, v, max)?;
                check_shown(what, v)?;
            }
        }
        if let Some(d) = &self.issue_date {
            check_date("issue date", d)?;
        }
        if self.meta.len() > 64 {
            return Err(ArchiveError::Input(format!(
                "{} metadata entries; at most 64",
                self.meta.len()
            )));
        }
        for (k, v) in &self.meta {
            if k.is_empty() {
                return Err(ArchiveError::Input("a metadata key is empty".into()));
            }
            check_text("metadata key", k, 64)?;
            check_text("metadata value", v, 1000)?;
            check_shown("metadata key", k)?;
            check_shown("metadata value", v)?;
            // Keys are names: "Họ tên" typed composed and decomposed were two keys holding two
            // names that show alike (helper 232).
            use unicode_normalization::UnicodeNormalization;
            if !k.nfc().eq(k.chars()) {
                return Err(ArchiveError::Input(format!(
                    "metadata key {k:?} is not in Unicode NFC: give it composed"
                )));
            }
        }
        Ok(())
    }
}

/// Text a record shows (its title, metadata): no character that shows nothing or turns the
/// text around — zero-width spaces and joiners, bidirectional overrides and isolates, and the
/// others [`kyso_verify::report::hides`] names (a title with U+202E read backwards, a key
/// with U+200B was another key that showed alike; helper 232).
fn check_shown(what: &str, s: &str) -> Result<()> {
    match s
        .chars()
        .find(|c| kyso_verify::report::hides(*c) && *c != '\n' && *c != '\t')
    {
        None => Ok(()),
        Some(c) => Err(ArchiveError::Input(format!(
            "{what} contains U+{:04X}, a character that shows nothing or turns the text around",
            c as u32
        ))),
    }
}

impl Metadata {
    /// The fields in which `r`, a stored record, says something else than this metadata (for a
    /// retried request: a retry sends the same request, so any difference is a conflict).
    pub fn differences(&self, r: &Record) -> Vec<&'static str> {
        let mut d = Vec::new();
        for (name, stored, sent) in [
            ("title", &r.title, &self.title),
            ("agency", &r.agency, &self.agency),
            ("procedure", &r.procedure, &self.procedure),
            ("dossier", &r.dossier, &self.dossier),
            ("issue_date", &r.issue_date, &self.issue_date),
        ] {
            if stored != sent {
                d.push(name);
            }
        }
        if r.meta != self.meta {
            d.push("meta");
        }
        d
    }
}

/// What the writer stores for one ingest (the caller's metadata, and what the archive found).
#[derive(Debug, Clone)]
pub(crate) struct NewRecord {
    pub meta: Metadata,
    pub media_type: String,
    pub signatures: Vec<FoundSignature>,
    pub report: serde_json::Value,
    pub kept_unverified: Option<String>,
    pub request_id: Option<String>,
    pub user: String,
    pub validation: Option<Gathered>,
    pub pdfa_declared: Option<String>,
    pub pages: Option<u64>,
}

/// Who acts, and why: given by the caller (the service passes the authenticated identity),
/// never made up by the archive. Reads of personal data are logged with both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub user: String,
    pub purpose: String,
}

impl Access {
    /// The purpose is kept in [`stated_form`].
    pub fn new(user: impl Into<String>, purpose: impl Into<String>) -> Access {
        Access {
            user: user.into(),
            purpose: stated_form(&purpose.into()),
        }
    }

    /// A user and a stated purpose, both required ([`check_stated`]).
    pub fn check(&self) -> Result<()> {
        check_user(&self.user)?;
        if self.purpose.trim().is_empty() {
            return Err(ArchiveError::Input(
                "a purpose is required to read personal data (it is logged)".into(),
            ));
        }
        check_stated("purpose", &self.purpose, PURPOSE_MAX)
    }
}

/// Which part of a record was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPart {
    Metadata,
    Content,
    /// The certificates, CRLs and OCSP responses kept with the record (they name the signer).
    ValidationData,
}

/// What a lookup was by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindBy {
    Code,
    Subject,
    Agency,
    /// The document's SHA-256: whoever holds a document asks whether the archive holds it.
    Content,
}

/// A log entry. Its canonical encoding is the JSON serde writes for this type (fields in
/// declaration order, no insignificant white space); the leaf is SHA-256(0x00 ‖ those bytes).
/// The writer stamps every event's time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Ingest {
        record: u64,
        code: String,
        content_sha256: String,
        record_sha256: String,
        user: String,
        time: String,
    },
    Status {
        record: u64,
        status: Status,
        user: String,
        time: String,
    },
    Read {
        record: u64,
        part: ReadPart,
        user: String,
        purpose: String,
        time: String,
        /// 128 random bits (hex), so that the leaf — whose hash the public can ask for in an
        /// inclusion proof — cannot be recomputed from a guess of who read what, when and why
        /// ([`new_salt`]; events logged before 2026-12-05 have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        salt: Option<String>,
    },
    Find {
        by: FindBy,
        value: String,
        records: Vec<u64>,
        user: String,
        purpose: String,
        time: String,
        /// As a read's: a find names a citizen's id or code, which is easily guessed; without
        /// it, anyone could test "was citizen X looked up, by whom, why, at about T" against
        /// the leaf hashes the log's proofs show (an attacker's reading, 2026-12-05).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        salt: Option<String>,
    },
    Export {
        records: Vec<u64>,
        format: String,
        /// Why (events logged before exports had reasons have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The status events of these records logged before the export began, as `[record,
        /// log index]` pairs in log order: what the package must carry of each record, so that
        /// a revocation left out of it is seen (`kyso bag verify`). Export events logged before
        /// kyso wrote them have none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_events: Option<Vec<[u64; 2]>>,
        /// `status_events` are those among the log's first `status_upto` entries (the pass
        /// over the log made before the export's events): a status change logged after it, and
        /// before this event, is in neither (`kyso audit verify` checks the list against the
        /// log up to there). With `status_events`, never without.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_upto: Option<u64>,
        /// `[i, n]`: this event is the i-th of the n events of one export (one per 100,000
        /// records at most): a package left with fewer is seen. Older export events have none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        part: Option<[u64; 2]>,
        user: String,
        time: String,
    },
    Signature {
        document_sha256: String,
        signer: String,
        format: String,
        user: String,
        time: String,
    },
    Config {
        change: String,
        user: String,
        time: String,
    },
    /// An administrator gave the number of results issued per agency, type and quarter (the
    /// denominator of "digitized vs total").
    Totals {
        totals: Vec<crate::stats::Total>,
        user: String,
        time: String,
    },
    /// The log's entries `[start, end)` were read (an auditor recomputing it): they name every
    /// citizen's document codes and the values searched for, so who read them, and why, is
    /// logged as a record read is.
    LogRead {
        start: u64,
        end: u64,
        user: String,
        purpose: String,
        time: String,
    },
}

impl Event {
    pub fn user(&self) -> &str {
        match self {
            Event::Ingest { user, .. }
            | Event::Status { user, .. }
            | Event::Read { user, .. }
            | Event::Find { user, .. }
            | Event::Export { user, .. }
            | Event::Signature { user, .. }
            | Event::Config { user, .. }
            | Event::Totals { user, .. }
            | Event::LogRead { user, .. } => user,
        }
    }

    pub fn time(&self) -> &str {
        match self {
            Event::Ingest { time, .. }
            | Event::Status { time, .. }
            | Event::Read { time, .. }
            | Event::Find { time, .. }
            | Event::Export { time, .. }
            | Event::Signature { time, .. }
            | Event::Config { time, .. }
            | Event::Totals { time, .. }
            | Event::LogRead { time, .. } => time,
        }
    }
}

/// What a caller may add to the log besides ingests, status changes and reads (which only
/// the archive's own functions write, under their rules). The writer adds user and time.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    Export {
        records: Vec<u64>,
        format: String,
        /// Why the records are exported (an export by `Archive::begin_export` always says).
        reason: Option<String>,
    },
    Signature {
        document_sha256: String,
        signer: String,
        format: String,
    },
    Config {
        change: String,
    },
    /// Results issued per agency, type and quarter ([`crate::stats::parse_totals_csv`]).
    Totals {
        totals: Vec<crate::stats::Total>,
    },
    /// The log's entries `[start, end)` read, and why.
    LogRead {
        start: u64,
        end: u64,
        purpose: String,
    },
}

thread_local! {
    /// Records read on this thread are read for a listing ([`listing`]).
    static LISTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f`, its records read without their validation reports (`null`): a lookup answers with a
/// record's code, title, agency and status. Each report was built whole as a JSON tree, half a
/// megabyte a record for a 64-signature document; 32 finds at once of 37 such records held
/// 287 MB outside any limit (helper 229).
pub(crate) fn listing<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            LISTING.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LISTING.with(|l| l.replace(true)));
    f()
}

fn report_unless_listing<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<serde_json::Value, D::Error> {
    if LISTING.with(std::cell::Cell::get) {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(serde_json::Value::Null)
    } else {
        serde_json::Value::deserialize(d)
    }
}

/// Largest record (its JSON) the writer stores and the audit reads: a record larger was not
/// written by kyso. Its validation report has bounds of its own (`kyso_verify::report`,
/// under 4 MB); a report of 353 MB was stored whole, and the audit then refused the archive
/// (helper 227).
pub const MAX_RECORD: usize = 4 << 20;

/// How far an entry may be dated before the entry ahead of it. The writer never dates one
/// back at all (since 2026-12-06); releases before it took the clock as it was, and a clock
/// stepped back a few seconds by its time service dated an honest entry back (helper 204).
/// An insider's backdated entry (an expired signer's record, judged by `bag verify` as of its
/// ingest) gains this much over the entry before it, no more.
pub const CLOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(300);

/// The latest time of the entries up to one, read, and as written: what the next is held to.
pub(crate) type Latest = (std::time::SystemTime, String);

/// Entry `i`'s time held to the latest of the entries ahead of it (`before`), or why not; the
/// latest then. Against the latest, not the one entry before: a chain of entries each dated
/// the slack before the one ahead reached back an hour, and a year with 105,000 of them
/// (helper 206).
pub(crate) fn entry_in_order(
    i: u64,
    event: &Event,
    before: Option<&Latest>,
) -> std::result::Result<Latest, String> {
    let t = event.time();
    let at = kyso_verify::dates::parse_rfc3339(t)
        .ok_or_else(|| format!("event {i}'s time {t:?} is not an RFC 3339 time"))?;
    match before {
        Some((b, was)) if at + CLOCK_SLACK < *b => Err(format!(
            "event {i} is dated {t}, more than {} minutes before an entry ahead of it ({was}): the archive never dates an entry before the ones ahead of it, so it was backdated or written by another program",
            CLOCK_SLACK.as_secs() / 60
        )),
        Some((b, was)) if at < *b => Ok((*b, was.clone())),
        _ => Ok((at, t.to_string())),
    }
}

/// A salt for an event that names who looked at whose data: 128 random bits, hex.
pub(crate) fn new_salt() -> crate::Result<String> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| crate::ArchiveError::Db("no random bytes for an event's salt".into()))?;
    Ok(hex::encode(b))
}

/// Fewest visible characters a stated purpose or reason has.
pub const STATED_MIN: usize = 3;

/// Spaces of every width (a no-break space pasted from a word processor): kept as plain ones,
/// none at either end (a run of wide ones pushed the text out of a log viewer's sight; a
/// reviewer's reading, 2026-12-05).
fn stated_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Does a character show something of its own, so that it counts toward a stated text's
/// visible characters: a letter or digit, not a combining mark (alone it shows nothing, or
/// sits on nothing) nor a conjoining Hangul jamo (the fillers among them render blank). The
/// braille blank, a musical null notehead, a Thai vowel sign or a combining accent, three of
/// each, passed as a purpose (an attacker's reading, 2026-12-05).
fn stated_shows(c: char) -> bool {
    c.is_alphanumeric()
        && !unicode_normalization::char::is_combining_mark(c)
        && !matches!(c as u32, 0x1100..=0x11FF | 0xA960..=0xA97F | 0xD7B0..=0xD7FF)
}

/// A stated purpose or reason as the archive keeps it: trimmed, each space a plain one, in
/// Unicode NFC (Korean typed decomposed was all conjoining jamo, which count as no letter, and
/// was refused; Vietnamese logged two ways; helper 218).
pub fn stated_form(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.trim_matches(stated_space)
        .chars()
        .map(|c| if stated_space(c) { ' ' } else { c })
        .nfc()
        .collect()
}

/// Characters that show nothing and are no space, beyond controls and the default-ignorable
/// ones (`kyso_verify::report::hides`): the braille blank, the musical null notehead,
/// Egyptian hieroglyph format controls, prepended number signs — each kept in a logged
/// purpose, eighty braille blanks pushing its text out of sight (helper 218, 2026-12-06).
fn stated_blank(c: char) -> bool {
    matches!(c as u32,
        0x2800 | 0x1D159 | 0x13430..=0x1345F | 0x0600..=0x0605 | 0x06DD | 0x070F
        | 0x0890..=0x0891 | 0x08E2 | 0x110BD | 0x110CD)
}

/// Most combining marks on one character: Vietnamese takes two (ệ), Thai three.
const STATED_MARKS: usize = 4;

/// The rules of a purpose or reason someone states, which the log keeps with their name
/// (`what` names it in the error): at most `max` bytes, at least [`STATED_MIN`] letters or
/// digits, no control or invisible character but spaces, and in [`stated_form`]. The
/// archive's own rule, whoever calls it: the command line had let ".", "x" or a zero-width
/// space through where the service refused them (helper 216).
pub fn check_stated(what: &str, text: &str, max: usize) -> Result<()> {
    let visible = text.chars().filter(|c| stated_shows(*c)).count();
    let mut marks = 0;
    let piled = text.chars().any(|c| {
        marks = if unicode_normalization::char::is_combining_mark(c) {
            marks + 1
        } else {
            0
        };
        marks > STATED_MARKS
    });
    if text.len() > max
        || visible < STATED_MIN
        || piled
        || text.chars().any(|c| {
            !stated_space(c)
                && (c.is_whitespace() || kyso_verify::report::hides(c) || stated_blank(c))
        })
    {
        return Err(ArchiveError::Input(format!(
            "{what}: required: at least {STATED_MIN} letters or digits, at most {max} bytes, no control or invisible characters, at most {STATED_MARKS} accents on a letter (it is logged with your name)"
        )));
    }
    if stated_form(text) != text {
        return Err(ArchiveError::Input(format!(
            "{what}: give it without spaces at either end, each space a plain one, in Unicode NFC"
        )));
    }
    Ok(())
}

/// Most bytes of a stated purpose (a read, a find, a log read, an export's reason).
pub const PURPOSE_MAX: usize = 256;
/// Most bytes of a stated reason kept with a record (a revocation, a document kept unverified).
pub const REASON_MAX: usize = 1000;

/// Text the archive keeps: no control characters, at most `max` bytes.
pub(crate) fn check_text(what: &str, s: &str, max: usize) -> Result<()> {
    if s.len() > max {
        return Err(ArchiveError::Input(format!(
            "{what} is {} bytes; at most {max}",
            s.len()
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(ArchiveError::Input(format!(
            "{what} contains a control character"
        )));
    }
    // Unicode's noncharacters are not for interchange, and two of them are not XML: a title
    // with U+FFFF made every E-ARK package holding its record a file no XML parser reads
    // (helper 232).
    if let Some(c) = s.chars().find(|c| noncharacter(*c)) {
        return Err(ArchiveError::Input(format!(
            "{what} contains U+{:04X}, a Unicode noncharacter",
            c as u32
        )));
    }
    Ok(())
}

/// U+FDD0–U+FDEF, and the last two code points of every plane.
fn noncharacter(c: char) -> bool {
    ('\u{FDD0}'..='\u{FDEF}').contains(&c) || (c as u32) & 0xFFFE == 0xFFFE
}

/// A user name as the caller authenticated it: 1–256 bytes, no control characters.
pub(crate) fn check_user(user: &str) -> Result<()> {
    if user.trim().is_empty() {
        return Err(ArchiveError::Input(
            "the acting user is required (the archive never makes one up)".into(),
        ));
    }
    check_text("user", user, 256)
}

/// A client request id: 1–128 printable ASCII characters, no spaces.
pub(crate) fn check_request_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(ArchiveError::Input(format!(
            "request id {id:?} must be 1–128 printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

/// Is `d` a calendar date written YYYY-MM-DD (a real day: no 2025-02-30, no year 0)?
pub fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |a, &c| {
            c.is_ascii_digit().then(|| a * 10 + (c - b'0') as u32)
        })
    };
    let (Some(y), Some(m), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y != 0 && (1..=days).contains(&day)
}

/// A calendar date, YYYY-MM-DD.
pub(crate) fn check_date(what: &str, d: &str) -> Result<()> {
    if is_date(d) {
        Ok(())
    } else {
        Err(ArchiveError::Input(format!(
            "{what} {d:?} is not a date (YYYY-MM-DD)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a record shows has no character that shows nothing or turns the text around, and
    /// its metadata keys are in NFC (helper 232); Vietnamese as typed passes.
    #[test]
    fn record_metadata_shows_what_it_says() {
        let with = |title: &str, key: &str, value: &str| Metadata {
            code: "001099012345.GPXD".into(),
            title: Some(title.into()),
            meta: [(key.to_string(), value.to_string())].into(),
            ..Default::default()
        };
        with("Giấy phép xây dựng", "Họ tên", "Nguyễn Văn A")
            .check()
            .unwrap();
        for (m, why) in [
            (
                with("Giấy \u{202E}phép", "Họ tên", "A"),
                "title contains U+202E",
            ),
            (
                with("Giấy phép", "Họ tên\u{200B}", "A"),
                "metadata key contains U+200B",
            ),
            (
                with("Giấy phép", "Họ tên", "A\u{2066}B"),
                "metadata value contains U+2066",
            ),
            (
                with("Giấy phép", "Ho\u{323}\u{302} te\u{302}n", "A"),
                "is not in Unicode NFC",
            ),
        ] {
            let e = m.check().unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
    }

    /// Kept text refuses control characters and Unicode's noncharacters, and keeps the rest.
    #[test]
    fn kept_text_refuses_noncharacters() {
        for bad in [
            "t\u{FFFF}",
            "\u{FFFE}",
            "a\u{FDD0}",
            "\u{1FFFF}",
            "\u{10FFFE}",
            "x\u{7}",
        ] {
            assert!(check_text("title", bad, 100).is_err(), "{bad:?}");
        }
        let e = check_text("title", "Giấy\u{FFFF}", 100)
            .unwrap_err()
            .to_string();
        assert!(e.contains("U+FFFF, a Unicode noncharacter"), "{e}");
        for good in [
            "Giấy phép",
            "\u{FFFD}",
            "\u{FDCF}\u{FDF0}",
            "\u{1FFFD}",
            "\u{E000}",
        ] {
            check_text("title", good, 100).unwrap();
        }
    }

    /// A stored time whose +07:00 day is past year 9999 is an inconsistency, not a panic of
    /// the reader, the writer and every open that rebuilt the counters (helper 191).
    #[test]
    fn an_ingest_time_past_year_9999_is_an_inconsistency() {
        assert_eq!(ingest_day("2026-12-05T20:00:00Z").unwrap(), "2026-12-06");
        let e = ingest_day("9999-12-31T23:00:00Z").unwrap_err();
        assert!(matches!(e, ArchiveError::Inconsistent(_)), "{e}");
    }

    #[test]
    fn status_rules() {
        let exists = |r: u64| r < 10;
        let revoked = Status::Revoked { reason: "x".into() };
        let e = Status::check_change(
            1,
            &revoked,
            &Status::Expired {
                on: "2027-01-01".into(),
            },
            exists,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 8, "{e}");
        for (new, code) in [
            (Status::Valid, 5),
            (Status::SupersededBy { record: 1 }, 8),
            (Status::SupersededBy { record: 99 }, 8),
            (Status::Revoked { reason: " ".into() }, 5),
            (
                Status::Expired {
                    on: "2027-02-29".into(),
                },
                5,
            ),
        ] {
            let e = Status::check_change(1, &Status::Valid, &new, exists).unwrap_err();
            assert_eq!(e.exit_code(), code, "{new:?}: {e}");
        }
        for new in [
            Status::SupersededBy { record: 2 },
            revoked.clone(),
            Status::Expired {
                on: "2028-02-29".into(),
            },
        ] {
            Status::check_change(
                1,
                &Status::Expired {
                    on: "2027-01-01".into(),
                },
                &new,
                exists,
            )
            .unwrap();
        }
    }

    #[test]
    fn dates_are_calendar_dates() {
        for good in ["2026-11-20", "2000-02-29", "1999-12-31"] {
            check_date("d", good).unwrap();
        }
        for bad in [
            "2026-13-01",
            "2100-02-29",
            "2026-04-31",
            "2026-1-01",
            "２026-01-01",
            "0000-01-01",
            "2026-00-10",
        ] {
            assert!(check_date("d", bad).is_err(), "{bad}");
        }
    }
}
