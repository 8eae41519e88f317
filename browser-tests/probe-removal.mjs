// Timing probe, not a test: the §4 page's run over every faker on the CPU backend, in quick or full
// setting (`node browser-tests/probe-removal.mjs quick`, after `trunk build --release`); prints the time and the means.
import { chromium } from 'playwright-core';
import { serveDist } from './serve.mjs';
const setting = process.argv[2] ?? 'quick';
const server = await serveDist(process.cwd() + '/dist');
const origin = server.origin;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
await page.goto(`${origin}/strategies/removal?backend=cpu&v=1&setting=${setting}`);
await page.getByTestId('run-all-start').waitFor({ timeout: 120000 });
await page.locator('[data-testid="run-all-start"]:not([disabled])').waitFor({ timeout: 120000 });
await page.getByTestId('run-all-start').click();
await page.locator('[data-testid="run-all"]:is([data-state="done"], [data-state="failed"])').waitFor({ timeout: 3600000 });
const runAll = page.getByTestId('run-all');
const means = await page.getByTestId('removal-mean').evaluateAll((rows) => rows.map((r) => ({ ...r.dataset })));
console.log(JSON.stringify({ setting, state: await runAll.getAttribute('data-state'), done: await runAll.getAttribute('data-done'), seconds: await runAll.getAttribute('data-seconds'), means }));
await page.screenshot({ path: `/tmp/probe/removal-${setting}.png`, fullPage: true });
await browser.close();
await server.close();
