/**
 * The coordinator's Prometheus metrics (prom-client, on a registry of its
 * own): step time and its parts, throughput, loss and accuracy, live
 * workers, bytes on the wire, checkpoint writes, refused messages. The
 * training loop feeds them through a callback; the rest is read when
 * Prometheus scrapes.
 */
import * as client from 'prom-client';
import type { EpochLogs, StepLogs, TrainingCallback } from '../shared/training/callbacks';
import { PHASE_NAMES, StepPhases } from './step-timeline';

export interface MetricSources {
  liveWorkers: () => number;
  traffic: { sent: number; received: number };
  /** The phases of the step that just ended (the step timeline's). */
  phases: () => StepPhases | undefined;
}

/** A counter that mirrors a running total kept elsewhere. */
function mirroredCounter(registry: client.Registry, name: string, help: string, total: () => number): void {
  let reported = 0;
  new client.Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      if (now > reported) this.inc(now - reported);
      reported = now;
    },
  });
}

export class CoordinatorMetrics {
  readonly registry = new client.Registry();
  private readonly stepSeconds: client.Histogram;
  private readonly phaseSeconds: client.Histogram<'phase'>;
  private readonly steps: client.Counter;
  private readonly samplesPerSecond: client.Gauge;
  private readonly loss: client.Gauge<'split'>;
  private readonly accuracy: client.Gauge<'split'>;
  private readonly epoch: client.Gauge;
  private readonly checkpointSeconds: client.Histogram;
  private readonly rejected: client.Counter<'kind'>;

  constructor(private readonly sources: MetricSources) {
    const registers = [this.registry];
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.stepSeconds = new client.Histogram({ name: 'gradfleet_step_duration_seconds', help: 'Wall time of a training step, from assignment to applied update', buckets, registers });
    this.phaseSeconds = new client.Histogram({
      name: 'gradfleet_step_phase_duration_seconds',
      help: `Parts of a step along its critical path (the shard that came in last), as in trace.json: ${PHASE_NAMES.join(', ')}`,
      labelNames: ['phase'],
      buckets,
      registers,
    });
    this.steps = new client.Counter({ name: 'gradfleet_steps_total', help: 'Training steps completed', registers });
    this.samplesPerSecond = new client.Gauge({ name: 'gradfleet_samples_per_second', help: 'Training samples per second in the last step', registers });
    this.loss = new client.Gauge({ name: 'gradfleet_loss', help: 'Loss: last step (train) or last epoch (validation)', labelNames: ['split'], registers });
    this.accuracy = new client.Gauge({ name: 'gradfleet_accuracy', help: 'Accuracy: last step (train) or last epoch (validation)', labelNames: ['split'], registers });
    this.epoch = new client.Gauge({ name: 'gradfleet_epoch', help: 'Epochs completed', registers });
    this.checkpointSeconds = new client.Histogram({ name: 'gradfleet_checkpoint_duration_seconds', help: 'Time to write one checkpoint', buckets, registers });
    this.rejected = new client.Counter({ name: 'gradfleet_rejected_messages_total', help: 'Calls and messages refused, by kind', labelNames: ['kind'], registers });
    new client.Gauge({
      name: 'gradfleet_live_workers',
      help: 'Workers connected to the run',
      registers,
      collect() {
        this.set(sources.liveWorkers());
      },
    });
    mirroredCounter(this.registry, 'gradfleet_sent_bytes_total', 'Tensor and index bytes sent to workers', () => sources.traffic.sent);
    mirroredCounter(this.registry, 'gradfleet_received_bytes_total', 'Tensor bytes received from workers', () => sources.traffic.received);
  }

  checkpointWritten(seconds: number): void {
    this.checkpointSeconds.observe(seconds);
  }

  /** kind: unauthenticated, resource_exhausted, bad_message, bad_gradient. */
  refused(kind: string): void {
    this.rejected.inc({ kind });
  }

  callback(): TrainingCallback {
    return {
      onStepEnd: (s: StepLogs) => {
        this.stepSeconds.observe(s.seconds);
        const p = this.sources.phases();
        if (p !== undefined) for (const phase of PHASE_NAMES) this.phaseSeconds.observe({ phase }, Math.max(0, p[phase]) / 1000);
        this.steps.inc();
        if (s.seconds > 0) this.samplesPerSecond.set(s.samples / s.seconds);
        this.loss.set({ split: 'train' }, s.loss);
        this.accuracy.set({ split: 'train' }, s.accuracy);
      },
      onEpochEnd: (e: EpochLogs) => {
        this.epoch.set(e.epoch);
        if (Number.isFinite(e.val_loss)) this.loss.set({ split: 'validation' }, e.val_loss);
        if (Number.isFinite(e.val_accuracy)) this.accuracy.set({ split: 'validation' }, e.val_accuracy);
      },
    };
  }
}
