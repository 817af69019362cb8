// gostsign compatibility adapter: the page protocol of IFCPlugin (the older Gosuslugi plugin, still
// used by the ESIA login): the marker elements #ifcplugin-extension-is-installed and
// #ifc-plugin-is-installed, JSON-string messages TO_IFC_EXT / FROM_IFC_EXT with one request in
// flight, and the func_names a login uses, answered by the gostsign agent. The PIN a page passes
// (userPin) is ignored: the agent asks for it in its own dialog. Page world, allowed origins only;
// stands down when IFCPlugin's own extension marks the page too.
'use strict';

(() => {
  const kit = window.__gostsignAdapterKit;
  const MARKERS = ['ifcplugin-extension-is-installed', 'ifc-plugin-is-installed'];
  if (!kit || MARKERS.some((id) => document.getElementById(id))) return;
  const API = 'gosuslugi';
  const VERSION = '3.2.0';

  // IFCPlugin's error codes (IFCError) the adapter answers with.
  const IFC = {
    OK: 0, GENERAL: -1, UNKNOWN: 0x01, BAD_PARAMS: 0x05, CERT_NOT_FOUND: 0x09,
    CONTAINER_NOT_FOUND: 0x0a, UNSUPPORTED_FORMAT: 0x0b, KEY_NOT_FOUND: 0x0c, BAD_IN_TYPE: 0x0d,
    BAD_SIGN_TYPE: 0x0e, NOT_SUPPORTED: 0x11, ERROR_VERIFY: 0x13, ERROR_BASE64: 0x14,
    P11_ERROR: 0x17, NO_TOKENS: 0x19, LOGIN_ERROR: 0xa0, CRYPTO_NOT_FOUND: 0xa4,
  };
  // Agent codes and the IFCPlugin code each becomes.
  const FROM_AGENT = {
    PIN_INCORRECT: IFC.LOGIN_ERROR, PIN_EMPTY: IFC.LOGIN_ERROR, PIN_LOCKED: IFC.P11_ERROR,
    PIN_LIMITER: IFC.P11_ERROR, CERT_NOT_FOUND: IFC.CERT_NOT_FOUND, KEY_NOT_FOUND: IFC.KEY_NOT_FOUND,
    TOKEN_NOT_FOUND: IFC.NO_TOKENS, TOKEN_REMOVED: IFC.NO_TOKENS, BAD_REQUEST: IFC.BAD_PARAMS,
    CMS_PARSE: IFC.ERROR_VERIFY, CMS_BAD_SIGNATURE: IFC.ERROR_VERIFY, HASH_SIGN_NOT_ALLOWED: IFC.NOT_SUPPORTED,
    ORIGIN_NOT_ALLOWED: IFC.NOT_SUPPORTED, PKCS11_ERROR: IFC.P11_ERROR, CANCELLED: IFC.GENERAL,
    USER_CANCELLED: IFC.GENERAL, TIMEOUT: IFC.GENERAL,
  };
  const DATA = 1;
  const DATA_B64 = 2;
  const HASH = 3;
  const HASH_B64 = 4;
  const SIMPLE = 1;
  const SIMPLE_REVERSE = 2;
  const CMS_ATTACHED = 3;
  const CADES_ATTACHED = 5;

  const ours = [];
  let standingDown = false;

  // Adds the two marker elements to <body> as soon as the parser creates it.
  kit.whenElement(() => document.body, (body) => {
    if (MARKERS.some((id) => document.getElementById(id))) {
      standingDown = true;
      return;
    }
    for (const id of MARKERS) {
      const el = document.createElement('div');
      el.id = id;
      el.style.display = 'none';
      body.appendChild(el);
      ours.push(el);
    }
    const ev = document.createEvent('Event');
    ev.initEvent('updatePluginStatus', true, true);
    document.dispatchEvent(ev);
  });

  // True when IFCPlugin's own extension added its markers too: then only it answers.
  function otherExtensionPresent() {
    return MARKERS.some((id) => Array.from(document.querySelectorAll(`[id="${id}"]`)).some((el) => !ours.includes(el)));
  }

  // A failed reply: the IFCPlugin code plus gostsign's code and Russian text for people.
  function failure(code, text, agentCode) {
    const out = { error_code: code, error_text: text || '' };
    if (agentCode) out.gostsign_code = agentCode;
    return out;
  }

  // The failed reply for an agent error.
  function fromAgent(e) {
    if (e && e.ifcReply) return e.ifcReply;
    if (e instanceof kit.AgentError) return failure(FROM_AGENT[e.code] || IFC.UNKNOWN, e.message, e.code);
    return failure(IFC.GENERAL, (e && e.message) || String(e));
  }

  // An exception carrying a finished failed reply.
  function ifcError(code, text) {
    const e = new Error(text);
    e.ifcReply = failure(code, text);
    return e;
  }

  // The IFCPlugin alias of a token, after the vendor (Rutoken, JaCarta, ESMART) where known.
  function aliasOf(t) {
    const s = `${t.manufacturer} ${t.model} ${t.label}`.toLowerCase();
    if (s.includes('rutoken')) return 'ruTokenECP';
    if (s.includes('jacarta')) return 'JaCarta';
    if (s.includes('esmart')) return 'ESMART';
    return 'gostsign';
  }

  let devices = []; // [{cryptoId, token, entry}] from the last get_list_info

  // The device list (get_list_info entries) from the agent's tokens; cryptoId = alias/num.
  async function listDevices() {
    const tokens = await kit.call('tokens');
    devices = tokens.map((t, i) => {
      const alias = aliasOf(t);
      const num = String(i);
      return {
        cryptoId: `${alias}/${num}`,
        token: t,
        entry: {
          alias, name: t.label, type: 'pkcs11', num, path: t.module || '', description: `${t.manufacturer} ${t.model}`,
          serial_number: t.serial, model: t.model, alg: 'gost2012', crypto_id: `${alias}/${num}`,
        },
      };
    });
    return devices;
  }

  // The device of a cryptoId (listing the tokens again when it is not known yet).
  async function deviceOf(cryptoId) {
    let d = devices.find((x) => x.cryptoId === cryptoId);
    if (!d) d = (await listDevices()).find((x) => x.cryptoId === cryptoId);
    return d || null;
  }

  // A DN as IFCPlugin prints it: one OID=value per line.
  function dnLines(n) {
    const oids = [['cn', '2.5.4.3'], ['sn', '2.5.4.4'], ['g', '2.5.4.42'], ['t', '2.5.4.12'],
      ['o', '2.5.4.10'], ['ou', '2.5.4.11'], ['street', '2.5.4.9'], ['l', '2.5.4.7'], ['st', '2.5.4.8'],
      ['c', '2.5.4.6'], ['e', '1.2.840.113549.1.9.1'], ['inn', '1.2.643.3.131.1.1'],
      ['innle', '1.2.643.100.4'], ['ogrn', '1.2.643.100.1'], ['ogrnip', '1.2.643.100.5'],
      ['snils', '1.2.643.100.3']];
    return oids.filter(([k]) => n && n[k]).map(([k, oid]) => `${oid}=${String(n[k]).replace(/,/g, '\\,')}`).join('\n');
  }

  // A certificate entry (cert_list item) for an agent certificate; id is its SHA-1 thumbprint.
  function certEntry(c) {
    return {
      cert_sn: String(c.serial || '').toUpperCase(),
      cert_subject: dnLines(c.subject),
      cert_issuer: dnLines(c.issuer),
      cert_valid_from: c.validity.not_before,
      cert_valid_to: c.validity.not_after,
      cert_sign_alg: (c.key && c.key.algorithm_oid) || '',
      id: String(c.id).toUpperCase(),
    };
  }

  // The certificates on one device.
  async function certsOf(device) {
    return (await kit.certificates()).filter((c) => c.token === device.token.id);
  }

  // The agent certificate behind a containerId (cryptoId/id), or a failure.
  async function certOfContainer(containerId) {
    const s = String(containerId || '');
    const cut = s.lastIndexOf('/');
    const device = await deviceOf(s.slice(0, cut));
    if (!device) throw ifcError(IFC.CRYPTO_NOT_FOUND, 'СКЗИ не найдено');
    const c = (await certsOf(device)).find((x) => String(x.id).toLowerCase() === s.slice(cut + 1).toLowerCase());
    if (!c) throw ifcError(IFC.CONTAINER_NOT_FOUND, 'Контейнер не найден');
    return c;
  }

  const handles = new Map(); // x509Handle -> agent certificate
  let nextHandle = 1;

  // The cert_info of get_x509_info.
  function certInfo(c) {
    const pem = c.der ? `-----BEGIN CERTIFICATE-----\n${c.der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n` : '';
    return Object.assign(certEntry(c), { base64: c.der || '', pem, version: String(c.version || 3), extensions: '' });
  }

  // The bytes a sign or hash request gives, by inDataType (text as UTF-8: the ESIA login signs the
  // ASCII of its hex challenge this way).
  function inputBytes(type, data) {
    if (type === DATA || type === HASH) {
      if (type === HASH) {
        const hex = kit.fromHex(data);
        if (hex) return hex;
      }
      return new TextEncoder().encode(String(data === undefined ? '' : data));
    }
    if (type === DATA_B64 || type === HASH_B64) {
      const b = kit.fromBase64(data);
      if (!b) throw ifcError(IFC.ERROR_BASE64, 'Ошибка декодирования base64');
      return b;
    }
    throw ifcError(IFC.BAD_IN_TYPE, 'Неверный тип входных данных');
  }

  // sign: CMS (attached, detached, CAdES-BES) over data or a hash, or a bare signature (SIMPLE).
  async function sign(p) {
    const c = await certOfContainer(p.containerId);
    const inType = Number(p.inDataType);
    const signType = Number(p.signType);
    const isHash = inType === HASH || inType === HASH_B64;
    const bytes = inputBytes(inType, p.data);
    const bits = (c.key && c.key.bits) || 256;
    if (signType === SIMPLE || signType === SIMPLE_REVERSE) {
      if (!(await kit.hasV2('sign.raw'))) throw ifcError(IFC.NOT_SUPPORTED, 'Подпись без CMS требует агента gostsign с протоколом версии 2');
      const digest = isHash ? bytes : kit.streebog(bytes, bits);
      const r = await kit.call('sign_raw', { digest: kit.toHex(digest), certificate: c.id,
        byte_order: signType === SIMPLE ? 's_r' : 'r_s', api: API });
      return { error_code: IFC.OK, sign_value: r.signature };
    }
    if (signType < SIMPLE || signType > 6) throw ifcError(IFC.BAD_SIGN_TYPE, 'Неверный тип подписи');
    const attached = signType === CMS_ATTACHED || signType === CADES_ATTACHED;
    let r;
    if (isHash) {
      if (attached) throw ifcError(IFC.BAD_PARAMS, 'Присоединённая подпись хеша невозможна');
      if (bytes.length * 8 !== bits) throw ifcError(IFC.BAD_PARAMS, 'Размер хеша не совпадает с ключом');
      r = await kit.signDigest(API, kit.toHex(bytes), { certificate: c.id });
    } else {
      r = await kit.signData(API, bytes, { certificate: c.id, detached: !attached });
    }
    return { error_code: IFC.OK, sign_value: r.cms };
  }

  // verify: a CMS signature (no PIN); bare signatures are not verified here.
  async function verify(p) {
    const signType = Number(p.signType);
    if (signType === SIMPLE || signType === SIMPLE_REVERSE) throw ifcError(IFC.NOT_SUPPORTED, 'Проверка подписи без CMS не поддерживается');
    if (!(await kit.hasV2('verify'))) throw ifcError(IFC.NOT_SUPPORTED, 'Проверка подписи требует агента gostsign с протоколом версии 2');
    const args = { cms: String(p.sign || '').replace(/\s+/g, '') };
    const inType = Number(p.inDataType);
    if (p.data) {
      const bytes = inputBytes(inType, p.data);
      if (inType === HASH || inType === HASH_B64) args.digest = kit.toHex(bytes);
      else args.data = kit.toBase64(bytes);
    }
    const r = await kit.call('verify', args);
    return { error_code: IFC.OK, verify_result: Boolean(r.valid) };
  }

  // The reply to one TO_IFC_EXT request.
  async function handle(req) {
    const p = (req && req.params) || {};
    switch (req && req.func_name) {
      case 'version':
        await kit.hello();
        return { error_code: IFC.OK, version: VERSION, plugin_version: VERSION };
      case 'create':
        await kit.hello();
        return { error_code: IFC.OK };
      case 'get_guid':
        return { error_code: IFC.OK, guid: (p.prefix || '') + window.crypto.randomUUID() };
      case 'get_list_info': {
        const list = await listDevices();
        return { error_code: IFC.OK, ifc_list: list.filter((d) => !p.cryptoType || d.entry.type === p.cryptoType).map((d) => d.entry) };
      }
      case 'get_list_certs': {
        const device = await deviceOf(p.cryptoID);
        if (!device) throw ifcError(IFC.CRYPTO_NOT_FOUND, 'СКЗИ не найдено');
        return { error_code: IFC.OK, cert_list: (await certsOf(device)).map(certEntry) };
      }
      case 'get_list_keys': {
        const device = await deviceOf(p.cryptoID);
        if (!device) throw ifcError(IFC.CRYPTO_NOT_FOUND, 'СКЗИ не найдено');
        return { error_code: IFC.OK, keys_list: (await certsOf(device)).map(certEntry) };
      }
      case 'get_list_certs_by_cryptoid_array': {
        const ids = Array.isArray(p.cryptoID_array) ? p.cryptoID_array : [];
        const result = [];
        for (let i = 0; i < ids.length; i++) {
          if (p.show_progress) reply({ error_code: IFC.OK, intermediate: true, progress: i, total: ids.length });
          const device = await deviceOf(ids[i]);
          if (device) result.push({ crypto_id: ids[i], cert_list: (await certsOf(device)).map(certEntry) });
        }
        return { error_code: IFC.OK, intermediate: false, result_array: result };
      }
      case 'load_x509_from_container': {
        const c = await certOfContainer(p.containerId);
        handles.set(nextHandle, c);
        return { error_code: IFC.OK, x509Handle: nextHandle++ };
      }
      case 'load_x509_from_data': {
        const text = String(p.cert || '').replace(/-----(BEGIN|END) CERTIFICATE-----/g, '');
        const der = kit.fromBase64(text);
        if (!der || !der.length) throw ifcError(IFC.UNSUPPORTED_FORMAT, 'Неподдерживаемый формат сертификата');
        const sha1 = kit.toHex(new Uint8Array(await window.crypto.subtle.digest('SHA-1', der)));
        const c = await kit.findCertificate(sha1);
        if (!c) throw ifcError(IFC.NOT_SUPPORTED, 'Разбор сертификата, которого нет на подключённых носителях, не поддерживается gostsign');
        handles.set(nextHandle, c);
        return { error_code: IFC.OK, x509Handle: nextHandle++ };
      }
      case 'get_x509_info': {
        const c = handles.get(Number(p.x509Handle));
        if (!c) throw ifcError(IFC.BAD_PARAMS, 'Неверный дескриптор сертификата');
        return { error_code: IFC.OK, cert_info: certInfo(c) };
      }
      case 'free_x509':
        handles.delete(Number(p.x509Handle));
        return { error_code: IFC.OK };
      case 'sign':
        return sign(p);
      case 'verify':
        return verify(p);
      case 'hash': {
        let bits = 256;
        if (p.containerId) {
          try {
            bits = ((await certOfContainer(p.containerId)).key || {}).bits || 256;
          } catch (e) {
            bits = 256;
          }
        }
        const digest = kit.streebog(inputBytes(Number(p.inDataType) || DATA, p.data), bits);
        return { error_code: IFC.OK, hashValue: kit.toBase64(digest) };
      }
      default:
        return failure(IFC.NOT_SUPPORTED, `${req && req.func_name}: не поддерживается gostsign (через интерфейс плагина Госуслуг)`);
    }
  }

  // Posts one FROM_IFC_EXT message (a JSON string, as IFCPlugin's extension sends).
  function reply(msgData) {
    window.postMessage(JSON.stringify({ type: 'FROM_IFC_EXT', msg_data: msgData }), window.location.origin);
  }

  // One request at a time, in order: IFCPlugin's library never has two in flight.
  let queue = Promise.resolve();
  window.addEventListener('message', (event) => {
    if (event.source !== window || typeof event.data !== 'string' || !event.data.includes('TO_IFC_EXT')) return;
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!msg || msg.type !== 'TO_IFC_EXT') return;
    if (standingDown || otherExtensionPresent()) {
      standingDown = true;
      return;
    }
    queue = queue.then(() => handle(msg.msg_data).catch(fromAgent).then(reply));
  });
})();
