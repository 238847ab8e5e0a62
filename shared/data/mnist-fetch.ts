/**
 * `gradfleet dataset fetch mnist`: downloads the four MNIST files from the
 * first mirror that answers, resuming partial downloads (HTTP Range) and
 * verifying each file's SHA-256 before it takes its final name.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DataFormatError, NetworkError } from '../errors';
import { getLogger } from '../logging';
import { makeWritableDirectory } from '../io/make-directory';

export interface RemoteFile {
  name: string;
  sha256: string;
}

/** Checksums as published by TensorFlow Datasets for the MNIST files. */
export const MNIST_FILES: readonly RemoteFile[] = [
  { name: 'train-images-idx3-ubyte.gz', sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
  { name: 'train-labels-idx1-ubyte.gz', sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
  { name: 't10k-images-idx3-ubyte.gz', sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
  { name: 't10k-labels-idx1-ubyte.gz', sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
];

/** Mirrors that frameworks use; the original site often answers 403 now. */
export const MNIST_MIRRORS: readonly string[] = [
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
];

export interface FetchOptions {
  dir: string;
  mirrors?: readonly string[];
  files?: readonly RemoteFile[];
  /** Per-request timeout; a stalled mirror is abandoned for the next. */
  timeoutMs?: number;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Appends the rest of `url` to `partFile`, resuming from its current size. */
async function downloadInto(url: string, partFile: string, timeoutMs: number): Promise<void> {
  const have = fs.existsSync(partFile) ? fs.statSync(partFile).size : 0;
  const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-` } : {};
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (response.status === 416) return; // already complete
  if (response.status !== 200 && response.status !== 206) throw new Error(`HTTP ${response.status}`);
  const append = response.status === 206;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const expected = (append ? have : 0) + length;
  const out = fs.createWriteStream(partFile, { flags: append ? 'a' : 'w' });
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  const got = fs.statSync(partFile).size;
  // A cut connection can end the body early without an error: keep the part for the next try.
  if (Number.isFinite(expected) && got < expected) throw new Error(`connection closed after ${got} of ${expected} bytes`);
}

async function fetchOne(file: RemoteFile, options: Required<FetchOptions>): Promise<'present' | 'downloaded'> {
  const log = getLogger({ component: 'dataset-fetch' });
  const target = path.join(options.dir, file.name);
  if (fs.existsSync(target) && (await sha256OfFile(target)) === file.sha256) return 'present';
  const part = `${target}.part`;
  const failures: string[] = [];
  for (const mirror of options.mirrors) {
    const url = new URL(file.name, mirror).toString();
    try {
      log.info(`downloading ${url}`);
      await downloadInto(url, part, options.timeoutMs);
      const sum = await sha256OfFile(part);
      if (sum !== file.sha256) {
        fs.rmSync(part, { force: true });
        throw new DataFormatError(`checksum mismatch (got ${sum.slice(0, 12)}..., expected ${file.sha256.slice(0, 12)}...)`);
      }
      fs.renameSync(part, target);
      return 'downloaded';
    } catch (err) {
      const cause = (err as Error).cause instanceof Error ? ` (${((err as Error).cause as Error).message})` : '';
      failures.push(`${mirror}: ${(err as Error).message}${cause}`);
      log.warn(`mirror failed for ${file.name}: ${failures[failures.length - 1]}`);
    }
  }
  throw new NetworkError(`cannot download ${file.name}: no mirror succeeded (${failures.join('; ')}); a partial download, if any, is kept in ${part} and resumed next time`);
}

/**
 * A mirror as the base URL of its files: http or https, ending in '/'
 * (without it, `new URL(name, base)` would replace the base's last path
 * segment: `.../mnist` + a file name is a file beside mnist/, not in it).
 */
export function mirrorBase(mirror: string): string {
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw new ConfigError(`--mirror '${mirror}': not a URL (e.g. ${MNIST_MIRRORS[0]})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--mirror '${mirror}': only http:// and https:// mirrors are supported`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

export async function fetchFiles(options: FetchOptions): Promise<{ name: string; result: 'present' | 'downloaded' }[]> {
  const full: Required<FetchOptions> = {
    files: MNIST_FILES,
    timeoutMs: 60_000,
    ...options,
    mirrors: (options.mirrors ?? MNIST_MIRRORS).map(mirrorBase),
  };
  makeWritableDirectory('--data-dir', full.dir);
  const results = [];
  for (const file of full.files) results.push({ name: file.name, result: await fetchOne(file, full) });
  return results;
}
