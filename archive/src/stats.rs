//! Statistics for the quarterly digitization report (Decision 468/QĐ-TTg: how many results
//! each agency digitized, signed and reused each quarter), from counters — never by reading
//! every record.
//!
//! The writer keeps the counters in the `stats` column family, in the same write batch as the
//! events they count, so a counter is never ahead of or behind the log. One counter is a
//! [`StatKey`]: what it counts, a quarter, an agency and a document type; its value is a u64.
//! - `ingested`, `superseded`, `revoked`, `expired`: records, in the cell of the record: its
//!   agency, its document type, and the quarter of its **issue date** (of its ingest time at
//!   +07:00 when it has none) — so "digitized vs total" compares results issued in the same
//!   quarter. `superseded`, `revoked` and `expired` count records whose *current* status is
//!   that one (a change moves the record from one counter to the other), so
//!   `valid = ingested − superseded − revoked − expired`.
//! - `signatures`: signatures the service made (`signature` events), in the quarter of the
//!   event (+07:00); the event names no agency or document type, so neither does the counter.
//! - `reused`: lookups by document code or by subject (`find` events) that found a valid
//!   record: one per lookup and per agency × document type among the valid records it found,
//!   in the quarter of the lookup (+07:00).
//! - `total`: the number of results an agency issued of a type in a quarter, as an
//!   administrator gave it (`totals` events; the latest given for a cell counts).
//!
//! The same function ([`changes`]) moves the counters in the writer, rebuilds them for a
//! database made before they existed ([`rebuild_if_absent`], at open), and recomputes them
//! in `kyso audit verify`, which reports any difference.

use crate::error::{db_err, ArchiveError, Result};
use crate::model::{check_date, check_text, Event, FindBy, Record, Status};
use crate::schema::{cf, parse_u64_key, u64_key, CF_EVENTS, CF_META, CF_STATS, META_STATS};
use rocksdb::{WriteBatch, DB};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most quarters one statistics query covers (ten years).
pub const MAX_QUARTERS: u32 = 40;
/// Most agency × type × quarter cells one query reads; a larger answer is refused (narrow it).
pub const MAX_CELLS: usize = 100_000;
/// Most rows one totals file holds.
pub const MAX_TOTALS: usize = 10_000;
/// Largest totals file, in bytes.
pub const MAX_TOTALS_BYTES: usize = 1 << 20;

/// A calendar quarter; written `2026-Q1`. Vietnamese quarters: Q1 is January–March.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: u16,
    pub q: u8,
}

impl Quarter {
    /// The quarter of a calendar date (YYYY-MM-DD, checked).
    pub fn of_date(d: &str) -> Result<Quarter> {
        check_date("date", d)?;
        let year: u16 = d[..4]
            .parse()
            .map_err(|_| ArchiveError::Input(format!("{d:?} is not a date")))?;
        let month: u8 = d[5..7]
            .parse()
            .map_err(|_| ArchiveError::Input(format!("{d:?} is not a date")))?;
        Ok(Quarter {
            year,
            q: (month - 1) / 3 + 1,
        })
    }

    /// The quarter of an RFC 3339 time, in Vietnam (+07:00).
    pub fn of_time(t: &str) -> Result<Quarter> {
        Quarter::of_date(&crate::model::ingest_day(t)?)
    }

    /// `2026-Q1`.
    pub fn parse(s: &str) -> Option<Quarter> {
        let b = s.as_bytes();
        if b.len() != 7 || &b[4..6] != b"-Q" || !b[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year: u16 = s[..4].parse().ok()?;
        let q = b[6].checked_sub(b'0')?;
        (year > 0 && (1..=4).contains(&q)).then_some(Quarter { year, q })
    }

    pub fn first_day(&self) -> String {
        format!("{:04}-{:02}-01", self.year, (self.q - 1) * 3 + 1)
    }

    pub fn last_day(&self) -> String {
        let (m, d) = match self.q {
            1 => (3, 31),
            2 => (6, 30),
            3 => (9, 30),
            _ => (12, 31),
        };
        format!("{:04}-{m:02}-{d:02}", self.year)
    }

    fn index(&self) -> u32 {
        u32::from(self.year) * 4 + u32::from(self.q) - 1
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.q)
    }
}

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    Ingested,
    Superseded,
    Revoked,
    Expired,
    Signatures,
    Reused,
    Total,
}

impl Counter {
    const ALL: [Counter; 7] = [
        Counter::Ingested,
        Counter::Superseded,
        Counter::Revoked,
        Counter::Expired,
        Counter::Signatures,
        Counter::Reused,
        Counter::Total,
    ];

    fn byte(self) -> u8 {
        match self {
            Counter::Ingested => b'i',
            Counter::Superseded => b's',
            Counter::Revoked => b'r',
            Counter::Expired => b'e',
            Counter::Signatures => b'g',
            Counter::Reused => b'u',
            Counter::Total => b't',
        }
    }

    fn of_byte(b: u8) -> Option<Counter> {
        Counter::ALL.into_iter().find(|c| c.byte() == b)
    }

    /// The counter of a record in this status (none for a valid one).
    fn of_status(s: &Status) -> Option<Counter> {
        match s {
            Status::Valid => None,
            Status::SupersededBy { .. } => Some(Counter::Superseded),
            Status::Revoked { .. } => Some(Counter::Revoked),
            Status::Expired { .. } => Some(Counter::Expired),
        }
    }
}

/// An agency × document type × quarter. The agency and the type are empty when not known
/// (a record archived without an agency; a signature).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub quarter: Quarter,
    pub agency: String,
    pub doc_type: String,
}

impl Cell {
    /// A record's cell: its agency, its type, the quarter of its issue date (of its ingest
    /// time at +07:00 when it has none).
    pub fn of(r: &Record) -> Result<Cell> {
        let quarter = match &r.issue_date {
            Some(d) => Quarter::of_date(d)
                .map_err(|e| ArchiveError::Inconsistent(format!("record {}: {e}", r.id)))?,
            None => Quarter::of_time(&r.ingest_time)?,
        };
        Ok(Cell {
            quarter,
            agency: r.agency.clone().unwrap_or_default(),
            doc_type: r.doc_type.clone(),
        })
    }
}

/// One counter: kind ‖ quarter (`2026-Q1`) ‖ agency ‖ 0x00 ‖ document type. Agencies and
/// types never hold 0x00 (the model refuses control characters), so keys parse back; keys of
/// one counter sort by quarter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatKey {
    pub counter: Counter,
    pub cell: Cell,
}

impl StatKey {
    pub fn encode(&self) -> Vec<u8> {
        let c = &self.cell;
        let mut k = Vec::with_capacity(9 + c.agency.len() + c.doc_type.len());
        k.push(self.counter.byte());
        k.extend_from_slice(c.quarter.to_string().as_bytes());
        k.extend_from_slice(c.agency.as_bytes());
        k.push(0);
        k.extend_from_slice(c.doc_type.as_bytes());
        k
    }

    pub fn parse(k: &[u8]) -> Option<StatKey> {
        let (&kind, rest) = k.split_first()?;
        let counter = Counter::of_byte(kind)?;
        let quarter = Quarter::parse(std::str::from_utf8(rest.get(..7)?).ok()?)?;
        let rest = &rest[7..];
        let zero = rest.iter().position(|&b| b == 0)?;
        Some(StatKey {
            counter,
            cell: Cell {
                quarter,
                agency: std::str::from_utf8(&rest[..zero]).ok()?.to_string(),
                doc_type: std::str::from_utf8(&rest[zero + 1..]).ok()?.to_string(),
            },
        })
    }
}

/// How an event moves a counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Add(StatKey),
    Sub(StatKey),
    Set(StatKey, u64),
}

/// What [`changes`] needs to know of the records an event names, as they were just before it.
pub(crate) trait View {
    fn cell(&self, id: u64) -> Result<Cell>;
    fn status(&self, id: u64) -> Result<Status>;
}

/// How `event` moves the counters (see the module's documentation), given the records as
/// they were before it.
pub(crate) fn changes(event: &Event, view: &dyn View) -> Result<Vec<Op>> {
    let key = |counter, cell| StatKey { counter, cell };
    Ok(match event {
        Event::Ingest { record, .. } => vec![Op::Add(key(Counter::Ingested, view.cell(*record)?))],
        Event::Status { record, status, .. } => {
            let cell = view.cell(*record)?;
            let mut ops = Vec::new();
            if let Some(c) = Counter::of_status(&view.status(*record)?) {
                ops.push(Op::Sub(key(c, cell.clone())));
            }
            if let Some(c) = Counter::of_status(status) {
                ops.push(Op::Add(key(c, cell)));
            }
            ops
        }
        Event::Find {
            by: FindBy::Code | FindBy::Subject,
            records,
            time,
            ..
        } => {
            let quarter = Quarter::of_time(time)?;
            let mut found = BTreeSet::new();
            for id in records {
                if view.status(*id)? == Status::Valid {
                    let c = view.cell(*id)?;
                    found.insert((c.agency, c.doc_type));
                }
            }
            found
                .into_iter()
                .map(|(agency, doc_type)| {
                    Op::Add(key(
                        Counter::Reused,
                        Cell {
                            quarter,
                            agency,
                            doc_type,
                        },
                    ))
                })
                .collect()
        }
        Event::Signature { time, .. } => vec![Op::Add(key(
            Counter::Signatures,
            Cell {
                quarter: Quarter::of_time(time)?,
                agency: String::new(),
                doc_type: String::new(),
            },
        ))],
        Event::Totals { totals, .. } => totals
            .iter()
            .map(|t| {
                let quarter = Quarter::parse(&t.quarter).ok_or_else(|| {
                    ArchiveError::Inconsistent(format!("a total names quarter {:?}", t.quarter))
                })?;
                Ok(Op::Set(
                    key(
                        Counter::Total,
                        Cell {
                            quarter,
                            agency: t.agency.clone(),
                            doc_type: t.doc_type.clone(),
                        },
                    ),
                    t.total,
                ))
            })
            .collect::<Result<_>>()?,
        Event::Find { .. }
        | Event::Read { .. }
        | Event::Export { .. }
        | Event::Config { .. }
        | Event::LogRead { .. } => Vec::new(),
    })
}

/// Counters by their encoded key, as a replay of the log builds them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tally(pub BTreeMap<Vec<u8>, u64>);

impl Tally {
    pub(crate) fn apply(&mut self, ops: Vec<Op>) -> Result<()> {
        for op in ops {
            let (k, v) = apply_op(op, |k| Ok(self.0.get(k).copied().unwrap_or(0)))?;
            self.0.insert(k, v);
        }
        Ok(())
    }
}

/// One change against a counter read with `get`: the counter's key and new value. A counter
/// never goes below zero: that would mean it missed an event.
pub(crate) fn apply_op(op: Op, get: impl FnOnce(&[u8]) -> Result<u64>) -> Result<(Vec<u8>, u64)> {
    Ok(match op {
        Op::Add(k) => {
            let k = k.encode();
            let v = get(&k)?.saturating_add(1);
            (k, v)
        }
        Op::Sub(k) => {
            let e = k.encode();
            let v = get(&e)?.checked_sub(1).ok_or_else(|| {
                ArchiveError::Inconsistent(format!(
                    "the counter {k:?} would go below zero: run kyso audit verify"
                ))
            })?;
            (e, v)
        }
        Op::Set(k, v) => (k.encode(), v),
    })
}

/// A counter as stored (0 when absent).
pub(crate) fn stored(db: &DB, key: &[u8]) -> Result<u64> {
    match db.get_cf(cf(db, CF_STATS)?, key).map_err(db_err)? {
        Some(v) => parse_u64_key(&v)
            .ok_or_else(|| ArchiveError::Inconsistent("a counter is not 8 bytes".into())),
        None => Ok(0),
    }
}

/// Replays the log from its start, reading records as stored (the archive's own use, not a
/// read of personal data for anyone).
pub(crate) struct Replay<'a> {
    pub db: &'a DB,
    pub statuses: BTreeMap<u64, Status>,
    pub tally: Tally,
}

impl View for Replay<'_> {
    fn cell(&self, id: u64) -> Result<Cell> {
        Cell::of(&crate::writer::stored_record(self.db, id)?)
    }
    fn status(&self, id: u64) -> Result<Status> {
        Ok(self.statuses.get(&id).cloned().unwrap_or(Status::Valid))
    }
}

impl Replay<'_> {
    pub(crate) fn event(&mut self, event: &Event) -> Result<()> {
        let ops = changes(event, self)?;
        self.tally.apply(ops)?;
        if let Event::Status { record, status, .. } = event {
            self.statuses.insert(*record, status.clone());
        }
        Ok(())
    }
}

/// Build the counters of a database made before they existed (or a new one): a replay of the
/// whole log, written in one batch with the mark that they exist. Called at open, with the
/// writer not yet started; a no-op once the mark is there.
pub(crate) fn rebuild_if_absent(db: &DB, size: u64) -> Result<bool> {
    if db
        .get_cf(cf(db, CF_META)?, META_STATS)
        .map_err(db_err)?
        .is_some()
    {
        return Ok(false);
    }
    let mut r = Replay {
        db,
        statuses: BTreeMap::new(),
        tally: Tally::default(),
    };
    let events = cf(db, CF_EVENTS)?;
    for i in 0..size {
        let bytes = db
            .get_cf(events, u64_key(i))
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Inconsistent(format!("event {i} is missing")))?;
        let event: Event = serde_json::from_slice(&bytes)
            .map_err(|e| ArchiveError::Inconsistent(format!("event {i}: {e}")))?;
        r.event(&event)?;
    }
    let mut b = WriteBatch::default();
    let stats = cf(db, CF_STATS)?;
    // Anything there without the mark is from an interrupted rebuild: replaced.
    let mut it = db.raw_iterator_cf(stats);
    it.seek_to_first();
    while let Some(k) = it.key() {
        b.delete_cf(stats, k);
        it.next();
    }
    it.status().map_err(db_err)?;
    for (k, v) in &r.tally.0 {
        b.put_cf(stats, k, u64_key(*v));
    }
    b.put_cf(cf(db, CF_META)?, META_STATS, u64_key(1));
    // Not synced here: the WAL keeps batches in order, so the next acknowledged write makes
    // this one durable too; lost before that, the next open rebuilds them again.
    db.write(b).map_err(db_err)?;
    Ok(size > 0)
}

/// An administrator's total: how many results of a type an agency issued in a quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    pub agency: String,
    pub doc_type: String,
    /// `2026-Q1`
    pub quarter: String,
    pub total: u64,
}

impl Total {
    pub(crate) fn check(&self) -> Result<()> {
        if self.agency.trim().is_empty() {
            return Err(ArchiveError::Input("a total needs an agency".into()));
        }
        check_text("agency", &self.agency, 200)?;
        if self.doc_type.is_empty()
            || self.doc_type.len() > 40
            || !self
                .doc_type
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ArchiveError::Input(format!(
                "document type code {:?} must be 1–40 letters, digits, _ or -",
                self.doc_type
            )));
        }
        if Quarter::parse(&self.quarter).is_none() {
            return Err(ArchiveError::Input(format!(
                "quarter {:?} is not a quarter (2026-Q1)",
                self.quarter
            )));
        }
        if self.total > 1_000_000_000 {
            return Err(ArchiveError::Input(format!(
                "a total of {} results is not plausible (at most 10⁹)",
                self.total
            )));
        }
        Ok(())
    }
}

/// A totals file: CSV (RFC 4180) with the header `agency,type,quarter,total`, at most
/// [`MAX_TOTALS`] rows and [`MAX_TOTALS_BYTES`] bytes; every row checked, or nothing taken.
pub fn parse_totals_csv(bytes: &[u8]) -> Result<Vec<Total>> {
    if bytes.len() > MAX_TOTALS_BYTES {
        return Err(ArchiveError::Input(format!(
            "the totals file is {} bytes; at most {MAX_TOTALS_BYTES}",
            bytes.len()
        )));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header = rd
        .headers()
        .map_err(|e| ArchiveError::Input(format!("the totals file: {e}")))?;
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    if names != ["agency", "type", "quarter", "total"] {
        return Err(ArchiveError::Input(format!(
            "the totals file's header is {names:?}; it must be agency,type,quarter,total"
        )));
    }
    let mut out: Vec<Total> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, row) in rd.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| ArchiveError::Input(format!("the totals file: {e}")))?;
        if out.len() == MAX_TOTALS {
            return Err(ArchiveError::Input(format!(
                "the totals file has more than {MAX_TOTALS} rows"
            )));
        }
        let field = |n: usize| row.get(n).unwrap_or("").trim().to_string();
        let total = field(3);
        let t = Total {
            agency: field(0),
            // In upper case, as document codes keep it.
            doc_type: field(1).to_ascii_uppercase(),
            quarter: field(2),
            total: total.parse().map_err(|_| {
                ArchiveError::Input(format!(
                    "line {line}: total {total:?} is not a whole number"
                ))
            })?,
        };
        t.check()
            .map_err(|e| ArchiveError::Input(format!("line {line}: {e}")))?;
        if !seen.insert((t.agency.clone(), t.doc_type.clone(), t.quarter.clone())) {
            return Err(ArchiveError::Input(format!(
                "line {line}: {} {} {} is given twice",
                t.agency, t.doc_type, t.quarter
            )));
        }
        out.push(t);
    }
    if out.is_empty() {
        return Err(ArchiveError::Input("the totals file has no rows".into()));
    }
    Ok(out)
}

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Agency,
    Type,
    Quarter,
}

impl std::str::FromStr for By {
    type Err = ArchiveError;
    fn from_str(s: &str) -> Result<By> {
        match s {
            "agency" => Ok(By::Agency),
            "type" => Ok(By::Type),
            "quarter" => Ok(By::Quarter),
            _ => Err(ArchiveError::Input(format!(
                "by {s:?}: one of agency, type, quarter (or none: agency × type × quarter)"
            ))),
        }
    }
}

/// A statistics query: the quarters that hold `from` and `to` (YYYY-MM-DD), at most
/// [`MAX_QUARTERS`]; grouped by one dimension, or by none (one row per agency × type ×
/// quarter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub from: String,
    pub to: String,
    pub by: Option<By>,
}

/// Today in Vietnam (+07:00), YYYY-MM-DD.
pub fn today() -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7));
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

impl StatsQuery {
    /// A query with the caller's bounds; without them, the last four quarters up to today.
    pub fn new(from: Option<&str>, to: Option<&str>, by: Option<&str>) -> Result<StatsQuery> {
        let to = to.map_or_else(today, str::to_string);
        let from = match from {
            Some(f) => f.to_string(),
            None => {
                let q = Quarter::of_date(&to).map_err(|_| {
                    ArchiveError::Input(format!("to {to:?} is not a date (YYYY-MM-DD)"))
                })?;
                let back = q.index().saturating_sub(3).max(4);
                Quarter {
                    year: (back / 4) as u16,
                    q: (back % 4) as u8 + 1,
                }
                .first_day()
            }
        };
        let q = StatsQuery {
            from,
            to,
            by: by.map(str::parse).transpose()?,
        };
        q.quarters()?;
        Ok(q)
    }

    /// The quarters asked for, checked.
    pub fn quarters(&self) -> Result<(Quarter, Quarter)> {
        let from = Quarter::of_date(&self.from).map_err(|_| {
            ArchiveError::Input(format!("from {:?} is not a date (YYYY-MM-DD)", self.from))
        })?;
        let to = Quarter::of_date(&self.to).map_err(|_| {
            ArchiveError::Input(format!("to {:?} is not a date (YYYY-MM-DD)", self.to))
        })?;
        if self.from > self.to {
            return Err(ArchiveError::Input(format!(
                "from {} is after to {}",
                self.from, self.to
            )));
        }
        let n = to.index() - from.index() + 1;
        if n > MAX_QUARTERS {
            return Err(ArchiveError::Input(format!(
                "{} to {} is {n} quarters; at most {MAX_QUARTERS} at a time",
                self.from, self.to
            )));
        }
        Ok((from, to))
    }
}

/// The counters of one row. `digitized` and `percent` are over the cells for which a total
/// was given: there, digitized = ingested − superseded (a result's later versions are not
/// counted twice), and percent = digitized / total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "type")]
    pub doc_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarter: Option<String>,
    pub ingested: u64,
    pub superseded: u64,
    pub revoked: u64,
    pub expired: u64,
    pub valid: u64,
    pub signatures: u64,
    pub reused: u64,
    pub total: Option<u64>,
    pub digitized: Option<u64>,
    pub percent: Option<f64>,
}

/// The answer to a [`StatsQuery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    /// The first day of the first quarter covered.
    pub from: String,
    /// The last day of the last quarter covered.
    pub to: String,
    pub by: Option<By>,
    pub rows: Vec<Row>,
    /// All rows together.
    pub all: Row,
}

/// A row's agency, type and quarter (those it is grouped by).
type Group = (Option<String>, Option<String>, Option<Quarter>);

#[derive(Default, Clone, Copy)]
struct Counts {
    c: [u64; 7],
    has_total: bool,
}

impl crate::store::Archive {
    /// Statistics from the counters (no record is read; aggregates name no person, so the
    /// query is not logged).
    pub fn stats(&self, q: &StatsQuery) -> Result<StatsReport> {
        let (first, last) = q.quarters()?;
        // Cells are kept one by one only where they must be: every cell when the rows are
        // cells, else those with a total (digitized pairs a cell's ingested and superseded
        // with its total). The counters of other cells go straight into their row: the cap
        // on cells counted them before grouping, so a clerk's 100,000 type codes in one
        // quarter made every report of it fail, even by quarter (helper 167).
        let by_cell = q.by.is_none();
        let group_of = |cell: &Cell| -> Group {
            match q.by {
                None => (
                    Some(cell.agency.clone()),
                    Some(cell.doc_type.clone()),
                    Some(cell.quarter),
                ),
                Some(By::Agency) => (Some(cell.agency.clone()), None, None),
                Some(By::Type) => (None, Some(cell.doc_type.clone()), None),
                Some(By::Quarter) => (None, None, Some(cell.quarter)),
            }
        };
        let mut cells: BTreeMap<Cell, Counts> = BTreeMap::new();
        let mut groups: BTreeMap<Group, Row> = BTreeMap::new();
        let mut all = Row::default();
        let stats = self.cf(CF_STATS)?;
        // The totals first: which cells have one.
        let order = [Counter::Total]
            .into_iter()
            .chain(Counter::ALL.into_iter().filter(|c| *c != Counter::Total));
        for counter in order {
            let mut it = self.db.raw_iterator_cf(stats);
            let mut start = vec![counter.byte()];
            start.extend_from_slice(first.to_string().as_bytes());
            it.seek(&start);
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                if k.first() != Some(&counter.byte()) {
                    break;
                }
                let key = StatKey::parse(k).ok_or_else(|| {
                    ArchiveError::Inconsistent(format!("counter key {k:?} does not parse"))
                })?;
                if key.cell.quarter > last {
                    break;
                }
                let v = parse_u64_key(v)
                    .ok_or_else(|| ArchiveError::Inconsistent("a counter is not 8 bytes".into()))?;
                // A total of 0 is none: a cell's results counted against 0 raised the share
                // past 100 % (helper 167); "0" is how a total given in error is taken back.
                let kept =
                    (by_cell && counter != Counter::Total) || (counter == Counter::Total && v > 0);
                if kept || cells.contains_key(&key.cell) {
                    if !cells.contains_key(&key.cell) && cells.len() == MAX_CELLS {
                        return Err(ArchiveError::Input(format!(
                            "more than {MAX_CELLS} agency × type × quarter cells: ask for fewer quarters"
                        )));
                    }
                    let e = cells.entry(key.cell).or_default();
                    e.c[counter as usize] = v;
                    if counter == Counter::Total && v > 0 {
                        e.has_total = true;
                    }
                } else if counter != Counter::Total {
                    let mut n = Counts::default();
                    n.c[counter as usize] = v;
                    count(&mut groups, &mut all, group_of(&key.cell), &n)?;
                }
                it.next();
            }
            it.status().map_err(db_err)?;
        }
        for (cell, n) in cells {
            count(&mut groups, &mut all, group_of(&cell), &n)?;
        }
        let mut rows: Vec<Row> = groups.into_values().collect();
        for r in rows.iter_mut().chain(std::iter::once(&mut all)) {
            finish(r);
        }
        Ok(StatsReport {
            from: first.first_day(),
            to: last.last_day(),
            by: q.by,
            rows,
            all,
        })
    }
}

/// Add counts to the row of group `g` (made on first use: at most [`MAX_CELLS`] rows) and to
/// `all`.
fn count(groups: &mut BTreeMap<Group, Row>, all: &mut Row, g: Group, n: &Counts) -> Result<()> {
    if !groups.contains_key(&g) && groups.len() == MAX_CELLS {
        return Err(ArchiveError::Input(format!(
            "more than {MAX_CELLS} rows: ask for fewer quarters"
        )));
    }
    let row = groups.entry(g).or_insert_with_key(|g| Row {
        agency: g.0.clone(),
        doc_type: g.1.clone(),
        quarter: g.2.map(|q| q.to_string()),
        ..Row::default()
    });
    add(row, n)?;
    add(all, n)
}

/// Add a cell's counts to a row. A sum past 2^64 − 1 is damage (each count is of the log's
/// events): refused, not wrapped (a counter set to 2^64 − 1 had panicked `kyso stats`; found
/// by an insider's reading, 2026-12-03).
fn add(r: &mut Row, n: &Counts) -> Result<()> {
    let c = |k: Counter| n.c[k as usize];
    let over =
        || ArchiveError::Inconsistent("the statistics' counters add up past 2^64 − 1".into());
    let sum = |a: &mut u64, b: u64| -> Result<()> {
        *a = a.checked_add(b).ok_or_else(over)?;
        Ok(())
    };
    sum(&mut r.ingested, c(Counter::Ingested))?;
    sum(&mut r.superseded, c(Counter::Superseded))?;
    sum(&mut r.revoked, c(Counter::Revoked))?;
    sum(&mut r.expired, c(Counter::Expired))?;
    sum(&mut r.signatures, c(Counter::Signatures))?;
    sum(&mut r.reused, c(Counter::Reused))?;
    if n.has_total {
        sum(r.total.get_or_insert(0), c(Counter::Total))?;
        sum(
            r.digitized.get_or_insert(0),
            c(Counter::Ingested).saturating_sub(c(Counter::Superseded)),
        )?;
    }
    Ok(())
}

fn finish(r: &mut Row) {
    r.valid = r.ingested.saturating_sub(
        r.superseded
            .saturating_add(r.revoked)
            .saturating_add(r.expired),
    );
    r.percent = match (r.digitized, r.total) {
        (Some(d), Some(t)) if t > 0 => Some((d as f64 * 1000.0 / t as f64).round() / 10.0),
        _ => None,
    };
}

/// A text cell a spreadsheet will not read as a formula: one that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP's CSV injection advice). Agency
/// names and document type codes are a clerk's text: a type `-2-3` showed as −5, an agency
/// `=HYPERLINK(…)` would have been a link (an attacker's reading, 2026-12-05).
///
/// An agency or type named `all` gets one too: the last line's grouping columns say `all`,
/// and a row of its own would read as that line (helper 167).
fn spreadsheet_safe(s: String) -> String {
    // After leading spaces too: a spreadsheet that trims them on import reads the formula
    // (helper 167).
    if s.starts_with(['\t', '\r'])
        || s.trim_start().starts_with(['=', '+', '-', '@', '\''])
        || reads_as_all(&s)
    {
        format!("'{s}")
    } else {
        s
    }
}

/// Does a name read as `all` where shown: its letters and digits alone are "all" (a soft
/// hyphen, a zero-width space or spaces between them show nothing; helper 174).
fn reads_as_all(s: &str) -> bool {
    let shown: String = s.chars().filter(|c| c.is_alphanumeric()).collect();
    shown.eq_ignore_ascii_case("all")
}

impl StatsReport {
    /// CSV (RFC 4180, CRLF line ends, a header line): one line per row, then the line of all
    /// rows (its grouping columns say `all`). Empty fields are unknown; a text cell that a
    /// spreadsheet would read as a formula starts with `'` ([`spreadsheet_safe`]).
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let head = [
            "agency",
            "type",
            "quarter",
            "ingested",
            "superseded",
            "revoked",
            "expired",
            "valid",
            "signatures",
            "reused",
            "total",
            "digitized",
            "percent",
        ];
        let skip = |i: usize| match self.by {
            None => false,
            Some(By::Agency) => i == 1 || i == 2,
            Some(By::Type) => i == 0 || i == 2,
            Some(By::Quarter) => i == 0 || i == 1,
        };
        let line = |r: &Row, all: bool| -> Vec<String> {
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            let dim = |v: &Option<String>| {
                if all {
                    "all".to_string()
                } else {
                    spreadsheet_safe(v.clone().unwrap_or_default())
                }
            };
            vec![
                dim(&r.agency),
                dim(&r.doc_type),
                dim(&r.quarter),
                r.ingested.to_string(),
                r.superseded.to_string(),
                r.revoked.to_string(),
                r.expired.to_string(),
                r.valid.to_string(),
                r.signatures.to_string(),
                r.reused.to_string(),
                opt(r.total),
                opt(r.digitized),
                r.percent.map(|p| format!("{p:.1}")).unwrap_or_default(),
            ]
        };
        let keep = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .enumerate()
                .filter(|(i, _)| !skip(*i))
                .map(|(_, s)| s)
                .collect()
        };
        let _ = w.write_record(keep(head.iter().map(|s| s.to_string()).collect()));
        for r in &self.rows {
            let _ = w.write_record(keep(line(r, false)));
        }
        let _ = w.write_record(keep(line(&self.all, true)));
        w.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_a_spreadsheet_would_compute_are_quoted() {
        for (given, want) in [
            ("-2-3", "'-2-3"),
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            (" =HYPERLINK(\"http://x\")", "' =HYPERLINK(\"http://x\")"),
            ("GIAY_PHEP", "GIAY_PHEP"),
            ("UBND tỉnh Hà Nội", "UBND tỉnh Hà Nội"),
            ("2026-Q1", "2026-Q1"),
            ("", ""),
            ("all", "'all"),
            (" ALL ", "' ALL "),
            ("'all", "''all"),
            ("allied", "allied"),
            ("all\u{200b}", "'all\u{200b}"),
            ("a\u{ad}ll", "'a\u{ad}ll"),
        ] {
            assert_eq!(spreadsheet_safe(given.into()), want);
        }
    }

    #[test]
    fn counters_adding_up_past_u64_are_damage_not_a_panic() {
        let (mut r, mut n) = (Row::default(), Counts::default());
        n.c[Counter::Ingested as usize] = u64::MAX;
        n.c[Counter::Revoked as usize] = u64::MAX;
        n.c[Counter::Expired as usize] = 1;
        add(&mut r, &n).unwrap();
        finish(&mut r);
        assert_eq!(r.valid, 0);
        assert!(matches!(
            add(&mut r, &n),
            Err(ArchiveError::Inconsistent(_))
        ));
    }

    #[test]
    fn keys_parse_back_and_sort_by_quarter() {
        let k = |q: &str, a: &str, t: &str| StatKey {
            counter: Counter::Ingested,
            cell: Cell {
                quarter: Quarter::parse(q).unwrap(),
                agency: a.into(),
                doc_type: t.into(),
            },
        };
        for key in [k("2026-Q1", "Sở KH&ĐT", "GKS"), k("0001-Q4", "", "")] {
            assert_eq!(StatKey::parse(&key.encode()), Some(key));
        }
        assert!(k("2025-Q4", "ZZZ", "Z").encode() < k("2026-Q1", "A", "A").encode());
        for junk in [&b""[..], b"i2026-Q1", b"x2026-Q1a\0b", b"i2026-Q5a\0b"] {
            assert_eq!(StatKey::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn quarters_are_vietnamese() {
        assert_eq!(
            Quarter::of_date("2026-03-31").unwrap().to_string(),
            "2026-Q1"
        );
        assert_eq!(
            Quarter::of_date("2026-04-01").unwrap().to_string(),
            "2026-Q2"
        );
        // 31 March 17:00 UTC is 1 April 00:00 in Hà Nội.
        assert_eq!(
            Quarter::of_time("2026-03-31T16:59:59Z")
                .unwrap()
                .to_string(),
            "2026-Q1"
        );
        assert_eq!(
            Quarter::of_time("2026-03-31T17:00:00Z")
                .unwrap()
                .to_string(),
            "2026-Q2"
        );
        assert_eq!(
            Quarter::of_time("2026-12-31T18:00:00Z")
                .unwrap()
                .to_string(),
            "2027-Q1"
        );
        for bad in [
            "2026-Q0",
            "2026-Q5",
            "0000-Q1",
            "2026Q1",
            "2026-q1",
            "２026-Q1",
        ] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn queries_are_bounded() {
        let q = |f: &str, t: &str| StatsQuery {
            from: f.into(),
            to: t.into(),
            by: None,
        };
        assert!(q("2026-01-01", "2026-12-31").quarters().is_ok());
        assert!(q("2017-01-01", "2026-12-31").quarters().is_ok());
        for (f, t) in [
            ("2016-12-31", "2026-12-31"),
            ("0001-01-01", "9999-12-31"),
            ("2026-02-30", "2026-12-31"),
            ("2026-12-31", "2026-01-01"),
            ("yesterday", "2026-01-01"),
        ] {
            let e = q(f, t).quarters().unwrap_err();
            assert_eq!(e.exit_code(), 5, "{f} {t}: {e}");
        }
    }

    #[test]
    fn totals_files_are_checked_whole() {
        let ok = b"agency,type,quarter,total\r\nUBND-HK,GKS,2026-Q1,120\r\n\"S\xe1\xbb\x9f, A\",KH,2026-Q2,7\r\n";
        let t = parse_totals_csv(ok).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].agency, "Sở, A");
        for (bad, says) in [
            (&b"agency,type,total\nA,B,1\n"[..], "header"),
            (
                b"agency,type,quarter,total\nA,B,2026-Q1,-1\n",
                "whole number",
            ),
            (b"agency,type,quarter,total\nA,B,2026-Q9,1\n", "quarter"),
            (
                b"agency,type,quarter,total\nA,B B,2026-Q1,1\n",
                "document type",
            ),
            (b"agency,type,quarter,total\nA,B,2026-Q1\n", "fields"),
            (
                b"agency,type,quarter,total\nA,B,2026-Q1,1\nA,B,2026-Q1,2\n",
                "twice",
            ),
            (b"agency,type,quarter,total\n,B,2026-Q1,1\n", "agency"),
            (b"agency,type,quarter,total\n", "no rows"),
            (
                b"agency,type,quarter,total\nA,B,2026-Q1,99999999999\n",
                "plausible",
            ),
            (b"agency,type,quarter,total\n\xff,B,2026-Q1,1\n", "UTF-8"),
        ] {
            let e = parse_totals_csv(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{says}: {e}");
        }
        let mut huge = b"agency,type,quarter,total\n".to_vec();
        for i in 0..=MAX_TOTALS {
            huge.extend_from_slice(format!("A{i},B,2026-Q1,1\n").as_bytes());
        }
        assert!(parse_totals_csv(&huge)
            .unwrap_err()
            .to_string()
            .contains("rows"));
        assert!(parse_totals_csv(&vec![b'a'; MAX_TOTALS_BYTES + 1])
            .unwrap_err()
            .to_string()
            .contains("bytes"));
    }
}
