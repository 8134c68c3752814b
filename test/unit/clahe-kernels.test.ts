import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLAHE_WASM_BASE64 } from '../../src/imaging/clahe/wasm/clahe-binary.js';

describe('CLAHE WebAssembly kernels', () => {
  it('the committed clahe-binary.ts is a fresh compile of clahe.wat (npm run build:wasm)', async () => {
    const script = new URL('../../../scripts/build-wasm.mjs', import.meta.url).href;
    const { compileClaheKernels } = (await import(script)) as {
      compileClaheKernels: () => Promise<Uint8Array>;
    };
    const committed = Uint8Array.from(Buffer.from(CLAHE_WASM_BASE64, 'base64'));
    assert.deepEqual(committed, await compileClaheKernels());
  });
});
