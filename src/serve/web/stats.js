// The statistics page (admin, auditor): GET /v1/stats as figures, two charts drawn here as
// SVG (no chart library, nothing from elsewhere: the page's CSP allows only this origin's
// files) and a table, in Vietnamese or English. Printable: the header and the form are not
// printed; the charts are plain SVG and paste into a report.
import { t, start, onLanguage, api, el, fill, useToken, currentLang, visible } from "/app.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const state = { report: null, quarters: null, access: null, error: null, by: "agency" };

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  // Text as the page's own builder shows it (visible: bidirectional overrides and other
  // invisible characters shown, not obeyed — an agency named with U+202E flipped its chart
  // label, helper 167).
  for (const c of children) e.append(typeof c === "string" ? document.createTextNode(visible(c)) : c);
  return e;
}

function num(n) {
  return n === null || n === undefined ? "—" : n.toLocaleString(currentLang() === "vi" ? "vi-VN" : "en-GB");
}

function pct(p) {
  if (p === null || p === undefined) return "—";
  return p.toLocaleString(currentLang() === "vi" ? "vi-VN" : "en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " %";
}

/** dd/mm/yyyy in Vietnamese, yyyy-mm-dd in English. */
function day(d) {
  if (currentLang() !== "vi") return d;
  const [y, m, dd] = d.split("-");
  return `${dd}/${m}/${y}`;
}

function quarterName(q) {
  if (!q) return "";
  const [y, n] = q.split("-Q");
  return currentLang() === "vi" ? `Quý ${n}/${y}` : `Q${n} ${y}`;
}

function label(r) {
  const parts = [];
  if (r.agency !== undefined) parts.push(r.agency || t("stats.none"));
  if (r.type !== undefined) parts.push(r.type || t("stats.none"));
  if (r.quarter !== undefined) parts.push(quarterName(r.quarter));
  return parts.join(" · ");
}

const SERIES = [
  ["ingested", "s1"],
  ["valid", "s2"],
  ["total", "s3"],
];

/** Horizontal bars per row: archived, valid, results issued where known. */
function rowsChart(rows, id) {
  const shown = rows.slice(0, 12);
  const max = Math.max(1, ...shown.flatMap((r) => [r.ingested, r.total || 0]));
  const W = 720, left = 220, barH = 12, gap = 14;
  const groupH = barH * 3 + gap;
  const H = 40 + shown.length * groupH + 10;
  const scale = (v) => ((W - left - 70) * v) / max;
  const title = t("stats.chart.rows", { by: t("stats.by." + (state.by || "all")).toLowerCase() });
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-labelledby": `${id}-t ${id}-d`, class: "svgchart" },
    svg("title", { id: `${id}-t` }, title),
    svg("desc", { id: `${id}-d` }, t("stats.chart.rows.desc")));
  s.append(svg("text", { x: 0, y: 16, class: "ct" }, title));
  let lx = left;
  for (const [k, cls] of SERIES) {
    s.append(svg("rect", { x: lx, y: 24, width: 10, height: 10, class: cls }));
    s.append(svg("text", { x: lx + 14, y: 33, class: "cl" }, t("stats." + k)));
    lx += 150;
  }
  shown.forEach((r, i) => {
    const y = 44 + i * groupH;
    s.append(svg("text", { x: left - 8, y: y + barH * 1.5 + 4, class: "cl", "text-anchor": "end" }, label(r).slice(0, 34)));
    SERIES.forEach(([k, cls], j) => {
      const v = r[k];
      if (v === null || v === undefined) return;
      const yy = y + j * barH;
      s.append(svg("rect", { x: left, y: yy, width: Math.max(1, scale(v)), height: barH - 2, class: cls }));
      s.append(svg("text", { x: left + scale(v) + 4, y: yy + barH - 3, class: "cv" }, num(v)));
    });
  });
  return s;
}

const QSERIES = [
  ["ingested", "s1"],
  ["signatures", "s2"],
  ["reused", "s3"],
];

/** Columns per quarter: archived, signatures, reuses. */
function quartersChart(rows, id) {
  const W = 720, H = 260, top = 44, bottom = 30, left = 10;
  const max = Math.max(1, ...rows.flatMap((r) => QSERIES.map(([k]) => r[k])));
  const slot = (W - left) / Math.max(1, rows.length);
  const bw = Math.min(36, (slot - 16) / 3);
  const scale = (v) => ((H - top - bottom - 14) * v) / max;
  const title = t("stats.chart.quarters");
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-labelledby": `${id}-t ${id}-d`, class: "svgchart" },
    svg("title", { id: `${id}-t` }, title),
    svg("desc", { id: `${id}-d` }, t("stats.chart.quarters.desc")));
  s.append(svg("text", { x: 0, y: 16, class: "ct" }, title));
  let lx = left;
  for (const [k, cls] of QSERIES) {
    s.append(svg("rect", { x: lx, y: 24, width: 10, height: 10, class: cls }));
    s.append(svg("text", { x: lx + 14, y: 33, class: "cl" }, t("stats." + k)));
    lx += 170;
  }
  s.append(svg("line", { x1: left, x2: W, y1: H - bottom, y2: H - bottom, class: "axis" }));
  rows.forEach((r, i) => {
    const x0 = left + i * slot + (slot - bw * 3) / 2;
    QSERIES.forEach(([k, cls], j) => {
      const h = scale(r[k]);
      const x = x0 + j * bw;
      s.append(svg("rect", { x, y: H - bottom - h, width: bw - 2, height: Math.max(h, 0.5), class: cls }));
      s.append(svg("text", { x: x + bw / 2 - 1, y: H - bottom - h - 3, class: "cv", "text-anchor": "middle" }, num(r[k])));
    });
    s.append(svg("text", { x: left + i * slot + slot / 2, y: H - 10, class: "cl", "text-anchor": "middle" }, quarterName(r.quarter)));
  });
  return s;
}

const COLUMNS = ["ingested", "superseded", "revoked", "expired", "valid", "signatures", "reused", "total", "digitized", "percent"];

function table(report) {
  const dims = [];
  if (report.by === null || report.by === "agency") dims.push("agency");
  if (report.by === null || report.by === "type") dims.push("type");
  if (report.by === null || report.by === "quarter") dims.push("quarter");
  const dimName = { agency: "stats.by.agency", type: "stats.by.type", quarter: "stats.by.quarter" };
  fill($("table-caption"), t("stats.table"));
  fill($("table-head"), dims.map((d) => el("th", { scope: "col", text: t(dimName[d]) })), COLUMNS.map((c) => el("th", { scope: "col", class: "n", text: t("stats." + c) })));
  const cell = (r, c) => (c === "percent" ? pct(r[c]) : num(r[c]));
  const dimText = (r, d) => (d === "quarter" ? quarterName(r.quarter) : r[d] || t("stats.none"));
  const rows = report.rows.map((r) =>
    el("tr", {}, dims.map((d, i) => el(i === 0 ? "th" : "td", i === 0 ? { scope: "row", text: dimText(r, d) } : { text: dimText(r, d) })), COLUMNS.map((c) => el("td", { class: "n", "data-col": c, text: cell(r, c) }))),
  );
  rows.push(el("tr", { class: "all" }, el("th", { scope: "row", colspan: dims.length, text: t("stats.all") }), COLUMNS.map((c) => el("td", { class: "n", "data-col": c, text: cell(report.all, c) }))));
  fill($("table-body"), rows);
}

function render() {
  const access = state.access;
  if (access && access.user) fill($("access"), t("stats.signed", access));
  else fill($("access"), t("stats.need"));
  $("token-box").hidden = Boolean(access && access.allowed);
  $("csv").disabled = !(access && access.allowed);
  if (state.error) {
    fill($("live"), t("stats.error", { why: state.error }));
  }
  const r = state.report;
  $("report").hidden = !r;
  if (!r) return;
  fill($("report-h"), t("stats.heading", { from: day(r.from), to: day(r.to) }));
  const a = r.all;
  const fig = (k, v) => el("div", {}, el("dt", { text: t("stats." + k) }), el("dd", { id: "fig-" + k, text: v }));
  fill($("figures"), fig("ingested", num(a.ingested)), fig("valid", num(a.valid)), fig("signatures", num(a.signatures)), fig("reused", num(a.reused)), fig("percent", pct(a.percent)));
  if (!r.rows.length) {
    fill($("chart-rows"), el("p", { text: t("stats.empty") }));
    fill($("chart-quarters"));
  } else {
    fill($("chart-rows"), rowsChart(r.rows, "c1"));
    fill($("chart-quarters"), state.quarters && state.quarters.rows.length ? quartersChart(state.quarters.rows, "c2") : null);
  }
  table(r);
}

function query(by, format) {
  const p = new URLSearchParams();
  if ($("from").value) p.set("from", $("from").value);
  if ($("to").value) p.set("to", $("to").value);
  if (by) p.set("by", by);
  if (format) p.set("format", format);
  return "/v1/stats?" + p.toString();
}

async function load() {
  state.by = $("by").value;
  state.error = null;
  fill($("live"), t("stats.loading"));
  const [r, q] = await Promise.all([api(query(state.by)), api(query("quarter"))]);
  if (r.status !== 200 || !r.json) {
    state.report = null;
    state.error = (r.json && r.json.message) || `HTTP ${r.status}`;
    render();
    return;
  }
  state.report = r.json;
  state.quarters = q.status === 200 ? q.json : null;
  if (!$("from").value) $("from").value = r.json.from;
  if (!$("to").value) $("to").value = r.json.to;
  fill($("live"), t("stats.heading", { from: day(r.json.from), to: day(r.json.to) }));
  render();
  $("report-h").focus();
}

async function csv() {
  const r = await api(query(state.by, "csv"));
  if (r.status !== 200) return;
  const url = URL.createObjectURL(new Blob([r.text], { type: "text/csv" }));
  const a = el("a", { href: url, download: "kyso-stats.csv" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function checkAccess() {
  const r = await api("/v1/whoami");
  if (r.status === 200 && r.json && r.json.method !== "none") {
    const roles = r.json.roles || [];
    state.access = { user: r.json.user, roles: roles.join(", "), allowed: roles.includes("admin") || roles.includes("auditor") };
  } else state.access = null;
  render();
  if (state.access && state.access.allowed) await load();
}

async function main() {
  await start();
  onLanguage(render);
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  $("csv").addEventListener("click", () => csv());
  $("token-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    useToken($("token").value);
    await checkAccess();
    document.body.dataset.loaded = String(Boolean(state.report));
  });
  await checkAccess();
  document.body.dataset.ready = "true";
}

main();
