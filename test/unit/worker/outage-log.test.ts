/**
 * A worker whose coordinator is away warns when the outage starts, when its
 * cause changes and once a minute, not at every dial; each dial is still
 * logged at debug level.
 */
import { strict as assert } from 'node:assert';
import { OutageLog } from '../../../worker/outage-log';
import { levelledLogger } from '../../helpers/line-log';

function outageAt(clock: { ms: number }) {
  const { log, ...lines } = levelledLogger();
  return { outage: new OutageLog(log, '10.0.0.5:50051', () => clock.ms), ...lines };
}

const REFUSED = 'connect ECONNREFUSED 10.0.0.5:50051';

describe("a worker's log while its coordinator is away", () => {
  it('warns once for a run of failed dials with the same cause, and logs each at debug level', () => {
    const clock = { ms: 0 };
    const { outage, warn, debug } = outageAt(clock);
    for (let i = 0; i < 6; i++, clock.ms += 10_000) outage.failed(REFUSED, 'unreachable');
    assert.deepEqual(warn, [`cannot reach the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying`]);
    assert.equal(debug.length, 5);
    assert.match(debug[4], /; retrying \(attempt 6\)$/);
  });

  it('reminds once a minute how long the outage has lasted', () => {
    const clock = { ms: 0 };
    const { outage, warn } = outageAt(clock);
    for (let i = 0; i < 14; i++, clock.ms += 10_000) outage.failed(REFUSED, 'lost');
    assert.deepEqual(warn, [
      `lost the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying`,
      `lost the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying (7 attempts over 60 s)`,
      `lost the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying (13 attempts over 120 s)`,
    ]);
  });

  it('warns again as soon as the cause changes', () => {
    const clock = { ms: 0 };
    const { outage, warn } = outageAt(clock);
    outage.failed(REFUSED, 'lost');
    clock.ms += 2_000;
    outage.failed('connect ETIMEDOUT 10.0.0.5:50051', 'lost');
    clock.ms += 2_000;
    outage.failed('connect ETIMEDOUT 10.0.0.5:50051', 'lost');
    assert.equal(warn.length, 2);
    assert.match(warn[1], /ETIMEDOUT .*\(2 attempts over 2 s\)$/);
  });

  it('says it at info level after the coordinator stopped its run on purpose, and warns again once the worker was back', () => {
    const clock = { ms: 0 };
    const { outage, warn, info } = outageAt(clock);
    outage.expectAbsence();
    for (let i = 0; i < 7; i++, clock.ms += 10_000) outage.failed(REFUSED, 'lost');
    assert.deepEqual(warn, []);
    assert.deepEqual(info, [`lost the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying`, `lost the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying (7 attempts over 60 s)`]);
    outage.recovered();
    outage.failed(REFUSED, 'lost');
    assert.equal(warn.length, 1);
  });

  it('says how long it took once the worker is back, and starts afresh at the next outage', () => {
    const clock = { ms: 0 };
    const { outage, warn, info } = outageAt(clock);
    for (let i = 0; i < 3; i++, clock.ms += 5_000) outage.failed(REFUSED, 'unreachable');
    outage.recovered();
    assert.deepEqual(info, ['reached the coordinator at 10.0.0.5:50051 after 3 failed attempts over 15 s']);
    outage.failed(REFUSED, 'lost');
    assert.equal(warn.length, 2);
    assert.equal(warn[1], `lost the coordinator at 10.0.0.5:50051: ${REFUSED}; retrying`);
  });

  it('measures the outage from its first failed dial to its latest, for --max-wait, and from nothing once the worker is back', () => {
    const clock = { ms: 5_000 };
    const { outage } = outageAt(clock);
    assert.equal(outage.lastedMs(), 0);
    for (let i = 0; i < 4; i++, clock.ms += 10_000) outage.failed(REFUSED, 'lost');
    assert.equal(outage.lastedMs(), 30_000);
    outage.recovered();
    assert.equal(outage.lastedMs(), 0);
    outage.failed(REFUSED, 'lost');
    assert.equal(outage.lastedMs(), 0);
  });

  it('says that a coordinator which answered turned the worker away (a full run), not that it cannot be reached', () => {
    const { outage, warn } = outageAt({ ms: 0 });
    outage.failed('the run already has its maximum of 4 workers', 'turned away');
    assert.deepEqual(warn, ['turned away by the coordinator at 10.0.0.5:50051: the run already has its maximum of 4 workers; retrying']);
  });
});
