//! Evidence that outlives keys (the RFC 4998 evidence-record idea, for a package).
//!
//! A package's proofs lead to one checkpoint, signed with the log key. Keys are retired and
//! algorithms weaken: so each export also time-stamps the checkpoint (RFC 3161:
//! `data/log/checkpoint.tsr`, over the signed note), which shows the checkpoint existed while
//! its key was good; and `kyso bag renew` adds, before that time-stamp's TSA certificate
//! expires or its hash weakens, a new time-stamp (`kyso-renewal-<n>.tsr`, a tag file) over
//! everything before it:
//!
//! ```text
//! renewal n covers: checkpoint note ‖ manifest-sha512.txt ‖ checkpoint.tsr ‖ renewal-1 ‖ … ‖ renewal-(n−1)
//! ```
//!
//! (the SHA-512 manifest brings the whole payload under the new time-stamp: a hash-tree
//! renewal in RFC 4998's terms, not only a time-stamp renewal). `bag verify` follows the chain:
//! each time-stamp must be valid at the time the next one proves it existed, the newest now.
//!
//! An E-ARK package follows the same rule with its own places ([`Chain::eark`]): the first
//! time-stamp is `representations/rep1/data/log/checkpoint.tsr`, the manifest
//! `metadata/preservation/manifest-sha512.txt`, and renewals are preservation metadata,
//! `metadata/preservation/kyso-renewal-<n>.tsr`, each described by a PREMIS file of its own,
//! `metadata/preservation/premis-renewal-<n>.xml` (the token as an object with its SHA-256
//! fixity, the renewal as a `digital signature generation` event), both referenced from the
//! root METS by a `digiprovMD` (size and SHA-256) that the metadata division's ADMID names.
//! The zip gets the token, its PREMIS file and the new root METS as entries where its METS was
//! (the last entry, as kyso writes it), then its central directory again — in a copy, made
//! durable and renamed over it.

use crate::bag_verify::{CheckpointResult, Problem, VerifyOptions};
use crate::error::{ArchiveError, Result};
use crate::package::{Package, TarIndex, ZipIndex};
use crate::zipout::{ZipOut, ZipState};
use kyso_verify::crypto::Hash;
use sha2::digest::DynDigest;
use std::path::Path;
use std::time::SystemTime;

/// Largest time-stamp token read.
const MAX_TOKEN: u64 = 1 << 20;
/// Most bytes all the tokens of a chain may hold together (each is read whole).
const MAX_CHAIN_BYTES: u64 = 64 << 20;
/// Largest tag manifest read (it lists the tag files and renewals only). The SHA-512 payload
/// manifest a renewal covers is streamed, whatever its size.
const MAX_TAG_MANIFEST: u64 = 16 << 20;
/// Most renewals followed.
pub(crate) const MAX_RENEWALS: usize = 1000;

/// The first time-stamp, over the checkpoint (payload).
pub const FIRST: &str = "data/log/checkpoint.tsr";

/// What [`renew`] added.
#[derive(Debug)]
pub struct Renewed {
    /// The new token's path in the package.
    pub path: String,
    /// What the chain renewed holds only as far as the caller trusts it (English): a
    /// self-signed TSA, with no `--tsa-trust`, passed silently (helper 163).
    pub notes: Vec<String>,
}

pub fn renewal_name(n: usize) -> String {
    format!("kyso-renewal-{n}.tsr")
}

/// Where a package keeps its time-stamp chain (paths relative to the package folder).
pub(crate) struct Chain {
    /// The time-stamp made at export, over the checkpoint.
    first: String,
    /// The folder of the renewals (`kyso-renewal-<n>.tsr`).
    renewals: &'static str,
    /// The SHA-512 manifest a renewal covers.
    manifest: String,
}

impl Chain {
    /// A BagIt bag: the renewals are tag files.
    pub(crate) fn bagit() -> Chain {
        Chain {
            first: FIRST.into(),
            renewals: "",
            manifest: "manifest-sha512.txt".into(),
        }
    }

    /// An E-ARK package: the renewals are preservation metadata.
    pub(crate) fn eark() -> Chain {
        Chain {
            first: format!("{}/log/checkpoint.tsr", crate::eark::PAYLOAD),
            renewals: crate::eark::MANIFESTS,
            manifest: format!("{}/manifest-sha512.txt", crate::eark::MANIFESTS),
        }
    }

    /// The chain of the package whose payload is at `data`.
    pub(crate) fn of_payload(data: &str) -> Chain {
        if data == crate::eark::PAYLOAD {
            Chain::eark()
        } else {
            Chain::bagit()
        }
    }

    fn renewal(&self, n: usize) -> String {
        join(self.renewals, &renewal_name(n))
    }

    /// The PREMIS file that describes renewal `n` (an E-ARK package's preservation metadata).
    fn renewal_premis(&self, n: usize) -> String {
        join(self.renewals, &format!("premis-renewal-{n}.xml"))
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// The chain's tokens, oldest first: the checkpoint's, then each renewal (paths in the
/// package).
fn tokens(pk: &Package, c: &Chain) -> Vec<String> {
    let mut out = Vec::new();
    if pk.exists(&c.first) {
        out.push(c.first.clone());
    }
    for n in 1..=MAX_RENEWALS {
        let p = c.renewal(n);
        if !pk.exists(&p) {
            break;
        }
        out.push(p);
    }
    out
}

fn problem(en: String, vi: String) -> Problem {
    Problem {
        kind: "timestamp",
        en,
        vi,
    }
}

/// Follow the time-stamp chain over the checkpoint of the package whose payload is `data`;
/// add each time-stamp's time to `r`, and what does not hold to its problems.
pub(crate) fn check_chain(
    pk: &Package,
    data: &str,
    note: &[u8],
    o: &VerifyOptions,
    r: &mut CheckpointResult,
) {
    let chain = Chain::of_payload(data);
    chain_holds(&Covered::new(pk, &chain, note), o, r);
}

/// [`check_chain`] over `covered`'s package, chain and note (whose digests of note ‖ manifest
/// a renewal then reuses).
fn chain_holds(covered: &Covered, o: &VerifyOptions, r: &mut CheckpointResult) {
    // One budget of path signature checks for the whole chain, as for one document.
    let _budget = kyso_verify::path::Budget::enter();
    let (pk, chain, note) = (covered.pk, covered.chain, covered.note);
    let toks = tokens(pk, chain);
    if toks.is_empty() {
        r.problems.push(problem(
            format!("the checkpoint has no time-stamp ({}): its evidence lasts only as long as the log key", chain.first),
            format!("điểm kiểm tra không có dấu thời gian ({}): bằng chứng chỉ có giá trị khi khóa nhật ký còn giá trị", chain.first),
        ));
        return;
    }
    let mut bytes = Vec::with_capacity(toks.len());
    let mut total = 0u64;
    for name in &toks {
        match pk.read(name, MAX_TOKEN) {
            Ok(b) => {
                // The token alone, as kyso writes it: bytes after it are content nothing
                // vouches for, which a renewal would then cover (helper 163).
                // (Bytes that do not begin with a token are said by its validation.)
                let token = kyso_verify::ber::read(&b).map_or(b.len(), |t| t.raw.len());
                if token < b.len() {
                    let n = b.len() - token;
                    r.problems.push(problem(
                        format!("{name}: {n} bytes follow the time-stamp token (kyso writes the token alone)"),
                        format!("{name}: có {n} byte sau dấu thời gian (kyso chỉ ghi dấu thời gian)"),
                    ));
                    return;
                }
                total += b.len() as u64;
                if total > MAX_CHAIN_BYTES {
                    r.problems.push(problem(
                        format!("{name}: the time-stamp chain holds more than {} MiB (a token is a few kilobytes)", MAX_CHAIN_BYTES >> 20),
                        format!("{name}: chuỗi dấu thời gian lớn hơn {} MiB (mỗi dấu chỉ vài kilobyte)", MAX_CHAIN_BYTES >> 20),
                    ));
                    return;
                }
                bytes.push(b)
            }
            Err(e) => {
                r.problems
                    .push(problem(format!("{name}: {e}"), format!("{name}: {e}")));
                return;
            }
        }
    }
    // When each token is relied on: the time the next one proves it existed; the newest, now.
    let times: Vec<Option<SystemTime>> = bytes
        .iter()
        .map(|b| kyso_verify::tsp::claimed_gen_time(b))
        .collect();
    if o.tsa_trust.is_empty() && o.trust.is_empty() {
        r.notes.push(problem(
            "the time-stamps are trusted by their own certificates only (no --tsa-trust or --trust): anyone can make such a time-stamp; give the TSAs' roots to rely on them".into(),
            "các dấu thời gian chỉ được tin theo chứng thư của chính chúng (không có --tsa-trust hoặc --trust): ai cũng có thể tạo dấu thời gian như vậy; hãy cho chứng thư gốc của TSA để tin cậy".into(),
        ));
    }
    // A renewal is made after what it covers: one dated earlier moves back the time the tokens
    // before it are relied on (a back-dated renewal by a TSA of the forger's own would have an
    // expired TSA judged when it was still good). Two TSAs' clocks may differ by their
    // accuracy: a minute is allowed. Judged before the token renewed is, by the dates the
    // tokens claim: the token renewed is judged at its renewal's date.
    let slack = std::time::Duration::from_secs(60);
    for (i, name) in toks.iter().enumerate() {
        if let (Some(Some(this)), Some(Some(next))) = (times.get(i), times.get(i + 1)) {
            if *next + slack < *this {
                let renewal = &toks[i + 1];
                let (next, this) = (kyso_verify::rfc3339(*next), kyso_verify::rfc3339(*this));
                r.problems.push(problem(
                    format!("time-stamp {renewal} is dated {next}, before the time-stamp it renews ({name}, {this}): a renewal is made after what it covers"),
                    format!("dấu thời gian {renewal} ghi ngày {next}, trước dấu thời gian mà nó gia hạn ({name}, {this}): gia hạn phải sau điều nó bao phủ"),
                ));
                return;
            }
        }
        // The first token is over the note; each renewal over the evidence before it.
        let digest = |h: Hash| {
            if i == 0 {
                Ok(h.digest(&[note]))
            } else {
                covered.digest(&bytes[..i], h)
            }
        };
        let reliance = match times.get(i + 1) {
            Some(Some(t)) => *t,
            _ => SystemTime::now(),
        };
        match validate_token(o, &bytes[i], &digest, reliance) {
            Ok(t) => {
                if i == 0 {
                    r.first_time = Some(t.claimed);
                }
                r.timestamps.push(kyso_verify::rfc3339(t.claimed));
                r.tsas.push(t.tsa);
            }
            Err(f) => {
                r.problems.push(problem(
                    format!(
                        "time-stamp {name} does not hold: {} {}",
                        f.indication.as_str(),
                        f.message
                    ),
                    format!(
                        "dấu thời gian {name} không đạt: {} {}",
                        f.indication.as_str(),
                        f.message
                    ),
                ));
                return;
            }
        }
    }
}

/// A renewal of an E-ARK package as `bag renew` described it (its PREMIS file).
pub(crate) struct RenewalFiles {
    /// Its number: `kyso-renewal-<n>.tsr`.
    pub(crate) n: usize,
    /// Its token and PREMIS file (package paths).
    pub(crate) token: String,
    pub(crate) premis: String,
    /// What its token covers, oldest first: the checkpoint note, the SHA-512 manifest, the
    /// time-stamps before it.
    pub(crate) covered: Vec<String>,
}

/// What a renewal after the time-stamps `before` covers, oldest first (package paths, as its
/// PREMIS file names them).
fn covered_by(data: &str, chain: &Chain, before: &[String]) -> Vec<String> {
    let mut covered = vec![format!("{data}/log/checkpoint.txt"), chain.manifest.clone()];
    covered.extend(before.iter().cloned());
    covered
}

/// The renewals of the E-ARK package whose payload is `data`, oldest first (none when the
/// chain has no first time-stamp: then nothing holds, and the chain says so).
pub(crate) fn renewals(pk: &Package, data: &str) -> Vec<RenewalFiles> {
    let chain = Chain::of_payload(data);
    let toks = tokens(pk, &chain);
    if toks.first() != Some(&chain.first) {
        return Vec::new();
    }
    (1..toks.len())
        .map(|n| RenewalFiles {
            n,
            token: toks[n].clone(),
            premis: chain.renewal_premis(n),
            covered: covered_by(data, &chain, &toks[..n]),
        })
        .collect()
}

/// A digest of note ‖ manifest ‖ the first `n` tokens, its algorithm, and `n`.
type Running = (Hash, Box<dyn DynDigest>, usize);

/// What the renewals cover — the checkpoint note ‖ the SHA-512 manifest ‖ the tokens before
/// each — digested with the algorithm each token names. The manifest is streamed from the
/// package (a package of millions of files has a manifest of hundreds of megabytes: never held
/// whole), once per algorithm: each renewal's digest continues a copy of note ‖ manifest.
struct Covered<'a> {
    pk: &'a Package,
    chain: &'a Chain,
    note: &'a [u8],
    /// note ‖ manifest ‖ the first `n` tokens, per algorithm read so far, with `n`: each
    /// renewal's digest continues the one before it (digesting every earlier token again for
    /// each renewal was quadratic: a thousand renewals of 1 MiB, half a terabyte hashed).
    base: std::cell::RefCell<Vec<Running>>,
}

impl<'a> Covered<'a> {
    fn new(pk: &'a Package, chain: &'a Chain, note: &'a [u8]) -> Self {
        Covered {
            pk,
            chain,
            note,
            base: Default::default(),
        }
    }

    /// The digest of what the renewal after the tokens `before` covers.
    fn digest(&self, before: &[Vec<u8>], h: Hash) -> std::result::Result<Vec<u8>, String> {
        /// A digest fed by `std::io::copy`.
        struct Feed(Box<dyn DynDigest>);
        impl std::io::Write for Feed {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.update(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut base = self.base.borrow_mut();
        let i = match base.iter().position(|(k, _, _)| *k == h) {
            Some(i) => i,
            None => {
                let mut d = Feed(h.running());
                d.0.update(self.note);
                let m = &self.chain.manifest;
                let (mut f, _) = self.pk.open_file(m)?;
                std::io::copy(&mut f, &mut d).map_err(|e| format!("{}: {e}", self.pk.shown(m)))?;
                base.push((h, d.0, 0));
                base.len() - 1
            }
        };
        let (_, d, fed) = &mut base[i];
        if *fed > before.len() {
            // Asked for less than fed already (not how the chain is walked): start over.
            drop(base);
            self.base.borrow_mut().remove(i);
            return self.digest(before, h);
        }
        for t in &before[*fed..] {
            d.update(t);
        }
        *fed = before.len();
        Ok(d.box_clone().finalize().to_vec())
    }
}

/// Validate one time-stamp token of a chain over the data `digest` gives (with the token's
/// algorithm), relied on at `reliance`. Trust anchors: `--tsa-trust`, else `--trust`, else the
/// self-issued certificates the token carries; the revocation data the token carries is the
/// only revocation source.
fn validate_token(
    o: &VerifyOptions,
    token: &[u8],
    digest: &dyn Fn(Hash) -> std::result::Result<Vec<u8>, String>,
    reliance: SystemTime,
) -> std::result::Result<kyso_verify::tsp::Timestamp, kyso_verify::cms::Finding> {
    let mut v = kyso_verify::Validator {
        anchors: o.tsa_trust.clone(),
        now: reliance,
        ..Default::default()
    };
    if v.anchors.is_empty() {
        v.anchors = o.trust.clone();
    }
    let parsed = kyso_verify::cms::parse(token);
    if v.anchors.is_empty() {
        if let Ok(p) = &parsed {
            v.anchors = p
                .certs
                .iter()
                .filter(|c| c.is_self_issued())
                .cloned()
                .collect();
        }
    }
    let (crls, ocsps) = match &parsed {
        Ok(p) => (p.crls.clone(), p.ocsps.clone()),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let data_at_hand = kyso_verify::path::revocation::Data {
        crls: &crls,
        ocsps: &ocsps,
    };
    kyso_verify::tsp::validate_imprint(&v, token, digest, &[], data_at_hand, reliance)
}

/// `kyso bag renew`: add a time-stamp over the previous evidence. The chain must hold now
/// (renewing broken evidence would only hide it); `stamp` makes the token over the parts'
/// concatenation. A directory gets the token as a new tag file and its tag manifest replaced
/// atomically; a tar gets both appended as new entries (a later entry replaces an earlier one
/// of the same name, as `tar --append` does) in a copy renamed over it; an E-ARK zip gets the
/// token and its PREMIS file as preservation metadata and a root METS that references both, in
/// a copy renamed over it. The new token must validate over what it covers before anything is
/// written. Returns the new token's path in the package, and what held only as far as the
/// caller trusts it.
pub fn renew(root: &Path, o: &VerifyOptions, stamp: crate::bag::Stamper<'_>) -> Result<Renewed> {
    // A tar or zip is renewed in a copy renamed over it: over a symbolic link, that would
    // replace the link and leave the package it names as it was.
    if let (false, Ok(to)) = (root.is_dir(), std::fs::read_link(root)) {
        return Err(ArchiveError::Input(format!(
            "{} is a symbolic link: renew the package it points to, {} — {} là liên kết tượng trưng: hãy gia hạn gói mà nó trỏ tới, {}",
            root.display(),
            to.display(),
            root.display(),
            to.display()
        )));
    }
    let pk = Package::open(root).map_err(ArchiveError::Input)?;
    let (chain, data) = match &pk {
        Package::Zip(_) => (Chain::eark(), crate::eark::PAYLOAD),
        _ => (Chain::bagit(), "data"),
    };
    let note = pk
        .read(
            &format!("{data}/log/checkpoint.txt"),
            crate::checkpoint::MAX_NOTE as u64,
        )
        .map_err(ArchiveError::Input)?;
    // The chain must hold now; the renewal then reuses its digests of note ‖ manifest.
    let over = Covered::new(&pk, &chain, &note);
    let mut r = CheckpointResult::default();
    chain_holds(&over, o, &mut r);
    if let Some(p) = r.problems.first() {
        return Err(ArchiveError::Input(format!(
            "the evidence does not hold now, so it is not renewed: {}",
            p.en
        )));
    }
    let toks = tokens(&pk, &chain);
    // A renewal the chain does not reach (after a gap, or past the most read) would be
    // written beside one `bag verify` then reaches or never does: the package, renewed with
    // exit 0, failed (helper 163).
    if toks.len() > MAX_RENEWALS {
        return Err(ArchiveError::Input(format!(
            "the time-stamp chain has {MAX_RENEWALS} renewals, the most kyso reads; it is not renewed"
        )));
    }
    let stray = pk.names_in(chain.renewals).into_iter().find(|n| {
        n.strip_prefix("kyso-renewal-")
            .and_then(|n| n.strip_suffix(".tsr"))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            && !toks.contains(&join(chain.renewals, n))
    });
    if let Some(n) = stray {
        return Err(ArchiveError::Input(format!(
            "{} is not a renewal the time-stamp chain reaches (one before it is missing): the package is not renewed",
            pk.shown(&join(chain.renewals, &n))
        )));
    }
    let before = toks
        .iter()
        .map(|p| pk.read(p, MAX_TOKEN))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(ArchiveError::Input)?;
    let covered = |h: Hash| over.digest(&before, h);
    let sha256: [u8; 32] = covered(Hash::Sha256)
        .map_err(ArchiveError::Input)?
        .try_into()
        .map_err(|_| ArchiveError::Input("SHA-256 is not 32 bytes".into()))?;
    let token = stamp(&sha256).map_err(ArchiveError::Input)?;
    let name = chain.renewal(toks.len());
    if pk.exists(&name) {
        return Err(ArchiveError::Input(format!("{} exists", pk.shown(&name))));
    }
    // The new token must hold over what it covers, now: a token that does not would break
    // the chain it was to extend.
    let stamped = validate_token(o, &token, &covered, SystemTime::now()).map_err(|f| {
        ArchiveError::Input(format!(
            "the TSA's time-stamp does not hold ({} {}), so it is not added",
            f.indication.as_str(),
            f.message
        ))
    })?;
    if let Package::Zip(z) = &pk {
        let time = kyso_verify::rfc3339(stamped.claimed);
        let mets = String::from_utf8(pk.read("METS.xml", MAX_METS).map_err(ArchiveError::Input)?)
            .map_err(|_| ArchiveError::Input("METS.xml is not UTF-8".into()))?;
        // What the new token covers, oldest first (package paths, as PREMIS names them).
        let covered = covered_by(data, &chain, &toks);
        let premis_name = chain.renewal_premis(toks.len());
        if pk.exists(&premis_name) {
            return Err(ArchiveError::Input(format!(
                "{} exists",
                pk.shown(&premis_name)
            )));
        }
        let described = crate::eark::Described::of(&token);
        let premis = crate::eark::premis_renewal(&crate::eark::Renewal {
            n: toks.len(),
            token_path: &name,
            token: &described,
            version: env!("CARGO_PKG_VERSION"),
            time: &time,
            tsa: &stamped.tsa,
            covered: &covered,
            held: &r.timestamps,
        });
        let mets = crate::eark::mets_with_renewal(
            &mets,
            toks.len(),
            (&name, &described),
            (&premis_name, &crate::eark::Described::of(premis.as_bytes())),
            &time,
        )
        .map_err(ArchiveError::Input)?;
        append_to_zip(
            z,
            &[
                (&name, &token),
                (&premis_name, premis.as_bytes()),
                ("METS.xml", mets.as_bytes()),
            ],
        )?;
        return Ok(Renewed {
            path: name,
            notes: r.notes.into_iter().map(|p| p.en).collect(),
        });
    }
    // The tag manifest lists the new tag file.
    let mut text = String::from_utf8(
        pk.read("tagmanifest-sha256.txt", MAX_TAG_MANIFEST)
            .map_err(ArchiveError::Input)?,
    )
    .map_err(|_| ArchiveError::Input("tagmanifest-sha256.txt is not UTF-8".into()))?;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{}  {name}\n", crate::bag::sha256_hex(&token)));
    match &pk {
        Package::Dir(_) => {
            crate::bag::write_atomic(&root.join(&name), &token)?;
            crate::bag::write_atomic(&root.join("tagmanifest-sha256.txt"), text.as_bytes())?;
        }
        Package::Tar(t) => append_to_tar(
            t,
            &[(&name, &token), ("tagmanifest-sha256.txt", text.as_bytes())],
        )?,
        Package::Zip(_) => {}
    }
    Ok(Renewed {
        path: name,
        notes: r.notes.into_iter().map(|p| p.en).collect(),
    })
}

/// Largest root METS read (kyso's is a few KB; the file entries are in the representation's).
const MAX_METS: u64 = 16 << 20;

/// Put files into a zip package (paths under its folder), replacing entries of the same name:
/// a copy of its bytes up to the first entry replaced (when the replaced ones are its last
/// entries, as kyso writes its METS; else up to its central directory, the replaced entries'
/// bytes left unreferenced), the new entries, and the central directory — the old records
/// streamed but for the replaced ones, then the new; made durable and renamed over it (a crash
/// leaves the old zip whole).
fn append_to_zip(z: &ZipIndex, files: &[(&str, &[u8])]) -> Result<()> {
    use std::io::{Read, Seek};
    let path = z.path();
    let err =
        |what: &str, e: String| ArchiveError::Input(format!("{what} {}: {e}", path.display()));
    let full = |rel: &str| format!("{}/{rel}", z.top);
    let replaced: Vec<String> = files.iter().map(|(n, _)| full(n)).collect();
    // Where the copy stops: the first replaced entry, if nothing but replaced entries follow.
    let mut cut = z.end.cd_at;
    let mut starts = Vec::new();
    for (rel, _) in files {
        if let Ok((at, data, size)) = z.locate(rel) {
            starts.push((at, data + size));
        }
    }
    starts.sort();
    if let Some(&(first, _)) = starts.first() {
        // Contiguous and at the end: each replaced entry ends where the next begins.
        let mut end = first;
        let mut contiguous = true;
        for &(at, stop) in &starts {
            if at != end {
                contiguous = false;
            }
            end = stop;
        }
        if contiguous && end == z.end.cd_at {
            cut = first;
        }
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".renew-partial");
    let tmp = std::path::PathBuf::from(tmp);
    let mut spool = path.as_os_str().to_owned();
    spool.push(".renew-central");
    let spool = std::path::PathBuf::from(spool);
    {
        let mut out =
            crate::bag::create_fresh(&tmp).map_err(|e| err("create a copy of", e.to_string()))?;
        crate::bag::create_fresh(&spool).map_err(|e| err("create a copy of", e.to_string()))?;
        let mut src = z.file();
        src.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| err("read", e.to_string()))?;
        let n =
            std::io::copy(&mut src.take(cut), &mut out).map_err(|e| err("copy", e.to_string()))?;
        if n != cut {
            return Err(ArchiveError::Input(format!(
                "{} is shorter than its entries",
                path.display()
            )));
        }
    }
    let mut w = ZipOut::open(
        &tmp,
        &spool,
        ZipState {
            len: cut,
            cd_len: 0,
            entries: 0,
        },
        time::OffsetDateTime::now_utc(),
    )
    .map_err(|e| err("write", e.to_string()))?;
    for rec in z.central_records().map_err(|e| err("read", e))? {
        let rec = rec.map_err(|e| err("read", e))?;
        if replaced.contains(&rec.name) {
            continue;
        }
        if rec.offset >= cut {
            return Err(err(
                "renew",
                format!("its entry {:?} overlaps the ones replaced", rec.name),
            ));
        }
        w.raw_central(&rec.raw)
            .map_err(|e| err("write", e.to_string()))?;
    }
    for (rel, bytes) in files {
        w.put(&full(rel), bytes)
            .map_err(|e| err("write", e.to_string()))?;
    }
    let f = w.finish().map_err(|e| err("write", e.to_string()))?;
    f.sync_all().map_err(|e| err("fsync", e.to_string()))?;
    let _ = std::fs::remove_file(&spool);
    std::fs::rename(&tmp, path).map_err(|e| err("replace", e.to_string()))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    std::fs::File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(|e| err("fsync the directory of", e.to_string()))
}

/// Append files to a tar bag: a copy of its entries, the new ones, the end; made durable and
/// renamed over it (a crash leaves the old tar whole).
fn append_to_tar(t: &TarIndex, files: &[(&str, &[u8])]) -> Result<()> {
    use std::io::{Read, Seek, Write};
    let path = t.path();
    let err = |what: &str, e: std::io::Error| {
        ArchiveError::Input(format!("{what} {}: {e}", path.display()))
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".renew-partial");
    let tmp = std::path::PathBuf::from(tmp);
    let mut out = crate::bag::create_fresh(&tmp).map_err(|e| err("create a copy of", e))?;
    let mut src = t.file();
    src.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| err("read", e))?;
    let n = std::io::copy(&mut src.take(t.end), &mut out).map_err(|e| err("copy", e))?;
    if n != t.end {
        return Err(ArchiveError::Input(format!(
            "{} is shorter than its entries",
            path.display()
        )));
    }
    let mtime = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut b = tar::Builder::new(std::io::BufWriter::new(out));
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        b.append_data(&mut h, format!("{}/{name}", t.top), *bytes)
            .map_err(|e| err("write", e))?;
    }
    let mut w = b.into_inner().map_err(|e| err("write", e))?;
    w.flush().map_err(|e| err("write", e))?;
    let f = w.into_inner().map_err(|e| err("write", e.into_error()))?;
    f.sync_all().map_err(|e| err("fsync", e))?;
    std::fs::rename(&tmp, path).map_err(|e| err("replace", e))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    std::fs::File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(|e| err("fsync the directory of", e))
}
