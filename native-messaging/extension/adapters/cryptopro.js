// gostsign compatibility adapter: the page API of the CryptoPro CAdES Browser Plug-in
// (window.cadesplugin and its asynchronous object model, ../../../docs/compat.md), answered by the
// gostsign agent. Runs in the page's world at document_start on allowed origins only, so a site's
// own cadesplugin_api.js (which begins with `if (window.cadesplugin) return;`) finds it and does
// nothing. Every property read is a promise (`await obj.Prop`), every write `obj.propset_Prop(v)`;
// what gostsign does not do rejects with a Russian message, as CryptoPro's own errors read.
'use strict';

(() => {
  const kit = window.__gostsignAdapterKit;
  // Another plugin (or a second copy) already answers for CryptoPro: stand down.
  if (!kit || window.cadesplugin) return;
  const API = 'cryptopro';
  const VERSION = '2.0.15500';

  // The constants of cadesplugin_api.js that sites pass in (names and values as CryptoPro's).
  const CONSTANTS = {
    CAPICOM_MEMORY_STORE: 0, CAPICOM_LOCAL_MACHINE_STORE: 1, CAPICOM_CURRENT_USER_STORE: 2,
    CAPICOM_SMART_CARD_USER_STORE: 4, CADESCOM_MEMORY_STORE: 0, CADESCOM_LOCAL_MACHINE_STORE: 1,
    CADESCOM_CURRENT_USER_STORE: 2, CADESCOM_SMART_CARD_USER_STORE: 4, CADESCOM_CONTAINER_STORE: 100,
    CAPICOM_MY_STORE: 'My', CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED: 2,
    CADESCOM_XML_SIGNATURE_TYPE_ENVELOPED: 0, CADESCOM_XML_SIGNATURE_TYPE_ENVELOPING: 1,
    CADESCOM_XML_SIGNATURE_TYPE_TEMPLATE: 2, CADESCOM_XADES_DEFAULT: 0x10, CADESCOM_XADES_BES: 0x20,
    CADESCOM_XADES_T: 0x50, CADESCOM_XADES_X_LONG_TYPE_1: 0x5d0, CADESCOM_XMLDSIG_TYPE: 0,
    CADESCOM_CADES_DEFAULT: 0, CADESCOM_CADES_BES: 1, CADESCOM_CADES_T: 0x5,
    CADESCOM_CADES_X_LONG_TYPE_1: 0x5d, CADESCOM_PKCS7_TYPE: 0xffff,
    CADESCOM_ENCODE_BASE64: 0, CADESCOM_ENCODE_BINARY: 1, CADESCOM_ENCODE_ANY: -1,
    CAPICOM_CERTIFICATE_INCLUDE_CHAIN_EXCEPT_ROOT: 0, CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN: 1,
    CAPICOM_CERTIFICATE_INCLUDE_END_ENTITY_ONLY: 2,
    CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME: 0, CAPICOM_CERT_INFO_ISSUER_SIMPLE_NAME: 1,
    CAPICOM_CERTIFICATE_FIND_SHA1_HASH: 0, CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME: 1,
    CAPICOM_CERTIFICATE_FIND_ISSUER_NAME: 2, CAPICOM_CERTIFICATE_FIND_ROOT_NAME: 3,
    CAPICOM_CERTIFICATE_FIND_TEMPLATE_NAME: 4, CAPICOM_CERTIFICATE_FIND_EXTENSION: 5,
    CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY: 6, CAPICOM_CERTIFICATE_FIND_APPLICATION_POLICY: 7,
    CAPICOM_CERTIFICATE_FIND_CERTIFICATE_POLICY: 8, CAPICOM_CERTIFICATE_FIND_TIME_VALID: 9,
    CAPICOM_CERTIFICATE_FIND_TIME_NOT_YET_VALID: 10, CAPICOM_CERTIFICATE_FIND_TIME_EXPIRED: 11,
    CAPICOM_CERTIFICATE_FIND_KEY_USAGE: 12, CAPICOM_DIGITAL_SIGNATURE_KEY_USAGE: 128,
    CAPICOM_PROPID_ENHKEY_USAGE: 9, CAPICOM_OID_OTHER: 0, CAPICOM_OID_KEY_USAGE_EXTENSION: 10,
    CAPICOM_EKU_CLIENT_AUTH: 2, CAPICOM_EKU_SMARTCARD_LOGON: 5, CAPICOM_EKU_OTHER: 0,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0, CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME: 1,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION: 2,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0, CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME: 1,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION: 2,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_MACHINE_INFO: 0x100, CADESCOM_ATTRIBUTE_OTHER: -1,
    CADESCOM_STRING_TO_UCS2LE: 0, CADESCOM_BASE64_TO_BINARY: 1,
    CADESCOM_DISPLAY_DATA_NONE: 0, CADESCOM_DISPLAY_DATA_CONTENT: 1, CADESCOM_DISPLAY_DATA_ATTRIBUTE: 2,
    CADESCOM_ENCRYPTION_ALGORITHM_RC2: 0, CADESCOM_ENCRYPTION_ALGORITHM_RC4: 1,
    CADESCOM_ENCRYPTION_ALGORITHM_DES: 2, CADESCOM_ENCRYPTION_ALGORITHM_3DES: 3,
    CADESCOM_ENCRYPTION_ALGORITHM_AES: 4, CADESCOM_ENCRYPTION_ALGORITHM_GOST_28147_89: 25,
    CADESCOM_HASH_ALGORITHM_SHA1: 0, CADESCOM_HASH_ALGORITHM_MD2: 1, CADESCOM_HASH_ALGORITHM_MD4: 2,
    CADESCOM_HASH_ALGORITHM_MD5: 3, CADESCOM_HASH_ALGORITHM_SHA_256: 4,
    CADESCOM_HASH_ALGORITHM_SHA_384: 5, CADESCOM_HASH_ALGORITHM_SHA_512: 6,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411: 100, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256: 101,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512: 102, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_HMAC: 110,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256_HMAC: 111,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512_HMAC: 112,
    LOG_LEVEL_DEBUG: 4, LOG_LEVEL_INFO: 2, LOG_LEVEL_ERROR: 1,
    CADESCOM_AllowNone: 0, CADESCOM_AllowNoOutstandingRequest: 0x1,
    CADESCOM_AllowUntrustedCertificate: 0x2, CADESCOM_AllowUntrustedRoot: 0x4,
    CADESCOM_SkipInstallToStore: 0x10000000, CADESCOM_InstallCertChainToContainer: 0x20000000,
    CADESCOM_UseContainerStore: 0x40000000,
    XCN_CRYPT_STRING_BASE64HEADER: 0, AT_KEYEXCHANGE: 1, AT_SIGNATURE: 2,
  };
  const C = CONSTANTS;
  const PROPID_KEY_PROV_INFO = 2;

  // HRESULTs and texts CryptoPro (CryptoAPI) reports for the same failures, by agent code.
  const ERRORS = {
    CANCELLED: [0x8010006e, 'Действие было отменено пользователем.'],
    USER_CANCELLED: [0x8010006e, 'Действие было отменено пользователем.'],
    PIN_INCORRECT: [0x8010006b, 'Указан неправильный PIN.'],
    PIN_EMPTY: [0x8010006b, 'Указан неправильный PIN.'],
    PIN_LOCKED: [0x8010006c, 'Карта не может быть доступна, так как превышено максимальное число попыток ввода PIN.'],
    CERT_NOT_FOUND: [0x80092004, 'Не удается найти сертификат и закрытый ключ для расшифровки.'],
    KEY_NOT_FOUND: [0x80092004, 'Не удается найти сертификат и закрытый ключ для расшифровки.'],
    TOKEN_NOT_FOUND: [0x80090016, 'Набор ключей не существует.'],
    TOKEN_REMOVED: [0x80090016, 'Набор ключей не существует.'],
    CERT_UNTRUSTED: [0x800b010a, 'Не удается построить цепочку сертификатов для доверенного корневого центра.'],
    CERT_EXPIRED: [0x800b0101, 'Истек или не наступил срок действия требуемого сертификата.'],
    CERT_NOT_YET_VALID: [0x800b0101, 'Истек или не наступил срок действия требуемого сертификата.'],
    CERT_REVOKED: [0x80092010, 'Сертификат отозван.'],
    CMS_BAD_SIGNATURE: [0x80090006, 'Неправильная подпись.'],
    CMS_DIGEST_MISMATCH: [0x80091007, 'Значение хеша неверно.'],
    CMS_PARSE: [0x8009310b, 'Ошибка ASN1: неверный тег.'],
    TIMEOUT: [0x800705b4, 'Превышен таймаут операции.'],
    ORIGIN_NOT_ALLOWED: [0x80070005, null],
    HASH_SIGN_NOT_ALLOWED: [0x80070005, null],
    PIN_LIMITER: [0x8010006c, null],
  };
  const E_NOTIMPL = 0x80004001;
  const E_INVALIDARG = 0x80070057;
  const E_FAIL = 0x80004005;

  // Hex of an HRESULT as CryptoPro prints it (upper case, 32-bit).
  function hresult(n) {
    return (n >>> 0).toString(16).toUpperCase();
  }

  // An Error shaped like CryptoPro's: the text with "(0x…)" at its end, and the number.
  function cpError(number, text) {
    const e = new Error(`${text} (0x${hresult(number)})`);
    e.number = number;
    return e;
  }

  // The CryptoPro-style error for an agent failure (its own texts where CryptoPro has none).
  function fromAgent(e) {
    if (!(e instanceof kit.AgentError)) return e instanceof Error ? e : cpError(E_FAIL, String(e));
    const [number, text] = ERRORS[e.code] || [E_FAIL, null];
    const err = cpError(number, text || e.message);
    err.gostsign = { code: e.code, message_ru: e.message, fix: e.fix, detail: e.detail };
    return err;
  }

  // The rejection for a call gostsign does not implement.
  function unsupported(what) {
    return Promise.reject(cpError(E_NOTIMPL,
      `${what}: этот вызов КриптоПро ЭЦП Browser plug-in не поддерживается gostsign`));
  }

  // Wraps an agent call so that its failures read like CryptoPro's.
  function agent(promise) {
    return Promise.resolve(promise).catch((e) => {
      throw fromAgent(e);
    });
  }

  // An object of the async model: for each property a getter returning a promise and a
  // propset_ method, plus methods returning promises. Any other member rejects as unsupported;
  // the object is never a thenable itself.
  function asyncObject(className, props, methods) {
    const target = {};
    for (const [name, p] of Object.entries(props || {})) {
      Object.defineProperty(target, name, {
        get: () => Promise.resolve().then(p.get || (() => unsupported(`${className}.${name}`))),
        enumerable: true,
      });
      target[`propset_${name}`] = (v) => Promise.resolve().then(() => (p.set
        ? p.set(v) : unsupported(`${className}.propset_${name}`)));
    }
    for (const [name, fn] of Object.entries(methods || {})) {
      target[name] = (...args) => Promise.resolve().then(() => fn(...args));
    }
    return new Proxy(target, {
      get(t, key) {
        if (typeof key === 'symbol' || key in t) return t[key];
        if (key === 'then' || key === 'toJSON' || key === 'constructor') return undefined;
        return () => unsupported(`${className}.${key}`);
      },
    });
  }

  // A DN value quoted as CryptoAPI's CertNameToStr quotes it.
  function quoteValue(v) {
    return /[,+="\n<>#;]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }

  // The SubjectName / IssuerName string of an agent name object, in CryptoPro's style.
  function nameString(n) {
    const order = [['cn', 'CN'], ['sn', 'SN'], ['g', 'G'], ['t', 'T'], ['ou', 'OU'], ['o', 'O'],
      ['street', 'STREET'], ['l', 'L'], ['st', 'S'], ['c', 'C'], ['e', 'E'], ['inn', 'INN'],
      ['innle', 'INNLE'], ['ogrn', 'OGRN'], ['ogrnip', 'OGRNIP'], ['snils', 'SNILS']];
    return order.filter(([k]) => n && n[k]).map(([k, label]) => `${label}=${quoteValue(n[k])}`).join(', ');
  }

  // A date property value: the ISO text sites hand to new Date().
  function dateValue(text) {
    return new Date(text).toISOString();
  }

  // An OID object (Value and FriendlyName).
  function oidObject(value, friendly) {
    return asyncObject('CAdESCOM.OID', { Value: { get: () => value }, FriendlyName: { get: () => friendly } });
  }

  // Russian name of a key algorithm, as CryptoPro shows it.
  function keyAlgorithmName(key) {
    if (key.algorithm_oid === '1.2.643.7.1.1.1.1') return 'ГОСТ Р 34.10-2012 256 бит';
    if (key.algorithm_oid === '1.2.643.7.1.1.1.2') return 'ГОСТ Р 34.10-2012 512 бит';
    return key.algorithm || key.algorithm_oid || '';
  }

  // The Certificate object for one agent certificates entry.
  function certificateObject(c) {
    const validNow = () => {
      const now = Date.now() / 1000;
      return c.validity.not_before_unix <= now && now <= c.validity.not_after_unix;
    };
    return asyncObject('CAPICOM.Certificate', {
      SubjectName: { get: () => nameString(c.subject) },
      IssuerName: { get: () => nameString(c.issuer) },
      SerialNumber: { get: () => String(c.serial || '').toUpperCase() },
      Thumbprint: { get: () => String(c.id).toUpperCase() },
      ValidFromDate: { get: () => dateValue(c.validity.not_before) },
      ValidToDate: { get: () => dateValue(c.validity.not_after) },
      Version: { get: () => c.version || 3 },
    }, {
      HasPrivateKey: () => true,
      IsValid: () => asyncObject('CAPICOM.CertificateStatus', {
        Result: { get: () => Boolean(validNow() && (!c.status || c.status.usable)) },
      }),
      Export: (encoding) => {
        if (!c.der) return unsupported('Certificate.Export (агенту нужна версия протокола 2)');
        if (encoding === C.CADESCOM_ENCODE_BINARY) return atob(c.der);
        return c.der;
      },
      GetInfo: (type) => {
        const info = [c.subject.cn, c.issuer.cn, c.subject.e, c.issuer.e, '', '', c.subject.cn, c.issuer.cn];
        if (!(type in info)) return Promise.reject(cpError(E_INVALIDARG, 'Параметр задан неверно.'));
        return info[type] || '';
      },
      PublicKey: () => asyncObject('CAPICOM.PublicKey', {
        Algorithm: { get: () => oidObject(c.key.algorithm_oid, keyAlgorithmName(c.key)) },
        Length: { get: () => c.key.bits },
      }),
      __gostsign: () => c,
    });
  }

  // A Certificates collection over a list of agent certificates entries.
  function certificatesObject(list) {
    return asyncObject('CAPICOM.Certificates', { Count: { get: () => list.length } }, {
      Item: (i) => {
        const n = Number(i);
        if (!Number.isInteger(n) || n < 1 || n > list.length) {
          return Promise.reject(cpError(E_INVALIDARG, 'Неверный индекс.'));
        }
        return certificateObject(list[n - 1]);
      },
      Find: (type, value) => {
        const now = value instanceof Date ? value.getTime() / 1000 : Date.now() / 1000;
        const text = (v) => String(v || '').toLowerCase();
        switch (type) {
          case C.CAPICOM_CERTIFICATE_FIND_SHA1_HASH: {
            const want = text(value).replace(/\s+/g, '');
            return certificatesObject(list.filter((c) => text(c.id) === want));
          }
          case C.CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME:
            return certificatesObject(list.filter((c) => text(nameString(c.subject)).includes(text(value))));
          case C.CAPICOM_CERTIFICATE_FIND_ISSUER_NAME:
            return certificatesObject(list.filter((c) => text(nameString(c.issuer)).includes(text(value))));
          case C.CAPICOM_CERTIFICATE_FIND_TIME_VALID:
            return certificatesObject(list.filter((c) => c.validity.not_before_unix <= now
              && now <= c.validity.not_after_unix));
          case C.CAPICOM_CERTIFICATE_FIND_TIME_NOT_YET_VALID:
            return certificatesObject(list.filter((c) => now < c.validity.not_before_unix));
          case C.CAPICOM_CERTIFICATE_FIND_TIME_EXPIRED:
            return certificatesObject(list.filter((c) => now > c.validity.not_after_unix));
          case C.CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY:
            // The agent lists only certificates with a key: all of them have KEY_PROV_INFO.
            return certificatesObject(Number(value) === PROPID_KEY_PROV_INFO ? list : []);
          case C.CAPICOM_CERTIFICATE_FIND_KEY_USAGE: {
            const want = typeof value === 'number' && value === C.CAPICOM_DIGITAL_SIGNATURE_KEY_USAGE
              ? 'digitalsignature' : text(value).replace(/^capicom_|_key_usage$/g, '').replace(/_/g, '');
            return certificatesObject(list.filter((c) => (c.key_usage || [])
              .some((u) => text(u) === want)));
          }
          default:
            return unsupported(`Certificates.Find(${type})`);
        }
      },
    });
  }

  // CAdESCOM.Store / CAPICOM.Store: "My" holds the agent's certificates, other stores nothing.
  function storeObject() {
    let name = null;
    return asyncObject('CAdESCOM.Store', {
      Name: { get: () => name || 'My' },
      Certificates: {
        get: () => {
          if (name === null) return Promise.reject(cpError(E_FAIL, 'Хранилище не открыто.'));
          if (String(name).toLowerCase() !== 'my') return certificatesObject([]);
          return agent(kit.certificates()).then(certificatesObject);
        },
      },
    }, {
      Open: (location, storeName) => {
        name = storeName === undefined ? 'My' : String(storeName);
      },
      Close: () => {
        name = null;
      },
    });
  }

  // CAdESCOM.CPAttribute: the signing time (and the document name, which names the dialog).
  function attributeObject() {
    const a = { name: null, value: null };
    const obj = asyncObject('CAdESCOM.CPAttribute', {
      Name: { get: () => a.name, set: (v) => { a.name = Number(v); } },
      Value: { get: () => a.value, set: (v) => { a.value = v; } },
      ValueEncoding: { get: () => 0, set: () => {} },
    }, { __gostsign: () => a });
    return obj;
  }

  // CAdESCOM.CPSigner: certificate, options, authenticated attributes. A PIN set on it is dropped:
  // gostsign asks for the PIN only in the agent's own dialog.
  function signerObject() {
    const s = { certificate: null, options: C.CAPICOM_CERTIFICATE_INCLUDE_CHAIN_EXCEPT_ROOT, attributes: [], tsa: '' };
    const attributes = asyncObject('CAdESCOM.CPAttributes', { Count: { get: () => s.attributes.length } }, {
      Add: (attr) => {
        s.attributes.push(attr);
      },
      Item: (i) => s.attributes[Number(i) - 1],
      Clear: () => {
        s.attributes = [];
      },
      Remove: (i) => {
        s.attributes.splice(Number(i) - 1, 1);
      },
    });
    return asyncObject('CAdESCOM.CPSigner', {
      Certificate: { get: () => s.certificate, set: (v) => { s.certificate = v; } },
      Options: { get: () => s.options, set: (v) => { s.options = Number(v); } },
      TSAAddress: { get: () => s.tsa, set: (v) => { s.tsa = String(v); } },
      KeyPin: { get: () => '', set: () => {} },
      CheckCertificate: { get: () => true, set: () => {} },
      AuthenticatedAttributes2: { get: () => attributes },
      UnauthenticatedAttributes2: { get: () => unsupported('CPSigner.UnauthenticatedAttributes2') },
    }, { __gostsign: () => s });
  }

  // The agent's sign options taken from a CPSigner (certificate id, chain, signing time, document).
  async function signerOptions(signer) {
    if (!signer || typeof signer.__gostsign !== 'function') {
      throw cpError(E_INVALIDARG, 'Не задан объект подписывающего (CPSigner).');
    }
    const s = await signer.__gostsign();
    const o = {};
    if (s.certificate && typeof s.certificate.__gostsign === 'function') {
      o.certificate = (await s.certificate.__gostsign()).id;
    }
    if (s.options === C.CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN) o.includeChain = true;
    for (const attr of s.attributes) {
      const a = typeof attr.__gostsign === 'function' ? await attr.__gostsign() : {};
      if (a.name === C.CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME && a.value) {
        o.signingTime = Math.floor(new Date(a.value).getTime() / 1000);
      } else if (a.name === C.CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME && a.value) {
        o.document = String(a.value);
      }
    }
    if (s.tsa) throw cpError(E_NOTIMPL, 'Штамп времени (TSAAddress, CAdES-T) не поддерживается gostsign');
    return o;
  }

  // Content bytes as CryptoPro reads them: base64 decoded, or the string in UTF-16LE.
  function contentBytes(content, encoding) {
    if (encoding === C.CADESCOM_BASE64_TO_BINARY) {
      const b = kit.fromBase64(content);
      if (!b) throw cpError(0x80093102, 'Ошибка ASN1: неожиданный конец данных (неверный base64).');
      return b;
    }
    const s = String(content);
    const out = new Uint8Array(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      out[2 * i] = s.charCodeAt(i) & 255;
      out[2 * i + 1] = s.charCodeAt(i) >> 8;
    }
    return out;
  }

  // Rejects the CAdES types that need a timestamp service (CAdES-T, X Long).
  function checkType(type) {
    const t = type === undefined ? C.CADESCOM_CADES_DEFAULT : Number(type);
    if (t === C.CADESCOM_CADES_BES || t === C.CADESCOM_CADES_DEFAULT || t === C.CADESCOM_PKCS7_TYPE) return;
    throw cpError(E_NOTIMPL, `Тип подписи ${t} (CAdES-T/X Long) не поддерживается gostsign`);
  }

  // CAdESCOM.HashedData: GOST R 34.11-2012 computed here; the data is kept so that SignHash can
  // let the agent hash it again (no hash-signing policy needed), SetHashValue signs a bare hash.
  function hashedDataObject() {
    const h = { algorithm: C.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256, encoding: C.CADESCOM_STRING_TO_UCS2LE,
      parts: [], value: null };
    const bits = () => {
      if (h.algorithm === C.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256) return 256;
      if (h.algorithm === C.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512) return 512;
      throw cpError(0x80090008, 'Указан неправильный алгоритм (поддерживается ГОСТ Р 34.11-2012).');
    };
    const data = () => {
      const total = h.parts.reduce((n, p) => n + p.length, 0);
      const out = new Uint8Array(total);
      let off = 0;
      for (const p of h.parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    };
    return asyncObject('CAdESCOM.HashedData', {
      Algorithm: { get: () => oidObject(bits() === 256 ? '1.2.643.7.1.1.2.2' : '1.2.643.7.1.1.2.3',
        `ГОСТ Р 34.11-2012 ${bits()} бит`), set: (v) => { h.algorithm = Number(v); bits(); } },
      DataEncoding: { get: () => h.encoding, set: (v) => { h.encoding = Number(v); } },
      Value: {
        get: () => {
          if (h.value) return h.value.toUpperCase();
          return kit.toHex(kit.streebog(data(), bits())).toUpperCase();
        },
      },
      Key: { get: () => unsupported('HashedData.Key (HMAC)') },
    }, {
      Hash: (content) => {
        bits();
        h.value = null;
        h.parts.push(contentBytes(content, h.encoding));
      },
      SetHashValue: (hex) => {
        const b = kit.fromHex(hex);
        if (!b || b.length * 8 !== bits()) throw cpError(E_INVALIDARG, 'Неверное значение хеша.');
        h.value = kit.toHex(b);
        h.parts = [];
      },
      __gostsign: () => ({ bits: bits(), value: h.value, data: h.value ? null : data() }),
    });
  }

  // The Signers collection of a verified CMS (certificate and signing time of each signer).
  function signersObject(signers) {
    return asyncObject('CAdESCOM.CPSigners', { Count: { get: () => signers.length } }, {
      Item: (i) => {
        const s = signers[Number(i) - 1];
        if (!s) return Promise.reject(cpError(E_INVALIDARG, 'Неверный индекс.'));
        return asyncObject('CAdESCOM.CPSigner', {
          Certificate: { get: () => certificateObject(s.certificate) },
          SigningTime: { get: () => (s.signing_time ? new Date(s.signing_time * 1000).toISOString() : null) },
        });
      },
    });
  }

  // CAdESCOM.CadesSignedData: SignCades, SignHash, VerifyCades, CoSignCades over the agent.
  function signedDataObject() {
    const d = { encoding: C.CADESCOM_STRING_TO_UCS2LE, content: '', verified: null, signers: [] };
    return asyncObject('CAdESCOM.CadesSignedData', {
      ContentEncoding: { get: () => d.encoding, set: (v) => { d.encoding = Number(v); } },
      Content: { get: () => d.content, set: (v) => { d.content = v; } },
      Signers: { get: () => signersObject(d.signers) },
      Certificates: { get: () => certificatesObject(d.signers.map((s) => s.certificate)) },
    }, {
      SignCades: async (signer, type, detached) => {
        checkType(type);
        const o = await signerOptions(signer);
        o.detached = Boolean(detached);
        const r = await agent(kit.signData(API, contentBytes(d.content, d.encoding), o));
        return r.cms;
      },
      SignHash: async (hashed, signer, type) => {
        checkType(type);
        if (!hashed || typeof hashed.__gostsign !== 'function') {
          throw cpError(E_INVALIDARG, 'Не задан объект хеша (HashedData).');
        }
        const h = await hashed.__gostsign();
        const o = await signerOptions(signer);
        o.detached = true;
        const r = h.data ? await agent(kit.signData(API, h.data, o))
          : await agent(kit.signDigest(API, h.value, o));
        return r.cms;
      },
      VerifyCades: async (cms, type, detached) => {
        if (!(await kit.hasV2('verify'))) return unsupported('CadesSignedData.VerifyCades (агенту нужна версия протокола 2)');
        const args = { cms: String(cms).replace(/\s+/g, '') };
        if (detached) args.data = kit.toBase64(contentBytes(d.content, d.encoding));
        const r = await agent(kit.call('verify', args));
        if (!r.valid) {
          const e = fromAgent(new kit.AgentError({ code: r.code || 'CMS_BAD_SIGNATURE', message: r.detail,
            message_ru: r.detail }));
          throw e;
        }
        d.verified = { cms: args.cms, detached: Boolean(detached) };
        d.signers = r.signers || [];
        if (!detached && r.content) d.content = d.encoding === C.CADESCOM_BASE64_TO_BINARY ? r.content : d.content;
      },
      CoSignCades: async (signer, type) => {
        checkType(type);
        if (!d.verified) throw cpError(E_FAIL, 'Сначала проверьте подпись (VerifyCades), затем добавьте подписанта.');
        if (!(await kit.hasV2('cosign'))) return unsupported('CadesSignedData.CoSignCades (агенту нужна версия протокола 2)');
        const o = await signerOptions(signer);
        o.cosign = d.verified.cms;
        o.detached = d.verified.detached;
        const r = await agent(kit.signData(API, contentBytes(d.content, d.encoding), o));
        return r.cms;
      },
      EnhanceCades: () => unsupported('CadesSignedData.EnhanceCades'),
    });
  }

  // CAdESCOM.About: the version sites check before anything else.
  function aboutObject() {
    const version = () => {
      const [major, minor, build] = VERSION.split('.').map(Number);
      return asyncObject('CAdESCOM.Version', {
        MajorVersion: { get: () => major }, MinorVersion: { get: () => minor },
        BuildVersion: { get: () => build },
      }, { toString: () => VERSION });
    };
    return asyncObject('CAdESCOM.About', {
      Version: { get: () => VERSION },
      PluginVersion: { get: version },
      MajorVersion: { get: () => 2 }, MinorVersion: { get: () => 0 }, BuildVersion: { get: () => 15500 },
    }, {
      CSPName: () => 'gostsign (PKCS#11)',
      CSPVersion: () => version(),
    });
  }

  const FACTORIES = {
    'cadescom.about': aboutObject,
    'cadescom.store': storeObject,
    'capicom.store': storeObject,
    'cadescom.cpsigner': signerObject,
    'cadescom.cpattribute': attributeObject,
    'cadescom.cadessigneddata': signedDataObject,
    'cadescom.hasheddata': hashedDataObject,
  };

  // cadesplugin.CreateObjectAsync: the objects above by their ProgID (case does not matter).
  function createObjectAsync(name) {
    const make = FACTORIES[String(name).toLowerCase()];
    if (!make) return unsupported(`CreateObjectAsync("${name}")`);
    return Promise.resolve(make());
  }

  // cadesplugin.async_spawn: runs a generator that yields promises, as CryptoPro's helper does.
  function asyncSpawn(generatorFunc, ...rest) {
    const generator = generatorFunc(rest);
    const step = (verb, arg) => {
      let result;
      try {
        result = generator[verb](arg);
      } catch (err) {
        return Promise.reject(err);
      }
      if (result.done) return result.value;
      return Promise.resolve(result.value).then((v) => step('next', v), (e) => step('throw', e));
    };
    return step('next');
  }

  let resolveLoaded;
  let rejectLoaded;
  const cadesplugin = new Promise((resolve, reject) => {
    resolveLoaded = resolve;
    rejectLoaded = reject;
  });
  Object.assign(cadesplugin, CONSTANTS, {
    JSModuleVersion: '2.3.1',
    current_log_level: C.LOG_LEVEL_ERROR,
    CreateObjectAsync: createObjectAsync,
    CreateObject: (name) => {
      throw cpError(E_NOTIMPL, `CreateObject("${name}"): синхронные объекты не поддерживаются, используйте CreateObjectAsync`);
    },
    async_spawn: asyncSpawn,
    set: () => {},
    set_log_level: (level) => {
      if ([C.LOG_LEVEL_DEBUG, C.LOG_LEVEL_INFO, C.LOG_LEVEL_ERROR].includes(level)) cadesplugin.current_log_level = level;
    },
    getLastError: (e) => (e && e.message) || String(e),
    ReleasePluginObjects: () => Promise.resolve(true),
  });
  window.cadesplugin = cadesplugin;

  // The plug-in counts as loaded once the agent answers, as CryptoPro's waits for its host.
  kit.hello().then(() => resolveLoaded(), (e) => {
    const err = new Error(e instanceof kit.AgentError && e.code !== 'AGENT_UNAVAILABLE'
      && e.code !== 'NMHOST_NOT_REGISTERED' ? `Плагин недоступен: ${e.message}` : 'Плагин недоступен');
    err.gostsign = e;
    rejectLoaded(err);
  });
  cadesplugin.catch(() => {}); // a site that never waits must not see an unhandled rejection
})();
