// A document-signing page as sites that use the CryptoPro CAdES Browser Plug-in write it: wait for
// the loader's cadesplugin promise, list the valid certificates with a key from the "My" store,
// let the user pick one, sign a document the server issued, post the signature for checking.
'use strict';

const $ = (id) => document.getElementById(id);
let chosen = null;

// Shows the final state of an action.
function show(kind, text) {
  $('result').className = kind;
  $('result').textContent = text;
}

// Posts JSON and returns the parsed answer.
async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body || {}) });
  return res.json();
}

// The certificates with a private key, valid now, as the site lists them.
async function listCertificates() {
  const store = await cadesplugin.CreateObjectAsync('CAdESCOM.Store');
  await store.Open(cadesplugin.CAPICOM_CURRENT_USER_STORE, cadesplugin.CAPICOM_MY_STORE,
    cadesplugin.CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED);
  let certs = await store.Certificates;
  certs = await certs.Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_TIME_VALID);
  certs = await certs.Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY, 2);
  const count = await certs.Count;
  const out = [];
  for (let i = 1; i <= count; i++) {
    const cert = await certs.Item(i);
    const key = await cert.PublicKey();
    const alg = await key.Algorithm;
    out.push({
      subject: await cert.SubjectName,
      thumbprint: await cert.Thumbprint,
      validTo: new Date(await cert.ValidToDate),
      hasKey: await cert.HasPrivateKey(),
      valid: await (await cert.IsValid()).Result,
      algorithm: await alg.FriendlyName,
      export: (await cert.Export(cadesplugin.CADESCOM_ENCODE_BASE64)).length,
    });
  }
  await store.Close();
  return out;
}

// The chosen certificate object, found again by its thumbprint (as sites keep only that).
async function chosenCertificate() {
  const store = await cadesplugin.CreateObjectAsync('CAdESCOM.Store');
  await store.Open(cadesplugin.CAPICOM_CURRENT_USER_STORE, cadesplugin.CAPICOM_MY_STORE,
    cadesplugin.CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED);
  const found = await (await store.Certificates).Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_SHA1_HASH, chosen);
  if ((await found.Count) === 0) throw new Error('Сертификат не найден');
  const cert = await found.Item(1);
  await store.Close();
  return cert;
}

// A CPSigner for the chosen certificate with the signing time attribute.
async function makeSigner() {
  const signer = await cadesplugin.CreateObjectAsync('CAdESCOM.CPSigner');
  await signer.propset_Certificate(await chosenCertificate());
  await signer.propset_Options(cadesplugin.CAPICOM_CERTIFICATE_INCLUDE_END_ENTITY_ONLY);
  const time = await cadesplugin.CreateObjectAsync('CAdESCOM.CPAttribute');
  await time.propset_Name(cadesplugin.CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME);
  await time.propset_Value(new Date());
  await (await signer.AuthenticatedAttributes2).Add(time);
  return signer;
}

// Signs a new document from the server in one of the ways sites do, then has it verified.
async function sign(mode) {
  show('', 'Подписываем…');
  try {
    const doc = await post('/api/document', { size: 3000 });
    const signer = await makeSigner();
    const sd = await cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    let signature;
    let detached = true;
    if (mode === 'detached' || mode === 'attached') {
      detached = mode === 'detached';
      await sd.propset_ContentEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
      await sd.propset_Content(doc.data);
      signature = await sd.SignCades(signer, cadesplugin.CADESCOM_CADES_BES, detached);
    } else {
      const hashed = await cadesplugin.CreateObjectAsync('CAdESCOM.HashedData');
      await hashed.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
      await hashed.propset_DataEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
      await hashed.Hash(doc.data);
      if (mode === 'hashed') {
        signature = await sd.SignHash(hashed, signer, cadesplugin.CADESCOM_CADES_BES);
      } else {
        const value = await hashed.Value;
        const bare = await cadesplugin.CreateObjectAsync('CAdESCOM.HashedData');
        await bare.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
        await bare.SetHashValue(value);
        signature = await sd.SignHash(bare, signer, cadesplugin.CADESCOM_CADES_BES);
      }
    }
    const verdict = await post('/api/verify', { id: doc.id, signature, detached });
    show(verdict.ok ? 'ok' : 'error', verdict.ok ? `Подпись принята сервером (${mode})` : `Сервер отклонил подпись: ${verdict.text}`);
  } catch (e) {
    show('error', `Ошибка: ${cadesplugin.getLastError(e)}`);
  }
}

cadesplugin.then(async () => {
  try {
    const about = await cadesplugin.CreateObjectAsync('CAdESCOM.About');
    const version = await about.Version;
    const certs = await listCertificates();
    $('status').textContent = `Плагин загружен, версия ${version}; сертификатов: ${certs.length}`;
    $('status').className = 'ready';
    for (const c of certs) {
      const li = document.createElement('li');
      li.textContent = `${c.subject} (до ${c.validTo.toLocaleDateString('ru-RU')}, ${c.algorithm})`;
      li.dataset.thumbprint = c.thumbprint;
      li.dataset.info = JSON.stringify(c);
      li.addEventListener('click', () => {
        chosen = c.thumbprint;
        document.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      });
      $('certs').appendChild(li);
    }
    if (!certs.length) $('status').textContent = 'Нет доступных сертификатов';
  } catch (e) {
    $('status').textContent = `Ошибка: ${cadesplugin.getLastError(e)}`;
    $('status').className = 'error';
  }
}, (e) => {
  $('status').textContent = `Плагин недоступен: ${e.message}`;
  $('status').className = 'missing';
});

$('sign-detached').addEventListener('click', () => sign('detached'));
$('sign-attached').addEventListener('click', () => sign('attached'));
$('sign-hashed').addEventListener('click', () => sign('hashed'));
$('sign-hash-value').addEventListener('click', () => sign('hash-value'));
