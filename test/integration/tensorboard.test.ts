/**
 * Event files as TensorBoard reads them, checked by a reader written here
 * from the format's description: its own bitwise CRC32C, its own framing
 * parser, and protobufjs decoding against the proto's field numbers.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** Every record of a TFRecord file, each CRC verified. */
function readRecords(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = Number(bytes.readBigUInt64LE(at));
    assert.equal(bytes.readUInt32LE(at + 8), masked(crc32cBitwise(bytes.subarray(at, at + 8))), `length CRC at ${at}`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(bytes.readUInt32LE(at + 12 + length), masked(crc32cBitwise(data)), `data CRC at ${at}`);
    out.push(data);
    at += 16 + length;
  }
  return out;
}

const EVENT_PROTO = `syntax = "proto3";
message Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
message Summary { repeated Value value = 1; }
message Value { string tag = 1; float simple_value = 2; }`;

describe('TensorBoard event files', function () {
  this.timeout(120_000);

  it('the CRC32C of this reader is the standard one (check value of "123456789")', () => {
    assert.equal(crc32cBitwise(Buffer.from('123456789')).toString(16), 'e3069283');
  });

  it('a training run writes loss, accuracy and throughput scalars that an independent reader decodes', () => {
    const runDir = tmpDir();
    assert.equal(runCli(['baseline', '--model', 'mlp', '--epochs', '2', '--backend', 'wasm', '--run-dir', runDir]).code, 0);
    const dir = path.join(runDir, 'tensorboard');
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^events\.out\.tfevents\.\d+\.\S+$/);
    const Event = protobuf.parse(EVENT_PROTO).root.lookupType('Event');
    const events = readRecords(fs.readFileSync(path.join(dir, files[0]))).map((r) => Event.toObject(Event.decode(r), { longs: Number }) as {
      wallTime: number;
      step: number;
      fileVersion?: string;
      summary?: { value: { tag: string; simpleValue: number }[] };
    });
    assert.equal(events[0].fileVersion, 'brain.Event:2');
    const series = (tag: string) => events.flatMap((e) => (e.summary?.value ?? []).filter((v) => v.tag === tag).map((v) => ({ step: e.step, value: v.simpleValue })));
    assert.deepEqual(series('train/loss').map((p) => p.step), Array.from({ length: 22 }, (_, i) => 10 * (i + 1)));
    assert.deepEqual(series('epoch/val_accuracy').map((p) => p.step), [1, 2]);
    const metrics = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const epochs = metrics.filter((m) => m.val_accuracy !== undefined);
    series('epoch/val_accuracy').forEach((p, i) => assert.ok(Math.abs(p.value - epochs[i].val_accuracy) < 1e-6));
    assert.ok(series('train/samples_per_second').every((p) => p.value > 0));
    assert.ok(events.every((e, i) => i === 0 || e.wallTime >= events[i - 1].wallTime));
  });
});
