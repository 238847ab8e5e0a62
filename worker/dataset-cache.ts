/**
 * Finds the run's dataset for a worker: its own copy (by name, checked by
 * SHA-256), else its cache, else a one-time stream from the coordinator that
 * is verified and then cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../shared/data/dataset';
import { packDataset, unpackDataset } from '../shared/data/dataset-archive';
import { loadDataset } from '../shared/data/dataset-registry';
import type { Logger } from '../shared/logging';
import type { DatasetChunkMsg, DatasetIdentityMsg } from '../shared/wire/protocol';
import { makeDirectory } from '../shared/io/make-directory';

export interface DatasetSources {
  dataDir: string;
  cacheDir: string;
  fetch: (sha256: string) => AsyncIterable<DatasetChunkMsg>;
  log: Logger;
}

function tryLocal(identity: DatasetIdentityMsg, dataDir: string): Dataset | undefined {
  // Image folders are resized per run: only the coordinator's copy is sure to match.
  if (identity.name.startsWith('folder:')) return undefined;
  try {
    const d = loadDataset({ name: identity.name, dataDir, imageSize: identity.height, channels: identity.channels === 3 ? 3 : 1 });
    return d.sha256 === identity.sha256 ? d : undefined;
  } catch {
    return undefined;
  }
}

async function download(identity: DatasetIdentityMsg, sources: DatasetSources): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of sources.fetch(identity.sha256)) {
    if (chunk.offset !== total) throw new Error(`dataset chunk at ${chunk.offset}, expected ${total}`);
    parts.push(chunk.data);
    total += chunk.data.length;
  }
  return Buffer.concat(parts);
}

export async function obtainDataset(identity: DatasetIdentityMsg, sources: DatasetSources): Promise<Dataset> {
  const local = tryLocal(identity, sources.dataDir);
  if (local !== undefined) {
    sources.log.info(`dataset ${identity.name}: using the local copy (${local.source})`);
    return local;
  }
  const cached = path.join(sources.cacheDir, `${identity.sha256}.gfds`);
  if (fs.existsSync(cached)) {
    try {
      const d = unpackDataset(fs.readFileSync(cached), identity.sha256);
      sources.log.info(`dataset ${identity.name}: using the cached copy ${cached}`);
      return d;
    } catch (err) {
      sources.log.warn(`ignoring damaged cache ${cached}: ${(err as Error).message}`);
    }
  }
  sources.log.info(`dataset ${identity.name}: not here, streaming it from the coordinator`);
  const d = unpackDataset(await download(identity, sources), identity.sha256);
  keepInCache(d, cached, sources);
  return d;
}

/** A cache that cannot be written costs the next run a transfer, not this run its worker. */
function keepInCache(d: Dataset, file: string, sources: DatasetSources): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    makeDirectory(sources.cacheDir);
    fs.writeFileSync(tmp, packDataset(d));
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fs.existsSync(tmp)) fs.unlinkSync(tmp);
    sources.log.warn(`cannot keep dataset ${d.name} in the cache ${sources.cacheDir} (${(err as Error).message.split('\n')[0]}); it will be streamed again next time`);
  }
}
