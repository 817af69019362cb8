// The demo's second login (scripts/demo.sh, through native-messaging/cabinet/run-demo-gosuslugi.sh):
// headless Debian Chromium with the gostsign extension opens the ESIA-style login page of
// tests/e2e/sites (IFCPlugin protocol) at https://esia.gosuslugi.ru, waits for the plugin's
// markers, lists the certificates through the adapter, signs the server's challenge and posts it;
// the server verifies the CMS with openssl and the GOST engine and answers who signed in.
// Prints each step (Russian / English), the «вошли как ...» line and the screenshot's path.
// Environment: CHROMIUM, BROWSER_VERSION (what to call it), EXTENSION_DIR, EXTENSION_ID, PROFILE_DIR, PORT, SPKI, SITE_LOG,
// SCREENSHOT, PIN_TIMEOUT_MS (how long to wait for the PIN; longer when a person types it).
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const HOST = 'esia.gosuslugi.ru';
const PAGE = `https://${HOST}:${env('PORT')}/ifcplugin.html`;

// One line of the demo's narration, indented as the first part's.
function say(text) {
  console.log(`   ${text}`);
}

// The server's verdict lines (VERIFIED / REFUSED / LOGIN) for the ESIA host, newest last.
function siteLines(kind) {
  return fs.readFileSync(env('SITE_LOG'), 'utf8').split('\n').filter((l) => l.startsWith(`${kind} ${HOST}`));
}

// Opens the browser, logs in through the IFCPlugin adapter and narrates; throws on any failure.
async function main() {
  const extension = env('EXTENSION_DIR');
  const context = await chromium.launchPersistentContext(env('PROFILE_DIR'), {
    executablePath: env('CHROMIUM'),
    headless: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      `--disable-extensions-except=${extension}`, `--load-extension=${extension}`,
      '--disable-features=DisableLoadExtensionCommandLineSwitch',
      `--host-resolver-rules=MAP ${HOST} 127.0.0.1, MAP lk.gosuslugi.ru 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${env('SPKI')}`,
    ],
    env: process.env,
  });
  try {
    let [worker] = context.serviceWorkers();
    if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
    if (new URL(worker.url()).host !== env('EXTENSION_ID')) throw new Error(`unexpected extension ${worker.url()}`);
    say(`браузер / browser: ${process.env.BROWSER_VERSION || 'Chromium'} (headless), расширение gostsign ${env('EXTENSION_ID')}`);
    // The extension registers its adapters once the agent has told it the allowed origins.
    let scripts = [];
    for (let i = 0; i < 100 && !scripts.length; i++) {
      scripts = await worker.evaluate(() => chrome.scripting.getRegisteredContentScripts());
      if (!scripts.length) await new Promise((r) => setTimeout(r, 100));
    }
    if (!scripts.length) throw new Error('the extension registered no adapters (is the agent running?)');
    say(`адаптеры плагинов / plugin adapters: для ${scripts[0].matches.join(' ')}`);

    const page = await context.newPage();
    page.on('pageerror', (e) => say(`[pageerror] ${e.message}`));
    await page.goto(PAGE);
    say(`страница входа ЕСИА / ESIA-style login page: ${PAGE}`);
    await page.waitForSelector('#status.ready, #status.missing, #status.error', { timeout: 20000 });
    const markers = await page.evaluate(() => ['ifcplugin-extension-is-installed', 'ifc-plugin-is-installed']
      .filter((id) => document.getElementById(id)));
    const status = (await page.textContent('#status')).trim();
    if ((await page.getAttribute('#status', 'class')) !== 'ready') throw new Error(`the page: ${status}`);
    say(`плагин найден / plugin found: маркеры ${markers.join(', ')}; «${status}»`);
    const certs = await page.$$eval('#certs li', (items) => items.map((li) => li.textContent));
    for (const c of certs) say(`сертификат в списке страницы / certificate listed: ${c}`);

    await page.click('#certs li');
    const before = siteLines('VERIFIED').length;
    // The agent's error, if any, as the adapter received it (for the failure message only).
    await page.evaluate(() => window.addEventListener('message', (event) => {
      const m = event.data;
      if (m && m.__gostsign === 'response' && m.ok === false) window.__lastError = m.error;
    }));
    say('нажата «Войти» / clicked «Войти»: страница подписывает запрос входа через IFCPlugin (func_name sign)');
    await page.click('#login');
    await page.waitForSelector('#result.ok, #result.error', { timeout: Number(process.env.PIN_TIMEOUT_MS || 90000) });
    const result = (await page.textContent('#result')).trim();
    await page.screenshot({ path: env('SCREENSHOT') });
    if ((await page.getAttribute('#result', 'class')) !== 'ok') {
      const err = await page.evaluate(() => window.__lastError);
      throw new Error(`the page: ${result}${err ? ` (агент / agent: ${err.code}: ${err.detail || err.message})` : ''}`);
    }
    const verified = siteLines('VERIFIED');
    if (verified.length !== before + 1) throw new Error('the server logged no verified signature');
    say(`сервер проверил подпись / server verified: openssl cms -verify -engine gost (CMS ${verified.at(-1).split(' ').slice(2, 4).join(', ')})`);
    const login = siteLines('LOGIN').at(-1);
    console.log(`\n   ${login.slice(`LOGIN ${HOST} `.length)}`);
    say(`страница / page: «${result.split(':')[0]}»; снимок экрана / screenshot: ${env('SCREENSHOT')}`);
  } finally {
    await context.close();
  }
}

main().catch((e) => {
  console.error(`   вход через адаптер не удался / adapter login failed: ${e.message}`);
  process.exit(1);
});
