// End-to-end, the browser part of firefox.sh: Debian's firefox-esr, headless, driven over WebDriver
// BiDi by puppeteer-core, installs the Firefox build of the gostsign extension as a temporary
// add-on (webExtension.install), then: the demo cabinet outside the allow-list is refused with no
// PIN dialog; the allowed cabinet logs in through window.gostsign; one document is signed through
// the page API (the CMS is saved for the shell to verify); the ESIA-style page logs in through the
// IFCPlugin adapter the extension registers at run time; without the host manifest a request
// fails with NMHOST_NOT_REGISTERED, and works again once `gostsign browser install` wrote it;
// the idle native port is closed after 30 s (its host ends) and the next request opens a new one.
// Environment: FIREFOX, GOSTSIGN, GOSTSIGN_NMHOST, FIREFOX_MANIFEST, EXTENSION_DIR, LK_URL,
// EVIL_URL, ESIA_URL, PINENTRY_RECORD, SCREENSHOT_DIR, SIGNATURE_OUT, DOCUMENT_OUT, EXPECT_LOGIN.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const GECKO_ID = 'gostsign@gostsign.ru';
const IDLE_CLOSE_MS = 30000; // NATIVE_IDLE_MS of background.js

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

// Opens a cabinet page and waits for the page API the extension injects.
async function openCabinet(browser, url) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log(`   [pageerror ${url}] ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.gostsign && typeof window.gostsign.authenticate === 'function',
    { timeout: 15000 });
  return page;
}

// Clicks the cabinet's login button and waits for the page's final state; a failure's text gets
// the agent's error detail (read from the page API's reply messages), for the log.
async function clickLogin(page) {
  await page.evaluate(() => {
    window.addEventListener('message', (event) => {
      const m = event.data;
      if (m && m.__gostsign === 'response' && m.ok === false) window.__lastError = m.error;
    });
  });
  await page.click('#login');
  await page.waitForSelector('#result.ok, #result.error', { timeout: 60000 });
  const text = await page.$eval('#result', (e) => e.textContent.trim());
  const err = await page.evaluate(() => window.__lastError);
  return err && err.detail ? `${text} [${err.detail}]` : text;
}

// Signs a document through the page API on an open cabinet page and shows the result on it.
async function signDocument(page) {
  const text = `Платёжное поручение № ${crypto.randomInt(1000, 9999)} от ${new Date().toISOString().slice(0, 10)}`;
  const result = await page.evaluate(async (data) => {
    const certs = await window.gostsign.certificates();
    const r = await window.gostsign.sign({ certificate: certs[0].id, data, detached: true,
      document: 'платёжное поручение' });
    const div = document.createElement('div');
    div.id = 'signed';
    div.textContent = `Документ подписан: CMS ${atob(r.cms).length} байт, сертификат ${r.certificate.slice(0, 16)}`;
    document.body.appendChild(div);
    return r;
  }, text);
  fs.writeFileSync(env('DOCUMENT_OUT'), text);
  fs.writeFileSync(env('SIGNATURE_OUT'), Buffer.from(result.cms, 'base64'));
  return result;
}

// Pids of the running gostsign-nmhost processes whose parent is pid (the browser that started them).
function hostPids(pid) {
  const exe = fs.realpathSync(env('GOSTSIGN_NMHOST'));
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && fs.readlinkSync(`/proc/${d}/exe`) === exe) out.push(Number(d));
    } catch (e) {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

// The page API's hello() on page: its result, or the error's code and Russian message.
function helloOn(page) {
  return page.evaluate(() => window.gostsign.hello().then((r) => ({ ok: true, agent: r.agent }),
    (e) => ({ ok: false, code: e.code, ru: e.message_ru, detail: e.detail })));
}

async function main() {
  const shots = env('SCREENSHOT_DIR');
  fs.mkdirSync(shots, { recursive: true });
  const hosts = ['lk.example.ru', 'evil.example.com', 'esia.gosuslugi.ru'];
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: env('FIREFOX'),
    headless: true,
    acceptInsecureCerts: true, // the test sites' self-signed certificates
    extraPrefsFirefox: {
      // The test host names resolve to 127.0.0.1 in this Firefox only.
      'network.dns.localDomains': hosts.join(','),
    },
    env: process.env,
  });
  try {
    const version = await browser.version();
    const id = await browser.installExtension(env('EXTENSION_DIR'));
    expect(id === GECKO_ID, `installed add-on id ${id}`);
    ok(`${version}: the unsigned Firefox build installed as a temporary add-on over BiDi (${id})`);

    // A site outside the allow-list: refused by the agent, no PIN dialog.
    const evil = await openCabinet(browser, env('EVIL_URL'));
    ok('the page API is in the page (static MV3 content script, world MAIN)');
    const refused = await clickLogin(evil);
    await evil.screenshot({ path: path.join(shots, 'e2e-firefox-refused.png') });
    expect(refused.includes('ORIGIN_NOT_ALLOWED'), `evil site: ${refused}`);
    expect(pinDialogs() === 0, 'the pinentry was started for a refused site');
    ok(`site outside the allow-list refused without a PIN dialog: ${refused}`);

    // The cabinet on the allow-list: hello, certificates, the login.
    const lk = await openCabinet(browser, env('LK_URL'));
    const hello = await lk.evaluate(() => window.gostsign.hello());
    expect(hello.agent === 'gostsign-agent', `hello: ${JSON.stringify(hello)}`);
    ok(`page API hello() through runtime.connectNative: ${hello.agent} ${hello.version}, protocol ${hello.protocol}`);
    const text = await clickLogin(lk);
    await lk.screenshot({ path: path.join(shots, 'e2e-firefox-login.png') });
    expect(text.includes(env('EXPECT_LOGIN')), `cabinet shows: ${text}`);
    expect(pinDialogs() === 1, `${pinDialogs()} PIN dialogs for the login`);
    ok(`cabinet login in Firefox: ${text}`);

    // One document signature through the page API.
    const signed = await signDocument(lk);
    await lk.screenshot({ path: path.join(shots, 'e2e-firefox-sign.png') });
    expect(signed.detached === true && signed.cms.length > 1000, `sign: ${JSON.stringify(signed).slice(0, 200)}`);
    expect(pinDialogs() === 2, `${pinDialogs()} PIN dialogs after the document`);
    ok(`document signed in Firefox: CMS ${Buffer.from(signed.cms, 'base64').length} bytes (saved for openssl)`);

    // The typed error of the page API.
    const err = await lk.evaluate(() => window.gostsign.sign({ certificate: '00'.repeat(20), data: 'x' })
      .then(() => null, (e) => ({ name: e.name, code: e.code, isError: e instanceof Error })));
    expect(err && err.name === 'GostsignError' && err.isError && err.code === 'CERT_NOT_FOUND', `typed error: ${JSON.stringify(err)}`);
    ok(`typed error from the page API: ${err.code}`);

    // The ESIA-style page through the IFCPlugin adapter (registered with scripting at run time).
    const esia = await browser.newPage();
    esia.on('pageerror', (e) => console.log(`   [pageerror esia] ${e.message}`));
    await esia.goto(`${env('ESIA_URL')}/ifcplugin.html`);
    await esia.waitForSelector('#status.ready, #status.missing, #status.error', { timeout: 20000 });
    const status = await esia.$eval('#status', (e) => e.textContent.trim());
    expect(await esia.$eval('#status', (e) => e.className) === 'ready', `ifcplugin: ${status}`);
    ok(`IFCPlugin adapter in Firefox: «${status}»`);
    await esia.click('#certs li');
    await esia.click('#login');
    await esia.waitForSelector('#result.ok, #result.error', { timeout: 60000 });
    const result = await esia.$eval('#result', (e) => e.textContent.trim());
    await esia.screenshot({ path: path.join(shots, 'e2e-firefox-esia.png') });
    expect(await esia.$eval('#result', (e) => e.className) === 'ok' && result.includes(env('EXPECT_LOGIN')), `esia: ${result}`);
    ok(`ESIA-style login through the adapter in Firefox: ${result}`);

    // Host not registered: the manifest is removed and the running host ends; the next request
    // must name the missing registration (Firefox reports it in port.error, not lastError).
    const manifest = env('FIREFOX_MANIFEST');
    fs.unlinkSync(manifest);
    const pids = hostPids(browser.process().pid);
    expect(pids.length === 1, `gostsign-nmhost processes of this Firefox: ${pids}`);
    process.kill(pids[0], 'SIGTERM');
    for (let i = 0; i < 50 && hostPids(browser.process().pid).length; i++) await new Promise((r) => setTimeout(r, 100));
    // A request that was under way when the host ended may still get the host's exit as its
    // answer; the next one must name the missing registration.
    let missing = await helloOn(lk);
    for (let i = 0; i < 10 && !missing.ok && missing.code === 'AGENT_UNAVAILABLE'; i++) {
      await new Promise((r) => setTimeout(r, 300));
      missing = await helloOn(lk);
    }
    expect(!missing.ok && missing.code === 'NMHOST_NOT_REGISTERED', `without the manifest: ${JSON.stringify(missing)}`);
    ok(`without the host manifest: ${missing.code} (${missing.ru}; ${missing.detail})`);
    execFileSync(env('GOSTSIGN'), ['browser', 'install', '--browser', 'firefox', '--host', env('GOSTSIGN_NMHOST')]);
    const again = await helloOn(lk);
    expect(again.ok && again.agent === 'gostsign-agent', `after gostsign browser install: ${JSON.stringify(again)}`);
    ok('after `gostsign browser install --browser firefox` the same page reaches the agent again');

    // The idle native port (issue 17): with nothing in flight the extension closes it after its
    // constant (30 s, not shortened here), the host ends, and the next request opens a new one.
    const before = hostPids(browser.process().pid);
    expect(before.length === 1, `gostsign-nmhost processes before the idle close: ${before}`);
    const since = Date.now();
    while (hostPids(browser.process().pid).length && Date.now() - since < IDLE_CLOSE_MS + 5000) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const idle = Date.now() - since;
    expect(hostPids(browser.process().pid).length === 0, `gostsign-nmhost still runs ${idle} ms after the last reply`);
    ok(`idle native port closed in Firefox: gostsign-nmhost ${before[0]} ended ${idle} ms after the last reply`);
    const reopened = await helloOn(lk);
    const after = hostPids(browser.process().pid);
    expect(reopened.ok && after.length === 1 && after[0] !== before[0], `after the idle close: ${JSON.stringify(reopened)}, hosts ${after}`);
    ok(`the next request opens a new port: hello answered through gostsign-nmhost ${after[0]}`);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
