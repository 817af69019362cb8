// gostsign compatibility adapter: the page protocol of the Gosuslugi plugin («Госплагин»): the
// marker <meta content="extension" property="gosuslugi.plugin.extension.content">, the page messages
// of category "gosuslugi.plugin" (module crypto/system, method type/data/result, chunked page
// payloads) and the page globals gosuslugiPluginCrypto / gosuslugiPluginSystem, answered by the
// gostsign agent (../../../docs/compat.md says which details are assumed). Page world, allowed
// origins only. Stands down when another extension already marked the page.
'use strict';

(() => {
  const kit = window.__gostsignAdapterKit;
  const CONTENT_ID = 'gosuslugi.plugin.extension.content';
  const CATEGORY = 'gosuslugi.plugin';
  const MARKER = `meta[content="extension"][property="${CONTENT_ID}"]`;
  if (!kit || document.querySelector(MARKER)) return;
  const API = 'gosuslugi';
  const VERSION = '1.4.0';

  let ours = null; // our marker element
  let standingDown = false;

  // Puts our marker into <head> as soon as the parser creates it.
  kit.whenElement(() => document.head, (head) => {
    if (document.querySelector(MARKER)) {
      standingDown = true;
      return;
    }
    ours = document.createElement('meta');
    ours.setAttribute('content', 'extension');
    ours.setAttribute('property', CONTENT_ID);
    head.appendChild(ours);
  });

  // True when a second extension marked the page too: then only it answers.
  function otherExtensionPresent() {
    return Array.from(document.querySelectorAll(MARKER)).some((m) => m !== ours);
  }

  // An error of this protocol: the message's error text (what sites test) and a code.
  class PluginError extends Error {
    constructor(code, text) {
      super(text);
      this.pluginCode = String(code);
    }
  }

  // The plugin error for an agent failure: the agent's Russian text and its error number.
  function fromAgent(e) {
    if (e instanceof PluginError) return e;
    if (e instanceof kit.AgentError) {
      const text = e.code === 'CANCELLED' || e.code === 'USER_CANCELLED' ? 'Операция отменена пользователем' : e.message;
      const err = new PluginError(e.number || 1, text);
      err.gostsign = e.code;
      return err;
    }
    return new PluginError(1, (e && e.message) || String(e));
  }

  // The unsupported-call error, in Russian.
  function unsupported(what) {
    return new PluginError(501, `${what}: не поддерживается gostsign (через интерфейс плагина Госуслуг)`);
  }

  // A certificate entry as the plugin lists it, from an agent certificates entry.
  function certificateEntry(c) {
    const sigAlg = { '1.2.643.7.1.1.1.1': '1.2.643.7.1.1.3.2', '1.2.643.7.1.1.1.2': '1.2.643.7.1.1.3.3' };
    const s = c.subject || {};
    return {
      version: String(c.version || 3),
      serialNumber: String(c.serial || '').toUpperCase(),
      signatureAlgorithm: sigAlg[c.key && c.key.algorithm_oid] || '',
      publicKeyAlgorithm: (c.key && c.key.algorithm_oid) || '',
      issuer: (c.issuer && c.issuer.dn) || '',
      subject: s.dn || '',
      notBefore: c.validity.not_before_unix,
      notAfter: c.validity.not_after_unix,
      thumbprint: String(c.id).toUpperCase(),
      container: c.token || '',
      provider: 'gostsign',
      raw: c.der || '',
      subjectInfo: {
        name: s.cn || '', lastName: s.sn || '', firstAndMiddleName: s.g || '', email: s.e || '',
        snils: s.snils || '', companyName: s.o || '', organizationName: s.o || '',
        inn: s.innle || s.inn || '', kpp: '', ogrn: s.ogrn || '', ogrnip: s.ogrnip || '', post: s.t || '',
        street: s.street || '', region: s.st || '', city: s.l || '', country: s.c || '',
      },
    };
  }

  // The agent certificates a request's "store" names: all of them for "" / "My", else a token's.
  async function certificatesOf(store) {
    const list = await kit.certificates();
    const name = String(store || '').toLowerCase();
    if (!name || name === 'my') return list;
    const tokens = await kit.call('tokens');
    const ids = tokens.filter((t) => [t.label, `${t.label} ${t.serial}`, t.id].some((x) => String(x).toLowerCase() === name))
      .map((t) => t.id);
    return list.filter((c) => ids.includes(c.token));
  }

  // Keeps the entries whose fields contain the request's "fields" filters (subject, issuer…).
  function filterFields(entries, fields) {
    if (!fields || typeof fields !== 'object') return entries;
    return entries.filter((e) => Object.entries(fields).every(([k, v]) => {
      if (v === undefined || v === '') return true;
      if (k === 'enhancedKeyUsage') return true; // the agent lists signing certificates only
      const have = e[k] !== undefined ? e[k] : e.subjectInfo[k];
      return have !== undefined && String(have).toLowerCase().includes(String(v).toLowerCase());
    }));
  }

  // The SHA-1 thumbprint (lower-case hex) of a base64 DER certificate, or null.
  async function thumbprintOf(b64) {
    const der = kit.fromBase64(b64);
    if (!der || !der.length || !window.crypto || !window.crypto.subtle) return null;
    return kit.toHex(new Uint8Array(await window.crypto.subtle.digest('SHA-1', der)));
  }

  // The agent certificate id for a request's "certificate" file info (undefined: the agent picks).
  async function certificateId(info) {
    if (!info || !info.content) return undefined;
    const text = String(info.content).replace(/-----(BEGIN|END) CERTIFICATE-----/g, '');
    const id = await thumbprintOf(text);
    if (!id || !(await kit.findCertificate(id))) {
      throw new PluginError(404, 'Сертификат не найден на подключённых носителях');
    }
    return id;
  }

  // The bytes of one file info: base64 content, plain text content, or a same-origin URL.
  async function fileBytes(file) {
    if (file.contentEncoding === 'url' || (!file.content && file.path && /^https?:/.test(file.path))) {
      const res = await fetch(file.path, { credentials: 'include' });
      if (!res.ok) throw new PluginError(res.status, `ошибка загрузки файла ${file.path}`);
      return new Uint8Array(await res.arrayBuffer());
    }
    if (!file.content && file.path) throw unsupported('подпись файла по пути на диске');
    if (file.contentEncoding === 'base64') {
      const b = kit.fromBase64(file.content);
      if (!b) throw new PluginError(400, 'содержимое файла не в base64');
      return b;
    }
    return new TextEncoder().encode(String(file.content || ''));
  }

  // signature / signatureV2: one CMS per file (attached or detached), PIN in the agent's dialog.
  async function signature(request) {
    const r = request || {};
    if (r.type === 'xmldsig') throw unsupported('подпись XMLDSig');
    if (r.timestamp && String(r.timestamp.require) === 'true') throw unsupported('штамп времени (CAdES-T)');
    const files = Array.isArray(r.files) ? r.files : r.file ? [r.file] : [];
    if (!files.length) throw unsupported('выбор файла в диалоге плагина');
    const certificate = await certificateId(r.certificate);
    const typeOf = (f) => {
      const p = (r.filesSignParams || []).find((x) => f.id && x.id === f.id);
      return (p && p.type) || r.type || 'detached';
    };
    const out = [];
    for (const f of files) {
      const detached = typeOf(f) !== 'attached';
      const options = { certificate, detached, document: f.name || undefined };
      let res;
      if (f.contentFormat === 'hash') {
        res = await kit.signDigest(API, kit.toHex(await fileBytes(f)), options);
      } else {
        res = await kit.signData(API, await fileBytes(f), options);
      }
      out.push({ id: f.id || '', name: f.name || '', content: res.cms, contentEncoding: 'base64' });
    }
    return out;
  }

  // hash: GOST R 34.11-2012 of one file (256 unless the algorithm or the certificate says 512).
  async function hash(request) {
    const r = request || {};
    let bits = r.algorithm === '1.2.643.7.1.1.2.3' ? 512 : 256;
    if (!r.algorithm && r.certificate && r.certificate.content) {
      const c = await kit.findCertificate(await thumbprintOf(r.certificate.content));
      if (c && c.key && c.key.bits === 512) bits = 512;
    }
    if (r.algorithm && !['1.2.643.7.1.1.2.2', '1.2.643.7.1.1.2.3'].includes(r.algorithm)) {
      throw unsupported(`алгоритм хеширования ${r.algorithm}`);
    }
    if (!r.file) throw new PluginError(400, 'не задан файл для хеширования');
    const digest = kit.streebog(await fileBytes(r.file), bits);
    return { algorithm: bits === 512 ? '1.2.643.7.1.1.2.3' : '1.2.643.7.1.1.2.2',
      value: kit.toBase64(digest), hex: kit.toHex(digest) };
  }

  // tokens: the tokens the agent sees, each with its certificates.
  async function tokens(request) {
    const list = await kit.call('tokens');
    const certs = await kit.certificates();
    const name = String((request && request.store) || '').toLowerCase();
    return list.filter((t) => !name || [t.label, `${t.label} ${t.serial}`, t.id]
      .some((x) => String(x).toLowerCase() === name)).map((t) => ({
      label: t.label, name: `${t.label} ${t.serial}`, serialNumber: t.serial, model: t.model,
      manufacturer: t.manufacturer, provider: 'gostsign', id: t.id,
      certificates: certs.filter((c) => c.token === t.id).map(certificateEntry),
    }));
  }

  // The result of one crypto method (a value the caller serializes to method.result).
  async function cryptoMethod(method, request) {
    switch (method) {
      case 'certificates':
        return filterFields((await certificatesOf(request && request.store)).map(certificateEntry),
          request && request.fields);
      case 'tokens':
        return tokens(request);
      case 'providers':
        return [{ name: 'gostsign', type: 'pkcs11', version: VERSION, description: 'gostsign: токены PKCS#11' }];
      case 'signature':
      case 'signatureV2':
        return signature(request);
      case 'hash':
        return hash(request);
      default:
        throw unsupported(`метод ${method}`);
    }
  }

  // The result of one system method.
  async function system(method, data) {
    switch (method) {
      case 'handshake':
        await kit.hello();
        return { version: VERSION, name: 'gostsign' };
      case 'echo':
        return data;
      case 'config':
        return [{ type: 'crypto', format: { type: 'crypto', version: VERSION } },
          { type: 'system', format: { type: 'system', version: VERSION } }];
      case 'protocol':
        return VERSION;
      case 'lastError':
      case 'cache':
      case 'ipConfig':
      case 'close':
      case 'disconnect':
        return '';
      default:
        throw unsupported(`метод ${method}`);
    }
  }

  // Sends the answer to a page message: the request echoed with node, result and error set.
  function respond(message, result, error) {
    const route = (message.meta && Array.isArray(message.meta.routes) && message.meta.routes[0]
      && message.meta.routes[0].node) || CONTENT_ID;
    const meta = Object.assign({}, message.meta || {});
    meta.routes = (Array.isArray(meta.routes) ? meta.routes.slice() : [])
      .concat([{ node: CONTENT_ID, time: new Date().toLocaleString(), transfer: '' }]);
    meta.protocol = { version: VERSION };
    delete meta.chunk;
    delete meta.chunks;
    const out = Object.assign({}, message, {
      node: route,
      error: error ? error.message : '',
      code: error ? error.pluginCode : '200',
      method: Object.assign({}, message.method, {
        data: null,
        result: error ? '' : (typeof result === 'string' ? result : JSON.stringify(result)),
      }),
      meta,
    });
    window.postMessage(out, '*');
  }

  // A request's data: JSON text (what the plugin's own scripts send) or an object.
  function parseData(data) {
    if (typeof data !== 'string') return data || {};
    if (!data) return {};
    try {
      return JSON.parse(data);
    } catch (e) {
      return data;
    }
  }

  const chunks = new Map(); // message id -> parts of a chunked page payload

  // Handles one page message of the protocol (a request: node is empty).
  async function onMessage(message) {
    const meta = message.meta || {};
    let data = message.method.data;
    if (meta.chunk) {
      // The page split its payload: collect the parts, answer once they are all here.
      const total = parseInt(meta.chunks, 10);
      const parts = chunks.get(message.id) || [];
      parts[parseInt(meta.chunk, 10) - 1] = typeof data === 'string' ? data : JSON.stringify(data);
      chunks.set(message.id, parts);
      if (!(total > 0) || parts.filter((p) => p !== undefined).length < total) return;
      chunks.delete(message.id);
      data = parts.join('');
    }
    const type = message.method.type;
    try {
      if (type === 'registered') {
        respond(message, String(Boolean(ours) && (!data || data === CONTENT_ID)));
      } else if (type === 'cancelChunks' || type === 'chunkSize') {
        respond(message, type === 'chunkSize' ? String(512 * 1024) : 'true');
      } else if (message.module && message.module.type === 'system') {
        respond(message, await system(type, data));
      } else if (message.module && message.module.type === 'crypto') {
        respond(message, await cryptoMethod(type, parseData(data)));
      } else {
        throw unsupported(`модуль ${message.module && message.module.type}`);
      }
    } catch (e) {
      respond(message, null, fromAgent(e));
    }
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (event.source !== window || !message || typeof message !== 'object') return;
    if (!message.meta || !message.meta.format || message.meta.format.category !== CATEGORY) return;
    if (message.node !== '' || !message.method || !message.id) return; // answers, not requests
    if (standingDown || otherExtensionPresent()) {
      standingDown = true;
      return;
    }
    onMessage(message);
  });

  // A message of the plugin's format (what the plugin's own page scripts build).
  function pluginMessage(owner, module, func, data) {
    return {
      id: (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID() : `${Date.now()}-${Math.random()}`,
      node: '',
      error: '',
      mode: '',
      module: { type: module, version: '0.0.0.0' },
      method: { type: func, data: data === undefined ? '' : data, result: '' },
      meta: {
        format: { type: 'message', version: '0.0.0.0', category: CATEGORY },
        content: { type: 'application/json', charset: 'utf8', transferEncoding: '' },
        routes: [{ node: owner, time: new Date().toLocaleString(), transfer: '' }],
        data: {},
        userAgent: navigator.userAgent,
      },
    };
  }

  const callbacks = new Map();
  window.addEventListener('message', (event) => {
    const message = event.data;
    if (event.source !== window || !message || !message.node || !message.id) return;
    const cb = callbacks.get(message.id);
    if (!cb) return;
    callbacks.delete(message.id);
    try {
      cb(message);
    } catch (e) {
      /* the site's callback */
    }
  });

  // Posts a message and calls back with its answer (the page globals' calling convention).
  function post(message, callback) {
    if (typeof callback === 'function') callbacks.set(message.id, callback);
    window.postMessage(message, '*');
  }

  // The page globals the plugin's own scripts define, for sites that call them directly.
  const CRYPTO_ID = 'gosuslugi.plugin.extension.crypto';
  const SYSTEM_ID = 'gosuslugi.plugin.extension.system';
  const cryptoGlobal = {
    caller: () => 'web-page',
    post,
  };
  for (const m of ['providers', 'tokens', 'certificates', 'certificateRequest']) {
    cryptoGlobal[m] = (request, callback) => post(pluginMessage(CRYPTO_ID, 'crypto', m, JSON.stringify(request || {})), callback);
  }
  for (const m of ['signature', 'signatureV2', 'hash', 'normalize', 'certificateFields', 'addCertificate', 'deleteCertificate']) {
    cryptoGlobal[m] = (request, callback) => {
      const message = pluginMessage(CRYPTO_ID, 'crypto', m, request);
      const id = request && request.meta && request.meta.data && request.meta.data.message;
      if (id) message.id = id;
      post(message, callback);
    };
  }
  cryptoGlobal.cancelChunks = (callback) => post(pluginMessage(CRYPTO_ID, 'crypto', 'cancelChunks'), callback);
  cryptoGlobal.chunkSize = (value, callback) => post(pluginMessage(CRYPTO_ID, 'crypto', 'chunkSize', value), callback);
  const systemGlobal = {};
  for (const m of ['handshake', 'lastError', 'config', 'ipConfig', 'close', 'protocol']) {
    systemGlobal[m] = (callback) => post(pluginMessage(SYSTEM_ID, 'system', m, ''), callback);
  }
  systemGlobal.echo = (value, callback) => post(pluginMessage(SYSTEM_ID, 'system', 'echo', value), callback);
  systemGlobal.cache = (value, callback) => post(pluginMessage(SYSTEM_ID, 'system', 'cache', value), callback);

  // The file-info class sites build requests with, when the site does not bring its own.
  class FileInfo {
    constructor(content, path, contentEncoding, id, name, contentFormat) {
      this.content = content;
      this.path = path;
      this.id = id || '';
      this.name = name || '';
      this.contentEncoding = contentEncoding || '';
      this.contentFormat = contentFormat || '';
    }
  }
  if (window.gosuslugiPluginCrypto === undefined) window.gosuslugiPluginCrypto = cryptoGlobal;
  if (window.gosuslugiPluginSystem === undefined) window.gosuslugiPluginSystem = systemGlobal;
  if (window.GosuslugiPluginFileInfo === undefined) window.GosuslugiPluginFileInfo = FileInfo;
})();
