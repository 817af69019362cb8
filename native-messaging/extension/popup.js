// gostsign popup: agent status (hello) and the tokens the agent sees, asked for the active tab's
// origin (tokens are listed only for sites on the allow-list).
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

const port = chrome.runtime.connect({ name: 'gostsign-popup' });
port.onMessage.addListener((msg) => {
  if (msg.type === 'origin') {
    line('site', msg.origin ? `Сайт: ${msg.origin}` : 'Сайт: нет', 'muted');
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
