// End-to-end, the browser part of adapters.sh: headless Debian Chromium with the gostsign
// extension drives the three test sites (tests/e2e/sites) through the CryptoPro, Gosplugin and
// IFCPlugin page APIs. PHASE=tokens: listing, signing (verified by the test server), the user's
// cancel, a wrong PIN, hash signing refused by policy, a site outside the allow-list that sees no
// plugin, and a site allowed later through the popup's path. PHASE=notoken: a fresh browser start
// (the adapters are there on the first page) with an agent that sees no token.
// Environment: CHROMIUM, EXTENSION_DIR, EXTENSION_ID, PROFILE_DIR, PORT, SPKI, PINENTRY_RECORD,
// SITE_LOG, SCREENSHOT_DIR, PHASE.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const PORT = env('PORT');
const url = (host, page) => `https://${host}:${PORT}/${page}`;
const EDO = 'sign.example-edo.ru';
const LK = 'lk.gosuslugi.ru';
const ESIA = 'esia.gosuslugi.ru';
const EVIL = 'evil.example.com';
const OTHER = 'sign.other-edo.ru';

let passed = 0;
// Records one passed check in the shell tests' style.
function ok(text) {
  passed += 1;
  console.log(`ok ${passed} - ${text}`);
}

// Throws unless cond holds.
function expect(cond, text) {
  if (!cond) throw new Error(text);
}

// Number of PIN dialogs the scripted pinentry has answered so far.
function pinDialogs() {
  const record = env('PINENTRY_RECORD');
  if (!fs.existsSync(record)) return 0;
  return (fs.readFileSync(record, 'latin1').match(/^GETPIN/gm) || []).length;
}

// Number of signatures the test server verified so far.
function verified() {
  return (fs.readFileSync(env('SITE_LOG'), 'utf8').match(/^VERIFIED/gm) || []).length;
}

// Opens a test page and waits until its plugin status is settled (ready, missing or error).
async function open(context, host, page) {
  const p = await context.newPage();
  p.on('console', (m) => { if (m.type() === 'error') console.log(`   [${host} ${m.type()}] ${m.text()}`); });
  p.on('pageerror', (e) => console.log(`   [${host} pageerror] ${e.message}`));
  await p.goto(url(host, page));
  await p.waitForSelector('#status.ready, #status.missing, #status.error', { timeout: 20000 });
  return p;
}

// Picks the first certificate in the page's list.
async function pickFirst(p) {
  await p.click('#certs li');
}

// Clicks an action button and returns [kind, text] of the page's result.
async function act(p, id) {
  await p.evaluate(() => { document.getElementById('result').className = 'pending'; });
  await p.click(`#${id}`);
  await p.waitForSelector('#result.ok, #result.error', { timeout: 90000 });
  return [await p.getAttribute('#result', 'class'), (await p.textContent('#result')).trim()];
}

// Runs one action and checks it succeeds with the server's verdict.
async function expectSigned(p, id, what) {
  const before = verified();
  const [kind, text] = await act(p, id);
  expect(kind === 'ok', `${what}: ${text}`);
  if (!/без CMS/.test(text)) expect(verified() === before + 1, `${what}: the server did not log a verified signature`);
  ok(`${what}: ${text}`);
}

// Runs one action and checks it fails with a text matching re (and how many PIN dialogs it took).
async function expectFailure(p, id, re, dialogs, what) {
  const before = pinDialogs();
  const [kind, text] = await act(p, id);
  expect(kind === 'error' && re.test(text), `${what}: ${kind} ${text}`);
  expect(pinDialogs() - before === dialogs, `${what}: ${pinDialogs() - before} PIN dialogs, expected ${dialogs}`);
  ok(`${what}: ${text}`);
}

// The page sees no plugin of any kind (and nothing of gostsign's adapters).
async function expectNoPlugin(context, host) {
  const cp = await open(context, host, 'cryptopro.html');
  const cpState = await cp.evaluate(() => ({ stub: Boolean(window.cadesplugin && window.cadesplugin.loaderStub),
    status: document.getElementById('status').textContent, kit: '__gostsignAdapterKit' in window }));
  expect(cpState.stub && /Плагин недоступен/.test(cpState.status) && !cpState.kit, `${host} cryptopro: ${JSON.stringify(cpState)}`);
  ok(`${host}: the CryptoPro loader finds no plugin («${cpState.status}»)`);
  const gp = await open(context, host, 'gosplugin.html');
  const gpState = await gp.evaluate(() => ({ meta: document.querySelectorAll('meta[content="extension"]').length,
    crypto: typeof window.gosuslugiPluginCrypto, status: document.getElementById('status').textContent }));
  expect(gpState.meta === 0 && gpState.crypto === 'undefined', `${host} gosplugin: ${JSON.stringify(gpState)}`);
  ok(`${host}: no Gosplugin marker, no page globals («${gpState.status}»)`);
  const ifc = await open(context, host, 'ifcplugin.html');
  const ifcState = await ifc.evaluate(() => ({ a: Boolean(document.getElementById('ifcplugin-extension-is-installed')),
    b: Boolean(document.getElementById('ifc-plugin-is-installed')), status: document.getElementById('status').textContent }));
  expect(!ifcState.a && !ifcState.b, `${host} ifcplugin: ${JSON.stringify(ifcState)}`);
  ok(`${host}: no IFCPlugin markers («${ifcState.status}»)`);
  await Promise.all([cp.close(), gp.close(), ifc.close()]);
}

// The phase with the demo token: every API, its successes and its error paths.
async function withToken(context, worker) {
  const dialogs0 = pinDialogs();
  await expectNoPlugin(context, EVIL);
  expect(pinDialogs() === dialogs0, 'a PIN dialog opened for a site outside the allow-list');
  ok('no PIN dialog for the site outside the allow-list');

  // CryptoPro object model on the EDO site.
  const cp = await open(context, EDO, 'cryptopro.html');
  expect(await cp.getAttribute('#status', 'class') === 'ready', `cryptopro: ${await cp.textContent('#status')}`);
  const cert = JSON.parse(await cp.getAttribute('#certs li', 'data-info'));
  expect(/^[0-9A-F]{40}$/.test(cert.thumbprint) && cert.hasKey && cert.valid && /CN=Иванов Иван Иванович/.test(cert.subject)
    && cert.algorithm === 'ГОСТ Р 34.10-2012 256 бит' && cert.export > 500, `cryptopro certificate: ${JSON.stringify(cert)}`);
  ok(`CryptoPro: ${await cp.textContent('#status')}; ${cert.subject.slice(0, 40)}…, Thumbprint ${cert.thumbprint}`);
  expect(!(await cp.evaluate(() => '__gostsignAdapterKit' in window)), 'the adapters\' kit is left on the page');
  ok('the adapters leave no kit behind on the page');
  await pickFirst(cp);
  await expectSigned(cp, 'sign-detached', 'CryptoPro SignCades BES detached');
  await expectFailure(cp, 'sign-attached', /отменено пользователем.*0x8010006E/, 1, 'CryptoPro, the user cancels');
  await expectFailure(cp, 'sign-hashed', /неправильный PIN.*0x8010006B/, 1, 'CryptoPro, wrong PIN');
  await expectSigned(cp, 'sign-attached', 'CryptoPro SignCades BES attached');
  await expectSigned(cp, 'sign-hashed', 'CryptoPro HashedData.Hash + SignHash');
  await expectFailure(cp, 'sign-hash-value', /0x80070005/, 0, 'CryptoPro SetHashValue + SignHash refused by policy');
  await cp.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'e2e-adapters-cryptopro.png') });

  // Gosplugin protocol on the cabinet.
  const lk = await open(context, LK, 'gosplugin.html');
  expect(await lk.getAttribute('#status', 'class') === 'ready', `gosplugin: ${await lk.textContent('#status')}`);
  ok(`Gosplugin: ${await lk.textContent('#status')}`);
  await pickFirst(lk);
  await expectSigned(lk, 'sign-attached', 'Gosplugin signature (attached)');
  await expectSigned(lk, 'sign-big', 'Gosplugin signature of 600 KiB in page chunks');
  await expectFailure(lk, 'sign-attached', /отмен/i, 1, 'Gosplugin, the user cancels');
  await expectFailure(lk, 'sign-attached', /PIN/, 1, 'Gosplugin, wrong PIN');
  await expectSigned(lk, 'sign-attached', 'Gosplugin signature after the wrong PIN');
  await expectFailure(lk, 'sign-hash', /х[еэ]ш/i, 0, 'Gosplugin hash signing refused by policy');
  await lk.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'e2e-adapters-gosplugin.png') });

  // IFCPlugin protocol on the ESIA-style login.
  const esia = await open(context, ESIA, 'ifcplugin.html');
  expect(await esia.getAttribute('#status', 'class') === 'ready', `ifcplugin: ${await esia.textContent('#status')}`);
  ok(`IFCPlugin: ${await esia.textContent('#status')}`);
  await pickFirst(esia);
  await expectSigned(esia, 'login', 'ESIA-style login (attached CMS over the ASCII of the hex challenge)');
  await expectFailure(esia, 'login', /\(-1\)/, 1, 'IFCPlugin, the user cancels');
  await expectFailure(esia, 'login', /Неверный PIN-код \(160\)/, 1, 'IFCPlugin, wrong PIN (0xA0)');
  await expectSigned(esia, 'login', 'ESIA-style login after the wrong PIN');
  await expectSigned(esia, 'sign-hash', 'IFCPlugin hash + HASH_B64 CMS detached (hash signing allowed here)');
  await expectSigned(esia, 'sign-simple', 'IFCPlugin SIMPLE');
  await esia.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'e2e-adapters-ifcplugin.png') });
  const lkIfc = await open(context, LK, 'ifcplugin.html');
  await pickFirst(lkIfc);
  await expectFailure(lkIfc, 'sign-hash', /\(17\)/, 0, 'IFCPlugin hash signing refused by policy (0x11)');
  const esiaGp = await open(context, ESIA, 'gosplugin.html');
  await pickFirst(esiaGp);
  await expectSigned(esiaGp, 'sign-hash', 'Gosplugin hash signing where the policy allows it');

  // A site allowed later: the popup's path (origins add), then the page has the plugin.
  await expectNoPlugin(context, OTHER);
  const popup = await context.newPage();
  await popup.goto(`chrome-extension://${env('EXTENSION_ID')}/popup.html`);
  const answer = await popup.evaluate((origin) => new Promise((resolve) => {
    const port = chrome.runtime.connect({ name: 'gostsign-popup' });
    port.onMessage.addListener((m) => { if (m.type === 'allowed') resolve(m); });
    port.postMessage({ type: 'allow', origin });
  }), `https://${OTHER}:${PORT}`);
  expect(answer.ok && answer.allowed, `allow ${OTHER}: ${JSON.stringify(answer)}`);
  const scripts = await worker.evaluate(() => chrome.scripting.getRegisteredContentScripts());
  expect(scripts[0].matches.includes(`https://${OTHER}:${PORT}/*`), `registered: ${JSON.stringify(scripts)}`);
  ok(`the popup's "allow this site" path: the agent adds ${OTHER}, the adapters are registered for it`);
  const other = await open(context, OTHER, 'cryptopro.html');
  expect(await other.getAttribute('#status', 'class') === 'ready', `${OTHER}: ${await other.textContent('#status')}`);
  ok(`${OTHER} after allowing: ${await other.textContent('#status')}`);
}

// The phase after a browser restart with no token: the first page already has the adapters.
async function withoutToken(context) {
  const cp = await open(context, EDO, 'cryptopro.html');
  const status = await cp.textContent('#status');
  expect(/Нет доступных сертификатов/.test(status), `cryptopro without a token: ${status}`);
  ok(`first page after the browser start has window.cadesplugin; without a token: «${status}»`);
  const lk = await open(context, LK, 'gosplugin.html');
  expect(/Сертификаты не найдены/.test(await lk.textContent('#status')), `gosplugin: ${await lk.textContent('#status')}`);
  ok(`Gosplugin without a token: «${await lk.textContent('#status')}»`);
  const esia = await open(context, ESIA, 'ifcplugin.html');
  expect(/Сертификаты не найдены/.test(await esia.textContent('#status')), `ifcplugin: ${await esia.textContent('#status')}`);
  ok(`IFCPlugin without a token: «${await esia.textContent('#status')}»`);
}

async function main() {
  const extension = env('EXTENSION_DIR');
  fs.mkdirSync(env('SCREENSHOT_DIR'), { recursive: true });
  const hosts = [EDO, LK, ESIA, EVIL, OTHER].map((h) => `MAP ${h} 127.0.0.1`).join(', ');
  const context = await chromium.launchPersistentContext(env('PROFILE_DIR'), {
    executablePath: env('CHROMIUM'),
    headless: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      `--disable-extensions-except=${extension}`, `--load-extension=${extension}`,
      '--disable-features=DisableLoadExtensionCommandLineSwitch',
      `--host-resolver-rules=${hosts}`,
      // Trust exactly the test sites' key (no blanket --ignore-certificate-errors).
      `--ignore-certificate-errors-spki-list=${env('SPKI')}`,
    ],
    env: process.env,
  });
  try {
    let [worker] = context.serviceWorkers();
    if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
    expect(new URL(worker.url()).host === env('EXTENSION_ID'), `extension id ${worker.url()}`);
    if (process.env.PHASE === 'notoken') {
      await withoutToken(context);
    } else {
      // The first start registers the adapters once the agent has answered `origins`.
      let scripts = [];
      for (let i = 0; i < 100 && !scripts.length; i++) {
        scripts = await worker.evaluate(() => chrome.scripting.getRegisteredContentScripts());
        if (!scripts.length) await new Promise((r) => setTimeout(r, 100));
      }
      expect(scripts.length === 1 && scripts[0].world === 'MAIN' && scripts[0].runAt === 'document_start',
        `registered adapters: ${JSON.stringify(scripts)}`);
      ok(`adapters registered (MAIN world, document_start) for ${scripts[0].matches.join(' ')}`);
      await withToken(context, worker);
    }
  } finally {
    await context.close();
  }
  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
