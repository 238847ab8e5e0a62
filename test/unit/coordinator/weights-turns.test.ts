/**
 * The turns of a staggered step: the next worker's weights wait for the
 * word of the one before, for its leaving, or for a timeout scaled to how
 * long that worker usually takes to answer.
 */
import { strict as assert } from 'node:assert';
import { WeightsTurns } from '../../../coordinator/weights-turns';
import { levelledLogger, lineLogger } from '../../helpers/line-log';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to what happened first: the turn ended, or `ms` passed. */
function endedWithin(turn: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([turn.then(() => true), sleep(ms).then(() => false)]);
}

/** `workerId` answers each of `versions` `ms` after its turn starts. */
async function answersAfter(turns: WeightsTurns, workerId: string, versions: number[], ms: number): Promise<void> {
  for (const version of versions) {
    const turn = turns.heldBy(workerId, version);
    await sleep(ms);
    turns.loaded(workerId, version);
    await turn;
  }
}

describe('the turns of a staggered broadcast', () => {
  it('ends a turn when the worker says it holds that version or a newer one, not an older one', async () => {
    const turns = new WeightsTurns(lineLogger('warn').log);
    const turn = turns.heldBy('w1', 3);
    turns.loaded('w1', 2);
    assert.equal(await endedWithin(turn, 50), false);
    turns.loaded('w1', 4);
    assert.equal(await endedWithin(turn, 50), true);
  });

  it('does not wait for a worker that already said it holds the version', async () => {
    const turns = new WeightsTurns(lineLogger('warn').log);
    turns.loaded('w1', 5);
    assert.equal(await endedWithin(turns.heldBy('w1', 5), 0), true);
  });

  it('ends the turn at once when the worker leaves, and forgets what it said', async () => {
    const { log, lines } = lineLogger('warn');
    const turns = new WeightsTurns(log);
    turns.loaded('w1', 1);
    const turn = turns.heldBy('w1', 2);
    turns.left('w1');
    assert.equal(await endedWithin(turn, 50), true);
    assert.equal(await endedWithin(turns.heldBy('w1', 1), 50), false, 'a worker that comes back must say again what it holds');
    turns.releaseAll();
    assert.deepEqual(lines, []);
  });

  it('times a silent worker out after four times its usual wait', async () => {
    const { log, lines } = lineLogger('debug');
    const turns = new WeightsTurns(log);
    await answersAfter(turns, 'w1', [0, 1, 2], 40);
    await turns.heldBy('w1', 3);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^worker w1 has not said it holds weights version 3 after \d+ ms; the next worker gets its weights now$/);
    const waited = Number(/after (\d+) ms/.exec(lines[0])![1]);
    // A timer may fire a fraction of a millisecond early by performance.now(): 38, not 40.
    assert.ok(waited >= 4 * 38, `timed out after ${waited} ms, less than four times its 40 ms answers`);
  });

  it('does not warn of a worker that answers late (a busy host), and warns once of one that lets three turns in a row pass without a word', async () => {
    const { log, warn } = levelledLogger();
    const turns = new WeightsTurns(log);
    await answersAfter(turns, 'w1', [0, 1, 2], 10);
    for (let version = 3; version < 9; version++) {
      await turns.heldBy('w1', version);
      // Late, after its turn has passed: still an answer.
      if (version % 2 === 1) turns.loaded('w1', version);
    }
    assert.deepEqual(warn, []);
    for (let version = 9; version < 15; version++) await turns.heldBy('w1', version);
    assert.equal(warn.length, 1);
    assert.match(warn[0], /^worker w1 has not said it holds its weights in 3 turns in a row; the next worker gets its weights after \d+ ms at most \(an older gradfleet, or lost messages\? each turn it lets pass is logged at debug level\)$/);
  });

  it('times a worker that has never answered out by the others’ waits, or after a second when no one has answered yet', async () => {
    const { log, lines } = lineLogger('debug');
    const turns = new WeightsTurns(log);
    await turns.heldBy('w1', 0);
    assert.match(lines[0], /worker w1 .* after 1000 ms/);
    await answersAfter(turns, 'w2', [0, 1, 2], 0);
    await turns.heldBy('w3', 0);
    // w2 answered at once: four times its waits is far below a second, and never below the 20 ms floor.
    const ms = Number(/worker w3 .* after (\d+) ms/.exec(lines[1])![1]);
    assert.ok(ms >= 20 && ms < 1000, `w3 timed out after ${ms} ms`);
  });
});
