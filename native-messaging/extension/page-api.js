// gostsign page API, injected into the page's own world at document start:
//   await gostsign.hello()                         -> {agent, version, protocol, capabilities}
//   await gostsign.tokens()                        -> [token, ...]
//   await gostsign.certificates()                  -> [certificate, ...]
//   await gostsign.sign({certificate, data | digest, detached, document, onProgress, signal})
//   await gostsign.authenticate({challenge, certificate, onProgress, signal})
// Failures reject with gostsign.GostsignError (code, number, message, message_ru, fix, detail).
// onProgress receives {event, data} ("pin-requested", "signing"); an AbortSignal cancels.
// Without `certificate` and with several usable ones, the user picks one in the extension's own
// window; the page then gets the result made with it, or USER_CANCELLED.
// The PIN is never asked here: the gostsign agent shows its own dialog.
'use strict';

(() => {
  if (window.gostsign) return;

  // Error with the agent's stable code and texts in English and Russian.
  class GostsignError extends Error {
    constructor(error) {
      super((error && error.message) || 'gostsign error');
      this.name = 'GostsignError';
      this.code = (error && error.code) || 'INTERNAL';
      this.number = error && error.number;
      this.message_ru = (error && error.message_ru) || this.message;
      this.fix = error && error.fix;
      this.detail = error && error.detail;
    }
  }

  const pending = new Map();
  let nextId = 1;

  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (event.source !== window || !msg || msg.__gostsign !== 'response') return;
    const p = pending.get(msg.id);
    if (!p) return;
    if ('event' in msg) {
      if (p.onProgress) {
        try {
          p.onProgress({ event: msg.event, data: msg.data });
        } catch (e) {
          /* a failing callback must not break the request */
        }
      }
      return;
    }
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new GostsignError(msg.error));
  });

  // Sends one request through the content script; resolves with its result.
  function call(cmd, args, onProgress, signal) {
    return new Promise((resolve, reject) => {
      if (!window.isSecureContext) {
        reject(new GostsignError({ code: 'ORIGIN_NOT_ALLOWED',
          message: 'This site is not allowed to request signatures',
          message_ru: 'Этому сайту не разрешено запрашивать подпись',
          detail: 'the page is not a secure context (https)' }));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject, onProgress });
      if (signal) {
        if (signal.aborted) {
          pending.delete(id);
          reject(new GostsignError({ code: 'CANCELLED', message: 'Request was cancelled',
            message_ru: 'Запрос отменён' }));
          return;
        }
        signal.addEventListener('abort', () => {
          window.postMessage({ __gostsign: 'request', type: 'cancel', id }, window.location.origin);
        }, { once: true });
      }
      window.postMessage({ __gostsign: 'request', id, cmd, args }, window.location.origin);
    });
  }

  // base64 of a string (UTF-8), ArrayBuffer or typed array.
  function toBase64(data) {
    let bytes;
    if (typeof data === 'string') bytes = new TextEncoder().encode(data);
    else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else throw new GostsignError({ code: 'BAD_REQUEST', message: 'data must be a string or bytes',
      message_ru: 'data должно быть строкой или байтами' });
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  // Copies the protocol fields of options, leaving out callbacks and signals.
  function pick(options, names) {
    const out = {};
    for (const n of names) if (options && options[n] !== undefined) out[n] = options[n];
    return out;
  }

  const api = {
    protocol: 1,
    GostsignError,
    hello: () => call('hello'),
    tokens: () => call('tokens'),
    certificates: () => call('certificates'),
    sign(options) {
      const o = options || {};
      const args = pick(o, ['certificate', 'digest', 'detached', 'document']);
      try {
        if (o.data !== undefined) args.data = toBase64(o.data);
      } catch (e) {
        return Promise.reject(e);
      }
      return call('sign', args, o.onProgress, o.signal);
    },
    authenticate(options) {
      const o = options || {};
      return call('authenticate', pick(o, ['challenge', 'certificate']), o.onProgress, o.signal);
    },
  };
  Object.defineProperty(window, 'gostsign', { value: Object.freeze(api), enumerable: true });
  window.dispatchEvent(new Event('gostsign-ready'));
})();
