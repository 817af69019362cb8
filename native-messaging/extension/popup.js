// gostsign popup: the site of the active tab (or of the tab named by popup.html?tab=ID, when the
// popup is opened as a tab) and whether it may ask for signatures, with the user's allow / forbid
// buttons for the agent's user list; the agent's state with a hint when it is not reachable; the
// tokens with their PIN state and the agent's pause; the certificates with days left and the
// qualified verdict. The background asks the agent as the extension itself, never as the site.
'use strict';

const $ = (id) => document.getElementById(id);

// Sets a line's text and its colour class.
function line(id, text, cls) {
  $(id).textContent = text;
  $(id).className = cls;
}

// The tab this popup describes when opened as a tab (popup.html?tab=ID), else null.
function namedTab() {
  const tab = Number(new URLSearchParams(window.location.search).get('tab'));
  return Number.isInteger(tab) && tab > 0 ? tab : null;
}

// The agent's state: running, the connector missing, or not reachable, with a hint.
function showAgent(msg) {
  const hint = $('agent-hint');
  hint.hidden = true;
  if (msg.ok) {
    line('agent', ui.t('popupAgentRunning', msg.result.agent, msg.result.version), 'ok');
    return;
  }
  const code = msg.error && msg.error.code;
  if (code === 'NMHOST_NOT_REGISTERED') {
    line('agent', ui.t('popupHostMissing'), 'bad');
    hint.textContent = ui.t('popupHostMissingHint');
  } else if (code === 'AGENT_UNAVAILABLE') {
    line('agent', ui.t('popupAgentDown'), 'bad');
    hint.textContent = ui.t('popupAgentDownHint');
  } else {
    line('agent', ui.t('popupAgentError', ui.errorText(msg.error), code), 'bad');
    hint.textContent = '';
  }
  hint.hidden = !hint.textContent;
  $('allow').hidden = true;
  $('forbid').hidden = true;
}

// The PIN state of one token: its own flags first, then the agent's pause.
function pinState(t) {
  const pin = t.pin || {};
  const parts = [];
  if (pin.locked) parts.push([ui.t('pinLocked'), 'bad']);
  else if (pin.final_try) parts.push([ui.t('pinFinalTry'), 'bad']);
  else if (pin.count_low) parts.push([ui.t('pinCountLow'), 'warn']);
  else if (pin.initialized === false) parts.push([ui.t('pinNotInitialized'), 'warn']);
  else parts.push([ui.t('pinOk'), 'ok']);
  if (t.pin_pad) parts.push([ui.t('pinPad'), 'muted']);
  if (t.resume_at) parts.push([ui.t('agentPaused', ui.dateTime(t.resume_at)), 'bad']);
  else if (typeof t.agent_attempts_left === 'number') {
    parts.push([ui.t('agentAttemptsLeft', t.agent_attempts_left), 'muted']);
  }
  return parts;
}

// A list item: a leading text, then the parts (text, colour class) joined by "; ".
function item(lead, parts, data) {
  const li = ui.el('li');
  Object.assign(li.dataset, data);
  li.appendChild(ui.el('span', 'lead', `${lead}: `));
  parts.forEach(([text, cls], i) => {
    if (i) li.appendChild(document.createTextNode('; '));
    li.appendChild(ui.el('span', cls, text));
  });
  return li;
}

// The tokens the agent sees.
function showTokens(msg) {
  const box = $('tokens');
  box.textContent = '';
  $('tokens-box').hidden = false;
  if (!msg.ok) {
    box.appendChild(ui.el('div', 'bad', ui.errorText(msg.error)));
  } else if (msg.result.length === 0) {
    box.appendChild(ui.el('div', 'bad', ui.t('popupTokensNone')));
  } else {
    const ul = ui.el('ul');
    for (const t of msg.result) {
      ul.appendChild(item(ui.t('popupToken', t.label, t.manufacturer, t.model, t.serial), pinState(t),
        { token: t.id }));
    }
    box.appendChild(ul);
  }
}

// The certificates with a key on the tokens.
function showCertificates(msg) {
  const box = $('certs');
  box.textContent = '';
  $('certs-box').hidden = false;
  if (!msg.ok) {
    box.appendChild(ui.el('div', 'bad', ui.errorText(msg.error)));
    return;
  }
  if (msg.result.length === 0) {
    box.appendChild(ui.el('div', 'muted', ui.t('popupCertificatesNone')));
    return;
  }
  const ul = ui.el('ul');
  for (const c of msg.result) {
    const who = [c.owner, c.organisation, ui.identifiers(c.identifiers)].filter(Boolean).join(', ');
    const parts = ui.certificateState(c);
    if (c.issuer) parts.push([`${ui.t('chooserIssuer')}: ${c.issuer}`, 'muted']);
    ul.appendChild(item(who, parts, { certificate: c.id,
      daysLeft: String((c.status || {}).days_left) }));
  }
  box.appendChild(ul);
}

let siteOrigin = null; // the described tab's https origin, or null

// The site's standing: who allows it, and which of the two buttons fits.
function showStanding(msg) {
  const allow = $('allow');
  const forbid = $('forbid');
  allow.hidden = true;
  forbid.hidden = true;
  if (!siteOrigin) return;
  if (msg.unknown) {
    line('standing', ui.t('popupSiteUnknown'), 'muted');
  } else if (msg.by === 'admin') {
    line('standing', ui.t('popupSiteAllowedAdmin'), 'ok');
  } else if (msg.by === 'user') {
    line('standing', ui.t('popupSiteAllowedUser'), 'ok');
    forbid.hidden = Boolean(msg.locked);
  } else {
    const text = ui.t('popupSiteForbidden') + (msg.locked ? ` ${ui.t('popupSiteLocked')}` : '');
    line('standing', text, 'bad');
    allow.hidden = Boolean(msg.locked);
  }
  $('standing').dataset.standing = msg.unknown ? 'unknown' : msg.by || 'forbidden';
}

// The answer to an allow or forbid click.
function showChanged(msg) {
  if (!msg.ok) {
    line('standing', ui.t('popupChangeFailed', ui.errorText(msg.error)), 'bad');
    return;
  }
  showStanding(msg);
  $('standing').textContent += ` ${ui.t('popupReload')}`;
}

// Asks the browser for the site's host permission (needs this click), then the agent to allow it.
function allowSite() {
  if (!siteOrigin) return;
  const request = { origins: [`${siteOrigin}/*`] };
  const ask = chrome.permissions && chrome.permissions.request
    ? chrome.permissions.request(request) : Promise.resolve(true);
  Promise.resolve(ask).then((granted) => {
    if (!granted) {
      line('standing', ui.t('popupNoPermission'), 'bad');
      return;
    }
    line('standing', ui.t('popupChanging'), 'muted');
    port.postMessage({ type: 'allow', origin: siteOrigin });
  }, () => line('standing', ui.t('popupNoPermission'), 'bad'));
}

// Takes the site off the user's list.
function forbidSite() {
  if (!siteOrigin) return;
  line('standing', ui.t('popupChanging'), 'muted');
  port.postMessage({ type: 'forbid', origin: siteOrigin });
}

ui.translatePage();
$('allow').addEventListener('click', allowSite);
$('forbid').addEventListener('click', forbidSite);

const port = chrome.runtime.connect({ name: 'gostsign-popup' });
port.onMessage.addListener((msg) => {
  if (msg.type === 'site') {
    siteOrigin = msg.origin && msg.secure && msg.origin.startsWith('https://') ? msg.origin : null;
    line('site', msg.origin ? ui.t('popupSite', msg.origin) : ui.t('popupSiteNone'), 'muted');
    $('site').dataset.origin = msg.origin || '';
    if (!siteOrigin) line('standing', msg.origin ? ui.t('popupSiteNotWeb') : '', 'muted');
  } else if (msg.type === 'agent') {
    showAgent(msg);
  } else if (msg.type === 'tokens') {
    showTokens(msg);
  } else if (msg.type === 'certificates') {
    showCertificates(msg);
  } else if (msg.type === 'origins') {
    showStanding(msg);
  } else if (msg.type === 'allowed' || msg.type === 'forbidden') {
    showChanged(msg);
  }
});
port.postMessage({ type: 'status', tab: namedTab() });
