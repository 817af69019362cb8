// gostsign extension, background (service worker in the Chromium family, background script in
// Firefox). It owns the one native-messaging port to gostsign-nmhost and relays page requests
// from content scripts. The origin of every request is taken from the sender tab (port.sender),
// never from what the page says; insecure origins are refused here before anything leaves the
// browser. The PIN never passes through the extension: the agent asks for it in its own dialog.
'use strict';

const HOST_NAME = 'ru.gostsign.nmhost';
// The origin of the extension's own requests (popup, chooser), never a page's: gostsign-nmhost
// passes exactly this on, and the agent then serves status and the user's site list, never a
// signature (docs/protocol.md).
const EXTENSION_ORIGIN = 'extension:';
// Commands a page may send, with the documented fields of each (docs/protocol.md); only these
// fields leave the browser (cancel goes through its own message type).
const PAGE_FIELDS = {
  hello: [],
  tokens: [],
  certificates: [],
  sign: ['certificate', 'detached', 'data', 'digest', 'chunk', 'more', 'document',
    'signing_time', 'include_chain', 'api', 'cosign'],
  sign_raw: ['digest', 'certificate', 'byte_order', 'api', 'document'],
  verify: ['cms', 'data', 'digest'],
  authenticate: ['challenge', 'certificate'],
};
const PAGE_COMMANDS = new Set(Object.keys(PAGE_FIELDS));

// A copy of a page's args holding only the command's documented fields (values unchanged: the
// host and the agent refuse a null or a wrong type with BAD_REQUEST naming the field).
function documentedArgs(cmd, args) {
  const out = {};
  for (const key of PAGE_FIELDS[cmd]) {
    if (Object.prototype.hasOwnProperty.call(args || {}, key)) out[key] = args[key];
  }
  return out;
}

// Texts of the few error codes the extension itself produces (same as gost/errors.def).
const ERRORS = {
  ORIGIN_NOT_ALLOWED: [64, 'This site is not allowed to request signatures',
    'Этому сайту не разрешено запрашивать подпись',
    'Ask your administrator to add the site to the gostsign allow-list.',
    'Попросите администратора добавить сайт в список разрешённых gostsign.'],
  // A page sees these texts: no shell commands or local paths (the popup and the doctor name them).
  NMHOST_NOT_REGISTERED: [72, 'Browser connector is not registered',
    'Компонент для браузера не зарегистрирован',
    'Install gostsign on this computer (or ask the administrator to) and restart the browser; the gostsign extension\'s window and the check "doctor" name the exact step.',
    'Установите gostsign на этот компьютер (или попросите администратора) и перезапустите браузер; окно расширения gostsign и проверка «doctor» подскажут точный шаг.'],
  AGENT_UNAVAILABLE: [60, 'Signing agent is not running', 'Агент подписи не запущен',
    'The gostsign signing agent on this computer must be started; the gostsign extension\'s window and the check "doctor" say how, or ask the administrator.',
    'Агент подписи gostsign на этом компьютере нужно запустить; окно расширения gostsign и проверка «doctor» подскажут как, или обратитесь к администратору.'],
  BAD_REQUEST: [69, 'Invalid request', 'Неверный запрос', 'Check the request against docs/protocol.md.',
    'Сверьте запрос с docs/protocol.md.'],
  UNKNOWN_COMMAND: [68, 'Unknown command', 'Неизвестная команда',
    'Call "hello" to see the supported commands and protocol version.',
    'Вызовите «hello», чтобы узнать поддерживаемые команды и версию протокола.'],
  USER_CANCELLED: [61, 'Cancelled by the user', 'Отменено пользователем',
    'Repeat the operation and confirm it in the dialog.', 'Повторите операцию и подтвердите её в окне.'],
  TIMEOUT: [63, 'Operation timed out', 'Превышено время ожидания',
    'Repeat the operation; if it happens again, run the check "doctor" from the gostsign extension\'s window.',
    'Повторите операцию; если это повторится, запустите проверку «doctor» из окна расширения gostsign.'],
  CANCELLED: [71, 'Request was cancelled', 'Запрос отменён',
    'Nothing to do; repeat the request if it is still needed.',
    'Ничего делать не нужно; повторите запрос, если он ещё нужен.'],
};

// An error object shaped like the agent's, for codes the extension reports itself.
function errorObject(code, detail) {
  const [number, message, messageRu, fix, fixRu] = ERRORS[code];
  return { code, number, message, message_ru: messageRu, fix, fix_ru: fixRu, detail };
}

let native = null; // the port to gostsign-nmhost, opened on first use
// How long the native port stays open with nothing in flight. While it is open the browser keeps
// this worker and gostsign-nmhost alive and the agent holds a connection, so the agent can never
// go idle (issue 17); the next request opens a new port. The e2e test shortens it through the
// worker's own context (DevTools evaluate); no page or content script can reach this binding.
const NATIVE_IDLE_MS = 30000;
let nativeIdleMs = NATIVE_IDLE_MS;
let nativeIdleTimer = null;
// A chunked sign whose page stops sending is dropped by the agent after its request timeout
// (120 s by default) without a reply; after this long with no next chunk the extension drops it
// too and tells the page, so that it cannot hold the native port open for ever.
const NATIVE_CHUNK_ABANDON_MS = 10 * 60 * 1000;
let nextNativeId = 1;
const inflight = new Map(); // native id -> { port, pageId, origin, chunked, retry }
// Page commands that sign with one certificate: without args.certificate and with several usable
// certificates the agent answers CERT_CHOICE_REQUIRED, and the extension's chooser asks the user.
const CHOOSER_COMMANDS = new Set(['sign', 'sign_raw', 'authenticate']);

// The web origin of the tab that sent a message; null for anything that is not a tab's page.
function senderOrigin(sender) {
  if (!sender || !sender.tab) return null;
  let origin = sender.origin;
  if (!origin || origin === 'null') {
    try {
      origin = new URL(sender.url).origin;
    } catch (e) {
      return null;
    }
  }
  return origin;
}

// https everywhere; plain http only for the loopback development hosts (the agent decides).
function originIsSecure(origin) {
  try {
    const u = new URL(origin);
    if (u.protocol === 'https:') return true;
    return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  } catch (e) {
    return false;
  }
}

// Sends a final error to a page request.
function replyError(port, pageId, error) {
  try {
    port.postMessage({ id: pageId, ok: false, error });
  } catch (e) {
    /* the tab went away */
  }
}

// The host went away (or could not be started): every pending request fails. Chromium says why
// in runtime.lastError, Firefox in the port's error ("No such native application ..." when no
// manifest names the host or this extension). A port we closed ourselves (closeIdleNative) is
// no longer `native` and reports nothing.
function onNativeDisconnect(gone) {
  if (gone !== native) return;
  stopNativeIdleTimer();
  const err = (gone && gone.error) || chrome.runtime.lastError;
  const why = err && err.message ? err.message : '';
  const code = /not found|forbidden|specified native messaging host|no such native application/i.test(why)
    ? 'NMHOST_NOT_REGISTERED' : 'AGENT_UNAVAILABLE';
  for (const { port, pageId } of inflight.values()) {
    replyError(port, pageId, errorObject(code, why || 'gostsign-nmhost exited'));
  }
  inflight.clear();
  native = null;
}

// Relays a reply or progress event from the host to the page that asked; a page request that
// needs the user's choice of certificate goes to the chooser window instead.
function onNativeMessage(msg) {
  const entry = inflight.get(msg.id);
  if (!entry) return;
  const out = Object.assign({}, msg, { id: entry.pageId });
  if (!('event' in msg)) {
    inflight.delete(msg.id);
    if (entry.abandonTimer) clearTimeout(entry.abandonTimer);
  }
  if (!('event' in msg) && !msg.ok && msg.error && msg.error.code === 'CERT_CHOICE_REQUIRED' && entry.retry) {
    chooseAndRetry(entry, msg.error);
    return;
  }
  try {
    entry.port.postMessage(out);
  } catch (e) {
    /* the tab went away */
  }
  noteNativeIdle();
}

// True while the native port serves something: a request or a chunked upload in flight (its
// entry stays until the final reply), or an open certificate chooser whose retry will use it.
function nativeBusy() {
  return inflight.size > 0 || choices.size > 0;
}

// Cancels a pending idle close (a new request is about to use the port).
function stopNativeIdleTimer() {
  if (nativeIdleTimer !== null) clearTimeout(nativeIdleTimer);
  nativeIdleTimer = null;
}

// Closes the native port if it is still idle; gostsign-nmhost then sees the end of its input and
// exits, and the agent loses its last browser connection.
function closeIdleNative() {
  nativeIdleTimer = null;
  if (!native || nativeBusy()) return;
  const port = native;
  native = null;
  try {
    port.disconnect();
  } catch (e) {
    /* already gone */
  }
}

// Arms the idle close once the port has nothing left to do (called after each change that can
// end the last piece of work; the timer checks again when it fires).
function noteNativeIdle() {
  if (!native || nativeBusy()) return;
  stopNativeIdleTimer();
  nativeIdleTimer = setTimeout(closeIdleNative, nativeIdleMs);
}

// The native port, connecting on first use.
function nativePort() {
  stopNativeIdleTimer();
  if (!native) {
    native = chrome.runtime.connectNative(HOST_NAME);
    native.onMessage.addListener(onNativeMessage);
    native.onDisconnect.addListener(onNativeDisconnect);
  }
  return native;
}

// The native id of a chunked sign of this port and page id still in flight (its next frames
// must carry the same id to the agent), or null.
function chunkedId(port, pageId) {
  for (const [id, entry] of inflight) {
    if (entry.port === port && entry.pageId === pageId && entry.chunked) return id;
  }
  return null;
}

// Sends one request to the host on behalf of a page (or the popup) with a fixed origin. A page's
// signing request without a certificate is kept, to be sent again with the user's choice.
function sendNative(port, pageId, origin, cmd, args) {
  const chunked = cmd === 'sign' && args && typeof args.chunk === 'string';
  const continued = chunked && chunkedId(port, pageId);
  const id = continued || nextNativeId++;
  const retry = !continued && origin !== EXTENSION_ORIGIN && CHOOSER_COMMANDS.has(cmd) && args &&
    !('certificate' in args) ? { cmd, args } : null;
  const previous = continued && inflight.get(id);
  if (previous && previous.abandonTimer) clearTimeout(previous.abandonTimer);
  const entry = { port, pageId, origin, chunked, retry };
  inflight.set(id, entry);
  if (chunked && args.more === true) armChunkAbandon(id, entry);
  try {
    nativePort().postMessage({ id, cmd, origin, args: args || {} });
  } catch (e) {
    inflight.delete(id);
    replyError(port, pageId, errorObject('NMHOST_NOT_REGISTERED', String(e)));
    noteNativeIdle();
  }
  return id;
}

// Drops a chunked upload whose next chunk has not come for NATIVE_CHUNK_ABANDON_MS (see there).
function armChunkAbandon(id, entry) {
  entry.abandonTimer = setTimeout(() => {
    if (inflight.get(id) !== entry) return;
    inflight.delete(id);
    replyError(entry.port, entry.pageId, errorObject('TIMEOUT', 'chunked upload abandoned: no next chunk'));
    noteNativeIdle();
  }, NATIVE_CHUNK_ABANDON_MS);
}

// Cancels the native request behind a page request of this port (or its open chooser).
function cancelNative(port, pageId) {
  for (const choice of choices.values()) {
    if (choice.port === port && choice.pageId === pageId) finishChoice(choice, null, 'CANCELLED');
  }
  for (const [id, entry] of inflight) {
    if (entry.port === port && entry.pageId === pageId && native) {
      native.postMessage({ id: nextNativeId++, cmd: 'cancel', origin: entry.origin,
        args: { request: id } });
    }
  }
}

// One content script's port: requests from its page, with the origin of its tab.
function onPagePort(port) {
  const origin = senderOrigin(port.sender);
  port.onMessage.addListener((msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'cancel') {
      cancelNative(port, msg.id);
      return;
    }
    if (msg.type !== 'request') return;
    if (!origin || !originIsSecure(origin)) {
      replyError(port, msg.id, errorObject('ORIGIN_NOT_ALLOWED',
        'only https pages (or localhost for development) may use gostsign'));
    } else if (typeof msg.cmd !== 'string' || !PAGE_COMMANDS.has(msg.cmd)) {
      replyError(port, msg.id, errorObject('UNKNOWN_COMMAND', String(msg.cmd).slice(0, 64)));
    } else if (msg.args !== undefined && (typeof msg.args !== 'object' || msg.args === null)) {
      replyError(port, msg.id, errorObject('BAD_REQUEST', 'args must be an object'));
    } else {
      sendNative(port, msg.id, origin, msg.cmd, documentedArgs(msg.cmd, msg.args));
    }
  });
  port.onDisconnect.addListener(() => {
    for (const choice of choices.values()) {
      if (choice.port === port) finishChoice(choice, null, 'CANCELLED');
    }
    for (const [id, entry] of inflight) {
      if (entry.port === port) {
        cancelNative(port, entry.pageId);
        inflight.delete(id);
      }
    }
    noteNativeIdle();
  });
}

// The page-world adapters (CryptoPro, Gosplugin, IFCPlugin page APIs), registered for the
// origins the agent allows, before a site's first script (docs/compat.md).
const ADAPTERS = {
  id: 'gostsign-adapters',
  js: ['adapters/common.js', 'adapters/cryptopro.js', 'adapters/gosplugin.js', 'adapters/ifcplugin.js',
    'adapters/end.js'],
  runAt: 'document_start',
  world: 'MAIN',
  allFrames: false,
  persistAcrossSessions: true,
};
const IS_FIREFOX = typeof browser !== 'undefined' && chrome.runtime.getURL('').startsWith('moz-extension:');

// One request of the extension itself to the agent; resolves with its result.
function askNative(cmd, args) {
  return new Promise((resolve, reject) => {
    const port = {
      postMessage(msg) {
        if ('event' in msg) return;
        if (msg.ok) resolve(msg.result);
        else reject(Object.assign(new Error((msg.error && msg.error.message) || 'error'), { error: msg.error }));
      },
    };
    sendNative(port, 'extension', EXTENSION_ORIGIN, cmd, args || {});
  });
}

// The content-script match pattern of an allow-list entry ("https://*.gosuslugi.ru",
// "https://host:port"), or null for one a match pattern cannot express.
function matchPattern(entry) {
  const m = /^(https|http):\/\/(\*|(?:\*\.)?[a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d+|\*))?\/?$/i.exec(String(entry));
  if (!m) return null;
  // Firefox match patterns carry no port: the agent still checks the exact origin.
  const port = m[3] && m[3] !== '*' && !IS_FIREFOX ? `:${m[3]}` : '';
  return `${m[1].toLowerCase()}://${m[2].toLowerCase()}${port}/*`;
}

// True when an origin falls under an allow-list entry (exact, or a "*." pattern).
function originMatches(entry, origin) {
  try {
    const o = new URL(origin);
    const m = /^(https?):\/\/((?:\*\.)?[^:/]+)(?::(\d+|\*))?\/?$/i.exec(String(entry));
    if (!m || `${m[1]}:` !== o.protocol) return false;
    const port = o.port || (o.protocol === 'https:' ? '443' : '80');
    if (m[3] && m[3] !== '*' && m[3] !== port) return false;
    if (!m[3] && o.port) return false;
    const host = m[2].toLowerCase();
    if (host.startsWith('*.')) return o.hostname === host.slice(2) || o.hostname.endsWith(host.slice(1));
    return o.hostname === host;
  } catch (e) {
    return false;
  }
}

let lastOrigins = null; // the agent's last origins answer
let refreshing = Promise.resolve();

// Registers (or updates, or removes) the adapters for the origins the agent allows now. A failed
// question keeps the registration as it is: it persists across browser restarts.
function refreshAdapters(change) {
  refreshing = refreshing.catch(() => {}).then(async () => {
    const result = await askNative('origins', change || {});
    lastOrigins = result;
    const matches = [...new Set((result.allowed || []).map(matchPattern).filter(Boolean))];
    const existing = await chrome.scripting.getRegisteredContentScripts({ ids: [ADAPTERS.id] });
    if (!matches.length) {
      if (existing.length) await chrome.scripting.unregisterContentScripts({ ids: [ADAPTERS.id] });
    } else if (existing.length) {
      await chrome.scripting.updateContentScripts([Object.assign({}, ADAPTERS, { matches })]);
    } else {
      await chrome.scripting.registerContentScripts([Object.assign({}, ADAPTERS, { matches })]);
    }
    return result;
  });
  return refreshing;
}

// Asks the agent to add an origin to the user's list or to take it off (the popup's buttons: the
// user's own click, never a page), then registers the adapters for the new list.
function changeOrigin(how, origin) {
  return refreshAdapters({ [how]: origin });
}

// Whether an origin may ask for signatures by the agent's lists, and by whose decision: 'admin'
// (the configured allow-list), 'user' (the user's own list), or null.
function originStanding(result, origin) {
  const user = result.user || [];
  const inUser = !result.locked && user.some((e) => originMatches(e, origin));
  const admin = (result.allowed || []).filter((e) => !user.includes(e));
  if (admin.some((e) => originMatches(e, origin))) return 'admin';
  return inUser ? 'user' : null;
}

// The popup's answer to an allow or forbid click, with the site's standing afterwards.
function onPopupChange(port, msg) {
  const how = msg.type === 'allow' ? 'add' : 'remove';
  const reply = msg.type === 'allow' ? 'allowed' : 'forbidden';
  changeOrigin(how, msg.origin).then(
    (r) => {
      const by = originStanding(r, msg.origin);
      port.postMessage({ type: reply, origin: msg.origin, ok: true, allowed: Boolean(by), by,
        locked: Boolean(r.locked) });
    },
    (e) => port.postMessage({ type: reply, origin: msg.origin, ok: false,
      error: e.error || errorObject('AGENT_UNAVAILABLE', e.message) }));
}

// The tab the popup describes: the one it names (the popup opened as a tab, in tests), else the
// active tab of the current window (the toolbar popup).
function describedTab(tabId) {
  return new Promise((resolve) => {
    if (Number.isInteger(tabId)) {
      chrome.tabs.get(tabId, (tab) => resolve(chrome.runtime.lastError ? null : tab));
    } else {
      chrome.tabs.query({ active: true, currentWindow: true }, (tabs) => resolve((tabs && tabs[0]) || null));
    }
  });
}

// The web origin of a tab, or null for a tab without an http(s) page.
function tabOrigin(tab) {
  try {
    const u = new URL(tab.url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch (e) {
    return null;
  }
}

// A certificate as the popup and the chooser show it: no DER, only what a person reads.
function certificateSummary(c, tokens) {
  const s = c.subject || {};
  const token = (tokens || []).find((t) => t.id === c.token);
  return {
    id: c.id,
    owner: s.cn || [s.sn, s.g].filter(Boolean).join(' '),
    title: s.t || null,
    organisation: s.o || null,
    identifiers: { inn: s.inn, innle: s.innle, ogrn: s.ogrn, ogrnip: s.ogrnip, snils: s.snils },
    issuer: (c.issuer && (c.issuer.cn || c.issuer.o)) || null,
    not_before: c.validity && c.validity.not_before,
    not_after: c.validity && c.validity.not_after,
    status: c.status || {},
    token: token ? `${token.label} (${token.model}, № ${token.serial})` : c.token,
  };
}

// Posts to a port that may have gone (the popup closed).
function postQuietly(port, msg) {
  try {
    port.postMessage(msg);
  } catch (e) {
    /* the popup went away */
  }
}

// The popup's status: the described tab's site and standing, the agent, tokens, certificates.
async function popupStatus(port, tabId) {
  const origin = tabOrigin(await describedTab(tabId));
  postQuietly(port, { type: 'site', origin, secure: Boolean(origin) && originIsSecure(origin) });
  const answer = (cmd) => askNative(cmd).then((result) => ({ ok: true, result }), (e) => ({ ok: false,
    error: e.error || errorObject('AGENT_UNAVAILABLE', e.message) }));
  const hello = await answer('hello');
  postQuietly(port, Object.assign({ type: 'agent' }, hello));
  if (!hello.ok) return;
  const tokens = await answer('tokens');
  postQuietly(port, Object.assign({ type: 'tokens' }, tokens));
  const certs = await answer('certificates');
  if (certs.ok) certs.result = certs.result.map((c) => certificateSummary(c, tokens.ok ? tokens.result : []));
  postQuietly(port, Object.assign({ type: 'certificates' }, certs));
  refreshAdapters().then((r) => {
    const by = origin ? originStanding(r, origin) : null;
    postQuietly(port, { type: 'origins', origin, locked: Boolean(r.locked), allowed: Boolean(by), by });
  }, () => postQuietly(port, { type: 'origins', origin, unknown: true }));
}

// The popup's port (an extension page only): status, and the user's allow / forbid clicks.
function onPopupPort(port) {
  port.onMessage.addListener((msg) => {
    if (!msg || typeof msg !== 'object') return;
    if ((msg.type === 'allow' || msg.type === 'forbid') && typeof msg.origin === 'string') {
      onPopupChange(port, msg);
    } else if (msg.type === 'status') {
      popupStatus(port, msg.tab);
    }
  });
}

// Open certificate choices: key -> { key, port, pageId, origin, cmd, certs, windowId, resolve }.
const choices = new Map();

// Ends a choice once: closes its window and resolves with the certificate id (or null and why).
function finishChoice(choice, certificate, why) {
  if (!choices.has(choice.key)) return;
  choices.delete(choice.key);
  if (choice.windowId !== undefined) chrome.windows.remove(choice.windowId, () => void chrome.runtime.lastError);
  choice.resolve({ certificate, why });
  noteNativeIdle();
}

// Opens the chooser window for a page's request; resolves with {certificate} or {why}.
function chooseCertificate(entry, cmd, certs) {
  return new Promise((resolve) => {
    const key = crypto.randomUUID();
    const choice = { key, port: entry.port, pageId: entry.pageId, origin: entry.origin, cmd, certs, resolve };
    choices.set(key, choice);
    chrome.windows.create({ url: chrome.runtime.getURL(`chooser.html#${key}`), type: 'popup',
      width: 560, height: 640, focused: true }, (win) => {
      if (chrome.runtime.lastError || !win) finishChoice(choice, null, 'USER_CANCELLED');
      else if (choices.has(key)) choice.windowId = win.id;
      else chrome.windows.remove(win.id, () => void chrome.runtime.lastError);
    });
  });
}

// CERT_CHOICE_REQUIRED for a page: the user picks one of the usable certificates in the
// extension's own window, and the request goes again with it. The page learns only the chosen
// certificate (from the result), or USER_CANCELLED; it never sees the list.
async function chooseAndRetry(entry, error) {
  const { cmd, args } = entry.retry;
  let certs = [];
  try {
    const tokens = await askNative('tokens').catch(() => []);
    certs = (await askNative('certificates')).filter((c) => c.status && c.status.usable)
      .map((c) => certificateSummary(c, tokens));
  } catch (e) {
    certs = [];
  }
  if (certs.length === 0) {
    replyError(entry.port, entry.pageId, error);
    return;
  }
  const { certificate, why } = await chooseCertificate(entry, cmd, certs);
  if (!certificate) {
    replyError(entry.port, entry.pageId, errorObject(why || 'USER_CANCELLED',
      why === 'CANCELLED' ? 'the page cancelled the request' : 'no certificate was chosen'));
    return;
  }
  sendNative(entry.port, entry.pageId, entry.origin, cmd, Object.assign({}, args, { certificate }));
}

// The chooser window's port: it names its choice by the key in its URL, gets the site and the
// list, and answers with one offered certificate id or a cancel.
function onChooserPort(port) {
  let choice = null;
  port.onMessage.addListener((msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'hello' && typeof msg.key === 'string') {
      choice = choices.get(msg.key) || null;
      postQuietly(port, choice ? { type: 'choice', origin: choice.origin, cmd: choice.cmd, certs: choice.certs }
        : { type: 'gone' });
    } else if (choice && msg.type === 'choose' && choice.certs.some((c) => c.id === msg.id)) {
      finishChoice(choice, msg.id, null);
    } else if (choice && msg.type === 'cancel') {
      finishChoice(choice, null, 'USER_CANCELLED');
    }
  });
  port.onDisconnect.addListener(() => {
    if (choice) finishChoice(choice, null, 'USER_CANCELLED');
  });
}

// True for the extension's own pages (the popup), never for a web page's content script.
function isExtensionPage(sender) {
  return Boolean(sender && sender.url && sender.url.startsWith(chrome.runtime.getURL('')));
}

chrome.runtime.onConnect.addListener((port) => {
  if (port.name === 'gostsign-page') onPagePort(port);
  else if (port.name === 'gostsign-popup' && isExtensionPage(port.sender)) onPopupPort(port);
  else if (port.name === 'gostsign-chooser' && isExtensionPage(port.sender)) onChooserPort(port);
});
// A chooser window closed by the user (or never loaded) counts as a cancel.
chrome.windows.onRemoved.addListener((windowId) => {
  for (const choice of choices.values()) {
    if (choice.windowId === windowId) finishChoice(choice, null, 'USER_CANCELLED');
  }
});

// The adapters follow the agent's allow-list: at every start of this worker, at browser start and
// after an update (the registration itself persists, so the first page after a restart has them).
chrome.runtime.onStartup.addListener(() => refreshAdapters().catch(() => {}));
chrome.runtime.onInstalled.addListener(() => refreshAdapters().catch(() => {}));
refreshAdapters().catch(() => {});
