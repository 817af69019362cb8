// gostsign extension, background (service worker in the Chromium family, background script in
// Firefox). It owns the one native-messaging port to gostsign-nmhost and relays page requests
// from content scripts. The origin of every request is taken from the sender tab (port.sender),
// never from what the page says; insecure origins are refused here before anything leaves the
// browser. The PIN never passes through the extension: the agent asks for it in its own dialog.
'use strict';

const HOST_NAME = 'ru.gostsign.nmhost';
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
    'Ask your administrator to add the site to the gostsign allow-list.'],
  NMHOST_NOT_REGISTERED: [72, 'Browser connector is not registered',
    'Компонент для браузера не зарегистрирован',
    'Run `gostsign browser install` (or `sudo gostsign browser install --system`) and restart the browser; use the browser from Debian packages.'],
  AGENT_UNAVAILABLE: [60, 'Signing agent is not running', 'Агент подписи не запущен',
    'Run `systemctl --user start gostsign-agent.socket` or `gostsign agent status`.'],
  BAD_REQUEST: [69, 'Invalid request', 'Неверный запрос', 'Check the request against docs/protocol.md.'],
  UNKNOWN_COMMAND: [68, 'Unknown command', 'Неизвестная команда',
    'Call `hello` to see the supported commands and protocol version.'],
};

// An error object shaped like the agent's, for codes the extension reports itself.
function errorObject(code, detail) {
  const [number, message, messageRu, fix] = ERRORS[code];
  return { code, number, message, message_ru: messageRu, fix, detail };
}

let native = null; // the port to gostsign-nmhost, opened on first use
let nextNativeId = 1;
const inflight = new Map(); // native id -> { port, pageId, origin }

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

// The host went away (or could not be started): every pending request fails.
function onNativeDisconnect() {
  const why = chrome.runtime.lastError ? chrome.runtime.lastError.message : '';
  const code = /not found|forbidden|specified native messaging host/i.test(why)
    ? 'NMHOST_NOT_REGISTERED' : 'AGENT_UNAVAILABLE';
  for (const { port, pageId } of inflight.values()) {
    replyError(port, pageId, errorObject(code, why || 'gostsign-nmhost exited'));
  }
  inflight.clear();
  native = null;
}

// Relays a reply or progress event from the host to the page that asked.
function onNativeMessage(msg) {
  const entry = inflight.get(msg.id);
  if (!entry) return;
  const out = Object.assign({}, msg, { id: entry.pageId });
  if (!('event' in msg)) inflight.delete(msg.id);
  try {
    entry.port.postMessage(out);
  } catch (e) {
    /* the tab went away */
  }
}

// The native port, connecting on first use.
function nativePort() {
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

// Sends one request to the host on behalf of a page (or the popup) with a fixed origin.
function sendNative(port, pageId, origin, cmd, args) {
  const chunked = cmd === 'sign' && args && typeof args.chunk === 'string';
  const id = (chunked && chunkedId(port, pageId)) || nextNativeId++;
  inflight.set(id, { port, pageId, origin, chunked });
  try {
    nativePort().postMessage({ id, cmd, origin, args: args || {} });
  } catch (e) {
    inflight.delete(id);
    replyError(port, pageId, errorObject('NMHOST_NOT_REGISTERED', String(e)));
  }
  return id;
}

// Cancels the native request behind a page request of this port.
function cancelNative(port, pageId) {
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
    for (const [id, entry] of inflight) {
      if (entry.port === port) {
        cancelNative(port, entry.pageId);
        inflight.delete(id);
      }
    }
  });
}

// The origin the extension names when it asks the agent for itself (the origins command), not
// on behalf of a page.
const EXTENSION_ORIGIN = 'https://gostsign.invalid';
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

// Asks the agent to allow one more origin (the popup's button), then registers the adapters.
async function allowOrigin(origin) {
  return refreshAdapters({ add: origin });
}

// The popup's port: agent and token status for the active tab's origin.
function onPopupPort(port) {
  port.onMessage.addListener((msg) => {
    if (msg && msg.type === 'allow' && typeof msg.origin === 'string') {
      allowOrigin(msg.origin).then(
        (r) => port.postMessage({ type: 'allowed', origin: msg.origin, ok: true,
          allowed: (r.allowed || []).some((e) => originMatches(e, msg.origin)), locked: r.locked }),
        (e) => port.postMessage({ type: 'allowed', origin: msg.origin, ok: false, error: e.error || { message_ru: e.message } }));
      return;
    }
    if (!msg || msg.type !== 'status') return;
    chrome.tabs.query({ active: true, currentWindow: true }, (tabs) => {
      let origin = null;
      try {
        origin = tabs && tabs[0] && tabs[0].url ? new URL(tabs[0].url).origin : null;
      } catch (e) {
        origin = null;
      }
      port.postMessage({ type: 'origin', origin });
      // hello is allowed for every origin; tokens need an allowed, secure one.
      sendNative(port, 'hello', originIsSecure(origin) ? origin : 'https://gostsign.invalid', 'hello');
      if (origin && originIsSecure(origin)) sendNative(port, 'tokens', origin, 'tokens');
      else replyError(port, 'tokens', errorObject('ORIGIN_NOT_ALLOWED', 'the active tab is not an https page'));
      refreshAdapters().then((r) => port.postMessage({ type: 'origins', origin, locked: Boolean(r.locked),
        allowed: Boolean(origin) && (r.allowed || []).some((e) => originMatches(e, origin)) }),
      () => port.postMessage({ type: 'origins', origin, unknown: true }));
    });
  });
}

// True for the extension's own pages (the popup), never for a web page's content script.
function isExtensionPage(sender) {
  return Boolean(sender && sender.url && sender.url.startsWith(chrome.runtime.getURL('')));
}

chrome.runtime.onConnect.addListener((port) => {
  if (port.name === 'gostsign-page') onPagePort(port);
  else if (port.name === 'gostsign-popup' && isExtensionPage(port.sender)) onPopupPort(port);
});

// The adapters follow the agent's allow-list: at every start of this worker, at browser start and
// after an update (the registration itself persists, so the first page after a restart has them).
chrome.runtime.onStartup.addListener(() => refreshAdapters().catch(() => {}));
chrome.runtime.onInstalled.addListener(() => refreshAdapters().catch(() => {}));
refreshAdapters().catch(() => {});
