// Prints the size of the built app (raw and gzip -9 per file, and the total transfer) so
// every test run shows what a first visit costs.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dir = process.argv[2] || 'dist';
let raw = 0, gz = 0;
for (const f of fs.readdirSync(dir).sort()) {
  const p = path.join(dir, f);
  if (!fs.statSync(p).isFile() || !/\.(wasm|js|css|html)$/.test(f)) continue;
  const b = fs.readFileSync(p);
  const g = zlib.gzipSync(b, { level: 9 }).length;
  raw += b.length; gz += g;
  console.log(`size: ${f.padEnd(40)} ${String(b.length).padStart(10)} B raw ${String(g).padStart(9)} B gzip`);
}
console.log(`size: ${'TOTAL (first load)'.padEnd(40)} ${String(raw).padStart(10)} B raw ${String(gz).padStart(9)} B gzip`);
