// End-to-end, the browser part of popup.sh: the extension's popup and its certificate chooser in
// headless Debian Chromium, once in Russian and once in English, then the agent out of reach
// (and the host not registered, when no system-wide host manifest hides that case).
// Environment: CHROMIUM, EXTENSION_DIR, EXTENSION_ID, PROFILE_DIR, BARE_PROFILE_DIR, LK_URL,
// USER_URL, DEMO_CERT, SECOND_CERT, EXPECT_DAYS (JSON: thumbprint -> days), USER_ORIGINS (the
// agent's user list file), WORK (the chooser's CMS go to WORK/chosen-LANG.cms.b64), SYSTEM_HOST,
// PINENTRY_RECORD, SCREENSHOT_DIR.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const LK = new URL(env('LK_URL')).origin;
const USER = new URL(env('USER_URL')).origin;
const EXPECT_DAYS = JSON.parse(env('EXPECT_DAYS'));

// The texts each language must show (the extension's _locales, checked from outside).
const TEXT = {
  ru: { site: 'Сайт: ', forbidden: 'Этому сайту не разрешено', user: 'вы разрешили', admin: 'разрешён администратором',
    allow: 'Разрешить этот сайт', forbid: 'Запретить этот сайт', pinOk: 'PIN в порядке',
    pause: 'до паузы агента неверных PIN: 3', days: (n) => `осталось ${n} дн.`, running: 'Агент работает',
    down: 'Агент подписи не отвечает', downHint: 'systemctl --user start gostsign-agent.socket',
    missing: 'Компонент gostsign для браузера не установлен', missingHint: 'gostsign browser install',
    chooser: 'Выберите сертификат', login: 'просит войти', inn: 'ИНН 500100732259', ogrn: 'ОГРН 1027700132195',
    notQualified: 'не квалифицированный', use: 'Выбрать этот сертификат', none: 'Сайт: нет' },
  en: { site: 'Site: ', forbidden: 'This site is not allowed', user: 'you allowed it', admin: 'allowed by the administrator',
    allow: 'Allow this site', forbid: 'Forbid this site', pinOk: 'PIN fine',
    pause: 'wrong PINs before the agent pauses: 3', days: (n) => `${n} days left`, running: 'The agent is running',
    down: 'The signing agent does not answer', downHint: 'systemctl --user start gostsign-agent.socket',
    missing: 'The gostsign browser connector is not installed', missingHint: 'gostsign browser install',
    chooser: 'Choose a certificate', login: 'asks you to log in', inn: 'INN 500100732259', ogrn: 'OGRN 1027700132195',
    notQualified: 'not qualified', use: 'Use this certificate', none: 'Site: none', signDoc: 'asks you to sign a document' },
};

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

// Starts Chromium with the extension in a language and extra environment. On Linux the UI
// language (and so the extension's _locales) follows LANGUAGE, with chromium-l10n installed;
// --lang and the page locale are set too.
async function launch(lang, profile, extraEnv) {
  const extension = env('EXTENSION_DIR');
  const locale = lang === 'ru' ? 'ru-RU' : 'en-US';
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env('CHROMIUM'),
    headless: true,
    ignoreHTTPSErrors: true,
    locale,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', `--lang=${locale}`,
      `--disable-extensions-except=${extension}`, `--load-extension=${extension}`,
      '--disable-features=DisableLoadExtensionCommandLineSwitch',
      '--host-resolver-rules=MAP lk.example.ru 127.0.0.1, MAP user.example.org 127.0.0.1',
      '--ignore-certificate-errors',
    ],
    env: Object.assign({}, process.env, { LANGUAGE: lang, LANG: `${locale.replace('-', '_')}.UTF-8`,
      LC_ALL: `${locale.replace('-', '_')}.UTF-8` }, extraEnv || {}),
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
  expect(new URL(worker.url()).host === env('EXTENSION_ID'), `extension id ${worker.url()}`);
  return context;
}

// Opens a cabinet page and waits for the page API.
async function openSite(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`   [pageerror] ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.gostsign && typeof window.gostsign.sign === 'function', null,
    { timeout: 15000 });
  return page;
}

// Opens the popup as a tab describing the tab of `site` (popup.html?tab=ID); waits until the
// agent line, the site's standing and (with the agent up) the certificates are shown.
async function openPopup(context, site, agentUp = true) {
  const popup = await context.newPage();
  await popup.goto(`chrome-extension://${env('EXTENSION_ID')}/popup.html`);
  let query = '';
  if (site) {
    const tabId = await popup.evaluate((url) => new Promise((resolve) => chrome.tabs.query({},
      (tabs) => resolve((tabs.find((t) => t.url && t.url.startsWith(url)) || {}).id))), site.url());
    expect(Number.isInteger(tabId), `no tab id for ${site.url()}`);
    query = `?tab=${tabId}`;
    await popup.goto(`chrome-extension://${env('EXTENSION_ID')}/popup.html${query}`);
  }
  await popup.waitForSelector('#agent.ok, #agent.bad', { timeout: 20000 });
  if (agentUp) {
    await popup.waitForSelector('#certs li', { timeout: 20000 });
    if (site) await popup.waitForSelector('#standing[data-standing]', { timeout: 20000 });
  }
  return popup;
}

// A signature request of a page with a known certificate: 'ok' or the error code.
async function pageSigns(page) {
  return page.evaluate((certificate) => window.gostsign.sign({ certificate, data: 'popup test', detached: true })
    .then(() => 'ok', (e) => e.code), env('DEMO_CERT'));
}

// The user's list as the agent keeps it.
function userList() {
  const file = env('USER_ORIGINS');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).allowed_origins : [];
}

// Waits for a popup's standing to become `want` (forbidden, user or admin).
async function standing(popup, want) {
  await popup.waitForSelector(`#standing[data-standing="${want}"]`, { timeout: 20000 });
  return (await popup.textContent('#standing')).trim();
}

// The popup in one language: the site, allow / forbid with their effect, tokens, certificates.
async function popupChecks(context, lang, T) {
  const site = await openSite(context, env('USER_URL'));
  let popup = await openPopup(context, site);
  const siteLine = (await popup.textContent('#site')).trim();
  expect(siteLine === `${T.site}${USER}`, `[${lang}] site line: ${siteLine}`);
  expect(!siteLine.includes('chrome-extension'), `[${lang}] the popup describes itself`);
  let text = await standing(popup, 'forbidden');
  expect(text.includes(T.forbidden), `[${lang}] standing: ${text}`);
  expect(await popup.isVisible('#allow') && !(await popup.isVisible('#forbid')), `[${lang}] buttons`);
  expect((await popup.textContent('#allow')).trim() === T.allow, `[${lang}] allow button text`);
  expect(await pageSigns(site) === 'ORIGIN_NOT_ALLOWED', `[${lang}] a page outside the lists signed`);
  ok(`[${lang}] popup describes the site's tab: "${siteLine}", "${text}"; the page cannot sign`);

  await popup.click('#allow');
  text = await standing(popup, 'user');
  expect(text.includes(T.user), `[${lang}] after allow: ${text}`);
  expect(userList().includes(USER), `[${lang}] the agent's user list: ${JSON.stringify(userList())}`);
  expect(await pageSigns(site) === 'ok', `[${lang}] the allowed page could not sign`);
  ok(`[${lang}] "${T.allow}": the agent's origins.json holds ${USER}, the page signs`);

  await popup.close();
  popup = await openPopup(context, site);
  await standing(popup, 'user');
  expect(await popup.isVisible('#forbid') && !(await popup.isVisible('#allow')), `[${lang}] forbid button`);
  await popup.click('#forbid');
  text = await standing(popup, 'forbidden');
  expect(!userList().includes(USER), `[${lang}] still listed: ${JSON.stringify(userList())}`);
  expect(await pageSigns(site) === 'ORIGIN_NOT_ALLOWED', `[${lang}] the forbidden page still signs`);
  ok(`[${lang}] "${T.forbid}": gone from origins.json, the page gets ORIGIN_NOT_ALLOWED again`);

  const tokens = await popup.$$eval('#tokens li', (lis) => lis.map((li) => li.textContent));
  expect(tokens.length === 1 && tokens[0].includes('gostsign demo') && tokens[0].includes(T.pinOk) &&
    tokens[0].includes(T.pause), `[${lang}] tokens: ${JSON.stringify(tokens)}`);
  ok(`[${lang}] token with its PIN state and the agent's pause: ${tokens[0]}`);
  const certs = await popup.$$eval('#certs li', (lis) => lis.map((li) => ({ id: li.dataset.certificate.toLowerCase(),
    days: Number(li.dataset.daysLeft), text: li.textContent })));
  expect(certs.length === 2, `[${lang}] certificates: ${JSON.stringify(certs)}`);
  for (const c of certs) {
    const want = EXPECT_DAYS[c.id];
    expect(want !== undefined && Math.abs(c.days - want) <= 1 && c.text.includes(T.days(c.days)) &&
      c.text.includes(T.notQualified), `[${lang}] certificate ${JSON.stringify(c)}, openssl says ${want} days`);
  }
  ok(`[${lang}] certificates with days left as openssl counts them: ${certs.map((c) => c.text).join(' | ')}`);
  await popup.screenshot({ path: path.join(env('SCREENSHOT_DIR'), `e2e-popup-${lang}.png`) });
  await popup.close();

  const lk = await openSite(context, env('LK_URL'));
  popup = await openPopup(context, lk);
  text = await standing(popup, 'admin');
  expect(text.includes(T.admin) && !(await popup.isVisible('#allow')) && !(await popup.isVisible('#forbid')),
    `[${lang}] lk standing: ${text}`);
  ok(`[${lang}] a site of the administrator's list: "${text}", no buttons`);
  await popup.close();

  // Opened as a tab without ?tab=, the active tab is the popup itself: it says so, not its URL.
  popup = await openPopup(context, null);
  const own = (await popup.textContent('#site')).trim();
  expect(own.startsWith(T.none) && !own.includes('chrome-extension'), `[${lang}] own tab: ${own}`);
  expect((await popup.textContent('#agent')).includes(T.running), `[${lang}] agent line`);
  ok(`[${lang}] without a site tab: "${own}"; agent: ${(await popup.textContent('#agent')).trim()}`);
  await popup.close();
  await site.close();
  return lk;
}

// Clicks a button of the chooser, which closes its own window at once: the click is done once
// the window is gone.
async function clickClosing(page, selector) {
  const closed = page.waitForEvent('close', { timeout: 20000 });
  await page.click(selector, { noWaitAfter: true }).catch((e) => {
    if (!page.isClosed() && !/closed/i.test(e.message)) throw e;
  });
  await closed;
}

// The chooser: authenticate without a certificate opens the window; cancel, then a pick.
async function chooserChecks(context, lang, T, lk, pick) {
  const challenge = `popup-test-${lang}-${Date.now()}`;
  // waits for the chooser window and its list
  const chooser = async () => {
    const page = await context.waitForEvent('page', { predicate: (p) => p.url().includes('/chooser.html'),
      timeout: 20000 });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    return page;
  };
  const authenticate = () => lk.evaluate((c) => window.gostsign.authenticate({ challenge: c })
    .then((r) => ({ ok: true, r }), (e) => ({ ok: false, code: e.code, all: JSON.stringify(e) })), challenge);

  // a cancel reaches the page as USER_CANCELLED, and the page never sees the list
  let [win, result] = [chooser(), authenticate()];
  let page = await win;
  expect((await page.textContent('h1')).trim() === T.chooser, `[${lang}] chooser heading`);
  await clickClosing(page, '#cancel');
  result = await result;
  expect(!result.ok && result.code === 'USER_CANCELLED', `[${lang}] cancel: ${JSON.stringify(result)}`);
  expect(!result.all.includes(env('SECOND_CERT')) && !result.all.toLowerCase().includes(env('DEMO_CERT')),
    `[${lang}] the cancel told the page the certificates: ${result.all}`);
  ok(`[${lang}] chooser cancelled: the page gets USER_CANCELLED and no certificate list`);

  [win, result] = [chooser(), authenticate()];
  page = await win;
  const items = await page.$$eval('li.cert', (lis) => lis.map((li) => ({ id: li.dataset.certificate.toLowerCase(),
    text: li.textContent })));
  expect(items.length === 2, `[${lang}] chooser items: ${JSON.stringify(items)}`);
  const intro = (await page.textContent('#request')).trim();
  expect(intro.includes(LK) && intro.includes(T.login), `[${lang}] chooser intro: ${intro}`);
  const second = items.find((i) => i.id === env('SECOND_CERT'));
  expect(second && second.text.includes('Иванов Иван Иванович') && second.text.includes(T.inn) &&
    second.text.includes(T.ogrn) && second.text.includes('Тестовый УЦ gostsign') && second.text.includes('gostsign demo') &&
    second.text.includes(T.use), `[${lang}] imported certificate shown as ${JSON.stringify(second)}`);
  await page.screenshot({ path: path.join(env('SCREENSHOT_DIR'), `e2e-chooser-${lang}.png`) });
  const index = items.findIndex((i) => i.id === pick);
  await clickClosing(page, `#use-${index}`);
  result = await result;
  expect(result.ok && result.r.certificate.toLowerCase() === pick, `[${lang}] chosen: ${JSON.stringify(result)}`);
  fs.writeFileSync(path.join(env('WORK'), `chosen-${lang}.cms.b64`), result.r.cms);
  ok(`[${lang}] chooser: ${items.length} certificates listed (owner, INN/OGRN, issuer, validity, token); item ${index + 1} picked, the page got a signature by ${pick}`);
}

// More chooser paths: a document signature (the window says so), and a page that aborts its
// request while the window is open (the window closes, the page gets CANCELLED).
async function chooserSignAndAbort(context, T, lk) {
  const chooser = () => context.waitForEvent('page', { predicate: (p) => p.url().includes('/chooser.html'),
    timeout: 20000 });
  let win = chooser();
  let result = lk.evaluate(() => window.gostsign.sign({ data: 'a document', detached: true })
    .then((r) => ({ ok: true, r }), (e) => ({ ok: false, code: e.code })));
  let page = await win;
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  const intro = (await page.textContent('#request')).trim();
  expect(intro.includes(T.signDoc), `sign chooser intro: ${intro}`);
  await clickClosing(page, `li.cert[data-certificate="${env('SECOND_CERT')}" i] button.use`);
  result = await result;
  expect(result.ok && result.r.certificate.toLowerCase() === env('SECOND_CERT'), `sign: ${JSON.stringify(result)}`);
  ok(`chooser for sign: "${intro}"; signed by the chosen ${env('SECOND_CERT')}`);

  win = chooser();
  result = lk.evaluate(() => {
    const abort = new AbortController();
    window.gostsignTestAbort = abort;
    return window.gostsign.authenticate({ challenge: 'abort-test-challenge', signal: abort.signal })
      .then(() => ({ ok: true }), (e) => ({ ok: false, code: e.code }));
  });
  page = await win;
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  const closed = page.waitForEvent('close', { timeout: 20000 });
  await lk.evaluate(() => window.gostsignTestAbort.abort());
  await closed;
  result = await result;
  expect(!result.ok && result.code === 'CANCELLED', `abort: ${JSON.stringify(result)}`);
  ok('a page that aborts while the chooser is open gets CANCELLED, and the window closes');
}

// The whole login of the cabinet with the chooser: the user picks the imported certificate.
async function cabinetLogin(context, lk) {
  const win = context.waitForEvent('page', { predicate: (p) => p.url().includes('/chooser.html'), timeout: 20000 });
  await lk.getByRole('button', { name: 'Войти с помощью электронной подписи' }).click();
  const page = await win;
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await clickClosing(page, `li.cert[data-certificate="${env('SECOND_CERT')}" i] button.use`);
  await lk.waitForSelector('#result.ok, #result.error', { timeout: 60000 });
  const text = (await lk.textContent('#result')).trim();
  expect(text.includes('Иванов Иван Иванович') || text.includes('вошли как'), `cabinet: ${text}`);
  ok(`cabinet login through the chooser: ${text}`);
}

async function main() {
  fs.mkdirSync(env('SCREENSHOT_DIR'), { recursive: true });
  for (const lang of ['ru', 'en']) {
    const context = await launch(lang, env('PROFILE_DIR'));
    try {
      const lk = await popupChecks(context, lang, TEXT[lang]);
      await chooserChecks(context, lang, TEXT[lang], lk, lang === 'ru' ? env('SECOND_CERT') : env('DEMO_CERT'));
      if (lang === 'ru') await cabinetLogin(context, lk);
      else await chooserSignAndAbort(context, TEXT[lang], lk);
    } finally {
      await context.close();
    }
  }

  // The agent out of reach (no socket, and starting it fails): the popup says so, with a hint.
  for (const lang of ['ru', 'en']) {
    const T = TEXT[lang];
    const context = await launch(lang, env('PROFILE_DIR'), {
      GOSTSIGN_AGENT_SOCKET: path.join(env('WORK'), 'run', 'nobody.sock'), GOSTSIGN_AGENT_BIN: '/bin/false' });
    try {
      const popup = await openPopup(context, null, false);
      const agent = (await popup.textContent('#agent')).trim();
      const hint = (await popup.textContent('#agent-hint')).trim();
      expect(agent === T.down && hint.includes(T.downHint), `[${lang}] agent down: ${agent} / ${hint}`);
      ok(`[${lang}] agent not reachable: "${agent}" - "${hint}"`);
    } finally {
      await context.close();
    }
  }

  // No host manifest for this profile: "not installed". A system-wide manifest would serve it.
  if (process.env.SYSTEM_HOST === 'yes') {
    ok('host not installed: not checked, /etc/chromium/native-messaging-hosts holds the host');
  } else {
    const context = await launch('en', env('BARE_PROFILE_DIR'));
    try {
      const popup = await openPopup(context, null, false);
      const agent = (await popup.textContent('#agent')).trim();
      const hint = (await popup.textContent('#agent-hint')).trim();
      expect(agent === TEXT.en.missing && hint.includes(TEXT.en.missingHint), `host missing: ${agent} / ${hint}`);
      ok(`[en] host not registered: "${agent}" - "${hint}"`);
    } finally {
      await context.close();
    }
  }
  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
