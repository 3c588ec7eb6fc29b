// The verification page as a person uses it, in Debian's chromium driven by playwright-core:
// tests/web_page.rs starts the real service, prepares the documents and the archive, and runs
// this script with what it needs in KYSO_WEB_* variables. Every check throws on failure (exit
// 1); the last line printed is a JSON summary.
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const require = createRequire(path.join(env("KYSO_NODE_MODULES"), "noop.js"));
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const BASE = env("KYSO_URL");
const SHOTS = env("KYSO_WEB_SHOTS");
const CSP = env("KYSO_WEB_EXPECT_CSP");
const file = (k) => env(k);
const done = [];
const check = (what) => done.push(what);

const browser = await chromium.launch({ executablePath: process.env.KYSO_CHROMIUM || "/usr/bin/chromium" });
const problems = [];

async function open(viewport, mobile) {
  const context = await browser.newContext({
    viewport,
    isMobile: mobile,
    hasTouch: mobile,
    deviceScaleFactor: 1,
    ignoreHTTPSErrors: true, // the test's own server CA, made per run
    locale: "vi-VN",
    timezoneId: "Europe/Paris", // the page shows +07:00 whatever the browser's zone
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    // (The browser logs every answer that is not 2xx: the 401 of sign-in, the 422 of 5b.)
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of (401|422)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const resp = await page.goto(BASE + "/");
  assert.equal(resp.status(), 200);
  const h = resp.headers();
  assert.equal(h["content-security-policy"], CSP, "the page's CSP");
  assert.ok(!/unsafe-/.test(h["content-security-policy"]));
  assert.equal(h["x-frame-options"], "DENY");
  assert.equal(h["x-content-type-options"], "nosniff");
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

async function axe(page, label) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe-core on ${label}`,
  );
  check(`axe-core: no serious or critical violation (${label}; ${r.violations.length} minor)`);
}

/** Choose files (document, and a detached signature) with the file inputs, then wait for the verdict. */
async function verifyFiles(page, doc, sig, code) {
  const before = Number((await page.getAttribute("body", "data-runs")) || 0);
  await page.fill("#code", code || "");
  await page.setInputFiles("#sig", sig ? [sig] : []);
  await page.setInputFiles("#doc", [doc]);
  const name = path.basename(doc);
  await page.waitForFunction(([n, f]) => Number(document.body.dataset.runs || 0) > n && document.body.dataset.file === f, [before, name]);
  return verdict(page);
}

async function verdict(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    live: document.getElementById("live").textContent,
    indication: document.querySelector("#verdict [data-indication]").dataset.indication,
    verdict: document.getElementById("verdict").innerText,
    signatures: Array.from(document.querySelectorAll("#signatures article"), (a) => ({
      indication: a.dataset.indication,
      heading: a.querySelector("h3").textContent,
      items: Array.from(a.querySelectorAll(".items dt"), (dt) => [dt.textContent, dt.nextElementSibling.textContent]),
      changes: a.querySelector(".changes") ? a.querySelector(".changes").innerText : null,
      warning: a.querySelector(".warn") ? a.querySelector(".warn").textContent : null,
      reason: a.querySelector(".reason") ? a.querySelector(".reason").textContent : null,
      anchor: a.querySelector(".anchor dd") ? a.querySelector(".anchor dd").textContent : null,
    })),
    archive: document.getElementById("archive-status").dataset.archive,
    archiveText: document.getElementById("archive-status").textContent,
    proof: document.getElementById("proof").dataset.proof || null,
    proofText: document.getElementById("proof").innerText,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  }));
}

const VI_TIME = /\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d \+07:00/;
const EN_TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+07:00/;
const ITEMS_VI = [
  "Tình trạng chữ ký",
  "Tổ chức cấp chứng thư số",
  "Người ký",
  "Tổ chức cung cấp dịch vụ chứng thực chữ ký số",
  "Thời gian ký",
  "Nội dung còn toàn vẹn (không bị thay đổi sau khi ký)",
  "Chứng thư số còn hiệu lực tại thời điểm ký",
  "Thời hạn hiệu lực của chứng thư số",
];
const ITEMS_EN = ["Signature status", "Certificate issuer", "Signer", "Certification service provider", "Signing time", "Content intact (unchanged since signing)", "Certificate valid when signed", "Certificate validity period"];

function eightItems(sig, labels, yes) {
  assert.deepEqual(
    sig.items.map(([k]) => k),
    labels.map((l, i) => `${i + 1}. ${l}`),
  );
  assert.equal(sig.items[5][1], yes, "integrity");
}

async function clerk(method, p, body) {
  const r = await fetch(BASE + p, {
    method,
    headers: { Authorization: "Bearer " + env("KYSO_WEB_CLERK_TOKEN"), "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${method} ${p}: ${await r.text()}`);
}

/** Drop files on the drop zone as a person drags them from the file manager. */
async function dropFiles(page, paths, docName) {
  const before = Number((await page.getAttribute("body", "data-runs")) || 0);
  await page.fill("#code", "");
  const files = paths.map((p) => ({ name: path.basename(p), bytes: Array.from(fs.readFileSync(p)) }));
  const dt = await page.evaluateHandle((list) => {
    const d = new DataTransfer();
    for (const f of list) d.items.add(new File([new Uint8Array(f.bytes)], f.name));
    return d;
  }, files);
  await page.dispatchEvent("#drop", "dragover", { dataTransfer: dt });
  await page.dispatchEvent("#drop", "drop", { dataTransfer: dt });
  await page.waitForFunction(([n, f]) => Number(document.body.dataset.runs || 0) > n && document.body.dataset.file === f, [before, docName]);
  return verdict(page);
}

if (process.env.KYSO_WEB_MODE === "private") {
  // Public verification off: the page says so, offers the token sign-in, and works with one.
  const page = await open({ width: 1280, height: 900 }, false);
  assert.match(await page.textContent("#access"), /không cho xác minh công khai/);
  assert.ok(await page.isVisible("#token-box"));
  await page.setInputFiles("#doc", [file("KYSO_WEB_SIGNED")]);
  await page.waitForFunction(() => document.body.dataset.runs === "1");
  assert.match(await page.textContent("#live"), /Không xác minh được: cần đăng nhập/);
  assert.ok(await page.isHidden("#result"));
  check("without credentials: the page says sign-in is needed");
  await page.click("#token-box summary");
  await page.fill("#token", env("KYSO_WEB_VERIFIER_TOKEN"));
  await page.click("#token-form button");
  await page.waitForFunction(() => /verifier-script/.test(document.getElementById("access").textContent));
  assert.equal(await page.textContent("#access"), "Đã đăng nhập: verifier-script (verifier).");
  const v = await verifyFiles(page, file("KYSO_WEB_SIGNED"), null, "");
  assert.equal(v.indication, "TOTAL-PASSED");
  check(`with an agency's token: ${await page.textContent("#access")} ${v.live}`);
  await axe(page, "signed in with a token");
  await browser.close();
  assert.deepEqual(problems, []);
  for (const c of done) console.log("ok - " + c);
  console.log(JSON.stringify({ ok: true, checks: done.length }));
  process.exit(0);
}

// ---- desktop, Vietnamese ----
const page = await open({ width: 1280, height: 900 }, false);
assert.equal(await page.getAttribute("html", "lang"), "vi");
assert.equal(await page.textContent("h1"), "Xác minh chữ ký số");
assert.match(await page.textContent("#access"), /công khai/);
assert.equal(await page.getAttribute("#lang", "lang"), "en");
check("the page opens in Vietnamese, public verification on, CSP and security headers as expected");
await axe(page, "the empty page");

// keyboard: the skip link first, then the file input of the drop zone is reached by Tab, with a visible focus
await page.keyboard.press("Tab");
assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
let reached = false;
for (let i = 0; i < 12 && !reached; i++) {
  await page.keyboard.press("Tab");
  reached = await page.evaluate(() => document.activeElement.id === "doc");
}
assert.ok(reached, "Tab reaches the document's file input");
const focus = await page.evaluate(() => {
  const s = getComputedStyle(document.activeElement);
  const z = getComputedStyle(document.getElementById("drop"));
  return { outline: s.outlineStyle, width: s.outlineWidth, zone: z.borderTopStyle };
});
assert.equal(focus.outline, "solid");
assert.equal(focus.zone, "solid", "the drop zone shows that it holds the focus");
check("keyboard: skip link, then the drop zone's file input, with a visible focus");

// 1. signed and archived: valid, held and valid, the proof checked in the page
let v = await verifyFiles(page, file("KYSO_WEB_SIGNED"), null, env("KYSO_WEB_CODE"));
assert.equal(v.indication, "TOTAL-PASSED");
assert.match(v.live, /HỢP LỆ/);
assert.equal(v.signatures.length, 1);
eightItems(v.signatures[0], ITEMS_VI, "có");
assert.match(v.signatures[0].items[0][1], /^HỢP LỆ \(TOTAL-PASSED\)$/);
assert.match(v.signatures[0].items[4][1], VI_TIME);
assert.match(v.signatures[0].items[7][1], VI_TIME);
assert.match(v.signatures[0].items[2][1], /Nguyễn Văn An/);
assert.ok(v.signatures[0].anchor, "the trust anchor the path reached is named");
assert.equal(v.signatures[0].reason, null, "a valid signature has no reason line");
assert.equal(v.archive, "valid");
assert.match(v.archiveText, new RegExp(`bản ghi số ${env("KYSO_WEB_RECORD")}\\): còn hiệu lực`));
assert.equal(v.proof, "verified", v.proofText);
assert.match(v.proofText, /kiểm tra ngay trong trình duyệt/);
check(`signed PDF: ${v.live.trim()} | ${v.archiveText} | ${v.proofText.split("\n")[0]}`);
await page.screenshot({ path: path.join(SHOTS, "verify-valid-desktop.png"), fullPage: true });
await axe(page, "a valid verdict (vi)");

// the same in English
await page.click("#lang");
v = await verdict(page);
assert.equal(v.lang, "en");
assert.match(v.live, /VALID/);
eightItems(v.signatures[0], ITEMS_EN, "yes");
assert.match(v.signatures[0].items[4][1], EN_TIME);
assert.match(v.archiveText, /holds this exact document .*: valid\./);
assert.match(v.proofText, /Proof checked in this browser/);
assert.equal(await page.textContent("#lang"), "Tiếng Việt");
assert.equal(await page.getAttribute("#lang", "lang"), "vi");
assert.equal(await page.textContent("h1"), "Verify a digital signature");
check(`English: ${v.live.trim()} | ${v.archiveText}`);
await axe(page, "a valid verdict (en)");
await page.screenshot({ path: path.join(SHOTS, "verify-valid-en.png"), fullPage: true });
await page.click("#lang");
assert.equal(await page.getAttribute("html", "lang"), "vi");

// 2. tampered (one byte of the signed range changed): invalid, integrity no, not in the archive
v = await verifyFiles(page, file("KYSO_WEB_TAMPERED"), null, env("KYSO_WEB_CODE"));
assert.equal(v.indication, "TOTAL-FAILED");
assert.match(v.live, /KHÔNG HỢP LỆ/);
eightItems(v.signatures[0], ITEMS_VI, "không");
// Why, in Vietnamese; what was never checked is not said to be missing.
assert.match(v.signatures[0].reason, /nội dung đã bị thay đổi sau khi ký/);
assert.match(v.signatures[0].items[1][1], /không kiểm tra, vì chữ ký đã được xác định là không hợp lệ/);
assert.doesNotMatch(v.signatures[0].items[1][1], /đường dẫn tin cậy/);
assert.equal(v.archive, "absent");
assert.match(v.archiveText, /không có bản lưu nào của đúng tài liệu này/);
assert.equal(v.proof, null);
check(`tampered PDF: ${v.live.trim()} | ${v.archiveText}`);
await page.screenshot({ path: path.join(SHOTS, "verify-tampered-desktop.png"), fullPage: true });
await axe(page, "an invalid verdict");

// 3. co-signed: each signature, the first one's later revision judged
v = await verifyFiles(page, file("KYSO_WEB_COSIGNED"), null, "");
assert.equal(v.indication, "TOTAL-PASSED");
assert.equal(v.signatures.length, 2);
for (const s of v.signatures) eightItems(s, ITEMS_VI, "có");
assert.match(v.signatures[0].changes, /chỉ được bổ sung những gì chữ ký cho phép/);
assert.match(v.signatures[1].changes, /không thay đổi sau chữ ký này/);
// No code given: the archive is asked by the document's hash alone, and holds it.
assert.equal(v.archive, "valid");
assert.match(v.archiveText, new RegExp(`bản ghi số ${env("KYSO_WEB_SUCCESSOR")}\\): còn hiệu lực`));
assert.equal(v.proof, "verified", v.proofText);
check(`co-signed PDF: ${v.signatures.map((s) => s.heading + " " + s.indication).join(", ")}`);
await page.screenshot({ path: path.join(SHOTS, "verify-cosigned-desktop.png"), fullPage: true });

// 3b. a B-LTA PDF of the corpus (pyHanko's): its document time-stamp is headed and itemised as
// a time-stamp and its TSA, not as a signer (helper 178: the TSA was "Người ký").
v = await verifyFiles(page, file("KYSO_WEB_DOC_TIMESTAMP"), null, "");
assert.equal(v.signatures.length, 2);
eightItems(v.signatures[0], ITEMS_VI, "có");
assert.match(v.signatures[1].heading, /^Dấu thời gian 2, đóng trên toàn bộ tài liệu/);
assert.deepEqual(
  v.signatures[1].items.map(([k]) => k),
  ["Tình trạng dấu thời gian", ...ITEMS_VI.slice(1, 2), "Tổ chức cung cấp dịch vụ cấp dấu thời gian", ITEMS_VI[3], "Thời điểm ghi trong dấu thời gian", ITEMS_VI[5], "Chứng thư số của tổ chức cung cấp dịch vụ cấp dấu thời gian còn hiệu lực tại thời điểm ở mục 5", ITEMS_VI[7]].map((l, i) => `${i + 1}. ${l}`),
);
check(`document time-stamp: ${v.signatures[1].heading}, items ${v.signatures[1].items.map(([k]) => k).join(" | ")}`);

// 4. a detached CAdES signature over a file: both dropped at once, the signature first
v = await dropFiles(page, [file("KYSO_WEB_DETACHED_SIG"), file("KYSO_WEB_DETACHED_DOC")], path.basename(file("KYSO_WEB_DETACHED_DOC")));
assert.equal(v.indication, "TOTAL-PASSED");
assert.match(await page.textContent("#sig-chosen"), /ket-qua\.xml\.p7s/);
assert.match(await page.textContent("#doc-chosen"), /ket-qua\.xml \(/);
check(`detached signature, both files dropped on the zone: ${v.live.trim()}`);

// 4b. a signer's name with a right-to-left override, a zero-width space and a line separator,
// under a CA the service does not trust: the name is shown with visible escapes (it read as
// another name), and the issuer is marked as not verified.
v = await verifyFiles(page, file("KYSO_WEB_BIDI_DOC"), file("KYSO_WEB_BIDI_SIG"), "");
assert.equal(v.indication, "INDETERMINATE");
const signerShown = v.signatures[0].items[2][1];
assert.ok(!/[\u202e\u200b\u2028]/.test(signerShown), signerShown);
assert.match(signerShown, /Nguyen Van A\\u\{202e\}nahT nahP\\u\{202c\}\\u\{200b\}\\u\{2028\}x/);
assert.match(v.signatures[0].items[1][1], /chưa được kiểm chứng/);
assert.match(v.signatures[0].items[3][1], /chưa được kiểm chứng/);
assert.match(v.signatures[0].reason, /không xác lập được đường dẫn tin cậy/);
check(`a name with hidden characters: ${signerShown}`);

// 4c. a file name with a right-to-left override, a Hangul filler and 300 letters in a row
// (helper 173): the "chosen" line and the live message show the hidden ones as escapes — the
// override turned the page's own "(… byte)" around — and the long name wraps, not the page.
{
  const before = Number((await page.getAttribute("body", "data-runs")) || 0);
  const name = `ket-qua\u202efdp.\u3164${"x".repeat(300)}.pdf`;
  await page.fill("#code", "");
  await page.setInputFiles("#sig", []);
  await page.setInputFiles("#doc", [{ name, mimeType: "application/pdf", buffer: fs.readFileSync(file("KYSO_WEB_SIGNED")) }]);
  await page.waitForFunction(([n, f]) => Number(document.body.dataset.runs || 0) > n && document.body.dataset.file === f, [before, name]);
  v = await verdict(page);
  const chosen = await page.textContent("#doc-chosen");
  assert.ok(!/[\u202e\u3164]/.test(chosen), chosen);
  assert.match(chosen, /ket-qua\\u\{202e\}fdp\.\\u\{3164\}x+\.pdf \(/);
  assert.equal(v.indication, "TOTAL-PASSED");
  assert.ok(v.overflow <= 0, `the page is ${v.overflow} px wider than the window`);
  check(`a file name with hidden characters: ${chosen.slice(0, 40)}…`);
}

// 5. a page changed after signing: the change is named
v = await verifyFiles(page, file("KYSO_WEB_CHANGED"), null, "");
assert.equal(v.indication, "TOTAL-FAILED");
assert.match(v.signatures[0].changes, /Tài liệu đã bị thay đổi sau chữ ký này/);
assert.equal(v.signatures[0].items[5][1], "không", "integrity of a document changed after signing");
// Its reason is the change, not a file that cannot be read (helper 178).
assert.doesNotMatch(v.signatures[0].reason || "", /không đúng định dạng/);
assert.equal(v.archive, "absent");
assert.match(v.archiveText, /không giữ bản tài liệu này/);
check(`changed after signing: ${v.signatures[0].changes.replace(/\s+/g, " ")}`);

// 5b. a document whose checking needs more memory than the service allows: said, in
// Vietnamese, as no verdict (the service's message is English)
{
  const before = Number((await page.getAttribute("body", "data-runs")) || 0);
  await page.fill("#code", "");
  await page.setInputFiles("#sig", []);
  await page.setInputFiles("#doc", [file("KYSO_WEB_COSTLY")]);
  // Clearing the signature field verifies the page's last document again: wait for this one's
  // answer, not that one's (CI saw the earlier run finish while this one was still asked).
  const name = path.basename(file("KYSO_WEB_COSTLY"));
  await page.waitForFunction(([n, f]) => Number(document.body.dataset.runs || 0) > n && document.body.dataset.file === f, [before, name]);
  const live = await page.textContent("#live");
  assert.match(live, /Không xác minh được: việc kiểm tra tài liệu này cần nhiều bộ nhớ hơn máy chủ cho phép/);
  assert.ok(await page.isHidden("#result"), "no verdict shown");
  check(`too much memory: ${live.trim()}`);
}

// 6. the archive's record superseded, then revoked, through the API as a clerk
await clerk("PUT", `/v1/records/${env("KYSO_WEB_RECORD")}/status`, { state: "superseded_by", record: Number(env("KYSO_WEB_SUCCESSOR")) });
v = await verifyFiles(page, file("KYSO_WEB_SIGNED"), null, env("KYSO_WEB_CODE"));
assert.equal(v.archive, "superseded");
assert.match(v.archiveText, new RegExp(`đã được thay thế bởi bản ghi số ${env("KYSO_WEB_SUCCESSOR")}`));
assert.equal(v.proof, "verified", v.proofText);
check(`superseded: ${v.archiveText}`);
await clerk("PUT", `/v1/records/${env("KYSO_WEB_RECORD")}/status`, { state: "revoked", reason: "cấp nhầm" });
v = await verifyFiles(page, file("KYSO_WEB_SIGNED"), null, env("KYSO_WEB_CODE"));
assert.equal(v.archive, "revoked");
// The public sees that it was revoked, not the clerk's words (they may name a person).
assert.match(v.archiveText, /đã bị thu hồi/);
assert.doesNotMatch(v.archiveText, /cấp nhầm/);
assert.equal(v.proof, "verified", v.proofText);
check(`revoked: ${v.archiveText}`);
await page.click("#lang");
v = await verdict(page);
assert.match(v.archiveText, /: revoked\./);
check(`revoked, in English: ${v.archiveText}`);
// Record numbers are for agencies: the public page says so rather than walking records.
v = await verifyFiles(page, file("KYSO_WEB_SIGNED"), null, env("KYSO_WEB_RECORD"));
assert.equal(v.archive, "error");
assert.match(v.archiveText, /record numbers are for agencies/);
check(`a record number from the public: ${v.archiveText}`);

// ---- a phone, 375 px wide ----
const phone = await open({ width: 375, height: 812 }, true);
v = await verifyFiles(phone, file("KYSO_WEB_SIGNED"), null, "");
assert.equal(v.indication, "TOTAL-PASSED");
assert.ok(v.overflow <= 0, `no sideways scrolling at 375 px (${v.overflow} px too wide)`);
await phone.screenshot({ path: path.join(SHOTS, "verify-valid-phone.png"), fullPage: true });
await axe(phone, "a valid verdict at 375 px");
check("phone (375 px): the verdict fits the width");

await browser.close();
assert.deepEqual(problems, [], "no script error and no Content-Security-Policy violation in the console");
check("no script error, no CSP violation");
for (const c of done) console.log("ok - " + c);
console.log(JSON.stringify({ ok: true, checks: done.length }));
