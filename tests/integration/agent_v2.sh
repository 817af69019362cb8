#!/usr/bin/env bash
# Protocol version 2 on the demo software token: what the compatibility adapters need. Every
# result is checked with `openssl` and the GOST engine, never with gostsign's own verifier:
# signing a precomputed hash (and the policy that limits it), a raw signature in both byte orders,
# signing time, the whole chain, co-signing, verify, certificates' DER, and the origins list.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
LK=https://lk.gosuslugi.ru       # in the defaults and in hash_sign_origins
OTHER=https://lk.example.ru      # allowed by the user file, not for hash signing

write_agent_config "$OTHER"
make_demo_token
# the CA certificate on the token too, so that include_chain has an issuer to add
OPENSSL_CONF=/dev/null openssl x509 -in "$WORK/demo/ca.pem" -outform DER -out "$WORK/ca.der"
pkcs11-tool --module "$SOFTTOKEN_MODULE" --login --pin 12345678 --write-object "$WORK/ca.der" \
    --type cert --label "test CA" --id 99 >/dev/null 2>&1 || fail "CA certificate onto the token"
start_agent
export GS_AGENT_SOCK=$WORK/run/agent.sock
: >"$GS_TEST_PINENTRY_RECORD"

python3 - "$WORK" "$LK" "$OTHER" <<'PY' || fail "protocol version 2"
import base64, hashlib, json, os, socket, struct, subprocess, sys, time
work, LK, OTHER = sys.argv[1:4]
env = dict(os.environ, OPENSSL_CONF="/dev/null")

def call(msg):
    s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(os.environ["GS_AGENT_SOCK"])
    b = json.dumps(msg).encode(); s.sendall(struct.pack("=I", len(b)) + b)
    while True:
        (n,) = struct.unpack("=I", s.recv(4, socket.MSG_WAITALL))
        m = json.loads(s.recv(n, socket.MSG_WAITALL))
        if "ok" in m:
            s.close(); return m

def ossl(*args, data=None):
    p = subprocess.run(["openssl", *args], input=data, capture_output=True, env=env)
    return p.returncode, p.stdout, p.stderr

def put(name, data):
    path = os.path.join(work, name); open(path, "wb").write(data); return path

def ok(text): print("ok:", text)

h = call({"id": 1, "cmd": "hello", "origin": LK})["result"]
assert h["protocol"] == 2, h
for cap in ("sign.hash", "sign.raw", "sign.options", "cosign", "verify", "origins", "certificates.der"):
    assert cap in h["capabilities"], cap
ok("hello: protocol 2 with its capabilities")

certs = call({"id": 2, "cmd": "certificates", "origin": LK})["result"]
assert len(certs) == 1, certs
cert = certs[0]
_, pem_der, _ = ossl("x509", "-in", os.path.join(work, "demo", "cert.pem"), "-outform", "DER")
assert base64.b64decode(cert["der"]) == pem_der, "certificates.der is not the token's certificate"
ok("certificates carry the certificate's DER (Export(0))")

data = b"document signed by its hash\n"
doc = put("doc.txt", data)
_, out, _ = ossl("dgst", "-engine", "gost", "-md_gost12_256", "-r", doc)
digest = out.split()[0].decode()

r = call({"id": 3, "cmd": "sign", "origin": OTHER, "args": {"digest": digest, "certificate": cert["id"]}})
assert not r["ok"] and r["error"]["code"] == "HASH_SIGN_NOT_ALLOWED", r
r = call({"id": 4, "cmd": "sign_raw", "origin": OTHER, "args": {"digest": digest}})
assert not r["ok"] and r["error"]["code"] == "HASH_SIGN_NOT_ALLOWED", r
ok("a bare hash from a site outside hash_sign_origins: HASH_SIGN_NOT_ALLOWED, no dialog")
assert os.path.getsize(os.environ["GS_TEST_PINENTRY_RECORD"]) == 0, "a dialog opened"

now = int(time.time()) - 60
r = call({"id": 5, "cmd": "sign", "origin": LK, "args": {"digest": digest, "api": "cryptopro",
          "signing_time": now, "include_chain": True}})
assert r["ok"], r
cms = put("hash.p7s", base64.b64decode(r["result"]["cms"]))
rc, _, err = ossl("cms", "-verify", "-engine", "gost", "-inform", "DER", "-in", cms, "-binary",
                  "-content", doc, "-CAfile", os.path.join(work, "demo", "ca.pem"), "-out", "/dev/null")
assert rc == 0, err
_, printed, _ = ossl("cms", "-cmsout", "-print", "-inform", "DER", "-in", cms)
assert printed.count(b"cert_info:") == 2, "include_chain did not add the CA certificate"
record = open(os.environ["GS_TEST_PINENTRY_RECORD"], encoding="utf-8").read()
assert "не может быть показано" in record and "КриптоПро ЭЦП Browser plug-in" in record, record
ok("SignHash: a detached CMS over the hash that openssl verifies against the content; signer and CA "
   "certificates inside; the dialog names the API and says the content cannot be shown")
_, sigtime, _ = ossl("cms", "-cmsout", "-print", "-inform", "DER", "-in", cms)
want = time.strftime("UTCTIME:%b ", time.gmtime(now)) + ("%2d" % time.gmtime(now).tm_mday) + \
    time.strftime(" %H:%M:%S %Y GMT", time.gmtime(now))
assert want.encode() in sigtime, ("signingTime is not the one asked for", want)
r = call({"id": 6, "cmd": "sign", "origin": LK, "args": {"digest": digest, "signing_time": now - 3600}})
assert not r["ok"] and r["error"]["code"] == "BAD_REQUEST" and "signing_time" in r["error"]["detail"], r
ok("signing_time is used as given, and refused an hour off")

pub = os.path.join(work, "demo", "cert.pem")
dig = put("digest.bin", bytes.fromhex(digest))
for order in ("s_r", "r_s"):
    r = call({"id": 7, "cmd": "sign_raw", "origin": LK, "args": {"digest": digest, "byte_order": order}})
    assert r["ok"] and r["result"]["byte_order"] == order, r
    sig = base64.b64decode(r["result"]["signature"])
    assert len(sig) == 64
    engine_order = sig if order == "s_r" else sig[32:] + sig[:32]  # the engine takes s || r
    sf = put("raw-" + order, engine_order)
    rc, out, err = ossl("pkeyutl", "-verify", "-engine", "gost", "-certin", "-inkey", pub, "-in", dig,
                        "-sigfile", sf)
    assert rc == 0, (order, out, err)
    bad = put("raw-bad-" + order, engine_order[::-1])
    assert ossl("pkeyutl", "-verify", "-engine", "gost", "-certin", "-inkey", pub, "-in", dig,
                "-sigfile", bad)[0] != 0
ok("sign_raw: s||r and r||s signatures over the hash that openssl pkeyutl verifies (and a reversed one it refuses)")

r = call({"id": 8, "cmd": "sign", "origin": LK, "args": {"detached": False,
          "data": base64.b64encode(data).decode()}})
assert r["ok"], r
first = r["result"]["cms"]
r = call({"id": 9, "cmd": "sign", "origin": LK, "args": {"cosign": first}})
assert r["ok"] and r["result"]["detached"] is False, r
co = put("cosigned.p7s", base64.b64decode(r["result"]["cms"]))
_, printed, _ = ossl("cms", "-cmsout", "-print", "-inform", "DER", "-in", co)
assert printed.count(b"signatureAlgorithm:") == 2, "the co-signed CMS does not have two signers"
rc, out, err = ossl("cms", "-verify", "-engine", "gost", "-inform", "DER", "-in", co, "-binary",
                    "-CAfile", os.path.join(work, "demo", "ca.pem"))
assert rc == 0 and out == data, err
ok("CoSignCades: one more signer on an attached CMS; openssl verifies both and returns the content")

v = call({"id": 10, "cmd": "verify", "origin": LK, "args": {"cms": r["result"]["cms"]}})["result"]
assert v["valid"] and len(v["signers"]) == 2 and base64.b64decode(v["content"]) == data, v
assert v["signers"][0]["certificate"]["subject"]["ogrn"] == "1027700132195", v
tampered = bytearray(base64.b64decode(first)); i = bytes(tampered).find(data); tampered[i] ^= 1
v = call({"id": 11, "cmd": "verify", "origin": LK, "args": {"cms": base64.b64encode(bytes(tampered)).decode()}})["result"]
assert not v["valid"] and v["code"] != "OK", v
hcms = base64.b64encode(open(cms, "rb").read()).decode()
v = call({"id": 12, "cmd": "verify", "origin": LK, "args": {"cms": hcms, "data": base64.b64encode(data).decode()}})["result"]
assert v["valid"] and not v["attached"], v
v = call({"id": 13, "cmd": "verify", "origin": LK, "args": {"cms": hcms, "data": base64.b64encode(b"other").decode()}})["result"]
assert not v["valid"], v
r = call({"id": 14, "cmd": "verify", "origin": LK, "args": {"cms": "AAAA"}})
assert not r["ok"] and r["error"]["code"] == "CMS_PARSE", r
ok("verify: two signers and the content; a tampered CMS and wrong detached data are not valid")

EXT = "extension:"  # the extension's own popup (gostsign-nmhost passes exactly this origin)
o = call({"id": 15, "cmd": "origins", "origin": EXT})["result"]
assert "https://esia.gosuslugi.ru" in o["allowed"] and OTHER in o["allowed"] and not o["locked"], o
r = call({"id": 16, "cmd": "tokens", "origin": "https://new-site.example.ru"})
assert r["error"]["code"] == "ORIGIN_NOT_ALLOWED", r
# a web origin, even an allowed one, can neither read nor change the user's list
for args in ({}, {"add": "https://new-site.example.ru"}, {"remove": OTHER}):
    r = call({"id": 22, "cmd": "origins", "origin": LK, "args": args})
    assert not r["ok"] and r["error"]["code"] == "ORIGIN_NOT_ALLOWED", (args, r)
assert call({"id": 23, "cmd": "tokens", "origin": "https://new-site.example.ru"})["error"]["code"] == "ORIGIN_NOT_ALLOWED"
o = call({"id": 17, "cmd": "origins", "origin": EXT, "args": {"add": "https://new-site.example.ru"}})["result"]
assert "https://new-site.example.ru" in o["user"], o
assert call({"id": 18, "cmd": "tokens", "origin": "https://new-site.example.ru"})["ok"]
saved = json.load(open(os.path.join(os.environ["XDG_CONFIG_HOME"], "gostsign", "origins.json")))
assert saved["allowed_origins"] == ["https://new-site.example.ru"], saved
for bad in ("http://x.ru", "https://*.x.ru", "https://x.ru/path"):
    r = call({"id": 19, "cmd": "origins", "origin": EXT, "args": {"add": bad}})
    assert not r["ok"], (bad, r)
call({"id": 20, "cmd": "origins", "origin": EXT, "args": {"remove": "https://new-site.example.ru"}})
assert call({"id": 21, "cmd": "tokens", "origin": "https://new-site.example.ru"})["error"]["code"] == "ORIGIN_NOT_ALLOWED"
# the extension itself reads the status (tokens with the agent's pause, certificates) but never signs
t = call({"id": 24, "cmd": "tokens", "origin": EXT})["result"]
assert t and all(isinstance(x["agent_attempts_left"], int) and "resume_at" not in x for x in t), t
assert call({"id": 25, "cmd": "certificates", "origin": EXT})["ok"]
for cmd, args in (("sign", {"data": "eA==", "detached": True}), ("authenticate", {"challenge": "c" * 16}),
                  ("sign_raw", {"digest": "00" * 32})):
    r = call({"id": 26, "cmd": cmd, "origin": EXT, "args": args})
    assert not r["ok"] and r["error"]["code"] == "ORIGIN_NOT_ALLOWED", (cmd, r)
ok("origins: only for the extension itself (not pages); a site added and removed by the user, stored in origins.json; the extension reads tokens (with the agent pause) and certificates, never signs")
PY
ok "protocol version 2: hash, raw, options, chain, co-sign, verify, DER, origins (checked with openssl)"
echo "$PASSED passed, 0 failed"
