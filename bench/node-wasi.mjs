// bench/node-wasi.mjs — runs a wasm32-wasi command module under node's built-in WASI
// (preview1), passing the remaining arguments and the module's exit status through.
// Usage: node --no-warnings bench/node-wasi.mjs prog.wasm [args...]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node-wasi.mjs prog.wasm [args...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
// wasiImport rather than getImportObject(): Debian 12's node 18 has only the former.
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(instance);
