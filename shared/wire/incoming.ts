/**
 * Every field of every message the coordinator receives is checked here,
 * before any handler reads it: the adapters call these and act only on
 * what passes. A failed check is a WireFormatError naming the field.
 * (What depends on the run's state, such as the current step or the shapes
 * a tensor set must have, is checked by the scheduler and the assembler.)
 */
import type { DatasetRequestMsg, GradientHeaderMsg, JoinMsg, ShardSumsMsg, TensorSetHeaderMsg, ValidationResultMsg, WeightsLoadedMsg, WorkerMessage } from './protocol';
import { MAX_CHUNK_BYTES, WireFormatError } from './tensor-codec';

export const MAX_ID_LENGTH = 128;
export const MAX_TENSORS = 4096;
export const MAX_RANK = 8;
const KNOWN_DTYPES = new Set(['DTYPE_FLOAT32', 'DTYPE_FLOAT16', 'DTYPE_BFLOAT16', 'DTYPE_FLOAT64', 'DTYPE_TOPK_FLOAT32']);

function fail(field: string, why: string): never {
  throw new WireFormatError(`${field}: ${why}`);
}

function checkText(field: string, v: unknown, max = MAX_ID_LENGTH, allowEmpty = true): string {
  if (typeof v !== 'string') fail(field, 'not a string');
  if (!allowEmpty && v.length === 0) fail(field, 'empty');
  if (v.length > max) fail(field, `longer than ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(v)) fail(field, 'contains control characters');
  return v;
}

function checkCount(field: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(field, `not a non-negative integer (${String(v)})`);
  if (v > max) fail(field, `${v} exceeds ${max}`);
  return v;
}

function checkFinite(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `not a finite number (${String(v)})`);
  return v;
}

function checkTensorSetHeader(field: string, h: TensorSetHeaderMsg | null | undefined, maxBytes: number): TensorSetHeaderMsg {
  if (h === null || h === undefined) fail(field, 'missing');
  if (!KNOWN_DTYPES.has(h.dtype)) fail(`${field}.dtype`, `unknown dtype ${String(h.dtype)}`);
  if (!Array.isArray(h.tensors) || h.tensors.length > MAX_TENSORS) fail(`${field}.tensors`, `more than ${MAX_TENSORS} tensors`);
  h.tensors.forEach((t, i) => {
    checkText(`${field}.tensors[${i}].name`, t.name, 512);
    if (!Array.isArray(t.shape) || t.shape.length > MAX_RANK) fail(`${field}.tensors[${i}].shape`, `rank above ${MAX_RANK}`);
    t.shape.forEach((d, j) => checkCount(`${field}.tensors[${i}].shape[${j}]`, d, 2 ** 31));
  });
  checkCount(`${field}.totalBytes`, h.totalBytes, maxBytes);
  const kept = h.kept ?? [];
  if (!Array.isArray(kept) || kept.length > MAX_TENSORS) fail(`${field}.kept`, `more than ${MAX_TENSORS} counts`);
  kept.forEach((k, i) => checkCount(`${field}.kept[${i}]`, k, 2 ** 31));
  return h;
}

export function checkJoin(j: JoinMsg | null | undefined): JoinMsg {
  if (j === null || j === undefined) fail('join', 'missing');
  checkCount('join.protocolVersion', j.protocolVersion, 2 ** 31);
  checkText('join.runId', j.runId);
  checkText('join.workerName', j.workerName);
  checkText('join.backend', j.backend, 32);
  return j;
}

/** The fields a gradient and a validation result share: which shard, and its sums. */
function checkShardSums(field: string, r: ShardSumsMsg): void {
  checkCount(`${field}.step`, r.step);
  checkCount(`${field}.weightsVersion`, r.weightsVersion);
  checkCount(`${field}.shardId`, r.shardId, 2 ** 20);
  const count = checkCount(`${field}.count`, r.count, 2 ** 24);
  checkCount(`${field}.correct`, r.correct, count);
  checkFinite(`${field}.lossSum`, r.lossSum);
  if (checkFinite(`${field}.computeMs`, r.computeMs) < 0) fail(`${field}.computeMs`, 'negative');
  if (r.times !== null && r.times !== undefined) {
    for (const [k, v] of Object.entries(r.times)) if (checkFinite(`${field}.times.${k}`, v) < 0) fail(`${field}.times.${k}`, 'negative');
  }
}

export function checkGradientHeader(g: GradientHeaderMsg | null | undefined, maxBytes: number): GradientHeaderMsg {
  if (g === null || g === undefined) fail('gradient', 'missing');
  checkShardSums('gradient', g);
  const tensors = checkTensorSetHeader('gradient.tensors', g.tensors, maxBytes);
  const indices = g.tensorIndices ?? [];
  if (!Array.isArray(indices) || indices.length > MAX_TENSORS) fail('gradient.tensorIndices', `more than ${MAX_TENSORS} indices`);
  indices.forEach((t, i) => {
    checkCount(`gradient.tensorIndices[${i}]`, t, MAX_TENSORS - 1);
    if (i > 0 && t <= indices[i - 1]) fail('gradient.tensorIndices', 'not strictly increasing');
  });
  if (indices.length > 0 && indices.length !== tensors.tensors.length) {
    fail('gradient.tensorIndices', `${indices.length} indices for ${tensors.tensors.length} tensors`);
  }
  return g;
}

export function checkValidationResult(v: ValidationResultMsg | null | undefined): ValidationResultMsg {
  if (v === null || v === undefined) fail('validation', 'missing');
  checkShardSums('validation', v);
  return v;
}

/** The version a WeightsLoaded names. */
export function checkWeightsLoaded(l: WeightsLoadedMsg | null | undefined): number {
  if (l === null || l === undefined) fail('loaded', 'missing');
  return checkCount('loaded.version', l.version);
}

export function checkChunk(c: { offset: number; data: Buffer } | null | undefined): { offset: number; data: Buffer } {
  if (c === null || c === undefined) fail('chunk', 'missing');
  checkCount('chunk.offset', c.offset);
  if (!Buffer.isBuffer(c.data) || c.data.byteLength === 0 || c.data.byteLength > MAX_CHUNK_BYTES) {
    fail('chunk.data', `must hold 1 to ${MAX_CHUNK_BYTES} bytes`);
  }
  return c;
}

/** The message envelope: a known body, with its payload present, and a plausible run id. */
export function checkWorkerMessage(m: WorkerMessage): WorkerMessage {
  checkText('runId', m.runId);
  switch (m.body) {
    case 'join':
    case 'gradient':
    case 'chunk':
    case 'heartbeat':
    case 'validation':
    case 'loaded':
      if (m[m.body] === null || m[m.body] === undefined) fail(m.body, 'missing');
      return m;
    default:
      return fail('body', `unexpected ${m.body === undefined ? 'empty message' : `message ${String(m.body)}`}`);
  }
}

export function checkDatasetRequest(r: DatasetRequestMsg): DatasetRequestMsg {
  checkText('runId', r.runId);
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) fail('sha256', 'not a SHA-256 in hex');
  return r;
}
