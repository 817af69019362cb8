#!/usr/bin/env python3
"""Demo "cabinet": a relying party that logs users in with a GOST R 34.10-2012 signature.

The server issues a random challenge (single use, expiring), receives the CMS made by the
gostsign agent for `authenticate`, verifies it with the project's verifier (`gostsign verify
--ca-file` of the demo CA: signature, certificate validity, chain), extracts the signed text and
checks that it binds this server's own origin, the challenge it issued and a fresh time. A
replayed or tampered signature is refused. On success it shows "вошли как <организация>, ИНН …,
ОГРН …". Python standard library only; a demo, not a production server.

Usage: cabinet.py --gostsign BIN --ca-file CA.pem [--port N] [--bind ADDR] [--origin ORIGIN]
                  [--tls-cert F --tls-key F] [--port-file F]
"""
import argparse
import base64
import binascii
import datetime
import html
import http.server
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile
import threading
import time

CHALLENGE_TTL = 120  # seconds a challenge stays usable
LOGIN_MARK = "gostsign-authenticate-v1"
MAX_SKEW = 300  # accepted difference between the signed time and the server clock
HERE = os.path.dirname(os.path.abspath(__file__))


class Challenges:
    """Issued challenges: random, single use, expiring."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued = {}

    def issue(self):
        """A new random challenge (printable ASCII, as the protocol requires)."""
        c = "cabinet-" + secrets.token_hex(24)
        with self.lock:
            now = time.time()
            self.issued = {k: v for k, v in self.issued.items() if v > now}
            self.issued[c] = now + CHALLENGE_TTL
        return c

    def consume(self, c):
        """True once for a live challenge we issued; never again."""
        with self.lock:
            expiry = self.issued.pop(c, None)
        return expiry is not None and expiry > time.time()


class LoginError(Exception):
    """A refused login: a stable code for scripts plus a Russian text for people."""

    def __init__(self, code, text):
        super().__init__(text)
        self.code = code
        self.text = text


def run(cmd, **kw):
    """Runs a command, returning (status, stdout text, stderr text)."""
    p = subprocess.run(cmd, capture_output=True, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def verifier_fields(verdict):
    """Owner, organisation and registration numbers from `gostsign verify --json`'s signer."""
    subject = ((verdict.get("signer") or {}).get("subject")) or {}
    fields = {}
    for key, name in (("owner", "cn"), ("title", "t"), ("organisation", "o"), ("inn", "inn"),
                      ("innle", "innle"), ("ogrn", "ogrn"), ("ogrnip", "ogrnip")):
        if subject.get(name):
            fields[key] = subject[name]
    return fields


def signed_content(sig_path):
    """The attached content of the CMS (the verifier already checked the signature)."""
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    status, out, err = run(["openssl", "cms", "-verify", "-noverify", "-engine", "gost",
                            "-inform", "DER", "-in", sig_path, "-binary", "-out", "/dev/stdout"],
                           env=env)
    if status != 0:
        raise LoginError("CMS_PARSE", "подпись не содержит подписанного текста")
    return out


def has_login_mark(sig_path):
    """True when the signed attributes carry the contentHints mark only `authenticate` makes.

    Read with openssl, not with gostsign: a `sign` over login-shaped text has no such attribute,
    so a page cannot pass a document signature off as a login (docs/protocol.md)."""
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    status, out, err = run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER",
                            "-in", sig_path], env=env)
    if status != 0:
        return False
    m = re.search(r"object: id-smime-aa-contentHint \(1\.2\.840\.113549\.1\.9\.16\.2\.4\)"
                  r"\s+set:\s+SEQUENCE:\s+.*?UTF8STRING\s+:(\S+)\s*\n.*?OBJECT\s+:pkcs7-data",
                  out, re.S)
    return bool(m) and m.group(1) == LOGIN_MARK


def check_signed_text(text, origin, challenge):
    """Checks the authenticate text binds our origin, the challenge we issued, and a fresh time."""
    lines = text.split("\n")
    if len(lines) != 5 or lines[0] != "gostsign-authenticate-v1" or lines[4] != "":
        raise LoginError("BAD_SIGNED_TEXT", "подписан не текст входа gostsign")
    if lines[1] != "origin: " + origin:
        raise LoginError("ORIGIN_MISMATCH", "подпись сделана для другого сайта: " + lines[1][8:])
    if lines[2] != "challenge: " + challenge:
        raise LoginError("CHALLENGE_MISMATCH", "подписан другой запрос входа")
    m = re.fullmatch(r"time: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", lines[3])
    if not m:
        raise LoginError("BAD_SIGNED_TEXT", "в подписанном тексте нет времени")
    signed = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - signed).total_seconds())
    if skew > MAX_SKEW:
        raise LoginError("STALE_SIGNATURE", "время подписи отличается на %d с" % skew)


class Cabinet:
    """The relying party's logic, independent of HTTP."""

    def __init__(self, gostsign, ca_file, origin):
        self.gostsign = gostsign
        self.ca_file = ca_file
        self.origin = origin
        self.challenges = Challenges()
        self.sessions = {}

    def login(self, challenge, cms_b64):
        """Verifies one login; returns the user's description or raises LoginError."""
        if not isinstance(challenge, str) or not isinstance(cms_b64, str):
            raise LoginError("BAD_REQUEST", "нужны challenge и cms")
        try:
            der = base64.b64decode(cms_b64, validate=True)
        except (binascii.Error, ValueError):
            raise LoginError("BAD_REQUEST", "cms не в base64")
        with tempfile.TemporaryDirectory(prefix="cabinet-") as tmp:
            sig = os.path.join(tmp, "login.p7s")
            with open(sig, "wb") as f:
                f.write(der)
            # the JSON verdict: stable fields, whatever the locale's language
            status, report, err = run([self.gostsign, "verify", "--json", "--ca-file",
                                       self.ca_file, sig])
            try:
                verdict = json.loads(report)
            except ValueError:
                verdict = {}
            if status != 0:
                raise LoginError(verdict.get("code") or "VERIFY_FAILED",
                                 "подпись не прошла проверку: " +
                                 (verdict.get("message_ru") or err.strip().split("\n")[0]))
            text = signed_content(sig)
            marked = has_login_mark(sig)
        if not marked:
            raise LoginError("NOT_A_LOGIN", "подпись сделана не командой входа (нет отметки входа)")
        check_signed_text(text, self.origin, challenge)
        # Only now, after the signature and the binding checked out, spend the challenge.
        if not self.challenges.consume(challenge):
            raise LoginError("CHALLENGE_REUSED", "запрос входа уже использован или устарел")
        user = verifier_fields(verdict)
        if not user.get("organisation"):
            raise LoginError("NO_ORGANISATION", "в сертификате нет организации")
        return user


def describe(user):
    """The one line the demo prints and the page shows after a login."""
    inn = user.get("innle") or user.get("inn", "")
    reg = ("ОГРН " + user["ogrn"]) if user.get("ogrn") else ("ОГРНИП " + user.get("ogrnip", ""))
    who = user.get("owner", "")
    if user.get("title"):
        who += ", " + user["title"]
    return "вошли как %s, ИНН %s, %s (%s)" % (user["organisation"], inn, reg, who)


class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP front of the cabinet: the login page, the challenge and login APIs."""

    cabinet = None
    server_version = "gostsign-cabinet"

    def log_message(self, fmt, *args):
        """Logs requests to stderr with the cabinet's name."""
        sys.stderr.write("cabinet: " + (fmt % args) + "\n")

    def send_body(self, status, body, ctype):
        """Sends a complete response with security headers."""
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj):
        """Sends a JSON response."""
        self.send_body(status, json.dumps(obj, ensure_ascii=False), "application/json; charset=utf-8")

    def do_GET(self):
        """The login page (and its script)."""
        if self.path in ("/", "/index.html"):
            with open(os.path.join(HERE, "login.html"), encoding="utf-8") as f:
                page = f.read().replace("@ORIGIN@", html.escape(self.cabinet.origin))
            self.send_body(200, page, "text/html; charset=utf-8")
        elif self.path == "/login.js":
            with open(os.path.join(HERE, "login.js"), encoding="utf-8") as f:
                self.send_body(200, f.read(), "text/javascript; charset=utf-8")
        elif self.path == "/favicon.ico":
            self.send_body(204, "", "image/x-icon")
        else:
            self.send_body(404, "not found", "text/plain; charset=utf-8")

    def read_json(self):
        """The request body as a JSON object (at most 1 MiB)."""
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1024 * 1024:
            raise LoginError("BAD_REQUEST", "слишком большой запрос")
        try:
            obj = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            raise LoginError("BAD_REQUEST", "тело запроса не JSON")
        if not isinstance(obj, dict):
            raise LoginError("BAD_REQUEST", "тело запроса не объект")
        return obj

    def do_POST(self):
        """POST /api/challenge issues a challenge; POST /api/login checks a signature."""
        try:
            if self.path == "/api/challenge":
                self.send_json(200, {"challenge": self.cabinet.challenges.issue()})
            elif self.path == "/api/login":
                body = self.read_json()
                user = self.cabinet.login(body.get("challenge"), body.get("cms"))
                self.log_message("login ok: %s", describe(user))
                self.send_json(200, {"ok": True, "user": user, "text": describe(user)})
            else:
                self.send_json(404, {"ok": False, "code": "NOT_FOUND", "text": "нет такого адреса"})
        except LoginError as e:
            self.log_message("login refused: %s %s", e.code, e.text)
            self.send_json(403, {"ok": False, "code": e.code, "text": e.text})
        except OSError as e:  # e.g. the verifier could not be run
            self.log_message("internal error: %s", e)
            self.send_json(500, {"ok": False, "code": "INTERNAL", "text": "ошибка сервера: %s" % e})


def main():
    """Parses options, binds the port and serves until killed."""
    ap = argparse.ArgumentParser(description="gostsign demo cabinet (relying party)")
    ap.add_argument("--gostsign", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--origin", help="this site's origin as browsers see it")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    a = ap.parse_args()
    server = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    port = server.server_address[1]
    scheme = "https" if a.tls_cert else "http"
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    origin = a.origin or "%s://localhost:%d" % (scheme, port)
    Handler.cabinet = Cabinet(a.gostsign, a.ca_file, origin.replace("{port}", str(port)))
    sys.stderr.write("cabinet: serving %s on %s:%d\n" % (Handler.cabinet.origin, a.bind, port))
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
