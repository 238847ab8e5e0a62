/**
 * A small mutation fuzzer with a fixed seed: random bytes, and valid inputs
 * with bits flipped, bytes overwritten with edge values, cut short, grown,
 * spliced or shuffled. `npm test` runs a bounded count; `npm run fuzz` sets
 * GRADFLEET_FUZZ_SCALE to run many more.
 */
import { mulberry32 } from '../../shared/random';

export function fuzzCount(base: number): number {
  const scale = Number(process.env.GRADFLEET_FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

export function* mutations(seed: number, valid: readonly Uint8Array[], count: number): Generator<Buffer> {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  for (let i = 0; i < count; i++) {
    const base = Buffer.from(valid[int(valid.length)]);
    const kind = int(8);
    if (kind === 0 || base.length === 0) {
      yield Buffer.from(Array.from({ length: int(512) }, () => int(256)));
      continue;
    }
    let out = Buffer.from(base);
    const flips = 1 + int(8);
    for (let f = 0; f < flips; f++) {
      const at = int(out.length);
      switch (kind) {
        case 1:
          out[at] ^= 1 << int(8);
          break;
        case 2:
          out[at] = EDGE_BYTES[int(EDGE_BYTES.length)];
          break;
        case 3:
          out = out.subarray(0, at);
          break;
        case 4:
          out = Buffer.concat([out, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]);
          break;
        case 5: {
          const other = valid[int(valid.length)];
          out = Buffer.concat([out.subarray(0, at), Buffer.from(other.subarray(int(other.length + 1)))]);
          break;
        }
        case 6:
          out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(16)))]);
          break;
        default:
          out.writeUInt32BE(int(2 ** 32), Math.max(0, Math.min(at, out.length - 4)));
      }
      if (out.length === 0) break;
    }
    yield out;
  }
}

/** Runs `fn` on every input; anything thrown that is not one of `expected` fails with the input that caused it. */
export async function survives(
  inputs: Iterable<Buffer>,
  expected: readonly (new (...args: never[]) => Error)[],
  fn: (input: Buffer) => unknown,
): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0;
  let rejected = 0;
  for (const input of inputs) {
    try {
      await fn(input);
      accepted++;
    } catch (err) {
      if (!expected.some((e) => err instanceof e)) {
        const sample = input.subarray(0, 64).toString('hex');
        throw new Error(`input of ${input.length} bytes (${sample}...) raised ${(err as Error).stack ?? String(err)}`);
      }
      rejected++;
    }
  }
  return { accepted, rejected };
}
