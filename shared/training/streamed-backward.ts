/**
 * `tf.variableGrads`, but each variable's gradient is handed out as soon as
 * the backward pass has finished it, while the rest of the pass still runs:
 * the last layers' gradients are done first and can travel to the
 * coordinator during the first layers' backward pass (what Horovod's and
 * PyTorch DDP's gradient buckets do with their backward hooks).
 *
 * tfjs has no such hook, so this records the forward pass on tfjs's tape as
 * `engine.gradients` does and walks the tape itself, one node at a time,
 * with tfjs's own gradient functions: the same operations in the same order,
 * so the gradients are bit for bit those of `tf.variableGrads` (tested).
 * A variable is finished once every node that reads it has been walked.
 * Between nodes the walk may wait for the callback (an `await` lets the
 * event loop hand the finished gradients to the socket).
 *
 * Two tfjs internals are used, both public fields of its Engine at runtime:
 * `state.activeTape` and `state.gradientDepth` (tfjs-core 4.x).
 */
import * as tf from '@tensorflow/tfjs-core';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineTapeState {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
}

/**
 * Told of each finished gradient, in the order the backward pass finishes
 * them, with the value of f (known before the first one); may return a
 * promise to wait on.
 */
export type FinishedGradient = (variableIndex: number, gradient: Float32Array, value: number) => void | Promise<void>;

/**
 * Runs `f` (which must return a scalar) recording its operations, then the
 * backward pass; resolves to the value of `f` once every variable's
 * gradient has gone to `onFinished`.
 */
export async function streamVariableGrads(f: () => tf.Scalar, variables: tf.Variable[], onFinished: FinishedGradient): Promise<number> {
  const engine = tf.engine() as unknown as EngineTapeState;
  if (engine.state.gradientDepth !== 0) throw new Error('streamVariableGrads cannot run inside another gradient computation');
  engine.state.gradientDepth = 1;
  engine.state.activeTape = [];
  let y: tf.Scalar;
  try {
    y = tf.tidy(f);
  } finally {
    engine.state.gradientDepth = 0;
  }
  const tape = engine.state.activeTape;
  engine.state.activeTape = null;
  const grads = new Map<number, tf.Tensor>();
  try {
    const nodes = nodesFromXToY(tape, variables, y);
    const readsLeft = variables.map((v) => nodes.reduce((n, node) => n + (Object.values(node.inputs).includes(v) ? 1 : 0), 0));
    const value = y.dataSync()[0];
    // A variable the loss does not depend on has a zero gradient, finished from the start.
    for (let i = 0; i < variables.length; i++) if (readsLeft[i] === 0) await onFinished(i, new Float32Array(variables[i].size), value);
    grads.set(y.id, tf.onesLike(y));
    for (let n = nodes.length - 1; n >= 0; n--) {
      const node = nodes[n];
      backpropagate(node, grads);
      // An operation may read a variable twice (a * a); it is one reader.
      for (const input of new Set(Object.values(node.inputs))) {
        const i = variables.indexOf(input as tf.Variable);
        if (i >= 0 && --readsLeft[i] === 0) await onFinished(i, grads.get(input.id)!.dataSync() as Float32Array, value);
      }
    }
    return value;
  } finally {
    for (const g of grads.values()) g.dispose();
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    y.dispose();
  }
}

/** One node of the backward pass, as tfjs's backpropagateGradients does it: its inputs' gradients accumulate in `grads`. */
function backpropagate(node: TapeNode, grads: Map<number, tf.Tensor>): void {
  if (node.gradient === undefined) throw new Error(`cannot compute gradient: no gradient function for ${node.kernelName}`);
  const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
  // Some gradient functions make tensors outside the closures they return: the tidy takes those too.
  const sums = tf.tidy(() => {
    const inputGradients = node.gradient!(dys);
    const out: Record<string, tf.Tensor> = {};
    for (const [name, x] of Object.entries(node.inputs)) {
      const dx = inputGradients[name]();
      const current = out[x.id] ?? grads.get(x.id);
      out[x.id] = current === undefined ? dx : tf.add(current, dx);
    }
    return out;
  });
  for (const [id, sum] of Object.entries(sums)) {
    const replaced = grads.get(Number(id));
    grads.set(Number(id), sum);
    if (replaced !== undefined && replaced !== sum && !isHeldElsewhere(replaced, grads)) replaced.dispose();
  }
  // Each tensor's gradient is read only by the node that made the tensor: this one.
  for (const o of node.outputs) {
    const dy = grads.get(o.id);
    grads.delete(o.id);
    if (dy !== undefined && !isHeldElsewhere(dy, grads)) dy.dispose();
  }
}

/** Whether `t` is still the gradient of some tensor (a gradient function may pass dy through unchanged). */
function isHeldElsewhere(t: tf.Tensor, grads: Map<number, tf.Tensor>): boolean {
  for (const g of grads.values()) if (g === t) return true;
  return false;
}

/**
 * The nodes on some path from the variables to y, each with only the inputs
 * that depend on a variable (so no gradient is computed for the images or
 * the labels), in tape order. tfjs's getFilteredNodesXToY, which its
 * package does not export.
 */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodeFromX = tape.map((node) => {
    const hit = Object.values(node.inputs).some((t) => fromX.has(t.id));
    if (hit) for (const o of node.outputs) fromX.add(o.id);
    return hit;
  });
  const toY = new Set([y.id]);
  const nodeToY = new Array<boolean>(tape.length).fill(false);
  for (let n = tape.length - 1; n >= 0; n--) {
    if (tape[n].outputs.some((o) => toY.has(o.id))) {
      nodeToY[n] = true;
      for (const t of Object.values(tape[n].inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((_, n) => nodeFromX[n] && nodeToY[n])
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))) }));
}
