// node tests/browser/report.mjs REPORT.html PACKAGE_NAME SCREENSHOT.png
//
// Drives a cairn HTML report as a person would, in the system Chromium: the page must make
// no network request; typing PACKAGE_NAME in #search must show its row and hide unrelated
// ones; clicking the row must open #detail with its evidence (a path and a layer); clicking
// a column header must reorder the rows. Saves a screenshot with the detail open, prints one
// JSON line, and exits non-zero with a message on the first failure.
import { launch, openReport } from "./browser.mjs";

const [file, name, shot] = process.argv.slice(2);
if (!file || !name || !shot) {
  console.error("usage: node tests/browser/report.mjs REPORT.html PACKAGE_NAME SCREENSHOT.png");
  process.exit(2);
}

class Failure extends Error {}
function check(ok, message) { if (!ok) throw new Failure(message); }

const { browser, close } = await launch();
let result;
try {
  const { page, url, offending, errors } = await openReport(browser, file);
  await page.goto(url);
  await page.waitForFunction(() => typeof window.cairnReady === "number", null, { timeout: 15000 })
    .catch(() => { throw new Failure(`the page never became ready (window.cairnReady unset); errors: ${errors.join("; ") || "none"}`); });
  check(errors.length === 0, `the page reported errors: ${errors.join("; ")}`);

  const total = await page.locator("#packages tbody tr[data-id]").count();
  check(total > 1, `#packages has ${total} rows; the test needs at least 2`);
  // The package's row(s): exact name match in the first cell.
  const ids = await page.$$eval("#packages tbody tr[data-id]", (trs, n) =>
    trs.filter((tr) => tr.cells[0].textContent === n).map((tr) => tr.dataset.id), name);
  check(ids.length > 0, `no row in #packages is named ${JSON.stringify(name)}`);
  const id = ids[0];

  // Search: type it as a person would.
  await page.locator("#search").click();
  await page.keyboard.type(name, { delay: 5 });
  const state = await page.$$eval("#packages tbody tr[data-id]", (trs, n) => trs.map((tr) => ({
    id: tr.dataset.id, visible: !tr.hidden && tr.offsetParent !== null,
    related: (tr.cells[0].textContent + "\n" + tr.cells[1].textContent + "\n" + tr.cells[3].textContent).toLowerCase().includes(n.toLowerCase()),
  })), name);
  const mine = state.find((s) => s.id === id);
  check(mine && mine.visible, `after typing ${JSON.stringify(name)} the row ${id} is not visible`);
  // A row that does not mention the name anywhere searchable (name, version, purl, license)
  // must be hidden; the purl is not in the cells, so only rows unrelated by the cells count.
  const purls = await page.evaluate(() => Object.fromEntries(
    JSON.parse(document.getElementById("cairn-data").textContent).sbom.packages.map((p) => [p.id, p.purl || ""])));
  const unrelated = state.filter((s) => !s.related && !purls[s.id].toLowerCase().includes(name.toLowerCase()));
  check(unrelated.length > 0, `every row mentions ${JSON.stringify(name)}; pick a more specific package`);
  const leaked = unrelated.filter((s) => s.visible);
  check(leaked.length === 0, `${leaked.length} unrelated rows stay visible after the search, e.g. ${leaked[0] && leaked[0].id}`);
  const visible = state.filter((s) => s.visible).length;

  // Detail: one click away.
  const row = (await page.evaluateHandle((pid) =>
    [...document.querySelectorAll("#packages tbody tr[data-id]")].find((tr) => tr.dataset.id === pid), id)).asElement();
  await row.click();
  const detail = page.locator("#detail");
  await detail.waitFor({ state: "visible", timeout: 5000 })
    .catch(() => { throw new Failure("clicking the row did not open #detail"); });
  const text = await detail.innerText();
  const pkg = await page.evaluate((pid) =>
    JSON.parse(document.getElementById("cairn-data").textContent).sbom.packages.find((p) => p.id === pid), id);
  check(text.includes(pkg.name), `#detail does not name ${pkg.name}`);
  if (pkg.purl) check(text.includes(pkg.purl), `#detail does not show the purl ${pkg.purl}`);
  const loc = (pkg.evidence && pkg.evidence.locations || [])[0];
  check(loc, `package ${id} has no evidence location in the data; pick another`);
  check(text.includes(loc.path), `#detail does not show the evidence path ${loc.path}`);
  check(text.includes(`layer ${loc.layer}`), `#detail does not show the evidence layer (layer ${loc.layer})`);
  await page.screenshot({ path: shot, fullPage: false });

  // Sorting: close the panel, clear the search, click a header, and the order must change.
  await page.keyboard.press("Escape");
  await detail.waitFor({ state: "hidden", timeout: 5000 })
    .catch(() => { throw new Failure("Escape did not close #detail"); });
  await page.locator("#search").fill("");
  await page.locator("#search").dispatchEvent("input");
  const order = () => page.$$eval("#packages tbody tr[data-id]", (trs) => trs.map((tr) => tr.dataset.id));
  const before = await order();
  await page.locator('#packages th[data-key="name"] button').click();
  const desc = await order();
  check(desc.length === before.length, "sorting changed the number of rows");
  check(desc.join() === [...before].reverse().join() || desc.join() !== before.join(), "clicking the Name header did not reorder the rows");
  const names = await page.$$eval("#packages tbody tr[data-id]", (trs) => trs.map((tr) => tr.cells[0].textContent));
  const sorted = [...names].sort((a, b) => b.localeCompare(a, undefined, { numeric: true, sensitivity: "base" }));
  check(names.every((n, i) => n.localeCompare(sorted[i], undefined, { sensitivity: "base" }) === 0), "after the second click on Name the rows are not in descending name order");
  await page.locator('#packages th[data-key="layer"] button').click();
  const layers = await page.$$eval("#packages tbody tr[data-id]", (trs) => trs.map((tr) => Number(tr.cells[4].textContent) || -1));
  check(layers.every((l, i) => i === 0 || layers[i - 1] <= l), "sorting by Layer did not order rows by introduced layer");

  check(offending.length === 0, `the page made network requests: ${offending.join(", ")}`);
  check(errors.length === 0, `the page reported errors: ${errors.join("; ")}`);
  result = { ok: true, file, package: name, id, rows: total, visible_after_search: visible, screenshot: shot };
} catch (e) {
  result = { ok: false, error: e instanceof Failure ? e.message : String(e && e.stack || e) };
} finally {
  await close();
}
console.log(JSON.stringify(result));
if (!result.ok) {
  console.error(`report.mjs: FAIL: ${result.error}`);
  process.exit(1);
}
