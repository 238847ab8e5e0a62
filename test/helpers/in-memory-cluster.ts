/**
 * Workers without a network: links that compute real gradients in this
 * process and hand them to the step scheduler, with scriptable faults, in the
 * manner of the Raft libraries' in-memory transports.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Member, Membership, ShardAssignment, WorkerLink } from '../../coordinator/membership';
import type { ShardResult, StepScheduler } from '../../coordinator/step-scheduler';
import type { Dataset } from '../../shared/data/dataset';
import { evaluate } from '../../shared/training/evaluation';
import { GradientComputer, ShardTask } from '../../shared/training/gradient-step';
import { readWeights, withWeights, writeWeights } from '../../shared/training/weights';

export type Fault = 'none' | 'silent' | 'nan' | 'nan-in-last-part' | 'stale-step' | 'wrong-count' | 'never-confirms-weights';

export class InMemoryWorker implements WorkerLink {
  readonly address: string;
  readonly backend = 'wasm';
  member!: Member;
  scheduler!: StepScheduler;
  fault: Fault = 'none';
  /** Deliver each gradient in these parts (tensor positions), in this order, as a streamed backward pass would; whole when unset. */
  parts: number[][] | undefined;
  /** Shards this worker computed and delivered. */
  readonly computed: { task: ShardTask; step: number; shardId: number; size: number }[] = [];
  readonly rejections: string[] = [];
  closedWith: string | undefined;
  /** Told what this worker is sent and says, in order (`w1 weights 3`, `w1 holds 3`, `w1 shard 0`), to follow a step's order across workers. */
  events: string[] = [];
  private weightsVersion = -1;
  /** Where evaluation weights come from (the coordinator's weight EMA, in a real run); the training weights by default. */
  evaluationSource: () => Float32Array[] = () => readWeights(this.source);
  private evaluation: { version: number; values: Float32Array[] } | undefined;

  constructor(
    readonly name: string,
    private readonly model: LayersModel,
    private readonly source: LayersModel,
    private readonly computer: GradientComputer,
    private readonly data: Dataset,
  ) {
    this.address = `memory:${name}`;
  }

  sendWeights(version: number): void {
    if (version === this.weightsVersion) return;
    writeWeights(this.model, readWeights(this.source));
    this.weightsVersion = version;
    this.events.push(`${this.name} weights ${version}`);
    // As a real worker does once the last chunk is in: a turn of the event loop later.
    setImmediate(() => {
      if (this.fault === 'never-confirms-weights' || this.fault === 'silent' || this.closedWith !== undefined) return;
      this.events.push(`${this.name} holds ${version}`);
      this.scheduler.weightsLoaded(this.member.id, version);
    });
  }

  /** Times the scheduler offered early weight parts. This link copies the coordinator's whole model in sendWeights, so it has nothing to send early. */
  earlyWeightsOffered = 0;

  sendEarlyWeights(): void {
    this.earlyWeightsOffered++;
  }

  sendEvaluationWeights(version: number): void {
    this.evaluation = { version, values: this.evaluationSource() };
  }

  assign(a: ShardAssignment): void {
    this.events.push(`${this.name} shard ${a.shardId}`);
    if (this.fault === 'silent') return;
    setImmediate(() => {
      if (this.closedWith !== undefined) return;
      if (a.task === 'validate') return this.validate(a);
      const sums = this.computer.compute({ indices: a.indices, seed: a.seed });
      if (this.fault === 'nan') sums.grads[0][0] = NaN;
      if (this.fault === 'wrong-count') sums.count += 1;
      const step = this.fault === 'stale-step' ? a.step - 1 : a.step;
      const result = { task: 'train' as const, workerId: this.member.id, step, weightsVersion: a.weightsVersion, shardId: a.shardId, sums, computeMs: 5 };
      if (this.parts === undefined) return this.deliver(a, result);
      this.parts.forEach((tensors, i) => {
        const grads = tensors.map((t) => Float32Array.from(sums.grads[t]));
        if (this.fault === 'nan-in-last-part' && i === this.parts!.length - 1) grads[0][0] = NaN;
        this.deliver(a, { ...result, tensors, sums: { ...sums, grads } });
      });
    });
  }

  private validate(a: ShardAssignment): void {
    const judge = () => evaluate({ model: this.model, set: this.data.train, shape: this.data.shape, numClasses: this.data.numClasses, indices: a.indices });
    const r = a.evaluationWeights ? withWeights(this.model, this.evaluation!.values, judge) : judge();
    const sums = { grads: [], count: r.count + (this.fault === 'wrong-count' ? 1 : 0), lossSum: this.fault === 'nan' ? NaN : r.lossSum, correct: r.correct };
    this.deliver(a, { task: 'validate', workerId: this.member.id, step: a.step, weightsVersion: a.weightsVersion, shardId: a.shardId, sums, computeMs: 5 });
  }

  private deliver(a: ShardAssignment, result: ShardResult): void {
    const why = this.scheduler.deliver(result);
    if (why === undefined) this.computed.push({ task: a.task, step: a.step, shardId: a.shardId, size: a.indices.length });
    else this.rejections.push(why);
  }

  drop(reason: string): void {
    this.closedWith = reason;
  }

  endRun(reason: string): void {
    this.closedWith = reason;
  }
}

/** Joins `count` in-memory workers, each with its own model replica, to a membership. */
export function joinWorkers(
  count: number,
  membership: Membership,
  scheduler: StepScheduler,
  coordinatorModel: LayersModel,
  replica: () => LayersModel,
  data: Dataset,
  microBatch = 0,
): InMemoryWorker[] {
  return Array.from({ length: count }, (_, i) => {
    const model = replica();
    const w = new InMemoryWorker(`w${i + 1}`, model, coordinatorModel, new GradientComputer(model, data.train, data.shape, { numClasses: data.numClasses, microBatch }), data);
    w.member = membership.join(w);
    w.scheduler = scheduler;
    return w;
  });
}
