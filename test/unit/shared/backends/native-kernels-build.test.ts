/**
 * The wasm module gradfleet embeds (native/kernels-wasm.ts) is what clang builds
 * from the C sources beside it, so reading them tells what runs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildKernels, canBuildKernels } from '../../../../shared/backends/wasm/native/build-kernels';
import { KERNELS_WASM_BASE64 } from '../../../../shared/backends/wasm/native/kernels-wasm';
import { skipIfMissing } from '../../../helpers/skip';

describe('the embedded wasm kernels', () => {
  before(function () {
    skipIfMissing(this, canBuildKernels() ? undefined : 'clang with the wasm32 target and wasm-ld (Debian: clang, lld) are not installed');
  });

  it('are the build of the C sources in native/ (npm run build:kernels rewrites them)', function () {
    this.timeout(60_000);
    const built = buildKernels();
    assert.equal(KERNELS_WASM_BASE64, built.toString('base64'), 'kernels-wasm.ts is stale: run npm run build:kernels');
  });

  it('refuse to build a kernel that needs stack memory, which would land on tfjs tensors in the shared heap', function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradfleet-stack-'));
    try {
      const source = path.join(dir, 'stack.c');
      fs.writeFileSync(source, '__attribute__((export_name("f"))) int f(int i) { volatile int a[16]; a[i & 15] = i; return a[(i + 1) & 15]; }\n');
      assert.throws(() => buildKernels([source]), /needs stack slots/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
