// node tests/browser/interactive.mjs REPORT.html
//
// Time to interactive of a cairn HTML report in the system Chromium, measured in the page:
// `ready_ms` is window.cairnReady, which the page sets (performance.now(), from navigation
// start) once the tables are built and the handlers attached; `dom_interactive_ms` and
// `load_event_end_ms` come from PerformanceNavigationTiming. Prints one JSON line.
import { launch, openReport } from "./browser.mjs";
import { statSync } from "node:fs";

const [file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node tests/browser/interactive.mjs REPORT.html");
  process.exit(2);
}
const { browser, close } = await launch();
let out;
try {
  const { page, url, offending, errors } = await openReport(browser, file);
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => typeof window.cairnReady === "number", null, { timeout: 60000 });
  const t = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    return {
      ready_ms: window.cairnReady,
      dom_interactive_ms: n ? n.domInteractive : null,
      load_event_end_ms: n ? n.loadEventEnd : null,
      rows: document.querySelectorAll("#packages tbody tr[data-id]").length,
    };
  });
  if (offending.length) throw new Error(`network requests: ${offending.join(", ")}`);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  out = { ok: true, file, bytes: statSync(file).size, ...t };
} catch (e) {
  out = { ok: false, error: String(e && e.message || e) };
} finally {
  await close();
}
console.log(JSON.stringify(out));
if (!out.ok) process.exit(1);
