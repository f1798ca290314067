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

async function queueResync(page, folder, original, dub, screenshot) {
  await page.goto(cfg.base + "/resync");
  await page.click(`ul.browser a:has-text("${cfg.root}")`);
  for (const part of folder) await page.click(`ul.browser li.dir a:has-text("${part}/")`);
  await page.click(`[data-pick-original="${original}"]`);
  await page.click(`[data-pick-dub="${dub}"]`);
  await page.locator('[data-picked="dubbed"]').waitFor();
  await page.fill("#language", "de");
  if (screenshot) await shot(page, screenshot);
  await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.click('button:has-text("Queue job")')]);
  return Number(new URL(page.url()).pathname.split("/").pop());
}

async function resync(page) {
  step("browse the library and queue a re-sync");
  seen.jobId = await queueResync(page, cfg.folder, cfg.original, cfg.dub, "04-resync-picked");
}

// Plays one listening clip in the page's own <audio> element until it ends or has played a second.
async function play(page, selector) {
  const audio = page.locator(selector).first();
  await audio.scrollIntoViewIfNeeded();
  return audio.evaluate(async (a) => {
    await a.play();  // rejects when the clip cannot be loaded or decoded
    const start = Date.now();
    while (!(a.ended || a.currentTime > 1.0) && Date.now() - start < 30000) await new Promise((r) => setTimeout(r, 100));
    return { duration: a.duration, currentTime: a.currentTime, ended: a.ended, src: a.getAttribute("src"),
             error: a.error ? a.error.code : null };
  });
}

async function listen(page) {
  step(`play the mixed clip of job ${seen.jobId}'s first moment`);
  seen.clipCount = await page.locator("[data-listen] audio").count();
  seen.played = await play(page, '[data-listen="de"] tr[data-moment="0"] audio[data-clip="mix"]');
  await page.locator("[data-listen]").first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(cfg.artifacts, "17-job-listen.png") });
}

async function review(page) {
  step("a weak pair is held for review; listen, then approve it");
  seen.reviewJobId = await queueResync(page, cfg.weakFolder, cfg.weakOriginal, cfg.weakDub, null);
  seen.reviewState = await watch(page, seen.reviewJobId, "needs review", "18-jobs-review");
  await page.goto(cfg.base + `/jobs/${seen.reviewJobId}`);
  seen.reviewVerdict = (await page.locator(".language .kv strong").first().textContent()).trim();
  seen.reviewPlayed = await play(page, '[data-listen="de"] tr[data-moment="0"] audio[data-clip="dub"]');
  await shot(page, "19-job-review");
  await Promise.all([page.waitForLoadState("load"), page.click('button[data-action="approve"]')]);
  seen.approvedFlash = (await page.locator(".flash.ok").first().textContent()).trim();
  seen.approvedState = await watch(page, seen.reviewJobId, "done", "20-jobs-approved");
}

async function watch(page, jobId = seen.jobId, want = "done", screenshot = "05-jobs-done") {
  step(`watch job ${jobId} reach ${want} on the list`);
  await page.goto(cfg.base + "/jobs");
  const state = page.locator(`tr[data-job-id="${jobId}"] [data-field="state"]`);
  const states = new Set();
  const deadline = Date.now() + cfg.jobTimeoutMs;
  while (Date.now() < deadline) {
    // the page polls /api/jobs and reloads itself when a job finishes: read what it shows
    const text = (await state.textContent({ timeout: 10000 }).catch(() => "")).trim();
    if (text) states.add(text);
    if (["done", "failed", "rejected", "needs review", "skipped", "cancelled"].includes(text)) break;
    await page.waitForTimeout(500);
  }
  const final = [...states].pop();
  if (jobId === seen.jobId) {
    seen.statesSeen = [...states];
    seen.finalState = final;
  }
  await shot(page, screenshot);
  expect(final === want, `job ${jobId} ended ${final}; states seen: ${[...states].join(", ")}`);
  return final;
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
  args: ["--headless", "--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--disable-gpu", "--disable-quic", "--no-first-run",
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
  await listen(page);
  await review(page);
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
