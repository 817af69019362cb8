// gostsign compatibility adapters, common part (page world, allowed origins only). The adapters
// for the page APIs of other signing plugins (cryptopro.js, gosplugin.js, ifcplugin.js) share this
// kit: the request bridge to the content script (content.js), the agent's hello, certificates and
// signing, texts for the agent's error codes, base64/hex helpers and GOST R 34.11-2012 (Streebog),
// which WebCrypto lacks. The kit lives on a hidden window property only while the adapter files
// run; end.js removes it. The PIN is never asked here: the agent shows its own dialog.
'use strict';

(() => {
  if (window.__gostsignAdapterKit) return;

  // Requests leave through the content script with ids that never collide with page-api.js's.
  const pending = new Map();
  let nextId = 1;

  // Error carrying the agent's stable code and texts (the adapters translate it per API).
  class AgentError extends Error {
    constructor(error) {
      super((error && error.message_ru) || (error && error.message) || 'Ошибка gostsign');
      this.name = 'AgentError';
      this.code = (error && error.code) || 'INTERNAL';
      this.number = error && error.number;
      this.message_en = (error && error.message) || '';
      this.fix = error && error.fix;
      this.detail = error && error.detail;
    }
  }

  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (event.source !== window || !msg || msg.__gostsign !== 'response') return;
    const p = pending.get(msg.id);
    if (!p) return;
    if ('event' in msg) {
      if (p.onProgress) {
        try {
          p.onProgress(msg.event, msg.data);
        } catch (e) {
          /* a failing callback must not break the request */
        }
      }
      return;
    }
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new AgentError(msg.error));
  });

  // Sends one request to the agent through the content script; resolves with its result.
  function call(cmd, args, onProgress) {
    return new Promise((resolve, reject) => {
      const id = `gostsign-adapter-${nextId++}`;
      pending.set(id, { resolve, reject, onProgress });
      window.postMessage({ __gostsign: 'request', id, cmd, args: args || {} }, window.location.origin);
    });
  }

  let helloPromise = null;
  // Waits between hello attempts while the host or the agent is still starting (browser start,
  // an agent started on demand or by socket activation), as a plug-in's loader waits for its
  // host: about 4 s in all, then the page learns the plug-in is unavailable.
  const HELLO_RETRY_DELAYS_MS = [250, 500, 1000, 2000];
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // One hello, asked again only when the agent could not be reached (never after any other error).
  async function helloWithRetries() {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call('hello');
      } catch (e) {
        const retry = e instanceof AgentError && e.code === 'AGENT_UNAVAILABLE'
          && attempt < HELLO_RETRY_DELAYS_MS.length;
        if (!retry) throw e;
        await pause(HELLO_RETRY_DELAYS_MS[attempt]);
      }
    }
  }

  // The agent's hello, asked once per page (capabilities decide which protocol fields to send).
  function hello() {
    if (!helloPromise) {
      helloPromise = helloWithRetries().catch((e) => {
        helloPromise = null;
        throw e;
      });
    }
    return helloPromise;
  }

  // True when the agent speaks protocol version 2 (sign options, sign_raw, verify, der).
  async function hasV2(capability) {
    const h = await hello();
    if (!(h.protocol >= 2)) return false;
    return !capability || (Array.isArray(h.capabilities) && h.capabilities.includes(capability));
  }

  let certsCache = null;
  // The certificates with a private key on present tokens; one agent round trip per second at most.
  function certificates() {
    const now = Date.now();
    if (!certsCache || now - certsCache.at > 1000) {
      certsCache = { at: now, list: call('certificates') };
      certsCache.list.catch(() => {
        certsCache = null;
      });
    }
    return certsCache.list;
  }

  // The v2 fields of a sign request (api, signing_time, include_chain) when the agent knows them.
  async function withOptions(args, api, options) {
    const o = options || {};
    if (!(await hasV2())) return args;
    const out = Object.assign({}, args, { api });
    if (o.signingTime !== undefined) out.signing_time = o.signingTime;
    if (o.includeChain) out.include_chain = true;
    return out;
  }

  const CHUNK = 512 * 1024; // base64 characters per frame of a chunked upload

  // Signs bytes as CMS for an adapter: small data in one request, large data as a chunked upload.
  async function signData(api, bytes, options, onProgress) {
    const o = options || {};
    const base = {};
    if (o.certificate) base.certificate = o.certificate;
    base.detached = o.detached !== false;
    if (o.document) base.document = o.document;
    const b64 = toBase64(bytes);
    if (b64.length <= CHUNK || o.cosign) {
      const args = await withOptions(Object.assign(base, { data: b64 }), api, o);
      if (o.cosign) args.cosign = o.cosign;
      return call('sign', args, onProgress);
    }
    // One request id carries every chunk; the agent answers once, after the last. Every frame
    // repeats the options: the first fixes certificate and detached, the last is signed with.
    // The next frame leaves only after the agent took the one before (its chunk-accepted event):
    // the agent handles each frame in its own worker and would otherwise race them.
    const args = await withOptions(base, api, o);
    return new Promise((resolve, reject) => {
      const id = `gostsign-adapter-${nextId++}`;
      let offset = 0;
      const sendNext = () => {
        const frame = Object.assign({}, args);
        frame.chunk = b64.slice(offset, offset + CHUNK);
        offset += CHUNK;
        frame.more = offset < b64.length;
        window.postMessage({ __gostsign: 'request', id, cmd: 'sign', args: frame }, window.location.origin);
      };
      pending.set(id, {
        resolve,
        reject,
        onProgress: (event, data) => {
          if (event === 'chunk-accepted' && offset < b64.length) sendNext();
          if (onProgress) onProgress(event, data);
        },
      });
      sendNext();
    });
  }

  // Signs a precomputed Streebog digest (hex, memory order as `openssl dgst` prints it).
  async function signDigest(api, digestHex, options, onProgress) {
    const o = options || {};
    const args = { digest: digestHex, detached: true };
    if (o.certificate) args.certificate = o.certificate;
    if (o.document) args.document = o.document;
    return call('sign', await withOptions(args, api, o), onProgress);
  }

  // Bytes of a string (UTF-8), ArrayBuffer or typed array.
  function toBytes(data) {
    if (typeof data === 'string') return new TextEncoder().encode(data);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new TypeError('data must be a string or bytes');
  }

  // base64 of bytes.
  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  // Bytes of base64 text (white space allowed, as sites often wrap it); null when it is not base64.
  function fromBase64(text) {
    try {
      const s = atob(String(text).replace(/\s+/g, ''));
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    } catch (e) {
      return null;
    }
  }

  // Lower-case hex of bytes.
  function toHex(bytes) {
    let s = '';
    for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
    return s;
  }

  // Bytes of hex text; null when it is not hex of whole bytes.
  function fromHex(text) {
    const s = String(text).replace(/\s+/g, '');
    if (s.length % 2 || /[^0-9a-fA-F]/.test(s)) return null;
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
    return out;
  }

  // GOST R 34.11-2012 (RFC 6986 section 6): the substitution pi, the rows of the matrix A
  // (row 0 acts on the most significant bit of a 64-bit word) and the round constants C1..C12
  // as bytes in memory order (the RFC prints them most significant byte first).
  const PI = [
    252, 238, 221, 17, 207, 110, 49, 22, 251, 196, 250, 218, 35, 197, 4, 77, 233, 119, 240, 219,
    147, 46, 153, 186, 23, 54, 241, 187, 20, 205, 95, 193, 249, 24, 101, 90, 226, 92, 239, 33,
    129, 28, 60, 66, 139, 1, 142, 79, 5, 132, 2, 174, 227, 106, 143, 160, 6, 11, 237, 152, 127,
    212, 211, 31, 235, 52, 44, 81, 234, 200, 72, 171, 242, 42, 104, 162, 253, 58, 206, 204, 181,
    112, 14, 86, 8, 12, 118, 18, 191, 114, 19, 71, 156, 183, 93, 135, 21, 161, 150, 41, 16, 123,
    154, 199, 243, 145, 120, 111, 157, 158, 178, 177, 50, 117, 25, 61, 255, 53, 138, 126, 109, 84,
    198, 128, 195, 189, 13, 87, 223, 245, 36, 169, 62, 168, 67, 201, 215, 121, 214, 246, 124, 34,
    185, 3, 224, 15, 236, 222, 122, 148, 176, 188, 220, 232, 40, 80, 78, 51, 10, 74, 167, 151, 96,
    115, 30, 0, 98, 68, 26, 184, 56, 130, 100, 159, 38, 65, 173, 69, 70, 146, 39, 94, 85, 47, 140,
    163, 165, 125, 105, 213, 149, 59, 7, 88, 179, 64, 134, 172, 29, 247, 48, 55, 107, 228, 136,
    217, 231, 137, 225, 27, 131, 73, 76, 63, 248, 254, 141, 83, 170, 144, 202, 216, 133, 97, 32,
    113, 103, 164, 45, 43, 9, 91, 203, 155, 37, 208, 190, 229, 108, 82, 89, 166, 116, 210, 230,
    244, 180, 192, 209, 102, 175, 194, 57, 75, 99, 182
  ];
  const A = [
    '8e20faa72ba0b470', '47107ddd9b505a38', 'ad08b0e0c3282d1c', 'd8045870ef14980e',
    '6c022c38f90a4c07', '3601161cf205268d', '1b8e0b0e798c13c8', '83478b07b2468764',
    'a011d380818e8f40', '5086e740ce47c920', '2843fd2067adea10', '14aff010bdd87508',
    '0ad97808d06cb404', '05e23c0468365a02', '8c711e02341b2d01', '46b60f011a83988e',
    '90dab52a387ae76f', '486dd4151c3dfdb9', '24b86a840e90f0d2', '125c354207487869',
    '092e94218d243cba', '8a174a9ec8121e5d', '4585254f64090fa0', 'accc9ca9328a8950',
    '9d4df05d5f661451', 'c0a878a0a1330aa6', '60543c50de970553', '302a1e286fc58ca7',
    '18150f14b9ec46dd', '0c84890ad27623e0', '0642ca05693b9f70', '0321658cba93c138',
    '86275df09ce8aaa8', '439da0784e745554', 'afc0503c273aa42a', 'd960281e9d1d5215',
    'e230140fc0802984', '71180a8960409a42', 'b60c05ca30204d21', '5b068c651810a89e',
    '456c34887a3805b9', 'ac361a443d1c8cd2', '561b0d22900e4669', '2b838811480723ba',
    '9bcf4486248d9f5d', 'c3e9224312c8c1a0', 'effa11af0964ee50', 'f97d86d98a327728',
    'e4fa2054a80b329c', '727d102a548b194e', '39b008152acb8227', '9258048415eb419d',
    '492c024284fbaec0', 'aa16012142f35760', '550b8e9e21f7a530', 'a48b474f9ef5dc18',
    '70a6a56e2440598e', '3853dc371220a247', '1ca76e95091051ad', '0edd37c48a08a6d8',
    '07e095624504536c', '8d70c431ac02a736', 'c83862965601dd1b', '641c314b2b8ee083',
  ];
  const C = [
    '0745a6f2596580dd234d74cc3674760515d360a4082a42a20169679291e07c4b'
      + 'fcc485758db84e7116d0452e43766a2f1f7c65c0812fcbebe9daca1eda5b08b1',
    'b79bb121700479e656cdcbd71ba2dd55caa70adbc261b55c5899d6126b17b59a'
      + '3101b5160f5ed561982b230a72eafef3d7b5700f469de34f1a2f9da98ab5a36f',
    'b20aba0af5961e9931db7a8643f4b6c209db6260373ac9c1b19e3590e40fe2d3'
      + '7b7b29b11475eaf28b1f9c525f5ef10635843d6a28fc390ac72fce2bacdc74f5',
    '2ed1e384bcbe0c22f137e893a1ea5334be0352933313b7d875d603ed822cd7a9'
      + '3f355e68ad1c729d7d3c5c337e858e48dde4715da0e148f9d26615e8b3df1fef',
    '57fe6c7cfd581760f563eaa97ea2567a161a2723b700ffdfa3f53a254717cdbf'
      + 'bdff0f80d7359e354a1086161f1c157f6323a96c0c413f9a994747adac6bea4b',
    '6e7d64467a4068fa354f903672c571bfb6c6bec2661ff20ab4b79a1cb7a6facf'
      + 'c68ef09ab49a7f186ca44251f9c4662dc039307a3bc3a46fd9d33a1daeae4fae',
    '93d4143a4d568688f34a3ca24c45173504054a2883694706372c822dc5ab9209'
      + 'c9937a19333e47d3c987bfe6c7c69e39540924bffe86ac51ecc5aaee160ec7f4',
    '1ee702bfd40d7fa4d9a8515935c2ac362fc4a5d12b8dd16990069b92cb2b89f4'
      + '9ac4db4d3b44b4891ede369c71f8b74e41416e0c02aae703a7c9934d425b1f9b',
    'db5a238351446172602a1fcb92dc380e549c07a69a8a2b7bb1ceb2db0b440a80'
      + '84090de0b755d93c244289251b3a7d3ade5f16ecd89a4c949b223116545a8f37',
    'ed9c4598fbc7b474c3b63b15d1fa9836f452763b306c1e7a4b3369af0267e79f'
      + '0361331b8ae1ff1fdb788aff1ce74189f3f3e4b248e52a38526f0580a6debeab',
    '1b2df381cda4ca6b5dd86fc04a59a2de986e477d1dcdbaefcab948eaef711d8a'
      + '79668414218001206107abebbb6bfad894fe5a63cdc60230fb89c8efd09ecd7b',
    '20d71bf14a92bc48991bb2d9d517f4fa5228e188aaa41de786cc91189def805d'
      + '9b9f2130d41220f8771ddfbc323ca4cd7ab14904b08013d2ba3116f167e78e37',
  ];

  // The combined S, P and L steps as eight tables of 256 64-bit words (low and high halves):
  // T[m][b] = L(pi(b) placed in byte m of a word), so LPS is 64 table lookups.
  const TLO = new Uint32Array(2048);
  const THI = new Uint32Array(2048);
  (() => {
    const alo = A.map((h) => parseInt(h.slice(8), 16));
    const ahi = A.map((h) => parseInt(h.slice(0, 8), 16));
    for (let m = 0; m < 8; m++) {
      for (let b = 0; b < 256; b++) {
        let lo = 0;
        let hi = 0;
        for (let q = 0; q < 8; q++) {
          if ((PI[b] >> q) & 1) {
            const row = 63 - (8 * m + q);
            lo ^= alo[row];
            hi ^= ahi[row];
          }
        }
        TLO[m * 256 + b] = lo >>> 0;
        THI[m * 256 + b] = hi >>> 0;
      }
    }
  })();
  // The round constants as 512-bit states (16 32-bit words, least significant first).
  const CW = C.map((hex) => words(fromHex(hex), 0));

  // A 64-byte block of bytes (from offset) as 16 little-endian 32-bit words.
  function words(bytes, offset) {
    const w = new Uint32Array(16);
    for (let i = 0; i < 16; i++) {
      const o = offset + 4 * i;
      w[i] = (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
    }
    return w;
  }

  // a XOR b of two states.
  function xor(a, b) {
    const r = new Uint32Array(16);
    for (let i = 0; i < 16; i++) r[i] = a[i] ^ b[i];
    return r;
  }

  // The LPS transformation of a state.
  function lps(x) {
    const r = new Uint32Array(16);
    for (let k = 0; k < 8; k++) {
      const half = k < 4 ? 0 : 1;
      const shift = 8 * (k & 3);
      let lo = 0;
      let hi = 0;
      for (let m = 0; m < 8; m++) {
        const idx = m * 256 + ((x[2 * m + half] >>> shift) & 255);
        lo ^= TLO[idx];
        hi ^= THI[idx];
      }
      r[2 * k] = lo;
      r[2 * k + 1] = hi;
    }
    return r;
  }

  // The compression function g_N(h, m).
  function compress(n, h, m) {
    let k = lps(xor(h, n));
    let s = m;
    for (let i = 0; i < 12; i++) {
      s = lps(xor(s, k));
      k = lps(xor(k, CW[i]));
    }
    return xor(xor(xor(s, k), h), m);
  }

  // a + b modulo 2^512 (in place into a).
  function add(a, b) {
    let carry = 0;
    for (let i = 0; i < 16; i++) {
      const s = a[i] + b[i] + carry;
      a[i] = s >>> 0;
      carry = s > 0xffffffff ? 1 : 0;
    }
  }

  // GOST R 34.11-2012 of bytes, 256 or 512 bits, in memory order (as `openssl dgst` prints it).
  function streebog(bytes, bits) {
    let h = new Uint32Array(16).fill(bits === 256 ? 0x01010101 : 0);
    const n = new Uint32Array(16);
    const sigma = new Uint32Array(16);
    const zero = new Uint32Array(16);
    const blockBits = new Uint32Array(16);
    blockBits[0] = 512;
    let off = 0;
    for (; bytes.length - off >= 64; off += 64) {
      const m = words(bytes, off);
      h = compress(n, h, m);
      add(n, blockBits);
      add(sigma, m);
    }
    const last = new Uint8Array(64);
    last.set(bytes.subarray(off));
    last[bytes.length - off] = 1;
    const m = words(last, 0);
    h = compress(n, h, m);
    const tail = new Uint32Array(16);
    tail[0] = (bytes.length - off) * 8;
    add(n, tail);
    add(sigma, m);
    h = compress(zero, h, n);
    h = compress(zero, h, sigma);
    const out = new Uint8Array(64);
    for (let i = 0; i < 16; i++) {
      out[4 * i] = h[i] & 255;
      out[4 * i + 1] = (h[i] >>> 8) & 255;
      out[4 * i + 2] = (h[i] >>> 16) & 255;
      out[4 * i + 3] = (h[i] >>> 24) & 255;
    }
    return bits === 256 ? out.slice(32) : out;
  }

  // Calls fn once the element that get() returns exists (document.head or .body are created by
  // the parser after document_start); fn receives the element.
  function whenElement(get, fn) {
    const now = get();
    if (now) {
      fn(now);
      return;
    }
    const observer = new MutationObserver(() => {
      const el = get();
      if (el) {
        observer.disconnect();
        fn(el);
      }
    });
    observer.observe(document, { childList: true, subtree: true });
  }

  // The certificate of an agent certificates entry with this SHA-1 id, or null.
  async function findCertificate(id) {
    const want = String(id || '').replace(/\s+/g, '').toLowerCase();
    const list = await certificates();
    return list.find((c) => String(c.id).toLowerCase() === want) || null;
  }

  const kit = {
    AgentError, call, hello, hasV2, certificates, findCertificate, signData, signDigest,
    toBytes, toBase64, fromBase64, toHex, fromHex, streebog, whenElement,
  };
  Object.defineProperty(window, '__gostsignAdapterKit', { value: kit, configurable: true });
})();
