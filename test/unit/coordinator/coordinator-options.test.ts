/** Options that depend on where the run happens. */
import { strict as assert } from 'node:assert';
import { resolveGradientParts } from '../../../coordinator/coordinator-options';

describe('--gradient-parts', () => {
  it('auto streams gradients, unless `local` starts as many workers as there are cores', () => {
    assert.equal(resolveGradientParts('auto', undefined, 2), 'streamed'); // gradfleet coordinator: workers elsewhere
    assert.equal(resolveGradientParts('auto', 1, 2), 'streamed'); // a core left for the coordinator
    assert.equal(resolveGradientParts('auto', 2, 2), 'whole');
    assert.equal(resolveGradientParts('auto', 4, 16), 'streamed');
  });

  it('takes streamed and whole as given', () => {
    assert.equal(resolveGradientParts('whole', undefined, 64), 'whole');
    assert.equal(resolveGradientParts('streamed', 8, 2), 'streamed');
  });
});
