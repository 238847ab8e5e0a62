/**
 * Finds the run's dataset for a worker: its own copy (by name, checked by
 * SHA-256), else its cache, else a one-time stream from the coordinator that
 * is verified and then cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Dataset } from '../shared/data/dataset';
import { packDataset, unpackDataset } from '../shared/data/dataset-archive';
import { loadDataset } from '../shared/data/dataset-registry';
import type { Logger } from '../shared/logging';
import type { DatasetChunkMsg, DatasetIdentityMsg } from '../shared/wire/protocol';

export interface DatasetSources {
  dataDir: string;
  cacheDir: string;
  fetch: (sha256: string) => grpc.ClientReadableStream<DatasetChunkMsg>;
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
  for await (const chunk of sources.fetch(identity.sha256) as AsyncIterable<DatasetChunkMsg>) {
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
  fs.mkdirSync(sources.cacheDir, { recursive: true });
  const tmp = `${cached}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, packDataset(d));
  fs.renameSync(tmp, cached);
  return d;
}
