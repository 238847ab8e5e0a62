import { strict as assert } from 'node:assert';
import { RepeatedLines } from '../../../../shared/observability/repeated-lines';
import { levelledLogger } from '../../../helpers/line-log';

describe('a line that comes again and again (a spare worker turned away at every redial)', () => {
  it('is said the first time, then at most once a minute with how often it came meanwhile; each repeat is at debug level', () => {
    const clock = { ms: 0 };
    const { log, warn, debug } = levelledLogger();
    const lines = new RepeatedLines(log, () => clock.ms);
    for (let i = 0; i < 7; i++, clock.ms += 10_000) lines.say('warn', 'w9 full', 'refused a worker (w9): the run is full');
    assert.deepEqual(warn, ['refused a worker (w9): the run is full', 'refused a worker (w9): the run is full (and 5 more times in the last 60 s)']);
    assert.equal(debug.length, 5);
  });

  it('keeps each key apart: another worker, or another reason, is said at once', () => {
    const { log, warn } = levelledLogger();
    const lines = new RepeatedLines(log, () => 0);
    lines.say('warn', 'a', 'refused a');
    lines.say('warn', 'b', 'refused b');
    lines.say('warn', 'a', 'refused a');
    assert.deepEqual(warn, ['refused a', 'refused b']);
  });
});
