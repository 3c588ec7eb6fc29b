// What every kyso page shares: the catalogue (/i18n.json, the one `kyso verify` prints its
// summary from), the language switch, dates as each reader expects them, calls to the API,
// and a DOM builder that only ever sets text (the CSP closes innerHTML to strings).

let catalogue = {};
let lang = "vi";
const renderers = [];
let bearer = null;

/** The string for `key` in the current language, `{name}` holes filled from `vars`. */
export function t(key, vars) {
  const e = catalogue[key];
  let s = e ? e[lang] : key;
  for (const [k, v] of Object.entries(vars || {})) {
    s = s.split("{" + k + "}").join(String(v));
  }
  return s;
}

export function currentLang() {
  return lang;
}

/** Call `f` now and after every language switch. */
export function onLanguage(f) {
  renderers.push(f);
  f();
}

function two(n) {
  return String(n).padStart(2, "0");
}

/**
 * An RFC 3339 time in Vietnam's time (+07:00): dd/mm/yyyy HH:MM:SS in Vietnamese, yyyy-mm-dd
 * HH:MM:SS in English (kyso-verify's i18n::display_time writes the same).
 */
/** A day (YYYY-MM-DD) as the reader writes it: dd/mm/yyyy in Vietnamese. */
export function showDay(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m && lang === "vi" ? `${m[3]}/${m[2]}/${m[1]}` : s;
}

export function showTime(s) {
  const ms = Date.parse(s);
  if (!s || Number.isNaN(ms)) return s || "";
  const d = new Date(ms + 7 * 3600 * 1000);
  const [y, mo, da] = [d.getUTCFullYear(), two(d.getUTCMonth() + 1), two(d.getUTCDate())];
  const hms = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return lang === "vi" ? `${da}/${mo}/${y} ${hms} +07:00` : `${y}-${mo}-${da} ${hms} +07:00`;
}

/** A number of bytes, grouped as the reader groups digits. */
export function showBytes(n) {
  return t("page.bytes", { n: n.toLocaleString(lang === "vi" ? "vi-VN" : "en-GB") });
}

/** Characters that hide, reorder or break text: controls, line and paragraph separators,
 * bidirectional controls, zero-width characters. A certificate name with U+202E read "Phan Than"
 * where the certificate says "nahT nahP" (found by an attacker's reading, 2026-12-02). */
// The set the service refuses in a stated purpose and the CLI escapes (verify/src/report.rs,
// hides()):
// controls, soft hyphen, fillers, zero-width and bidirectional characters, variation
// selectors, tags (helper 173: U+00AD, U+180E, U+3164 and tags showed as nothing here).
const HIDING =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu;

/** Text as the page shows it: every hiding character written as a visible `\u{…}` escape. */
export function visible(s) {
  return String(s).replace(HIDING, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

/** An element with attributes and children (strings become text nodes, never markup, their
 * hiding characters shown as escapes). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = visible(v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === "string" ? document.createTextNode(visible(c)) : c);
  }
  return e;
}

/** Replace an element's children. */
export function fill(target, ...children) {
  // Strings as el() takes them: text, hiding characters shown (a file name's U+202E turned
  // the page's own "(10.430 byte)" around; helper 173).
  target.replaceChildren(
    ...children
      .flat()
      .filter((c) => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === "string" ? document.createTextNode(visible(c)) : c)),
  );
}

/** A bearer token for API calls (kept in this page's memory only). */
export function useToken(tok) {
  bearer = tok ? tok.trim() : null;
}

/** Call the API: `{status, json, text, headers}`; network failures give status 0. */
export async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (bearer) headers.Authorization = "Bearer " + bearer;
  let r;
  try {
    r = await fetch(path, { method: opts.method || "GET", headers, body: opts.body, credentials: "same-origin", cache: "no-store" });
  } catch (e) {
    return { status: 0, json: null, text: "", headers: new Headers() };
  }
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (e) {
    json = null;
  }
  return { status: r.status, json, text, headers: r.headers };
}

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-label]")) e.setAttribute("aria-label", t(e.dataset.i18nLabel));
  const b = document.getElementById("lang");
  if (b) {
    b.textContent = t("page.lang.other");
    b.lang = lang === "vi" ? "en" : "vi";
  }
  for (const f of renderers) f();
}

/** Load the catalogue, set the language (the one chosen before, else Vietnamese), wire the switch. */
export async function start() {
  const r = await api("/i18n.json");
  catalogue = r.json || {};
  try {
    const saved = window.localStorage.getItem("kyso.lang");
    if (saved === "vi" || saved === "en") lang = saved;
  } catch (e) {
    // storage may be off: Vietnamese
  }
  const b = document.getElementById("lang");
  if (b) {
    b.addEventListener("click", () => {
      lang = lang === "vi" ? "en" : "vi";
      try {
        window.localStorage.setItem("kyso.lang", lang);
      } catch (e) {
        // not kept; fine
      }
      applyLanguage();
    });
  }
  applyLanguage();
}
