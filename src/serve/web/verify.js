// The verification page: a document (and a detached signature) to POST /v1/verify, the
// verdict with the eight items of Circular 15/2025 per signature, and — given the document
// code or record number — whether the archive holds this exact document, its status, and its
// RFC 9162 inclusion proof checked here against the latest signed checkpoint (WebCrypto).
// The file's bytes go to the service and nowhere else; nothing of them is kept in the page.

import { t, start, onLanguage, el, fill, api, useToken, showTime, showDay, showBytes } from "/app.js";

const $ = (id) => document.getElementById(id);

/** What the page shows; never the file's bytes. */
const state = {
  access: null, // "public" | {user, roles} | "none"
  busy: null, // file name while verifying
  error: null,
  file: null, // {name, size, sha256}
  report: null,
  archive: null, // {kind: "skipped" | "checking" | "absent" | "held" | "error", ...}
  proof: null, // {ok, ...}
};

// ---- bytes ----

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(s) {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function unb64(s) {
  const bin = atob(s.trim());
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---- RFC 9162 §2.1.3.2: verifying an inclusion proof ----

async function rootFromInclusion(leaf, index, size, proof) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const one = Uint8Array.of(1);
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(one, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(one, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// ---- C2SP signed note, ECDSA P-256 (the archive's checkpoints) ----

/** DER ECDSA-Sig-Value to the 64-byte r‖s WebCrypto verifies. */
function ecdsaRaw(der) {
  let i = 0;
  const len = () => {
    let l = der[i++];
    if (l & 0x80) {
      let n = l & 0x7f;
      l = 0;
      while (n--) l = l * 256 + der[i++];
    }
    return l;
  };
  if (der[i++] !== 0x30) throw new Error("signature is not a SEQUENCE");
  len();
  const out = new Uint8Array(64);
  for (const at of [0, 32]) {
    if (der[i++] !== 0x02) throw new Error("signature is not two INTEGERs");
    let l = len();
    let v = der.subarray(i, i + l);
    i += l;
    while (v.length > 32 && v[0] === 0) v = v.subarray(1);
    if (v.length > 32) throw new Error("signature integer too long");
    out.set(v, at + 32 - v.length);
  }
  return out;
}

/** Check a checkpoint's signature with the log key; its (origin, size, root). */
async function openNote(note, key) {
  const cut = note.indexOf("\n\n");
  if (cut < 0) throw new Error("the checkpoint has no signature");
  const body = note.slice(0, cut + 1);
  const lines = body.split("\n");
  const [origin, sizeLine, rootLine] = lines;
  if (origin !== key.origin) throw new Error(`checkpoint origin ${origin} is not the log's (${key.origin})`);
  const spki = unb64(key.public_key);
  const keyId = (await sha256(spki)).subarray(0, 4);
  const pub = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  let signed = false;
  for (const line of note.slice(cut + 2).split("\n")) {
    const m = line.match(/^\u2014 (\S+) (\S+)$/);
    if (!m || m[1] !== key.key_name) continue;
    const sig = unb64(m[2]);
    if (!same(sig.subarray(0, 4), keyId)) continue;
    const raw = ecdsaRaw(sig.subarray(4));
    if (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, raw, new TextEncoder().encode(body))) signed = true;
  }
  if (!signed) throw new Error("the checkpoint's signature does not verify with the log key");
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw new Error("checkpoint size unreadable");
  return { origin, size, root: unb64(rootLine) };
}

/**
 * The archive's answer, checked: the ingest event names this document and record, its leaf
 * hash is SHA-256(0x00 ‖ event), the proof leads to the root of the signed checkpoint it came
 * with, and — when the log has grown since — to the latest checkpoint's too.
 */
async function checkProof(a, sha) {
  const event = new TextEncoder().encode(a.event);
  const leaf = await sha256(Uint8Array.of(0), event);
  if (hex(leaf) !== a.leaf_hash) throw new Error("the entry's hash is not the leaf hash given");
  const ev = JSON.parse(a.event);
  if (ev.event !== "ingest" || ev.record !== a.record || String(ev.content_sha256).toLowerCase() !== sha) {
    throw new Error("the log entry does not record this document");
  }
  const keyAnswer = await api("/v1/log/key");
  if (keyAnswer.status !== 200) throw new Error(`log key: HTTP ${keyAnswer.status}`);
  const key = keyAnswer.json;
  let cp = await openNote(a.checkpoint, key);
  if (cp.size !== a.tree_size) throw new Error("the proof is for another tree size than the checkpoint's");
  let root = await rootFromInclusion(leaf, a.leaf_index, a.tree_size, a.inclusion_proof.map(unhex));
  if (!root || !same(root, cp.root)) throw new Error("the inclusion proof does not lead to the checkpoint's root");
  const latest = await api("/v1/log/checkpoint");
  if (latest.status === 200 && latest.text !== a.checkpoint) {
    const newer = await openNote(latest.text, key);
    if (newer.size > cp.size) {
      const p = await api(`/v1/log/inclusion?leaf=${a.leaf_index}&size=${newer.size}`);
      if (p.status !== 200) throw new Error(`inclusion proof: HTTP ${p.status}`);
      root = await rootFromInclusion(leaf, a.leaf_index, newer.size, p.json.proof.map(unhex));
      if (!root || !same(root, newer.root)) throw new Error("the inclusion proof does not lead to the latest checkpoint's root");
      cp = newer;
    }
  }
  return { ok: true, leaf: a.leaf_index, size: cp.size, root: hex(cp.root), key: key.key_name, keyId: hex(await sha256(unb64(key.public_key))) };
}

// ---- talking to the service ----

function why(r) {
  if (r.status === 0) return t("page.error.network");
  if (r.status === 401) return t("page.error.auth");
  if (r.status === 403) return t("page.error.forbidden");
  if (r.status === 413) return t("page.error.large");
  if (r.status === 429 || r.status === 503) return t("page.error.busy");
  // A validation stopped at the service's limits: said in the page's language, not a verdict.
  if (r.status === 422 && r.json && r.json.error === "too_slow") return t("page.error.slow");
  if (r.status === 422 && r.json && r.json.error === "too_much_memory") return t("page.error.costly");
  return (r.json && r.json.message) || `HTTP ${r.status}`;
}

async function checkAccess() {
  const r = await api("/v1/whoami");
  if (r.status === 200 && r.json && r.json.method === "none") state.access = "public";
  else if (r.status === 200 && r.json) state.access = { user: r.json.user, roles: r.json.roles.join(", ") };
  else state.access = "none";
  $("token-box").hidden = state.access === "public";
  render();
}

function looksLikePdf(bytes) {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  return head.includes("%PDF-") && bytes[0] !== 0x30;
}

let runs = 0;
let latest = 0;

/** Count finished verifications, and say of which file (the browser test waits on them). */
function finished(name) {
  document.body.dataset.file = name;
  document.body.dataset.runs = String(++runs);
}

async function verify() {
  // A newer choice of files overtakes this one: its answers are dropped.
  const mine = ++latest;
  const current = () => mine === latest;
  const doc = $("doc").files[0];
  const sig = $("sig").files[0];
  if (!doc) {
    state.error = t("page.error.nodoc");
    render();
    finished("");
    return;
  }
  Object.assign(state, { busy: doc.name, error: null, file: null, report: null, archive: null, proof: null });
  render();
  let r;
  let sha;
  {
    // The bytes live in this block only.
    const bytes = new Uint8Array(await doc.arrayBuffer());
    sha = hex(await sha256(bytes));
    if (sig) {
      const s = new Uint8Array(await sig.arrayBuffer());
      r = await api("/v1/verify/detached", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ document: b64(bytes), signature: b64(s) }),
      });
    } else {
      r = await api("/v1/verify", {
        method: "POST",
        headers: { "Content-Type": looksLikePdf(bytes) ? "application/pdf" : "application/octet-stream" },
        body: bytes,
      });
    }
  }
  if (!current()) return;
  state.busy = null;
  if (r.status !== 200 || !r.json) {
    state.error = t("page.error", { why: why(r) });
    render();
    finished(doc.name);
    return;
  }
  state.file = { name: doc.name, size: doc.size, sha256: sha };
  state.report = r.json;
  // The archive is asked by the document's hash; a code or record number only narrows it.
  const code = $("code").value.trim();
  state.archive = { kind: "checking" };
  render();
  await checkArchive(code, sha, current);
  if (current()) finished(doc.name);
}

async function checkArchive(code, sha, current) {
  if (state.access === "public" && /^\d+$/.test(code)) {
    state.archive = { kind: "error", why: t("page.archive.record_for_agencies") };
    render();
    return;
  }
  const q = !code ? "" : /^\d+$/.test(code) ? `&record=${code}` : `&code=${encodeURIComponent(code)}`;
  const r = await api(`/v1/verify/archived?sha256=${sha}${q}`);
  if (!current()) return;
  if (r.status !== 200 || !r.json) {
    state.archive = { kind: "error", why: why(r) };
  } else if (!r.json.archived) {
    state.archive = { kind: "absent", what: code };
  } else {
    state.archive = {
      kind: "held",
      record: r.json.record,
      status: r.json.status,
      detail: r.json.status_detail || {},
      copies: r.json.copies || 1,
      agency: r.json.agency || null,
      differ: r.json.copies_differ === true,
      elsewhere: r.json.elsewhere_status || null,
      another: r.json.another_copy_decides === true,
    };
    let proof;
    try {
      proof = await checkProof(r.json, sha);
    } catch (e) {
      proof = { ok: false, why: e.message };
    }
    if (!current()) return;
    state.proof = proof;
  }
  render();
}

// ---- drawing ----

const KIND = { "TOTAL-PASSED": "passed", "TOTAL-FAILED": "failed", INDETERMINATE: "indeterminate", NO_SIGNATURE: "none" };

function verdictText(ind, sub) {
  return `${t("verdict." + ind)} (${ind}${sub ? " / " + sub : ""})`;
}

function yesNo(b) {
  return b === true ? t("word.yes") : b === false ? t("word.no") : t("word.unknown");
}

function pairs(list, cls) {
  return el("dl", { class: cls }, list.filter(Boolean).flatMap(([k, v, attrs]) => [el("dt", {}, k), el("dd", attrs || {}, v)]));
}

function signature(s, n) {
  const signer = s.signer || {};
  const facts = s.facts || {};
  const chain = s.chain || [];
  // A signature that failed on its bytes had no path built and no time judged: said so, not
  // "no path to a trusted root" (kyso-verify's report.rs writes the same).
  const stopped = s.indication === "TOTAL-FAILED" && chain.length === 0;
  const notChecked = t("word.not_checked");
  // A document time-stamp is no one's signature: headed and itemised as what it is (report.rs).
  const timeStamp = s.format === "PAdES document time-stamp";
  const time = s.timestamp
    ? timeStamp
      ? showTime(s.timestamp)
      : `${showTime(s.timestamp)} (${t("time.timestamp")})`
    : s.signing_time
      ? `${showTime(s.signing_time)} (${t("time.claimed")})`
      : stopped
        ? notChecked
        : timeStamp
          ? t("word.unknown")
          : t("word.none");
  // Items 2 and 4 are the certificate's word until a path to a trust anchor vouches for them;
  // item 7 rests on the signer's claimed time unless a time-stamp proves it, and says when
  // revocation could not be checked.
  const vouched = (v) => (facts.chain_trusted ? v : `${v} (${stopped ? notChecked : t("word.unverified")})`);
  const notes = [];
  // Status not to be had (TRY_LATER): not known whether the certificate was in force, whatever
  // its dates say (helper 178; report.rs says the same).
  const inForce = s.subindication === "TRY_LATER" && facts.valid_at_signing === true ? t("word.unknown") : yesNo(facts.valid_at_signing);
  if (typeof facts.valid_at_signing === "boolean" && !facts.time_proven) notes.push(t("word.claimed"));
  // On hold: said as such, not as a status that could not be checked (report.rs).
  if (facts.on_hold_since) notes.push(t("word.on_hold", { since: showTime(facts.on_hold_since) }));
  else if (facts.valid_at_signing === true && facts.revocation_checked === false) notes.push(t("word.revocation_unchecked"));
  // The time the status data knew, so that a stale CRL's "good" is not read as of today (report.rs).
  if (facts.valid_at_signing === true && s.subindication !== "TRY_LATER" && facts.status_as_of) notes.push(t("word.status_as_of", { at: showTime(facts.status_as_of) }));
  const items = [
    verdictText(s.indication, s.subindication),
    vouched(signer.issuer || t("word.unknown")),
    signer.subject || t("word.unknown"),
    vouched(facts.ca_body || signer.issuer || t("word.unknown")),
    time,
    yesNo(facts.integrity),
    stopped ? notChecked : notes.length ? `${inForce} (${notes.join("; ")})` : inForce,
    signer.not_before ? t("page.period", { from: showTime(signer.not_before), to: showTime(signer.not_after) }) : t("word.unknown"),
  ];
  // A format failure that is a change after signing is said as such (helper 178).
  // (Only a change the signature does not allow: report.rs's CHANGED_AFTER words.)
  const changedAfter = (s.messages || []).some((m) => m.startsWith("the document was changed after this signature"));
  // A certificate on hold is said as such, and whose, not as data not to be had (report.rs's
  // reason_key).
  const held = s.subindication === "TRY_LATER" ? facts.on_hold_since || facts.path_on_hold_since : null;
  const reasonKey =
    s.subindication === "FORMAT_FAILURE" && changedAfter
      ? "reason.CHANGED_AFTER_SIGNING"
      : held && facts.on_hold_since
        ? timeStamp
          ? "reason.TRY_LATER.TSA_ON_HOLD"
          : "reason.TRY_LATER.ON_HOLD"
        : held
          ? "reason.TRY_LATER.PATH_ON_HOLD"
          : "reason." + s.subindication;
  const reason =
    s.indication !== "TOTAL-PASSED" && s.subindication
      ? `${t("summary.reason")}: ${t(reasonKey, { since: held ? showTime(held) : "" })}`
      : null;
  const revoked = facts.revoked_at ? [t("summary.revoked_at"), showTime(facts.revoked_at)] : null;
  const label = (i) => t((timeStamp && [1, 3, 5, 7].includes(i) ? "item.ts." : "item.") + i);
  const anchor = facts.chain_trusted && chain.length ? [`${t("summary.anchor")}`, chain[chain.length - 1]] : null;
  const unreadable = !s.signer && s.subindication === "FORMAT_FAILURE";
  const heading = t(timeStamp ? "page.ts.heading" : "page.sig.heading", { n }) + (s.field ? " — " + t("page.sig.field", { field: s.field }) : "");
  const id = `sig-${n}`;
  let changes = null;
  const changed = s.changes || [];
  if (changed.length) {
    changes = [el("p", { class: "bad" }, t("page.changes.bad")), el("ul", { lang: "en" }, changed.map((c) => el("li", {}, c)))];
  } else if (s.covers_whole_document === false) {
    changes = el("p", {}, t("page.changes.allowed"));
  } else if (s.covers_whole_document === true) {
    changes = el("p", {}, t("page.changes.none"));
  }
  return el(
    "article",
    { class: `sig v-${KIND[s.indication] || "none"}`, "aria-labelledby": id, "data-indication": s.indication },
    el("h3", { id }, heading),
    unreadable
      ? el("p", { class: "bad" }, t("summary.unreadable"))
      : pairs(
          items.map((v, i) => [`${i + 1}. ${label(i + 1)}`, v, i === 0 ? { class: "status" } : {}]),
          "items",
        ),
    anchor || revoked ? pairs([anchor, revoked], "anchor") : null,
    reason ? el("p", { class: "reason" }, reason) : null,
    facts.revocation_checked === false && !stopped && !unreadable && !facts.on_hold_since ? el("p", { class: "warn" }, t("warning.revocation")) : null,
    changes ? el("div", { class: "changes" }, el("h4", {}, t("page.changes")), changes) : null,
    el(
      "details",
      {},
      el("summary", {}, t("page.details")),
      pairs(
        [
          [t("page.sig.format"), s.format],
          signer.sha256 ? [t("page.sig.fingerprint"), signer.sha256, { class: "mono" }] : null,
        ],
        "meta",
      ),
      el("ul", { lang: "en", class: "messages" }, (s.messages || []).map((m) => el("li", {}, m))),
    ),
  );
}

function elsewhereState(status) {
  switch (status) {
    case "revoked":
      return t("page.archive.elsewhere_revoked");
    case "superseded":
      return t("page.archive.elsewhere_superseded");
    case "expired":
      return t("page.archive.elsewhere_expired");
    default:
      return status;
  }
}

function archiveState(a) {
  const d = a.detail || {};
  switch (a.status) {
    case "valid":
      return t("page.state.valid");
    case "superseded":
      return d.record === undefined ? t("page.state.superseded_public") : t("page.state.superseded", { record: d.record });
    case "revoked":
      return d.reason ? t("page.state.revoked", { reason: d.reason }) : t("page.state.revoked_public");
    case "expired":
      // A day as the reader writes it: dd/mm/yyyy in Vietnamese, as showTime does.
      return t("page.state.expired", { on: showDay(d.on || "") });
    default:
      return a.status;
  }
}

function render() {
  const acc = state.access;
  fill(
    $("access"),
    acc === null ? "" : acc === "public" ? t("page.access.public") : acc === "none" ? t("page.access.none") : t("page.access.user", acc),
  );
  for (const [input, out] of [
    ["doc", "doc-chosen"],
    ["sig", "sig-chosen"],
  ]) {
    const f = $(input).files[0];
    fill($(out), f ? t("page.chosen", { name: f.name, size: showBytes(f.size) }) : "");
  }
  $("go").disabled = !!state.busy;
  $("result").setAttribute("aria-busy", state.busy ? "true" : "false");
  const live = $("live");
  const rep = state.report;
  if (state.busy) {
    fill(live, t("page.working", { name: state.busy }));
  } else if (state.error) {
    fill(live, state.error);
  } else if (rep) {
    fill(live, `${t("page.result")}: ${t("verdict." + rep.indication)}. ${t("page.verdict." + rep.indication)}`);
  } else {
    fill(live, "");
  }
  live.className = "live" + (state.error ? " v-failed" : "");
  $("result").hidden = !rep || !!state.error;
  if (!rep) return;
  const kind = KIND[rep.indication] || "none";
  fill(
    $("verdict"),
    el(
      "div",
      { class: `verdict v-${kind}`, "data-indication": rep.indication },
      el("p", { class: "verdict-main" }, el("span", { class: "badge" }, t("verdict." + rep.indication)), " ", t("page.verdict." + rep.indication)),
      pairs(
        [
          [t("page.file"), `${state.file.name} (${showBytes(state.file.size)})`],
          ["SHA-256", state.file.sha256, { class: "mono" }],
          [t("page.count"), String(rep.signatures.length)],
        ],
        "meta",
      ),
      rep.messages && rep.messages.length ? el("ul", { lang: "en", class: "messages" }, rep.messages.map((m) => el("li", {}, m))) : null,
    ),
  );
  fill(
    $("signatures"),
    rep.signatures.map((s, i) => signature(s, i + 1)),
  );
  const a = state.archive || { kind: "skipped" };
  const status = $("archive-status");
  status.dataset.archive = a.kind === "held" ? a.status : a.kind;
  // A copy outside the code asked about that says otherwise is no green answer (a reviewer's
  // reading, 2026-12-05: the warning trailed a green box).
  status.className =
    a.kind === "held" ? (a.status === "valid" && !a.elsewhere && !a.another ? "ok" : "bad") : a.kind === "error" ? "bad" : "";
  fill(
    status,
    a.kind === "skipped"
      ? t("page.archive.skipped")
      : a.kind === "checking"
        ? t("page.archive.checking")
        : a.kind === "absent"
          ? a.what
            ? t("page.archive.absent", { what: a.what })
            : t("page.archive.absent_any")
          : a.kind === "error"
            ? t("page.archive.error", { why: a.why })
            : t("page.archive.held", { record: a.record, state: archiveState(a) }) +
              (a.copies > 1 ? " " + t("page.archive.copies", { copies: a.copies }) : "") +
              // Whose word the status is, and that other copies say otherwise: another
              // agency's revocation of its own copy is shown as its, not as the issuer's.
              (a.copies > 1 && a.agency ? " " + t("page.archive.by_agency", { agency: a.agency }) : "") +
              (a.another ? " " + t("page.archive.another_copy") : "") +
              (a.differ ? " " + t("page.archive.differ") : "") +
              // Asked under a code: a copy outside it that says otherwise is not hidden.
              (a.elsewhere ? " " + elsewhereState(a.elsewhere) : ""),
  );
  const p = state.proof;
  const proof = $("proof");
  if (!p) {
    fill(proof);
    delete proof.dataset.proof;
  } else if (!p.ok) {
    proof.dataset.proof = "failed";
    fill(proof, el("p", { class: "bad" }, t("page.proof.bad", { why: p.why })));
  } else {
    proof.dataset.proof = "verified";
    fill(
      proof,
      el("p", { class: "ok" }, t("page.proof.ok", { leaf: p.leaf, size: p.size, key: p.key })),
      pairs(
        [
          [t("page.proof.root"), p.root, { class: "mono" }],
          [t("page.proof.keyid"), p.keyId, { class: "mono" }],
        ],
        "meta",
      ),
    );
  }
}

// ---- wiring ----

function fileList(files) {
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  return dt.files;
}

function isSignature(f) {
  return /\.(p7s|sig)$/i.test(f.name) || f.type === "application/pkcs7-signature";
}

function dropped(files) {
  const list = Array.from(files);
  if (!list.length) return;
  const sig = list.length > 1 ? list.find(isSignature) : null;
  const doc = list.find((f) => f !== sig);
  $("doc").files = fileList(doc ? [doc] : []);
  $("sig").files = fileList(sig ? [sig] : []);
  verify();
}

async function main() {
  await start();
  onLanguage(render);
  const drop = $("drop");
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    dropped(e.dataTransfer.files);
  });
  // A file dropped beside the zone must not replace the page with the file.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  $("doc").addEventListener("change", () => verify());
  $("sig").addEventListener("change", () => ($("doc").files.length ? verify() : render()));
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    verify();
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    useToken($("token").value);
    checkAccess();
  });
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("code")) $("code").value = hash.get("code");
  await checkAccess();
  document.body.dataset.ready = "true";
}

main();
