// Drives Chromium as an admin who signs in to the status page and then visits a hostile
// customer's page served from the same origin (path routing). Prints what each attack got
// as one JSON object (tests/statuspage/test_status_page_browser.py makes the assertions).
// Input: JSON in argv[2] with {base, token, script, victim, chromium}.
import { chromium } from "playwright-core";

const input = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: input.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
  timeout: 60_000,
});
const seen = {};
try {
  const context = await browser.newContext();
  const admin = await context.newPage();
  let res = await admin.goto(`${input.base}/_platform/?token=${encodeURIComponent(input.token)}`);
  seen.login = { status: res.status() };

  const page = await context.newPage();
  res = await page.goto(`${input.base}/${input.script}/`);
  seen.customer_page = { status: res.status() };
  seen.registrations = await page.evaluate(() => window.registrations);
  seen.registered = await page.evaluate(
    async () => (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope),
  );

  seen.sabotage = await page.evaluate(() => window.sabotage);

  await page.click("#popup");
  await page.waitForFunction(() => window.popupResult !== undefined, null, { timeout: 15_000 });
  seen.popup = await page.evaluate(() => window.popupResult);

  seen.fetch = await page.evaluate(async () => {
    const r = await fetch("/_platform/", { credentials: "include" });
    return { status: r.status, body: await r.text() };
  });

  // The admin comes back: planted cookies neither lock them out nor reach the page.
  res = await admin.goto(`${input.base}/_platform/`);
  seen.admin_again = {
    status: res.status(),
    title: await admin.title(),
    rows: await admin.$$eval("#scripts tbody tr", (r) => r.length),
  };
  seen.cookies = (await context.cookies())
    .map((c) => ({ name: c.name, path: c.path, value: c.name === "wfp_admin" && c.value === input.token ? "<admin>" : c.value }))
    .sort((a, b) => (a.name + a.path).localeCompare(b.name + b.path));

  // The admin's own sign-out button works, and then the page is closed to them.
  await admin.click("form[action='/_platform/logout'] button");
  await admin.waitForLoadState();
  seen.signed_out = { title: await admin.title() };
  res = await admin.goto(`${input.base}/_platform/`);
  seen.after_sign_out = {
    status: res.status(),
    admin_cookie: (await context.cookies()).some((c) => c.value === input.token),
  };

  // Another customer's page is still served by that customer's script.
  const other = await context.newPage();
  res = await other.goto(`${input.base}/${input.victim}/`);
  seen.victim = { status: res.status(), text: await other.textContent("body") };
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen) + "\n");
