/**
 * The part of the WebAssembly JS API the kernels and codecs use. Node has it as a global, but
 * neither lib ES2023 nor @types/node 20 declares it, and declaring the global here could clash
 * with later typings.
 */
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: object };
}

/** A compiled module: instantiated as often as a caller needs separate memories. */
export type WasmModule = object;

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Compiles a module from its base64 bytes, as `npm run build:wasm` writes them (synchronous). */
export function compileModule(base64: string): WasmModule {
  return new wasmApi.Module(Buffer.from(base64, 'base64'));
}

/** A new instance of `module`, its exports typed as the caller declares them. */
export function instantiateModule<Exports>(module: WasmModule): Exports {
  return new wasmApi.Instance(module).exports as Exports;
}
