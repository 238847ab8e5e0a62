/** What `gradfleet status` prints. */
import { strict as assert } from 'node:assert';
import { formatStatus } from '../../../coordinator/status-client';
import type { StatusReplyMsg } from '../../../shared/wire/protocol';

const waiting: StatusReplyMsg = {
  runId: 'r1', state: 'waiting for workers', step: 0, epoch: 1, epochs: 5, model: 'mlp', dataset: 'mnist-sample',
  loss: NaN, accuracy: NaN, valLoss: NaN, valAccuracy: NaN, samplesPerSecond: 0, workers: [],
};

describe('gradfleet status output', () => {
  it('says that no workers are connected, rather than printing an empty table', () => {
    const lines = formatStatus(waiting).split('\n');
    assert.equal(lines[0], 'run r1 (mlp on mnist-sample): waiting for workers, epoch 1/5, step 0');
    assert.equal(lines[1], 'loss - acc - val_loss - val_acc -, 0 samples/s');
    assert.equal(lines.at(-1), 'no workers connected');
  });

  it('prints a row per worker under a header, with how long ago the coordinator heard from it by its own clock', () => {
    // The coordinator's clock is an hour ahead of this one: its own count of the silence is what is shown.
    const worker = { workerId: 'w1', name: 'gpu-a', address: '10.0.0.5:4100', backend: 'wasm', state: 'active', samplesPerSecond: 1234.4, lastSeenUnixMs: Date.now() + 3_600_000, shardsDone: 7, silentMs: 1500 };
    const lines = formatStatus({ ...waiting, state: 'training', workers: [worker] }).split('\n');
    assert.equal(lines.at(-2), 'worker\tname\taddress\tbackend\tstate\tsamples/s\tshards\tlast seen');
    assert.match(lines.at(-1)!, /^w1\tgpu-a\t10\.0\.0\.5:4100\twasm\tactive\t1234\t7\t1\.5 s ago$/);
  });
});
