// Drives the system Chromium through the status page like a person would, and prints
// what it saw as one JSON object on stdout (tests/statuspage/test_status_page_browser.py
// makes the assertions). Input: JSON in argv[2] with {base, token, script, chromium}.
import { chromium } from "playwright-core";

const input = JSON.parse(process.argv[2]);
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const browser = await chromium.launch({
  executablePath: input.chromium,
  args: FLAGS,
  timeout: 60_000,
});
const seen = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();

  let res = await page.goto(`${input.base}/_platform/`);
  seen.without_token = { status: res.status(), text: await page.textContent("body") };

  res = await page.goto(`${input.base}/_platform/?token=not-the-admin-token`);
  seen.wrong_token = { status: res.status() };

  res = await page.goto(`${input.base}/_platform/?token=${encodeURIComponent(input.token)}`);
  seen.with_token = {
    status: res.status(),
    url: page.url(),
    title: await page.title(),
    html: await page.content(),
    scripts: await page.$$eval("#scripts tbody tr", (rows) =>
      rows.map((r) => ({
        name: r.getAttribute("data-script"),
        href: r.querySelector("a")?.getAttribute("href") ?? null,
      })),
    ),
    customers: await page.$$eval("#customers tbody tr", (rows) =>
      rows.map((r) => r.getAttribute("data-customer")),
    ),
    commit: await page.textContent("#commit"),
  };
  const cookies = await context.cookies();
  seen.cookie = cookies
    .filter((c) => c.name === "wfp_admin")
    .map((c) => ({ httpOnly: c.httpOnly, path: c.path, sameSite: c.sameSite }));

  await Promise.all([page.waitForURL(`**/${input.script}/`), page.click(`a[href="/${input.script}/"]`)]);
  seen.clicked = { url: page.url(), text: await page.textContent("body") };

  // Customer code runs on the same origin in path routing; it must not read the page.
  seen.same_origin_fetch = await page.evaluate(async () => {
    const r = await fetch("/_platform/", { credentials: "include" });
    return { status: r.status, body: await r.text() };
  });

  res = await page.goBack();
  seen.back = { status: res ? res.status() : null, rows: await page.$$eval("#scripts tbody tr", (r) => r.length) };

  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  res = await other.goto(`${input.base}/_platform/`);
  seen.fresh_context = { status: res.status() };
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen) + "\n");
