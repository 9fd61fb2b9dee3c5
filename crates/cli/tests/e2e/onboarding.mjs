// Onboarding end to end in a real headless Chromium, driven by
// playwright-core. Run by crates/cli/tests/dashboard.rs, which starts moto
// (the demo account), creates an issuer, starts `rampart serve` on an empty
// store and passes:
//
//   RAMPART_URL         the server's base URL
//   RAMPART_SETUP_LINK  the one-time first-admin link `rampart serve` printed
//   RAMPART_ACCOUNT     the AWS account id of the emulator
//   RAMPART_CHROMIUM    the Chromium binary (scripts/browser-env.sh)
//   RAMPART_SCREENSHOTS directory for one PNG per step
//
// Steps: first admin, add an account (a validation error first), download
// its template, verify against moto, start the first scan, see its score.
// Exits non-zero on the first failed check; prints one line per check.

import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

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

const base = need("RAMPART_URL");
const setupLink = need("RAMPART_SETUP_LINK");
const account = need("RAMPART_ACCOUNT");
const shots = need("RAMPART_SCREENSHOTS");
mkdirSync(shots, { recursive: true });

const profile = mkdtempSync(join(tmpdir(), "rampart-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: need("RAMPART_CHROMIUM"),
  headless: true,
  acceptDownloads: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
  viewport: { width: 1100, height: 760 },
});
const pageErrors = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  let n = 0;
  const shot = async (name, fullPage = false) => {
    n += 1;
    await page.screenshot({ path: join(shots, `${String(n).padStart(2, "0")}-${name}.png`), fullPage });
  };
  const submit = async (selector) => {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  };

  // 1. The first-run link makes the first admin.
  await page.goto(setupLink);
  check((await page.locator("#become-admin").count()) === 1, "the first-run link offers to create the first admin");
  await submit("#become-admin");
  check((await page.textContent("#admin-token")).trim().startsWith("rampart_"), "the admin token is shown once");
  await shot("first-admin");
  await page.goto(base + "/");
  check((await page.locator('#get-started a[href="/connectors/new"]').count()) === 1, "the empty overview leads to adding an account");
  check((await page.textContent("#get-started")).includes("scripts/demo"), "and to the demo");

  // 2. Add the account: a mistake first, shown next to its field.
  await page.goto(base + "/connectors");
  await submit('a[href="/connectors/new"]');
  check(new URL(page.url()).pathname === "/connectors/new", "the connectors page links to the add-account form");
  await page.fill("#name", "demo");
  await page.fill("#account", "12345");
  await page.fill("#regions", "us-east-1");
  await page.check('input[name="plan_servers"]');
  await page.fill("#servers_scope_tags", "env=prod");
  await submit("form.connector-form button[type=submit]");
  check((await page.textContent("#account-error")).includes("is not 12 digits"), "an invalid account id is reported next to its field");
  check((await page.inputValue("#name")) === "demo", "the other fields keep their values");
  await shot("add-account-error", true);
  await page.fill("#account", account);
  await submit("form.connector-form button[type=submit]");
  check(new URL(page.url()).pathname === "/connectors/demo/deploy", "adding the account leads to the deploy step");

  // 3. Deploy: the commands and the template download.
  const commands = await page.textContent("#commands");
  check(commands.includes("aws cloudformation deploy --template-file rampart-demo.json --stack-name Rampart-demo --capabilities CAPABILITY_NAMED_IAM"), "the deploy step shows the AWS CLI command");
  await shot("deploy", true);
  await page.click("#download summary");
  await page.fill('#download input[name="thumbprint"]', "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click('#download form.filters button[type="submit"]'),
  ]);
  const template = readFileSync(await download.path(), "utf8");
  check(download.suggestedFilename() === "rampart-demo.json", `the template downloads as ${download.suggestedFilename()}`);
  check(template.includes("AWS::IAM::OIDCProvider") && template.includes("RampartServers"), "the template holds the provider and the plans' roles");

  // 4. Verify against moto.
  await page.goto(base + "/connectors/demo/verify");
  await submit("#run-verification");
  const rows = await page.$$eval("#verification table tbody tr", (trs) =>
    trs.map((tr) => ({ state: tr.getAttribute("data-state"), text: tr.textContent })),
  );
  check(rows.some((r) => r.text.includes("role assumable")), "verification lists each role");
  check(rows.some((r) => r.text.includes("issuer reachable") && r.state === "not_met"), "the unpublished issuer is not met, with its fix");
  check(rows.some((r) => r.state === "met"), "requirements moto satisfies are met");
  await shot("verify", true);

  // 5. The first scan, then its score.
  await submit("#start-scan");
  const scanId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  check(/\/scans\//.test(page.url()), `the first scan starts (${scanId})`);
  let status = "";
  for (let i = 0; i < 180 && status !== "complete" && status !== "failed"; i += 1) {
    const reply = await page.request.get(`${base}/api/v1/scans/${encodeURIComponent(scanId)}`);
    status = (await reply.json()).status;
    if (status !== "complete") await page.waitForTimeout(1000);
  }
  check(status === "complete", `the first scan completes (${status})`);
  await page.goto(base + "/");
  const score = (await page.textContent("#secure-score")).trim();
  check(/^\d+(\.\d)?%$/.test(score), `the overview shows the first scan's secure score (${score})`);
  await shot("first-scan-score");
  await page.goto(base + "/connectors");
  await shot("connectors", true);
  check(pageErrors.length === 0, `no page errors (${pageErrors.join("; ")})`);
} finally {
  await context.close();
}
