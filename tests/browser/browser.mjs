// Shared by the report's browser tests: launch the system Chromium (never a downloaded
// browser) with the flags this closed-network machine needs, in a fresh profile, and fail
// any request the page makes other than the report file itself.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const CHROMIUM = process.env.CAIRN_CHROMIUM || "/usr/bin/chromium";

// A fresh temporary profile (Chromium's --user-data-dir, which Playwright takes as the
// persistent context's directory), removed on close.
export async function launch(viewport = { width: 1440, height: 1000 }) {
  const profile = mkdtempSync(join(tmpdir(), "cairn-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    deviceScaleFactor: 1,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Opens `file` in a new page. Every request other than the file itself is aborted and
// recorded in the returned `offending` list.
export async function openReport(context, file) {
  const url = pathToFileURL(resolve(file)).href;
  const page = await context.newPage();
  const offending = [];
  const errors = [];
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    offending.push(u);
    return route.abort();
  });
  // Requests routing cannot see (e.g. made before it was set up) still show up here.
  page.on("request", (r) => { if (r.url() !== url && !offending.includes(r.url())) offending.push(r.url()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  return { context, page, url, offending, errors };
}
