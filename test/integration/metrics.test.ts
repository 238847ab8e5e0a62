/**
 * Prometheus metrics of a live run: served on --metrics-port behind the
 * run's token, accepted by Prometheus's own `promtool check metrics`, and
 * telling the truth about the run (steps, workers, bytes, checkpoints).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { startCoordinator } from '../../coordinator/coordinator';
import { queryStatus } from '../../coordinator/status-client';
import { startWorker } from '../../worker/worker';
import { useBackend } from '../helpers/backends';
import { coordinatorOptionsFor } from '../helpers/coordinator-options';
import { tmpDir } from '../helpers/tmp';
import { tokenFile } from '../helpers/token-file';

const TOKEN = 'metrics-test-token-0123456789';

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no sample ${series}`);
  return Number(line.split(' ')[1]);
}

describe('Prometheus metrics on --metrics-port', function () {
  this.timeout(300_000);

  it('serve a live run’s figures behind the token, in a format promtool accepts', async () => {
    await useBackend('wasm');
    const tokenPath = tokenFile(TOKEN);
    const coordinator = await startCoordinator(
      coordinatorOptionsFor({ model: 'keras-cnn', maxSteps: '80', checkpointEvery: '5', backend: 'wasm', port: '0', metricsPort: '0', tokenFile: tokenPath, runDir: tmpDir() }),
    );
    const worker = startWorker({ coordinator: `127.0.0.1:${coordinator.port}`, backend: 'wasm', dataDir: tmpDir(), cacheDir: tmpDir(), security: { token: TOKEN, tls: {} } });
    const url = `http://127.0.0.1:${coordinator.metricsPort}/metrics`;
    while ((await queryStatus(`127.0.0.1:${coordinator.port}`, 5000, { token: TOKEN, tls: {} })).step < 20) await new Promise((r) => setTimeout(r, 50));

    assert.equal((await fetch(url)).status, 401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    await coordinator.result;
    await worker.done;

    assert.ok(sample(text, 'gradfleet_steps_total') >= 20);
    assert.equal(sample(text, 'gradfleet_live_workers'), 1);
    assert.ok(sample(text, 'gradfleet_sent_bytes_total') > 0 && sample(text, 'gradfleet_received_bytes_total') > 0);
    assert.ok(sample(text, 'gradfleet_checkpoint_duration_seconds_count') >= 4);
    for (const phase of ['broadcast', 'compute', 'toCoordinator', 'apply']) assert.ok(sample(text, `gradfleet_step_phase_duration_seconds_count{phase="${phase}"}`) >= 20, phase);
    assert.ok(sample(text, 'gradfleet_rejected_messages_total{kind="unauthenticated"}') >= 1);
    const loss = sample(text, 'gradfleet_loss{split="train"}');
    assert.ok(loss > 0 && loss < 5);

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error !== undefined) {
      console.log(`      promtool not run: ${promtool.error.message} (Debian package 'prometheus'; .ci/run installs it)`);
      return;
    }
    assert.equal(promtool.status, 0, `${promtool.stdout}${promtool.stderr}`);
    assert.equal(`${promtool.stdout}${promtool.stderr}`.trim(), '', 'promtool has no complaints');
  });
});
