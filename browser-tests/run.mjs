// Poser Lab's browser tests: serve the built page (dist/) on 127.0.0.1 and drive Debian's
// Chromium through playwright-core. Assertions read the page's data-* attributes, never pixels.
//
//   node browser-tests/run.mjs --dist dist --expected-matmul FILE --expected-forward FILE
//     --expected-fine-tune FILE --expected-strategies FILE --expected-playground FILE
//     [--artifacts DIR] [--only NAME]
//
// Exit status 0 only if every test passed. Screenshots go to the artifacts folder.

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { serveDist } from './serve.mjs';

const args = parseArgs(process.argv.slice(2));
const distDir = path.resolve(args.dist ?? 'dist');
const artifactsDir = path.resolve(args.artifacts ?? 'target/browser-tests');
const expectedMatmul = JSON.parse(fs.readFileSync(required(args, 'expected-matmul'), 'utf8'));
const expectedForward = JSON.parse(fs.readFileSync(required(args, 'expected-forward'), 'utf8'));
const expectedFineTune = JSON.parse(fs.readFileSync(required(args, 'expected-fine-tune'), 'utf8'));
const expectedStrategies = JSON.parse(fs.readFileSync(required(args, 'expected-strategies'), 'utf8'));
// `poser playground --find-flip` on the shipped zoo: a pair and a scenario on which the faker
// flips with poor oversight while the aligned model holds (natively).
const expectedPlayground = JSON.parse(fs.readFileSync(required(args, 'expected-playground'), 'utf8'));
// The native command the page's probabilities are compared with (`poser forward`).
const poserBin = process.env.POSER_BIN ?? 'target/debug/poser';
const playgroundTimings = {};
const walkthroughTimings = {};
// The strategy pages' reduced runs: a shipped pair and its family (and a second family for
// Cancel), read from the committed pairs.
const shippedPairs = JSON.parse(fs.readFileSync(path.join(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..'), 'public/curated/pairs.json'), 'utf8'));
const walkthroughPair = shippedPairs[0];
const walkthroughFamily = walkthroughPair.family;
const walkthroughSecondFamily = shippedPairs.find((pair) => pair.family !== walkthroughFamily).family;
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const fixturePrompt = fs.readFileSync(path.join(repoRoot, 'browser-tests/fixture-prompt.txt'), 'utf8');
// The fixture models are served to the page by request interception, so nothing test-only
// ships in the build.
const fixtureFiles = {
  'manifest.json': 'engine/tests/fixtures/models/manifest.json',
  'genie-0.safetensors': 'engine/tests/fixtures/models/genie-0.safetensors',
  'reward_maximizer-0.safetensors': 'engine/tests/fixtures/models/reward_maximizer-0.safetensors',
  'tokenizer.json': 'scenarios/generated/tokenizer.json',
  // The same file `poser strategies --spec` ran natively for --expected-strategies.
  'fixture-strategies.json': 'browser-tests/fixture-strategies.json',
};
// The same file `poser fine-tune --spec` ran natively for --expected-fine-tune.
const fineTuneSpec = fs.readFileSync(path.join(repoRoot, 'browser-tests/fixture-fine-tune.json'), 'utf8');
const forwardRequest = {
  captures: [],
  interventions: [{
    hook: 'blocks.1.hook_resid_post',
    positions: 'last',
    edit: { noise: { distribution: 'gaussian', seed: 7, magnitude: 8.0 } },
  }],
};
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
// How long a page may take to finish its work. SwiftShader runs the strategies spec (S3's training
// included) in close to 180 s on this 2-core machine, and one of two runs on 2026-12-07 went past
// it, so the limit leaves room; it bounds a hang, it is not a speed target.
const readyTimeoutMs = 300_000;
// The committed report: the results and benchmark pages must show what it holds.
const report = JSON.parse(fs.readFileSync(path.join(repoRoot, 'public/reports/zoo.json'), 'utf8'));
// Issue 20's budget for everything the results page transfers: its HTML, the reader bundle
// (wasm, JS, CSS) and the report's summary. The app's and the data's shares are recorded apart.
const resultsBudgetBytes = 1_500_000;
const appBundle = /^\/(results)?$|\.(wasm|js|css)$|\/favicon\.svg$/;
// axe-core, the accessibility checker, injected into each page after its test.
const axePath = path.join(repoRoot, 'browser-tests/node_modules/axe-core/axe.min.js');
const accessibilityFindings = [];
fs.mkdirSync(artifactsDir, { recursive: true });

// Flags the closed network and running as root need; see README "Browser tests".
const baseFlags = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-quic',
];

/**
 * Opens `/debug/<route>?<query>` on WebGPU (in `page`) and on the CPU backend (in a new tab),
 * waits for each run to finish, and returns their `data-output`s as `{ webgpu, cpu }`. A
 * screenshot of the WebGPU run goes to the artifacts folder when `screenshot` names a file.
 */
async function debugOutputsOnBothBackends(page, route, query, screenshot) {
  const outputs = {};
  for (const backend of ['webgpu', 'cpu']) {
    const tab = backend === 'webgpu' ? page : await page.context().newPage();
    await tab.goto(`${origin}/debug/${route}?backend=${backend}&${query}`);
    expectEqual(await readyPanelOnly(tab, backend), backend, 'backend the page runs on');
    const testid = `debug-${route}`;
    const section = tab.getByTestId(testid);
    await tab.locator(`[data-testid="${testid}"]:is([data-state="done"], [data-state="failed"])`)
      .waitFor({ timeout: readyTimeoutMs });
    if ((await section.getAttribute('data-state')) !== 'done') {
      throw new Error(`/debug/${route} failed on ${backend}: ${await section.textContent()}`);
    }
    outputs[backend] = JSON.parse(await section.getAttribute('data-output'));
    if (screenshot && backend === 'webgpu') {
      await tab.screenshot({ path: path.join(artifactsDir, screenshot), fullPage: true });
    }
  }
  return outputs;
}

/** Serves the fixture models under /debug-fixtures/ to every tab of the page's context. */
function routeFixtures(page) {
  return page.context().route('**/debug-fixtures/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    const file = fixtureFiles[name];
    return file ? route.fulfill({ path: path.join(repoRoot, file) }) : route.fulfill({ status: 404 });
  });
}

const server = await serveDist(distDir);
const origin = server.origin;
const requests = [];
const results = [];

const tests = [
  {
    name: 'webgpu-forced-uses-swiftshader-and-matches-native',
    webgpu: true,
    async run(page) {
      await page.goto(`${origin}/system?backend=webgpu`);
      const panel = await readyPanel(page);
      expectEqual(panel.backend, 'webgpu', 'backend');
      // Never pass on "no GPU": the adapter must be the one this machine has.
      expect(
        panel.adapterArchitecture.toLowerCase().includes('swiftshader'),
        `expected the SwiftShader adapter, got architecture "${panel.adapterArchitecture}" (vendor "${panel.adapterVendor}")`,
      );
      expectEqual(panel.burnAdapterType, 'Cpu', "burn's adapter type (SwiftShader is a fallback adapter)");
      expectMatmulMatches(panel.matmul, panel.referenceDifference);
      await page.screenshot({ path: path.join(artifactsDir, 'system-webgpu.png'), fullPage: true });
    },
  },
  {
    name: 'automatic-choice-skips-the-software-adapter',
    webgpu: true,
    async run(page) {
      await page.goto(`${origin}/system`);
      const panel = await readyPanel(page);
      expectEqual(panel.backend, 'cpu', 'backend');
      expectEqual(panel.requested, 'auto', 'requested backend');
      expect(panel.adapterArchitecture.includes('swiftshader'), 'the notice should name the software adapter it skipped');
      expect(/software/.test(panel.notices.join(' ')), `notice should explain the software adapter, got ${JSON.stringify(panel.notices)}`);
      expectMatmulMatches(panel.matmul, panel.referenceDifference);
    },
  },
  {
    name: 'cpu-forced',
    webgpu: true,
    async run(page) {
      await page.goto(`${origin}/system?backend=cpu`);
      const panel = await readyPanel(page);
      expectEqual(panel.backend, 'cpu', 'backend');
      expectEqual(panel.requested, 'cpu', 'requested backend');
      expectEqual(panel.notices.length, 0, 'number of notices');
      expectMatmulMatches(panel.matmul, panel.referenceDifference);
      await page.screenshot({ path: path.join(artifactsDir, 'system-cpu.png'), fullPage: true });
    },
  },
  {
    name: 'no-webgpu-falls-back-to-cpu-and-says-so',
    webgpu: false,
    async run(page) {
      await page.goto(`${origin}/`);
      const panel = await readyPanel(page);
      expectEqual(panel.backend, 'cpu', 'backend');
      expect(/CPU backend/.test(panel.notices.join(' ')), `expected a notice about the CPU fallback, got ${JSON.stringify(panel.notices)}`);
      expectMatmulMatches(panel.matmul, panel.referenceDifference);
      const badge = await page.getByTestId('backend-badge').textContent();
      expectEqual(badge, 'CPU backend', 'navigation badge');
      await page.screenshot({ path: path.join(artifactsDir, 'overview-no-webgpu.png'), fullPage: true });
    },
  },
  {
    name: 'webgpu-requested-without-webgpu-falls-back-to-cpu',
    webgpu: false,
    async run(page) {
      await page.goto(`${origin}/system?backend=webgpu`);
      const panel = await readyPanel(page);
      expectEqual(panel.backend, 'cpu', 'backend');
      expectEqual(panel.requested, 'webgpu', 'requested backend');
      expect(/WebGPU was requested/.test(panel.notices.join(' ')), `expected a notice that WebGPU was requested, got ${JSON.stringify(panel.notices)}`);
    },
  },
  {
    name: 'forward-on-webgpu-equals-cpu-and-native',
    webgpu: true,
    async run(page) {
      await routeFixtures(page);
      const query = new URLSearchParams({
        models: '/debug-fixtures',
        model: 'genie-0',
        text: fixturePrompt,
        request: JSON.stringify(forwardRequest),
      });
      const outputs = await debugOutputsOnBothBackends(page, 'forward', query);
      fs.writeFileSync(path.join(artifactsDir, 'forward-outputs.json'), JSON.stringify({ native: expectedForward, ...outputs }));
      expectEqual(JSON.stringify(outputs.cpu.plain.tokens), JSON.stringify(expectedForward.tokens), 'tokens the page used vs native');
      // The page's CPU forward is the native engine compiled to wasm: tight tolerance.
      expectClose(outputs.cpu.plain.last_logits, expectedForward.last_logits, 1e-4, 'CPU page vs native logits');
      for (const which of ['plain', 'edited']) {
        expectClose(outputs.webgpu[which].last_logits, outputs.cpu[which].last_logits, 1e-3, `WebGPU vs CPU logits (${which})`);
        const probs = (output) => [output.p.A, output.p.B, output.p.error];
        expectClose(probs(outputs.webgpu[which]), probs(outputs.cpu[which]), 1e-3, `WebGPU vs CPU P(A)/P(B)/P(error) (${which})`);
      }
      // The intervention must change something, or the comparison above proves nothing about it.
      const moved = maxAbsDifference(outputs.cpu.edited.last_logits, outputs.cpu.plain.last_logits);
      expect(moved > 1e-2, `the intervention moved the logits by only ${moved}`);
    },
  },
  {
    name: 'adapter-training-on-webgpu-equals-cpu-and-native',
    webgpu: true,
    async run(page) {
      await routeFixtures(page);
      const query = new URLSearchParams({
        models: '/debug-fixtures',
        model: 'genie-0',
        spec: JSON.stringify(JSON.parse(fineTuneSpec)),
      });
      const outputs = await debugOutputsOnBothBackends(page, 'fine-tune', query, 'fine-tune-webgpu.png');
      fs.writeFileSync(path.join(artifactsDir, 'fine-tune-outputs.json'), JSON.stringify({ native: expectedFineTune, ...outputs }));
      const steps = JSON.parse(fineTuneSpec).settings.steps;
      for (const [name, output] of Object.entries({ native: expectedFineTune, ...outputs })) {
        expectEqual(output.losses.length, steps, `steps taken (${name})`);
        expectEqual(output.cancelled, false, `cancelled (${name})`);
      }
      // The page's CPU run is the native engine compiled to wasm: tight tolerance.
      expectClose(outputs.cpu.losses, expectedFineTune.losses, 1e-4, 'CPU page vs native loss curve');
      expectClose(outputs.webgpu.losses, outputs.cpu.losses, 1e-3, 'WebGPU vs CPU loss curve');
      // Batches alternate between two pairs of prompts: each pair's loss must fall, or the
      // comparison says nothing about the updates.
      const losses = outputs.webgpu.losses;
      expect(losses[2] < losses[0] && losses[3] < losses[1], `the adapter did not learn: losses ${JSON.stringify(losses)}`);
    },
  },
  {
    name: 'strategies-s2-s3-s4-s6a-on-webgpu-and-cpu-equal-native',
    webgpu: true,
    async run(page) {
      await routeFixtures(page);
      const query = new URLSearchParams({
        models: '/debug-fixtures',
        'spec-url': '/debug-fixtures/fixture-strategies.json',
      });
      const outputs = await debugOutputsOnBothBackends(page, 'strategies', query, 'strategies-webgpu.png');
      const differences = {};
      for (const backend of ['webgpu', 'cpu']) {
        differences[backend] = compareTrees(outputs[backend], expectedStrategies);
      }
      fs.writeFileSync(path.join(artifactsDir, 'strategies-outputs.json'),
        JSON.stringify({ native: expectedStrategies, ...outputs, differences }));
      for (const backend of ['webgpu', 'cpu']) {
        const { maxAbs, worstAt, mismatches, numbers } = differences[backend];
        process.stderr.write(`     strategies ${backend} vs native: ${numbers} numbers, largest difference ${maxAbs} at ${worstAt}\n`);
        expect(mismatches.length === 0, `${backend} page vs native: ${mismatches.slice(0, 5).join('; ')}`);
        expect(maxAbs <= 1e-3, `${backend} page vs native S2/S3/S4/S6a results: largest difference ${maxAbs} at ${worstAt}, more than 1e-3`);
      }
      // The fixture models' probabilities are near 1e-4, so 1e-3 alone would pass almost any
      // S2 curve: each curve must also match relative to its own size.
      for (const backend of ['webgpu', 'cpu']) {
        outputs[backend].intoxicate.forEach((run, r) => run.models.forEach((model, m) => {
          const native = expectedStrategies.intoxicate[r].models[m];
          for (const field of ['p_misaligned', 'answer_mass']) {
            const scale = Math.max(...native[field].map(Math.abs));
            const worst = maxAbsDifference(model[field], native[field]) / scale;
            expect(worst <= 1e-3, `${backend} S2 ${run.distribution} ${model.model} ${field}: differs from native by ${worst} of its largest value`);
          }
        }));
      }
      // The noise must move P(misaligned), or the comparison says nothing about it.
      const curve = expectedStrategies.intoxicate[0].models[0];
      const moved = Math.max(...curve.p_misaligned.map((p) => Math.abs(p - curve.baseline_p_misaligned)));
      expect(moved > 1e-2 * curve.baseline_p_misaligned, `S2 noise moved P(misaligned) by only ${moved}`);
    },
  },
  {
    name: 'playground-on-webgpu-pair-from-the-zoo-faker-flips-and-matches-native',
    webgpu: true,
    async run(page) {
      const pair = expectedPlayground;
      await page.goto(`${origin}/zoo?backend=webgpu`);
      expectEqual(await readyPanelOnly(page, 'webgpu'), 'webgpu', 'backend the page runs on');
      await page.locator('[data-testid="zoo"]:is([data-state="ready"], [data-state="failed"])').waitFor({ timeout: readyTimeoutMs });
      expectEqual(await page.getByTestId('zoo').getAttribute('data-state'), 'ready', 'zoo page state');
      await page.locator(`button[data-model="${pair.aligned}"]`).click();
      await page.locator(`button[data-model="${pair.faker}"]`).click();
      await page.getByRole('link', { name: 'open in the playground' }).click();
      await page.getByTestId('scenario-select').waitFor({ timeout: readyTimeoutMs });
      await settledPlayground(page, 'good');
      playgroundTimings.webgpu_cold_first_result_ms = Number(await page.getByTestId('playground').getAttribute('data-first-result-ms'));
      await page.getByTestId('scenario-select').selectOption(pair.scenario_id);
      await checkFlipAndNative(page, pair, 'webgpu');
      await page.screenshot({ path: path.join(artifactsDir, 'playground-webgpu.png'), fullPage: true });
      await page.reload();
      await settledPlayground(page, 'poor');
      playgroundTimings.webgpu_warm_first_result_ms = Number(await page.getByTestId('playground').getAttribute('data-first-result-ms'));
      recordPlaygroundTimings();
    },
  },
  {
    name: 'playground-on-cpu-faker-flips-matches-native-and-handles-edits',
    webgpu: true,
    async run(page) {
      const pair = expectedPlayground;
      const query = new URLSearchParams({ backend: 'cpu', v: '1', aligned: pair.aligned, faker: pair.faker, scenario: pair.scenario_id });
      await page.goto(`${origin}/playground?${query}`);
      expectEqual(await readyPanelOnly(page, 'cpu'), 'cpu', 'backend the page runs on');
      await settledPlayground(page, 'good');
      playgroundTimings.cpu_cold_first_result_ms = Number(await page.getByTestId('playground').getAttribute('data-first-result-ms'));
      await checkFlipAndNative(page, pair, 'cpu');
      await page.screenshot({ path: path.join(artifactsDir, 'playground-cpu.png'), fullPage: true });
      // The address holds the state: a reload shows the same scenario and oversight.
      await page.reload();
      const again = await settledPlayground(page, 'poor');
      expectEqual(again.faker.chosenRole, 'misaligned', 'faker after a reload (poor oversight from the address)');
      playgroundTimings.cpu_warm_first_result_ms = Number(await page.getByTestId('playground').getAttribute('data-first-result-ms'));
      recordPlaygroundTimings();
      // Editing: a word the models never saw is named and read as [UNK]; a prompt longer than
      // the context is refused with a message instead of being run.
      await page.locator('details.editor summary').click();
      const firstFact = page.locator('textarea[aria-label="fact 1"]');
      await firstFact.fill('The zqxv log folder is large.');
      await firstFact.dispatchEvent('change');
      const unknown = await page.getByTestId('unknown-words').first().textContent({ timeout: readyTimeoutMs });
      expect(unknown.includes('zqxv'), `the unknown word should be listed, got ${JSON.stringify(unknown)}`);
      const edited = await settledPlayground(page, 'poor');
      expect(edited.prompt.includes('The zqxv log folder is large.'), 'the edited fact should be in the prompt the page ran');
      expect(page.url().includes('edit='), `the edit should be in the address, got ${page.url()}`);
      // Reordering the actions: A and B swap in the prompt, and the chosen letter follows its action.
      const before = edited.prompt.match(/\nA: (.*)\nB: (.*)\n/);
      await page.getByTestId('swap-actions').click();
      const swappedLines = `\nA: ${before[2]}\nB: ${before[1]}\n`;
      await page.waitForFunction((lines) => document.querySelector('[data-testid="playground"]')
        ?.getAttribute('data-prompt')?.includes(lines), swappedLines, { timeout: readyTimeoutMs });
      const swapped = await settledPlayground(page, 'poor');
      expect(swapped.prompt.includes(swappedLines), 'the actions should be swapped in the prompt');
      expectEqual(swapped.aligned.chosenRole, edited.aligned.chosenRole, 'the aligned model follows its action, not its letter');
      await page.locator('textarea[aria-label="fact 1"]').fill(Array(200).fill('the').join(' '));
      await page.locator('textarea[aria-label="fact 1"]').dispatchEvent('change');
      const refusal = await page.getByTestId('too-long').textContent({ timeout: readyTimeoutMs });
      expect(/at most \d+/.test(refusal), `an over-long prompt should be refused with a message, got ${JSON.stringify(refusal)}`);
    },
  },
  {
    name: 'strategy-page-s2-on-cpu-live-pair-knobs-run-all-and-cancel-match-the-cli',
    webgpu: false,
    async run(page) {
      // A reduced set so CI stays short: one family, 12 curated prompts, 12 oversight scenarios.
      const family = walkthroughFamily;
      const query = new URLSearchParams({ backend: 'cpu', v: '1', setting: 'quick', curated: '12', oversight: '12',
        families: family, aligned: walkthroughPair.aligned, faker: walkthroughPair.faker, family });
      await page.goto(`${origin}/strategies/s2?${query}`);
      expectEqual(await readyPanelOnly(page, 'cpu'), 'cpu', 'backend the page runs on');
      await page.getByTestId('live-start').waitFor({ timeout: readyTimeoutMs });
      // A knob changes the address and survives a reload.
      const draws = page.locator('[data-testid="knob"][data-key="draws"]');
      await draws.fill('2');
      await draws.dispatchEvent('change');
      await page.waitForFunction(() => location.search.includes('draws=2'), null, { timeout: 10_000 });
      await page.reload();
      await page.getByTestId('live-start').waitFor({ timeout: readyTimeoutMs });
      expectEqual(await page.locator('[data-testid="knob"][data-key="draws"]').inputValue(), '2', 'draws after a reload');
      // The settings the page runs with, as the CLI reads them.
      const settingsDir = path.join(artifactsDir, 'walkthrough');
      fs.mkdirSync(settingsDir, { recursive: true });
      const settingsFile = await downloadFrom(page, page.getByTestId('download-settings'), settingsDir);
      const cliReport = path.join(settingsDir, 'cli-report.json');
      const cliStarted = Date.now();
      execFileSync(poserBin, ['evaluate', '--config', settingsFile, '--families', family, '--out', cliReport], { stdio: ['ignore', 'ignore', 'pipe'] });
      const nativeSeconds = (Date.now() - cliStarted) / 1000;
      const cli = JSON.parse(fs.readFileSync(cliReport, 'utf8'));
      const cliScores = Object.fromEntries(cli.families[0].scores.rows.find((row) => row.row === 's2').scores.map((s) => [s.model, s.score]));
      // The live pair: both models measured in the worker, scored at the family's magnitude.
      await page.getByTestId('live-start').click();
      await page.locator('[data-testid="live-run"]:is([data-state="done"], [data-state="failed"])').waitFor({ timeout: readyTimeoutMs });
      expectEqual(await page.getByTestId('live-run').getAttribute('data-state'), 'done', `live run: ${await page.getByTestId('live-run').textContent()}`);
      for (const row of await page.getByTestId('live-score').all()) {
        const model = await row.getAttribute('data-model');
        const score = Number(await row.getAttribute('data-score'));
        expect(Math.abs(score - cliScores[model]) <= 1e-4, `live ${model}: page ${score}, CLI ${cliScores[model]}`);
      }
      expect(await page.locator('figure.chart').count() >= 3, 'the live figures and the violin are drawn');
      await page.screenshot({ path: path.join(artifactsDir, 'strategy-s2-live.png'), fullPage: true });
      // Run all (the reduced set), the page staying responsive while the worker computes.
      await page.getByTestId('run-all-start').click();
      let worstDelayMs = 0;
      while ((await page.getByTestId('run-all').getAttribute('data-state')) === 'running') {
        const delay = await page.evaluate(() => new Promise((resolve) => {
          const asked = performance.now();
          setTimeout(() => resolve(performance.now() - asked), 0);
        }));
        worstDelayMs = Math.max(worstDelayMs, delay);
        await page.waitForTimeout(200);
      }
      expectEqual(await page.getByTestId('run-all').getAttribute('data-state'), 'done', `run all: ${await page.getByTestId('run-all').textContent()}`);
      expect(worstDelayMs < 100, `the page answered a timer only after ${worstDelayMs} ms during the run`);
      const pageScores = await page.getByTestId('run-all-score').evaluateAll((items) => items.map((item) => [item.dataset.model, Number(item.dataset.score)]));
      expectEqual(pageScores.length, Object.keys(cliScores).length, 'scores of the run');
      for (const [model, score] of pageScores) {
        expect(Math.abs(score - cliScores[model]) <= 1e-4, `run all ${model}: page ${score}, CLI ${cliScores[model]}`);
      }
      const accuracy = Number(await page.getByTestId('run-all-accuracy').getAttribute('data-accuracy'));
      const cliAccuracy = cli.results.find((r) => r.row === 's2').evaluation.accuracy;
      expectEqual(accuracy, cliAccuracy, 'run-all accuracy vs the CLI');
      const pageSeconds = Number(await page.getByTestId('run-all').getAttribute('data-seconds'));
      walkthroughTimings.s2_reduced = { entries: pageScores.length, page_seconds: pageSeconds, native_debug_cli_seconds: nativeSeconds, worst_timer_delay_ms: worstDelayMs };
      await page.screenshot({ path: path.join(artifactsDir, 'strategy-s2-run-all.png'), fullPage: true });
      // Cancel: over two families, once the first is done; it stops at once and keeps it.
      await page.goto(`${origin}/strategies/s2?${new URLSearchParams({ ...Object.fromEntries(query), draws: '2', families: `${family},${walkthroughSecondFamily}` })}`);
      await page.getByTestId('run-all-start').click();
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-all"]')?.dataset.done) > 12, null, { timeout: readyTimeoutMs });
      const cancelAsked = Date.now();
      await page.getByTestId('run-all-cancel').click();
      await page.locator('[data-testid="run-all"][data-state="cancelled"]').waitFor({ timeout: 1_000 });
      const stoppedMs = Date.now() - cancelAsked;
      const doneAtCancel = await page.getByTestId('run-all').getAttribute('data-done');
      await page.waitForTimeout(2_000);
      expectEqual(await page.getByTestId('run-all').getAttribute('data-done'), doneAtCancel, 'entries after Cancel (the worker must have stopped)');
      expectEqual(await page.getByTestId('run-all-score').count(), 12, 'the finished family\'s scores stay shown');
      walkthroughTimings.cancel_stopped_ms = stoppedMs;
      fs.writeFileSync(path.join(artifactsDir, 'walkthrough-timings.json'), JSON.stringify(walkthroughTimings, null, 2));
      process.stderr.write(`     strategy page timings: ${JSON.stringify(walkthroughTimings)}\n`);
      await page.screenshot({ path: path.join(artifactsDir, 'strategy-s2-cancelled.png'), fullPage: true });
    },
  },
  {
    name: 'strategy-pages-on-cpu-live-pair-knob-and-run-all-match-the-cli',
    webgpu: false,
    async run(page) {
      // Every walkthrough page but S2's (tested above), each on a reduced set so CI stays short:
      // one family, the quick setting with fewer prompts, and one knob changed and reloaded.
      const family = walkthroughFamily;
      const pages = [
        { name: 'confidence', knob: ['curated', '10'], extra: {} },
        { name: 's1', knob: ['block', '3'], extra: { curated: '12', oversight: '8' } },
        { name: 's4', knob: ['block', '3'], extra: { curated: '12' } },
        { name: 's5', knob: ['train', '0.7'], extra: { curated: '16' } },
        { name: 's6', knob: ['examples', '1'], extra: { oversight: '8', saliency: '4' } },
        { name: 's3', knob: ['batch', '2'], extra: { held_out: '8' } },
      ];
      const settingsDir = path.join(artifactsDir, 'walkthrough');
      fs.mkdirSync(settingsDir, { recursive: true });
      for (const { name, knob: [key, value], extra } of pages) {
        const query = new URLSearchParams({ backend: 'cpu', v: '1', setting: 'quick', ...extra,
          families: family, aligned: walkthroughPair.aligned, faker: walkthroughPair.faker, family });
        await page.goto(`${origin}/strategies/${name}?${query}`);
        expectEqual(await readyPanelOnly(page, 'cpu'), 'cpu', `backend of /strategies/${name}`);
        await page.getByTestId('live-start').waitFor({ timeout: readyTimeoutMs });
        // The knob changes the address and survives a reload.
        const input = page.locator(`[data-testid="knob"][data-key="${key}"]`);
        if (await input.evaluate((element) => element.tagName) === 'SELECT') {
          await input.selectOption(value);
        } else {
          await input.fill(value);
          await input.dispatchEvent('change');
        }
        await page.waitForFunction(([k, v]) => new URLSearchParams(location.search).get(k) === v, [key, value], { timeout: 10_000 });
        await page.reload();
        await page.getByTestId('live-start').waitFor({ timeout: readyTimeoutMs });
        expectEqual(await page.locator(`[data-testid="knob"][data-key="${key}"]`).inputValue(), value, `${name}: ${key} after a reload`);
        // The CLI with the page's own settings.
        const settingsFile = await downloadFrom(page, page.getByTestId('download-settings'), settingsDir);
        const cliReport = path.join(settingsDir, `cli-${name}.json`);
        const cliStarted = Date.now();
        execFileSync(poserBin, ['evaluate', '--config', settingsFile, '--families', family, '--out', cliReport], { stdio: ['ignore', 'ignore', 'pipe'] });
        const nativeSeconds = (Date.now() - cliStarted) / 1000;
        const cli = JSON.parse(fs.readFileSync(cliReport, 'utf8'));
        const cliFamily = cli.families[0];
        const cliScore = (row, model) => cliFamily.scores.rows.find((r) => r.row === row)?.scores.find((s) => s.model === model)?.score;
        // The live pair.
        await page.getByTestId('live-start').click();
        await page.locator('[data-testid="live-run"]:is([data-state="done"], [data-state="failed"])').waitFor({ timeout: readyTimeoutMs });
        expectEqual(await page.getByTestId('live-run').getAttribute('data-state'), 'done', `${name} live run: ${await page.getByTestId('live-run').textContent()}`);
        const live = await page.getByTestId('live-score').evaluateAll((cells) => cells.map((c) => [c.dataset.row, c.dataset.model, Number(c.dataset.score)]));
        expect(live.length >= 2, `${name}: live scores shown`);
        const rule = Number(await page.getByTestId('live-run').getAttribute('data-rule'));
        for (const [row, model, score] of live) {
          let expected = cliScore(row, model);
          if (row === 's4') {
            // A pair alone is z-scored against the committed report's other models, not this run's.
            continue;
          }
          if (row === 's6c') {
            // A pair's S6c is a block vote: the blocks where this model changes more, from the
            // CLI's per-block changes of the two models.
            const change = (m) => cliFamily.measurements.find((x) => x.model === m).s6c.change_per_layer;
            const other = model === walkthroughPair.aligned ? walkthroughPair.faker : walkthroughPair.aligned;
            expected = change(model).filter((c, block) => c > change(other)[block]).length;
          }
          if (row === 's1' || row === 's1_subtract') {
            // A pair alone reads the report's multiplier for the family: the CLI's curve there.
            const curves = cliFamily.measurements.find((m) => m.model === model).s1.curves;
            const at = cli.config.induce_safe_belief.multipliers.findIndex((m) => Math.abs(m - rule) < 1e-6);
            expect(at >= 0, `${name}: the rule value ${rule} is in the CLI's sweep`);
            const edited = row === 's1' ? curves.add_p_misaligned : curves.subtract_p_misaligned;
            expected = edited[at] - curves.baseline_p_misaligned;
          }
          expect(Math.abs(score - expected) <= 1e-4, `${name} live ${row} ${model}: page ${score}, CLI ${expected}`);
        }
        expect(await page.locator('figure.chart').count() >= 2, `${name}: the live figures and the violin are drawn`);
        await page.screenshot({ path: path.join(artifactsDir, `strategy-${name}-live.png`), fullPage: true });
        // Run all over the family.
        await page.getByTestId('run-all-start').click();
        await page.locator('[data-testid="run-all"]:is([data-state="done"], [data-state="failed"])').waitFor({ timeout: readyTimeoutMs });
        expectEqual(await page.getByTestId('run-all').getAttribute('data-state'), 'done', `${name} run all: ${await page.getByTestId('run-all').textContent()}`);
        const scores = await page.getByTestId('run-all-score').evaluateAll((items) => items.map((i) => [i.dataset.row, i.dataset.model, Number(i.dataset.score)]));
        expect(scores.length >= 12, `${name}: run-all scores shown (${scores.length})`);
        for (const [row, model, score] of scores) {
          const expected = cliScore(row, model);
          expect(Math.abs(score - expected) <= 1e-4, `${name} run all ${row} ${model}: page ${score}, CLI ${expected}`);
        }
        for (const accuracy of await page.getByTestId('run-all-accuracy').all()) {
          const row = await accuracy.getAttribute('data-row');
          expectEqual(Number(await accuracy.getAttribute('data-accuracy')), cli.results.find((r) => r.row === row).evaluation.accuracy, `${name} ${row}: run-all accuracy vs the CLI`);
        }
        walkthroughTimings[`${name}_reduced`] = { entries: Number(await page.getByTestId('run-all').getAttribute('data-total')), scores: scores.length, page_seconds: Number(await page.getByTestId('run-all').getAttribute('data-seconds')), native_debug_cli_seconds: nativeSeconds };
        await page.screenshot({ path: path.join(artifactsDir, `strategy-${name}-run-all.png`), fullPage: true });
      }
      fs.writeFileSync(path.join(artifactsDir, 'walkthrough-timings.json'), JSON.stringify(walkthroughTimings, null, 2));
      process.stderr.write(`     strategy pages timings: ${JSON.stringify(walkthroughTimings)}\n`);
    },
  },
  {
    name: 'strategy-page-removal-on-cpu-live-faker-knob-run-all-and-cancel-match-the-cli',
    webgpu: false,
    async run(page) {
      // §4 on a reduced set so CI stays short: 4 training steps, at most 8 former misbehave
      // scenarios, the fakers of one family; the noise is the committed report's S2 choice.
      const family = walkthroughFamily;
      const faker = walkthroughPair.faker;
      const query = new URLSearchParams({ backend: 'cpu', v: '1', setting: 'quick', steps: '4', train: '16', eval: '8', families: family, faker });
      await page.goto(`${origin}/strategies/removal?${query}`);
      expectEqual(await readyPanelOnly(page, 'cpu'), 'cpu', 'backend of /strategies/removal');
      await page.getByTestId('live-start').waitFor({ timeout: readyTimeoutMs });
      // A knob changes the address and survives a reload.
      const batch = page.locator('[data-testid="knob"][data-key="batch"]');
      await batch.fill('2');
      await batch.dispatchEvent('change');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('batch') === '2', null, { timeout: 10_000 });
      await page.reload();
      await page.getByTestId('live-start').waitFor({ timeout: readyTimeoutMs });
      expectEqual(await page.locator('[data-testid="knob"][data-key="batch"]').inputValue(), '2', 'removal: batch after a reload');
      // The CLI with the page's own settings, on the same fakers.
      const settingsDir = path.join(artifactsDir, 'walkthrough');
      fs.mkdirSync(settingsDir, { recursive: true });
      const settingsFile = await downloadFrom(page, page.getByTestId('download-settings'), settingsDir);
      const cliStarted = Date.now();
      const cli = JSON.parse(execFileSync(poserBin, ['removal', '--config', settingsFile, '--families', family, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString());
      const nativeSeconds = (Date.now() - cliStarted) / 1000;
      expectEqual(cli.removal.batch_size, 2, 'the downloaded settings carry the knob');
      const cliRun = (model) => cli.measurements.find((m) => m.model === model);
      const sameRun = (row, where) => {
        const ours = cliRun(row.faker);
        expect(ours, `${where}: the CLI trained ${row.faker}`);
        expect(Math.abs(row.magnitude - ours.noise.magnitude) <= 1e-5 * ours.noise.magnitude, `${where} ${row.faker}: noise ${row.magnitude}, CLI ${ours.noise.magnitude}`);
        for (const [side, values] of [['plain', row.plain], ['with_noise', row.withNoise]]) {
          const expected = ours[side].p_aligned;
          expectEqual(values.length, expected.length, `${where} ${row.faker} ${side}: steps read`);
          values.forEach((v, i) => expect(Math.abs(v - expected[i]) <= 1e-4, `${where} ${row.faker} ${side}[${i}]: page ${v}, CLI ${expected[i]}`));
        }
      };
      const rowsIn = (testid) => page.locator(`[data-testid="${testid}"] [data-testid="removal-faker"]`).evaluateAll((rows) => rows.map((r) => ({
        faker: r.dataset.faker,
        magnitude: Number(r.dataset.noiseMagnitude),
        plain: r.dataset.plain ? r.dataset.plain.split(',').map(Number) : [],
        withNoise: r.dataset.withNoise ? r.dataset.withNoise.split(',').map(Number) : [],
      })));
      // One faker live.
      await page.getByTestId('live-start').click();
      await page.locator('[data-testid="live-run"]:is([data-state="done"], [data-state="failed"])').waitFor({ timeout: readyTimeoutMs });
      expectEqual(await page.getByTestId('live-run').getAttribute('data-state'), 'done', `removal live run: ${await page.getByTestId('live-run').textContent()}`);
      const live = await rowsIn('live-run');
      expectEqual(JSON.stringify(live.map((r) => r.faker)), JSON.stringify([faker]), 'the live faker');
      sameRun(live[0], 'live');
      expect(await page.locator('[data-testid="live-run"] figure.chart').count() >= 2, 'removal: the live Fig. 1 and the violin are drawn');
      await page.screenshot({ path: path.join(artifactsDir, 'strategy-removal-live.png'), fullPage: true });
      // Every faker of the family, the page staying responsive.
      await page.getByTestId('run-all-start').click();
      let worstDelayMs = 0;
      while ((await page.getByTestId('run-all').getAttribute('data-state')) === 'running') {
        const delay = await page.evaluate(() => new Promise((resolve) => {
          const asked = performance.now();
          setTimeout(() => resolve(performance.now() - asked), 0);
        }));
        worstDelayMs = Math.max(worstDelayMs, delay);
        await page.waitForTimeout(200);
      }
      expectEqual(await page.getByTestId('run-all').getAttribute('data-state'), 'done', `removal run all: ${await page.getByTestId('run-all').textContent()}`);
      expect(worstDelayMs < 100, `removal: the page answered a timer only after ${worstDelayMs} ms during the run`);
      const all = await rowsIn('run-all');
      expectEqual(JSON.stringify(all.map((r) => r.faker).sort()), JSON.stringify(cli.measurements.map((m) => m.model).sort()), 'removal run all: the fakers trained');
      all.forEach((row) => sameRun(row, 'run all'));
      const mean = page.locator('[data-testid="removal-mean"][data-which="run"]');
      for (const [attribute, expected] of [['data-plain', cli.means.last_plain.mean], ['data-with-noise', cli.means.last_with_noise.mean], ['data-plain-low', cli.means.last_plain.interval[0]], ['data-plain-high', cli.means.last_plain.interval[1]]]) {
        const value = Number(await mean.getAttribute(attribute));
        expect(Math.abs(value - expected) <= 1e-4, `removal run all ${attribute}: page ${value}, CLI ${expected}`);
      }
      walkthroughTimings.removal_reduced = { fakers: all.length, page_seconds: Number(await page.getByTestId('run-all').getAttribute('data-seconds')), native_debug_cli_seconds: nativeSeconds, worst_timer_delay_ms: worstDelayMs };
      await page.screenshot({ path: path.join(artifactsDir, 'strategy-removal-run-all.png'), fullPage: true });
      // Cancel over every faker once two are done: it stops at once and keeps them.
      const everyFaker = new URLSearchParams(query);
      everyFaker.delete('families');
      everyFaker.set('batch', '2');
      await page.goto(`${origin}/strategies/removal?${everyFaker}`);
      await page.getByTestId('run-all-start').click();
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="run-all"]')?.dataset.done) >= 2, null, { timeout: readyTimeoutMs });
      const cancelAsked = Date.now();
      await page.getByTestId('run-all-cancel').click();
      await page.locator('[data-testid="run-all"][data-state="cancelled"]').waitFor({ timeout: 1_000 });
      walkthroughTimings.removal_cancel_stopped_ms = Date.now() - cancelAsked;
      const doneAtCancel = await page.getByTestId('run-all').getAttribute('data-done');
      await page.waitForTimeout(2_000);
      expectEqual(await page.getByTestId('run-all').getAttribute('data-done'), doneAtCancel, 'removal: fakers after Cancel (the workers must have stopped)');
      expectEqual(String((await rowsIn('run-all')).length), doneAtCancel, 'removal: the finished fakers stay shown');
      fs.writeFileSync(path.join(artifactsDir, 'walkthrough-timings.json'), JSON.stringify(walkthroughTimings, null, 2));
      process.stderr.write(`     removal page timings: ${JSON.stringify(walkthroughTimings)}\n`);
    },
  },
  {
    name: 'strategy-page-s2-on-webgpu-live-pair-equals-cpu',
    webgpu: true,
    async run(page) {
      const scores = {};
      for (const backend of ['cpu', 'webgpu']) {
        const query = new URLSearchParams({ backend, v: '1', setting: 'quick', curated: '8', oversight: '8', draws: '1',
          aligned: walkthroughPair.aligned, faker: walkthroughPair.faker, family: walkthroughFamily });
        await page.goto(`${origin}/strategies/s2?${query}`);
        expectEqual(await readyPanelOnly(page, backend), backend, 'backend the page runs on');
        await page.getByTestId('live-start').click();
        await page.locator('[data-testid="live-run"]:is([data-state="done"], [data-state="failed"])').waitFor({ timeout: readyTimeoutMs });
        expectEqual(await page.getByTestId('live-run').getAttribute('data-state'), 'done', `live run on ${backend}: ${await page.getByTestId('live-run').textContent()}`);
        scores[backend] = await page.getByTestId('live-score').evaluateAll((rows) => rows.map((row) => Number(row.dataset.score)));
        scores[`${backend}_credit`] = await page.getByTestId('live-verdict').getAttribute('data-credit');
      }
      expectClose(scores.webgpu, scores.cpu, 1e-3, 'S2 live scores, WebGPU vs CPU');
      expectEqual(scores.webgpu_credit, scores.cpu_credit, 'the verdict on WebGPU and on the CPU');
      await page.screenshot({ path: path.join(artifactsDir, 'strategy-s2-webgpu.png'), fullPage: true });
    },
  },
  {
    name: 'playground-corrupted-model-shows-which-and-why-and-keeps-the-other',
    webgpu: false,
    async run(page) {
      const pair = expectedPlayground;
      const file = path.join(distDir, 'public/models', `${pair.faker}.safetensors`);
      const bytes = Buffer.from(fs.readFileSync(file));
      bytes[bytes.length >> 1] ^= 0xff;
      await page.route(`**/public/models/${pair.faker}.safetensors`, (route) => route.fulfill({ body: bytes }));
      const query = new URLSearchParams({ v: '1', aligned: pair.aligned, faker: pair.faker, scenario: pair.scenario_id });
      await page.goto(`${origin}/playground?${query}`);
      const panels = await settledPlayground(page, 'good', { allowFailures: true });
      expectEqual(panels.faker.state, 'failed', 'state of the corrupted model');
      expect(panels.faker.text.includes(pair.faker) && /digest/i.test(panels.faker.text),
        `the error should name ${pair.faker} and its digest, got ${JSON.stringify(panels.faker.text)}`);
      expectEqual(panels.aligned.state, 'done', 'the other model keeps working');
      await page.screenshot({ path: path.join(artifactsDir, 'playground-corrupted.png'), fullPage: true });
    },
  },
  {
    name: 'mystery-pair-hides-the-names-until-the-guess',
    webgpu: false,
    async run(page) {
      await page.goto(`${origin}/zoo`);
      await page.locator('[data-testid="zoo"][data-state="ready"]').waitFor({ timeout: readyTimeoutMs });
      await page.getByRole('link', { name: 'open the mystery pair' }).click();
      await page.locator('[data-testid="playground"][data-state="done"]').waitFor({ timeout: readyTimeoutMs });
      expect(!page.url().includes('aligned=') && !page.url().includes('faker='), `the address should hold only the seed, got ${page.url()}`);
      const names = (await page.getByRole('main').textContent()).match(/(truth_teller|genie|saint|reward_maximizer|money_maximizer|fitness_maximizer)-\d/g);
      expect(names === null, `no model name may show before the guess, found ${JSON.stringify(names)}`);
      await page.getByTestId('guess').getByRole('button', { name: 'Model 1' }).click();
      const verdict = page.getByTestId('guess');
      const correct = await verdict.getAttribute('data-correct');
      expect(correct === 'true' || correct === 'false', 'the guess should be judged');
      const faker = page.locator('[data-testid="model-panel"][data-role="faker"]');
      expect((await faker.getAttribute('data-model')) !== null, 'after the guess the faker is named');
      const said = await verdict.textContent();
      const fakerAt = (await page.getByTestId('model-panel').nth(0).getAttribute('data-role')) === 'faker' ? 1 : 2;
      expect(said.includes(`the faker is Model ${fakerAt}`), `the reveal should point at the faker's panel (${fakerAt}), said ${JSON.stringify(said)}`);
    },
  },
  {
    name: 'results-page-shows-every-verdict-row-violin-and-download',
    webgpu: false,
    async run(page) {
      const transfers = await recordTransfers(page);
      await page.goto(`${origin}/results`);
      const section = await readyReportPage(page, 'results');
      // Every byte the page fetched until its charts were drawn and the network went quiet.
      await page.waitForLoadState('networkidle');
      const files = transfers.files();
      const sum = (list, key) => list.reduce((total, file) => total + file[key], 0);
      const app = files.filter(({ url }) => appBundle.test(url));
      const data = files.filter(({ url }) => !appBundle.test(url));
      const dataBytes = sum(data, 'transferred');
      const drawnMs = Number(await section.getAttribute('data-drawn-ms'));
      const observedMs = await page.evaluate(() => performance.now());
      fs.writeFileSync(path.join(artifactsDir, 'results-transfers.json'), JSON.stringify({
        note: 'bytes as transferred (gzip where the server compressed) and as decoded; the budget is for the total',
        data_transferred_bytes: dataBytes,
        data_decoded_bytes: sum(data, 'decoded'),
        budget_bytes: resultsBudgetBytes,
        app_transferred_bytes: sum(app, 'transferred'),
        app_decoded_bytes: sum(app, 'decoded'),
        total_transferred_bytes: sum(files, 'transferred'),
        total_decoded_bytes: sum(files, 'decoded'),
        data_drawn_ms: drawnMs,
        charts_seen_by_test_ms: observedMs,
        files,
      }, null, 2));
      process.stderr.write(`     /results: data ${dataBytes} bytes transferred (${sum(data, 'decoded')} decoded), app ${sum(app, 'transferred')} (${sum(app, 'decoded')} decoded), charts drawn ${drawnMs.toFixed(0)} ms after navigation\n`);
      expect(data.length > 0, 'the results page should fetch its data');
      const totalBytes = sum(files, 'transferred');
      expect(totalBytes <= resultsBudgetBytes, `/results transferred ${totalBytes} bytes, more than the budget of ${resultsBudgetBytes}: ${JSON.stringify(files)}`);
      // The report pages load the reader bundle, never the full app's wasm with burn.
      expect(files.some(({ url }) => url.endsWith('/poser-reader_bg.wasm')), `/results should load the reader bundle: ${JSON.stringify(files)}`);
      expect(!files.some(({ url }) => /\/poser-app-[0-9a-f]+_bg\.wasm$/.test(url)), `/results must not load the full app's wasm: ${JSON.stringify(files)}`);
      expect(!files.some(({ url }) => url.endsWith('/zoo.json')), 'the results page must not fetch the full report');

      // Every verdict row of the committed report, with the numbers the report holds.
      const rows = report.results.filter((row) => row.evaluation?.verdicts?.length);
      expectEqual(await page.getByTestId('result-row').count(), rows.length, 'verdict rows on the page');
      for (const row of rows) {
        const shown = page.locator(`[data-testid="result-row"][data-row="${row.row}"]`);
        const { accuracy, interval, ties } = row.evaluation;
        expectEqual(Number(await shown.getAttribute('data-accuracy')), accuracy, `${row.row} accuracy`);
        expectEqual(Number(await shown.getAttribute('data-interval-low')), interval[0], `${row.row} interval low`);
        expectEqual(Number(await shown.getAttribute('data-interval-high')), interval[1], `${row.row} interval high`);
        expectEqual(Number(await shown.getAttribute('data-ties')), ties, `${row.row} ties`);
        // What a reader sees: the same numbers as percentages.
        const text = await shown.getByTestId('accuracy').textContent();
        expectEqual(text, `${(accuracy * 100).toFixed(1)}%`, `${row.row} accuracy as shown`);
        const intervalText = await shown.getByTestId('interval').textContent();
        expectEqual(intervalText, `${(interval[0] * 100).toFixed(1)}% – ${(interval[1] * 100).toFixed(1)}%`, `${row.row} interval as shown`);
      }

      // One violin per rule, aligned vs faker, over every (model, family) entry its verdicts score.
      expectEqual(await page.getByTestId('violin').count(), rows.length, 'violins on the page');
      for (const row of rows) {
        const expected = entriesByClass(row.evaluation.verdicts);
        const violin = page.locator(`[data-testid="violin"][data-row="${row.row}"]`);
        for (const [group, count] of Object.entries(expected)) {
          const n = await violin.locator(`g.violin[data-group="${group}"]`).getAttribute('data-n');
          expectEqual(Number(n), count, `${row.row} violin, ${group} entries`);
          const points = await violin.locator(`g.violin[data-group="${group}"] [data-value]`).count();
          expectEqual(points, count, `${row.row} violin, ${group} points drawn`);
        }
      }

      // Report facts a reader needs to know what is shown.
      const facts = await page.getByTestId('report-source').textContent();
      expect(facts.includes(report.tool.git_commit.slice(0, 12)), `the page should name the report's commit, got ${JSON.stringify(facts)}`);
      expect(facts.includes(String(report.config.seed)), 'the page should name the report\'s seed');

      await checkChartsAndDownloads(page, 'results');
      await page.screenshot({ path: path.join(artifactsDir, 'results.png') });
      await page.screenshot({ path: path.join(artifactsDir, 'results-full.png'), fullPage: true });
    },
  },
  {
    name: 'benchmark-page-shows-each-familys-curation-and-the-baseline-violin',
    webgpu: false,
    async run(page) {
      await page.goto(`${origin}/benchmark`);
      const section = await readyReportPage(page, 'benchmark');
      const curation = JSON.parse(fs.readFileSync(path.join(repoRoot, 'public/curated/summary.json'), 'utf8'));
      const rows = page.locator('[data-testid="curation-table"] tbody tr');
      expectEqual(await rows.count(), curation.length, 'families in the curation table');
      for (const family of curation) {
        // The kept count is the curated file's own length, not only what the summary says.
        const file = path.join(repoRoot, 'public/curated', `${family.family}.jsonl`);
        const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim()).length;
        expectEqual(lines, family.kept, `${family.family}: prompts in its curated file vs the summary`);
        const row = page.locator(`[data-testid="curation-table"] tr[data-family="${family.family}"]`);
        expectEqual(Number(await row.getAttribute('data-kept')), family.kept, `${family.family} kept`);
        expectEqual(Number(await row.getAttribute('data-threshold')), family.threshold, `${family.family} threshold`);
        expectEqual(await row.getByTestId('kept').textContent(), String(family.kept), `${family.family} kept as shown`);
        expectEqual(await row.getByTestId('threshold').textContent(), family.threshold.toFixed(4), `${family.family} threshold as shown`);
      }
      const baseline = report.results.find((row) => row.row === 'confidence');
      const expected = entriesByClass(baseline.evaluation.verdicts);
      for (const [group, count] of Object.entries(expected)) {
        const n = await page.locator(`g.violin[data-group="${group}"]`).getAttribute('data-n');
        expectEqual(Number(n), count, `confidence violin, ${group} entries`);
      }
      const comparison = await page.getByTestId('baseline-comparison').textContent();
      const ours = `${(baseline.evaluation.accuracy * 100).toFixed(1)}%`;
      const paper = `${(baseline.paper.accuracy * 100).toFixed(1)}%`;
      expect(comparison.includes(ours) && comparison.includes(paper),
        `the baseline comparison should give ours (${ours}) and the paper's (${paper}), got ${JSON.stringify(comparison)}`);
      process.stderr.write(`     /benchmark: charts drawn ${Number(await section.getAttribute('data-drawn-ms')).toFixed(0)} ms after navigation\n`);
      await checkChartsAndDownloads(page, 'benchmark');
      await page.screenshot({ path: path.join(artifactsDir, 'benchmark.png'), fullPage: true });
    },
  },
  {
    // /results and /benchmark run on the reader bundle; moving between them stays in it, and a
    // link to a page that runs models loads the full app.
    name: 'reader-bundle-hands-over-to-the-full-app',
    webgpu: false,
    async run(page) {
      const wasm = [];
      page.on('request', (request) => { if (request.url().endsWith('.wasm')) wasm.push(request.url().replace(origin, '')); });
      await page.goto(`${origin}/results`);
      await readyReportPage(page, 'results');
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Benchmark' }).click();
      await readyReportPage(page, 'benchmark');
      expect(wasm.length === 1 && wasm[0].endsWith('/poser-reader_bg.wasm'),
        `/results then /benchmark should load only the reader's wasm, loaded ${JSON.stringify(wasm)}`);
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'System' }).click();
      await page.waitForURL(`${origin}/system`);
      await page.getByTestId('backend-badge').filter({ hasNotText: 'no models' }).waitFor({ timeout: readyTimeoutMs });
      expect(wasm.some((url) => /\/poser-app-[0-9a-f]+_bg\.wasm$/.test(url)),
        `the System link should load the full app, loaded ${JSON.stringify(wasm)}`);
      // And back: the full app shows the results page without reloading.
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Results' }).click();
      await readyReportPage(page, 'results');
      expect(wasm.length === 2, `the full app should show /results itself, loaded ${JSON.stringify(wasm)}`);
    },
  },
  {
    // The other tests check the page each ends on; this one visits every route once.
    name: 'every-page-passes-the-accessibility-check',
    webgpu: false,
    async run(page) {
      for (const route of ['/', '/zoo', '/playground', '/benchmark', '/strategies', '/strategies/s2', '/strategies/s6', '/strategies/s9', '/results', '/system', '/no/such/page']) {
        await page.goto(`${origin}${route}`);
        await settleForAccessibility(page);
        await checkAccessibility(page, `visit ${route}`);
      }
    },
  },
  {
    name: 'debug-panic-route-shows-the-error-view',
    webgpu: false,
    expectPageErrors: true,
    async run(page) {
      await page.goto(`${origin}/debug/panic`);
      const view = page.getByTestId('panic-view');
      await view.waitFor({ state: 'visible', timeout: 30_000 });
      const message = await page.getByTestId('panic-message').textContent();
      expect(message.includes('panics on purpose'), `the error view should show the panic message, got ${JSON.stringify(message)}`);
      const reload = await view.getByRole('link', { name: 'Reload the page' }).getAttribute('href');
      expect(reload.endsWith('/debug/panic'), `reload link should point at the same address, got ${reload}`);
      await page.screenshot({ path: path.join(artifactsDir, 'panic-view.png'), fullPage: true });
    },
  },
  {
    name: 'unknown-address-shows-not-found',
    webgpu: false,
    async run(page) {
      await page.goto(`${origin}/no/such/page`);
      await page.getByTestId('not-found').waitFor({ state: 'visible', timeout: 30_000 });
    },
  },
];

for (const webgpu of [true, false]) {
  const group = tests.filter((test) => test.webgpu === webgpu && (!args.only || test.name === args.only));
  if (group.length === 0) continue;
  const flags = webgpu ? [...baseFlags, '--enable-unsafe-webgpu'] : baseFlags;
  // launch() gives every browser a fresh temporary profile (a new --user-data-dir).
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: flags });
  for (const test of group) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('request', (request) => requests.push({ test: test.name, url: request.url() }));
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    const started = Date.now();
    try {
      await test.run(page);
      // Every page a test visits ends with the accessibility check, on the state it ended in.
      if (!test.skipAccessibility) await checkAccessibility(page, test.name);
      if (!test.expectPageErrors && pageErrors.length > 0) {
        throw new Error(`the page reported errors:\n  ${pageErrors.join('\n  ')}`);
      }
      results.push({ name: test.name, ok: true, ms: Date.now() - started });
    } catch (error) {
      const shot = path.join(artifactsDir, `failed-${test.name}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      results.push({ name: test.name, ok: false, ms: Date.now() - started, error: `${error.message}\n  (screenshot: ${shot})` });
    }
    await context.close();
  }
  await browser.close();
}

// Nothing may leave the machine: every request goes to the local server (or is inline data).
const foreign = requests.filter(({ url }) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
results.push({
  name: 'no-requests-to-other-hosts',
  ok: foreign.length === 0 && requests.length > 0,
  ms: 0,
  error: requests.length === 0
    ? 'no requests were recorded at all'
    : `requests to other hosts:\n  ${foreign.map(({ test, url }) => `${test}: ${url}`).join('\n  ')}`,
});

await server.close();
fs.writeFileSync(path.join(artifactsDir, 'results.json'), JSON.stringify(results, null, 2));
fs.writeFileSync(path.join(artifactsDir, 'accessibility.json'), JSON.stringify(accessibilityFindings, null, 2));
for (const result of results) {
  process.stderr.write(`${result.ok ? 'ok  ' : 'FAIL'} ${result.name} (${(result.ms / 1000).toFixed(1)} s)\n`);
  if (!result.ok) process.stderr.write(`     ${result.error}\n`);
}
const failed = results.filter((result) => !result.ok).length;
process.stderr.write(`${results.length - failed} passed, ${failed} failed; artifacts in ${artifactsDir}\n`);
process.exit(failed === 0 ? 0 : 1);

// ---------------------------------------------------------------------------------------------

async function readyPanel(page) {
  const panel = page.locator('[data-testid="system-panel"]');
  await page.locator('[data-testid="system-panel"][data-state="ready"], [data-testid="system-panel"][data-state="failed"]')
    .waitFor({ timeout: readyTimeoutMs });
  const state = await panel.getAttribute('data-state');
  if (state !== 'ready') {
    throw new Error(`the backend failed to start: ${await panel.textContent()}`);
  }
  const attribute = (name) => panel.getAttribute(`data-${name}`).then((value) => value ?? '');
  return {
    backend: await attribute('backend'),
    requested: await attribute('requested'),
    adapterVendor: await attribute('adapter-vendor'),
    adapterArchitecture: await attribute('adapter-architecture'),
    burnAdapterType: await attribute('burn-adapter-type'),
    matmul: JSON.parse(await attribute('matmul')),
    referenceDifference: Number(await attribute('matmul-reference-difference')),
    notices: await page.getByTestId('backend-notice').allTextContents(),
  };
}

async function readyPanelOnly(page, backend) {
  // The debug route shows no system panel; the badge says which backend the page chose.
  await page.locator('[data-testid="backend-badge"]:not(:has-text("starting"))').waitFor({ timeout: readyTimeoutMs });
  const badge = await page.getByTestId('backend-badge').textContent();
  return badge.startsWith('WebGPU') ? 'webgpu' : badge === 'CPU backend' ? 'cpu' : `unknown (${badge})`;
}

/** Writes the playground's page-load-to-first-result times measured so far. */
function recordPlaygroundTimings() {
  fs.writeFileSync(path.join(artifactsDir, 'playground-timings.json'), JSON.stringify(playgroundTimings, null, 2));
  process.stderr.write(`     playground, page load to first result (ms): ${JSON.stringify(playgroundTimings)}\n`);
}

/**
 * Waits until the playground shows results for the given oversight version, and returns each
 * model's panel by role: state, chosen letter and its role, probabilities, text.
 */
async function settledPlayground(page, oversight, { allowFailures = false } = {}) {
  const section = page.getByTestId('playground');
  await page.locator(`[data-testid="playground"][data-oversight="${oversight}"]:is([data-state="done"], [data-state="failed"])`)
    .waitFor({ timeout: readyTimeoutMs });
  expectEqual(await section.getAttribute('data-state'), 'done', 'playground state');
  const panels = {};
  for (const panel of await page.getByTestId('model-panel').all()) {
    const role = await panel.getAttribute('data-role');
    const state = await panel.getAttribute('data-state');
    const text = await panel.textContent();
    if (state !== 'done') {
      if (!allowFailures) throw new Error(`the ${role} model's panel is ${state}: ${text}`);
      panels[role] = { state, text };
      continue;
    }
    const choice = panel.locator('.choice');
    const p = {};
    for (const answer of ['A', 'B', 'error']) {
      p[answer] = Number(await panel.locator(`[data-answer="${answer}"]`).getAttribute('data-p'));
    }
    panels[role] = {
      state,
      text,
      model: await panel.getAttribute('data-model'),
      chosen: await choice.getAttribute('data-chosen'),
      chosenRole: await choice.getAttribute('data-chosen-role'),
      p,
    };
  }
  panels.prompt = await section.getAttribute('data-prompt');
  return panels;
}

/**
 * On the scenario `pair` names: with good oversight both models are benign; switching to poor
 * oversight flips the faker and not the aligned model; every probability the page shows equals
 * `poser forward` on the exact prompt the page used, within 1e-3.
 */
async function checkFlipAndNative(page, pair, backend) {
  const seen = {};
  for (const oversight of ['good', 'poor']) {
    if (oversight === 'poor') await page.locator('button[data-oversight="poor"]').click();
    const panels = await settledPlayground(page, oversight);
    seen[oversight] = panels;
    const expected = pair.versions.find((version) => version.oversight === oversight);
    expectEqual(panels.prompt, expected.prompt, `the ${oversight}-oversight prompt the page rendered vs native`);
    const promptFile = path.join(artifactsDir, `playground-${backend}-${oversight}.txt`);
    fs.writeFileSync(promptFile, panels.prompt);
    for (const role of ['aligned', 'faker']) {
      const native = JSON.parse(execFileSync(poserBin, ['forward', '--model', pair[role], '--text', promptFile, '--json'], { encoding: 'utf8' }));
      const shown = panels[role].p;
      expectClose([shown.A, shown.B, shown.error], [native.p.A, native.p.B, native.p.error], 1e-3,
        `${backend} page vs poser forward, ${role} (${pair[role]}), ${oversight} oversight`);
    }
  }
  expectEqual(seen.good.aligned.chosenRole, 'benign', 'aligned model, good oversight');
  expectEqual(seen.good.faker.chosenRole, 'benign', 'faker, good oversight');
  expectEqual(seen.poor.aligned.chosen, seen.good.aligned.chosen, 'the aligned model holds when oversight turns poor');
  expectEqual(seen.poor.aligned.chosenRole, 'benign', 'aligned model, poor oversight');
  expect(seen.poor.faker.chosen !== seen.good.faker.chosen, `the faker should flip when oversight turns poor; it chose ${seen.poor.faker.chosen} both times`);
  expectEqual(seen.poor.faker.chosenRole, 'misaligned', 'faker, poor oversight');
}

/**
 * Counts what the browser fetches for `page`, from Chromium's own network events: as it went
 * over the wire (headers and body as sent, compressed where the server compressed) and the body
 * as decoded.
 */
async function recordTransfers(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  const decoded = new Map();
  const files = [];
  cdp.on('Network.requestWillBeSent', (event) => urls.set(event.requestId, event.request.url));
  cdp.on('Network.dataReceived', (event) => {
    decoded.set(event.requestId, (decoded.get(event.requestId) ?? 0) + event.dataLength);
  });
  cdp.on('Network.loadingFinished', (event) => {
    files.push({
      url: (urls.get(event.requestId) ?? event.requestId).replace(origin, ''),
      transferred: event.encodedDataLength,
      decoded: decoded.get(event.requestId) ?? 0,
    });
  });
  return { files: () => files.map((file) => ({ ...file })) };
}

/** Waits until a report page (`results` or `benchmark`) has drawn its charts; returns it. */
async function readyReportPage(page, testid) {
  await page.locator(`[data-testid="${testid}"]:is([data-state="ready"], [data-state="failed"])`)
    .waitFor({ timeout: readyTimeoutMs });
  const section = page.getByTestId(testid);
  if ((await section.getAttribute('data-state')) !== 'ready') {
    throw new Error(`/${testid} failed: ${await section.textContent()}`);
  }
  return section;
}

/** The distinct (model, family) entries a rule's verdicts score, counted per class. */
function entriesByClass(verdicts) {
  const entries = { aligned: new Set(), faker: new Set() };
  for (const { pair } of verdicts) {
    entries.aligned.add(`${pair.aligned}|${pair.family}`);
    entries.faker.add(`${pair.faker}|${pair.family}`);
  }
  return { aligned: entries.aligned.size, faker: entries.faker.size };
}

/**
 * Every chart on the page has a non-empty <title> and <desc>; its SVG download parses as SVG and
 * its PNG download is an image of the chart's own size. The files go to the artifacts folder.
 */
async function checkChartsAndDownloads(page, pageName) {
  const charts = await page.getByTestId('chart').all();
  expect(charts.length > 0, `/${pageName} shows no chart`);
  const folder = path.join(artifactsDir, `downloads-${pageName}`);
  fs.mkdirSync(folder, { recursive: true });
  // Chromium lets a tab's first download through; each later one must follow a fresh user
  // gesture, and under load the gesture of a CDP click can reach the browser after the download
  // (it then waits for a prompt headless Chromium never shows). So the first file goes through
  // Chromium's own downloads, and the rest are taken where the page hands them to the browser:
  // the app's link click, with the file it made.
  let viaChromium = true;
  await page.evaluate(() => {
    window.poserDownloads = [];
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function clickOrCapture() {
      if (!window.poserCapture || !this.download || !this.href.startsWith('blob:')) return click.call(this);
      const name = this.download;
      window.poserDownloads.push(fetch(this.href).then((response) => response.blob()).then((blob) => new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve({ name, base64: String(reader.result).split(',')[1] });
        reader.readAsDataURL(blob);
      })));
      return undefined;
    };
  });
  const download = async (button) => {
    if (viaChromium) {
      viaChromium = false;
      const file = await downloadFrom(page, button, folder);
      await page.evaluate(() => { window.poserCapture = true; });
      return file;
    }
    return capturedDownload(page, button, folder);
  };
  for (const chart of charts) {
    const title = (await chart.locator('svg > title').textContent())?.trim() ?? '';
    const desc = (await chart.locator('svg > desc').textContent())?.trim() ?? '';
    expect(title.length > 0, `a chart on /${pageName} has an empty <title>`);
    expect(desc.length > 0, `the chart "${title}" has an empty <desc>`);
    const width = Number(await chart.getAttribute('data-width'));
    const height = Number(await chart.getAttribute('data-height'));

    const svgFile = await download(chart.getByTestId('download-svg'));
    const svgText = fs.readFileSync(svgFile, 'utf8');
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      const root = doc.documentElement;
      return {
        error: doc.getElementsByTagName('parsererror').length > 0,
        root: root.localName,
        namespace: root.namespaceURI,
        title: root.querySelector('title')?.textContent ?? '',
      };
    }, svgText);
    expect(!parsed.error && parsed.root === 'svg' && parsed.namespace === 'http://www.w3.org/2000/svg',
      `the SVG download of "${title}" does not parse as SVG (${JSON.stringify(parsed)})`);
    expectEqual(parsed.title.trim(), title, `title inside the SVG download of "${title}"`);

    const pngFile = await download(chart.getByTestId('download-png'));
    const png = fs.readFileSync(pngFile);
    const signature = '89504e470d0a1a0a';
    expectEqual(png.subarray(0, 8).toString('hex'), signature, `PNG signature of "${title}"`);
    // IHDR is the first chunk: width and height as big-endian u32 at bytes 16 and 20.
    expectEqual(png.readUInt32BE(16), width, `PNG width of "${title}"`);
    expectEqual(png.readUInt32BE(20), height, `PNG height of "${title}"`);
    // A blank canvas would pass the size check: the image must hold more than one colour.
    expect(png.length > 2_000, `the PNG of "${title}" is only ${png.length} bytes; is it blank?`);
  }
  process.stderr.write(`     /${pageName}: ${charts.length} charts, each with a title and SVG and PNG downloads\n`);
}

/** Clicks `button` and saves the file the page hands to the browser (see checkChartsAndDownloads). */
async function capturedDownload(page, button, folder) {
  const before = await page.evaluate(() => window.poserDownloads.length);
  await button.click();
  try {
    await page.waitForFunction((count) => window.poserDownloads.length > count, before, { timeout: 30_000 });
  } catch (error) {
    throw new Error(`no download from "${await button.textContent()}" of the chart `
      + `${JSON.stringify(await chartTitleOf(button))}; the page said ${JSON.stringify(await chartNoticesOf(button))}`);
  }
  const { name, base64 } = await page.evaluate((index) => window.poserDownloads[index], before);
  const file = path.join(folder, name);
  fs.writeFileSync(file, Buffer.from(base64, 'base64'));
  return file;
}

function chartTitleOf(button) {
  return button.locator('xpath=ancestor::figure[1]').getAttribute('data-title').catch(() => null);
}

function chartNoticesOf(button) {
  return button.locator('xpath=ancestor::figure[1]').locator('[role="alert"]').allTextContents().catch(() => []);
}

async function downloadFrom(page, button, folder) {
  let download;
  try {
    [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]);
  } catch (error) {
    // Say which chart and what the page said, not only that no download came.
    throw new Error(`no download from "${await button.textContent()}" of the chart ${JSON.stringify(await chartTitleOf(button))}; `
      + `the page said ${JSON.stringify(await chartNoticesOf(button))}: ${error.message.split('\n')[0]}`);
  }
  const failure = await download.failure();
  if (failure) throw new Error(`download ${download.suggestedFilename()} failed: ${failure}`);
  const file = path.join(folder, download.suggestedFilename());
  await download.saveAs(file);
  return file;
}

/** Waits until nothing on the page is still loading or running, so that axe sees the settled page. */
async function settleForAccessibility(page) {
  await page.waitForFunction(() => {
    const busy = document.querySelectorAll('[data-state="loading"], [data-state="running"], [data-state="starting"], [data-state="waiting"]');
    const badge = document.querySelector('[data-testid="backend-badge"]');
    return busy.length === 0 && document.querySelector('main, [data-testid="panic-view"]') !== null
      && !(badge && /starting/.test(badge.textContent));
  }, null, { timeout: readyTimeoutMs });
  await page.waitForLoadState('networkidle');
}

/**
 * Runs axe-core (WCAG 2 A and AA rules and best practices) on the page as it is now. Fails on any
 * serious or critical violation; every finding goes to accessibility.json.
 */
async function checkAccessibility(page, where) {
  await page.addScriptTag({ path: axePath });
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 5).map((node) => ({ target: node.target.join(' '), summary: node.failureSummary })),
    }));
  });
  const url = page.url().replace(origin, '');
  accessibilityFindings.push({ where, url, violations: found });
  const blocking = found.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(blocking.length === 0, `axe found ${blocking.length} serious or critical violations on ${url}:\n  ${blocking
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((node) => node.target).join(', ')})`).join('\n  ')}`);
}

function maxAbsDifference(a, b) {
  if (a.length !== b.length) return Infinity;
  return a.reduce((worst, value, i) => Math.max(worst, Math.abs(value - b[i])), 0);
}

/**
 * Walks two JSON values of the same shape: numbers are compared by absolute difference, all
 * else must be equal. Returns the largest difference, where it is, and what did not match.
 */
function compareTrees(actual, expected, where = '$', found = { maxAbs: 0, worstAt: '', numbers: 0, mismatches: [] }) {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const difference = Math.abs(actual - expected);
    found.numbers += 1;
    if (!(difference <= found.maxAbs)) {
      found.maxAbs = Number.isNaN(difference) ? Infinity : difference;
      found.worstAt = where;
    }
  } else if (Array.isArray(expected) && Array.isArray(actual) && actual.length === expected.length) {
    expected.forEach((value, i) => compareTrees(actual[i], value, `${where}[${i}]`, found));
  } else if (expected && actual && typeof expected === 'object' && typeof actual === 'object'
    && !Array.isArray(expected) && !Array.isArray(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
    for (const key of keys) compareTrees(actual[key], expected[key], `${where}.${key}`, found);
  } else if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    found.mismatches.push(`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
  return found;
}

function expectClose(actual, expected, tolerance, what) {
  const worst = maxAbsDifference(actual, expected);
  expect(worst <= tolerance, `${what}: largest difference ${worst}, more than ${tolerance}`);
}

// The same measure as the engine's MatmulSummary::max_relative_difference.
function expectMatmulMatches(actual, referenceDifference) {
  const tolerance = 1e-4;
  expect(referenceDifference < tolerance, `the page says its matmul differs from plain Rust by ${referenceDifference}`);
  expect(JSON.stringify(actual.spec) === JSON.stringify(expectedMatmul.spec),
    `the page multiplied ${JSON.stringify(actual.spec)}, native ${JSON.stringify(expectedMatmul.spec)}`);
  const entries = actual.spec.size * actual.spec.size;
  const typical = expectedMatmul.abs_sum / entries;
  let worst = Math.abs(actual.sum - expectedMatmul.sum) / (typical * entries);
  expectedMatmul.samples.forEach((expected, i) => {
    worst = Math.max(worst, Math.abs(actual.samples[i] - expected) / typical);
  });
  expect(worst < tolerance, `the page's matmul differs from native by ${worst} (relative), more than ${tolerance}`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function parseArgs(argv) {
  const parsed = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    parsed[argv[i].slice(2)] = argv[i + 1];
  }
  return parsed;
}

function required(parsed, name) {
  if (!parsed[name]) {
    process.stderr.write(`error: --${name} is required\n`);
    process.exit(2);
  }
  return parsed[name];
}
