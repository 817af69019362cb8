// A login page as the ESIA uses IFCPlugin: it checks the plugin's marker elements (again every
// 5 s, and on updatePluginStatus), talks TO_IFC_EXT / FROM_IFC_EXT with one request in flight,
// lists the devices and their certificates, signs the ASCII of the server's hex challenge as an
// attached CMS and posts sign_value to /login/digital/validate.
'use strict';

const $ = (id) => document.getElementById(id);
const IFC_OK = 0;
const ERRORS = { 0xa0: 'Неверный PIN-код', 0x09: 'Сертификат не найден', 0x11: 'Операция не поддерживается',
  0x19: 'Токены не найдены', '-1': 'Общая ошибка' };
let current = null; // the callback of the one request in flight
let chosen = null;

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

window.addEventListener('message', (event) => {
  if (event.source !== window || typeof event.data !== 'string') return;
  let m;
  try {
    m = JSON.parse(event.data);
  } catch (e) {
    return;
  }
  if (m.type === 'FROM_IFC_EXT' && current) {
    if (m.msg_data && m.msg_data.intermediate) return; // progress of a long listing
    const cb = current;
    current = null;
    cb(m.msg_data);
  }
});

// One plugin call (never two at once); rejects with the plugin's error code.
function send(func_name, params) {
  return new Promise((resolve, reject) => {
    if (current) {
      reject(Object.assign(new Error('параллельный запрос'), { code: -1 }));
      return;
    }
    current = (msg) => {
      if (msg.error_code !== IFC_OK) reject(Object.assign(new Error(ERRORS[msg.error_code] || `код ${msg.error_code}`), { code: msg.error_code }));
      else resolve(msg);
    };
    window.postMessage(JSON.stringify({ type: 'TO_IFC_EXT', msg_data: { func_name, params } }), '*');
  });
}

// The certificates of every device, with their containerId (cryptoId/id).
async function certificates() {
  const info = await send('get_list_info', { cryptoType: null });
  const ids = info.ifc_list.map((d) => `${d.alias}/${d.num}`);
  const res = await send('get_list_certs_by_cryptoid_array', { cryptoID_array: ids, show_progress: 1 });
  const out = [];
  for (const r of res.result_array) {
    for (const c of r.cert_list) out.push(Object.assign({ containerId: `${r.crypto_id}/${c.id}` }, c));
  }
  return out;
}

// The sign call as the IFCPlugin library makes it (the PIN is left to the plugin's own dialog).
function signCall(inDataType, data, signType) {
  return send('sign', { containerId: chosen.containerId, userPin: '', inDataType, data, hashType: 1,
    signType, cspUI: 1, outDataType: 1 });
}

// The login: challenge, attached CMS over its ASCII, validation by the server.
async function login() {
  show('', 'Выполняется вход…');
  try {
    const ch = await post('/api/challenge');
    const signed = await signCall(1, ch.digital_challenge, 3);
    const verdict = await post('/login/digital/validate', { id: ch.id, signature: signed.sign_value });
    show(verdict.ok ? 'ok' : 'error', verdict.ok ? 'Вход выполнен' : `Сервер отклонил подпись: ${verdict.text}`);
  } catch (e) {
    show('error', `Ошибка входа: ${e.message} (${e.code})`);
  }
}

// A detached CMS over a hash the plugin computed (inDataType HASH_B64).
async function signHash() {
  show('', 'Подписываем хеш…');
  try {
    const doc = await post('/api/document', { size: 2000 });
    const h = await send('hash', { containerId: chosen.containerId, inDataType: 2, data: doc.data, outDataType: 1 });
    const signed = await signCall(4, h.hashValue, 4);
    const verdict = await post('/api/verify', { id: doc.id, signature: signed.sign_value, detached: true });
    show(verdict.ok ? 'ok' : 'error', verdict.ok ? 'Подпись хеша принята' : `Сервер отклонил подпись: ${verdict.text}`);
  } catch (e) {
    show('error', `Ошибка подписи: ${e.message} (${e.code})`);
  }
}

// A bare signature (SIMPLE) over data: the page gets 64 bytes for a 256-bit key.
async function signSimple() {
  show('', 'Подписываем…');
  try {
    const signed = await signCall(1, 'простая подпись', 1);
    const n = atob(signed.sign_value).length;
    show(n === 64 ? 'ok' : 'error', `Подпись без CMS: ${n} байт`);
  } catch (e) {
    show('error', `Ошибка подписи: ${e.message} (${e.code})`);
  }
}

// The status check the IFCPlugin library makes (after 500 ms, then every 5 s).
function checkStatus() {
  const ext = Boolean(document.getElementById('ifcplugin-extension-is-installed'));
  const plugin = Boolean(document.getElementById('ifc-plugin-is-installed'));
  if (!ext || !plugin) {
    $('status').textContent = 'Плагин для работы с электронной подписью не установлен';
    $('status').className = 'missing';
    return;
  }
  if ($('status').className === 'ready') return;
  send('version', {}).then(() => certificates()).then((certs) => {
    $('status').textContent = certs.length ? `Плагин работает; сертификатов: ${certs.length}` : 'Сертификаты не найдены';
    $('status').className = 'ready';
    for (const c of certs) {
      const li = document.createElement('li');
      const cn = (c.cert_subject.split('\n').find((l) => l.startsWith('2.5.4.3=')) || '').slice(8);
      li.textContent = `${cn} (до ${new Date(c.cert_valid_to).toLocaleDateString('ru-RU')})`;
      li.dataset.info = JSON.stringify(c);
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

document.addEventListener('updatePluginStatus', checkStatus);
setTimeout(checkStatus, 500);
setInterval(checkStatus, 5000);
$('login').addEventListener('click', login);
$('sign-hash').addEventListener('click', signHash);
$('sign-simple').addEventListener('click', signSimple);
