// gostsign extension pages (popup, certificate chooser): the shared bits of their user interface.
// Texts come from _locales through chrome.i18n (Russian and English; the browser's language picks
// one), and the agent's own error texts follow the same language.
'use strict';

const ui = {
  // One text of _locales in the browser's language, with $1.. filled in.
  t(key, ...subs) {
    return chrome.i18n.getMessage(key, subs.map((s) => String(s))) || key;
  },

  // True when the extension speaks Russian now (its message table says which one it uses).
  russian() {
    return chrome.i18n.getMessage('lang') === 'ru';
  },

  // An agent error object's message in the extension's language.
  errorText(error) {
    if (!error) return '';
    return (ui.russian() ? error.message_ru : error.message) || error.message || error.code || '';
  },

  // A date of an ISO 8601 text as the browser's language writes it.
  date(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleDateString(chrome.i18n.getUILanguage());
  },

  // A moment of an ISO 8601 text as date and time in the browser's language.
  dateTime(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(chrome.i18n.getUILanguage());
  },

  // Fills every element that names a text with data-i18n, and the document's language.
  translatePage() {
    document.documentElement.lang = ui.russian() ? 'ru' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = ui.t(el.dataset.i18n);
  },

  // A new element with a class and text.
  el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  },

  // The INN / OGRN / SNILS the certificate has, with their names ("ИНН 7707083893, ОГРН ...").
  identifiers(ids) {
    const names = { inn: 'idInn', innle: 'idInnle', ogrn: 'idOgrn', ogrnip: 'idOgrnip', snils: 'idSnils' };
    return Object.keys(names).filter((k) => ids && ids[k]).map((k) => `${ui.t(names[k])} ${ids[k]}`).join(', ');
  },

  // Days left, expired or not yet valid, and the qualified verdict of a certificate summary.
  certificateState(c) {
    const st = c.status || {};
    const parts = [];
    if (st.code === 'CERT_EXPIRED') parts.push([ui.t('certExpired'), 'bad']);
    else if (st.code === 'CERT_NOT_YET_VALID') parts.push([ui.t('certNotYetValid'), 'bad']);
    else if (typeof st.days_left === 'number') parts.push([ui.t('certDaysLeft', st.days_left), st.days_left < 30 ? 'warn' : 'ok']);
    if (!st.usable && st.problems && st.problems.length && !/^CERT_(EXPIRED|NOT_YET_VALID)$/.test(st.code)) {
      parts.push([ui.t('certUnusable', ui.errorText(st.problems[0])), 'bad']);
    }
    if (st.qualified) parts.push([ui.t('certQualified'), 'ok']);
    else {
      const why = ui.russian() ? st.qualified_message_ru : st.qualified_message;
      parts.push([why ? `${ui.t('certNotQualified')} (${why})` : ui.t('certNotQualified'), 'muted']);
    }
    return parts;
  },
};
