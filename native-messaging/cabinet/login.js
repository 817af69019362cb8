// Login page of the demo cabinet: asks the server for a challenge, has the gostsign extension
// sign it (window.gostsign.authenticate), and sends the CMS back for verification.
'use strict';

const $ = (id) => document.getElementById(id);

// Shows the final state of a login attempt.
function show(kind, text) {
  const r = $('result');
  r.className = kind;
  r.textContent = text;
}

// Posts JSON to the cabinet's API and returns the parsed answer.
async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body || {}),
  });
  return res.json();
}

// Progress events from the agent, in plain Russian.
const PROGRESS = {
  'pin-requested': 'Введите PIN-код в окне агента gostsign…',
  signing: 'Токен подписывает…',
};

// The whole login: challenge, signature, verification.
async function login() {
  const button = $('login');
  button.disabled = true;
  show('', '');
  try {
    if (!window.gostsign) {
      throw Object.assign(new Error('Расширение gostsign не установлено'), { code: 'NO_EXTENSION' });
    }
    $('progress').textContent = 'Получаем запрос входа…';
    const { challenge } = await post('/api/challenge');
    $('progress').textContent = 'Подписываем запрос входа…';
    const signed = await window.gostsign.authenticate({
      challenge,
      onProgress: (event) => { $('progress').textContent = PROGRESS[event.event] || event.event; },
    });
    $('progress').textContent = 'Проверяем подпись…';
    const answer = await post('/api/login', { challenge, cms: signed.cms });
    if (!answer.ok) throw Object.assign(new Error(answer.text), { code: answer.code });
    show('ok', 'Вы ' + answer.text);
    document.body.dataset.loggedIn = '1';
  } catch (e) {
    show('error', 'Ошибка ' + (e.code || '') + ': ' + (e.message_ru || e.message));
    document.body.dataset.error = e.code || 'ERROR';
  } finally {
    $('progress').textContent = '';
    button.disabled = false;
  }
}

// Shows whether the extension and the agent answer.
async function probe() {
  if (!window.gostsign) {
    $('agent').textContent = 'Расширение gostsign не найдено.';
    return;
  }
  try {
    const hello = await window.gostsign.hello();
    $('agent').textContent = 'Агент ' + hello.agent + ' ' + hello.version + ', протокол ' + hello.protocol;
  } catch (e) {
    $('agent').textContent = 'Агент недоступен: ' + (e.message_ru || e.message);
  }
}

$('login').addEventListener('click', login);
probe();
