// A page of the Gosuslugi cabinet as it uses the Gosuslugi plugin: it waits for the plugin's
// marker in <head>, lists certificates with a page message of category "gosuslugi.plugin", signs
// a server-issued document with gosuslugiPluginCrypto.signature, and posts the CMS for checking.
'use strict';

const $ = (id) => document.getElementById(id);
let chosen = null;
const pending = {};

// Shows the final state of an action.
function show(kind, text) {
  $('result').className = kind;
  $('result').textContent = text;
}

// Posts JSON and returns the parsed answer.
async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body || {}) });
  return res.json();
}

// A message of the plugin's page protocol, built by the site itself.
function message(module, type, data) {
  return {
    id: crypto.randomUUID(), node: '', error: '', mode: '',
    module: { type: module, version: '0.0.0.0' },
    method: { type, data, result: '' },
    meta: { format: { type: 'message', version: '0.0.0.0', category: 'gosuslugi.plugin' },
      content: { type: 'application/json', charset: 'utf8', transferEncoding: '' },
      routes: [{ node: 'lk.site', time: new Date().toLocaleString(), transfer: '' }], data: {} },
  };
}

window.addEventListener('message', (event) => {
  const m = event.data;
  if (!m || !m.node || !m.id || !pending[m.id]) return;
  const cb = pending[m.id];
  delete pending[m.id];
  cb(m);
});

// Sends one request message and resolves with the answer's parsed result (rejects on error).
function request(module, type, data, chunks) {
  return new Promise((resolve, reject) => {
    const m = message(module, type, data);
    pending[m.id] = (answer) => {
      if (answer.error && answer.error.length) reject(new Error(answer.error));
      else resolve(answer.method.result ? JSON.parse(answer.method.result) : null);
    };
    if (!chunks) {
      window.postMessage(m, '*');
      return;
    }
    // A large payload goes in parts: the same id, meta.chunk i of meta.chunks.
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    const size = Math.ceil(text.length / chunks);
    for (let i = 0; i < chunks; i++) {
      const part = Object.assign({}, m, { method: { type, data: text.slice(i * size, (i + 1) * size), result: '' },
        meta: Object.assign({}, m.meta, { chunk: String(i + 1), chunks: String(chunks) }) });
      window.postMessage(part, '*');
    }
  });
}

// Signs with the plugin's page global, as the cabinet's scripts call it.
function signature(req) {
  return new Promise((resolve, reject) => {
    gosuslugiPluginCrypto.signature(req, (answer) => {
      if (answer.error && answer.error.length) reject(new Error(answer.error));
      else resolve(JSON.parse(answer.method.result));
    });
  });
}

// Signs a new document (attached), a large one (page chunks), or its hash (detached).
async function sign(mode) {
  show('', 'Подписываем…');
  try {
    const doc = await post('/api/document', { size: mode === 'big' ? 600 * 1024 : 2000 });
    const certificate = { content: chosen.raw, contentEncoding: 'base64' };
    let res;
    let detached = false;
    if (mode === 'hash') {
      const h = await request('crypto', 'hash', { file: { content: doc.data, contentEncoding: 'base64' },
        algorithm: '1.2.643.7.1.1.2.2' });
      detached = true;
      res = await signature({ certificate, type: 'detached',
        files: [{ content: h.value, contentEncoding: 'base64', contentFormat: 'hash', id: 'h1', name: 'hash.bin' }] });
    } else if (mode === 'big') {
      res = await request('crypto', 'signature', JSON.stringify({ certificate, type: 'attached',
        files: [{ content: doc.data, contentEncoding: 'base64', id: 'big1', name: 'большой.bin' }] }), 3);
    } else {
      res = await signature({ certificate, type: 'attached',
        files: [{ content: doc.data, contentEncoding: 'base64', id: 'doc1', name: 'заявление.txt' }] });
    }
    const verdict = await post('/api/verify', { id: doc.id, signature: res[0].content, detached });
    show(verdict.ok ? 'ok' : 'error', verdict.ok ? `Подпись принята сервером (${mode})` : `Сервер отклонил подпись: ${verdict.text}`);
  } catch (e) {
    show('error', `Ошибка плагина: ${e.message}`);
  }
}

// Waits for the plugin's marker (its content script adds it), then lists the certificates.
function start(tries) {
  const marker = document.head.querySelector('meta[property="gosuslugi.plugin.extension.content"][content="extension"]');
  if (!marker) {
    if (tries > 0) setTimeout(() => start(tries - 1), 100);
    else {
      $('status').textContent = 'Плагин Госуслуг не установлен';
      $('status').className = 'missing';
    }
    return;
  }
  request('crypto', 'certificates', JSON.stringify({ store: 'My', fields: {} })).then((certs) => {
    $('status').textContent = `Плагин найден; сертификатов: ${certs.length}`;
    $('status').className = 'ready';
    if (!certs.length) $('status').textContent = 'Сертификаты не найдены';
    for (const c of certs) {
      const li = document.createElement('li');
      li.textContent = `${c.subjectInfo.name}, ${c.subjectInfo.organizationName} (до ${new Date(c.notAfter * 1000).toLocaleDateString('ru-RU')})`;
      li.dataset.info = JSON.stringify({ subject: c.subject, thumbprint: c.thumbprint, raw: c.raw.length });
      li.addEventListener('click', () => {
        chosen = c;
        document.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      });
      $('certs').appendChild(li);
    }
  }, (e) => {
    $('status').textContent = `Ошибка плагина: ${e.message}`;
    $('status').className = 'error';
  });
}

document.addEventListener('DOMContentLoaded', () => start(30));
$('sign-attached').addEventListener('click', () => sign('attached'));
$('sign-big').addEventListener('click', () => sign('big'));
$('sign-hash').addEventListener('click', () => sign('hash'));
