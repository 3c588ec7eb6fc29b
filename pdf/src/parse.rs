//! The object syntax of ISO 32000-1 §7.2–7.3: a parser over the file's bytes that never
//! panics and never recurses deeper than [`MAX_DEPTH`].

use crate::error::{syntax, Result};
use crate::object::{Dict, ObjRef, Object};

/// Deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 64;

/// Most parts one indirect object may be built of (each array element and dictionary value
/// counts; about 100 MB). A plain object is parsed anew each time it is read, and a member of
/// an object stream copied: a 5.5-million-element array read once for every signed revision
/// held gigabytes (helper 215, 2026-12-06). Honest files' largest objects — a CID font's
/// widths, a structure tree's number tree, a form's field list — hold a few hundred thousand.
pub const MAX_OBJECT_PARTS: usize = 1 << 21;

/// The bytes an even number of hex digits (and nothing else) stand for.
pub fn decode_hex(digits: &[u8]) -> Option<Vec<u8>> {
    if digits.len() % 2 != 0 {
        return None;
    }
    // Every pair decoded into place and the table's 0xff marks OR-ed together, without a
    // branch per pair: a signature's /Contents, tens of kilobytes, is decoded at every read of
    // its dictionary (it was 9 % of a validation's time, pushed and checked pair by pair).
    let mut out = vec![0u8; digits.len() / 2];
    let mut marks = 0u8;
    for (o, c) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (h, l) = (HEX[c[0] as usize], HEX[c[1] as usize]);
        *o = h << 4 | l;
        marks |= h | l;
    }
    (marks < 16).then_some(out)
}

/// Hex digit values; 0xff for anything else.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The value of `t` if it is ASCII digits only, as `str::parse::<u64>` reads them (leading
/// zeros and all; `None` past 64 bits).
pub fn digits_value(t: &[u8]) -> Option<u64> {
    if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    t.iter().try_fold(0u64, |v, &d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// PDF white space (§7.2.2).
pub fn is_ws(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

pub fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Where `b` holds one of `words` as a PDF reader could take it: the start of each token (a
/// run of regular characters between white space and delimiters) that is the word once its
/// `#xx` escapes are decoded and a leading number (digits, signs, points) is dropped. No model
/// of the readers' number, comment and keyword syntax is needed, only their tokens: MuPDF
/// reads `3 + obj` as object 3 generation 0 (a lone sign is the number 0) and decodes `o#62j`
/// as `obj`; Poppler, rebuilding a damaged xref, reads a long line in 255-byte pieces, so an
/// object number at the end of a comment longer than that, with `obj` on the next line, is an
/// object to it (all found by attackers' readings, 2026-12-02). Text in comments counts too.
/// Random bytes hold such an `obj` about once in 2³¹.
pub fn keyword_tokens<'a>(b: &'a [u8], words: &'a [&'a [u8]]) -> impl Iterator<Item = usize> + 'a {
    keyword_tokens_which(b, words).map(|(at, _)| at)
}

/// [`keyword_tokens`], each with the index in `words` of the word it reads as.
pub fn keyword_tokens_which<'a>(
    b: &'a [u8],
    words: &'a [&'a [u8]],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    // Only a token holding a word as written, or an escape, can read as one: the tokens
    // around those bytes (found with memchr) are read whole, each once and in file order, as
    // `keyword_tokens_every` reads every token of the file (which ran at ~70 MB/s over image
    // data, and made signing a 5 MB scan 18 times slower; measured 2026-12-03).
    // The words' places, merged in order with every `#` as memchr finds them (a `#` every
    // 256 bytes of binary data: collecting and sorting them cost more than the scan).
    // Each word's places found as the merge reaches them (collected, a file of `obj obj …`
    // took 2.7 bytes a byte).
    let mut written: Vec<_> = words
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| memchr::memmem::find_iter(b, w).peekable())
        .collect();
    let mut hashes = memchr::memchr_iter(b'#', b).peekable();
    let at = std::iter::from_fn(move || {
        let word = written
            .iter_mut()
            .enumerate()
            .filter_map(|(k, it)| it.peek().map(|&p| (p, k)))
            .min();
        match (hashes.peek(), word) {
            (Some(&h), Some((w, _))) if h <= w => hashes.next(),
            (_, Some((_, k))) => written[k].next(),
            (Some(_), None) => hashes.next(),
            (None, None) => None,
        }
    });
    // A place met twice (a `#` of a word) is read once: it is before `done` the second time.
    let mut done = 0;
    at.filter_map(move |p| {
        if p < done || !token_byte(b[p]) {
            return None;
        }
        let mut end = p;
        while end < b.len() && token_byte(b[end]) {
            end += 1;
        }
        done = end;
        // Most tokens around a `#` in binary data end as no word ends: not walked back.
        if !ends_as_a_word(&b[..end], words) {
            return None;
        }
        let mut start = p;
        while start > 0 && token_byte(b[start - 1]) {
            start -= 1;
        }
        is_keyword(&b[start..end], words).map(|w| (start, w))
    })
}

/// Can a token ending where `upto` ends read as one of `words`: does it end as one of them
/// ends, written or as a whole `#xx` escape ([`is_keyword`]'s first test, on the token's end
/// alone: `#` and hex digits are token bytes, so the three bytes are the token's)?
fn ends_as_a_word(upto: &[u8], words: &[&[u8]]) -> bool {
    let n = upto.len();
    n >= 3
        && upto[n - 3] == b'#'
        && upto[n - 2].is_ascii_hexdigit()
        && upto[n - 1].is_ascii_hexdigit()
        || upto
            .last()
            .is_some_and(|c| words.iter().any(|w| w.last() == Some(c)))
}

/// A byte of a token as [`keyword_tokens`] reads them. A vertical tab ends a token too:
/// Poppler's rebuild reads `4\v0\vobj` as a header.
fn token_byte(c: u8) -> bool {
    TOKEN_BYTES[c as usize]
}

/// [`token_byte`] by table: the scans read every byte of a token around each `#` of a file's
/// binary data.
static TOKEN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = !matches!(b, 0 | 9 | 10 | 12 | 13 | 32 | 0x0b)
            && !matches!(
                b,
                b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
            );
        c += 1;
    }
    t
};

/// Which of `words` the token `run` reads as, its `#xx` escapes decoded and a leading number
/// dropped (`4 0obj`)?
fn is_keyword(run: &[u8], words: &[&[u8]]) -> Option<usize> {
    // Every word holds a letter, and every letter of a word can be written `#xx`.
    if run.is_empty() || !run.iter().any(|c| c.is_ascii_alphabetic() || *c == b'#') {
        return None;
    }
    // It ends as a word ends, written or as a whole `#xx` escape (no escape to decode else).
    let n = run.len();
    let escaped_end = n >= 3
        && run[n - 3] == b'#'
        && run[n - 2].is_ascii_hexdigit()
        && run[n - 1].is_ascii_hexdigit();
    if !escaped_end && !words.iter().any(|w| w.last() == run.last()) {
        return None;
    }
    let decoded;
    let text: &[u8] = if run.contains(&b'#') {
        decoded = decode_name_escapes(run);
        &decoded
    } else {
        run
    };
    let word = &text[text
        .iter()
        .position(|c| !(c.is_ascii_digit() || b"+-.".contains(c)))
        .unwrap_or(text.len())..];
    words.iter().position(|w| *w == word)
}

/// [`keyword_tokens`] by reading every token of the file: what it must find, for its tests.
#[cfg(test)]
fn keyword_tokens_every<'a>(
    b: &'a [u8],
    words: &'a [&'a [u8]],
) -> impl Iterator<Item = usize> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            while i < b.len() && !token_byte(b[i]) {
                i += 1;
            }
            let start = i;
            while i < b.len() && token_byte(b[i]) {
                i += 1;
            }
            if is_keyword(&b[start..i], words).is_some() {
                return Some(start);
            }
        }
        None
    })
}

/// A token's `#xx` escapes decoded (ISO 32000-1 §7.3.5); a `#` without two hex digits stays.
pub fn decode_name_escapes(run: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len());
    let mut k = 0;
    while k < run.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            run[k],
            run.get(k + 1).and_then(|&c| hex(c)),
            run.get(k + 2).and_then(|&c| hex(c)),
        ) {
            (b'#', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                k += 3;
            }
            (c, ..) => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// [`keyword_tokens`] of the word `obj`: where an object could begin for a reader.
pub fn obj_keywords(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    keyword_tokens(b, &[b"obj"])
}

/// Where the object header `N G obj` whose keyword is at `at` begins: digits, white space,
/// digits, and white space or none before `obj` (Poppler and MuPDF both read `4 0obj`);
/// `None` when what precedes the keyword is not that.
pub fn header_start(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    let back = |i: &mut usize, f: fn(u8) -> bool| {
        let end = *i;
        while *i > 0 && f(b[*i - 1]) {
            *i -= 1;
        }
        end - *i
    };
    // Poppler's rebuild separates a header's parts by C's white space, vertical tab included.
    let space = |c: u8| is_ws(c) || c == 0x0b;
    back(&mut i, space);
    if back(&mut i, |c| c.is_ascii_digit()) == 0 {
        return None;
    }
    if back(&mut i, space) == 0 || back(&mut i, |c| c.is_ascii_digit()) == 0 {
        return None;
    }
    // The object number is a whole token: nothing regular runs into it.
    (i == 0 || space(b[i - 1]) || is_delim(b[i - 1])).then_some(i)
}

/// Headers a reader may read for an `obj` keyword at `at` that [`header_start`] does not take:
/// MuPDF's repair lexes tokens, skipping comments and reading signs (`+4 0 obj`,
/// `4 0 %x⏎obj`), and Poppler's reads the file in lines of at most 255 bytes, so a number run
/// into what precedes it (`AAA…A4 0 obj`) may start one of its lines with any tail of its
/// digits (found by an attacker's reading, 2026-12-02). Each: (number, generation, where its
/// number begins). A number of 0 or less is none (both readers skip it).
pub fn loose_headers(b: &[u8], at: usize) -> Vec<(u64, u64, usize)> {
    loose_headers_in(b, at, &Lines::for_file(b.len()))
}

/// What [`loose_headers_in`] remembers of the lines it walked, for keywords met in file order:
/// each line's start, and its first `%`, are searched for once however many keywords it (or
/// the line after it) holds. Asked afresh per keyword, a line of 800,000 `x obj` took 29 s,
/// and a comment line of keywords after a long line 47 s for 320 KB (found by an attacker's
/// reading, 2026-12-06).
#[derive(Default)]
pub struct Lines {
    /// The line of the furthest position asked about, and an earlier one back-tracking
    /// reached last.
    current: std::cell::Cell<Line>,
    earlier: std::cell::Cell<Option<Line>>,
    /// The last comment skipped going back: where its `%` is, and where going back from it
    /// ends (the same for every keyword after it on its line).
    comment: std::cell::Cell<Option<(usize, usize)>>,
    /// The last two integer tokens read back from a position (a generation and a number
    /// those keywords share).
    ints: std::cell::Cell<[Option<(usize, IntToken)>; 2]>,
    /// Bytes walked so far, and the most it may walk ([`Lines::for_file`]): the memos above
    /// answer what keywords share in the shapes found so far, and this bounds the rest
    /// (a one-slot memo still let runs of digits, spaces or an earlier line be walked again
    /// per keyword: 320 KB took 25 s; found by an attacker's reading, 2026-12-06). Past it,
    /// the reading stops and [`Lines::exhausted`] says so: the caller refuses the file.
    work: std::cell::Cell<usize>,
    limit: usize,
}

impl Lines {
    /// For the keywords of a file of `len` bytes: at most 16 times its bytes walked, and 16 MiB.
    pub fn for_file(len: usize) -> Lines {
        Lines {
            limit: len.saturating_mul(16).saturating_add(16 << 20),
            ..Lines::default()
        }
    }

    /// Did the reading stop at its bound? (Then some keywords were not read: the file holds
    /// more odd `obj` keywords than kyso models.)
    pub fn exhausted(&self) -> bool {
        self.work.get() > self.limit
    }

    /// Count `n` bytes walked.
    fn walked(&self, n: usize) {
        self.work.set(self.work.get().saturating_add(n));
    }
}

/// An integer token read back from a position: its value and where it begins.
type IntToken = Option<(i64, usize)>;

#[derive(Default, Clone, Copy)]
struct Line {
    /// Positions at or after `start` up to `known` are on this line.
    start: usize,
    known: usize,
    /// Its first `%` before `searched`, if any.
    searched: usize,
    percent: Option<usize>,
}

impl Line {
    fn at(start: usize, known: usize) -> Line {
        Line {
            start,
            known,
            searched: start,
            percent: None,
        }
    }

    /// The first `%` of the line before `i` (on the line), searching on from where it left.
    fn percent_before(&mut self, b: &[u8], i: usize) -> Option<usize> {
        if self.percent.is_none() && self.searched < i {
            self.percent = memchr::memchr(b'%', &b[self.searched..i]).map(|c| self.searched + c);
            self.searched = i;
        }
        self.percent.filter(|&p| p < i)
    }
}

/// [`loose_headers`] for keywords met in file order, `lines` shared between them: a line
/// without line ends (binary data) is walked once for all its keywords, however long its
/// comment (a 4 KiB bound missed `4 0 %<5,000 bytes>⏎obj`, which MuPDF reads; found by an
/// attacker's reading, 2026-12-02).
pub fn loose_headers_in(b: &[u8], at: usize, lines: &Lines) -> Vec<(u64, u64, usize)> {
    if lines.exhausted() {
        return Vec::new();
    }
    let space = |c: u8| is_ws(c) || c == 0x0b;
    let skip_space = |mut i: usize| {
        let from = i;
        while i > 0 && space(b[i - 1]) {
            i -= 1;
        }
        lines.walked(from - i + 1);
        i
    };
    let newline = |c: &u8| *c == b'\n' || *c == b'\r';
    // The first `%` on the line of `i`, before `i`.
    let percent_before = |i: usize| -> Option<usize> {
        let mut cur = lines.current.get();
        if cur.known <= i {
            lines.walked(i - cur.known);
            match b[cur.known..i].iter().rposition(newline) {
                Some(p) => cur = Line::at(cur.known + p + 1, i),
                None => cur.known = i,
            }
        }
        if i >= cur.start {
            let p = cur.percent_before(b, i);
            lines.current.set(cur);
            return p;
        }
        lines.current.set(cur);
        // An earlier line: found once, by the first keyword that goes back onto it.
        let mut e = match lines.earlier.get() {
            // (`known`: where its line end is; `i` there is the end of its text.)
            Some(e) if e.start <= i && i <= e.known => e,
            _ => {
                let start = b[..i].iter().rposition(newline).map_or(0, |p| p + 1);
                let end = memchr::memchr2(b'\n', b'\r', &b[i..]).map_or(b.len(), |p| i + p);
                lines.walked(end - start);
                Line::at(start, end)
            }
        };
        let p = e.percent_before(b, i);
        lines.earlier.set(Some(e));
        p
    };
    // Back over white space, and over comments when `comments`: a `%` earlier on a line makes
    // the rest of it a comment (strings aside: both readings are taken).
    let back = |i: usize, comments: bool| {
        let mut i = skip_space(i);
        if !comments {
            return i;
        }
        let mut first = None;
        while i > 0 {
            let Some(p) = percent_before(i) else {
                break;
            };
            if let Some((q, end)) = lines.comment.get().filter(|(q, _)| *q == p) {
                debug_assert_eq!(q, p);
                i = end;
                break;
            }
            first.get_or_insert(p);
            i = skip_space(p);
        }
        if let Some(p) = first {
            lines.comment.set(Some((p, i)));
        }
        i
    };
    // The integer token ending at `i`: (value, where it begins), an optional sign included.
    // The whole run of digits: a number of 20 digits or more is past every object number
    // (i64::MAX here; MuPDF wraps it: `18446744073709551619 0 %c⏎obj` was object 3 to it, and
    // a 19-digit bound dropped the header; found by an attacker's reading, 2026-12-03).
    let int_at = |i: usize| -> Option<(i64, usize)> {
        let mut j = i;
        while j > 0 && b[j - 1].is_ascii_digit() {
            j -= 1;
        }
        lines.walked(2 * (i - j) + 1);
        if j == i {
            return None;
        }
        let digits = &b[j..i];
        let significant = &digits[digits.iter().take_while(|c| **c == b'0').count()..];
        let v: i64 = if significant.len() > 18 {
            i64::MAX
        } else {
            std::str::from_utf8(digits).ok()?.parse().ok()?
        };
        match j.checked_sub(1).map(|k| b[k]) {
            Some(b'+') => Some((v, j - 1)),
            Some(b'-') => Some((-v, j - 1)),
            _ => Some((v, j)),
        }
    };
    let int = |i: usize| -> Option<(i64, usize)> {
        let [a, b] = lines.ints.get();
        if let Some((_, v)) = [a, b].into_iter().flatten().find(|(k, _)| *k == i) {
            return v;
        }
        let v = int_at(i);
        lines.ints.set([Some((i, v)), a]);
        v
    };
    let whole = |j: usize| j == 0 || space(b[j - 1]) || is_delim(b[j - 1]);
    let mut out = Vec::new();
    for comments in [false, true] {
        let Some((gen, g)) = int(back(at, comments)) else {
            continue;
        };
        let n_end = back(g, comments);
        if n_end == g && g > 0 && !is_delim(b[g - 1]) {
            continue; // nothing between the two numbers
        }
        let Some((num, n)) = int(n_end) else {
            continue;
        };
        if whole(g) && whole(n) && num > 0 && gen >= 0 {
            out.push((num as u64, gen as u64, n));
        }
    }
    // Poppler's lines: digits, white space, digits, white space, `obj`, the first digits run
    // into something regular.
    let i = skip_space(at);
    if i < at {
        let mut g = i;
        while g > 0 && b[g - 1].is_ascii_digit() {
            g -= 1;
        }
        lines.walked(2 * (i - g));
        let sp = skip_space(g);
        if g < i && sp < g {
            let mut n = sp;
            while n > 0 && b[n - 1].is_ascii_digit() && sp - n < 19 {
                n -= 1;
            }
            let gen = std::str::from_utf8(&b[g..i])
                .ok()
                .and_then(|t| t.parse::<u64>().ok());
            for start in n..sp {
                let num = std::str::from_utf8(&b[start..sp])
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok());
                if let (Some(num), Some(gen)) = (num, gen) {
                    if num > 0 {
                        out.push((num, gen, start));
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The table Poppler (22.12, `XRef::constructXRef`) rebuilds from a file's bytes when it
/// finds the file's own damaged: for each object number, the generation and the place it
/// keeps (the highest generation, the last of equals). Modelled as it reads, not as a lexer
/// would: lines of at most 255 bytes ending at CR, LF or CRLF, each cut at a NUL; a header's
/// number at a line's start (after white space) or after an `endobj` on it; a number or
/// generation that ends the line continues the header on the next line (that line is then
/// read for nothing else); numbers as C's `atoi` takes them; anything after `obj` (found by
/// attackers' readings, 2026-12-03: `3<NUL>junk⏎0 objx`, a header split across the 255-byte
/// pieces of a line of spaces, `x endobj 3 0 objx`, each object 3 to Poppler and none to the
/// lexical readings).
#[derive(Debug, Default)]
pub struct PopplerRebuild {
    /// Object number: (generation as Poppler's C int holds it, the place it records).
    pub entries: crate::Map<u32, (i64, usize)>,
    /// Every header Poppler reads, kept or not, in file order: (number, generation, where
    /// the number is written, where `obj` is).
    pub headers: Vec<(u32, i64, usize, usize)>,
    /// Where Poppler's reading leaves what this model follows (a header's number running up
    /// to where an `endobj` cut the line, continued onto the next line, whose buffer Poppler
    /// then reads stale; an object number at which Poppler gives the rebuild up): a file to
    /// refuse.
    pub unmodelled: Option<usize>,
}

/// [`PopplerRebuild`] of `b`.
pub fn poppler_rebuild(b: &[u8]) -> PopplerRebuild {
    // The `endobj`s and line ends of the file, found as the reading reaches them (each
    // reading moves forward only): collected, a file of line ends took 8 bytes a byte.
    let mut endobjs = memchr::memmem::find_iter(b, b"endobj").peekable();
    // The first `endobj` of the C string `cur` (beginning at byte `at` of the file) from `p`.
    let mut find_endobj = |at: usize, cur: &[u8], p: usize| {
        while endobjs.next_if(|&e| e < at + p).is_some() {}
        endobjs
            .peek()
            .filter(|&&e| e + 6 <= at + cur.len())
            .map(|&e| e - at)
    };
    let mut out = PopplerRebuild::default();
    let mut lines = PopplerLines {
        b,
        ends: memchr::memchr2_iter(b'\n', b'\r', b).peekable(),
        i: 0,
    };
    while let Some((line_start, whole)) = lines.next_line() {
        let mut pos = line_start;
        // (White space never includes the NUL that would end the C string first.)
        let mut p = whole.iter().take_while(|c| lexer_space(**c)).count();
        // Only a line whose first byte is a digit, or holding `endobj`, can give a header.
        let holds_endobj = find_endobj(line_start, whole, 0).is_some();
        if !holds_endobj && !whole.get(p).is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        let mut cur = c_string(whole);
        let mut cur_at = line_start;
        let mut one_cycle = true;
        loop {
            let token = find_endobj(cur_at, cur, p);
            if token.is_none() && !one_cycle {
                break;
            }
            one_cycle = token.is_some();
            // The C string ends at the `endobj` (Poppler writes a NUL over it).
            let mut line = cur;
            let mut line_at = cur_at;
            let mut lim = token.unwrap_or(cur.len());
            let mut q = p;
            let mut continued = false;
            if q < lim && line[q].is_ascii_digit() {
                let num_at = line_at + q;
                let num = c_atoi(&line[q..lim]);
                q += line[q..lim]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let mut ok = num > 0;
                let mut gen = None;
                for part in 0..2 {
                    if !ok {
                        break;
                    }
                    // Past a number's digits: white space, or the line's end, which continues
                    // the header on the next line.
                    if q == lim {
                        if token.is_some() {
                            out.unmodelled.get_or_insert(line_start);
                            ok = false;
                            break;
                        }
                        match lines.next_line() {
                            Some((next_at, next)) => {
                                let next = c_string(next);
                                line = next;
                                line_at = next_at;
                                lim = next.len();
                                q = 0;
                                continued = true;
                            }
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    } else if c_space(line[q]) {
                        q += 1;
                    } else {
                        ok = false;
                        break;
                    }
                    while q < lim && c_space(line[q]) {
                        q += 1;
                    }
                    if part == 0 {
                        // The generation.
                        if !(q < lim && line[q].is_ascii_digit()) {
                            ok = false;
                            break;
                        }
                        gen = Some(c_atoi(&line[q..lim]));
                        q += line[q..lim]
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .count();
                    }
                }
                if let (true, Some(gen)) = (ok, gen) {
                    if line[q..lim].starts_with(b"obj") {
                        // Poppler's table cannot grow to 2^26 entries (`XRef::reserve`): past
                        // 2^25 the rebuild stops there, its table left partial.
                        if num >= (1 << 25) - 256 {
                            out.unmodelled.get_or_insert(pos);
                        } else {
                            let num = num as u32;
                            out.headers.push((num, gen, num_at, line_at + q));
                            // A new entry is taken at a generation of 0 or more (Poppler's
                            // entries begin at generation 0, not free); then the highest, the
                            // last of equals.
                            match out.entries.entry(num) {
                                std::collections::hash_map::Entry::Occupied(mut e) => {
                                    if gen >= e.get().0 {
                                        e.insert((gen, pos));
                                    }
                                }
                                std::collections::hash_map::Entry::Vacant(e) => {
                                    if gen >= 0 {
                                        e.insert((gen, pos));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if continued {
                // Poppler goes on in the next line's bytes, from where the header ended.
                cur = line;
                cur_at = line_at;
                p = q;
            }
            if let Some(t) = token {
                pos += t - p + 6;
                p = t + 6;
                while p < cur.len() && lexer_space(cur[p]) {
                    p += 1;
                    pos += 1;
                }
            }
        }
    }
    out
}

/// Poppler's Lexer::isSpace (NUL aside: it ends the C string first).
fn lexer_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// C's isspace.
fn c_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// C's `atoi` of the digits at the start of `s`, as glibc computes it: strtol saturating at
/// 2^63 − 1, cut to 32 bits.
fn c_atoi(s: &[u8]) -> i64 {
    let mut v: u128 = 0;
    for &c in s.iter().take_while(|c| c.is_ascii_digit()) {
        v = (v * 10 + u128::from(c - b'0')).min(u128::from(u64::MAX));
    }
    let long = v.min(i64::MAX as u128) as i64;
    i64::from(long as i32)
}

/// A line's bytes as a C string: up to its first NUL.
fn c_string(line: &[u8]) -> &[u8] {
    memchr::memchr(0, line).map_or(line, |z| &line[..z])
}

/// The lines Poppler's `getLine(buf, 256)` reads: at most 255 bytes, ended by CR, LF or CRLF
/// (consumed). `ends`: every CR and LF of the file, `k` the first not yet passed, `i` where the
/// next line begins.
struct PopplerLines<'a> {
    b: &'a [u8],
    ends: std::iter::Peekable<memchr::Memchr2<'a>>,
    i: usize,
}

impl<'a> PopplerLines<'a> {
    /// The next line: (where it begins, its bytes).
    fn next_line(&mut self) -> Option<(usize, &'a [u8])> {
        let (b, start) = (self.b, self.i);
        if start >= b.len() {
            return None;
        }
        while self.ends.next_if(|&e| e < start).is_some() {}
        match self.ends.peek() {
            Some(&e) if e - start < 255 => {
                let crlf = b[e] == b'\r' && b.get(e + 1) == Some(&b'\n');
                self.i = e + if crlf { 2 } else { 1 };
                Some((start, &b[start..e]))
            }
            _ => {
                self.i = (start + 255).min(b.len());
                Some((start, &b[start..self.i]))
            }
        }
    }
}

/// Where the object a cross-reference entry places at `offset` begins for a reader: past any
/// white space there (readers skip it; an entry pointing at the line end before its header is
/// a writer's slip that both read plainly).
pub fn header_from(b: &[u8], offset: usize) -> usize {
    offset
        + b.get(offset..)
            .map_or(0, |t| t.iter().take_while(|c| is_ws(**c)).count())
}

/// [`header_from`] for many offsets of one file, each run of white space walked once: the
/// offsets a table gives, each at the start of one megabyte of blanks — a thousand
/// cross-reference streams, or a thousand unreadable headers of one number whose entry was
/// looked at each time — took 21 s for 1.2 MB (helper 215, 2026-12-06).
#[derive(Default)]
pub struct HeaderFrom {
    /// Runs walked: start → end (every byte between white space, the one at the end not).
    runs: std::cell::RefCell<std::collections::BTreeMap<usize, usize>>,
}

impl HeaderFrom {
    pub fn at(&self, b: &[u8], offset: usize) -> usize {
        let mut runs = self.runs.borrow_mut();
        if let Some((_, &end)) = runs.range(..=offset).next_back() {
            if offset <= end {
                return end;
            }
        }
        // Walked up to the next known run at most, and joined to it when reached.
        let next = runs
            .range(offset + 1..)
            .next()
            .map(|(&start, &end)| (start, end));
        let limit = next.map_or(b.len(), |(start, _)| start).min(b.len());
        let mut i = offset.min(b.len());
        while i < limit && is_ws(b[i]) {
            i += 1;
        }
        let end = match next {
            Some((start, end)) if i == start => {
                runs.remove(&start);
                end
            }
            _ => i,
        };
        runs.insert(offset, end);
        end
    }
}

/// Longest number token read (digits, sign, point).
pub const MAX_NUMBER_BYTES: usize = 255;

/// Longest name read, its escapes decoded (ISO 32000-1 Annex C: 127 bytes).
pub const MAX_NAME_BYTES: usize = 127;

/// A cursor over the file.
pub struct Parser<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    /// Objects [`Parser::object`] has built (each array element and dictionary value
    /// counts): what a caller that keeps them holds, beyond the bytes they came from.
    pub built: usize,
    /// Most objects it may build: past it, [`PdfError::Limit`](crate::PdfError::Limit).
    pub max_built: usize,
}

impl<'a> Parser<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Parser {
            data,
            pos,
            built: 0,
            max_built: usize::MAX,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Skip white space and comments.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A run of regular characters (a keyword or a number).
    pub fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_ws(b) || is_delim(b) {
                break;
            }
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    /// Expect a keyword after optional white space.
    pub fn keyword(&mut self, kw: &[u8]) -> Result<()> {
        self.skip_ws();
        let at = self.pos;
        let t = self.token();
        if t == kw {
            Ok(())
        } else {
            Err(syntax(
                at,
                format!(
                    "expected {:?}, found {:?}",
                    String::from_utf8_lossy(kw),
                    String::from_utf8_lossy(&t[..t.len().min(20)])
                ),
            ))
        }
    }

    /// An unsigned integer token.
    pub fn uint(&mut self) -> Result<u64> {
        self.skip_ws();
        let at = self.pos;
        let t = self.token();
        if t.len() > 19 {
            return Err(syntax(at, "expected an unsigned integer"));
        }
        digits_value(t).ok_or_else(|| syntax(at, "expected an unsigned integer"))
    }

    /// Parse one direct object (streams are handled by the caller, who knows about `stream`).
    pub fn object(&mut self, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            return Err(syntax(self.pos, "objects nested too deeply"));
        }
        // A long array of small numbers is many objects from few bytes (`0 ` two bytes, an
        // object some thirty): a stop is heeded within one object's reading too.
        self.built += 1;
        if self.built > self.max_built {
            return Err(crate::PdfError::Limit(format!(
                "more than {} objects read where they are kept",
                self.max_built
            )));
        }
        if self.built % 65_536 == 0 {
            crate::stop::check()?;
        }
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            None => Err(syntax(at, "unexpected end of file")),
            Some(b'/') => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()?))
            }
            Some(b'(') => Ok(Object::String(self.literal_string()?)),
            Some(b'<') => {
                if self.data.get(self.pos + 1) == Some(&b'<') {
                    self.pos += 2;
                    Ok(Object::Dict(self.dict_body(depth)?))
                } else {
                    Ok(Object::String(self.hex_string()?))
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut v = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(v));
                        }
                        None => return Err(syntax(at, "unterminated array")),
                        _ => v.push(self.object(depth + 1)?),
                    }
                }
            }
            Some(b) if is_delim(b) => Err(syntax(at, format!("unexpected {:?}", b as char))),
            Some(_) => {
                let t = self.token();
                match t {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    _ => self.number_or_ref(t, at),
                }
            }
        }
    }

    /// The references of one direct object, in the order [`Parser::object`] reads them, added to
    /// `out` — read as `object` reads it, without building it (names are not decoded into
    /// buffers, dictionaries and arrays not built): an object `object` reads holds exactly
    /// these. Where `object` would refuse a dictionary for a key given twice, this reads on.
    pub fn references(&mut self, depth: usize, out: &mut Vec<ObjRef>) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(syntax(self.pos, "objects nested too deeply"));
        }
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            None => Err(syntax(at, "unexpected end of file")),
            Some(b'/') => {
                self.pos += 1;
                self.name_scan(|_| ())
            }
            Some(b'(') => self.literal_string().map(|_| ()),
            Some(b'<') => {
                if self.data.get(self.pos + 1) == Some(&b'<') {
                    self.pos += 2;
                    loop {
                        self.skip_ws();
                        match self.peek() {
                            Some(b'>') if self.data.get(self.pos + 1) == Some(&b'>') => {
                                self.pos += 2;
                                return Ok(());
                            }
                            Some(b'/') => {
                                self.pos += 1;
                                self.name_scan(|_| ())?;
                                self.references(depth + 1, out)?;
                            }
                            None => return Err(syntax(at, "unterminated dictionary")),
                            _ => return Err(syntax(self.pos, "dictionary key is not a name")),
                        }
                    }
                } else {
                    self.hex_string().map(|_| ())
                }
            }
            Some(b'[') => {
                self.pos += 1;
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        None => return Err(syntax(at, "unterminated array")),
                        _ => self.references(depth + 1, out)?,
                    }
                }
            }
            Some(b) if is_delim(b) => Err(syntax(at, format!("unexpected {:?}", b as char))),
            Some(_) => {
                let t = self.token();
                match t {
                    b"true" | b"false" | b"null" => Ok(()),
                    _ => {
                        if let Object::Ref(r) = self.number_or_ref(t, at)? {
                            out.push(r);
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// After an object number `num` (read at `at`): ` gen R`, read as [`Parser::number_or_ref`]
    /// reads it; `None` (the position left wherever) if not a reference.
    fn reference_after(&mut self, num: u64, at: usize) -> Result<Option<Object>> {
        self.skip_ws();
        let gen_start = self.pos;
        let g = self.token();
        if !g.is_empty() && g.len() <= 5 && g.iter().all(u8::is_ascii_digit) {
            self.skip_ws();
            if self.peek() == Some(b'R')
                && self
                    .data
                    .get(self.pos + 1)
                    .is_none_or(|&c| is_ws(c) || is_delim(c))
            {
                self.pos += 1;
                let num =
                    u32::try_from(num).map_err(|_| syntax(at, "object number out of range"))?;
                let gen = digits_value(g)
                    .and_then(|g| u16::try_from(g).ok())
                    .ok_or_else(|| syntax(gen_start, "generation out of range"))?;
                return Ok(Some(Object::Ref(ObjRef::new(num, gen))));
            }
        }
        Ok(None)
    }

    fn number_or_ref(&mut self, t: &[u8], at: usize) -> Result<Object> {
        // Readers lex tokens into buffers of their own size: MuPDF split a /Size written with
        // 70,000 leading zeros, failed to read the trailer and repaired the file on opening
        // (found by an attacker's reading, 2026-12-02). No writer writes such a number.
        if t.len() > MAX_NUMBER_BYTES {
            return Err(syntax(at, "a number longer than readers read"));
        }
        // The common case first, without going through `str`: digits that fit in 64 bits (as
        // `str::parse` reads them: leading zeros and all).
        if let Some(v) = digits_value(t) {
            let save = self.pos;
            if let Some(r) = self.reference_after(v, at)? {
                return Ok(r);
            }
            self.pos = save;
            if let Ok(i) = i64::try_from(v) {
                return Ok(Object::Int(i));
            }
        }
        let s = std::str::from_utf8(t).map_err(|_| syntax(at, "bad token"))?;
        if t.iter().all(u8::is_ascii_digit) && !t.is_empty() {
            // Past 64 bits (the others were read above): as a reference's object number, out
            // of range.
            let save = self.pos;
            if let Some(r) = self.reference_after(u64::MAX, at)? {
                return Ok(r);
            }
            self.pos = save;
        }
        if let Ok(i) = s.parse::<i64>() {
            return Ok(Object::Int(i));
        }
        // An integer past 64 bits: Poppler makes it a real, MuPDF wraps it, and kyso read two
        // of them (2^64 and 2^64 + 49) as the same real — a font's /Differences code 2^64
        // rewritten 2^64 + 49 after signing was code 49 to MuPDF ("900 VND"; found by an
        // attacker's reading, 2026-12-03).
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax(
                at,
                format!(
                    "the integer {:?} does not fit in 64 bits (readers read it differently)",
                    s.chars().take(24).collect::<String>()
                ),
            ));
        }
        // Reals: [+-]digits.digits, also "-.5", "5."; PDF has no exponents.
        let ok = !s.is_empty()
            && s.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+'))
            })
            && s.bytes().filter(|&b| b == b'.').count() <= 1
            && s.bytes().any(|b| b.is_ascii_digit());
        if ok {
            // A real whose integer part is past 2^31 − 1: MuPDF (as Acrobat) builds it in a
            // 32-bit int that wraps, Poppler reads it whole — a form's /Matrix offset of
            // 2^100 + 5000 (off the page) rewritten 2^100 after signing was the same f64 to
            // kyso and moved the form onto the page in MuPDF ("900 VND"; found by an
            // attacker's reading, 2026-12-03).
            let whole = digits.split('.').next().unwrap_or_default();
            let whole = whole.trim_start_matches('0');
            if whole.len() > 10 || (whole.len() == 10 && whole > "2147483647") {
                return Err(syntax(
                    at,
                    format!(
                        "the real {:?} has an integer part past 2^31 − 1 (readers read it differently)",
                        s.chars().take(24).collect::<String>()
                    ),
                ));
            }
            let norm = s.strip_prefix('+').unwrap_or(s);
            if let Ok(r) = norm.parse::<f64>() {
                return Ok(Object::Real(r));
            }
        }
        Err(syntax(
            at,
            format!(
                "unexpected token {:?}",
                s.chars().take(20).collect::<String>()
            ),
        ))
    }

    fn name_body(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.name_scan(|c| out.push(c))?;
        Ok(out)
    }

    /// A name after its `/`, each decoded byte given to `push`.
    fn name_scan(&mut self, mut push: impl FnMut(u8)) -> Result<()> {
        let at = self.pos;
        let mut len = 0usize;
        while let Some(b) = self.peek() {
            if is_ws(b) || is_delim(b) {
                break;
            }
            // Readers cut longer names differently: MuPDF keeps the first 127 bytes, so two
            // keys alike in those were one key to it, the last written winning — a font
            // dictionary's two entries written in the other order after signing drew another
            // font (found by an attacker's reading, 2026-12-03).
            if len == MAX_NAME_BYTES {
                return Err(syntax(
                    at,
                    format!("a name longer than {MAX_NAME_BYTES} bytes"),
                ));
            }
            self.pos += 1;
            if b == b'#' {
                let hex = |at: usize| self.data.get(at).and_then(|&c| (c as char).to_digit(16));
                match (hex(self.pos), hex(self.pos + 1)) {
                    // NUL may not be in a name (ISO 32000-1 §7.3.5): Poppler cuts a name at it,
                    // so `/Root#00` was a second /Root to Poppler and another key to kyso (a
                    // trailer naming a forged catalog so; found by an attacker's reading,
                    // 2026-12-02).
                    (Some(0), Some(0)) => {
                        return Err(syntax(self.pos - 1, "a name holding NUL (#00)"));
                    }
                    (Some(h), Some(l)) => {
                        {
                            len += 1;
                            push((h * 16 + l) as u8);
                        }
                        self.pos += 2;
                    }
                    // `#4G`: Poppler takes the `4` and swallows the `G` ("@"), MuPDF and kyso
                    // kept all three bytes: `/A#4G` and `/A#234G` were one font to kyso and
                    // two to Poppler (found by an attacker's reading, 2026-12-03).
                    (Some(_), None) => {
                        return Err(syntax(
                            self.pos - 1,
                            "a name with a # escape of one hex digit",
                        ));
                    }
                    // A `#` and no hex digit: every reader keeps it.
                    (None, _) => {
                        len += 1;
                        push(b'#');
                    }
                }
            } else {
                {
                    len += 1;
                    push(b);
                }
            }
        }
        Ok(())
    }

    fn literal_string(&mut self) -> Result<Vec<u8>> {
        let at = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(syntax(at, "unterminated string"));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(c) = self.peek() else {
                        return Err(syntax(at, "unterminated string"));
                    };
                    self.pos += 1;
                    match c {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v: u32 = (c - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
    }

    fn hex_string(&mut self) -> Result<Vec<u8>> {
        let at = self.pos;
        self.pos += 1;
        // The common case, a signature's /Contents of tens of kilobytes: hex digits in pairs
        // up to the closing `>`, decoded by table; anything else takes the general path.
        let rest = &self.data[self.pos..];
        if let Some(len) = memchr::memchr(b'>', rest) {
            if let Some(out) = decode_hex(&rest[..len]) {
                self.pos += len + 1;
                return Ok(out);
            }
        }
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(syntax(at, "unterminated hex string"));
            };
            self.pos += 1;
            let v = match b {
                b'>' => {
                    if let Some(h) = hi {
                        out.push(h << 4);
                    }
                    return Ok(out);
                }
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                b if is_ws(b) => continue,
                _ => return Err(syntax(self.pos - 1, "bad character in hex string")),
            };
            match hi.take() {
                Some(h) => out.push(h << 4 | v),
                None => hi = Some(v),
            }
        }
    }

    fn dict_body(&mut self, depth: usize) -> Result<Dict> {
        let at = self.pos;
        let mut d = Dict::new();
        // Keys seen, once the dictionary is large enough for a linear search to cost.
        let mut index: Option<std::collections::HashMap<Vec<u8>, usize>> = None;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') if self.data.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(d);
                }
                Some(b'/') => {
                    let key_at = self.pos;
                    self.pos += 1;
                    let k = self.name_body()?;
                    let v = self.object(depth + 1)?;
                    // A key given twice (§7.3.7 forbids it) with different values: readers
                    // disagree on which one counts, so none does.
                    if d.0.len() == 16 {
                        index = Some(
                            d.0.iter()
                                .enumerate()
                                .map(|(i, (k, _))| (k.clone(), i))
                                .collect(),
                        );
                    }
                    let earlier = match &index {
                        Some(ix) => ix.get(&k).copied(),
                        None => d.0.iter().position(|(x, _)| *x == k),
                    };
                    if let Some(i) = earlier {
                        if d.0[i].1 != v {
                            return Err(syntax(
                                key_at,
                                format!(
                                    "dictionary key /{} is given twice",
                                    String::from_utf8_lossy(&k[..k.len().min(40)])
                                ),
                            ));
                        }
                        continue;
                    }
                    if let Some(ix) = index.as_mut() {
                        ix.insert(k.clone(), d.0.len());
                    }
                    d.0.push((k, v));
                }
                None => return Err(syntax(at, "unterminated dictionary")),
                _ => return Err(syntax(self.pos, "dictionary key is not a name")),
            }
        }
    }

    /// After a stream dictionary: `stream`, spaces, an end of line. Returns the offset of the
    /// first data byte; `None` when no `stream` follows. Where readers begin the data
    /// otherwise, an error: after `stream` Poppler skips the rest of the line, MuPDF skips
    /// spaces and then takes one byte as the end of line, and neither reads `streamq` as the
    /// keyword — kyso began the data right after the keyword when no end of line followed, so
    /// a content stream rewritten `stream␠BT …` or `streamq …` after signing was the same to
    /// kyso while Poppler lost its first line, MuPDF ran a comment, or both drew no stream
    /// (found by an attacker's reading, 2026-12-03).
    pub fn stream_start(&mut self) -> Result<Option<usize>> {
        let save = self.pos;
        self.skip_ws();
        if !self.data[self.pos.min(self.data.len())..].starts_with(b"stream") {
            self.pos = save;
            return Ok(None);
        }
        let at = self.pos;
        self.pos += 6;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        match (self.peek(), self.data.get(self.pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            (Some(b'\n'), _) | (Some(b'\r'), _) => self.pos += 1,
            _ => {
                return Err(syntax(
                    at,
                    "`stream` not followed by an end of line (readers begin its data elsewhere)",
                ))
            }
        }
        Ok(Some(self.pos))
    }
}

#[cfg(test)]
mod tests {
    /// Bytes from a small alphabet (names, escapes, hex digits, delimiters, NUL), by a fixed
    /// xorshift: the cases where a quick path and the full reading could part.
    fn jumbles(alphabet: &[u8], count: usize, len: usize) -> Vec<Vec<u8>> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..count)
            .map(|_| {
                (0..1 + (x as usize % len))
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        alphabet[(x >> 32) as usize % alphabet.len()]
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_name_scan_finds_what_reading_every_name_finds() {
        let every = |data: &[u8], name: &[u8]| {
            memchr::memchr_iter(b'/', data).find(|&slash| poppler_name(data, slash + 1).0 == *name)
        };
        let mut found = 0;
        for data in jumbles(b"//##EEncrypt4556cC0 \x00(<", 20_000, 24) {
            for name in [&b"Encrypt"[..], b"E", b"#", b"", b"En"] {
                let at = name_anywhere(&data, name);
                assert_eq!(at, every(&data, name), "{:?} in {:?}", name, data);
                found += usize::from(at.is_some());
            }
        }
        assert!(found > 1000, "{found}");
        assert_eq!(name_anywhere(b"x /#45ncrypt", b"Encrypt"), Some(2));
        assert_eq!(
            name_anywhere(b"/Encryp /E#6ecrypt#00x", b"Encrypt"),
            Some(8)
        );
        assert_eq!(name_anywhere(b"/Encrypted /Fncrypt", b"Encrypt"), None);
    }

    #[test]
    fn hex_decodes_as_pair_by_pair() {
        let by_pairs = |d: &[u8]| -> Option<Vec<u8>> {
            if d.len() % 2 != 0 {
                return None;
            }
            d.chunks(2)
                .map(|c| {
                    let digits = std::str::from_utf8(c).ok()?;
                    // (`from_str_radix` takes a leading `+`; a PDF hex string does not.)
                    c.iter()
                        .all(u8::is_ascii_hexdigit)
                        .then(|| u8::from_str_radix(digits, 16).ok())?
                })
                .collect()
        };
        for d in jumbles(b"0123456789abcdefABCDEFgG +-", 20_000, 12) {
            assert_eq!(decode_hex(&d), by_pairs(&d), "{:?}", d);
        }
        assert_eq!(decode_hex(b"00ff7A"), Some(vec![0, 255, 0x7a]));
        assert_eq!(decode_hex(b""), Some(vec![]));
        assert_eq!(decode_hex(b"0g"), None);
    }

    #[test]
    fn loose_headers_are_what_a_reader_may_read() {
        let at = |b: &[u8]| b.windows(3).rposition(|w| w == b"obj").unwrap();
        let h = |b: &[u8]| loose_headers(b, at(b));
        // A sign, a comment between the parts (MuPDF's lexer); the sign's digits as a tail of
        // a run (Poppler's line).
        assert_eq!(h(b"x\n+4 0 obj"), vec![(4, 0, 2), (4, 0, 3)]);
        assert_eq!(h(b"x\n4 0 %c\nobj"), vec![(4, 0, 2)]);
        // Digits run into letters: any tail of them may start one of Poppler's lines.
        assert_eq!(h(b"AA12 0 obj"), vec![(2, 0, 3), (12, 0, 2)]);
        // A negative number is none to MuPDF, its digits may start a line of Poppler's.
        assert_eq!(h(b"x -4 0 obj"), vec![(4, 0, 3)]);
        // A word, one number only: none.
        assert!(h(b"(see obj 7)").is_empty());
        assert!(h(b"x 0 obj").is_empty());
    }

    /// Numbers read without `str` are the numbers `str::parse` reads, and refused where it
    /// refuses; integers and references read as before.
    #[test]
    fn digits_are_read_as_str_parse_reads_them() {
        let mut cases: Vec<Vec<u8>> = [
            "0",
            "7",
            "00012",
            "4294967295",
            "4294967296",
            "9223372036854775807",
            "9223372036854775808",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "0000000000000000000000007",
            "00000000000000000000004294967295",
            "00000000000000000000004294967296",
            "",
            "+1",
            "-1",
            "1.5",
            "1a",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 22) as usize;
            cases.push(
                (0..len)
                    .map(|k| b'0' + ((x >> (k % 60)) % 10) as u8)
                    .collect(),
            );
        }
        for t in &cases {
            let want = std::str::from_utf8(t).ok().and_then(|s| {
                (!s.starts_with(['+', '-']))
                    .then(|| s.parse::<u64>().ok())
                    .flatten()
            });
            assert_eq!(digits_value(t), want, "{:?}", String::from_utf8_lossy(t));
            let mut text = t.clone();
            text.extend_from_slice(b" 0 R ]");
            let mut p = Parser::new(&text, 0);
            let got = p.object(0);
            let n = std::str::from_utf8(t).unwrap_or("");
            let num = n
                .parse::<u32>()
                .ok()
                .filter(|_| n.bytes().all(|b| b.is_ascii_digit()));
            match (num.ok_or(()), got) {
                (Ok(num), Ok(Object::Ref(r))) => assert_eq!(r, ObjRef::new(num, 0)),
                (Ok(_), other) => panic!("{n:?}: {other:?}"),
                (Err(_), Ok(Object::Ref(r))) => panic!("{n:?} read as {r:?}"),
                (Err(_), _) => {}
            }
        }
    }

    use super::*;

    /// Tokens readers read differently are refused, not read one way: a name with a `#`
    /// escape of one hex digit (Poppler swallows the next byte), a name past 127 bytes (MuPDF
    /// cuts it), an integer past 64 bits (Poppler makes it a real, MuPDF wraps it).
    #[test]
    fn tokens_readers_read_differently_are_refused() {
        let read = |b: &[u8]| Parser::new(b, 0).object(0);
        assert_eq!(read(b"/A#41B").unwrap(), Object::Name(b"AAB".to_vec()));
        assert_eq!(read(b"/A#G ").unwrap(), Object::Name(b"A#G".to_vec()));
        assert_eq!(read(b"/A#").unwrap(), Object::Name(b"A#".to_vec()));
        for bad in [&b"/A#4G"[..], b"/A#4 ", b"/A#4", b"<< /#5xages 1 >>"] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains("one hex digit"), "{e}");
        }
        let long = |n: usize| [&b"/"[..], &vec![b'A'; n]].concat();
        assert!(read(&long(127)).is_ok());
        let e = read(&long(128)).unwrap_err().to_string();
        assert!(e.contains("longer than 127 bytes"), "{e}");
        // Decoded bytes count: 127 escapes are 381 bytes written, 127 read.
        assert!(read(&[&b"/"[..], &b"#41".repeat(127)].concat()).is_ok());
        assert_eq!(read(b"9223372036854775807").unwrap(), Object::Int(i64::MAX));
        assert_eq!(
            read(b"-9223372036854775808").unwrap(),
            Object::Int(i64::MIN)
        );
        for bad in [
            &b"9223372036854775808"[..],
            b"18446744073709551665",
            b"+99999999999999999999",
            b"-9223372036854775809",
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains("does not fit in 64 bits"), "{e}");
        }
        // A real's integer part past 2^31 − 1 (MuPDF wraps it at 32 bits).
        assert_eq!(read(b"2147483647.5").unwrap(), Object::Real(2147483647.5));
        assert_eq!(
            read(b"-00002147483647.0").unwrap(),
            Object::Real(-2147483647.0)
        );
        for bad in [
            &b"2147483648.0"[..],
            b"-2147483648.",
            b"18446744073709551616.0",
            b"99999999999.9",
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains("integer part past 2^31"), "{e}");
        }
    }

    /// A stream's data begins after `stream`, spaces and one end of line (CRLF, LF, CR), where
    /// Poppler and MuPDF both begin it; anything else is refused.
    #[test]
    fn stream_data_begins_where_readers_begin_it() {
        let start = |b: &[u8]| Parser::new(b, 0).stream_start();
        assert_eq!(start(b"stream\r\nBT").unwrap(), Some(8));
        assert_eq!(start(b" stream\nBT").unwrap(), Some(8));
        assert_eq!(start(b"stream\rBT").unwrap(), Some(7));
        assert_eq!(start(b"stream  \r\nBT").unwrap(), Some(10));
        assert_eq!(start(b"endobj").unwrap(), None);
        for bad in [
            &b"stream BT\n"[..],
            b"streamq\n",
            b"stream",
            b"stream\t\n",
            b"stream %x\n",
        ] {
            let e = start(bad).unwrap_err().to_string();
            assert!(e.contains("not followed by an end of line"), "{e}");
        }
    }

    #[test]
    fn an_obj_keyword_is_found_however_its_header_is_written_and_words_are_not() {
        let found = |b: &[u8]| obj_keywords(b).next().is_some();
        for yes in [
            &b"3 0 obj"[..],
            b"3 + obj\n",
            b"3 --0 obj<<",
            b"%AAAA3 0\nobj\n",
            b"3 0obj",
            b"obj",
            b"\x00obj(",
            b"9 0 obj%",
            b"3 0 o#62j\n",
            b"3 0 #6F#62#6A ",
            b"12 0 0o#62j",
        ] {
            assert!(found(yes), "{:?}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"objective"[..],
            b"CN=Subject",
            b"Xobj ",
            b"3 0 objX",
            b"ob j",
            b"\x80obj ",
            b"endobj\n",
            b"o#6",
        ] {
            assert!(!found(no), "{:?}", String::from_utf8_lossy(no));
        }
        let b = b"x\n12 0 obj\n3 + obj 7\n0\tobj";
        assert_eq!(obj_keywords(b).collect::<Vec<_>>(), vec![7, 15, 23]);
        let words: [&[u8]; 2] = [b"trailer", b"xref"];
        assert_eq!(
            keyword_tokens(b"a tr#61iler b", &words).collect::<Vec<_>>(),
            vec![2]
        );
    }

    fn p(s: &str) -> Result<Object> {
        Parser::new(s.as_bytes(), 0).object(0)
    }

    #[test]
    fn objects_of_section_7_3_parse() {
        assert_eq!(p("  -42 ").unwrap(), Object::Int(-42));
        assert_eq!(p("3.25").unwrap(), Object::Real(3.25));
        assert_eq!(p("-.5").unwrap(), Object::Real(-0.5));
        assert_eq!(p("12 0 R").unwrap(), Object::Ref(ObjRef::new(12, 0)));
        assert_eq!(p("/A#20B").unwrap(), Object::Name(b"A B".to_vec()));
        assert_eq!(
            p("(a\\(b\\)c\\101\\\nd (e))").unwrap(),
            Object::String(b"a(b)cAd (e)".to_vec())
        );
        assert_eq!(
            p("<48 65 6c6c6f7>").unwrap(),
            Object::String(b"Hellop".to_vec())
        );
        let d = p("<</Type/Sig /ByteRange[0 10 20 30]/M(D:2026)/Sub<</X 1 0 R>>>>").unwrap();
        let d = d.as_dict().unwrap();
        assert!(d.get("Type").unwrap().is_name("Sig"));
        assert_eq!(d.get("ByteRange").unwrap().as_array().unwrap().len(), 4);
        // `[1 2 R 3]` is the reference 1 2 R followed by 3.
        assert_eq!(
            p("[1 2 R 3]").unwrap(),
            Object::Array(vec![Object::Ref(ObjRef::new(1, 2)), Object::Int(3)])
        );
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "(",
            "<",
            "<<",
            "<</A",
            "[",
            "<zz>",
            ")",
            "1.2.3",
            "99999999999999999999 0 R",
            "<</A 1 0 R",
            "{",
        ] {
            assert!(p(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(10_000);
        assert!(p(&deep).is_err());
        // Found by cargo fuzz (prepare_pdf): an error message cut inside a UTF-8 character.
        assert!(p("LLLLLLLLLLLLLLLKѣԍ").is_err());
    }

    /// Poppler's rebuild as its code reads lines (XRef::constructXRef, 22.12), on the cases
    /// attackers' readings found (2026-12-03) and the ones writers write.
    #[test]
    fn poppler_rebuild_reads_lines_as_poppler_does() {
        let taken = |b: &[u8]| {
            let r = poppler_rebuild(b);
            let mut v: Vec<(u32, i64, usize)> =
                r.entries.iter().map(|(n, (g, a))| (*n, *g, *a)).collect();
            v.sort_unstable();
            (v, r.unmodelled)
        };
        // As writers write: each header at its line's start, the last of a number kept.
        assert_eq!(
            taken(
                b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n  2 0 obj\n1\nendobj\r\n1 0 obj\n<<>>\nendobj\n"
            ),
            (vec![(1, 0, 49), (2, 0, 29)], None)
        );
        // Anything after `obj`; a NUL ending the line, the header going on in the next.
        assert_eq!(taken(b"x\n3 0 objx\n").0, vec![(3, 0, 2)]);
        assert_eq!(taken(b"x\n3\x00junk\n0 objx\n").0, vec![(3, 0, 2)]);
        assert_eq!(taken(b"x\n3 0\x00junk\nobj\n").0, vec![(3, 0, 2)]);
        // A line read in 255-byte pieces: `30` split as 3 | 0.
        let mut split = b" ".repeat(254);
        split.extend_from_slice(b"30 objx\n");
        assert_eq!(taken(&split).0, vec![(3, 0, 0)]);
        // After `endobj` on a line, the rest read as a line of its own.
        assert_eq!(taken(b"x endobj 3 0 objx\n").0, vec![(3, 0, 9)]);
        // A line holding only a number takes the next line as the rest of its header: the
        // header there is not one to Poppler.
        assert_eq!(taken(b"12\n5 0 obj\n").0, vec![]);
        // Numbers as C's atoi takes them: 2^32 + 3 is 3; past 2^63 - 1 is -1, no object.
        assert_eq!(taken(b"4294967299 0 obj\n").0, vec![(3, 0, 0)]);
        assert_eq!(taken(b"18446744073709551619 0 obj\n").0, vec![]);
        // The highest generation is kept, the last of equals.
        assert_eq!(taken(b"3 1 obj\n3 0 obj\n").0, vec![(3, 1, 0)]);
        // Not followed: a header continued from where `endobj` cut the line; a number at which
        // Poppler gives the rebuild up.
        assert_eq!(taken(b"endobj 3\n0 obj\n"), (vec![(3, 0, 7)], None));
        assert_eq!(taken(b"3endobj\n0 obj\n").1, Some(0));
        assert_eq!(taken(b"2147483600 0 obj\n").1, Some(0));
        assert_eq!(taken(b"40000000 0 obj\n").1, Some(0));
        // A first header of a negative generation (2^32 - 1 is -1 to atoi) is not taken.
        assert_eq!(taken(b"3 4294967295 obj\n").0, vec![]);
        assert_eq!(
            poppler_rebuild(b"x\n3\x00junk\n0 objx\n").headers,
            vec![(3, 0, 2, 11)]
        );
    }

    #[test]
    fn keyword_tokens_finds_what_reading_every_token_finds() {
        // Random bytes with the pieces of keywords and escapes mixed in.
        let pieces: [&[u8]; 14] = [
            b"obj",
            b"o#62j",
            b"#6Fbj",
            b"4 0obj",
            b"+1obj",
            b"endobj",
            b"trailer",
            b"tr#61iler",
            b" ",
            b"\n",
            b"/",
            b"\x0b",
            b"#",
            b"obj#",
        ];
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let words: [&[u8]; 2] = [b"obj", b"trailer"];
        for _ in 0..400 {
            let mut b = Vec::new();
            for _ in 0..(next() % 200) {
                if next() % 3 == 0 {
                    b.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                } else {
                    b.push((next() % 256) as u8);
                }
            }
            let fast: Vec<usize> = keyword_tokens(&b, &words).collect();
            let every: Vec<usize> = keyword_tokens_every(&b, &words).collect();
            assert_eq!(fast, every, "{b:?}");
        }
    }
}

/// One step of a name as Poppler's lexer reads it, at `i`: the byte it adds and where the
/// next step begins; `None` at its end (white space, a delimiter, the file's end). Regular
/// characters, `#` and two hex digits one byte, `#` and one hex digit one byte that swallows
/// the next character whatever it is — a delimiter too (`/L#0G` is "L" and a NUL; `/V#0>>` is
/// "V", a NUL, ">", then a lone `>`: found by attackers' readings, 2026-12-03).
pub fn poppler_name_step(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16)).map(|d| d as u8);
    let c = *b.get(i)?;
    match hex(b.get(i + 1)) {
        Some(h) if c == b'#' => Some((
            h << 4 | hex(b.get(i + 2)).unwrap_or(0),
            (i + 3).min(b.len()),
        )),
        _ if is_ws(c) || is_delim(c) => None,
        _ => Some((c, i + 1)),
    }
}

/// A name as Poppler's lexer reads it, from just after its `/` ([`poppler_name_step`]), kept
/// as a C string (it ends at a NUL), walked only until what it is is settled: its end, a
/// decoded NUL, or a 17th byte (no longer name equals one compared here). Returns it, and
/// `Ok(where it ends)`, or `Err(where the rest of it begins)`.
pub fn poppler_name(b: &[u8], mut i: usize) -> (PopplerName, std::result::Result<usize, usize>) {
    let mut n = PopplerName::default();
    loop {
        let Some((byte, next)) = poppler_name_step(b, i) else {
            return (n, Ok(i));
        };
        if byte == 0 {
            return (n, Err(next));
        }
        if n.len == n.bytes.len() {
            n.longer = true;
            return (n, Err(i));
        }
        n.bytes[n.len] = byte;
        n.len += 1;
        i = next;
    }
}

/// The first 16 bytes of a name, without allocating (every name of a file is read).
#[derive(Default)]
pub struct PopplerName {
    bytes: [u8; 16],
    len: usize,
    /// It has more.
    longer: bool,
}

impl PartialEq<[u8]> for PopplerName {
    fn eq(&self, other: &[u8]) -> bool {
        !self.longer && &self.bytes[..self.len] == other
    }
}

/// Where the first name reading as `name` is, Poppler's way ([`poppler_name`]) — wherever it
/// is: in an object, a string, a comment, stream data. (Any name MuPDF's lexer reads as one of
/// letters reads so too: it decodes only whole `#` escapes.) At most 16 bytes.
pub fn name_anywhere(data: &[u8], name: &[u8]) -> Option<usize> {
    // A name's first byte is the byte after its `/`, unless that is a `#` escape: any other
    // byte there cannot begin `name`, and the name is not read (every name of a file used to
    // be walked: 12 % of a validation's time, ~40 ns a name).
    let may_begin = |slash: usize| match (name.first(), data.get(slash + 1)) {
        (Some(&first), Some(&next)) => next == first || next == b'#',
        _ => true,
    };
    memchr::memchr_iter(b'/', data)
        .find(|&slash| may_begin(slash) && poppler_name(data, slash + 1).0 == *name)
}
