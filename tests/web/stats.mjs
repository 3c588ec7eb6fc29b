// The statistics page in Debian's chromium (playwright-core): tests/web_stats.rs starts the
// real service over an archive it filled, and passes what the page must show. The auditor
// signs in with a token, reads the figures, switches language; axe-core runs; a screenshot is
// kept. Every check throws on failure; the last line printed is a JSON summary.
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
const want = JSON.parse(env("KYSO_WEB_STATS_WANT"));
const done = [];
const problems = [];

const browser = await chromium.launch({ executablePath: process.env.KYSO_CHROMIUM || "/usr/bin/chromium" });
const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1, ignoreHTTPSErrors: true, locale: "vi-VN", timezoneId: "Europe/Paris" });
const page = await context.newPage();
page.on("console", (m) => {
  if (m.type() === "error" && !/status of 40[13]/.test(m.text())) problems.push(`console: ${m.text()}`);
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

async function axe(label) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `axe-core on ${label}`);
  done.push(`axe-core: no serious or critical violation (${label})`);
}

const resp = await page.goto(BASE + "/stats");
assert.equal(resp.status(), 200);
assert.equal(resp.headers()["content-security-policy"], env("KYSO_WEB_EXPECT_CSP"));
await page.waitForSelector("body[data-ready=true]");
// No credential: the page says who it is for, shows no figures.
assert.match(await page.textContent("#access"), /quản trị viên và kiểm toán viên/);
assert.ok(await page.isHidden("#report"));
await axe("before sign-in");
done.push("without a credential: no figures, the sign-in is offered");

await page.click("#token-box summary");
await page.fill("#token", env("KYSO_WEB_AUDITOR_TOKEN"));
await page.click("#token-form button");
await page.waitForSelector("body[data-loaded=true]");
await page.fill("#from", want.from);
await page.fill("#to", want.to);
await page.click("#go");
await page.waitForFunction((f) => document.querySelector("#report-h").textContent.includes(f), want.heading_vi);
const fig = async (k) => (await page.textContent("#fig-" + k)).trim();
assert.equal(await fig("ingested"), String(want.ingested));
assert.equal(await fig("valid"), String(want.valid));
assert.equal(await fig("reused"), String(want.reused));
assert.equal(await fig("percent"), want.percent_vi);
done.push(`figures on screen: ${want.ingested} archived, ${want.valid} valid, ${want.reused} reused, ${want.percent_vi}`);
// The table: one row per agency, each with the test's count.
for (const [agency, n] of Object.entries(want.by_agency)) {
  const row = page.locator("#table-body tr", { has: page.locator("th", { hasText: agency }) });
  assert.equal((await row.locator('td[data-col="ingested"]').textContent()).trim(), String(n), agency);
}
done.push(`table rows agree for ${Object.keys(want.by_agency).length} agencies`);
assert.equal(await page.locator("svg.svgchart").count(), 2);
assert.ok((await page.locator("svg.svgchart rect").count()) > 6);
await axe("the report (vi)");
await page.screenshot({ path: path.join(SHOTS, "stats-desktop.png"), fullPage: true });

await page.click("#lang");
await page.waitForFunction(() => document.documentElement.lang === "en");
assert.match(await page.textContent("h1"), /Quarterly digitization statistics/);
assert.match(await page.textContent("#report-h"), new RegExp(want.heading_en));
await axe("the report (en)");
done.push("English: headings and figures switch");
assert.deepEqual(problems, []);
await browser.close();
console.log(JSON.stringify({ checks: done }));
