// End-to-end: the extension closes its native port once nothing has been in flight on it for its
// idle constant, so the browser's gostsign-nmhost exits and the agent keeps no connection (issue
// 17). The constant is shortened through the service worker's own context (DevTools evaluate of
// the worker's `nativeIdleMs` binding, which no page can reach). Driven by playwright-core.
// Environment: CHROMIUM, EXTENSION_DIR, EXTENSION_ID, PROFILE_DIR, LK_URL, DEMO_CERT (the demo
// certificate's SHA-1, picked in the chooser), AGENT_SOCKET, NMHOST, EXPECT_LOGIN.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const IDLE_MS = 1500; // the shortened idle constant
const MARGIN_MS = 5000; // time for the browser to end the host and the agent to notice
const PIN_DELAY_MS = 4000; // the scripted PIN dialog's answer time (native_idle.sh)

let passed = 0;
// Records one passed check in the shell tests' style.
function ok(text) {
  passed += 1;
  console.log(`ok ${passed} - ${text}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The pids of the live gostsign-nmhost processes of this test (its agent socket in their
// environment); a zombie the browser has not reaped yet counts as gone.
function ourHosts() {
  const exe = fs.realpathSync(env('NMHOST'));
  const mark = `GOSTSIGN_AGENT_SOCKET=${env('AGENT_SOCKET')}`;
  const pids = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== exe) continue;
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(mark)) continue;
      const state = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '')[0];
      if (state !== 'Z') pids.push(Number(pid));
    } catch (e) {
      /* gone meanwhile, or not ours */
    }
  }
  return pids;
}

// The program the agent's process runs now: gostsign-agent, or gostsign-agent-listener once it
// has shrunk (read from /proc, without a request that would wake it).
async function agentImage() {
  return path.basename(await fs.promises.readlink(`/proc/${process.env.AGENT_PID}/exe`));
}

// Waits (no requests) until the agent has shrunk; milliseconds it took.
async function waitForShrink(want, limitMs) {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if ((await agentImage() === 'gostsign-agent-listener') === want) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the agent did not shrink within ${limitMs} ms (it runs ${await agentImage()})`);
}

// The agent's count of open connections from its local-only `status`, asked on a connection of
// our own (which it counts too).
function agentConnections() {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(env('AGENT_SOCKET'));
    let buf = Buffer.alloc(0);
    sock.setTimeout(10000, () => sock.destroy(new Error('agent status timed out')));
    sock.on('error', reject);
    sock.on('connect', () => {
      const body = Buffer.from(JSON.stringify({ id: 1, cmd: 'status', origin: 'local:e2e-native-idle' }));
      const head = Buffer.alloc(4);
      head.writeUInt32LE(body.length); // native-endian on the little-endian machines we test on
      sock.write(Buffer.concat([head, body]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readUInt32LE(0)) return;
      const reply = JSON.parse(buf.subarray(4, 4 + buf.readUInt32LE(0)).toString('utf8'));
      sock.end();
      if (!reply.ok) reject(new Error(`status: ${JSON.stringify(reply)}`));
      else resolve(reply.result.connections);
    });
  });
}

// Waits until no host of ours runs and the agent counts only the asker; the time it took (ms).
async function waitForIdle(since, what) {
  for (;;) {
    const hosts = ourHosts();
    const connections = await agentConnections();
    const took = Date.now() - since;
    if (hosts.length === 0 && connections === 1) return took;
    if (took > IDLE_MS + MARGIN_MS) {
      throw new Error(`${what}: after ${took} ms hosts ${JSON.stringify(hosts)} still run, the agent counts ${connections} connection(s)`);
    }
    await sleep(100);
  }
}

// Opens the cabinet page and waits for the page API the content script injects.
async function openCabinet(context) {
  const page = await context.newPage();
  page.on('console', (m) => console.log(`   [page ${m.type()}] ${m.text()}`));
  await page.goto(env('LK_URL'));
  await page.waitForFunction(() => window.gostsign && typeof window.gostsign.hello === 'function',
    null, { timeout: 15000 });
  // every error reply the extension sends to this page, to show that our own closes send none
  await page.evaluate(() => {
    window.__gostsignErrors = [];
    window.addEventListener('message', (event) => {
      const m = event.data;
      if (m && m.__gostsign === 'response' && m.ok === false) window.__gostsignErrors.push(m.error);
    });
  });
  return page;
}

// A page hello through the extension; its host pids right after the answer.
async function pageHello(page, what) {
  const hello = await page.evaluate(() => window.gostsign.hello());
  if (hello.agent !== 'gostsign-agent') throw new Error(`${what}: hello ${JSON.stringify(hello)}`);
  const hosts = ourHosts();
  const connections = await agentConnections();
  if (hosts.length !== 1 || connections !== 2) {
    throw new Error(`${what}: hosts ${JSON.stringify(hosts)}, agent connections ${connections} (want 1 host, 2)`);
  }
  return hosts[0];
}

// Clicks a chooser button, which closes its window at once: done once the window is gone.
async function clickClosing(page, selector) {
  const closed = page.waitForEvent('close', { timeout: 20000 });
  await page.click(selector, { noWaitAfter: true }).catch((e) => {
    if (!page.isClosed() && !/closed/i.test(e.message)) throw e;
  });
  await closed;
}

// The login with a certificate chooser left open and then a PIN dialog, each longer than the
// idle constant: the same host must serve it from the click to the result.
async function slowLogin(context, page) {
  const win = context.waitForEvent('page', { predicate: (p) => p.url().includes('/chooser.html'), timeout: 20000 });
  await page.getByRole('button', { name: 'Войти с помощью электронной подписи' }).click();
  const chooser = await win.catch(async (e) => {
    throw new Error(`no chooser (${e.message}); the page shows: ${await page.textContent('#result')}`);
  });
  await chooser.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  const host = ourHosts();
  if (host.length !== 1) throw new Error(`chooser open: hosts ${JSON.stringify(host)}`);
  await sleep(IDLE_MS + 1500);
  const during = ourHosts();
  if (during.length !== 1 || during[0] !== host[0]) {
    throw new Error(`the port closed while the chooser was open: hosts ${JSON.stringify(host)} -> ${JSON.stringify(during)}`);
  }
  const before = Date.now();
  await clickClosing(chooser, `li.cert[data-certificate="${env('DEMO_CERT')}" i] button.use`);
  await page.waitForSelector('#result.ok, #result.error', { timeout: 60000 });
  const text = (await page.textContent('#result')).trim();
  const took = Date.now() - before;
  if (!text.includes(env('EXPECT_LOGIN'))) throw new Error(`cabinet shows: ${text}`);
  if (took < PIN_DELAY_MS) throw new Error(`the login took ${took} ms: the PIN dialog did not wait`);
  const after = ourHosts();
  if (after.length !== 1 || after[0] !== host[0]) {
    throw new Error(`the login changed hosts: ${JSON.stringify(host)} -> ${JSON.stringify(after)}`);
  }
  return { text, took, host: host[0] };
}

async function main() {
  const extension = env('EXTENSION_DIR');
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
      '--host-resolver-rules=MAP lk.example.ru 127.0.0.1',
      '--ignore-certificate-errors',
    ],
    env: process.env,
  });
  try {
    let [worker] = context.serviceWorkers();
    if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
    const id = new URL(worker.url()).host;
    if (id !== env('EXTENSION_ID')) throw new Error(`extension id ${id}, expected ${env('EXTENSION_ID')}`);
    const standard = await worker.evaluate((ms) => {
      const was = NATIVE_IDLE_MS; // eslint-disable-line no-undef
      nativeIdleMs = ms; // eslint-disable-line no-undef
      return was;
    }, IDLE_MS);
    ok(`extension ${id} loaded; idle constant ${standard} ms, shortened to ${IDLE_MS} ms in the worker`);

    const page = await openCabinet(context);
    const first = await pageHello(page, 'first hello');
    let since = Date.now();
    ok(`page hello: gostsign-nmhost ${first} runs, the agent counts 2 connections`);
    let took = await waitForIdle(since, 'after the first hello');
    ok(`idle port closed: no gostsign-nmhost, the agent counts only the asker, ${took} ms after the reply`);

    const login = await slowLogin(context, page);
    if (login.host === first) throw new Error(`the login ran on the closed port's host ${first}`);
    ok(`a request after the close works on a new port (host ${login.host}); it stays open through a chooser of ${IDLE_MS + 1500} ms and a ${login.took} ms PIN dialog (idle ${IDLE_MS} ms): ${login.text}`);
    since = Date.now();
    took = await waitForIdle(since, 'after the login');
    ok(`idle again after the login: no gostsign-nmhost, one agent connection, ${took} ms after the reply`);

    const shrunk = await waitForShrink(true, 15000);
    ok(`with no port open the agent (pid ${process.env.AGENT_PID}) shrank into gostsign-agent-listener ${shrunk} ms later`);
    const third = await pageHello(page, 'third hello');
    if ((await agentImage()) !== 'gostsign-agent') throw new Error('the third hello was served, yet the agent did not come back');
    ok('the page\'s next request brought the whole agent back in the same process and was served');
    if (third === first) throw new Error(`the host ${first} was not replaced`);
    ok(`a third request opens another host (${third}, first was ${first})`);
    took = await waitForIdle(Date.now(), 'after the third hello');
    ok(`and closes it again after ${took} ms`);
    // a control: one error the page must see (an unknown certificate), and no other
    await page.evaluate(() => window.gostsign.sign({ certificate: '00'.repeat(20), data: 'eA==' }).catch(() => null));
    const errors = (await page.evaluate(() => window.__gostsignErrors)).map((e) => e && e.code);
    if (errors.length !== 1 || errors[0] !== 'CERT_NOT_FOUND') throw new Error(`the page got errors: ${JSON.stringify(errors)}`);
    ok('three closes of the idle port sent the page no error (the only error it saw: the control CERT_NOT_FOUND)');
  } finally {
    await context.close();
  }
  console.log(`${passed} passed, 0 failed`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
