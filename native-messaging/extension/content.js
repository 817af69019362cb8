// gostsign extension, content script (isolated world): the bridge between the page API
// (page-api.js, in the page's own world) and the extension's background. It carries only
// {id, cmd, args} from the page; the background takes the origin from the sender tab itself.
'use strict';

(() => {
  let port = null;

  // Posts a message to the page API of this window.
  function toPage(msg) {
    window.postMessage(Object.assign({ __gostsign: 'response' }, msg), window.location.origin);
  }

  // The port to the background, opened on the first request (and again after a restart).
  function background() {
    if (!port) {
      port = chrome.runtime.connect({ name: 'gostsign-page' });
      port.onMessage.addListener(toPage);
      port.onDisconnect.addListener(() => {
        port = null;
      });
    }
    return port;
  }

  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (event.source !== window || !msg || msg.__gostsign !== 'request') return;
    if (!window.isSecureContext) {
      toPage({ id: msg.id, ok: false, error: { code: 'ORIGIN_NOT_ALLOWED', number: 64,
        message: 'This site is not allowed to request signatures',
        message_ru: 'Этому сайту не разрешено запрашивать подпись',
        detail: 'the page is not a secure context (https)' } });
      return;
    }
    if (msg.type === 'cancel') background().postMessage({ type: 'cancel', id: msg.id });
    else background().postMessage({ type: 'request', id: msg.id, cmd: msg.cmd, args: msg.args });
  });
})();
