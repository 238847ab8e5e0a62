/**
 * Fuzzing the decoders of files a user or a stranger can hand us: IDX data,
 * config files, checkpoints. Whatever the bytes, the answer is the data or
 * a one-line user error, never a crash of another kind.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CheckpointStore, MANIFEST } from '../../coordinator/checkpoint-store';
import { CHECKPOINT_FILES } from '../../coordinator/checkpoint-files';
import { restoreCheckpoint } from '../../coordinator/run-checkpoint';
import { TRAINING_OPTIONS } from '../../shared/config/option-table';
import { resolveOptions } from '../../shared/config/resolve-options';
import { compileTrainingOptions } from '../../shared/config/training-options';
import { encodeIdx, parseIdx } from '../../shared/data/idx-format';
import { UserError } from '../../shared/errors';
import { prepareRun } from '../../shared/training/run-setup';
import { useBackend } from '../helpers/backends';
import { runCli } from '../helpers/cli';
import { fuzzCount, mutations, survives } from '../helpers/fuzz';
import { tmpDir } from '../helpers/tmp';

/** Inputs run in this file, for the report of `npm run fuzz`. */
export const decoderInputs = { idx: fuzzCount(3000), config: fuzzCount(1000), checkpoint: fuzzCount(400) };

describe('fuzz: file decoders', function () {
  this.timeout(600_000);

  it(`the IDX reader answers ${decoderInputs.idx} mutated files with the data or a DataFormatError`, async () => {
    const images = encodeIdx([3, 4, 4], Uint8Array.from({ length: 48 }, (_, i) => i));
    const labels = encodeIdx([3], Uint8Array.from([1, 2, 3]));
    const valid = [images, labels, zlib.gzipSync(images), zlib.gzipSync(labels)];
    const r = await survives(mutations(1, valid, decoderInputs.idx), [UserError], (bytes) => parseIdx(bytes, 'fuzz.idx'));
    assert.ok(r.rejected > r.accepted / 10, `only ${r.rejected} rejected`);
  });

  it(`config files: ${decoderInputs.config} mutated YAML/JSON files give options or a ConfigError`, async () => {
    const file = path.join(tmpDir(), 'config.yaml');
    const valid = [
      'model: mlp\nepochs: 3\nbatch-size: 128\nlr: 0.01\noptimizer: momentum\naugment: true\n',
      JSON.stringify({ model: 'cnn', epochs: 2, dropout: 0.5, earlyStopping: true, patience: 2, lrSchedule: 'exponential' }),
      '# comment\ndataset: idx:/data\nimageSize: 32\nchannels: 3\nseed: 7\n',
    ].map((t) => Buffer.from(t));
    await survives(mutations(2, valid, decoderInputs.config), [UserError], (bytes) => {
      fs.writeFileSync(file, bytes);
      compileTrainingOptions(resolveOptions(TRAINING_OPTIONS, { flags: { config: file }, env: {} }));
    });
  });

  it(`checkpoints: ${decoderInputs.checkpoint} damaged checkpoints are refused by the manifest or the loader, with a user error`, async () => {
    await useBackend('wasm');
    const runDir = tmpDir();
    const options = ['--model', 'mlp', '--max-steps', '2', '--checkpoint-every', '1', '--backend', 'wasm', '--early-stopping', '--seed', '4'];
    assert.equal(runCli(['baseline', ...options, '--run-dir', runDir]).code, 0);
    const dir = new CheckpointStore(runDir).list()[0].dir;
    const o = compileTrainingOptions(resolveOptions(TRAINING_OPTIONS, { flags: { model: 'mlp', earlyStopping: true, seed: '4', backend: 'wasm' }, env: {} }));
    const run = await prepareRun(o);
    const names = fs.readdirSync(dir).sort();
    const originals = new Map(names.map((n) => [n, fs.readFileSync(path.join(dir, n))]));
    // Small files are the interesting ones to mutate whole; big binaries get mutated in their first bytes.
    const valid = names.map((n) => originals.get(n)!.subarray(0, 4096));
    let index = 0;
    let restored = 0;
    const r = await survives(mutations(3, valid, decoderInputs.checkpoint), [UserError], async (bytes) => {
      const name = names[index++ % names.length];
      for (const [n, data] of originals) fs.writeFileSync(path.join(dir, n), data);
      const original = originals.get(name)!;
      fs.writeFileSync(path.join(dir, name), Buffer.concat([bytes, original.subarray(Math.min(original.length, 4096))]));
      // Every other input re-seals the manifest, as someone editing a checkpoint by hand would, so the parsers behind it get the bytes too.
      if (index % 2 === 0 && name !== MANIFEST) {
        const manifest = JSON.parse(originals.get(MANIFEST)!.toString('utf8'));
        const data = fs.readFileSync(path.join(dir, name));
        manifest.files[name] = { bytes: data.length, sha256: require('node:crypto').createHash('sha256').update(data).digest('hex') };
        fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest));
      }
      const why = CheckpointStore.verify(dir, CHECKPOINT_FILES);
      if (why !== undefined) throw new UserError(why);
      await restoreCheckpoint(dir, { run, options: o }, true);
      restored++;
    });
    for (const [n, data] of originals) fs.writeFileSync(path.join(dir, n), data);
    assert.equal(CheckpointStore.verify(dir), undefined);
    assert.ok(r.rejected > 0 && restored >= 0);
  });
});
