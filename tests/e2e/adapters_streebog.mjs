// Checks the adapters' GOST R 34.11-2012 (native-messaging/extension/adapters/common.js) against
// the RFC 6986 example M1 and against `openssl dgst` with the GOST engine for lengths around the
// block size. Usage: node adapters_streebog.mjs COMMON_JS
import fs from 'node:fs';
import vm from 'node:vm';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
const src = fs.readFileSync(process.argv[2], 'utf8');
const win = { addEventListener() {}, location: { origin: 'x' } };
const ctx = { window: win, TextEncoder, btoa, atob, document: {}, MutationObserver: class {} };
vm.createContext(ctx);
vm.runInContext(src, ctx);
const kit = win.__gostsignAdapterKit;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gostsign-streebog-'));
const file = path.join(dir, 'd.bin');
const hex = (b) => Buffer.from(b).toString('hex');
const m1 = Buffer.from('012345678901234567890123456789012345678901234567890123456789012');
const rev = (h) => Buffer.from(h, 'hex').reverse().toString('hex');
const want512 = rev('486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b');
const want256 = rev('00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d');
let fails = 0;
const check = (name, got, want) => { if (got !== want) { fails++; console.log(`FAIL ${name}: ${got} != ${want}`); } else console.log(`ok ${name}`); };
check('rfc6986 M1 512', hex(kit.streebog(new Uint8Array(m1), 512)), want512);
check('rfc6986 M1 256', hex(kit.streebog(new Uint8Array(m1), 256)), want256);
for (const len of [0, 1, 63, 64, 65, 127, 128, 1000, 100000]) {
  const data = new Uint8Array(len).map((_, i) => (i * 131 + 7) & 255);
  fs.writeFileSync(file, data);
  for (const bits of [256, 512]) {
    const out = execFileSync('openssl', ['dgst', '-engine', 'gost', `-md_gost12_${bits}`, '-r', file],
      { env: { ...process.env, OPENSSL_CONF: '/dev/null' }, stdio: ['ignore', 'pipe', 'ignore'] }).toString().split(' ')[0];
    check(`openssl len ${len} ${bits}`, hex(kit.streebog(data, bits)), out);
  }
}
fs.rmSync(dir, { recursive: true, force: true });
process.exit(fails ? 1 : 0);
