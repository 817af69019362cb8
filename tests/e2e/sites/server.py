#!/usr/bin/env python3
"""Test web server for the adapters' browser test: three small sites written from the public facts
of the CryptoPro, Gosplugin and IFCPlugin page APIs (cryptopro.html, gosplugin.html,
ifcplugin.html), served over TLS on one port for every host name Chromium maps to 127.0.0.1.

The server issues the bytes to sign (a random document, or for the ESIA-style login a hex
challenge whose ASCII is signed) and verifies every returned CMS with `openssl cms -verify` and the
GOST engine (OPENSSL_CONF=/dev/null, -CAfile the demo CA), then checks that the signed bytes are the
ones it issued. Each verdict is one line on stderr ("VERIFIED host kind id" or "REFUSED ...").
Python standard library only.

Usage: server.py --root DIR --ca-file CA.pem --tls-cert F --tls-key F --port-file F
"""
import argparse
import base64
import binascii
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import threading

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class Issued:
    """Bytes handed out for signing, by id; each verifies once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}

    def add(self, data):
        """Stores data under a new random id and returns the id."""
        i = secrets.token_hex(8)
        with self.lock:
            self.items[i] = data
        return i

    def take(self, i):
        """The data issued under id, once; None for an unknown or spent id."""
        with self.lock:
            return self.items.pop(i, None)


def verify_cms(ca_file, der, issued, detached):
    """(ok, text): the CMS verifies with openssl and the GOST engine over the issued bytes."""
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    with tempfile.TemporaryDirectory(prefix="adapters-site-") as tmp:
        sig, data, out = (os.path.join(tmp, n) for n in ("sig.der", "data.bin", "out.bin"))
        with open(sig, "wb") as f:
            f.write(der)
        cmd = ["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
               "-in", sig, "-CAfile", ca_file, "-purpose", "any", "-out", out]
        if detached:
            with open(data, "wb") as f:
                f.write(issued)
            cmd += ["-content", data]
        p = subprocess.run(cmd, capture_output=True, env=env)
        if p.returncode != 0:
            return False, "openssl cms -verify: " + p.stderr.decode("utf-8", "replace").strip()[-300:]
        with open(out, "rb") as f:
            content = f.read()
    if content != issued:
        return False, "signed bytes differ from the issued ones"
    return True, "ok"


class Handler(http.server.BaseHTTPRequestHandler):
    """The sites' files and their small APIs."""

    root = None
    ca_file = None
    issued = Issued()
    server_version = "adapters-test-site"

    def log_message(self, fmt, *args):
        """Access log on stderr."""
        sys.stderr.write("site: %s %s\n" % (self.headers.get("Host", "-"), fmt % args))

    def send_json(self, status, obj):
        """A JSON response."""
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        """Static files of the sites (no directories, no dot files)."""
        name = self.path.split("?", 1)[0].lstrip("/") or "index.html"
        path = os.path.join(self.root, name)
        if "/" in name or name.startswith(".") or not os.path.isfile(path):
            self.send_json(404, {"error": "not found"})
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(os.path.splitext(name)[1], "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        """POST /api/document, /api/challenge, /api/verify, /login/digital/validate."""
        host = self.headers.get("Host", "-").split(":")[0]
        try:
            length = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, json.JSONDecodeError):
            self.send_json(400, {"error": "bad json"})
            return
        if self.path == "/api/document":
            size = min(int(req.get("size", 1000)), 2 * 1024 * 1024)
            data = secrets.token_bytes(size)
            self.send_json(200, {"id": self.issued.add(data), "data": base64.b64encode(data).decode()})
        elif self.path == "/api/challenge":
            challenge = secrets.token_hex(32)
            self.send_json(200, {"id": self.issued.add(challenge.encode("ascii")),
                                 "digital_challenge": challenge})
        elif self.path in ("/api/verify", "/login/digital/validate"):
            kind = "login" if self.path.startswith("/login") else "document"
            issued = self.issued.take(str(req.get("id", "")))
            try:
                der = base64.b64decode(str(req.get("signature", "")).replace("\r", "").replace("\n", ""),
                                       validate=True)
            except (binascii.Error, ValueError):
                der = b""
            if issued is None or not der:
                ok, text = False, "unknown id or no signature"
            else:
                ok, text = verify_cms(self.ca_file, der, issued, bool(req.get("detached")))
            sys.stderr.write("%s %s %s %s %s\n" % ("VERIFIED" if ok else "REFUSED", host, kind,
                                                   "detached" if req.get("detached") else "attached",
                                                   text))
            self.send_json(200 if ok else 403, {"ok": ok, "text": text})
        else:
            self.send_json(404, {"error": "not found"})


def main():
    """Serves until killed."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--tls-cert", required=True)
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    Handler.root = os.path.abspath(a.root)
    Handler.ca_file = a.ca_file
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls_cert, a.tls_key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(httpd.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
