// Prints the size of the built app (raw and gzip -9 per file) and three totals: what a first
// visit downloads (the page's HTML, JS, wasm, CSS), the worker bundle, fetched only when a
// sweep or a local model first needs it, and the training bundle (burn), fetched only when the
// training view starts something.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dir = process.argv[2] || 'dist';
const totals = { page: { raw: 0, gz: 0 }, worker: { raw: 0, gz: 0 }, train: { raw: 0, gz: 0 } };
for (const f of fs.readdirSync(dir).sort()) {
  const p = path.join(dir, f);
  if (!fs.statSync(p).isFile() || !/\.(wasm|js|css|html)$/.test(f)) continue;
  const b = fs.readFileSync(p);
  const g = zlib.gzipSync(b, { level: 9 }).length;
  const t = f.startsWith('council-train') ? totals.train : f.startsWith('council-worker') ? totals.worker : totals.page;
  t.raw += b.length; t.gz += g;
  console.log(`size: ${f.padEnd(40)} ${String(b.length).padStart(10)} B raw ${String(g).padStart(9)} B gzip`);
}
const row = (label, t) =>
  console.log(`size: ${label.padEnd(40)} ${String(t.raw).padStart(10)} B raw ${String(t.gz).padStart(9)} B gzip`);
row('TOTAL first visit (page)', totals.page);
row('TOTAL worker (on first sweep/model)', totals.worker);
row('TOTAL training (on first training)', totals.train);
