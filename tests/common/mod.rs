//! Shared test fixtures: a real SoftHSM2 demo token in a temporary directory, and a way to
//! run the `kyso` binary against it. Every test gets its own token store (its own
//! SOFTHSM2_CONF), so tests run in parallel and leave nothing behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Demo {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The binary under test: this build's, or `KYSO_TEST_BIN` (to run the tests against another
/// build, e.g. the one before a fix).
pub fn kyso_bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("KYSO_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kyso").to_string())
    })
}

/// A `kyso` command with a clean environment as far as tokens and PINs go.
pub fn kyso_cmd() -> Command {
    let mut c = Command::new(kyso_bin());
    c.env_remove("KYSO_PIN")
        .env_remove("KYSO_PKCS11_MODULE")
        .env_remove("SOFTHSM2_CONF")
        .stdin(std::process::Stdio::null());
    c
}

/// The demo made once for this nextest run and this `kyso` binary (by the first test process
/// that needs it; a process that loses the race to put its own in place uses the winner's),
/// under the system's temporary directory. None outside nextest (`cargo test`: every demo is
/// made afresh) or when it cannot be made (then [`Demo::fresh`] says why).
fn run_template() -> Option<PathBuf> {
    use sha2::Digest;
    let run = std::env::var("NEXTEST_RUN_ID").ok()?;
    let bin = kyso_bin();
    let meta = std::fs::metadata(bin).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let key = sha2::Sha256::digest(format!("{run}\n{bin}\n{mtime}\n{}", meta.len()));
    let root = std::env::temp_dir().join("kyso-test-demos");
    let dir = root.join(hex_of(&key[..8]));
    if dir.join("softhsm2.conf").is_file() {
        return Some(dir);
    }
    std::fs::create_dir_all(&root).ok()?;
    // Earlier runs' templates (a day old) go.
    for e in std::fs::read_dir(&root).ok()?.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(86_400));
        if old {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let new = tempfile::Builder::new()
        .prefix(".new-")
        .tempdir_in(&root)
        .ok()?;
    let made = kyso_cmd()
        .args(["token", "init-demo"])
        .arg(new.path())
        .output()
        .ok()?;
    if !made.status.success() {
        return None;
    }
    // A rename onto a directory another process put there first fails: theirs is used.
    let _ = std::fs::rename(new.path(), &dir);
    dir.join("softhsm2.conf").is_file().then_some(dir)
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Copy a demo's files into `to` (an empty directory), modes kept, its SoftHSM2 configuration
/// pointed at the copy's token directory (the one file that names a path).
fn copy_demo(from: &Path, to: &Path) {
    fn copy_tree(from: &Path, to: &Path) {
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let (src, dst) = (e.path(), to.join(e.file_name()));
            if e.file_type().unwrap().is_dir() {
                std::fs::create_dir(&dst).unwrap();
                copy_tree(&src, &dst);
                std::fs::set_permissions(&dst, e.metadata().unwrap().permissions()).unwrap();
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    copy_tree(from, to);
    let conf = to.join("softhsm2.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let tokens = to.join("tokens");
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("directories.tokendir") {
            out.push_str(&format!("directories.tokendir = {}", tokens.display()));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(
        out.contains(&tokens.display().to_string()),
        "the demo's softhsm2.conf names no token directory: {text}"
    );
    std::fs::write(&conf, out).unwrap();
}

impl Demo {
    /// A demo token of its own: for the first demo a test process asks for under nextest, a
    /// file copy of one `kyso token init-demo` made once per test run ([`run_template`]);
    /// for every later one, [`Demo::fresh`]. So the demos of one test never share keys (a
    /// test may make a second demo to stand for another agency or a foreign CA), while the
    /// suite generates its RSA keys once instead of once per test: SoftHSM2's RSA key
    /// generation was a fifth of the suite's CPU (docs/build.md).
    pub fn new() -> Demo {
        static FIRST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
        if FIRST.swap(false, std::sync::atomic::Ordering::SeqCst) {
            if let Some(t) = run_template() {
                let dir = tempfile::tempdir().unwrap();
                copy_demo(&t, dir.path());
                return Demo { dir };
            }
        }
        Demo::fresh()
    }

    /// `kyso token init-demo` into a fresh temporary directory: new keys.
    pub fn fresh() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let r: Run = kyso_cmd()
            .args(["token", "init-demo"])
            .arg(dir.path())
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "init-demo failed: {}\n{}", r.stdout, r.stderr);
        Demo { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf(&self) -> PathBuf {
        self.path().join("softhsm2.conf")
    }

    pub fn pin_file(&self) -> PathBuf {
        self.path().join("user.pin")
    }

    pub fn pin(&self) -> String {
        std::fs::read_to_string(self.pin_file())
            .unwrap()
            .trim()
            .to_string()
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.path().join("ca.pem")
    }

    /// A `kyso` command pointed at this demo token.
    pub fn cmd(&self) -> Command {
        let mut c = kyso_cmd();
        c.env("SOFTHSM2_CONF", self.conf());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd().args(args).output().unwrap().into()
    }

    /// Run with the demo PIN file.
    pub fn run_pin(&self, args: &[&str]) -> Run {
        let pin = self.pin_file();
        self.cmd()
            .args(args)
            .arg("--pin-file")
            .arg(&pin)
            .output()
            .unwrap()
            .into()
    }

    /// OpenSC's `pkcs11-tool` on the demo token (its module and label given), which must
    /// succeed: objects written as another tool writes them, with or without `--login`.
    pub fn pkcs11_tool(&self, args: &[&str]) {
        succeeded(
            Command::new("pkcs11-tool")
                .env("SOFTHSM2_CONF", self.conf())
                .args([
                    "--module",
                    "/usr/lib/softhsm/libsofthsm2.so",
                    "--token-label",
                    "kyso-dev",
                ])
                .args(args),
        );
    }

    /// Put a private key (PEM, PKCS#8) and its certificate on the demo token under `label` and
    /// `id` (hex), as a token from a CA carries them: `softhsm2-util --import`, then `kyso
    /// token import-cert`.
    pub fn import_key(&self, label: &str, id: &str, key: &Path, cert: &Path) {
        succeeded(
            Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", self.conf())
                .arg("--import")
                .arg(key)
                .args(["--token", "kyso-dev", "--label", label, "--id", id])
                .args(["--pin", &self.pin()]),
        );
        let r = self.run_pin(&[
            "token",
            "import-cert",
            "--token",
            "pkcs11:token=kyso-dev",
            "--label",
            label,
            "--id",
            id,
            cert.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    /// Set token flags the way a real token does after failed logins (SoftHSM2 keeps them in
    /// its token file as CKA_VENDOR_DEFINED 0x8000534B, a big-endian CK_ULONG).
    /// Sign each fixture PDF in `files` on the demo token's RSA key (`kyso sign`, PAdES); the
    /// signed files' bytes, in the same order.
    pub fn sign_fixtures(&self, files: &[&str]) -> Vec<Vec<u8>> {
        files
            .iter()
            .map(|f| {
                let p = self.path().join(f);
                std::fs::copy(fixture(f), &p).unwrap();
                let r = self.run_pin(&["sign", "--key", RSA_KEY, p.to_str().unwrap()]);
                assert_eq!(r.code, 0, "{}", r.stderr);
                std::fs::read(self.path().join(f.replace(".pdf", ".signed.pdf"))).unwrap()
            })
            .collect()
    }

    /// Sign fixture `file` on the demo token's `key` as CAdES, detached (`kyso sign --format
    /// cades`): the fixture's bytes and its `.p7s`.
    pub fn sign_detached(&self, file: &str, key: &str) -> (Vec<u8>, Vec<u8>) {
        let p = self.path().join(file);
        std::fs::copy(fixture(file), &p).unwrap();
        let r = self.run_pin(&[
            "sign",
            "--key",
            key,
            "--format",
            "cades",
            p.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let sig = std::fs::read(self.path().join(format!("{file}.p7s"))).unwrap();
        (std::fs::read(&p).unwrap(), sig)
    }

    /// A validator that trusts the demo CA, as an archive's ingest of the demo's signatures.
    pub fn validator(&self) -> kyso_verify::Validator {
        kyso_verify::Validator {
            anchors: kyso_verify::x509::load_certificates(&std::fs::read(self.ca_pem()).unwrap())
                .unwrap(),
            ..Default::default()
        }
    }

    pub fn set_token_flags(&self, set: u64) {
        let tokens = self.path().join("tokens");
        for entry in std::fs::read_dir(tokens).unwrap() {
            let p = entry.unwrap().path().join("token.object");
            let mut b = std::fs::read(&p).unwrap();
            let tag = hex_bytes("000000008000534b0000000000000002");
            let i = b
                .windows(tag.len())
                .position(|w| w == tag)
                .expect("token flags attribute in SoftHSM2 token file");
            let at = i + tag.len();
            let v = u64::from_be_bytes(b[at..at + 8].try_into().unwrap()) | set;
            b[at..at + 8].copy_from_slice(&v.to_be_bytes());
            std::fs::write(&p, b).unwrap();
        }
    }
}

pub fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Run a tool we did not write that must succeed (its stderr shown when it does not).
pub fn succeeded(c: &mut Command) -> std::process::Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        c.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A new P-256 key by OpenSSL at `key`; with `public`, its public key (PEM) there too.
#[allow(dead_code)]
pub fn openssl_ec_key(key: &Path, public: Option<&Path>) {
    succeeded(
        Command::new("openssl")
            .args([
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ])
            .arg(key),
    );
    if let Some(p) = public {
        succeeded(
            Command::new("openssl")
                .args(["ec", "-pubout", "-in"])
                .arg(key)
                .arg("-out")
                .arg(p),
        );
    }
}

pub fn openssl(args: &[&str]) -> Run {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl on PATH")
        .into()
}

pub const RSA_KEY: &str = "pkcs11:token=kyso-dev;object=signer-rsa";
/// The demo token's internal TSA key.
pub const TSA_KEY: &str = "pkcs11:token=kyso-dev;object=tsa";
pub const EC_KEY: &str = "pkcs11:token=kyso-dev;object=signer-ec";
/// CKF_USER_PIN_FINAL_TRY and CKF_USER_PIN_LOCKED (PKCS#11 v2.40 §5.3, CK_TOKEN_INFO flags).
pub const CKF_USER_PIN_FINAL_TRY: u64 = 0x0002_0000;
pub const CKF_USER_PIN_LOCKED: u64 = 0x0004_0000;

/// `kyso verify --offline --json` of `pdf` against the trust anchor `trust`.
pub fn verified(demo: &Demo, pdf: &Path, trust: &Path) -> serde_json::Value {
    demo.run(&[
        "verify",
        pdf.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
        "--offline",
        "--json",
    ])
    .json()
}

/// A file of tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// pyHanko's CLI: $KYSO_PYHANKO, else the venv deploy/test makes, else PATH.
pub fn pyhanko() -> PathBuf {
    if let Some(p) = std::env::var_os("KYSO_PYHANKO") {
        return p.into();
    }
    let venv = PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/kyso/venv/bin/pyhanko");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("pyhanko")
    }
}

/// `pyhanko sign validate` against the demo root, machine-readable: its exit status and one
/// line per signature, `field:fingerprint:INTACT:TRUSTED,...`.
pub fn pyhanko_validate(demo: &Demo, pdf: &Path) -> (i32, Vec<String>) {
    pyhanko_validate_with(demo, pdf, &[])
}

/// [`pyhanko_validate`] with further options of `pyhanko sign validate`.
pub fn pyhanko_validate_with(demo: &Demo, pdf: &Path, options: &[&str]) -> (i32, Vec<String>) {
    let out = Command::new(pyhanko())
        .args(["sign", "validate"])
        .args(options)
        .args(["--no-revocation-check", "--trust-replace", "--trust"])
        .arg(demo.ca_pem())
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("pyhanko not runnable ({e}); deploy/test installs it"));
    let text = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        text.lines()
            .filter(|l| l.starts_with("Signature"))
            .map(str::to_string)
            .collect(),
    )
}

/// `openssl cms -verify` of a DER CMS against the demo root; detached when `content` is given.
pub fn openssl_cms_verify(demo: &Demo, sig: &Path, content: Option<&Path>) -> Run {
    let ca = demo.ca_pem();
    let mut args = vec![
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        sig.to_str().unwrap(),
        "-CAfile",
        ca.to_str().unwrap(),
        "-out",
        "/dev/null",
    ];
    if let Some(c) = content {
        args.extend_from_slice(&["-content", c.to_str().unwrap()]);
    }
    openssl(&args)
}

/// The document code of permit `i` in the export tests' archives.
pub fn permit_code(i: u64) -> String {
    format!("001099{i:06}.GIAY_PHEP")
}

/// Permit `i` as a one-stop-shop clerk archives it (code, title, agency, issue date).
pub fn permit(i: u64, document: Vec<u8>) -> kyso_archive::Ingest {
    kyso_archive::Ingest {
        document,
        metadata: kyso_archive::Metadata {
            code: permit_code(i),
            title: Some(format!("Giấy phép số {i}")),
            agency: Some("UBND huyện Hoài Đức".into()),
            issue_date: Some("2026-11-20".into()),
            ..Default::default()
        },
        user: "canbo.motcua".into(),
        ..Default::default()
    }
}

/// Runs the script tests/hostile/`script` with kyso's Python (pyHanko's venv) and `args`; it
/// must succeed.
pub fn hostile(script: &str, args: &[&std::ffi::OsStr]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(script);
    let r: Run = Command::new(pyhanko().with_file_name("python"))
        .arg(path)
        .args(args)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{script} {args:?}: {}", r.stderr);
}

/// Apache PDFBox Preflight (Debian libpdfbox2-java; deploy/test installs it), a PDF/A-1b
/// validator (ISO 19005-1) we did not write: `Ok` when it finds `pdf` valid, else its errors.
pub fn preflight_pdfa1b(pdf: &Path) -> Result<(), String> {
    let jars = [
        "preflight",
        "pdfbox2",
        "fontbox2",
        "xmpbox",
        "commons-logging",
        "javax.activation",
        "jaxb-api",
    ];
    let cp: Vec<String> = jars
        .iter()
        .map(|j| format!("/usr/share/java/{j}.jar"))
        .collect();
    for j in &cp {
        assert!(
            Path::new(j).exists(),
            "{j} missing; deploy/test installs it"
        );
    }
    let out = Command::new("java")
        .arg("-cp")
        .arg(cp.join(":"))
        .arg("org.apache.pdfbox.preflight.Validator_A1b")
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("java not runnable ({e}); deploy/test installs it"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("is a valid PDF/A-1b file") {
        Ok(())
    } else {
        Err(text)
    }
}

/// Ghostscript's pdfwrite making a one-page result, a heading and a scan-like image: with
/// `pdfa` Some(part), as PDF/A-`part`b (its own PDFA_def.ps, with the RGB profile it ships as
/// the output intent); with None, as plain PDF.
pub fn ghostscript_page(dir: &Path, name: &str, pdfa: Option<u8>) -> std::path::PathBuf {
    let row: String = (0..60).map(|i| format!("{:02X}", i * 4)).collect();
    let ps = dir.join(format!("{name}.ps"));
    std::fs::write(
        &ps,
        format!(
            "%!PS\n<< /PageSize [595 842] >> setpagedevice\n/Times-Roman findfont 16 scalefont setfont\n\
             72 760 moveto (UBND TINH DEMO - GIAY CHUNG NHAN) show\n\
             72 736 moveto (So 123/GCN, cap ngay 04/12/2026) show\n\
             gsave 72 420 translate 300 200 scale\n60 40 8 [60 0 0 -40 0 40] {{<{row}>}} image\ngrestore\nshowpage\n"
        ),
    )
    .unwrap();
    let out = dir.join(format!("{name}.pdf"));
    let mut gs = Command::new("gs");
    gs.args([
        "-q",
        "-dBATCH",
        "-dNOPAUSE",
        "-dNOOUTERSAVE",
        "-sDEVICE=pdfwrite",
    ])
    .arg(format!("-sOutputFile={}", out.display()))
    // The document's dates with an offset: Preflight reads Ghostscript's UTC form
    // (`Z00'00'`) as differing from the XMP's.
    .env("TZ", "ICT-7");
    if let Some(part) = pdfa {
        let gs_dir = std::fs::read_dir("/usr/share/ghostscript")
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.join("lib/PDFA_def.ps").exists())
            .expect("Ghostscript's PDFA_def.ps");
        let icc = gs_dir.join("iccprofiles/default_rgb.icc");
        let def = std::fs::read_to_string(gs_dir.join("lib/PDFA_def.ps"))
            .unwrap()
            .replace("(srgb.icc)", &format!("({})", icc.display()));
        let def_path = dir.join(format!("{name}.PDFA_def.ps"));
        std::fs::write(&def_path, def).unwrap();
        gs.arg(format!("-dPDFA={part}"))
            .args([
                "-dPDFACompatibilityPolicy=1",
                "-sColorConversionStrategy=RGB",
                "-sProcessColorModel=DeviceRGB",
            ])
            .arg(&def_path);
    }
    let r: Run = gs.arg(&ps).output().unwrap().into();
    assert_eq!(r.code, 0, "gs: {}{}", r.stdout, r.stderr);
    out
}

/// A small tmpfs, unmounted when dropped.
pub struct SmallDisk(PathBuf);

impl SmallDisk {
    pub fn new(dir: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }

    /// Grow (or shrink) the file system to `size`: the operator freeing space.
    pub fn resize(&self, size: &str) {
        let ok = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {} size={size}", self.0.display());
    }

    /// A tmpfs of `size` in the demo's directory, and where it is mounted.
    pub fn under(demo: &Demo, size: &str) -> (SmallDisk, PathBuf) {
        let mnt = demo.path().join("small");
        let Some(disk) = SmallDisk::new(&mnt, size) else {
            panic!("mounting a tmpfs needs root (CI runs as root); cannot stage a full disk here");
        };
        (disk, mnt)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
