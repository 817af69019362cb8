// gostsign popup: agent status (hello) and the tokens the agent sees, asked for the active tab's
// origin (tokens are listed only for sites on the allow-list); whether the site gets the plugin
// APIs (adapters), and a button that allows the site: it asks the browser for the host
// permission, then the agent adds the origin to the user's list.
'use strict';

const $ = (id) => document.getElementById(id);

// Sets a line's text and its colour class.
function line(id, text, cls) {
  $(id).textContent = text;
  $(id).className = cls;
}

// One token as a list item: label, model, serial and PIN state.
function tokenItem(t) {
  const li = document.createElement('li');
  const pin = t.pin || {};
  const state = pin.locked ? 'PIN заблокирован' : pin.final_try ? 'последняя попытка PIN'
    : pin.count_low ? 'были неверные PIN' : 'PIN в порядке';
  li.textContent = `${t.label} (${t.manufacturer} ${t.model}, № ${t.serial}): ${state}`;
  return li;
}

let siteOrigin = null;

// Asks the browser for the site's host permission (needs this click), then the agent to allow it.
function allowSite() {
  if (!siteOrigin) return;
  const request = { origins: [`${siteOrigin}/*`] };
  const ask = chrome.permissions && chrome.permissions.request
    ? chrome.permissions.request(request) : Promise.resolve(true);
  Promise.resolve(ask).then((granted) => {
    if (!granted) {
      line('adapters', 'Браузер не дал доступ к сайту.', 'bad');
      return;
    }
    line('adapters', 'Разрешаем сайт…', 'muted');
    port.postMessage({ type: 'allow', origin: siteOrigin });
  }, (e) => line('adapters', `Браузер не дал доступ к сайту: ${e.message}`, 'bad'));
}
$('allow').addEventListener('click', allowSite);

const port = chrome.runtime.connect({ name: 'gostsign-popup' });
port.onMessage.addListener((msg) => {
  if (msg.type === 'origin') {
    siteOrigin = msg.origin && msg.origin.startsWith('https://') ? msg.origin : null;
    line('site', msg.origin ? `Сайт: ${msg.origin}` : 'Сайт: нет', 'muted');
  } else if (msg.type === 'origins') {
    if (msg.unknown) {
      line('adapters', 'Список разрешённых сайтов недоступен (нужен агент с протоколом версии 2).', 'muted');
    } else if (msg.allowed) {
      line('adapters', 'Сайт разрешён: он видит плагины КриптоПро и Госуслуг через gostsign (после перезагрузки страницы).', 'ok');
    } else {
      line('adapters', msg.locked ? 'Сайт не разрешён; список сайтов задаёт администратор.' : 'Сайт не разрешён.', 'muted');
    }
    $('allow').hidden = Boolean(msg.allowed || msg.locked || msg.unknown || !siteOrigin);
  } else if (msg.type === 'allowed') {
    if (msg.ok && msg.allowed) line('adapters', 'Сайт разрешён. Перезагрузите страницу.', 'ok');
    else line('adapters', `Не удалось разрешить сайт: ${(msg.error && msg.error.message_ru) || 'агент отказал'}`, 'bad');
    $('allow').hidden = Boolean(msg.ok && msg.allowed);
  } else if (msg.id === 'hello') {
    if (msg.ok) line('agent', `Агент работает: ${msg.result.agent} ${msg.result.version}`, 'ok');
    else line('agent', `Агент недоступен: ${msg.error.message_ru} (${msg.error.code})`, 'bad');
  } else if (msg.id === 'tokens') {
    const box = $('tokens');
    box.textContent = '';
    if (!msg.ok) {
      line('tokens', `Токены: ${msg.error.message_ru}`, 'muted');
    } else if (msg.result.length === 0) {
      line('tokens', 'Токены не найдены: подключите токен.', 'bad');
    } else {
      const ul = document.createElement('ul');
      msg.result.forEach((t) => ul.appendChild(tokenItem(t)));
      box.appendChild(ul);
    }
  }
});
port.postMessage({ type: 'status' });
