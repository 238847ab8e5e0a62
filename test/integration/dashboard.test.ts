/**
 * The live dashboard in a real browser (Debian's Chromium, driven by
 * playwright-core): the page loads, lists the live workers, and its loss
 * curve grows while the run trains. The test saves a screenshot in
 * test-artifacts/dashboard.png.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { startCoordinator } from '../../coordinator/coordinator';
import { startWorker } from '../../worker/worker';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { stopCoordinator } from '../helpers/stop-coordinator';
import { tmpDir } from '../helpers/tmp';
import { skipIfMissing } from '../helpers/skip';

const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT = path.resolve(__dirname, '../../../test-artifacts/dashboard.png');

describe('the live dashboard', function () {
  this.timeout(300_000);

  before(function () {
    skipIfMissing(this, fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (Debian package 'chromium'; .ci/run installs it)`);
  });

  it('shows the live workers and a loss curve that grows during the run, in Chromium', async () => {
    await useBackend('wasm');
    const coordinator = await startCoordinator(
      coordinatorOptionsFor({ model: 'keras-cnn', epochs: '2', maxSteps: '200', checkpointEvery: '20', backend: 'wasm', port: '0', metricsPort: '0', minWorkers: '2', runDir: tmpDir() }),
    );
    const workers = [1, 2].map((i) => startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), name: `browser-test-${i}` }));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
      await page.goto(`http://127.0.0.1:${coordinator.metricsPort}/`);
      await page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length === 2, undefined, { timeout: 60_000 });
      const names = await page.$$eval('#workers tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent).sort());
      assert.deepEqual(names, ['browser-test-1', 'browser-test-2']);
      const points = () => page.$eval('#loss-chart polyline.train', (p) => (p.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length);
      await page.waitForFunction(() => (document.querySelector('#loss-chart polyline.train')?.getAttribute('points') ?? '').trim().split(/\s+/).length >= 5, undefined, { timeout: 60_000 });
      const before = await points();
      await page.waitForTimeout(2500);
      const after = await points();
      assert.ok(after > before, `the loss curve grew from ${before} to ${after} points`);
      assert.match(await page.textContent('#headline') ?? '', /keras-cnn on mnist-sample: training, epoch \d\/2, step \d+/);
      assert.match(await page.textContent('#breakdown-text') ?? '', /^broadcast [\d.]+ ms, to worker [\d.]+ ms, load weights [\d.]+ ms, compute [\d.]+ ms, encode [\d.]+ ms, to coordinator [\d.]+ ms, aggregate [\d.]+ ms, apply [\d.]+ ms, other [\d.]+ ms$/);
      assert.equal(await page.$$eval('#breakdown div', (ds) => ds.length), 9);
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`      screenshot: ${SCREENSHOT}`);
    } finally {
      await browser.close();
      await stopCoordinator(coordinator);
      for (const w of workers) w.stop();
    }
  });
});
