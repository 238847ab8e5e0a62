/** The coordinator's CPU time per step, as summary.json reports it (coordinator_cpu_ms). */
import { strict as assert } from 'node:assert';
import { CpuPerStep } from '../../../coordinator/cpu-per-step';

describe('the coordinator’s CPU time per step', () => {
  it('averages user and system time over the steps past the warm-up, from the end of the step before', () => {
    // Microseconds used by the process, as process.cpuUsage reports them, at start and after each step.
    const readings = [
      { user: 0, system: 0 },
      { user: 90_000, system: 10_000 }, // warm-up step: 100 ms, left out
      { user: 100_000, system: 14_000 }, // 14 ms
      { user: 120_000, system: 20_000 }, // 26 ms
    ];
    let i = 0;
    const cpu = new CpuPerStep(() => readings[i++]);
    assert.equal(cpu.msPerStep(), 0);
    cpu.onStepEnd({ warmup: true });
    assert.equal(cpu.msPerStep(), 0);
    cpu.onStepEnd({ warmup: false });
    cpu.onStepEnd({ warmup: false });
    assert.equal(cpu.msPerStep(), 20);
  });
});
