// End-to-end test of the dashboard in a real headless Chromium, driven by
// playwright-core. Run by crates/cli/tests/dashboard.rs, which seeds a store
// (a scan of moto with hostile tag values), starts the server and passes:
//
//   RAMPART_URL         the server's base URL (http://127.0.0.1:PORT)
//   RAMPART_TOKEN       an admin API token
//   RAMPART_CHROMIUM    the Chromium binary (scripts/browser-env.sh)
//   RAMPART_SCREENSHOTS directory for one PNG per page
//   RAMPART_XSS_TAG     the tag key the hostile resources carry
//
// Exits non-zero on the first failed check; prints one line per check.

import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const base = need("RAMPART_URL");
const token = need("RAMPART_TOKEN");
const shots = need("RAMPART_SCREENSHOTS");
const probeTag = need("RAMPART_XSS_TAG");
const origin = new URL(base).origin;

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
  console.log(`ok - ${message}`);
}

mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "rampart-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: need("RAMPART_CHROMIUM"),
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
});

const dialogs = [];
const pageErrors = [];
const foreign = [];
let shotNumber = 0;

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("about:")) {
      foreign.push(url);
    }
  });

  async function shot(name) {
    shotNumber += 1;
    const file = join(shots, `${String(shotNumber).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
  }

  async function open(path) {
    const response = await page.goto(new URL(path, base).href);
    check(response && response.ok(), `GET ${path} answers ${response && response.status()}`);
  }

  async function score() {
    await open("/");
    return (await page.textContent("#secure-score")).trim();
  }

  // Log in through the login page with the token.
  await page.goto(base + "/");
  check(new URL(page.url()).pathname === "/login", "an anonymous visit lands on the login page");
  await shot("login");
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
  check(new URL(page.url()).pathname === "/", "logging in leads to the overview");
  const before = (await page.textContent("#secure-score")).trim();
  check(/^\d+(\.\d)?%$/.test(before), `the overview shows a secure score (${before})`);
  check((await page.locator("#trend").count()) === 1, "the overview shows the score trend");
  check((await page.locator("#controls tbody tr").count()) > 0, "the overview shows the score by control");
  await shot("overview");

  // Every page from the navigation.
  const nav = await page.$$eval("header nav a", (links) =>
    links.map((a) => ({ href: a.getAttribute("href"), label: a.textContent.trim() })),
  );
  check(nav.length === 10, `the navigation has ten sections (${nav.map((n) => n.label).join(", ")})`);
  for (const { href, label } of nav) {
    await open("/");
    await Promise.all([page.waitForLoadState("load"), page.click(`header nav a[href="${href}"]`)]);
    check(new URL(page.url()).pathname === href, `the ${label} link opens ${href}`);
    check((await page.locator("h1").count()) === 1, `${label} has a heading`);
    await shot(label.toLowerCase());
  }

  // History: the day's counts and what the scans changed.
  await open("/changes");
  check((await page.locator("#trend tbody tr").count()) > 0, "the Changes page shows the daily counts");
  check((await page.locator("#changes tbody tr").count()) > 0, "the Changes page lists changes");

  // A compliance standard and one of its controls.
  await open("/compliance");
  await page.click("#standards tbody tr:first-child a");
  check((await page.locator("#controls tbody tr").count()) > 0, "a standard lists its controls");
  await shot("compliance-standard");
  await page.click("#controls tbody tr:first-child td:first-child a");
  check((await page.locator("h1").count()) === 1, "a standard control has a page");
  await shot("compliance-control");

  // A recommendation with unhealthy resources, then one of them.
  await open("/recommendations?status=unhealthy");
  const unhealthy = await page.$$eval("#recommendations tbody tr td:nth-child(2) a", (links) =>
    links.map((a) => a.getAttribute("href")),
  );
  check(unhealthy.length > 0, `some recommendations have unhealthy resources (${unhealthy.length})`);
  await page.click("#recommendations tbody tr:first-child td:nth-child(2) a");
  check((await page.locator("#affected tbody tr").count()) > 0, "the recommendation lists affected resources");
  await shot("recommendation");
  const resourceName = (await page.textContent("#affected tbody tr:first-child td:first-child a")).trim();
  await page.click("#affected tbody tr:first-child td:first-child a");
  check(new URL(page.url()).pathname === "/inventory/resource", "a resource link opens the resource page");
  check((await page.textContent("#resource-name")).trim() === resourceName, `the resource page is ${resourceName}`);
  check((await page.locator("#resource-assessments tbody tr").count()) > 0, "the resource page lists its assessments");
  await shot("resource");

  // Exempt from the recommendation page until the score moves (a control's
  // score moves once none of its recommendations finds a resource unhealthy).
  let after = before;
  for (const href of unhealthy) {
    await open(href);
    const exempt = page.locator("#affected a.button", { hasText: "Exempt" }).first();
    if ((await exempt.count()) === 0) continue;
    await exempt.click();
    check((await page.locator("#exempt-form").count()) === 1, `the exempt form opens for ${href}`);
    // Every resource of the recommendation.
    await page.fill("#exempt-form input[name=resource]", "");
    await page.fill("#exempt-form textarea[name=reason]", "accepted in the browser test");
    if (shotNumber < 20) await shot("exempt-form");
    await Promise.all([page.waitForURL(/exempted=1/), page.click("#exempt-form button[type=submit]")]);
    check((await page.locator("#exempted").count()) === 1, `the exemption on ${href} is confirmed`);
    after = await score();
    if (after !== before) break;
  }
  check(after !== before, `the secure score changed after exempting (${before} -> ${after})`);
  await shot("overview-after-exemption");

  // Hostile tag values: shown as text, nothing runs.
  await open(`/inventory?tag=${encodeURIComponent(probeTag)}`);
  const hostile = await page.$$eval("#assets tbody tr td:first-child a", (links) =>
    links.map((a) => a.getAttribute("href")),
  );
  check(hostile.length >= 2, `the inventory lists the resources with hostile tags (${hostile.length})`);
  await shot("inventory-hostile");
  for (const href of ["/inventory?tag=" + encodeURIComponent(probeTag), ...hostile]) {
    await open(href);
    const state = await page.evaluate(() => ({
      xss: typeof window.__xss,
      scripts: document.querySelectorAll("script").length,
      images: document.querySelectorAll("img").length,
      text: document.body.innerText,
    }));
    check(state.xss === "undefined", `window.__xss is undefined on ${href}`);
    check(state.scripts === 0 && state.images === 0, `no script or img element on ${href}`);
    check(
      state.text.includes("<script>window.__xss=1</script>") ||
        state.text.includes('"><img src=x onerror="window.__xss=1">'),
      `the hostile value shows as text on ${href}`,
    );
  }
  await shot("resource-hostile");
  check(dialogs.length === 0, `no dialog opened (${dialogs.join(" | ")})`);
  check(pageErrors.length === 0, `no page error (${pageErrors.join(" | ")})`);
  check(foreign.length === 0, `no request left the server (${foreign.join(" ")})`);

  // Log out.
  await open("/");
  await Promise.all([page.waitForURL(/\/login/), page.click("header form button")]);
  await page.goto(base + "/inventory");
  check(new URL(page.url()).pathname === "/login", "after logging out, pages need a login again");
  console.log(`passed; ${shotNumber} screenshots in ${shots}`);
} catch (err) {
  console.error(String(err && err.stack ? err.stack : err));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
