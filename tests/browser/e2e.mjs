// Drives Debian's Chromium through the SyncDub pages like a person would.
// Called by test_browser_e2e.py with one JSON argument:
//   {base, username, password, root, folder, original, dub, dubFolder, wantedName, artifacts, profile, jobTimeoutMs}
// Prints one JSON line with what it saw; exits non-zero (after a screenshot) on the first failure.
import { chromium } from "playwright-core";
import path from "node:path";

const cfg = JSON.parse(process.argv[2]);
const seen = { steps: [] };
const shot = (page, name) => page.screenshot({ path: path.join(cfg.artifacts, `${name}.png`), fullPage: true });
const step = (name) => { seen.steps.push(name); console.error(`[e2e] ${name}`); };

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

async function login(page) {
  step("login");
  await page.goto(cfg.base + "/");
  expect(new URL(page.url()).pathname === "/login", `/ should lead to the login, got ${page.url()}`);
  await shot(page, "00-login");
  await page.fill('input[name="username"]', cfg.username);
  await page.fill('input[name="password"]', cfg.password);
  await Promise.all([page.waitForURL("**/jobs"), page.click('button[type="submit"]')]);
  // the config names a dub folder that is not there: the banner must say so on every page
  seen.bannerBefore = (await page.locator('.health li[data-health="counterparts"]').innerText()).trim();
  await shot(page, "01-jobs-after-login");
}

async function dubRoots(page) {
  step("the dub folders field says its format, and saving a real folder clears the banner");
  await page.goto(cfg.base + "/settings#counterparts");
  const field = page.locator('textarea[name="counterparts.dub_roots"]');
  await field.fill(cfg.dubFolder);  // a bare path, as a new user types it
  await Promise.all([page.waitForLoadState("load"), page.click('#counterparts button[type="submit"]')]);
  const error = page.locator('[data-error-for="counterparts.dub_roots"]');
  await error.waitFor();
  seen.dubFormatError = (await error.textContent()).trim();
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(cfg.artifacts, "10-settings-dub-format-error.png") });
  await page.locator('textarea[name="counterparts.dub_roots"]').fill(`de = ${cfg.dubFolder}`);
  await Promise.all([page.waitForLoadState("load"), page.click('#counterparts button[type="submit"]')]);
  await page.locator("#counterparts .flash.ok").waitFor();
  seen.bannerAfter = await page.locator(".health").count();
  await page.locator("#counterparts").scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(cfg.artifacts, "11-settings-dub-saved.png") });
  await page.goto(cfg.base + "/settings#notify");
  await page.locator("#notify").scrollIntoViewIfNeeded();
  seen.notifyBadge = (await page.locator("#notify .badge").first().textContent()).trim();
  await page.screenshot({ path: path.join(cfg.artifacts, "12-settings-notify.png") });
}

async function wanted(page) {
  step("the wanted list, and Sync on a film lacking de");
  await page.goto(cfg.base + "/wanted");
  for (let i = 0; i < 5 && (await page.locator("text=not read yet").count()) > 0; i++) await page.reload();
  seen.wantedBefore = await page.locator("tr[data-wanted]").evaluateAll((trs) => trs.map((tr) => tr.dataset.wanted));
  await shot(page, "13-wanted");
  await Promise.all([page.waitForLoadState("load"), page.click(`button[data-sync="${cfg.wantedName}"]`)]);
  seen.wantedFlash = (await page.locator(".flash.ok").first().textContent()).trim();
  await shot(page, "14-wanted-synced");
  await page.goto(cfg.base + "/plugins");
  seen.pluginNames = await page.locator("body").innerText();
  await shot(page, "15-plugins");
  await page.goto(cfg.base + "/resync");
  await shot(page, "16-resync-roots");
}

async function saveJobsSetting(page, value) {
  await page.goto(cfg.base + "/settings#jobs");
  const field = page.locator('#jobs input[name="jobs.stable_seconds"]');
  await field.fill(value);
  await Promise.all([page.waitForLoadState("load"), page.click('#jobs button[type="submit"]')]);
}

async function settings(page) {
  step("bad setting shows its inline error");
  await saveJobsSetting(page, "soon");
  const error = page.locator('[data-error-for="jobs.stable_seconds"]');
  await error.waitFor();
  seen.inlineError = (await error.textContent()).trim();
  expect(seen.inlineError === "must be an integer", `inline error was "${seen.inlineError}"`);
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(cfg.artifacts, "02-settings-inline-error.png") });

  step("good setting is saved");
  await saveJobsSetting(page, "0");
  const flash = page.locator("#jobs .flash.ok");
  await flash.waitFor();
  seen.saved = (await flash.textContent()).trim();
  expect(seen.saved.startsWith("Jobs settings saved"), `flash was "${seen.saved}"`);
  expect(await page.inputValue('input[name="jobs.stable_seconds"]') === "0", "saved value not shown");
  await page.screenshot({ path: path.join(cfg.artifacts, "03-settings-saved.png") });
  await shot(page, "03b-settings-full");
}

async function resync(page) {
  step("browse the library and queue a re-sync");
  await page.goto(cfg.base + "/resync");
  await page.click(`ul.browser a:has-text("${cfg.root}")`);
  for (const part of cfg.folder) await page.click(`ul.browser li.dir a:has-text("${part}/")`);
  await page.click(`[data-pick-original="${cfg.original}"]`);
  await page.click(`[data-pick-dub="${cfg.dub}"]`);
  await page.locator('[data-picked="dubbed"]').waitFor();
  await page.fill("#language", "de");
  await shot(page, "04-resync-picked");
  await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.click('button:has-text("Queue job")')]);
  seen.jobId = Number(new URL(page.url()).pathname.split("/").pop());
}

async function watch(page) {
  step(`watch job ${seen.jobId} reach done on the list`);
  await page.goto(cfg.base + "/jobs");
  const state = page.locator(`tr[data-job-id="${seen.jobId}"] [data-field="state"]`);
  const states = new Set();
  const deadline = Date.now() + cfg.jobTimeoutMs;
  while (Date.now() < deadline) {
    // the page polls /api/jobs and reloads itself when a job finishes: read what it shows
    const text = (await state.textContent({ timeout: 10000 }).catch(() => "")).trim();
    if (text) states.add(text);
    if (["done", "failed", "rejected", "needs review", "skipped", "cancelled"].includes(text)) break;
    await page.waitForTimeout(500);
  }
  seen.statesSeen = [...states];
  seen.finalState = [...states].pop();
  await shot(page, "05-jobs-done");
  expect(seen.finalState === "done", `job ended ${seen.finalState}; states seen: ${seen.statesSeen.join(", ")}`);
}

async function overview(page) {
  step("library counts and the webhook URLs");
  await page.goto(cfg.base + "/library");
  seen.libraryRow = (await page.locator("table.grid tbody tr").first().innerText()).trim();
  await shot(page, "08-library");
  await page.goto(cfg.base + "/settings");
  seen.webhookUrl = (await page.locator("#webhook-urls code.url").first().textContent()).trim();
  await page.screenshot({ path: path.join(cfg.artifacts, "09-settings-top.png") });
}

async function detail(page) {
  step("open the job and see the plot");
  await page.click(`tr[data-job-id="${seen.jobId}"] td.name a`);
  await page.waitForURL(`**/jobs/${seen.jobId}`);
  const plot = page.locator("img.plot").first();
  await plot.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector("img.plot");
    return img && img.complete && img.naturalWidth > 0;
  });
  seen.plot = await plot.evaluate((img) => ({ src: img.getAttribute("src"), width: img.naturalWidth, height: img.naturalHeight }));
  seen.verdict = (await page.locator(".language .kv strong").first().textContent()).trim();
  seen.confidence = (await page.locator("[data-confidence]").first().textContent()).trim();
  await shot(page, "06-job-detail");
  await plot.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(cfg.artifacts, "07-job-plot.png") });
}

const context = await chromium.launchPersistentContext(cfg.profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(30000);
page.on("dialog", (d) => d.accept());
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${m.text()} at ${m.location().url}`); });
let code = 0;
try {
  await login(page);
  await settings(page);
  await dubRoots(page);
  await resync(page);
  await watch(page);
  await detail(page);
  await overview(page);
  await wanted(page);
} catch (err) {
  seen.error = String(err && err.stack || err);
  await shot(page, "99-failure").catch(() => {});
  code = 1;
} finally {
  seen.consoleErrors = consoleErrors;
  await context.close();
}
console.log(JSON.stringify(seen));
process.exit(code);
