/**
 * TensorBoard event files: TFRecord framing (length, masked CRC32C of the
 * length, data, masked CRC32C of the data) around `Event` protos encoded with
 * protobufjs from proto/tensorboard.proto. `tensorboard --logdir runs` finds
 * them in each run's tensorboard/ directory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import CRC32C from 'crc-32/crc32c';
import * as protobuf from 'protobufjs';
import { makeDirectory } from '../io/make-directory';

const PROTO_FILE = path.resolve(__dirname, '../../../proto/tensorboard.proto');
let eventType: protobuf.Type | undefined;

/** The CRC masking of TFRecord files: rotate right by 15 and add a constant, so CRCs of CRCs stay well spread. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = CRC32C.buf(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

export class EventFileWriter {
  readonly file: string;

  constructor(dir: string, now = new Date()) {
    eventType ??= protobuf.loadSync(PROTO_FILE).lookupType('tensorboard.Event');
    makeDirectory(dir);
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now.getTime() / 1000)}.${os.hostname()}`);
    this.append({ wallTime: now.getTime() / 1000, step: 0, fileVersion: 'brain.Event:2' });
  }

  /** Appends one event with a scalar per tag; written through at once, so a killed run keeps its curves. */
  scalars(step: number, values: Record<string, number>, wallTime = Date.now() / 1000): void {
    const value = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([tag, simpleValue]) => ({ tag, simpleValue }));
    if (value.length > 0) this.append({ wallTime, step, summary: { value } });
  }

  private append(event: object): void {
    const bytes = eventType!.encode(eventType!.fromObject(event)).finish();
    fs.appendFileSync(this.file, tfRecord(bytes));
  }
}
