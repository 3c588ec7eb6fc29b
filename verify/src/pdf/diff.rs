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

use super::fields::FieldNode;
use super::roles::{Role, Roles};
use kyso_pdf::form::own_name;
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
    /// It or its field carries actions (/A, /AA) a viewer may run, e.g. on opening the page.
    pub actions: bool,
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
        /// Other fully qualified names it goes by: read up its /Parent chain, in the signed
        /// revision and in the final file.
        also: Vec<String>,
        /// Readers may name it otherwise still (a kid of several fields, a chain deeper than
        /// kyso reads or looping, a node the /Fields tree does not reach): a lock covers it.
        unsure: bool,
        signature: bool,
        /// A signature field that had no value in the signed revision.
        was_empty: bool,
        /// A viewer lets its user fill it: not read-only (/Ff, own or inherited), not a push
        /// button (see `not_fillable`), in the signed revision.
        fillable: bool,
        /// No field hangs under it (its /Kids, if any, are widgets without a /T), in the signed
        /// revision and in the final file: the fields under one inherit its /DA, /Q, /V, /Ff.
        terminal: bool,
        /// Its value in the final file is a signature made after the signed revision (one
        /// that is validated as such), not a dictionary that only looks like one.
        value_signed: bool,
        /// That later signature is a document time-stamp (anyone can have one made).
        value_timestamp: bool,
        /// The changed widget shows something in the final file, in some reader: its flags
        /// do not hide it from all of them ([`shows`]).
        visible: bool,
        /// Its flags hide it in the final file, and did not in the signed revision, from the
        /// readers that honour them (Poppler, MuPDF): what it showed when it was signed may
        /// be gone there ([`hidden_by_flags`]).
        flag_hidden: bool,
        /// It showed something in the signed revision: what it showed was part of what the
        /// signer saw (an empty signature field's appearance painting "1" over the page's "9",
        /// hidden after signing by its /F alone, showed "900 VND" in every reader,
        /// TOTAL-PASSED, under DocMDP P=1 too; helper 228).
        was_visible: bool,
        keys: Vec<String>,
    },
    /// The form's default resources only gained entries (new fonts for new fields); whether a
    /// viewer draws something with the defaults (a /DA naming a font the resources lacked
    /// picks up the one added: "100 VND" became "900 VND"; found by an attacker's reading,
    /// 2026-12-02).
    FormResourcesAdded { used_for_drawing: bool },
    /// The form's /NeedAppearances went from true to false or away (pyHanko deletes it
    /// whenever it signs; found by a false-failure review, 2026-12-03): readers stop redrawing
    /// field values and show the stored appearances instead.
    NeedAppearancesCleared,
    /// A signature dictionary changed.
    SignatureValueChanged { num: u32 },
    /// Validation data (the DSS and what it holds) changed.
    ValidationData,
    /// Document metadata (XMP /Metadata, the trailer's /Info) changed.
    Metadata,
    /// The XMP packet changed, and a limit (said) kept kyso from comparing the two versions,
    /// to tell an update's restated dates and producer from another change.
    MetadataUnread(String),
    /// A font of the form's default resources changed; whether a viewer draws some field value
    /// with the form's defaults (a text or choice field without an appearance, or
    /// /NeedAppearances).
    FormFont { num: u32, used_for_drawing: bool },
    /// The form's /DA or /DR was rewritten (not only grown); as above.
    FormDefaults {
        keys: Vec<String>,
        used_for_drawing: bool,
    },
    /// The catalog's /Extensions changed.
    Extensions,
    /// Anything else the document uses: page content, resources, fonts, images, appearances.
    Content { num: u32, what: String },
    /// A reader that rebuilds the cross-reference table may show this field as it was before
    /// it was filled (an earlier version in an object stream): which keys differ.
    RebuiltField { name: String, keys: Vec<String> },
    /// A reader that rebuilds the cross-reference table may show object `num` as an earlier
    /// revision of the signer's document had it (`place`): what differs, and whether it is
    /// what a page draws.
    RebuiltHistory {
        num: u32,
        place: String,
        what: String,
        content: bool,
    },
}

/// Equal as PDF objects (a stream's /Length may differ). A real is not the integer of its
/// value — readers take only integers in many places: a font's /Differences code, an image's
/// /BitsPerComponent or colour-key /Mask, a function's /Size written `57.0`, `8.0` or `2.0`
/// after signing made Poppler draw "900 VND", drop an image or a shading, MuPDF ignore a mask
/// (found by attacker's readings, 2026-12-03) — except in the geometry of [`REAL_KEYS`].
pub fn same(a: &Object, b: &Object) -> bool {
    same_numbers(a, b, false)
}

/// Keys whose numbers readers take as reals whatever they are written as (rectangles,
/// matrices, colours): writers rewrite `612.0` as `612` there.
const REAL_KEYS: [&[u8]; 12] = [
    b"MediaBox",
    b"CropBox",
    b"BleedBox",
    b"TrimBox",
    b"ArtBox",
    b"Rect",
    b"BBox",
    b"Matrix",
    b"QuadPoints",
    b"C",
    b"IC",
    b"RD",
];

fn same_numbers(a: &Object, b: &Object, reals: bool) -> bool {
    match (a, b) {
        (Object::Dict(x), Object::Dict(y)) => same_dict(x, y, &[]),
        (Object::Stream(x), Object::Stream(y)) => {
            same_dict(&x.dict, &y.dict, &["Length"]) && x.data == y.data
        }
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_numbers(p, q, reals))
        }
        (Object::Real(x), Object::Int(y)) | (Object::Int(y), Object::Real(x)) => {
            reals && *x == *y as f64
        }
        _ => a == b,
    }
}

/// Equal as maps, ignoring `skip` keys.
fn same_dict(a: &Dict, b: &Dict, skip: &[&str]) -> bool {
    changed_keys(a, b)
        .iter()
        .all(|k| skip.iter().any(|s| s == k))
}

/// A dictionary's entries by key, the last of a repeated key winning (as [`Dict::get`]):
/// looked up in constant time, so comparing dictionaries of a million keys is linear, not
/// quadratic.
fn index(d: &Dict) -> HashMap<&[u8], &Object> {
    d.0.iter().map(|(k, v)| (k.as_slice(), v)).collect()
}

/// Keys readers take only as integers, arrays of numbers included (Poppler ignores a real /Ff:
/// a combo box written `/Ff 131072.0` after signing was drawn as a list box; a choice field's
/// selected /I; found by an attacker's reading, 2026-12-03): a real there is not the integer
/// it equals.
const INTEGER_KEYS: [&[u8]; 10] = [
    b"Ff",
    b"F",
    b"Q",
    b"MaxLen",
    b"Rotate",
    b"SigFlags",
    b"P",
    b"I",
    b"W",
    b"Index",
];

/// The keys whose values differ (a key present on one side only differs).
pub fn changed_keys(a: &Dict, b: &Dict) -> Vec<String> {
    let (ia, ib) = (index(a), index(b));
    let keys: HashSet<&[u8]> = ia.keys().chain(ib.keys()).copied().collect();
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| match (ia.get(k), ib.get(k)) {
            (Some(x), Some(y)) if INTEGER_KEYS.contains(k) => x != y,
            (Some(x), Some(y)) => !same_numbers(x, y, REAL_KEYS.contains(k)),
            (None, None) => false,
            _ => true,
        })
        .map(|k| String::from_utf8_lossy(k).into_owned())
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

/// Signatures as the classifier knows them: each one's /Contents, and whether it is a document
/// time-stamp.
pub type Signatures = [(Vec<u8>, bool)];

/// The largest object number MuPDF keeps (PDF_MAX_OBJECT_NUMBER).
pub const MAX_READER_OBJECTS: i64 = 8_388_607;

/// Most earlier versions of the objects a signature covers that are compared with it (each
/// costs a copy of the table): more is refused.
const MAX_EARLIER_VERSIONS: usize = 512;

/// What the sections of a file's chain say, for judging object streams written after a
/// signature: the numbers they name as object streams, every (member, stream, index) they
/// place, every (number, offset) they place plainly, and the numbers the signed revision uses.
#[derive(Default)]
struct Placements {
    streams: HashSet<u32>,
    member_numbers: HashSet<u32>,
    members: HashSet<(u32, u32, u32)>,
    plain: HashSet<(u32, usize)>,
    used: HashSet<u32>,
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
    /// The signatures made after the signed revision that the form shows and kyso validates:
    /// their /Contents, and whether each is a document time-stamp.
    pub later_signatures: &'a Signatures,
    /// Every signature the form shows (as `later_signatures`): an earlier version of an object
    /// may lack any of them.
    pub all_signatures: &'a Signatures,
    /// [`Revisions::drawn_from_defaults`], once worked out: every changed form font asks it,
    /// and it reads every field (N fonts × N fields took 72 s for a 700 KB file; found by an
    /// attacker's reading, 2026-12-02).
    pub drawn_from_defaults: std::cell::OnceCell<bool>,
    /// [`Revisions::need_appearances`], once read.
    pub need_appearances: std::cell::OnceCell<bool>,
    /// [`Revisions::inherited_from`], once worked out.
    pub inherited_from: std::cell::OnceCell<Option<HashSet<ObjRef>>>,
    /// [`Revisions::stream_dict_changed`] by object stream, once worked out.
    pub objstm_dicts: std::cell::RefCell<HashMap<u32, bool>>,
    /// Where the file's object headers are, as a reader rebuilding its table finds them (one
    /// reading for all its signatures).
    pub headers: &'a Headers,
}

/// The file's object headers as a reader that rebuilds the cross-reference table finds them
/// (MuPDF by tokens, Poppler by lines — in stream data too), and the last trailer it finds.
#[derive(Debug, Default)]
pub struct Headers {
    /// For each object number, where its last header in the file begins (MuPDF's rebuild
    /// keeps the last), and where the last of its highest generation begins (Poppler's keeps
    /// the highest generation; a forged `4 1 obj` before the signed `4 0 obj` made Poppler
    /// drop the signed page content; found by an attacker's reading, 2026-12-02).
    pub last: kyso_pdf::Map<u32, usize>,
    pub highest: kyso_pdf::Map<u32, (u64, usize)>,
    /// Headers `N G obj` whose N is no object number (past 2³² − 1: Poppler wraps it).
    pub overflow: Vec<usize>,
    /// `obj` keywords not written as `N G obj` (an escaped keyword, a lone sign, a number run
    /// into it, a word in a string): where each is.
    pub odd: Vec<usize>,
    /// The last `trailer` keyword, and the /Root of the dictionary after it (`None`: none read).
    pub trailer: Option<(usize, Option<ObjRef>)>,
    /// Every header `N G obj` as above, in file order: (number, generation, where it begins,
    /// where its `obj` keyword is).
    pub all: Vec<(u32, u64, usize, usize)>,
    /// Every name `/Root` (escapes decoded) in the file and the reference after it (`None`: no
    /// reference): MuPDF's repair opens the catalog of the last dictionary with /Root it reads
    /// as it scans, wherever the dictionary is (one inside an array after an integer was read
    /// so; found by an attacker's reading, 2026-12-02).
    pub roots: Vec<(usize, Option<ObjRef>)>,
    /// The last `trailer` is followed by a dictionary kyso cannot read (Poppler reads past a
    /// key that is no name and takes its /Root).
    pub trailer_unreadable: bool,
    /// The odd `obj` keywords cost more to read as readers' repairs may than the file's bound
    /// ([`kyso_pdf::parse::Lines::exhausted`]): some were not read.
    pub odd_unread: bool,
    /// What the objects under those headers are, read once when a signature needs it.
    pub scanned: std::cell::OnceCell<Scanned>,
    /// The lengths a linearization dictionary may give ([`linearized_lengths`]): every name of
    /// the file is read, once for all the signatures a revision follows.
    pub linearized: std::cell::OnceCell<Vec<usize>>,
    /// The table Poppler's rebuild makes of the file ([`kyso_pdf::parse::poppler_rebuild`]).
    pub poppler: kyso_pdf::parse::PopplerRebuild,
}

/// What a reader rebuilding the table finds under the headers besides plain objects: the
/// object streams (MuPDF loads every one's members over the headers) and the stream data its
/// repair skips. (The catalogs it may open are every /Root name: `Headers::roots`.)
#[derive(Debug, Default)]
pub struct Scanned {
    /// Each object stream: its number, generation, header position and members' numbers in
    /// order (as far as its index reads).
    pub streams: Vec<(u32, u16, usize, Vec<u32>)>,
    /// Where object streams are whose members kyso cannot list (a reader may still load some).
    pub unreadable: Vec<usize>,
    /// The objects under the headers took more reading than a file of its size can need.
    pub exhausted: bool,
    /// Stream data as MuPDF's repair skips it (a direct integer /Length when `endstream`
    /// follows it, else up to the first `endstream`), in file order: headers inside are not
    /// read.
    pub data: Vec<std::ops::Range<usize>>,
    /// The headers whose dictionary a `stream` keyword follows, however written (spaces,
    /// comments, `stream%`), wherever they are (in strings and stream data too), by number, in
    /// file order. MuPDF's repair loads — and keeps — the dictionary of a number's first
    /// stream whose length it measures, whatever headers of the number come after, and reads
    /// its data under the last header: a page written as a stream after the signature, then
    /// written back as signed, was MuPDF's page after its repair (helper 202). Which of them
    /// it measures first rests on how it lexes (a `stream` followed by a space, an `endstream`
    /// run into `endobj`, a header in a string, a decoy in another stream's data: helper 203),
    /// so every one is held to what the signature covers.
    pub streams_of: kyso_pdf::Map<u32, Vec<StreamHeader>>,
    /// Headers whose object kyso cannot parse (a key given twice, an integer past 64 bits, a
    /// bad escape), in file order: MuPDF's repair may read it all the same, a forged page
    /// inside a string among them (helper 205).
    pub unparsed: Vec<(u32, usize)>,
}

impl Scanned {
    /// Whether `at` lies inside stream data MuPDF's repair skips (headers there it never reads).
    fn skips(&self, at: usize) -> bool {
        let i = self.data.partition_point(|d| d.start <= at);
        i > 0 && self.data[i - 1].contains(&at)
    }
}

/// A header whose dictionary a `stream` keyword follows ([`Scanned::streams_of`]).
#[derive(Debug, Clone)]
pub struct StreamHeader {
    pub gen: u64,
    /// Where the header begins.
    pub at: usize,
    pub dict: Dict,
    /// Shaped as an object stream (/Type /ObjStm, or /N and /First).
    pub objstm: bool,
    /// The length MuPDF's repair measures for its data (`usize::MAX`: not known), when it
    /// measures one.
    pub measured: Option<usize>,
}

impl Headers {
    pub fn find(data: &[u8]) -> Headers {
        let mut h = Headers::default();
        let line = kyso_pdf::parse::Lines::for_file(data.len());
        // `obj` and `trailer` tokens, found in one reading of the file.
        let words: [&[u8]; 2] = [b"obj", b"trailer"];
        let mut last_trailer_token = None;
        for (k, which) in kyso_pdf::parse::keyword_tokens_which(data, &words) {
            if which == 1 {
                last_trailer_token = Some(k);
                continue;
            }
            // `obj` itself, or run into the generation number (`4 0obj`).
            let kw = k + data[k..].iter().take_while(|c| c.is_ascii_digit()).count();
            let strict = data[kw..]
                .starts_with(b"obj")
                .then(|| kyso_pdf::parse::header_start(data, kw))
                .flatten()
                .map(|at| {
                    let digits = |from: usize| {
                        let n = data[from..]
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .count();
                        (
                            std::str::from_utf8(&data[from..from + n])
                                .ok()
                                .and_then(|t| t.parse::<u64>().ok()),
                            from + n,
                        )
                    };
                    let (num, end) = digits(at);
                    let g = end
                        + data[end..]
                            .iter()
                            .take_while(|c| !c.is_ascii_digit())
                            .count();
                    (num.and_then(|n| u32::try_from(n).ok()), digits(g).0, at)
                });
            let mut header = |num: Option<u32>, gen: Option<u64>, at: usize| match num {
                Some(num) => {
                    let e = h.last.entry(num).or_insert(at);
                    *e = (*e).max(at);
                    let gen = gen.unwrap_or(u64::MAX);
                    h.all.push((num, gen, at, kw));
                    let e = h.highest.entry(num).or_insert((gen, at));
                    if (gen, at) > *e {
                        *e = (gen, at);
                    }
                }
                None => h.overflow.push(at),
            };
            match strict {
                Some((num, gen, at)) => header(num, gen, at),
                None => {
                    // Not written as writers write it, but a reader's repair may still read a
                    // header there (a sign, a comment between its parts, digits run into what
                    // precedes them): each such reading counts as a header.
                    for (num, gen, at) in kyso_pdf::parse::loose_headers_in(data, kw, &line) {
                        header(u32::try_from(num).ok(), Some(gen), at);
                    }
                    h.odd.push(k);
                }
            }
        }
        // What Poppler's rebuild takes, as it reads lines (which no lexical reading models:
        // `3 0 objx`, a NUL or a 255-byte split between a header's parts, a header after an
        // `endobj` on a line; found by attackers' readings, 2026-12-03).
        h.odd_unread = line.exhausted();
        h.poppler = kyso_pdf::parse::poppler_rebuild(data);
        // Each header it reads counts as the lexical readings' do (the versions a rebuild
        // may take are weighed by `rebuilt_shows_otherwise`; a header only Poppler reads in
        // the signer's own file was not, 2026-12-03).
        let known: std::collections::HashSet<(u32, usize)> =
            h.all.iter().map(|&(n, _, at, _)| (n, at)).collect();
        for &(num, gen, at, kw) in &h.poppler.headers {
            if known.contains(&(num, at)) {
                continue;
            }
            let gen = gen.max(0) as u64;
            let e = h.last.entry(num).or_insert(at);
            *e = (*e).max(at);
            h.all.push((num, gen, at, kw));
            let e = h.highest.entry(num).or_insert((gen, at));
            if (gen, at) > *e {
                *e = (gen, at);
            }
            h.odd.push(kw);
        }
        h.all.sort_unstable_by_key(|&(_, _, at, kw)| (kw, at));
        // The last `trailer` as a token, or as bytes anywhere (Poppler's rebuild reads lines of
        // at most 255 bytes: `AAA…Atrailer` may start one; found by an attacker's reading,
        // 2026-12-02).
        let last_trailer = last_trailer_token.max(memchr::memmem::rfind(data, b"trailer"));
        if let Some(t) = last_trailer {
            let mut p = kyso_pdf::parse::Parser::new(data, t + b"trailer".len());
            p.skip_ws();
            let dict = data[p.pos..].starts_with(b"<<");
            let root = match p.object(0) {
                Ok(Object::Dict(d)) => d.get("Root").and_then(Object::as_ref),
                Ok(_) => None,
                Err(_) => {
                    h.trailer_unreadable = dict;
                    None
                }
            };
            h.trailer = Some((t, root));
        }
        for slash in memchr::memchr_iter(b'/', data) {
            // `Root` as written or escaped: 4 to 12 bytes, the first `R` or `#`.
            if !matches!(data.get(slash + 1), Some(b'R' | b'#')) {
                continue;
            }
            let end = slash
                + 1
                + data[slash + 1..]
                    .iter()
                    .take(13)
                    .take_while(|c| !kyso_pdf::parse::is_ws(**c) && !kyso_pdf::parse::is_delim(**c))
                    .count();
            if !(4..=12).contains(&(end - slash - 1))
                || kyso_pdf::parse::decode_name_escapes(&data[slash + 1..end]) != b"Root"
            {
                continue;
            }
            // A reference is short: the value is read within 64 bytes.
            let mut p = kyso_pdf::parse::Parser::new(&data[..(end + 64).min(data.len())], end);
            h.roots
                .push((slash, p.object(0).ok().and_then(|o| o.as_ref())));
        }
        h
    }
}

impl Headers {
    /// What lies under the headers (see [`Scanned`]), read once per file, object streams
    /// decoded within the document's budget.
    pub fn scan(&self, doc: &Document<'_>) -> &Scanned {
        self.scanned.get_or_init(|| {
            let data = doc.data();
            let mut out = Scanned::default();
            let length_of = |r: ObjRef| doc.get(r).ok().and_then(|o| o.as_int());
            // Each dictionary is read within what is left of a budget of four times the file:
            // headers inside a string nested a thousand deep each read the rest of the file
            // (a 468 KB file took 100 s; found by an attacker's reading, 2026-12-02).
            let mut budget = data.len().saturating_mul(4).saturating_add(1 << 20);
            // Every `endstream`, found once: each stream's end is looked up, not searched for
            // from its start (N headers inside one stream's data each searched to its end:
            // quadratic, 65 s for 6.4 MB; helper 200).
            let endstreams: Vec<usize> = memchr::memmem::find_iter(data, b"endstream").collect();
            let next_endstream = |from: usize| {
                endstreams
                    .get(endstreams.partition_point(|e| *e < from))
                    .copied()
            };
            // Each /Type given by reference, resolved once (N dictionaries naming one large
            // array as their /Type each parsed it; helper 200).
            let mut types: HashMap<u32, Option<Vec<u8>>> = HashMap::new();
            for &(num, gen, at, kw) in &self.all {
                if kyso_pdf::stop::stopped() {
                    break; // the caller discards the result
                }
                // After the keyword, however it is written (`o#62j` is three bytes longer).
                let from = kw
                    + data[kw..]
                        .iter()
                        .take_while(|c| !kyso_pdf::parse::is_ws(**c) && !b"<[(/".contains(c))
                        .count();
                let end = from.saturating_add(budget).min(data.len());
                let mut p = kyso_pdf::parse::Parser::new(&data[..end], from);
                let parsed = p.object(0);
                budget = budget.saturating_sub(p.pos.saturating_sub(from) + 1);
                if budget == 0 {
                    out.exhausted = true;
                    break;
                }
                let d = match parsed {
                    Ok(Object::Dict(d)) => d,
                    Ok(_) => continue,
                    Err(_) => {
                        out.unparsed.push((num, at));
                        continue;
                    }
                };
                // A `stream` keyword after the dictionary, as MuPDF's repair looks for one.
                let Some(follows) = stream_follows(data, p.pos, &mut budget) else {
                    out.exhausted = true;
                    break;
                };
                let mut q = kyso_pdf::parse::Parser::new(data, p.pos);
                // Where the data begins (a `stream` readers begin elsewhere is no stream here:
                // its data is looked through for headers, as a reader that sees none would),
                // and where a direct /Length that `endstream` follows ends it (MuPDF's repair
                // then measures nothing and skips the data).
                let begin = q.stream_start().ok().flatten();
                let skipped = begin.and_then(|begin| match d.get("Length") {
                    Some(Object::Int(n)) if *n >= 0 => begin.checked_add(*n as usize).filter(|e| {
                        data.get(*e..).is_some_and(|t| {
                            let ws = t.iter().take_while(|c| kyso_pdf::parse::is_ws(**c)).count();
                            t[ws..].starts_with(b"endstream")
                        })
                    }),
                    _ => None,
                });
                if follows {
                    // The length MuPDF's repair measures: none when it skips the data; to the
                    // next `endstream` when kyso finds where the data begins; unknown (the
                    // largest) otherwise.
                    let measured = match begin {
                        Some(b) => skipped
                            .is_none()
                            .then(|| next_endstream(b).unwrap_or(data.len()) - b),
                        None => Some(usize::MAX),
                    };
                    out.streams_of.entry(num).or_default().push(StreamHeader {
                        gen,
                        at,
                        objstm: (d.get("N").is_some() && d.get("First").is_some())
                            || d.get("Type").and_then(Object::as_name) == Some(b"ObjStm"),
                        dict: d.clone(),
                        measured,
                    });
                }
                if let Some(begin) = begin {
                    let end = skipped.or_else(|| next_endstream(begin));
                    out.data.push(begin..end.unwrap_or(data.len()));
                }
                // MuPDF resolves /Type ignoring generations: a reference whose generation kyso's
                // table does not hold still names /ObjStm there (found by an attacker's
                // reading, 2026-12-02).
                let kind: Option<Vec<u8>> = match d.get("Type") {
                    Some(Object::Ref(t)) => types
                        .entry(t.num)
                        .or_insert_with(|| {
                            let o = match doc.entry(t.num) {
                                Some(XrefEntry::Offset { gen, .. }) => {
                                    doc.get(ObjRef::new(t.num, gen)).ok()
                                }
                                Some(XrefEntry::InStream { .. }) => {
                                    doc.get(ObjRef::new(t.num, 0)).ok()
                                }
                                _ => None,
                            };
                            o.as_ref().and_then(Object::as_name).map(<[u8]>::to_vec)
                        })
                        .clone(),
                    t => t.and_then(Object::as_name).map(<[u8]>::to_vec),
                };
                let shaped = d.get("N").is_some() && d.get("First").is_some();
                match kind.as_deref() {
                    // A stream shaped as an object stream whose /Type kyso cannot read may be
                    // one to a reader; and one whose /Type is a reference is read as MuPDF's
                    // repair resolves it — in the table it is still rebuilding, in number order,
                    // where the object may not be loaded yet: it skipped a stream kyso took for
                    // loaded, and kept a forged page (helper 198). Writers write /Type directly.
                    None if shaped && d.get("Type").is_some() => out.unreadable.push(at),
                    Some(_) if shaped && matches!(d.get("Type"), Some(Object::Ref(_))) => {
                        out.unreadable.push(at)
                    }
                    Some(b"ObjStm") => {
                        let (Ok(gen), Ok((_, Object::Stream(st)))) = (
                            u16::try_from(gen),
                            kyso_pdf::document::read_indirect(data, at, &length_of),
                        ) else {
                            out.unreadable.push(at);
                            continue;
                        };
                        let (members, complete) = objstm_members(doc, &st);
                        if !complete {
                            out.unreadable.push(at);
                        }
                        out.streams.push((num, gen, at, members));
                    }
                    _ => {}
                }
            }
            out
        })
    }
}

/// Whether MuPDF's repair takes a `stream` keyword to follow a header's dictionary ending at
/// `from`: `pdf_repair_obj` reads on over any token — a name, a string, a real, a keyword —
/// until `stream`, `endobj`, an integer or the end (a forged page written `<<…>> /X stream`
/// in the preparer's history was its page after a repair while kyso, looking for `stream`
/// after white space only, never compared it; helper 208). What it reads is charged to
/// `budget`; `None` once that is spent.
fn stream_follows(data: &[u8], from: usize, budget: &mut usize) -> Option<bool> {
    use kyso_pdf::parse::{is_delim, is_ws};
    let mut k = from;
    let regular = |c: u8| !is_ws(c) && !is_delim(c);
    let found = loop {
        while k < data.len() && is_ws(data[k]) {
            k += 1;
        }
        let Some(&c) = data.get(k) else {
            break false;
        };
        let rest = &data[k..];
        if rest.starts_with(b"stream") && rest.get(6).is_none_or(|&n| !regular(n)) {
            break true;
        }
        if rest.starts_with(b"endobj") && rest.get(6).is_none_or(|&n| !regular(n)) {
            break false;
        }
        let start = k;
        match c {
            b'%' => {
                k += rest
                    .iter()
                    .take_while(|c| **c != b'\n' && **c != b'\r')
                    .count()
            }
            b'(' => {
                // A literal string, its parentheses balanced and escapes read.
                let mut depth = 0usize;
                while k < data.len() {
                    match data[k] {
                        b'\\' => k += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                k += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
            }
            b'<' if rest.get(1) != Some(&b'<') => {
                k += rest
                    .iter()
                    .position(|c| *c == b'>')
                    .map_or(rest.len(), |n| n + 1)
            }
            b'<' | b'>' => k += if rest.get(1) == Some(&c) { 2 } else { 1 },
            b'[' | b']' | b'{' | b'}' | b')' => k += 1,
            b'/' => k += 1 + rest[1..].iter().take_while(|c| regular(**c)).count(),
            _ => {
                let n = rest.iter().take_while(|c| regular(**c)).count();
                let word = &rest[..n];
                let number = !word.is_empty()
                    && word
                        .iter()
                        .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'))
                    && word.iter().any(u8::is_ascii_digit);
                if number && !word.contains(&b'.') {
                    break false; // an integer: the next object's header
                }
                k += n.max(1);
            }
        }
        let spent = k - start;
        *budget = budget.checked_sub(spent.max(1))?;
    };
    Some(found)
}

/// Said of a file whose odd `obj` keywords cost more to read than its bound.
pub const ODD_UNREAD: &str = "the file holds more `obj` keywords not written as `N G obj` than kyso reads the way PDF readers' repairs may: a repairing reader may take objects from them that kyso cannot see";

/// A cross-reference stream MuPDF reads as another object than the table does: to MuPDF each
/// one is the object of its own number, whatever its section lists for that number
/// (`kyso_pdf::Document::xref_streams_read_otherwise`). One written at or after `start` (the
/// signed revision's end) is refused whatever its number (honest writers list their streams
/// at their own offsets); one before it when its number is placed elsewhere or referred to.
/// For the signed revision alone, `start` is the file's length.
pub fn xref_streams_differ(doc: &Document<'_>, start: usize) -> Option<String> {
    // (What the document refers to is read once, when a stream needs it, and kept with it.)
    for &(num, at, held) in doc.xref_streams_read_otherwise() {
        let refused = held.is_some()
            || at >= start
            || doc
                .referenced_numbers()
                .ok()
                .flatten()
                .is_none_or(|r| r.contains(&num));
        if refused {
            let instead = match held {
                Some(XrefEntry::Offset { offset, .. }) => format!("the object at byte {offset}"),
                Some(XrefEntry::InStream { stream, .. }) => {
                    format!("an object in object stream {stream}")
                }
                _ => "nothing".to_string(),
            };
            return Some(format!(
                "the cross-reference stream at byte {at} is object {num} to MuPDF, which takes each cross-reference stream as the object of its number, while the table gives {instead} for object {num}: readers show other objects"
            ));
        }
    }
    None
}

/// The lengths a linearization dictionary that is the file's first object may give, as Poppler
/// reads it (the first object a parser reads from the file's start, a dictionary whose
/// /Linearized is a positive number, its /L an integer): a file of that length is linearized
/// to Poppler, which then reads the cross-reference section after that object's `endobj` (in
/// the first 1,024 bytes) instead of the one `startxref` names.
pub fn linearized_lengths(data: &[u8]) -> Vec<usize> {
    use kyso_pdf::parse::{poppler_name, poppler_name_step};
    // Read as Poppler's tolerant parser may read it, not as kyso's strict one: a first object
    // kyso cannot parse (a header `-1 0 obj`, an entry beside /L that kyso refuses) hid it
    // from the first version of this check (found by an attacker's reading, 2026-12-03). So
    // the first object is scanned as tokens up to the end of its dictionary, however long
    // (Poppler parses it whole; it takes the section after the object's `endobj` only when
    // that lies in the first 1,024 bytes; the header may come after some junk; an `endobj`
    // inside a string does not end the object): any name that decodes to `Linearized` makes
    // every number after a name decoding to `L` (white space and comments between) a length
    // Poppler may take. A name ends at a decoded NUL for Poppler, which keeps names as C
    // strings (`/Linearized#00x`, `/L#00`: found by the same reading).
    use kyso_pdf::parse::Parser;
    // Where Poppler's parser ends the first dictionary is not worth modelling: a `>>` is a
    // value to it after a key (`/X >> /L …` is one dictionary), and each model of its end
    // was got past (2026-12-03: a comment, an escape swallowing `>`, `>>` as a value). So
    // every name in the file counts, read as Poppler reads names — more than Poppler reads,
    // never less; an /L equal to the final length anywhere beside a /Linearized is not
    // otherwise met. Lazily: collecting them took 32 times the file's size.
    let head = data;
    // Each name's first bytes, walked only until they are settled (at most 16, or a NUL).
    let names =
        || memchr::memchr_iter(b'/', head).map(|slash| (slash, poppler_name(head, slash + 1)));
    if !names().any(|(_, (n, _))| n == *b"Linearized".as_slice()) {
        return Vec::new();
    }
    // Where an /L name ends, when its NUL leaves it unread to its end: walked once for a run.
    // A slash inside the last walk's span is the swallowed third byte of a `#` escape (a
    // slash it stepped on would have ended it; one after a lone hex digit is none), so the
    // name after it goes on along that walk to the same end. Walked again from each slash, a
    // run of `/#0` made a 120 KB file take 33 s (found by an attacker's reading, 2026-12-06).
    let mut walked: Option<(usize, usize)> = None;
    let mut end_of = |slash: usize, from: usize| -> usize {
        if let Some((_, end)) = walked.filter(|(start, end)| *start < slash && slash < *end) {
            return end;
        }
        let mut i = from;
        while let Some((_, next)) = poppler_name_step(head, i) {
            i = next;
        }
        walked = Some((slash, i));
        i
    };
    // What follows an /L name, over white space and comments: the comment last skipped and the
    // number last read are remembered (a line of `/L%` each skipped its comment to the line's
    // end again: 120 KB took 21 s; found by an attacker's reading, 2026-12-06).
    // (A comment from .0 runs to .1, and the skip from there ends at .2.)
    let mut comment: Option<(usize, usize, usize)> = None;
    let mut number: Option<(usize, Option<usize>)> = None;
    let mut value_after = |mut i: usize| -> Option<usize> {
        let mut first = None;
        loop {
            while i < head.len() && kyso_pdf::parse::is_ws(head[i]) {
                i += 1;
            }
            if head.get(i) != Some(&b'%') {
                break;
            }
            if let Some((_, _, end)) = comment.filter(|(from, to, _)| *from <= i && i < *to) {
                i = end;
                break;
            }
            let to = memchr::memchr2(b'\n', b'\r', &head[i..]).map_or(head.len(), |p| i + p);
            first.get_or_insert((i, to));
            i = to;
        }
        if let Some((from, to)) = first {
            comment = Some((from, to, i));
        }
        if let Some((_, v)) = number.filter(|(at, _)| *at == i) {
            return v;
        }
        let t = Parser::new(head, i).token();
        let t = t.strip_prefix(b"+").unwrap_or(t);
        let digits = &t[..t.iter().take_while(|c| c.is_ascii_digit()).count()];
        let v = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<usize>().ok());
        number = Some((i, v));
        v
    };
    names()
        .filter(|(_, (n, _))| *n == *b"L".as_slice())
        .filter_map(|(slash, (_, stop))| {
            let after = match stop {
                Ok(end) => end,
                Err(rest) => end_of(slash, rest),
            };
            value_after(after)
        })
        .collect()
}

/// The object numbers an object stream's index lists, in order, as far as it reads (MuPDF
/// takes those it read before an error), and whether it read all /N of them.
fn objstm_members(doc: &Document<'_>, st: &kyso_pdf::Stream) -> (Vec<u32>, bool) {
    let Ok(decoded) = doc.decode(st) else {
        return (Vec::new(), false);
    };
    // An /N that is no integer is read otherwise by readers (MuPDF rounds `1.0` to 1; kyso
    // read no member and passed a forged one; found by an attacker's reading, 2026-12-02).
    let Some(n) = st
        .dict
        .get("N")
        .and_then(|n| doc.resolve(n).ok())
        .and_then(|n| match n {
            Object::Int(i) => Some(i),
            _ => None,
        })
    else {
        return (Vec::new(), false);
    };
    let mut p = kyso_pdf::parse::Parser::new(&decoded, 0);
    let mut out = Vec::new();
    for _ in 0..n.clamp(0, decoded.len() as i64 / 2 + 1) {
        match (p.uint(), p.uint()) {
            // A member numbered past MuPDF's largest (8,388,607, and that one too) is dropped by
            // its repair without its offset read, and every later pair of the index shifts by
            // one: the stream's page was never loaded, and a forged one from another stream
            // stood (helper 198). Not read whole, so refused where it matters.
            (Ok(num), Ok(_)) => match u32::try_from(num) {
                Ok(num) if i64::from(num) < MAX_READER_OBJECTS => out.push(num),
                _ => return (out, false),
            },
            _ => return (out, false),
        }
    }
    let complete = out.len() as i64 == n;
    (out, complete)
}

/// A line of the file as [`after_object_boundary`] reads it: where it starts and ends, its
/// first `%` and its first byte that is no digit. Found once for every header on it: all the
/// objects in use written on one line each walked back to its start (a 1.2 MB line took 47 s;
/// found by an attacker's reading, 2026-12-06).
#[derive(Default, Clone, Copy)]
struct LineAt {
    start: usize,
    end: usize,
    percent: usize,
    /// Where the line's content before its `%` ends, back over white space.
    before_percent: usize,
    non_digit: usize,
}

/// The line holding position `i` (a position just after a byte of it), from `last` if it is
/// that line.
fn line_at(data: &[u8], i: usize, last: &std::cell::Cell<Option<LineAt>>) -> LineAt {
    if let Some(l) = last.get().filter(|l| l.start <= i && i <= l.end) {
        return l;
    }
    let newline = |c: &u8| *c == b'\n' || *c == b'\r';
    let start = data[..i].iter().rposition(newline).map_or(0, |p| p + 1);
    let end = memchr::memchr2(b'\n', b'\r', &data[i..]).map_or(data.len(), |p| i + p);
    let line = &data[start..end];
    let percent = start + memchr::memchr(b'%', line).unwrap_or(line.len());
    let l = LineAt {
        start,
        end,
        percent,
        before_percent: start
            + data[start..percent]
                .iter()
                .rposition(|c| !kyso_pdf::parse::is_ws(*c))
                .map_or(0, |k| k + 1),
        non_digit: start
            + line
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(line.len()),
    };
    last.set(Some(l));
    l
}

/// Does the object header at `at` follow what ends an object or a revision (`endobj`,
/// `startxref N` and its `%%EOF`, the file's header lines), over white space and comment lines,
/// with nothing else before it on its line? `lines`: the last line read, shared between calls.
fn after_object_boundary(data: &[u8], at: usize, lines: &std::cell::Cell<Option<LineAt>>) -> bool {
    let mut i = at;
    let mut digits_seen = false;
    for _ in 0..16 {
        while i > 0 && kyso_pdf::parse::is_ws(data[i - 1]) {
            i -= 1;
        }
        if i == 0 {
            return !digits_seen;
        }
        let l = line_at(data, i, lines);
        // Up to a comment on the line, and back over white space before it (`i` is just
        // after a byte that is none).
        let end = if l.percent < i { l.before_percent } else { i };
        let content = &data[l.start..end];
        if content.is_empty() {
            i = l.start; // a comment line
            continue;
        }
        if digits_seen {
            return content.ends_with(b"startxref") && content.len() == b"startxref".len();
        }
        if l.non_digit >= end {
            digits_seen = true; // the offset after `startxref`
            i = l.start;
            continue;
        }
        return content.ends_with(b"endobj");
    }
    false
}

/// The first byte in `data[from..to]` (between what the sections after a signature list) that
/// a reader may take a token from: anything but white space and comment lines as writers add
/// them (MuPDF writes `% Written by MuPDF 1.28.5` before its update; found by a false-failure
/// review, 2026-12-03) — a `%` that begins a line, then at most 160 printable ASCII bytes up
/// to the line's end, holding none of the words a repairing reader looks for (Poppler's
/// rebuild reads a file in lines of 255 bytes, each from its start; MuPDF's lexer skips a
/// comment whole).
fn unread_byte(data: &[u8], from: usize, to: usize) -> Option<usize> {
    const WORDS: [&[u8]; 5] = [b"obj", b"xref", b"trailer", b"stream", b"EOF"];
    let mut i = from;
    while i < to {
        match data[i] {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0c => i += 1,
            b'%' if i > 0 && matches!(data[i - 1], b'\r' | b'\n') => {
                let line = &data[i..to];
                let n = line
                    .iter()
                    .position(|c| matches!(c, b'\r' | b'\n'))
                    .unwrap_or(line.len());
                let comment = &line[..n];
                let plain = n <= 160
                    && n < line.len()
                    && comment.iter().all(|c| matches!(c, b' '..=b'~'))
                    && !WORDS
                        .iter()
                        .any(|w| memchr::memmem::find(comment, w).is_some());
                if !plain {
                    return Some(i);
                }
                i += n;
            }
            _ => return Some(i),
        }
    }
    None
}

/// Is the field a node belongs to one no viewer lets its user fill: /Ff (its own or the nearest
/// up its /Parent chain, as readers inherit it) with ReadOnly, or a push button (no value, only
/// an appearance)? A /Ff or chain kyso cannot read counts as read-only. Under a certification
/// that permits filling, a read-only field redrawn, or a push button's appearance replaced,
/// passed as form filling (found by an attacker's reading, 2026-12-03).
fn not_fillable(doc: &Document<'_>, d: &Dict, ft: Option<&[u8]>) -> bool {
    const READ_ONLY: i64 = 1;
    const PUSHBUTTON: i64 = 1 << 16;
    let mut node = d.clone();
    let mut seen = HashSet::new();
    for _ in 0..=32 {
        match node.get("Ff") {
            Some(Object::Int(ff)) => {
                return ff & READ_ONLY != 0 || (ft == Some(b"Btn") && ff & PUSHBUTTON != 0);
            }
            Some(_) => return true,
            None => {}
        }
        let next = match node.get("Parent") {
            None => return false,
            Some(Object::Ref(r)) if seen.insert(*r) => doc.dict(*r).ok(),
            Some(Object::Dict(p)) => Some(p.clone()),
            Some(_) => None,
        };
        match next {
            Some(n) => node = n,
            None => return true,
        }
    }
    true
}

/// Does a field node hold fields (a kid with a /T, or one kyso cannot read), which inherit its
/// /DA, /Q, /V and /Ff? A parent's /DA changed drew "999,999,999 VND" in a kid locked by
/// FieldMDP (found by an attacker's reading, 2026-12-03).
fn holds_fields(doc: &Document<'_>, d: &Dict) -> bool {
    // Down /Kids, through nodes without /T too, each node once, within the field tree's
    // limits (past them: as if it held fields).
    let mut seen = HashSet::new();
    let mut stack = vec![(d.get("Kids").cloned(), 0usize)];
    while let Some((kids, depth)) = stack.pop() {
        let Some(kids) = kids else { continue };
        if depth > kyso_pdf::form::MAX_FIELD_DEPTH || seen.len() > kyso_pdf::form::MAX_FIELD_NODES {
            return true;
        }
        let Ok(Object::Array(a)) = doc.resolve(&kids) else {
            return true;
        };
        for k in &a {
            if k.as_ref().is_some_and(|r| !seen.insert(r)) {
                continue;
            }
            match doc.resolve(k) {
                Ok(Object::Dict(kd)) if kd.get("T").is_some() => return true,
                Ok(Object::Dict(kd)) => stack.push((kd.get("Kids").cloned(), depth + 1)),
                _ => return true,
            }
        }
    }
    false
}

/// Key names for a message: `/A, /B`, the first 16, then how many more (a catalog given
/// 3,600 keys in a later revision was named whole in each of 64 signatures' reports; helper
/// 227).
pub fn key_list(k: &[String]) -> String {
    const SHOWN: usize = 16;
    let mut s = k
        .iter()
        .take(SHOWN)
        .map(|k| format!("/{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    if k.len() > SHOWN {
        s.push_str(&format!(" and {} more", k.len() - SHOWN));
    }
    s
}

/// What a change is about, for messages.
fn what_differs(c: &Change) -> String {
    let keys = key_list;
    match c {
        Change::Content { what, .. } => what.clone(),
        Change::PageKeys { page, keys: k } => format!("page {page}: {}", keys(k)),
        Change::Annots { page, .. } => format!("the annotations of page {page}"),
        Change::AnnotationModified { page, subtype } => {
            format!("a {subtype} annotation of page {page}")
        }
        Change::FieldChanged { name, keys: k, .. } => format!("form field {name:?}: {}", keys(k)),
        Change::Fields(_) => "the form's field list".into(),
        Change::CatalogKeys(k) => format!("the catalog's {}", keys(k)),
        Change::AcroFormKeys(k) => format!("the form's {}", keys(k)),
        Change::NeedAppearancesCleared => "the form's /NeedAppearances".into(),
        Change::FormDefaults { keys: k, .. } => format!("the form's {}", keys(k)),
        Change::FormFont { num, .. } => format!("form font {num}"),
        Change::SignatureValueChanged { num } => format!("signature dictionary {num}"),
        _ => "its content".into(),
    }
}

/// Does a change of the signed revision over an earlier version of an object only add what
/// signing adds (signature fields and widgets holding signatures, the form's /SigFlags and new
/// resources, validation data, metadata)? A reader that rebuilds the table may show that
/// earlier version: it lacks a signature's appearance, nothing the signer saw.
fn signing_adds(c: &Change) -> bool {
    match c {
        Change::Fields(ListChange::Grew(added)) => added.iter().all(|f| f.signature),
        Change::Annots {
            change: ListChange::Grew(added),
            ..
        } => added.iter().all(|a| a.signature && a.signed),
        Change::FieldChanged {
            signature: true,
            was_empty: true,
            value_signed: true,
            keys,
            ..
        } => keys
            .iter()
            .all(|k| matches!(k.as_str(), "V" | "AP" | "AS" | "F")),
        Change::AcroFormKeys(keys) => keys.iter().all(|k| k == "SigFlags"),
        Change::CatalogKeys(keys) => keys.iter().all(|k| k == "Perms"),
        Change::FormDefaults {
            used_for_drawing, ..
        }
        | Change::FormFont {
            used_for_drawing, ..
        } => !used_for_drawing,
        Change::DssReplaced { is_dict } => *is_dict,
        Change::MetadataReplaced { is_stream } => *is_stream,
        Change::FormResourcesAdded {
            used_for_drawing: false,
        }
        | Change::ValidationData
        | Change::Metadata
        | Change::MetadataUnread(_)
        | Change::Extensions => true,
        _ => false,
    }
}

/// A rectangle's area, its numbers resolved (indirect numbers included); `None` when it is
/// not four finite numbers (readers still draw something for such a rectangle).
fn area(doc: &Document<'_>, rect: Option<&Object>) -> Option<f64> {
    let r = doc.resolve(rect?).ok()?;
    let nums: Vec<f64> = r
        .as_array()?
        .iter()
        .map(|x| doc.resolve(x).ok().and_then(|x| x.as_number()))
        .collect::<Option<_>>()?;
    match nums[..] {
        [a, b, c, d] if nums.iter().all(|x| x.is_finite()) => Some(((c - a) * (d - b)).abs()),
        _ => None,
    }
}

/// Does an annotation show something, on screen or on paper, in some reader? Yes unless, for
/// a widget, a rectangle of four numbers with no area leaves it nothing of its own to draw
/// ([`draws_something`]). Its flags hide nothing here: pdf.js's forms layer (Firefox) draws a
/// signature widget whatever its /F, PDFium's (Chrome) and Ghostscript's screen output one
/// with NoView — a signature field added after signing, "900 VND" over the signed amount, /F
/// 2, 6 or 32, passed as TOTAL-PASSED, under DocMDP P=1 given a document time-stamp too
/// (helper 231). Other annotations:
/// readers draw other annotations from their own geometry (an Ink's /InkList, a Line's /L, a
/// FreeText's /Contents) wherever the /Rect is (helper 225). Readers differ on
/// anything else — Poppler took an /F of 2³² + 2 as 0 and drew the widget kyso counted as
/// hidden, MuPDF drew a widget with a five-number /Rect (found by an attacker's reading,
/// 2026-12-02), Ghostscript 10.00 draws an appearance whose /Rect has no area at its /BBox's
/// size (an unsigned signature field added after signing, a document time-stamp under
/// DocMDP P=1, an empty field given an appearance: "900 VND" over the signed amount, each
/// TOTAL-PASSED; helper 224) — so anything else shows. Whether it has an appearance stream
/// does not matter otherwise: viewers draw some annotations without one.
fn shows(doc: &Document<'_>, d: &Dict) -> bool {
    area(doc, d.get("Rect")).is_none_or(|a| a > 1.0)
        || draws_something(doc, d)
        || subtype(doc, d).is_some_and(|s| s != b"Widget")
}

/// Is an annotation hidden by its flags from the readers that honour them — what it showed may
/// be gone there, though others still draw it ([`shows`]): /F an integer flag word (0 to 2³¹ − 1: Poppler reads
/// a larger integer as a 64-bit one and its flags as 0, and drew a widget /F 2³¹ + 2 hid from
/// kyso, MuPDF and Ghostscript, "900 VND" over the signed amount; helper 220) with Hidden set,
/// or NoView without Print (§12.5.3: NoView hides it on screen only, and a printed copy showed
/// a widget with /F 36 over the signed text; found by an attacker's reading, 2026-12-02)?
fn hidden_by_flags(doc: &Document<'_>, d: &Dict) -> bool {
    d.get("F")
        .and_then(|f| doc.resolve(f).ok())
        .and_then(|f| f.as_int())
        .filter(|f| (0..=i64::from(i32::MAX)).contains(f))
        .is_some_and(|f| f & 2 != 0 || (f & 32 != 0 && f & 4 == 0))
}

/// Is an annotation with no appearance of its own drawn from the form's defaults wherever it
/// is, whatever its flags ([`shows`]) and its /Rect (Ghostscript draws a text field's value
/// from /DA and the /DR font, unclipped, at the corner of a /Rect with no area; a /DR font
/// rewritten after signing turned it "900 VND", TOTAL-PASSED; helper 224).
fn drawn_from_da(doc: &Document<'_>, d: &Dict) -> bool {
    !drawn_by_appearance(doc, d)
}

/// Does a reader that draws a widget itself (/NeedAppearances), in place of its appearance
/// stream, draw something: for a field other than a signature (or a widget no field of the
/// form reaches), its value from /DA; for a signature field, the colours of its /MK, which
/// Poppler fills (/BG) and strokes (/BC)? Seven unsigned signature fields added after
/// signing, each with an empty appearance and an /MK background, drew "900 VND" in bars in
/// Poppler; a text widget under a P=3 certification showed its /V in Poppler, PDFium and
/// pdf.js — both counted as drawing nothing (helper 226).
fn redrawn(doc: &Document<'_>, d: &Dict, ft: Option<&[u8]>) -> bool {
    if ft != Some(b"Sig") {
        return true;
    }
    let Some(mk) = d.get("MK") else {
        return false;
    };
    match doc.resolve(mk) {
        Ok(Object::Dict(mk)) => ["BG", "BC"].iter().any(|k| {
            mk.get(k)
                .is_some_and(|c| !matches!(doc.resolve(c), Ok(Object::Array(a)) if a.is_empty()))
        }),
        _ => true,
    }
}

/// An annotation's /Subtype, resolved.
fn subtype(doc: &Document<'_>, d: &Dict) -> Option<Vec<u8>> {
    doc.resolve(d.get("Subtype")?)
        .ok()?
        .as_name()
        .map(<[u8]>::to_vec)
}

/// Does a reader draw the annotation from its normal appearance stream? A dictionary of
/// appearance states draws the one /AS names; with no /AS, or one naming no stream in it,
/// MuPDF drew the field from /DA (a /DA turned white after signing hid its value; found by an
/// attacker's reading, 2026-12-02).
fn drawn_by_appearance(doc: &Document<'_>, d: &Dict) -> bool {
    normal_appearance(doc, d).is_some()
}

/// The stream a reader draws the annotation from ([`drawn_by_appearance`]), if any.
fn normal_appearance(doc: &Document<'_>, d: &Dict) -> Option<Object> {
    appearance_read(doc, d).ok().flatten()
}

/// [`normal_appearance`], or `Err` when the annotation names an appearance (its /AP, /N, /AS
/// or the state /AS picks) that kyso cannot read: a reference of another generation than the
/// table's, which Ghostscript ignores and draws (an unsigned signature field of no area
/// given `/AP << /N 11 1 R >>` after signing drew "900 VND", TOTAL-PASSED; helper 225).
fn appearance_read(doc: &Document<'_>, d: &Dict) -> Result<Option<Object>, ()> {
    let Some(ap) = d.get("AP") else {
        return Ok(None);
    };
    let ap = doc.resolve(ap).map_err(|_| ())?;
    let Some(n) = ap.as_dict().and_then(|a| a.get("N")) else {
        return Ok(None);
    };
    match doc.resolve(n).map_err(|_| ())? {
        s @ Object::Stream(_) => Ok(Some(s)),
        Object::Dict(states) => {
            let Some(s) = d.get("AS") else {
                return Ok(None);
            };
            let s = doc.resolve(s).map_err(|_| ())?;
            let Some((_, v)) = s
                .as_name()
                .and_then(|s| states.0.iter().rev().find(|(k, _)| k.as_slice() == s))
            else {
                return Ok(None);
            };
            match doc.resolve(v).map_err(|_| ())? {
                v @ Object::Stream(_) => Ok(Some(v)),
                _ => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// Is the annotation's appearance an empty stream (no data, or white space only): nothing
/// drawn, as pyHanko's `addfields` writes a new signature field's?
fn draws_nothing(doc: &Document<'_>, d: &Dict) -> bool {
    match normal_appearance(doc, d) {
        Some(Object::Stream(st)) => blank_form(doc, &st),
        _ => false,
    }
}

/// An appearance stream that draws nothing ([`draws_nothing`]).
fn blank_form(doc: &Document<'_>, st: &kyso_pdf::Stream) -> bool {
    // Unfiltered only: what a filter makes of the bytes is where readers and kyso may differ
    // (an incomplete last predictor row, which kyso's decoder drops and Poppler draws, hid
    // "900 VND" in an appearance kyso read as white space; found by an attacker's reading,
    // 2026-12-03).
    // A form XObject only (/Subtype /Form, or none, written directly): Ghostscript draws an
    // /Image appearance as the image, and an 8-bit indexed image of spaces and NULs, its
    // palette making "900 VND" of them, read to kyso as white space drawing nothing (helper
    // 220).
    // Or Flate alone, written directly, with no parameters: one whole zlib stream (its
    // Adler-32 checked, nothing after it) inflating to white space, which readers inflate
    // alike (no predictor rows to read otherwise). Invisible signatures are written so (the
    // bytes 78 9C 03 00 00 00 00 01; helper 225): counted as drawing, a document time-stamp
    // after a certification failed it.
    let blank = |b: &[u8]| b.iter().all(|c| kyso_pdf::parse::is_ws(*c));
    read_as_declared(doc, st)
        && st.dict.get("Subtype").is_none_or(|s| s.is_name("Form"))
        && st.dict.get("DecodeParms").is_none()
        && st.dict.get("DP").is_none()
        && match st.dict.get("Filter") {
            None => blank(&st.data),
            Some(f) if f.is_name("FlateDecode") || one_flate(f) => {
                inflates_to(&st.data).is_some_and(|out| blank(&out))
            }
            Some(_) => false,
        }
}

/// Was the stream's data read by its /Length: a non-negative integer, direct or one
/// reference away, as long as the bytes kyso took? Otherwise kyso took the data up to the
/// first `endstream`, and readers that take a real /Length for its integer part (MuPDF,
/// PDFium, pdf.js) read on past it: an unused form XObject of `/Length 75.0` in the signed
/// file was one space to kyso and "900 VND" to them once a widget added after signing named
/// it as its appearance (TOTAL-PASSED; helper 226).
fn read_as_declared(doc: &Document<'_>, st: &kyso_pdf::Stream) -> bool {
    let declared = match st.dict.get("Length") {
        Some(r @ Object::Ref(_)) => doc.resolve(r).ok().and_then(|n| n.as_int()),
        Some(Object::Int(n)) => Some(*n),
        _ => None,
    };
    declared.is_some_and(|n| usize::try_from(n).is_ok_and(|n| n == st.data.len()))
}

/// `[/FlateDecode]`, written directly.
fn one_flate(f: &Object) -> bool {
    matches!(f.as_array(), Some([one]) if one.is_name("FlateDecode"))
}

/// What `data`, one whole zlib stream and nothing after it, inflates to, if at most 4 KiB.
fn inflates_to(data: &[u8]) -> Option<Vec<u8>> {
    let mut z = flate2::Decompress::new(true);
    let mut out = vec![0u8; 4096];
    let done = z.decompress(data, &mut out, flate2::FlushDecompress::Finish);
    (matches!(done, Ok(flate2::Status::StreamEnd)) && z.total_in() == data.len() as u64).then(
        || {
            out.truncate(z.total_out() as usize);
            out
        },
    )
}

/// Does the annotation draw something of its own: an appearance stream a reader draws
/// ([`normal_appearance`]) that is not empty ([`draws_nothing`]), or one kyso cannot read?
fn draws_something(doc: &Document<'_>, d: &Dict) -> bool {
    match appearance_read(doc, d) {
        Err(()) => true,
        Ok(Some(Object::Stream(st))) => !blank_form(doc, &st),
        // An appearance dictionary whose normal appearance kyso does not find (no /N, states
        // with no /AS, an /AS that is not a name): readers draw another one, at a /Rect of no
        // area too — Ghostscript the /D or /R appearance, PDFium the state /Off or the one a
        // string /AS names ("900 VND" over the signed amount, TOTAL-PASSED; helper 226).
        Ok(_) => d.get("AP").is_some(),
    }
}

/// A document information dictionary changed in /ModDate and /Producer alone, each a string
/// written directly (pyHanko sets both at every update; any other value, an array or a
/// dictionary, is a change: helper 234).
///
/// The new values held as the packet's are ([`crate::pdfa::xmp_same_but_stamps`]): a /ModDate
/// a date, a /Producer one line of visible text — a producer of several lines made `pdfinfo`
/// print a "Title:" line the document never had, and a /ModDate of any text printed as such
/// (helper 237).
fn dates_only(old: &Dict, new: &Dict) -> bool {
    changed_keys(old, new)
        .iter()
        .all(|k| match (k.as_str(), new.get(k)) {
            (_, None) => matches!(k.as_str(), "ModDate" | "Producer"),
            // A whole date and time, as the packet's restated dates must be (a /ModDate of a
            // day alone, read as midnight by kyso, may be a day to Acrobat; helper 240).
            ("ModDate", Some(v @ Object::String(_))) => {
                kyso_pdf::date::as_written(&kyso_pdf::form::text(Some(v))).is_some_and(|w| w.whole)
            }
            ("Producer", Some(v @ Object::String(_))) => {
                crate::pdfa::plain_producer(&kyso_pdf::form::text(Some(v)))
            }
            _ => false,
        })
}

/// The /ModDate of the document information the trailer names: `None` when there is none,
/// `Some(None)` when it is not a string.
/// The XMP packet a stream holds, decoded within the packet's limit and the document's
/// decoding budget, and asked of the work's memory limit as the PDF/A declaration's reading
/// is. `Ok(None)`: a packet kyso does not read (damaged). `Err`: a limit kept it from being read,
/// named.
fn xmp_packet(d: &Document<'_>, s: &kyso_pdf::Stream) -> Result<Option<Vec<u8>>, String> {
    use crate::pdfa::{MAX_XMP, XMP_HELD_PER_BYTE};
    match d.decode_at_most(s, MAX_XMP) {
        Ok(x) if x.len() <= MAX_XMP => {
            kyso_pdf::stop::afford(x.len().saturating_mul(XMP_HELD_PER_BYTE))
                .map_err(|e| e.to_string())?;
            Ok(Some(x))
        }
        Ok(_) => Err(format!(
            "a stream decodes to more than the {MAX_XMP} bytes read of it"
        )),
        Err(kyso_pdf::PdfError::Limit(m)) => Err(m),
        Err(_) => Ok(None),
    }
}

fn info_mod_date(doc: &Document<'_>) -> Option<Option<Vec<u8>>> {
    let info = doc.resolve(doc.trailer().get("Info")?).ok()?;
    match info.as_dict()?.get("ModDate")? {
        Object::String(s) => Some(Some(s.clone())),
        _ => Some(None),
    }
}

/// The default resources only gained entries: every entry of every category kept as it was.
fn resources_grow(old: &Dict, new: &Dict, doc_old: &Document<'_>, doc_new: &Document<'_>) -> bool {
    let new = index(new);
    old.0.iter().all(|(k, v)| {
        let Some(nv) = new.get(k.as_slice()) else {
            return false;
        };
        match (doc_old.resolve(v).ok(), doc_new.resolve(nv).ok()) {
            (Some(Object::Dict(a)), Some(Object::Dict(b))) => {
                let b = index(&b);
                a.0.iter()
                    .all(|(n, x)| b.get(n.as_slice()).is_some_and(|y| same(x, y)))
            }
            (a, b) => a.is_some() && a == b,
        }
    })
}

impl<'d> Revisions<'_, 'd> {
    /// Whether object `num` may read differently in the final file: its entry differs, or it
    /// sits in an object stream whose entry differs, or whose dictionary refers to an object
    /// whose entry differs.
    fn entry_changed(&self, num: u32) -> bool {
        let (a, b) = (self.signed.entry(num), self.last.entry(num));
        if a != b {
            return true;
        }
        match a {
            Some(XrefEntry::InStream { stream, .. }) => {
                self.signed.entry(stream) != self.last.entry(stream)
                    || self.stream_dict_changed(stream)
            }
            _ => false,
        }
    }

    /// Whether an object the dictionary of object stream `num` (in the signed revision) refers
    /// to may read differently in the final file. No walk reaches an object stream's
    /// dictionary: its /Length given as `9 0 R`, object 9 rewritten after signing shorter,
    /// ended the stream at an `endstream` inside its data, and Poppler, MuPDF and Ghostscript
    /// lost the member after it — the font encoding that drew the signed "900" as "100" —
    /// while kyso, comparing the members' and the stream's entries only, said TOTAL-PASSED
    /// (helper 220).
    fn stream_dict_changed(&self, num: u32) -> bool {
        if let Some(known) = self.objstm_dicts.borrow().get(&num) {
            return *known;
        }
        let gen = match self.signed.entry(num) {
            Some(XrefEntry::Offset { gen, .. }) => gen,
            _ => 0,
        };
        let changed = match self.signed.get(ObjRef { num, gen }) {
            Ok(Object::Stream(st)) => st.dict.0.iter().any(|(_, v)| {
                let mut refs = Vec::new();
                collect_refs(v, 0, &mut refs);
                // An object kept in an object stream counts as changed: what its own stream's
                // dictionary refers to may have changed in turn (object 9, a /Length, kept in
                // stream 20 whose /Length `21 0 R` was rewritten shorter, hid the encoding in
                // stream 10 from every reader: helper 222). The value of an object stream's
                // /Length may not be kept in one (ISO 32000-2 §7.5.7): no honest file is
                // compared more for it. So does one that is not a plain integer: `9 0 R` whose
                // object 9 is `8 0 R` leads on to an object this check does not follow (helper
                // 222; compared, the members of an honest file read the same).
                refs.iter().any(|r| {
                    let (a, b) = (self.signed.entry(r.num), self.last.entry(r.num));
                    a != b
                        || matches!(a, Some(XrefEntry::InStream { .. }))
                        || !matches!(self.signed.get(*r), Ok(Object::Int(_)))
                })
            }),
            // Read when its member was: a failure now is a difference kyso cannot rule out.
            _ => true,
        };
        self.objstm_dicts.borrow_mut().insert(num, changed);
        changed
    }

    fn list(doc: &Document<'_>, o: Option<&Object>) -> Vec<Object> {
        Self::read_list(doc, o).unwrap_or_default()
    }

    /// An array as readers read it: none when absent, `None` when present but kyso cannot read
    /// it as an array (a reference of another generation, to an object no table lists: MuPDF
    /// and Poppler may still read it, and showed an annotation added so; found by an
    /// attacker's reading, 2026-12-03).
    fn read_list(doc: &Document<'_>, o: Option<&Object>) -> Option<Vec<Object>> {
        match o {
            None => Some(Vec::new()),
            Some(a) => doc
                .resolve(a)
                .ok()
                .and_then(|a| a.as_array().map(<[Object]>::to_vec)),
        }
    }

    /// Is the value `v` (in the final file) one of the signatures made after the signed
    /// revision that kyso validates, and is it a document time-stamp? A dictionary that only
    /// looks like a signature is neither.
    fn fresh_signature(&self, v: Option<&Object>) -> (bool, bool) {
        let contents = v
            .and_then(|v| self.last.resolve(v).ok())
            .and_then(|o| o.as_dict().and_then(|d| d.get("Contents").cloned()))
            .and_then(|c| c.as_string().map(<[u8]>::to_vec));
        match contents.and_then(|c| self.later_signatures.iter().find(|(s, _)| *s == c)) {
            Some((_, ts)) => (true, *ts),
            None => (false, false),
        }
    }

    /// The value of the field a widget belongs to, in the final file.
    fn field_value(&self, widget: Option<ObjRef>, d: &Dict) -> Option<Object> {
        let field = widget
            .and_then(|r| self.last_fields.get(&r))
            .and_then(|n| n.field)
            .and_then(|f| self.last.dict(f).ok());
        field
            .as_ref()
            .and_then(|f| f.get("V").cloned())
            .or_else(|| d.get("V").cloned())
    }

    fn added_annot(&self, o: &Object) -> AddedAnnot {
        let d = self
            .last
            .resolve(o)
            .ok()
            .and_then(|a| a.as_dict().cloned())
            .unwrap_or_default();
        let node = o.as_ref().and_then(|r| self.last_fields.get(&r));
        // A signature widget is a widget of a signature field of the form: what the
        // annotation says of itself decides nothing.
        let kind = subtype(self.last, &d);
        let signature = kind.as_deref() == Some(b"Widget")
            && node.is_some_and(|n| n.ft.as_deref() == Some(b"Sig"));
        let (signed, doc_timestamp) = if signature {
            self.fresh_signature(self.field_value(o.as_ref(), &d).as_ref())
        } else {
            (false, false)
        };
        let field = node
            .and_then(|n| n.field)
            .and_then(|f| self.last.dict(f).ok());
        let actions = [Some(&d), field.as_ref()]
            .into_iter()
            .flatten()
            .any(|x| x.get("A").is_some() || x.get("AA").is_some());
        // An empty appearance draws nothing (pyHanko's `addfields` writes one; it was a
        // warning as "shown", a false failure pyHanko does not make) — unless readers draw the
        // widget themselves: /NeedAppearances set, and their drawing shows something
        // ([`redrawn`]), or a field other than a signature, whose value pdf.js's forms layer
        // (Firefox's viewer) shows in a control of its own whatever the appearance (a text
        // widget with an empty appearance and a /V added under P=3 showed "900 VND" without
        // the note; helper 228). And an open popup (helper 228). Flags hide none of them from
        // every reader ([`shows`]; helper 231).
        let visible = self.draws_itself(&d, kind.as_deref(), node.and_then(|n| n.ft.as_deref()))
            || (shows(self.last, &d) && !draws_nothing(self.last, &d))
            || self.open_popup_shown(&d, kind.as_deref());
        AddedAnnot {
            actions,
            subtype: kind
                .map(|n| String::from_utf8_lossy(&n).into_owned())
                .unwrap_or_else(|| "?".into()),
            signature,
            signed,
            doc_timestamp,
            visible,
            name: node
                .map(|n| n.name.clone())
                .unwrap_or_else(|| own_name(self.last, &d).unwrap_or_default()),
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
        let signature = node.is_some_and(|n| n.ft.as_deref() == Some(b"Sig"));
        let (_, doc_timestamp) = if signature {
            self.fresh_signature(self.field_value(o.as_ref(), &d).as_ref())
        } else {
            (false, false)
        };
        AddedField {
            name: node
                .map(|n| n.name.clone())
                .unwrap_or_else(|| own_name(self.last, &d).unwrap_or_default()),
            signature,
            doc_timestamp,
        }
    }

    /// Does a viewer draw some field value of the final file from the form's defaults (/DA,
    /// /DR): /NeedAppearances, or a shown widget of a field other than a signature (text,
    /// choice, button captions) whose normal appearance is missing or does not resolve to an
    /// appearance (a dangling reference is repaired by drawing from the defaults), or a shown
    /// free-text annotation without one?
    fn drawn_from_defaults(&self) -> bool {
        *self
            .drawn_from_defaults
            .get_or_init(|| self.find_drawn_from_defaults())
    }

    /// Do readers draw the added annotation `d` (of /Subtype `kind`, a widget of a field of
    /// type `ft`) themselves, not from its appearance stream: a widget of a field other than a
    /// signature (pdf.js's forms layer; its type read from the widget when no field of the
    /// form reaches it), or one [`redrawn`] under /NeedAppearances?
    fn draws_itself(&self, d: &Dict, kind: Option<&[u8]>, ft: Option<&[u8]>) -> bool {
        if kind != Some(b"Widget") {
            return false;
        }
        let own = d
            .get("FT")
            .and_then(|t| self.last.resolve(t).ok())
            .and_then(|t| t.as_name().map(<[u8]>::to_vec));
        let ft = ft.map(<[u8]>::to_vec).or(own);
        ft.as_deref() != Some(b"Sig")
            || (self.need_appearances() && redrawn(self.last, d, ft.as_deref()))
    }

    /// Is the catalog's XMP stream, `before` in the signed revision and `after` in the final
    /// file, as it was but for the dates and the producer an update restates
    /// ([`crate::pdfa::xmp_same_but_stamps`]), its dictionary the same but for how the data is
    /// encoded? Read within the packet's limit, and asked of the work's memory limit as the
    /// PDF/A declaration's reading is.
    ///
    /// `Err` names the limit that kept the two packets from being compared (the packet's, the
    /// document's decoding budget, the work's memory): a file time-stamped 63 times, each
    /// update writing a 4 MiB packet anew, spent the budget and was told its metadata changed.
    fn xmp_stamps_only(&self, before: &Object, after: &Object) -> Result<bool, String> {
        let (Object::Stream(a), Object::Stream(b)) = (before, after) else {
            return Ok(false);
        };
        if !changed_keys(&a.dict, &b.dict)
            .iter()
            .all(|k| matches!(k.as_str(), "Length" | "Filter" | "DecodeParms"))
        {
            return Ok(false);
        }
        let (Some(x), Some(y)) = (xmp_packet(self.signed, a)?, xmp_packet(self.last, b)?) else {
            return Ok(false);
        };
        Ok(crate::pdfa::xmp_same_but_stamps(&x, &y))
    }

    /// Would a reader that shows the newer of the two stores of metadata now show the other?
    /// Adobe's: "if the XMP metadata is newer, the XMP properties are used" (the /Info's
    /// /ModDate against the packet's `xmp:ModifyDate` and `xmp:MetadataDate`). Each store's
    /// dates may change under P=1 ([`dates_only`], [`Self::xmp_stamps_only`]), and a
    /// certified file whose /Info and packet give two titles showed the other title once its
    /// packet's dates moved past /Info's (helper 235). Compared when a date changed: the
    /// newer store, for each of the packet's dates wherever it is, must stay the newer as
    /// Adobe's toolkit compares dates ([`crate::pdfa::packet_newer`]); a /ModDate or a packet
    /// kyso does not read is a change, a packet date it does not read must stay as written.
    ///
    /// `Err` names the limit that kept a packet from being read (as [`Self::xmp_stamps_only`]).
    fn stores_swapped(&self) -> Result<bool, String> {
        let metadata = |d: &Document<'_>| {
            let catalog = d.dict(d.root()).ok()?;
            Some(catalog.get("Metadata").map(|m| d.resolve(m)))
        };
        let (m0, m1) = (metadata(self.signed), metadata(self.last));
        let (i0, i1) = (info_mod_date(self.signed), info_mod_date(self.last));
        let same_packet = match (&m0, &m1) {
            (Some(Some(Ok(a))), Some(Some(Ok(b)))) => a == b,
            // Unreadable in both: judged where it is read (no date of it is read either way).
            (Some(Some(Err(_))), Some(Some(Err(_)))) | (Some(None), Some(None)) => true,
            _ => false,
        };
        if same_packet && i0 == i1 {
            return Ok(false);
        }
        let limit = std::cell::RefCell::new(None);
        let order = |d: &Document<'_>,
                     m: Option<Option<kyso_pdf::Result<Object>>>,
                     info: &Option<Option<Vec<u8>>>| {
            let dates = match m? {
                None => return Some(None), // no packet: one store
                Some(m) => {
                    let Object::Stream(s) = m.ok()? else {
                        return None;
                    };
                    let x = xmp_packet(d, &s)
                        .map_err(|why| *limit.borrow_mut() = Some(why))
                        .ok()??;
                    crate::pdfa::xmp_dates(&x)?
                }
            };
            // Whether /Info is dated (a date added to /Info where neither store had one passed;
            // helper 238), and for each of the packet's dates, whether it is the newer, as
            // Adobe's rule reads: newer, not merely as new (a tie, and a packet's date left
            // behind by a later /ModDate, are /Info's; pyHanko restates /ModDate and
            // xmp:ModifyDate but not xmp:MetadataDate, and files dated alike failed every
            // time-stamp when a tie was an order of its own: helper 239). A date kyso does not
            // read stays as it was written, byte for byte.
            let info: Option<&[u8]> = match info {
                None => None,
                Some(i) => Some(i.as_deref()?),
            };
            if let Some(i) = info {
                crate::pdfa::pdf_mod_date(i)?;
            }
            let mut order = Vec::with_capacity(dates.len());
            for x in &dates {
                let reads = crate::pdfa::xmp_date(x).is_some() || crate::pdfa::xmp_day(x).is_some();
                order.push(match info {
                    _ if !reads => Err(x.clone()),
                    None => Ok(false),
                    Some(i) => Ok(crate::pdfa::packet_newer(x, i)? == std::cmp::Ordering::Greater),
                });
            }
            Some(Some((info.is_some(), order)))
        };
        let swapped = match (order(self.signed, m0, &i0), order(self.last, m1, &i1)) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        };
        match limit.into_inner() {
            Some(why) => Err(why),
            None => Ok(swapped),
        }
    }

    /// Is `d` a popup set to open (/Open true): some reader shows it, whatever its flags and
    /// its parent's (pdf.js takes its parent's flags for its own, helper 228; flags hide
    /// nothing from every reader, [`shows`]).
    fn open_popup_shown(&self, d: &Dict, kind: Option<&[u8]>) -> bool {
        // Closed unless /Open says otherwise (ISO 32000-2 §12.5.6.14); one kyso cannot read
        // may be open to a reader.
        kind == Some(b"Popup")
            && d.get("Open")
                .is_some_and(|o| !matches!(self.last.resolve(o), Ok(Object::Bool(false))))
    }

    /// The final form's /NeedAppearances: readers draw the fields themselves, not from their
    /// appearance streams.
    fn need_appearances(&self) -> bool {
        *self.need_appearances.get_or_init(|| {
            // Given indirectly too (`/NeedAppearances 10 0 R`, 10 being `true`, made Poppler
            // redraw every field while kyso read no flag; found by an attacker's reading,
            // 2026-12-02).
            // A form or a flag kyso cannot read counts as asking readers to redraw (they may
            // read it; found by an attacker's reading, 2026-12-03).
            let form = self
                .last
                .dict(self.last.root())
                .ok()
                .and_then(|r| r.get("AcroForm").cloned());
            match form.map(|a| self.last.resolve(&a)) {
                None => false,
                Some(Err(_)) => true,
                Some(Ok(a)) => match a.as_dict().and_then(|a| a.get("NeedAppearances")) {
                    None => false,
                    Some(n) => match self.last.resolve(n) {
                        Ok(Object::Bool(b)) => b,
                        Ok(_) => false,
                        Err(_) => true,
                    },
                },
            }
        })
    }

    fn find_drawn_from_defaults(&self) -> bool {
        self.need_appearances()
            || self.last_fields.iter().any(|(r, n)| {
                n.ft.as_deref() != Some(b"Sig")
                    && self
                        .last
                        .dict(*r)
                        .is_ok_and(|d| drawn_from_da(self.last, &d))
            })
            || self.annotations_drawn_from_defaults()
    }

    /// Is an annotation on a page drawn from the form's defaults: a shown free-text
    /// annotation or a widget of a field other than a signature (its type read up /Parent),
    /// without an appearance? Poppler draws a free-text annotation's text with the form's
    /// default resources (a /DR font swapped after signing changed "100 VND" into "900 VND"),
    /// and a widget no /Fields array reaches as readily as one it does (found by attackers'
    /// readings, 2026-12-02).
    fn annotations_drawn_from_defaults(&self) -> bool {
        let Ok(pages) = self.last.pages() else {
            return false;
        };
        let mut by_parent = kyso_pdf::form::ByParent::default();
        pages.into_iter().any(|p| {
            let annots = self
                .last
                .dict(p)
                .ok()
                .and_then(|d| d.get("Annots").cloned());
            let Some(annots) = Self::read_list(self.last, annots.as_ref()) else {
                return true; // a list kyso cannot read: readers may draw what it holds
            };
            annots.iter().any(|a| {
                let Some(d) = self.last.resolve(a).ok().and_then(|a| a.as_dict().cloned()) else {
                    // One kyso cannot read: a reader may read it (Poppler rebuilds its table
                    // for an object no table lists) and draw it so.
                    return true;
                };
                let drawn_from_defaults = match subtype(self.last, &d).as_deref() {
                    Some(b"FreeText") => true,
                    Some(b"Widget") => by_parent
                        .read(self.last, a.as_ref(), &d)
                        .is_none_or(|(_, ft)| ft.as_deref() != Some(b"Sig")),
                    _ => false,
                };
                drawn_from_defaults && drawn_from_da(self.last, &d)
            })
        })
    }

    fn acroform(&self, old: &Dict, new: &Dict, out: &mut Vec<Change>) {
        let mut keys = changed_keys(old, new);
        // /NeedAppearances written directly (or absent: false): `false` written or dropped is
        // no change, `true` turned false or dropped is one of its own. Anything else (given by
        // reference, not a boolean) stays a change of the form's keys: readers resolve
        // references otherwise than kyso may (Poppler ignores generations of objects in object
        // streams; found by an attacker's reading, 2026-12-03).
        if keys.iter().any(|k| k == "NeedAppearances") {
            let direct = |d: &Dict| match d.get("NeedAppearances") {
                None => Some(false),
                Some(Object::Bool(b)) => Some(*b),
                Some(_) => None,
            };
            match (direct(old), direct(new)) {
                (Some(false), Some(false)) => keys.retain(|k| k != "NeedAppearances"),
                (Some(true), Some(false)) => {
                    keys.retain(|k| k != "NeedAppearances");
                    out.push(Change::NeedAppearancesCleared);
                }
                _ => {}
            }
        }
        let dr_grows = keys.iter().any(|k| k == "DR") && {
            let o = old.get("DR").and_then(|d| self.signed.resolve(d).ok());
            let n = new.get("DR").and_then(|d| self.last.resolve(d).ok());
            match (
                o.as_ref().and_then(Object::as_dict),
                n.as_ref().and_then(Object::as_dict),
            ) {
                (Some(o), Some(n)) => resources_grow(o, n, self.signed, self.last),
                (None, Some(_)) => old.get("DR").is_none(),
                _ => false,
            }
        };
        if dr_grows {
            out.push(Change::FormResourcesAdded {
                used_for_drawing: self.drawn_from_defaults(),
            });
        }
        let defaults: Vec<String> = keys
            .iter()
            .filter(|k| (*k == "DR" && !dr_grows) || *k == "DA")
            .cloned()
            .collect();
        if !defaults.is_empty() {
            out.push(Change::FormDefaults {
                keys: defaults,
                used_for_drawing: self.drawn_from_defaults(),
            });
        }
        let other: Vec<String> = keys
            .iter()
            .filter(|k| !matches!(k.as_str(), "Fields" | "DR" | "DA"))
            .cloned()
            .collect();
        if !other.is_empty() {
            out.push(Change::AcroFormKeys(other));
        }
        if keys.iter().any(|k| k == "Fields") {
            let change = match (
                Self::read_list(self.signed, old.get("Fields")),
                Self::read_list(self.last, new.get("Fields")),
            ) {
                (Some(a), Some(b)) => list_change(&a, &b, |o| self.added_field(o)),
                _ => ListChange::Replaced,
            };
            out.push(Change::Fields(change));
        }
    }

    /// The keys of a field or widget that changed, less /Ff written anew, directly, with the
    /// same flags (absent is 0: PyMuPDF adds `/Ff 0` when it fills a field; found by a
    /// false-failure review, 2026-12-03). A reference stays a change: readers may resolve it
    /// otherwise than kyso.
    fn field_keys(&self, old: &Dict, new: &Dict) -> Vec<String> {
        let mut keys = changed_keys(old, new);
        let flags = |d: &Dict| match d.get("Ff") {
            None => Some(0),
            Some(Object::Int(i)) => Some(*i),
            Some(_) => None,
        };
        if let (Some(a), Some(b)) = (flags(old), flags(new)) {
            if a == b {
                keys.retain(|k| k != "Ff");
            }
        }
        keys
    }

    /// The objects some field inherits from: every node up the /Parent chain of a node with a
    /// /T — in either revision's field tree or on a page — and up the chain of an untitled
    /// node whose /Parent chain leads to another field than the one whose /Kids list it.
    /// Readers take /DA, /Q, /V and /Ff up that chain (a parent reached through a node without
    /// /T, named by a field's /Parent only, written as a direct dictionary, or at the end of a
    /// chain shared with a longer one, drew a fake value in its kid locked by FieldMDP; found
    /// by attacker's readings, 2026-12-03). `None` when a chain is deeper than kyso walks or
    /// the walks' budget runs out: then every field may hold others.
    fn inherited_from(&self) -> Option<&HashSet<ObjRef>> {
        self.inherited_from
            .get_or_init(|| {
                let mut set = HashSet::new();
                let mut budget = 4 * kyso_pdf::form::MAX_FIELD_NODES;
                for doc in [self.signed, self.last] {
                    // Each parent read once: whether it is titled, and its /Parent (a parent of
                    // N kids, its /Kids inline, was parsed once per kid: N², 71 s for 855 KB;
                    // helper 200).
                    type Up = Option<std::rc::Rc<Object>>;
                    let mut read: HashMap<ObjRef, (bool, Up)> = HashMap::new();
                    // (node, the field whose /Kids list it, for an untitled node of the tree)
                    let mut nodes: Vec<(Dict, Option<ObjRef>)> = Vec::new();
                    for (_, d, n) in kyso_pdf::form::field_tree(doc) {
                        let lister = n.field;
                        nodes.push((d, lister));
                    }
                    for p in doc.pages().unwrap_or_default() {
                        let annots = doc.dict(p).ok().and_then(|d| d.get("Annots").cloned());
                        for a in Self::list(doc, annots.as_ref()) {
                            if let Some(d) = doc.resolve(&a).ok().and_then(|a| a.as_dict().cloned())
                            {
                                nodes.push((d, None));
                            }
                        }
                    }
                    for (d, lister) in &nodes {
                        let titled = d.get("T").is_some();
                        if !titled && lister.is_none() {
                            continue; // a page widget: its /Parent chain is its own field's
                        }
                        // The chain, each node once (a loop ends it), through direct
                        // dictionaries too.
                        let mut chain: Vec<ObjRef> = Vec::new();
                        let mut up: Up = d.get("Parent").cloned().map(std::rc::Rc::new);
                        let mut first_titled: Option<ObjRef> = None;
                        for steps in 0.. {
                            if steps > kyso_pdf::form::MAX_FIELD_DEPTH || budget == 0 {
                                return None;
                            }
                            budget -= 1;
                            up = match up.as_deref() {
                                Some(Object::Ref(r)) => {
                                    let r = *r;
                                    if chain.contains(&r) {
                                        break;
                                    }
                                    chain.push(r);
                                    let (titled, next) = read
                                        .entry(r)
                                        .or_insert_with(|| {
                                            let p = doc.dict(r).ok();
                                            (
                                                p.as_ref().is_some_and(|p| p.get("T").is_some()),
                                                p.and_then(|p| p.get("Parent").cloned())
                                                    .map(std::rc::Rc::new),
                                            )
                                        })
                                        .clone();
                                    if first_titled.is_none() && titled {
                                        first_titled = Some(r);
                                    }
                                    next
                                }
                                Some(Object::Dict(p)) => {
                                    p.get("Parent").cloned().map(std::rc::Rc::new)
                                }
                                _ => None,
                            };
                            if up.is_none() {
                                break;
                            }
                        }
                        // An untitled node is its lister's widget when its chain leads there.
                        if !titled && first_titled == *lister {
                            continue;
                        }
                        set.extend(chain);
                    }
                }
                Some(set)
            })
            .as_ref()
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
        // A dictionary made a stream, or a stream a dictionary, whatever its role: readers
        // take no stream where they look for a dictionary (Poppler and pdf.js ignore an /Info
        // or a catalog that is a stream), so what it holds appears or goes, while its keys, read
        // through the stream's dictionary, compare alike (an /Info stream rewritten as a
        // dictionary of the same keys showed a title under P=1, TOTAL-PASSED; helper 237).
        if matches!(
            (before, after),
            (Object::Stream(_), Object::Dict(_)) | (Object::Dict(_), Object::Stream(_))
        ) {
            out.push(Change::Content {
                num: r.num,
                what: format!("{} made {}", what(), describe(after)),
            });
            return;
        }
        for role in roles {
            if kyso_pdf::stop::stopped() {
                return; // the caller discards the result
            }
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
                        match (
                            Self::read_list(self.signed, bd.get("Annots")),
                            Self::read_list(self.last, ad.get("Annots")),
                        ) {
                            (Some(a), Some(b)) => self.annots(*n, &a, &b, out),
                            _ => out.push(Change::Annots {
                                page: *n,
                                change: ListChange::Replaced,
                            }),
                        }
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
                    // The value lives on the field, which a widget may only be a kid of.
                    let field = node.and_then(|n| n.field).unwrap_or(r);
                    let before_value = self
                        .signed
                        .dict(field)
                        .ok()
                        .and_then(|f| f.get("V").cloned());
                    let after_value = self.last.dict(field).ok().and_then(|f| f.get("V").cloned());
                    let (value_signed, value_timestamp) = if signature {
                        self.fresh_signature(after_value.as_ref())
                    } else {
                        (false, false)
                    };
                    // Readers name a field up its /Parent chain; a node the /Fields tree does not
                    // reach has that name alone (its partial name missed a lock on the full
                    // one; found by an attacker's reading, 2026-12-02).
                    let mut also: Vec<String> = node
                        .and_then(|n| n.parent_name.clone())
                        .into_iter()
                        .collect();
                    let mut unsure = node.is_none_or(|n| n.unsure);
                    for (doc, d) in [(self.signed, bd), (self.last, ad)] {
                        match kyso_pdf::form::ByParent::default().read(doc, Some(r), d) {
                            Some((n, _)) if !also.contains(&n) => also.push(n),
                            Some(_) => {}
                            None => unsure = true,
                        }
                    }
                    let name = node.map(|n| n.name.clone()).unwrap_or_else(|| {
                        also.first()
                            .cloned()
                            .unwrap_or_else(|| own_name(self.signed, bd).unwrap_or_default())
                    });
                    also.retain(|n| *n != name);
                    out.push(Change::FieldChanged {
                        name,
                        also,
                        unsure,
                        signature,
                        was_empty: signature && before_value.is_none(),
                        // Read from the changed node and from its field (the node with the
                        // /T): Poppler takes the field's /Ff and never a widget kid's, MuPDF
                        // the widget's up its /Parent (a widget's own /Ff 0 under a read-only
                        // field hid the flag; found by an attacker's reading, 2026-12-03).
                        fillable: {
                            let ft = node.and_then(|n| n.ft.as_deref());
                            !not_fillable(self.signed, bd, ft)
                                && (field == r
                                    || self
                                        .signed
                                        .dict(field)
                                        .is_ok_and(|f| !not_fillable(self.signed, &f, ft)))
                        },
                        terminal: !holds_fields(self.signed, bd)
                            && !holds_fields(self.last, ad)
                            && self.inherited_from().is_some_and(|s| !s.contains(&r)),
                        value_signed,
                        value_timestamp,
                        visible: shows(self.last, ad),
                        // Newly: a field already Hidden when signed was hidden then too, and
                        // signing it took nothing away (helper 233).
                        flag_hidden: hidden_by_flags(self.last, ad)
                            && !hidden_by_flags(self.signed, bd),
                        was_visible: shows(self.signed, bd) && !draws_nothing(self.signed, bd),
                        keys: self.field_keys(bd, ad),
                    });
                }
                Role::Annotation(n) => {
                    // Widgets are judged as fields (the field tree reaches them too). Any other
                    // annotation the field tree lists stays an annotation to readers, which
                    // draw it as one: a Square listed in /Fields, redrawn "900 VND" after a
                    // P=2 certification, passed as form filling (found by an attacker's
                    // reading, 2026-12-03).
                    let widget = |doc: &Document<'_>, d: Option<&Dict>| {
                        d.and_then(|d| subtype(doc, d))
                            .is_some_and(|s| s == b"Widget")
                    };
                    if roles.contains(&Role::Field)
                        && widget(self.signed, bd)
                        && widget(self.last, ad)
                    {
                        continue;
                    }
                    out.push(Change::AnnotationModified {
                        page: *n,
                        subtype: bd
                            .and_then(|d| subtype(self.signed, d))
                            .map(|s| String::from_utf8_lossy(&s).into_owned())
                            .unwrap_or_else(|| "?".into()),
                    });
                }
                Role::SignatureValue => out.push(Change::SignatureValueChanged { num: r.num }),
                Role::Dss => out.push(Change::ValidationData),
                // The document information's /ModDate and /Producer alone: pyHanko sets them at
                // every update, a document time-stamp's under DocMDP P=1 too, and judges it no
                // change (its DocInfoRule); so did kyso only when both were written within one
                // second (the `flate-empty-timestamp` case failed now and then), and with the
                // producer unchanged (helper 231).
                Role::Info if matches!((bd, ad), (Some(o), Some(n)) if dates_only(o, n)) => {}
                // The XMP packet as it was but for the same two (and xmp:MetadataDate), read as
                // written: pyHanko writes the packet anew at every update (helper 231; a
                // comparison of what the packets mean was withdrawn, helper 234).
                Role::Metadata => match self.xmp_stamps_only(before, after) {
                    Ok(true) => {}
                    // Not compared: said, not taken for a change of what the packet says.
                    Err(why) if !out.iter().any(|c| matches!(c, Change::MetadataUnread(_))) => {
                        out.push(Change::MetadataUnread(why))
                    }
                    Ok(false) if !out.contains(&Change::Metadata) => out.push(Change::Metadata),
                    _ => {}
                },
                Role::Info => {
                    if shape_changed {
                        out.push(Change::Content {
                            num: r.num,
                            what: what(),
                        });
                    } else {
                        out.push(Change::Metadata);
                    }
                }
                Role::FormFont => out.push(Change::FormFont {
                    num: r.num,
                    used_for_drawing: self.drawn_from_defaults(),
                }),
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

    /// Would a PDF reader read what follows the signed revision otherwise than its
    /// cross-reference sections say? Readers that cannot use the sections as they find them
    /// rebuild the table from every object header they scan, the last of each number winning,
    /// and show objects no section lists. Attackers' readings (2026-12-02) made them do so with
    /// a `startxref` offset behind a comment or more than 1,024 bytes from the end (MuPDF
    /// looks in the last 1,024), an entry shorter than 20 bytes (MuPDF reads 20-byte records),
    /// an /Info entry whose offset holds another object's header (Poppler), and hid the new
    /// page content they then showed as an unlisted object, its `obj` also written `o#62j`.
    /// So what follows the signed revision must be what writers write and readers read alike:
    /// strict sections, every offset they list heading the very object listed, and nothing
    /// but those objects, the sections and their `startxref … %%EOF` between white space —
    /// no unlisted bytes, no `obj` keyword outside an object's header but inside stream data,
    /// and no `endstream` inside a stream's data (a repairing reader resumes after it).
    fn readers_would_repair(&self) -> Option<String> {
        use kyso_pdf::document::{classic_section_end, object_extent, revision_end_marker};
        let data = self.last.data();
        let header = kyso_pdf::parse::HeaderFrom::default();
        // Bytes before `%PDF-`: Poppler counts every offset from the header, MuPDF refuses
        // the header and rebuilds the table; kyso counts from the file's first byte. A later
        // revision's string held a cross-reference section that only Poppler's offsets
        // reached, placing an object the signed table did not list (found by an attacker's
        // reading, 2026-12-03).
        if !data.starts_with(b"%PDF-") {
            return Some("the file does not begin with its `%PDF-` header: Poppler counts every offset from the header and MuPDF rebuilds the cross-reference table, so each reads other objects than the sections after the signature place".into());
        }
        if self
            .headers
            .linearized
            .get_or_init(|| linearized_lengths(data))
            .contains(&data.len())
        {
            return Some("the file's first object says it is linearized with a length (/L) that is the whole file's: Poppler then reads only the cross-reference section after that object and shows the document as it stands there, not the revisions after it (found by an attacker's reading, 2026-12-03: a hidden catalog shown by white space appended after signing)".into());
        }
        let from = data.len().saturating_sub(1024);
        if !data[from..].windows(9).any(|w| w == b"startxref") {
            return Some("the file's last `startxref` is not within its last 1,024 bytes, where PDF readers look for it: they rebuild its cross-reference table from what they find, which the signature does not vouch for".into());
        }
        let start = self.end.min(data.len());
        if let Some(why) = xref_streams_differ(self.last, start) {
            return Some(why);
        }
        let length_of = |r: ObjRef| self.last.get(r).ok().and_then(|o| o.as_int());
        // What the sections after the signature place where: an object they list (its number
        // and generation), a cross-reference stream, a classic section.
        #[derive(Default)]
        struct Placed {
            listed: Option<ObjRef>,
            /// A section's cross-reference stream, which `startxref … %%EOF` follows.
            xref_stream: bool,
            /// A hybrid file's /XRefStm, among the objects.
            hybrid: bool,
            classic: bool,
        }
        let mut placed: std::collections::BTreeMap<usize, Placed> = Default::default();
        for s in self.last.sections().iter().filter(|s| s.offset >= start) {
            for (num, e) in &s.entries {
                // An entry into an object stream that cannot be loaded made MuPDF rebuild the
                // table (found by an attacker's reading, 2026-12-02).
                if let XrefEntry::InStream { stream, .. } = e {
                    if let Err(e) = self.last.get(ObjRef::new(*num, 0)) {
                        return Some(format!("a cross-reference section after the signature places object {num} in object stream {stream}, where readers cannot load it or read it otherwise ({e}): they rebuild the table or read another object, and may show what no section lists"));
                    }
                }
                let XrefEntry::Offset { offset, gen } = e else {
                    continue;
                };
                let want = ObjRef::new(*num, *gen);
                let p = placed.entry(*offset).or_default();
                if p.listed.is_some_and(|r| r != want) {
                    return Some(format!("cross-reference sections after the signature list two objects at byte {offset}: a PDF reader finds one, rebuilds the table and may show what no section lists"));
                }
                p.listed = Some(want);
            }
            let p = placed.entry(s.offset).or_default();
            if s.is_stream {
                p.xref_stream = true;
            } else {
                p.classic = true;
            }
            if let Some(x) = s.xref_stm {
                placed.entry(x).or_default().hybrid = true;
            }
        }
        // Every object stream the final table places objects in must be one (MuPDF checks
        // this when it loads the table and rebuilds it otherwise — freeing an unused object
        // stream of the signer's file after signing made it rebuild and roll an object back
        // to a version inside an older object stream; found by an attacker's reading,
        // 2026-12-02).
        let mut containers = std::collections::BTreeSet::new();
        for s in self.last.sections() {
            for (num, e) in &s.entries {
                if matches!(e, XrefEntry::InStream { .. }) {
                    if let Some(XrefEntry::InStream { stream, .. }) = self.last.entry(*num) {
                        containers.insert(stream);
                    }
                }
            }
        }
        let declared = self
            .last
            .trailer()
            .get("Size")
            .and_then(Object::as_int)
            .unwrap_or(0);
        for c in containers {
            if kyso_pdf::stop::stopped() {
                return None; // the caller discards the result
            }
            let ok = i64::from(c) < declared
                && matches!(self.last.entry(c), Some(XrefEntry::Offset { .. }))
                && matches!(self.last.get(ObjRef::new(c, 0)), Ok(Object::Stream(st))
                    if st.dict.get("Type").and_then(|t| self.last.resolve(t).ok())
                        .is_some_and(|t| t.as_name() == Some(&b"ObjStm"[..])));
            if !ok {
                return Some(format!("the cross-reference table places objects in object stream {c}, which is no object stream in the final file: a PDF reader rebuilds the table and may show what no section lists"));
            }
        }
        let placements = std::cell::OnceCell::new();
        let mut covered: Vec<std::ops::Range<usize>> = Vec::new();
        let mut streams: Vec<std::ops::Range<usize>> = Vec::new();
        // In offset order, each read once and none inside the one before it (what lies after
        // the signature is read once in all, however its sections list it). So too what they
        // list inside the signed bytes: headers nested in one another's strings, each listed,
        // had each read to the end of the nest (420 KB: 13 s; found by an attacker's reading,
        // 2026-12-06).
        let mut frontier = 0;
        for (&offset, p) in &placed {
            if offset < frontier {
                return Some(if offset >= start {
                    format!("an object or cross-reference section at byte {offset} after the signed revision lies inside the one before it: readers take such bytes apart otherwise")
                } else {
                    format!("an object at byte {offset} that a section after the signature lists lies inside the one it lists before it: readers take such bytes apart otherwise")
                });
            }
            let mut end = if p.classic {
                if p.listed.is_some() || p.xref_stream || p.hybrid {
                    return Some(format!("a cross-reference section after the signature lists an object at byte {offset}, where a cross-reference section is: a PDF reader rebuilds the table and may show what no section lists"));
                }
                match classic_section_end(data, offset) {
                    Ok(end) => end,
                    Err(why) => return Some(format!("the cross-reference section at byte {offset} is not written as readers read one: {why}; readers that cannot use it rebuild the table from what they scan")),
                }
            } else {
                match object_extent(data, offset, &length_of) {
                    Ok(x) if p.listed.is_none_or(|r| r == x.obj) => {
                        // A plain object a section lists must be one kyso reads where it lies,
                        // as an object stream's must (above): what kyso cannot read (past its
                        // limits, a key given twice), readers read, and its judgement of what
                        // that changes was blind — a Square drawing "900 VND" beside an array
                        // of 2^21 + 10 elements passed (helper 219). Each read once, in order.
                        if let Some(r) = p.listed {
                            if let Err(e) = self.last.read_at(offset, 0) {
                                return Some(format!("a cross-reference section after the signature places object {} {} at byte {offset}, where kyso cannot read it ({e}): readers read it, and what it shows cannot be judged", r.num, r.gen));
                            }
                        }
                        if offset >= start {
                            let placements = placements.get_or_init(|| self.placements());
                            if let Some(why) =
                                self.object_stream_differs(offset, x.obj, &length_of, placements)
                            {
                                return Some(why);
                            }
                            streams.extend(x.data.clone());
                        }
                        x.whole.end
                    }
                    Ok(x) => {
                        let r = p.listed.unwrap_or(x.obj);
                        return Some(format!(
                            "a cross-reference section after the signature lists object {} {} at byte {offset}, where object {} {} is: a PDF reader rebuilds the table and may show what no section lists",
                            r.num, r.gen, x.obj.num, x.obj.gen
                        ));
                    }
                    Err(why) => return Some(format!(
                        "a cross-reference section after the signature places an object at byte {offset}, where readers find none ({why}): they rebuild the table and may show what no section lists"
                    )),
                }
            };
            if p.classic || p.xref_stream {
                match revision_end_marker(data, end) {
                    Some(e) => end = e,
                    None => return Some(format!("the revision whose cross-reference section is at byte {offset} does not end with `startxref`, its offset and `%%EOF`")),
                }
            }
            if offset >= start {
                covered.push(offset..end);
            }
            frontier = end;
        }
        covered.sort_by_key(|r| (r.start, r.end));
        let mut at = start;
        for r in &covered {
            if r.start > at {
                if let Some(k) = unread_byte(data, at, r.start) {
                    return Some(format!("bytes at {k} after the signed revision belong to no object or cross-reference section listed after it: a PDF reader repairing the file may read them"));
                }
            }
            at = at.max(r.end);
        }
        if let Some(k) = unread_byte(data, at.min(data.len()), data.len()) {
            return Some(format!("bytes at {k} after the last revision belong to no object or cross-reference section: a PDF reader repairing the file may read them"));
        }
        streams.sort_by_key(|r| r.start);
        for r in &streams {
            if memchr::memmem::find(&data[r.clone()], b"endstream").is_some() {
                return Some(format!("a stream after the signed revision holds `endstream` inside its data (at byte {}): a PDF reader repairing the file resumes there", r.start));
            }
        }
        // A reader rebuilding the table takes, for each number, the object whose header comes
        // last in the file, in stream data too, and the /Root of the last trailer: that must
        // be what the table says. A second update pointing an object back at its signed
        // version, after a first one that put a forged version after it, made Poppler (an
        // /Info it could not fetch) and MuPDF (a type-2 entry naming no object stream)
        // rebuild and show the forged one; so did a header inside a listed stream's data, and
        // a hidden object the signer's own file held (found by an attacker's reading,
        // 2026-12-02). Triggers are many; the rebuilt reading is one.
        let h = self.headers;
        // An odd `obj` inside a listed stream's data is no header to a reader: MuPDF skips the
        // data up to its `endstream` (none inside, above), Poppler's rebuild takes only
        // `N G obj` at a line's start.
        let in_stream = |k: usize| {
            let i = streams.partition_point(|r| r.start <= k);
            i > 0 && streams[i - 1].contains(&k)
        };
        // Anywhere in the file: the signer's own file held a forged page content under a
        // 256-digit number that MuPDF wraps and Poppler reads from a later line's start
        // (found by an attacker's reading, 2026-12-02).
        if let Some(k) = h.overflow.first() {
            return Some(format!(
                "an object header at byte {k} has a number past 2^32 - 1: readers rebuilding the table wrap it onto another object"
            ));
        }
        if let Some((at, _)) = h
            .roots
            .iter()
            .find(|(at, r)| *at >= start && *r != Some(self.last.root()))
        {
            return Some(format!(
                "a /Root at byte {at} after the signed revision names another catalog than the cross-reference chain does: a PDF reader rebuilding the table may open that one"
            ));
        }
        if h.trailer_unreadable {
            return Some("the file's last `trailer` is followed by a dictionary kyso cannot read: a PDF reader rebuilding the table reads its /Root all the same".into());
        }
        if h.odd_unread {
            return Some(ODD_UNREAD.into());
        }
        if let Some(k) = h.odd.iter().find(|k| **k >= start && !in_stream(**k)) {
            return Some(format!(
                "an `obj` keyword at byte {k} after the signed revision is not written as `N G obj` (an escaped or run-in keyword, or the word in a string): a PDF reader rebuilding the table may read an object there"
            ));
        }
        let mut numbers: Vec<(&u32, &usize)> = h.last.iter().collect();
        numbers.sort_unstable();
        let used: HashSet<u32> = self
            .roles
            .of
            .keys()
            .chain(&self.roles.unreadable)
            .map(|r| r.num)
            .collect();
        for (&num, &at) in numbers {
            let differs = match self.last.entry(num) {
                Some(XrefEntry::Offset { offset, .. }) => {
                    let offset = header.at(data, offset);
                    offset < at || h.highest.get(&num).is_some_and(|&(_, a)| a != offset)
                }
                // Freed, or in an object stream: an old plain version in the signed bytes is
                // left as it was; a new one after the signature is what a rebuild would show —
                // of an object the signature covers, held to it with every other version in
                // `rebuilt_shows_otherwise` (a plain countersignature's page, then an Acrobat-
                // style one writing the page into an object stream, failed the first signature;
                // helper 202); of any other, refused.
                _ => at >= start && !used.contains(&num),
            };
            if differs {
                return Some(format!(
                    "object {num} has a definition at byte {at} later than the one the cross-reference table uses: a PDF reader rebuilding the table shows that one"
                ));
            }
        }
        // Poppler's rebuild as it reads lines: each number it takes must be where the table
        // places it; a header it takes for a number the table holds otherwise may not come
        // after the signature.
        if let Some(at) = h.poppler.unmodelled.filter(|at| *at >= start) {
            return Some(format!(
                "at byte {at}, after the signed revision, an object header is written in a way Poppler's rebuild of the table reads beyond what kyso can follow"
            ));
        }
        // (Within the signed bytes, the signed revision's own versions are weighed below, in
        // `rebuilt_shows_otherwise`.)
        let mut rebuilt: Vec<(&u32, &(i64, usize))> = h.poppler.entries.iter().collect();
        rebuilt.sort_unstable();
        for (&num, &(gen, at)) in rebuilt {
            let differs = match self.last.entry(num) {
                Some(XrefEntry::Offset { offset, gen: g }) => {
                    (at >= start || offset >= start)
                        && (header.at(data, at) != header.at(data, offset) || gen != i64::from(g))
                }
                // As above: a version of an object the signature covers is compared.
                _ => at >= start && !used.contains(&num),
            };
            if differs {
                return Some(format!(
                    "Poppler rebuilding the table takes object {num} from byte {at}, not from where the cross-reference table places it"
                ));
            }
        }
        if let Some((t, root)) = h.trailer {
            let t: usize = t;
            if root != Some(self.last.root()) && (t >= start || root.is_some()) {
                return Some(format!(
                    "the last trailer in the file (byte {t}) names another catalog than the cross-reference chain does: a PDF reader rebuilding the table opens that one"
                ));
            }
        }
        // What makes readers rebuild the table on opening, written after the signature: a
        // /Size or an object number past MuPDF's largest (8,388,607: "trailer Size entry out of
        // range", then a repair), an /Info that does not exist (Poppler); found by an
        // attacker's reading, 2026-12-02.
        // A /Size that is no direct integer from 0 (a reference, a negative number, a real)
        // makes MuPDF repair a classic section ("trailer Size entry is indirect", "out of
        // range") and Poppler a cross-reference stream: read as 0 here, it was a trigger
        // (helper 217, 2026-12-06), as the signer refuses it before signing.
        for s in self.last.sections().iter().filter(|s| s.offset >= start) {
            let size = match s.trailer.get("Size") {
                None => 0,
                Some(Object::Int(n)) if *n >= 0 => *n,
                Some(_) => {
                    return Some(format!(
                        "a cross-reference section after the signature (byte {}) gives a /Size that is no direct integer from 0: PDF readers rebuild the table on opening",
                        s.offset
                    ))
                }
            };
            let top = s.entries.iter().map(|(n, _)| *n).max().unwrap_or(0);
            if size > MAX_READER_OBJECTS + 1 || top > MAX_READER_OBJECTS as u32 {
                return Some(format!(
                    "a cross-reference section after the signature (byte {}) counts objects past {MAX_READER_OBJECTS}, more than MuPDF keeps: it rebuilds the table on opening",
                    s.offset
                ));
            }
            if let Some(info) = s.trailer.get("Info").and_then(Object::as_ref) {
                if self.last.get(info).is_err() {
                    return Some(format!(
                        "a trailer after the signature (byte {}) names an /Info ({} {}) that cannot be read: Poppler rebuilds the table when it fetches it",
                        s.offset, info.num, info.gen
                    ));
                }
            }
        }
        None
    }

    /// Does an object stream written after the signature hold an object otherwise than the
    /// cross-reference table places it? MuPDF, rebuilding the table, loads the members of every
    /// object stream it finds over what its headers said: a new, unreferenced object stream
    /// holding a forged page showed that page (found by an attacker's reading, 2026-12-02).
    /// Each member must be where a table of the file puts it: in this stream, at its index —
    /// the final table, or an earlier section's that placed the stream here, when a later
    /// update wrote the object anew (any countersignature over a file whose earlier update
    /// used object streams failed the earlier signature; helper 192, pyHanko's
    /// `minimal-signed-twice-*`). Such a superseded member is a version a rebuild may show,
    /// and [`Self::rebuilt_shows_otherwise`] holds it to what the signature covers — which it
    /// does only for numbers the signed revision uses: another number's superseded member (a
    /// forged annotation, which a later revision's /Annots then named) passed unseen while
    /// MuPDF's rebuild drew it (helper 193), and is refused.
    fn object_stream_differs(
        &self,
        offset: usize,
        obj: ObjRef,
        length_of: &dyn Fn(ObjRef) -> Option<i64>,
        p: &Placements,
    ) -> Option<String> {
        let data = self.last.data();
        let Ok((_, Object::Stream(st))) =
            kyso_pdf::document::read_indirect(data, offset, length_of)
        else {
            return None;
        };
        let kind = st.dict.get("Type").and_then(|t| self.last.resolve(t).ok());
        if kind.as_ref().and_then(Object::as_name) != Some(&b"ObjStm"[..]) {
            return None;
        }
        let refuse = |why: &str| {
            Some(format!(
                "the object stream {} {} at byte {offset}, written after the signature, {why}: a PDF reader rebuilding the table takes its objects over the table's",
                obj.num, obj.gen
            ))
        };
        let (members, complete) = objstm_members(self.last, &st);
        if !complete {
            return refuse("cannot be read, or has an unreadable index");
        }
        // And the other way round: a stream written after the signature under a number some
        // object stream of the file holds as a member is skipped by MuPDF's repair once that
        // stream is loaded, showing whatever version came before (the reverse of helper 196's
        // file, 2026-12-06).
        if p.member_numbers.contains(&obj.num) {
            return refuse("is numbered as a member of an object stream of the file");
        }
        let stream_here = p.plain.contains(&(obj.num, offset));
        for (index, num) in members.into_iter().enumerate() {
            // A member numbered as an object stream of the file: MuPDF's repair, loading this
            // stream first, takes that number for a plain object and then skips the stream it
            // numbers, whose members — the table's, which kyso compares — it never loads: a
            // forged page in this stream stood (helper 196). No writer numbers so.
            if p.streams.contains(&num) {
                return refuse(&format!(
                    "holds object {num}, which the file numbers an object stream"
                ));
            }
            let placed = XrefEntry::InStream {
                stream: obj.num,
                index: index as u32,
            };
            let here = self.last.entry(num) == Some(placed)
                || (stream_here
                    && p.used.contains(&num)
                    && p.members.contains(&(num, obj.num, index as u32)));
            if !here {
                return refuse(&format!(
                    "holds object {num}, which the table places elsewhere"
                ));
            }
        }
        None
    }

    /// This comparison's rules between two other readings of the file (a version a rebuild may
    /// show, and the signed revision), one object at a time.
    fn between<'b>(
        &'b self,
        signed: &'b Document<'d>,
        last: &'b Document<'d>,
        last_fields: &'b HashMap<ObjRef, FieldNode>,
        later_signatures: &'b Signatures,
    ) -> Revisions<'b, 'd> {
        Revisions {
            signed,
            last,
            end: self.end,
            roles: self.roles,
            fields: self.fields,
            last_fields,
            later_signatures,
            all_signatures: self.all_signatures,
            drawn_from_defaults: Default::default(),
            need_appearances: Default::default(),
            objstm_dicts: Default::default(),
            // Not asked here (whether a field holds fields matters only to a fill's judgement),
            // and worked out per object and version it would cost a walk of both field trees
            // each time.
            inherited_from: std::cell::OnceCell::from(Some(HashSet::new())),
            headers: self.headers,
        }
    }

    /// Every section's entries of the chain, gathered once for [`Self::object_stream_differs`]
    /// (asked per member, the scans were quadratic in a file's objects).
    fn placements(&self) -> Placements {
        let mut p = Placements::default();
        for s in self.last.sections() {
            for (n, e) in &s.entries {
                match *e {
                    XrefEntry::InStream { stream, index } => {
                        p.streams.insert(stream);
                        p.members.insert((*n, stream, index));
                        p.member_numbers.insert(*n);
                    }
                    XrefEntry::Offset { offset, .. } => {
                        p.plain.insert((*n, offset));
                    }
                    XrefEntry::Free => {}
                }
            }
        }
        p.used = self.roles.of.keys().map(|r| r.num).collect();
        p.used.extend(self.roles.unreadable.iter().map(|r| r.num));
        p
    }

    /// Would a reader that rebuilds the table show, for an object the signed revision uses, an
    /// earlier version that differs from it? Which version wins a rebuild is the reader's:
    /// MuPDF loads the members of every object stream over the last header of each number
    /// (an earlier version inside an object stream of the signer's own file, rewritten plainly
    /// later, came back after any update that made MuPDF rebuild; found by an attacker's
    /// reading, 2026-12-02), Poppler does not load object streams and takes the plain headers
    /// (an object moved into an object stream comes back as its earlier plain version), and
    /// MuPDF opens the catalog of the last dictionary with /Root it reads (`Headers::roots`). So
    /// every version a rebuild may take is held to what the signature covers: the same object,
    /// the final file's, or the signed one less what signing adds (a later signature's field,
    /// widget and value). Triggers of a rebuild are many; these versions are all it can show.
    /// A version, or an object stream, kyso cannot read is refused (readers repair more).
    fn rebuilt_shows_otherwise(&self) -> Result<Vec<Change>, String> {
        let mut warnings = Vec::new();
        let h = self.headers;
        let scanned = h.scan(self.last);
        // The catalog inside an object stream: MuPDF chooses its catalog before it loads
        // object streams, and a /Root naming one without a plain header falls back to an
        // earlier /Root anywhere in the file (a forged catalog in the signer's file, named in
        // a dictionary inside an array; found by an attacker's reading, 2026-12-02).
        if matches!(
            self.last.entry(self.last.root().num),
            Some(XrefEntry::InStream { .. })
        ) {
            if let Some((at, _)) = h.roots.iter().find(|(_, r)| *r != Some(self.last.root())) {
                return Err(format!(
                    "the catalog is in an object stream and a /Root at byte {at} names another: MuPDF, rebuilding the table, may open that one"
                ));
            }
        }
        // Each object the signed revision uses must have its header where a repairing reader
        // finds one: not inside another object's stream data (MuPDF's repair skips it), and
        // after an `endobj`, a revision's `%%EOF` or the file's header, on a line of its own
        // (Poppler takes headers at a line's start; MuPDF does not look inside strings). The
        // signed version hidden so, a forged one before it, and a trigger made both readers
        // show the forged one (found by an attacker's reading, 2026-12-02).
        let data = self.last.data();
        let mut hidden_at = None;
        let lines = std::cell::Cell::new(None);
        for r in self.roles.of.keys() {
            let Some(XrefEntry::Offset { offset, .. }) = self.last.entry(r.num) else {
                continue;
            };
            let inside = scanned.skips(offset);
            if inside || !after_object_boundary(data, offset, &lines) {
                hidden_at = Some(
                    hidden_at.map_or((offset, r.num), |h: (usize, u32)| h.min((offset, r.num))),
                );
            }
        }
        if let Some((offset, num)) = hidden_at {
            return Err(format!(
                "object {num}'s header at byte {offset} is not where a PDF reader rebuilding the table finds one (inside another object's data, a string, or after something else than an object's end): it would take another version"
            ));
        }
        // Each stream the signed revision uses ends with `endstream` at the start of a line:
        // the preparer's own content written `…ETendstream` was read on past it by Poppler's
        // rebuild, and by MuPDF's with a longer length from the history, into a stream
        // drawing 900 VND added after the signature (helper 208).
        let length_of = |r: ObjRef| self.last.get(r).ok().and_then(|o| o.as_int());
        let mut streams: Vec<(ObjRef, usize)> = self
            .roles
            .of
            .keys()
            .filter_map(|r| match self.last.entry(r.num) {
                Some(XrefEntry::Offset { offset, .. }) => Some((*r, offset)),
                _ => None,
            })
            .collect();
        streams.sort_unstable();
        for (r, offset) in streams {
            let Ok((_, Object::Stream(st), end)) =
                kyso_pdf::document::read_indirect_to(data, offset, &length_of)
            else {
                continue;
            };
            let e = end
                + data[end.min(data.len())..]
                    .iter()
                    .take_while(|c| kyso_pdf::parse::is_ws(**c))
                    .count();
            if data[e.min(data.len())..].starts_with(b"endstream")
                && !kyso_pdf::document::endstream_ends_data(&st.dict, data, e)
            {
                return Err(format!(
                    "object {}'s `endstream` does not begin a line: a PDF reader rebuilding the table reads its data on past it",
                    r.num
                ));
            }
        }
        if scanned.exhausted {
            return Err("the objects under the file's object headers take more reading than a file of its size can need (headers inside nested strings): kyso cannot compare what a PDF reader rebuilding the table would show".into());
        }
        if let Some(at) = scanned.unreadable.first() {
            return Err(format!(
                "the object stream at byte {at} cannot be read whole: a PDF reader rebuilding the cross-reference table may take objects from it that kyso cannot compare with what this signature covers"
            ));
        }
        #[derive(Clone, Copy)]
        enum Version {
            Plain {
                at: usize,
                gen: u64,
            },
            Member {
                stream: u32,
                gen: u16,
                at: usize,
                index: u32,
            },
            /// As MuPDF's repair may read it ([`Scanned::streams_of`]): the dictionary of the
            /// stream at `dict_at` over the number's final data (none: the final object is no
            /// stream, and the version is that dictionary).
            Measured {
                dict_at: usize,
                gen: u64,
            },
        }
        // Each number the signed revision uses: the references, and their roles (`None`: one
        // it could not read).
        type Uses<'r> = Vec<(ObjRef, Option<&'r BTreeSet<Role>>)>;
        let mut used: HashMap<u32, Uses<'_>> = HashMap::new();
        for (r, roles) in &self.roles.of {
            used.entry(r.num).or_default().push((*r, Some(roles)));
        }
        for r in &self.roles.unreadable {
            used.entry(r.num).or_default().push((*r, None));
        }
        // And each number only a revision after the signature writes (a later signature's
        // widget, say): a version of it from before the signature — hidden by the preparer in
        // an object stream or a header no section lists — is what a rebuild may show in its
        // place. An honest countersignature "switched on" 29 hidden Squares drawing 900 VND so
        // (MuPDF 1.21, Poppler 22.12), TOTAL-PASSED; older than 2026-12-06 (helper 199).
        let later: HashSet<u32> = self
            .last
            .sections()
            .iter()
            .filter(|s| s.offset >= self.end)
            .flat_map(|s| s.entries.iter().map(|(n, _)| *n))
            .filter(|n| !used.contains_key(n))
            .collect();
        // (The table's own object of the number, unreadable, is told where it is used.)
        let header = kyso_pdf::parse::HeaderFrom::default();
        let the_tables = |n: u32, at: usize| {
            matches!(self.last.entry(n), Some(XrefEntry::Offset { offset, .. })
                if header.at(data, offset) == at)
        };
        // A header a rebuild may take: the number's last or highest-generation one, or one
        // a `stream` keyword follows before `endobj` (MuPDF's repair keeps a measured stream's
        // dictionary). An earlier plain copy a later one replaced is taken by no reader (a
        // page version with /Rotate given twice, rewritten before signing, failed an honest
        // countersigned file; helper 207).
        // (Looked for within 64 KiB: one whose `endobj` is further counts as taken, so that many
        // such headers cost no more than that each.)
        let may_take = |n: u32, at: usize| {
            let rest = &data[at.min(data.len())..];
            let rest = &rest[..rest.len().min(64 << 10)];
            let Some(endobj) = memchr::memmem::find(rest, b"endobj") else {
                return true;
            };
            let stream = memchr::memmem::find_iter(&rest[..endobj], b"stream")
                .any(|k| k < 3 || &rest[k - 3..k] != b"end");
            stream
                || h.last.get(&n) == Some(&at)
                || h.highest.get(&n).is_some_and(|&(_, a)| a == at)
        };
        if let Some((num, at)) = scanned.unparsed.iter().find(|(n, at)| {
            (used.contains_key(n) || later.contains(n)) && !the_tables(*n, *at) && may_take(*n, *at)
        }) {
            return Err(format!(
                "object {num} has a header at byte {at} whose object kyso cannot read: a PDF reader rebuilding the table may read it and show it"
            ));
        }
        let mut versions: Vec<(u32, Version)> = Vec::new();
        for &(num, gen, at, _) in &h.all {
            // A number the table places at an offset has its last header there, and that of
            // its highest generation (readers_would_repair): its earlier headers lose a rebuild.
            // Otherwise the header a rebuild takes is its last, or that of its highest
            // generation (Poppler); an earlier plain copy a later one replaced is shown by
            // no reader (MuPDF's cache of a measured stream aside: `streams_of`). Each was
            // compared, and told content rolled back when the table later moved the object
            // into an object stream (helper 207: annotations deleted before signing).
            let taken =
                h.last.get(&num) == Some(&at) || h.highest.get(&num).is_some_and(|&(_, a)| a == at);
            if taken
                && (used.contains_key(&num) || (later.contains(&num) && at < self.end))
                && !matches!(self.last.entry(num), Some(XrefEntry::Offset { .. }))
            {
                versions.push((num, Version::Plain { at, gen }));
            }
        }
        // MuPDF's repair keeps the dictionary of a number's first stream whose length it
        // measures over every later header of the number, with the data under the last: a page
        // written as a stream (its dictionary a forged page) in one update after the signature
        // and written back as signed in the next was MuPDF 1.21's and 1.28's page after a
        // repair, while every section and header kyso compared held the signed one (helper 202).
        // Which header it measures first rests on its lexing (helper 203 got four past a model
        // of it), so every stream header of a number but its last is a version: its dictionary
        // over the number's final data. An object stream's is refused unless it is the final
        // one's (its members would come from another stream's data, with another index).
        // The final file's object of a number.
        let final_of = |num: u32| -> Option<Object> {
            let r = match self.last.entry(num) {
                Some(XrefEntry::Offset { gen, .. }) => ObjRef::new(num, gen),
                Some(XrefEntry::InStream { .. }) => ObjRef::new(num, 0),
                _ => return None,
            };
            self.last.get(r).ok()
        };
        let xref = |d: &Dict| d.get("Type").and_then(Object::as_name) == Some(b"XRef");
        let mut measured: Vec<(&u32, &Vec<StreamHeader>)> = scanned.streams_of.iter().collect();
        measured.sort_unstable_by_key(|(n, _)| **n);
        for (&num, streams) in measured {
            let Some(&last_at) = h.last.get(&num) else {
                continue;
            };
            let last = streams.iter().find(|s| s.at == last_at);
            // (Not one inside another stream's data, which MuPDF's repair skips: uncompressed
            // page text showing `(5 0 obj << … >> stream …)` failed an honest file; helper 207.)
            for s in streams
                .iter()
                .filter(|s| s.at != last_at && !scanned.skips(s.at))
            {
                // A cross-reference stream's number used again by the next update's (MuPDF's
                // incremental saves do): no object of the document.
                if xref(&s.dict) && last.is_some_and(|l| xref(&l.dict)) {
                    continue;
                }
                if (s.objstm || last.is_some_and(|l| l.objstm))
                    && !last.is_some_and(|l| same_dict(&s.dict, &l.dict, &["Length"]))
                {
                    return Err(format!(
                        "object stream {num} has another stream's dictionary at byte {}, which MuPDF's repair may read its data with: kyso cannot compare the objects a PDF reader rebuilding the table would take from it",
                        s.at
                    ));
                }
                // The final object's own dictionary (less /Length) over its own data is the
                // final object: nothing to compare, and not counted against the versions kyso
                // compares (an honest file rewriting its streams in many updates).
                let is_final = matches!(self.last.entry(num), Some(XrefEntry::Offset { .. }))
                    && last.is_some_and(|l| same_dict(&s.dict, &l.dict, &["Length"]));
                // Written after the signature with a length MuPDF measures otherwise than the
                // final data's: after a repair it reads the final data with that length, and a
                // longer one ran past `endstream` and ended a page's content array there,
                // dropping "Status: REJECTED by the bank" (helper 208).
                if s.at >= self.end {
                    if let Some(m) = s.measured {
                        let len = final_of(num).and_then(|o| match o {
                            Object::Stream(s) => Some(s.data.len()),
                            _ => None,
                        });
                        if len.is_none_or(|l| m < l || m > l + 2) {
                            return Err(format!(
                                "object {num} is written after the signature as a stream at byte {} whose length MuPDF's repair measures otherwise than the final data's: it would read that data so",
                                s.at
                            ));
                        }
                    }
                }
                if !is_final && (used.contains_key(&num) || later.contains(&num)) {
                    versions.push((
                        num,
                        Version::Measured {
                            dict_at: s.at,
                            gen: s.gen,
                        },
                    ));
                }
            }
        }
        // MuPDF loads the object streams its rebuilt table holds (the last header of each
        // number) in the order of their numbers. Before 1.26 each member goes over what came
        // before; from 1.26 (its bug 708286) a member does not replace an entry found later in
        // the file than its stream — a plain header, or a member of a stream further on. For
        // each number, the version each of the two takes (flagging every superseded member
        // refused a form filled into a later object stream before signing; found by an
        // attacker's reading). A higher-numbered stream placed before a lower-numbered one
        // holding a forged page, in updates after the signature, passed: kyso modelled the
        // older MuPDF alone, and 1.28 showed the forged page (helper 197).
        let mut loaded: Vec<&(u32, u16, usize, Vec<u32>)> = scanned
            .streams
            .iter()
            .filter(|(stream, _, at, _)| h.last.get(stream) == Some(at))
            .collect();
        loaded.sort_by_key(|(stream, ..)| *stream);
        // (stream, its generation, where it is, the member's index)
        type Member = (u32, u16, usize, u32);
        let mut picked: HashMap<u32, Member> = HashMap::new();
        // (headers × streams, asked per header, took 13 s per signature over 70,000 empty
        // object streams; helper 198)
        let streams_at: HashSet<(u32, usize)> =
            loaded.iter().map(|(s, _, a, _)| (*s, *a)).collect();
        let mut kept: HashMap<u32, (usize, Option<Member>)> = h
            .last
            .iter()
            .filter(|(n, at)| !streams_at.contains(&(**n, **at)))
            .map(|(n, at)| (*n, (*at, None)))
            .collect();
        for (stream, gen, at, members) in loaded {
            for (index, num) in members.iter().enumerate() {
                let member = (*stream, *gen, *at, index as u32);
                picked.insert(*num, member);
                if kept.get(num).is_none_or(|(found, _)| *found <= *at) {
                    kept.insert(*num, (*at, Some(member)));
                }
            }
        }
        let newer = kept
            .into_iter()
            .filter_map(|(num, (_, member))| Some((num, member?)));
        // And every member of every object stream written after the signature, whichever
        // version a model says a reader takes: four readings in a row got a forged member of
        // such a stream shown by MuPDF's repair through a quirk of its load order kyso had not
        // modelled (helpers 196–198). Held to what the signature covers, such a member is
        // harmless whichever stream a reader loads.
        let after: Vec<(u32, Member)> = scanned
            .streams
            .iter()
            .filter(|(_, _, at, _)| *at >= self.end)
            .flat_map(|(stream, gen, at, members)| {
                members
                    .iter()
                    .enumerate()
                    .map(move |(index, num)| (*num, (*stream, *gen, *at, index as u32)))
            })
            .collect();
        let mut both: Vec<(u32, (u32, u16, usize, u32))> =
            picked.into_iter().chain(newer).chain(after).collect();
        both.sort_unstable();
        both.dedup();
        for (num, (stream, gen, at, index)) in both {
            let here = matches!(self.last.entry(stream), Some(XrefEntry::Offset { offset, .. }) if offset == at);
            let current =
                here && self.last.entry(num) == Some(XrefEntry::InStream { stream, index });
            if (used.contains_key(&num) || (later.contains(&num) && at < self.end)) && !current {
                versions.push((
                    num,
                    Version::Member {
                        stream,
                        gen,
                        at,
                        index,
                    },
                ));
            }
        }
        if versions.len() > MAX_EARLIER_VERSIONS {
            return Err(format!(
                "the file holds {} earlier versions of objects this signature covers, more than kyso compares ({MAX_EARLIER_VERSIONS}): a PDF reader rebuilding the table may show any of them",
                versions.len()
            ));
        }
        versions.sort_by_key(|(num, _)| *num);
        // Every entry of the sections up to the signed revision's end, gathered once (scanned
        // per version, it cost a pass over every entry of the file for each).
        let history: HashSet<(u32, XrefEntry)> = if versions.is_empty() {
            HashSet::new()
        } else {
            self.last
                .sections()
                .iter()
                .filter(|s| s.offset < self.end)
                .flat_map(|s| s.entries.iter().copied())
                .collect()
        };
        for (num, version) in versions {
            if kyso_pdf::stop::stopped() {
                return Ok(warnings); // the caller discards the result
            }
            let (changed, read, place) = match version {
                Version::Measured { dict_at, gen } => {
                    let gen = u16::try_from(gen).unwrap_or(u16::MAX);
                    (
                        vec![(num, XrefEntry::Offset { offset: dict_at, gen })],
                        ObjRef::new(num, gen),
                        format!("as MuPDF's repair may read it (the dictionary of the stream at byte {dict_at})"),
                    )
                }
                Version::Plain { at, gen } => {
                    let gen = u16::try_from(gen).unwrap_or(u16::MAX);
                    (
                        vec![(num, XrefEntry::Offset { offset: at, gen })],
                        ObjRef::new(num, gen),
                        format!("at byte {at}"),
                    )
                }
                Version::Member {
                    stream,
                    gen,
                    at,
                    index,
                } => (
                    vec![
                        (stream, XrefEntry::Offset { offset: at, gen }),
                        (num, XrefEntry::InStream { stream, index }),
                    ],
                    ObjRef::new(num, 0),
                    format!("in the object stream at byte {at}"),
                ),
            };
            // Whether a revision's table used this version: its entry, and its object
            // stream's, in some section of the chain up to the signed revision's end. A section
            // written after the signature is no history the signer saw: a forged catalog, page
            // or font listed by one and written back by the next was told as "an earlier
            // revision" while MuPDF's rebuild showed it (helper 193).
            let historical = changed.iter().all(|entry| history.contains(entry));
            let Some(rebuilt) = self.last.with_entries(&changed) else {
                return Err("the file's rebuilt reading cannot be compared".into());
            };
            let differs = |why: String| {
                Err(format!(
                    "object {num} has an earlier version {place} that a PDF reader rebuilding the cross-reference table may show, and it differs from what this signature covers ({why})"
                ))
            };
            // What kyso cannot read a reader may repair into view: not compared, refused.
            let Ok(v) = rebuilt.get(read) else {
                return differs("kyso cannot read that version".into());
            };
            // The final object's data under that dictionary (what MuPDF reads there with
            // another length is not modelled).
            let v = match (version, v) {
                (Version::Measured { .. }, Object::Stream(s)) => match final_of(num) {
                    Some(Object::Stream(f)) => Object::Stream(Box::new(kyso_pdf::object::Stream {
                        dict: s.dict,
                        data: f.data,
                    })),
                    _ => Object::Dict(s.dict),
                },
                (_, v) => v,
            };
            // A number only a later revision writes: its version from before the signature, or
            // a stream header of it a later revision wrote before its last (a Square drawing
            // 900 VND, then the empty signature field it is now; helper 203), must be the final
            // one (no writer leaves one behind).
            let Some(uses) = used.get(&num) else {
                if final_of(num).is_some_and(|f| same(&v, &f)) {
                    continue;
                }
                return differs(
                    "another version of an object only a later revision writes than the one it writes"
                        .into(),
                );
            };
            for (r, roles) in uses {
                let Some(roles) = roles else {
                    return differs("the signed revision could not read the object".into());
                };
                let Ok(signed) = self.signed.get(*r) else {
                    continue;
                };
                if same(&v, &signed) || self.last.get(*r).is_ok_and(|f| same(&v, &f)) {
                    continue;
                }
                // A version only a section after the signature placed (no history the signer
                // saw) passes when it differs from the signed one only by what a later
                // signature adds that draws nothing: the form's field list with a later
                // signature's field, written into an object stream by the update that signed
                // it and rewritten plainly by the next (an Acrobat file countersigned; helper
                // 192). Not a widget listed on a page, nor a field's value and appearance: a
                // planted "fill" of an empty field by this very signature, and a planted page
                // listing a later signature's widget no page of the final file lists, each
                // drew "900 VND" in MuPDF's rebuild (helper 194). Anything else fails below.
                if !historical {
                    let forward = self.between(
                        self.signed,
                        &rebuilt,
                        self.last_fields,
                        self.later_signatures,
                    );
                    let mut added = Vec::new();
                    forward.object(*r, roles, &signed, &v, &mut added);
                    // Only what a later signature's update writes there, listed: not all that
                    // `signing_adds` allows (a planted catalog's /Perms or /Metadata passed,
                    // which an ordinary update may not add; helper 196).
                    // A page's annotations grown by later signatures' widgets, when the final
                    // file's page lists them in the same order after them: every signature adds
                    // its widget, and an Acrobat-style update wrote the page into an object
                    // stream, so a third signature failed the first (helper 199). A widget no
                    // page of the final file lists (helper 194's phantom2) is not this.
                    let annots_of = |doc: &Document<'_>, o: &Object| {
                        o.as_dict()
                            .and_then(|d| Self::read_list(doc, d.get("Annots")))
                    };
                    let leads_final = || match (
                        annots_of(&rebuilt, &v),
                        self.last
                            .get(*r)
                            .ok()
                            .and_then(|f| annots_of(self.last, &f)),
                    ) {
                        (Some(a), Some(b)) => b.starts_with(&a),
                        _ => false,
                    };
                    let later_signature_writes = |c: &Change| match c {
                        Change::Fields(ListChange::Grew(added)) => {
                            added.iter().all(|f| f.signature)
                        }
                        Change::Annots {
                            change: ListChange::Grew(added),
                            ..
                        } => added.iter().all(|a| a.signature && a.signed) && leads_final(),
                        Change::AcroFormKeys(keys) => keys.iter().all(|k| k == "SigFlags"),
                        Change::FormResourcesAdded {
                            used_for_drawing: false,
                        }
                        | Change::DssReplaced { is_dict: true }
                        | Change::ValidationData
                        // The trailer's /Info: Acrobat writes it into its object streams, and
                        // pyHanko's next signature rewrites its /ModDate plainly; a reader
                        // draws nothing of it (helper 202: such countersigned files failed).
                        | Change::Metadata
                        | Change::MetadataUnread(_) => true,
                        _ => false,
                    };
                    // Anything else such a version holds fails here: the comparison below drops
                    // what signing adds from the signed side, and let a planted /Perms through.
                    match added.iter().find(|c| !later_signature_writes(c)) {
                        None if !added.is_empty() => continue,
                        None => {}
                        Some(c) => return differs(what_differs(c)),
                    }
                }
                // What the signed revision changed over that version, judged as if it were an
                // update of it.
                let reverse = self.between(&rebuilt, self.signed, self.fields, self.all_signatures);
                let mut out = Vec::new();
                reverse.object(*r, roles, &v, &signed, &mut out);
                // Signing an empty signature field replaces what its widget showed: that
                // earlier version is what signing adds only if it showed nothing. A widget the
                // preparer drew ("Signed by A: APPROVED 900,000 VND") in an object stream, then
                // blanked in a plain update before A signed, was dropped here without a word,
                // though a reader rebuilding the table takes the object stream's version (an
                // attacker's reading, 2026-12-04: MuPDF then showed A's field unsigned, or
                // where the earlier /Rect put it).
                let drew = v
                    .as_dict()
                    .is_some_and(|d| shows(&rebuilt, d) && draws_something(&rebuilt, d));
                let other: Vec<&Change> = out
                    .iter()
                    .filter(|c| {
                        !signing_adds(c)
                            || (drew
                                && matches!(
                                    c,
                                    Change::FieldChanged {
                                        signature: true,
                                        ..
                                    }
                                ))
                    })
                    .collect();
                // A field as it was before it was filled (a form filled, then signed and
                // signed again, is an everyday file): said, not failed.
                let unfilled = |c: &&Change| {
                    matches!(c, Change::FieldChanged { signature: false, keys, .. }
                        if keys.iter().all(|k| matches!(k.as_str(), "V" | "AP" | "AS")))
                };
                if !other.is_empty() && other.iter().all(unfilled) {
                    for c in other {
                        if let Change::FieldChanged { name, keys, .. } = c {
                            warnings.push(Change::RebuiltField {
                                name: name.clone(),
                                keys: keys.clone(),
                            });
                        }
                    }
                    continue;
                }
                let Some(c) = other.first() else {
                    continue;
                };
                // A version an earlier revision's table used is the document's own history,
                // which a reader repairing the file may roll back to (and any reader shows on
                // request); one no table ever used is a hidden version, planted. An object-
                // stream file edited plainly before signing (a /Lang set, an annotation or a
                // form added), then signed twice, is everyday: its catalog's history is told,
                // not failed; page content rolled back is a warning (found checking for false
                // failures, 2026-12-02).
                if !historical {
                    return differs(what_differs(c));
                }
                // A note only for what draws nothing: a catalog's /Lang and the like, metadata,
                // validation data, and what the signed revision added to the history (a
                // field, an annotation, a signature's /SigFlags, form resources drawing
                // nothing) — an everyday file kept in object streams and edited plainly. All
                // else may draw: a catalog leading to other pages, a widget's other appearance
                // with another key changed, /NeedAppearances (MuPDF draws the field from its
                // value) made a note under TOTAL-PASSED while MuPDF's repair drew "900 VND"
                // (helpers 202, 203).
                let draws_nothing = |c: &Change| match c {
                    Change::CatalogKeys(keys) => keys.iter().all(|k| {
                        matches!(
                            k.as_str(),
                            "Lang"
                                | "Version"
                                | "PageLabels"
                                | "PageMode"
                                | "PageLayout"
                                | "ViewerPreferences"
                                | "Outlines"
                                | "Threads"
                                | "URI"
                                | "Dests"
                                | "StructTreeRoot"
                                | "MarkInfo"
                                | "PieceInfo"
                                | "SpiderInfo"
                                | "Legal"
                                | "Requirements"
                        )
                    }),
                    Change::AcroFormKeys(keys) => keys.iter().all(|k| k == "SigFlags"),
                    // A signature field before it was signed (the preparer's drawing of it
                    // included: MuPDF's rebuild showed the field unsigned and no reader drew
                    // the text, case `prepared-widget`).
                    Change::FieldChanged {
                        signature: true, ..
                    } => !drew || v.as_dict().is_none_or(|d| d.get("V").is_none()),
                    Change::Fields(ListChange::Grew(_))
                    | Change::Annots {
                        change: ListChange::Grew(_),
                        ..
                    }
                    | Change::FormResourcesAdded {
                        used_for_drawing: false,
                    }
                    | Change::Metadata
                    | Change::MetadataUnread(_)
                    | Change::MetadataReplaced { .. }
                    | Change::DssReplaced { .. }
                    | Change::ValidationData
                    | Change::Extensions => true,
                    _ => false,
                };
                let content = !other.iter().all(|c| draws_nothing(c));
                warnings.push(Change::RebuiltHistory {
                    num,
                    place: place.clone(),
                    what: what_differs(c),
                    content,
                });
            }
        }
        Ok(warnings)
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
        let data = self.last.data();
        if added.is_empty()
            && data[self.end.min(data.len())..]
                .iter()
                .any(|b| !kyso_pdf::parse::is_ws(*b))
        {
            out.push(Change::Chain(format!(
                "{} bytes follow the signed revision without a cross-reference section that lists them (a viewer repairing the file may read them)",
                data.len() - self.end
            )));
            return out;
        }
        if let Some(o) = added.iter().find(|o| **o < self.end) {
            out.push(Change::Chain(format!(
                "a cross-reference section at byte {o}, inside the signed bytes, is part of the final chain: it redefines objects without appearing after the signature"
            )));
            return out;
        }
        if let Some(why) = self.readers_would_repair() {
            out.push(Change::Chain(why));
            return out;
        }
        match self.rebuilt_shows_otherwise() {
            Ok(warnings) => out.extend(warnings),
            Err(why) => {
                out.push(Change::Chain(why));
                return out;
            }
        }
        if self.signed.root() != self.last.root() {
            out.push(Change::CatalogReplaced);
            return out;
        }
        // The trailer's /Info named anew: the new dictionary is held to the signed one as the
        // object would be (one naming a new object of another /Title passed under P=1, the
        // same change made in place failed; helper 230). /ModDate alone is no change (below).
        // Given directly in the trailer or not: a dictionary of /Title, /Author and /Subject
        // written into a later trailer of a file that had none passed under P=1 (helper 236).
        let info = |d: &Document<'_>| d.trailer().get("Info").cloned();
        let (was, now) = (info(self.signed), info(self.last));
        if was != now {
            let dict = |d: &Document<'_>, o: Option<Object>| match d.resolve(&o?).ok()? {
                Object::Dict(d) => Some(d),
                _ => None, // a stream is no document information to readers (helper 237)
            };
            let same = matches!(
                (dict(self.signed, was), dict(self.last, now)),
                (Some(o), Some(n)) if dates_only(&o, &n)
            );
            if !same {
                out.push(Change::Metadata);
            }
        }
        // The dates deciding which store of metadata a reader shows moved past each other.
        match self.stores_swapped() {
            Ok(true) if !out.contains(&Change::Metadata) => out.push(Change::Metadata),
            Err(why) => out.push(Change::MetadataUnread(why)),
            _ => {}
        }
        // An object the signed revision uses that is there but that kyso cannot read (a key
        // given twice with different values, nesting past its limits): readers read it, and
        // what it refers to was never walked, so no later change below it can be judged (a
        // page's /Resources with a key given twice hid a font swapped after signing; a field
        // read so hid the parent a lock named; found by an attacker's reading, 2026-12-02).
        for r in &self.roles.unreadable {
            let present = self.signed.holds(r.num);
            if let (true, Err(e)) = (present, self.signed.get(*r)) {
                out.push(Change::Chain(format!(
                    "object {} {}, which the signed revision uses, is in the file but kyso cannot read it ({e}): PDF readers read it, and what they draw through it cannot be compared with later revisions",
                    r.num, r.gen
                )));
                return out;
            }
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
            // Defined, readable or not: an object past kyso's limits (2^21 parts) read as
            // undefined, and a later annotation drawing "900 VND" where the signed page named
            // a missing object passed (helper 219, 2026-12-06). Readers read what they find.
            if self.entry_changed(r.num) && self.last.holds(r.num) {
                out.push(Change::DefinedAfterUnreadable { num: r.num });
            }
        }
        out
    }
}

/// The references in `o`, inline dictionaries and arrays looked into (to kyso's nesting limit).
fn collect_refs(o: &Object, depth: usize, out: &mut Vec<ObjRef>) {
    if depth > kyso_pdf::parse::MAX_DEPTH {
        return;
    }
    match o {
        Object::Ref(r) => out.push(*r),
        Object::Array(a) => a.iter().for_each(|x| collect_refs(x, depth + 1, out)),
        Object::Dict(d) => {
            d.0.iter()
                .for_each(|(_, x)| collect_refs(x, depth + 1, out))
        }
        _ => {}
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

#[cfg(test)]
mod tests {
    use super::{linearized_lengths, unread_byte};

    /// The lengths a linearization dictionary may give Poppler, however kyso's parser takes
    /// the object: names decoded, comments skipped, an `endobj` in a string no end.
    #[test]
    fn linearization_lengths_are_read_as_poppler_may_read_them() {
        let l = |b: &[u8]| linearized_lengths(b);
        assert_eq!(
            l(b"%PDF-1.7\n1 0 obj << /Linearized 1 /L 1234 >> endobj"),
            vec![1234]
        );
        assert_eq!(
            l(b"%PDF-1.7\n-1 0 obj << /Linearized 1 /X 99999999999999999999 /L 77 >>"),
            vec![77]
        );
        assert_eq!(
            l(b"%PDF-1.7\n1 0 obj << /Lineari#7Aed 1 /S (endobj) /#4C %c\n +55 >>"),
            vec![55]
        );
        assert!(l(b"%PDF-1.7\n1 0 obj << /Type /Catalog /L 12 >> endobj").is_empty());
        // A decoded NUL ends a name for Poppler; `#` and one hex digit take the next byte.
        assert_eq!(
            l(b"%PDF-1.7\n1 0 obj << /Linearized#00x 1 /L#00 88 >> endobj"),
            vec![88]
        );
        assert_eq!(
            l(b"%PDF-1.7\n1 0 obj << /Linearized#0G 1 /L#0G 89 >> endobj"),
            vec![89]
        );
        // A delimiter swallowed by a one-digit escape closes nothing.
        assert_eq!(
            l(b"%PDF-1.7\n1 0 obj << /Linearized 1 /K /V#0>> /Z 1 /L 91 >> endobj"),
            vec![91]
        );
        // `<<` in a comment (the header line is one) opens nothing.
        assert_eq!(
            l(b"%PDF-1.7 <<>>\n%<< >>\r1 0 obj << /X (a) /Linearized 1 /L 90 >> endobj"),
            vec![90]
        );
        // Past 2,048 bytes, past `>>` in strings, as a value or in an array: every /L in the
        // file counts (more than Poppler reads, never less).
        let mut long = b"%PDF-1.7\n1 0 obj << /P (endobj >> (x) \\) ) /H <4142>".to_vec();
        long.extend(std::iter::repeat_n(b'A', 3000));
        long.extend_from_slice(
            b" /Linearized 1 /X >> /Y [ >> ] /L 99 >> endobj 2 0 obj << /L 5 >>",
        );
        assert_eq!(l(&long), vec![99, 5]);
    }

    #[test]
    fn comment_lines_writers_add_between_revisions_are_read_by_no_one() {
        let at = |gap: &[u8]| unread_byte(gap, 0, gap.len());
        // MuPDF's incremental save, after the %%EOF of the revision before.
        assert_eq!(at(b"\n\n% Written by MuPDF 1.28.5\n\n"), None);
        assert_eq!(at(b"\r\n%comment\r\n \n"), None);
        // A comment a repairing reader may read a header or a trailer from, or whose line
        // Poppler cuts, or one not at the start of its line, is not.
        assert_eq!(at(b"\n% 5 0 obj\n"), Some(1));
        assert_eq!(at(b"\n%trailer << /Root 9 0 R >>\n"), Some(1));
        assert_eq!(at(b"\n%%EOF\n"), Some(1));
        let long = [b"\n%".as_slice(), &[b'a'; 300], b"\n"].concat();
        assert_eq!(at(&long), Some(1));
        assert_eq!(at(b"x\n% fine\n"), Some(0));
        assert_eq!(at(b" % fine\n"), Some(1));
        assert_eq!(at(b"\n% no end of line"), Some(1));
        assert_eq!(at(b"\n% bin\x80ary\n"), Some(1));
    }
}
