// gostsign certificate chooser: the extension's own window, opened when a page asks for a login
// or a signature without naming a certificate and the tokens hold several usable ones. It lists
// each certificate (owner, organisation, INN/OGRN, issuer, validity, token); the user's pick (or
// cancel) goes back to the background, which retries the page's request with that certificate.
// The page never sees this list.
'use strict';

const key = window.location.hash.slice(1);
const port = chrome.runtime.connect({ name: 'gostsign-chooser' });

// One "name: value" row of a certificate's description, left out when the value is empty.
function row(dl, label, value, cls) {
  if (!value) return;
  dl.appendChild(ui.el('dt', '', ui.t(label)));
  dl.appendChild(ui.el('dd', cls || '', value));
}

// The validity line: dates, then days left (or expired) and the qualified verdict.
function validity(c) {
  const dates = ui.t('chooserValidRange', ui.date(c.not_before), ui.date(c.not_after));
  return [dates].concat(ui.certificateState(c).map(([text]) => text)).join('; ');
}

// One certificate of the list, with its button.
function certificateItem(c, index) {
  const li = ui.el('li', 'cert');
  li.dataset.certificate = c.id;
  li.appendChild(ui.el('div', 'owner', c.owner + (c.title ? `, ${c.title}` : '')));
  const dl = ui.el('dl');
  row(dl, 'chooserOrganisation', c.organisation);
  row(dl, 'chooserIdentifiers', ui.identifiers(c.identifiers));
  row(dl, 'chooserIssuer', c.issuer);
  row(dl, 'chooserValidity', validity(c));
  row(dl, 'chooserToken', c.token);
  row(dl, 'chooserThumbprint', c.id.toLowerCase().replace(/(.{4})(?!$)/g, '$1 '), 'muted');
  li.appendChild(dl);
  const use = ui.el('button', 'use', ui.t('chooserUse'));
  use.type = 'button';
  use.id = `use-${index}`;
  use.addEventListener('click', () => port.postMessage({ type: 'choose', id: c.id }));
  li.appendChild(use);
  return li;
}

ui.translatePage();
document.title = ui.t('chooserTitle');
document.getElementById('cancel').addEventListener('click', () => port.postMessage({ type: 'cancel' }));
port.onMessage.addListener((msg) => {
  const request = document.getElementById('request');
  if (msg.type === 'gone') {
    request.textContent = ui.t('chooserGone');
    return;
  }
  if (msg.type !== 'choice') return;
  request.textContent = ui.t(msg.cmd === 'authenticate' ? 'chooserLogin' : 'chooserSign', msg.origin);
  const list = document.getElementById('certs');
  list.textContent = '';
  msg.certs.forEach((c, i) => list.appendChild(certificateItem(c, i)));
  document.body.dataset.ready = 'true';
});
port.postMessage({ type: 'hello', key });
