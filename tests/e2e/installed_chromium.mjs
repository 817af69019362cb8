// The browser part of tests/integration/package_install.sh: a Chromium that the test started
// through Debian's /usr/bin/chromium wrapper (no --load-extension of its own) after the package
// was installed. Connected over the DevTools protocol (playwright-core), it checks that the
// extension the wrapper loaded from /usr/share/chromium/extensions reaches the installed host and
// agent: the popup shows the agent running, and the cabinet logs in through the page API.
// Environment: CDP_URL (http://127.0.0.1:PORT), EXTENSION_ID, CABINET_URL, EXPECT_LOGIN.
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

// The popup opened as a page: the agent line must say the installed agent is running.
async function checkPopup(context, id) {
  const popup = await context.newPage();
  await popup.goto(`chrome-extension://${id}/popup.html`);
  await popup.waitForSelector('#agent.ok, #agent.bad', { timeout: 20000 });
  const line = (await popup.textContent('#agent')).trim();
  if (!(await popup.$('#agent.ok')) || !line.includes('gostsign-agent')) throw new Error(`popup: ${line}`);
  ok(`popup of the installed extension: ${line}`);
  await popup.close();
}

// The cabinet page: the content script's page API answers, and the login goes through.
async function checkLogin(context) {
  const page = await context.newPage();
  await page.goto(env('CABINET_URL'));
  await page.waitForFunction(() => window.gostsign && typeof window.gostsign.authenticate === 'function',
    null, { timeout: 20000 });
  const hello = await page.evaluate(() => window.gostsign.hello());
  if (hello.agent !== 'gostsign-agent') throw new Error(`hello: ${JSON.stringify(hello)}`);
  ok(`page API hello() on the cabinet: ${hello.agent} ${hello.version}`);
  await page.getByRole('button', { name: 'Войти с помощью электронной подписи' }).click();
  await page.waitForSelector('#result.ok, #result.error', { timeout: 60000 });
  const text = (await page.textContent('#result')).trim();
  if (!text.includes(env('EXPECT_LOGIN'))) throw new Error(`cabinet shows: ${text}`);
  ok(`cabinet login in the browser: ${text}`);
  await page.close();
}

async function main() {
  const browser = await chromium.connectOverCDP(env('CDP_URL'), { timeout: 20000 });
  try {
    const [context] = browser.contexts();
    if (!context) throw new Error('the browser has no default context');
    await checkPopup(context, env('EXTENSION_ID'));
    await checkLogin(context);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
