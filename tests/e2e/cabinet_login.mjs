// End-to-end: headless Debian Chromium with the gostsign extension loaded logs in to the demo
// cabinet (https://lk.example.ru, on the agent's allow-list) and is refused on another site
// (https://evil.example.com, not on the list) without the PIN dialog ever starting.
// Driven by playwright-core over the DevTools protocol; never downloads a browser.
// Environment: CHROMIUM, EXTENSION_DIR, PROFILE_DIR, LK_URL, EVIL_URL, PINENTRY_RECORD,
// SCREENSHOT_DIR, EXPECT_LOGIN (the line the cabinet must show).
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

let passed = 0;
// Records one passed check in the shell tests' style.
function ok(text) {
  passed += 1;
  console.log(`ok ${passed} - ${text}`);
}

// True when the scripted pinentry has never been started (its record file is absent or empty).
function pinentryUntouched() {
  const record = env('PINENTRY_RECORD');
  return !fs.existsSync(record) || fs.statSync(record).size === 0;
}

// Opens a cabinet page and waits for the page API the content script injects.
async function openCabinet(context, url) {
  const page = await context.newPage();
  page.on('console', (m) => console.log(`   [page ${m.type()}] ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => window.gostsign && typeof window.gostsign.authenticate === 'function',
    null, { timeout: 15000 });
  return page;
}

// Clicks the login button and waits for the page's final state.
async function clickLogin(page) {
  await page.getByRole('button', { name: 'Войти с помощью электронной подписи' }).click();
  await page.waitForSelector('#result.ok, #result.error', { timeout: 60000 });
  return (await page.textContent('#result')).trim();
}

async function main() {
  const extension = env('EXTENSION_DIR');
  const shots = env('SCREENSHOT_DIR');
  fs.mkdirSync(shots, { recursive: true });
  const context = await chromium.launchPersistentContext(env('PROFILE_DIR'), {
    executablePath: env('CHROMIUM'),
    headless: true,
    ignoreHTTPSErrors: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      `--disable-extensions-except=${extension}`, `--load-extension=${extension}`,
      '--disable-features=DisableLoadExtensionCommandLineSwitch',
      '--host-resolver-rules=MAP lk.example.ru 127.0.0.1, MAP evil.example.com 127.0.0.1',
      '--ignore-certificate-errors',
    ],
    env: process.env,
  });
  try {
    let [worker] = context.serviceWorkers();
    if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
    const id = new URL(worker.url()).host;
    if (id !== process.env.EXTENSION_ID) throw new Error(`extension id ${id}, expected ${process.env.EXTENSION_ID}`);
    ok(`extension loaded with its stable id ${id}`);

    // A site outside the allow-list: refused by the agent, no PIN dialog.
    const evil = await openCabinet(context, env('EVIL_URL'));
    const refused = await clickLogin(evil);
    await evil.screenshot({ path: path.join(shots, 'e2e-refused.png') });
    if (!refused.includes('ORIGIN_NOT_ALLOWED')) throw new Error(`evil site: ${refused}`);
    ok(`site outside the allow-list refused: ${refused}`);
    if (!pinentryUntouched()) throw new Error('the pinentry was started for a refused site');
    ok('the PIN dialog was never started for the refused site');

    // The cabinet on the allow-list: the scripted pinentry answers, the page shows who logged in.
    const lk = await openCabinet(context, env('LK_URL'));
    const hello = await lk.evaluate(() => window.gostsign.hello());
    if (hello.agent !== 'gostsign-agent') throw new Error(`hello: ${JSON.stringify(hello)}`);
    ok(`page API hello(): ${hello.agent} ${hello.version}`);
    const certs = await lk.evaluate(async () => (await window.gostsign.certificates()).length);
    if (certs < 1) throw new Error('no certificates listed');
    ok(`page API certificates(): ${certs} certificate(s)`);
    const text = await clickLogin(lk);
    await lk.screenshot({ path: path.join(shots, 'e2e-login.png') });
    if (!text.includes(env('EXPECT_LOGIN'))) throw new Error(`cabinet shows: ${text}`);
    ok(`cabinet login: ${text}`);
    if (pinentryUntouched()) throw new Error('the login did not go through the PIN dialog');
    ok('the PIN was asked by the agent\'s own dialog (pinentry record present)');

    // The typed error of the page API for an unknown certificate.
    const err = await lk.evaluate(() => window.gostsign.sign({ certificate: '00'.repeat(20), data: 'x' })
      .then(() => null, (e) => ({ name: e.name, code: e.code, ru: e.message_ru, isError: e instanceof Error })));
    if (!err || err.name !== 'GostsignError' || !err.isError || err.code !== 'CERT_NOT_FOUND') {
      throw new Error(`typed error: ${JSON.stringify(err)}`);
    }
    ok(`typed error from the page API: ${err.code} (${err.ru})`);

    // The popup shows the agent status (opened as a tab: the active tab is then the popup itself;
    // its texts follow the browser's language, tests/e2e/popup.sh checks them in ru and en).
    const popup = await context.newPage();
    await popup.goto(`chrome-extension://${id}/popup.html`);
    await popup.waitForSelector('#agent.ok, #agent.bad', { timeout: 15000 });
    const agentLine = (await popup.textContent('#agent')).trim();
    if (!(await popup.$('#agent.ok')) || !agentLine.includes(`gostsign-agent ${hello.version}`)) {
      throw new Error(`popup: ${agentLine}`);
    }
    ok(`popup: ${agentLine}`);
  } finally {
    await context.close();
  }
  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
