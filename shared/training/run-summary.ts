/** summary.json: what scripts and benchmarks read at the end of every training command. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EpochLogs } from './callbacks';

export interface RunSummary {
  run_id: string;
  command: string;
  model: string;
  dataset: string;
  test_accuracy: number;
  test_loss: number;
  epochs_run: number;
  steps_run: number;
  best_epoch: number;
  stopped_early: boolean;
  wall_seconds: number;
  train_seconds: number;
  samples_per_second: number;
  workers: number;
  backend: string;
  batch_size: number;
  final_val_accuracy: number;
  model_dir: string;
  history: EpochLogs[];
  [extra: string]: unknown;
}

export const SUMMARY_FILE = 'summary.json';

export function writeSummary(runDir: string, summary: RunSummary): string {
  const file = path.join(runDir, SUMMARY_FILE);
  fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  return file;
}

export function readSummary(runDir: string): RunSummary {
  return JSON.parse(fs.readFileSync(path.join(runDir, SUMMARY_FILE), 'utf8')) as RunSummary;
}
