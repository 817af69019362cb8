#!/usr/bin/env python3
"""gostsign benchmark harness (issue 6). Prints every figure, and the ratio against the peer
measured in the same run wherever a peer exists. Targets are reported as met or missed; the
harness never fails because a machine is slow: it exits non-zero only on a functional failure
(a wrong digest, a signature that does not verify, an agent that does not answer).

usage: bench.py [--build DIR] [--only 1,3,...] [--markdown FILE]
  `meson test -C BUILD --benchmark -v` runs it with the paths set by meson.
  GOSTSIGN_BENCH_FULL=1 selects the issue's full sizes (256 MiB, 1000 requests, 60 s idle);
  the default sizes are smaller so the whole run stays within a few minutes on 2 cores.

Figures: 1 Streebog throughput vs `openssl dgst -engine gost`; 2 GOST R 34.10-2012 sign/verify
through the software token vs EVP, the agent-shaped login/sign/logout path, SoftHSM2 ECDSA P-256;
3 end-to-end `sign` through nmhost -> agent -> token -> CMS, gpg-agent PKSIGN; 4 certificate
listing cold and warm, `pkcs11-tool -O`; 5 hotplug; 6 idle cost of the agent beside gpg-agent
and pcscd, nmhost start, the first request with no agent; 7 batch signing after one PIN.
Peers print gostsign / peer. docs/performance.md explains each figure and records a run.
"""
import argparse
import base64
import json
import math
import os
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

FULL = os.environ.get("GOSTSIGN_BENCH_FULL") == "1"
SIZES = {
    "digest_large_mib": 256 if FULL else 64,
    "digest_repeats": {"1 KiB": 21, "1 MiB": 11, "large": 5},
    "token_round_seconds": 2.0 if FULL else 0.5,
    "latency_requests": 1000 if FULL else 100,
    "throughput_requests": 320 if FULL else 64,
    "cert_warm_calls": 1000 if FULL else 200,
    "hotplug_rounds": 20 if FULL else 5,
    "idle_seconds": 60 if FULL else 20,
    "nmhost_starts": 100 if FULL else 30,
    "batch_files": 1000 if FULL else 200,
}
ORIGIN = "https://lk.example.ru"
EXTENSION = "chrome-extension://eheonckkicighmijehmciaofenagbejk/"
DEMO_PIN = "12345678"  # the demo token's documented PIN
KDF_ITERATIONS = "2000"  # test-only PIN key derivation count, as in the integration tests
SHIM_SLOTS = ["login", "sign", "session", "find", "attributes", "info", "logout"]


class BenchFailure(Exception):
    """A functional failure: the only reason the harness exits non-zero."""


# ---------------------------------------------------------------- reporting

RESULTS = []


def report(figure, name, value, unit, peer=None, ratio=None, target=None, met=None, note=""):
    """Prints one figure and keeps it for the summary (and the optional markdown table)."""
    line = "  %-44s %12s %-6s" % (name, fmt(value), unit)
    if peer is not None:
        line += "  peer %s %s" % (fmt(peer), unit)
    if ratio is not None:
        line += "  ratio %.2f" % ratio
    if target:
        line += "  [target %s: %s]" % (target, "met" if met else "MISSED")
    if note:
        line += "  (%s)" % note
    print(line, flush=True)
    RESULTS.append(dict(figure=figure, name=name, value=value, unit=unit, peer=peer,
                        ratio=ratio, target=target, met=met, note=note))


def fmt(v):
    """Numbers with a sensible number of digits."""
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v == 0 or abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def section(title):
    """Prints a figure heading."""
    print("\n== %s" % title, flush=True)


def pct(values, p):
    """The p-th percentile (nearest rank) of a list."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def write_markdown(path):
    """Writes the results as a markdown table (for docs/performance.md)."""
    with open(path, "w") as f:
        f.write("| # | figure | value | peer | ratio | target | |\n")
        f.write("| --- | --- | --- | --- | --- | --- | --- |\n")
        for r in RESULTS:
            f.write("| %s | %s | %s %s | %s | %s | %s | %s |\n" % (
                r["figure"], r["name"] + (" (%s)" % r["note"] if r["note"] else ""),
                fmt(r["value"]), r["unit"],
                "" if r["peer"] is None else "%s %s" % (fmt(r["peer"]), r["unit"]),
                "" if r["ratio"] is None else "%.2f" % r["ratio"], r["target"] or "",
                "" if r["target"] is None else ("met" if r["met"] else "**missed**")))


# ---------------------------------------------------------------- processes and framing

def run_measured(argv, env=None):
    """Runs a command; returns (seconds, stdout, peak RSS in KiB, exit status).

    The peak comes from /usr/bin/time -f %M, a small launcher that is not this harness: the
    ru_maxrss of a child forked from Python inherits the harness's own RSS (a fork copies the
    parent's accounting), so it could never show a small program's true peak. The time includes
    the launcher's exec, the same for every command compared."""
    fd, peak_file = tempfile.mkstemp(prefix="gostsign-bench-peak.")
    os.close(fd)
    t0 = time.perf_counter()
    p = subprocess.run([TIME_BIN, "-f", "%M", "-o", peak_file, "--"] + list(argv),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    seconds = time.perf_counter() - t0
    with open(peak_file) as f:
        lines = [l for l in f.read().split() if l.isdigit()]
    os.unlink(peak_file)
    peak = int(lines[-1]) if lines else 0
    return seconds, p.stdout, peak, p.returncode


TIME_BIN = "/usr/bin/time"  # Debian's `time` package (scripts/deps.sh installs it)


def frame(obj):
    """One protocol frame: native-endian u32 length + UTF-8 JSON."""
    body = json.dumps(obj).encode()
    return struct.pack("=I", len(body)) + body


class Conn:
    """A framed connection: the agent socket directly, or a gostsign-nmhost's stdin/stdout."""

    def __init__(self, sock_path=None, nmhost=None, env=None, stderr=None):
        self.proc = self.sock = None
        if nmhost:
            self.proc = subprocess.Popen([nmhost, EXTENSION], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=stderr, env=env,
                                         bufsize=0)
        else:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(120)
            self.sock.connect(sock_path)

    def send(self, obj):
        """Writes one request."""
        if self.sock:
            self.sock.sendall(frame(obj))
        else:
            self.proc.stdin.write(frame(obj))

    def _read(self, n):
        """Reads exactly n bytes or raises."""
        buf = b""
        while len(buf) < n:
            part = self.sock.recv(n - len(buf)) if self.sock else self.proc.stdout.read(n - len(buf))
            if not part:
                raise BenchFailure("connection closed by the peer")
            buf += part
        return buf

    def receive(self):
        """Reads one message."""
        (n,) = struct.unpack("=I", self._read(4))
        return json.loads(self._read(n))

    def request(self, obj, events=None):
        """Sends a request and waits for its final reply; events get (name, time) appended."""
        self.send(obj)
        while True:
            m = self.receive()
            if m.get("id") != obj.get("id"):
                continue
            if "event" in m:
                if events is not None:
                    events.append((m["event"], time.perf_counter()))
                continue
            return m

    def close(self):
        """Closes the connection (and lets the host exit)."""
        if self.sock:
            self.sock.close()
        else:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc.stdout.close()


def ok_result(reply, what):
    """The result of a successful reply, or a functional failure."""
    if not reply.get("ok"):
        raise BenchFailure("%s failed: %s" % (what, json.dumps(reply)[:400]))
    return reply["result"]


# ---------------------------------------------------------------- the bench environment

class Bench:
    """Paths, the work directory, the demo token and the agent under test."""

    def __init__(self, build):
        self.build = build
        # Programs come from the environment meson sets; else from the build's folder layout.
        self.gostsign = os.environ.get("GOSTSIGN", os.path.join(build, "cli", "gostsign"))
        self.agent_bin = os.environ.get("GOSTSIGN_AGENT",
                                        os.path.join(build, "agent", "gostsign-agent"))
        self.nmhost = os.environ.get("GOSTSIGN_NMHOST",
                                     os.path.join(build, "native-messaging", "gostsign-nmhost"))
        self.module = os.environ.get("SOFTTOKEN_MODULE",
                                     os.path.join(build, "pkcs11", "softtoken", "gostsign-softtoken.so"))
        self.setup = os.environ.get("SOFTTOKEN_SETUP",
                                    os.path.join(build, "pkcs11", "softtoken", "gostsign-softtoken-setup"))
        self.pinentry = os.environ.get("SCRIPTED_PINENTRY",
                                       os.path.join(build, "tests", "pinentry", "scripted-pinentry"))
        self.bench_token = os.environ.get("BENCH_TOKEN", os.path.join(build, "tests", "bench", "bench-token"))
        self.shim = os.environ.get("BENCH_TIMING_SHIM",
                                   os.path.join(build, "tests", "bench", "gostsign-bench-timing.so"))
        self.work = tempfile.mkdtemp(prefix="gostsign-bench.")
        self.agent = None
        self.cert = None
        self.env = None

    def path(self, *parts):
        """A path inside the work directory."""
        return os.path.join(self.work, *parts)

    def prepare(self):
        """The demo token, the agent's config and the environment every process gets."""
        for d in ("tokens", "run", "config/gostsign", "staging", "state", "cache"):
            os.makedirs(self.path(d), exist_ok=True)
        os.chmod(self.path("run"), 0o700)
        env = dict(os.environ)
        env.update(GOSTSIGN_SOFTTOKEN_DIR=self.path("tokens"),
                   GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=KDF_ITERATIONS,
                   GOSTSIGN_AGENT_SOCKET=self.path("run", "agent.sock"),
                   XDG_RUNTIME_DIR=self.path("run"), XDG_CONFIG_HOME=self.path("config"),
                   XDG_STATE_HOME=self.path("state"), XDG_CACHE_HOME=self.path("cache"),
                   GOSTSIGN_AUDIT_FILE=self.path("audit.log"),
                   GS_TEST_PINENTRY_SCRIPT=self.path("pinentry.script"),
                   GOSTSIGN_NMHOST_CONFIG=self.path("nmhost.json"),
                   GOSTSIGN_AGENT_BIN="/bin/false",  # never start a second agent on demand
                   GOSTSIGN_BENCH_REAL_MODULE=self.module,
                   GOSTSIGN_BENCH_P11_STATS=self.path("p11.stats"))
        env.pop("GS_TEST_PINENTRY_RECORD", None)
        self.env = env
        with open(self.path("pinentry.script"), "w") as f:
            f.write("pin %s\n" % DEMO_PIN)
        self.make_token(self.path("tokens"), self.path("demo"))
        with open(self.path("config/gostsign/agent.json"), "w") as f:
            json.dump({"modules": [self.shim], "pinentry": self.pinentry,
                       "allowed_origins": [ORIGIN], "request_timeout_seconds": 120,
                       "pin_max_failures": 3}, f)

    def make_token(self, token_dir, out_dir):
        """Creates a demo token (key, certificate) in token_dir with gostsign-softtoken-setup."""
        env = dict(self.env, GOSTSIGN_SOFTTOKEN_DIR=token_dir)
        r = subprocess.run([self.setup, "--module", self.module, "--out", out_dir], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise BenchFailure("gostsign-softtoken-setup: %s" % r.stderr.decode()[-400:])

    def start_agent(self):
        """Starts the agent in the foreground; returns seconds until its socket accepts.

        The agent says READY=1 on $NOTIFY_SOCKET (sd_notify) right after listen(); the harness
        waits for that datagram instead of polling connect(): a poll every 1 ms adds up to 1 ms
        to this figure (the peer of the cold figures), a tighter one takes CPU from the agent
        starting on the same 2 cores. One connect afterwards checks the socket does accept."""
        sock = self.env["GOSTSIGN_AGENT_SOCKET"]
        if os.path.exists(sock):
            os.unlink(sock)
        notify_path = self.path("run", "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        log = open(self.path("agent.log"), "ab")
        try:
            t0 = time.perf_counter()
            self.agent = subprocess.Popen([self.agent_bin, "--system-config", "/nonexistent",
                                           "--user-config", self.path("config/gostsign/agent.json"),
                                           "--socket", sock], stderr=log,
                                          env=dict(self.env, NOTIFY_SOCKET=notify_path))
            seconds = self.wait_ready(notify, t0)
        finally:
            log.close()
            notify.close()
            os.unlink(notify_path)
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)  # the agent said ready: its socket accepts now
        s.close()
        return seconds

    def wait_ready(self, notify, t0, limit=30.0):
        """Seconds from t0 to the agent's READY=1 datagram on notify; fails if it exits first."""
        while time.perf_counter() - t0 < limit:
            ready, _, _ = select.select([notify], [], [], 0.05)
            if ready:
                if b"READY=1" in notify.recv(4096).split(b"\n"):
                    return time.perf_counter() - t0
            elif self.agent.poll() is not None:
                raise BenchFailure("the agent exited: see %s" % self.path("agent.log"))
        raise BenchFailure("the agent did not say READY=1")

    def stop_agent(self):
        """Stops the agent this harness started (by its pid)."""
        if self.agent and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        self.agent = None

    def connect(self):
        """A direct connection to the agent's socket."""
        return Conn(sock_path=self.env["GOSTSIGN_AGENT_SOCKET"])

    def nm(self):
        """A gostsign-nmhost started as a browser starts it."""
        return Conn(nmhost=self.nmhost, env=self.env)

    def certificate(self):
        """The demo certificate's id (asks the agent once)."""
        if not self.cert:
            c = self.connect()
            certs = ok_result(c.request({"id": 1, "cmd": "certificates", "origin": ORIGIN}),
                              "certificates")
            c.close()
            if not certs:
                raise BenchFailure("the agent lists no certificate")
            self.cert = certs[0]["id"]
        return self.cert

    def shim_counters(self):
        """{slot: (calls, ns)} from the timing shim's shared counters."""
        try:
            with open(self.path("p11.stats"), "rb") as f:
                data = f.read(16 * len(SHIM_SLOTS))
        except OSError:
            data = b""
        if len(data) < 16 * len(SHIM_SLOTS):
            return {k: (0, 0) for k in SHIM_SLOTS}
        v = struct.unpack("<%dQ" % (2 * len(SHIM_SLOTS)), data)
        return {k: (v[2 * i], v[2 * i + 1]) for i, k in enumerate(SHIM_SLOTS)}

    def cleanup(self):
        """Stops the agent and removes the work directory."""
        self.stop_agent()
        shutil.rmtree(self.work, ignore_errors=True)


def counters_delta(before, after):
    """Per-slot (calls, seconds) between two shim snapshots."""
    return {k: (after[k][0] - before[k][0], (after[k][1] - before[k][1]) / 1e9) for k in after}


# ---------------------------------------------------------------- figure 1: Streebog

def fig1_digest(b):
    """Streebog-256/-512 throughput: gostsign digest vs openssl dgst -engine gost."""
    section("1. Streebog throughput: gostsign digest vs openssl dgst -engine gost (same files)")
    large = SIZES["digest_large_mib"]
    files = {"1 KiB": 1024, "1 MiB": 1 << 20, "%d MiB" % large: large << 20}
    paths = {}
    for label, size in files.items():
        p = b.path("digest-%d.bin" % size)
        with open(p, "wb") as f:
            left = size
            while left:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n
        paths[label] = p
    ossl_env = dict(os.environ, OPENSSL_CONF="/dev/null")
    rss = {}
    for bits in (256, 512):
        for label, p in paths.items():
            reps = SIZES["digest_repeats"].get(label, SIZES["digest_repeats"]["large"])
            ours_cmd = [b.gostsign, "digest", "--bits", str(bits), p]
            peer_cmd = ["openssl", "dgst", "-engine", "gost", "-md_gost12_%d" % bits, p]
            run_measured(ours_cmd)  # warm the page cache and the dynamic loader
            ours, peer = [], []
            for _ in range(reps):  # interleaved, so drift hits both alike
                t, out, maxrss, rc = run_measured(ours_cmd)
                t2, out2, _, rc2 = run_measured(peer_cmd, ossl_env)
                if rc != 0 or rc2 != 0:
                    raise BenchFailure("digest of %s failed (exit %d / %d)" % (label, rc, rc2))
                if out.split()[-1] != out2.split()[-1]:
                    raise BenchFailure("Streebog-%d of %s differs from openssl" % (bits, label))
                ours.append(t)
                peer.append(t2)
                rss[(bits, label)] = max(rss.get((bits, label), 0), maxrss)
            mo, mp = statistics.median(ours), statistics.median(peer)
            size = files[label]
            if size >= (1 << 20):
                report(1, "Streebog-%d %s throughput" % (bits, label), size / mo / 2**20, "MiB/s",
                       peer=size / mp / 2**20, ratio=mp / mo, target=">= 1.0 (3% noise)", met=mp / mo >= 0.97,
                       note="median of %d" % reps)
            else:
                report(1, "Streebog-%d %s (one process run)" % (bits, label), mo * 1e3, "ms",
                       peer=mp * 1e3, ratio=mp / mo, target=">= 1.0 (3% noise)", met=mp / mo >= 0.97,
                       note="process start dominates; ratio = peer time / our time")
    for bits in (256, 512):
        small, big = rss[(bits, "1 KiB")], rss[(bits, "%d MiB" % large)]
        report(1, "peak RSS, Streebog-%d, %d MiB vs 1 KiB" % (bits, large), big / 1024.0, "MiB",
               target="constant memory", met=big - small < 1024,
               note="1 KiB input: %.1f MiB" % (small / 1024.0))
    for p in paths.values():
        os.unlink(p)


# ---------------------------------------------------------------- figure 2: sign/verify ops/s

def fig2_token(b):
    """GOST R 34.10-2012 sign/verify ops/s through the softtoken vs the EVP path."""
    section("2. GOST R 34.10-2012 ops/s: software token (C_Sign, raw mechanism) vs EVP_PKEY_sign")
    d = b.path("bench-token-dir")
    os.makedirs(d)
    env = dict(b.env, GOSTSIGN_SOFTTOKEN_DIR=d)
    r = subprocess.run([b.bench_token, b.module, str(SIZES["token_round_seconds"])], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    if r.returncode != 0:
        raise BenchFailure("bench-token: %s" % r.stderr.decode()[-400:])
    vals = {}
    for line in r.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "RESULT":
            vals[parts[1]] = parts[2]
    for bits in (256, 512):
        for op in ("sign", "verify"):
            ours = float(vals["token-%s-%d" % (op, bits)])
            peer = float(vals["evp-%s-%d" % (op, bits)])
            report(2, "%s %d through the token" % (op, bits), ours, "ops/s", peer=peer,
                   ratio=ours / peer, target=">= 0.9", met=ours / peer >= 0.9,
                   note="median of 3 rounds of %.1f s" % SIZES["token_round_seconds"])
    for bits in (256, 512):
        for kind in ("priv", "pub"):
            key = "rebuild-%s-%d-us" % (kind, bits)
            if key in vals:
                report(2, "key object -> EVP_PKEY (%s, %d) per operation" % (kind, bits),
                       float(vals[key]), "us", note="gost_%skey_from_raw" % kind)
    report(2, "C_Login (PIN key derivation)", float(vals["login-ms"]), "ms",
           note="%s PBKDF2 iterations (test tokens; real tokens: 200000)" %
           vals.get("login-kdf-iterations", "?"))
    PLAIN_SIGN_US[256] = 1e6 / float(vals["token-sign-256"])
    for bits in (256, 512):
        plain_us = 1e6 / float(vals["token-sign-%d" % bits])
        agent_us = float(vals["agent-path-sign-%d-us" % bits])
        report(2, "agent path: SignInit+Sign after a login, %d" % bits, agent_us, "us",
               peer=plain_us, ratio=agent_us / plain_us, target="<= 3", met=agent_us <= 3 * plain_us,
               note="login/find/sign/logout per request, median; peer: the logged-in session "
               "above; whole request %.0f us" % float(vals["agent-path-request-%d-us" % bits]))
        report(2, "  of which C_SignInit, %d" % bits,
               float(vals["agent-path-signinit-%d-us" % bits]), "us",
               note="C_Login has put the scalar back into the kept key pair")
        report(2, "  a second SignInit+Sign in the same login, %d" % bits,
               float(vals["agent-path-second-sign-%d-us" % bits]), "us",
               note="scalar in place, caches warm again after the PBKDF2 of C_Login")
    softhsm_peer(b, float(vals["token-sign-256"]))


PLAIN_SIGN_US = {}  # figure 2's logged-in C_SignInit+C_Sign, for figure 3's ratio
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"  # Debian's softhsm2 (scripts/deps.sh)


def softhsm_peer(b, ours_ops):
    """SoftHSM2's ECDSA P-256 C_Sign rate beside the software token's GOST-256 one."""
    d = b.path("softhsm")
    os.makedirs(os.path.join(d, "tokens"))
    conf = os.path.join(d, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n" %
                os.path.join(d, "tokens"))
    r = subprocess.run([b.bench_token, "--ecdsa-peer", SOFTHSM_MODULE,
                        str(SIZES["token_round_seconds"])], env=dict(b.env, SOFTHSM2_CONF=conf),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0:
        raise BenchFailure("bench-token --ecdsa-peer (SoftHSM2): %s" % r.stderr.decode()[-400:])
    vals = {p[1]: float(p[2]) for p in (l.split() for l in r.stdout.decode().splitlines())
            if len(p) == 4 and p[0] == "RESULT"}
    peer, evp = vals["peer-ecdsa-p256-sign"], vals["evp-ecdsa-p256-sign"]
    report(2, "sign: token GOST-256 vs SoftHSM2 ECDSA P-256", ours_ops, "ops/s", peer=peer,
           ratio=ours_ops / peer, note="ratio = gostsign / SoftHSM2 (ops/s, higher is better); "
           "C_SignInit+C_Sign over a digest, median of 3")
    report(2, "  SoftHSM2 cost over its own EVP (P-256)", 1e6 / peer - 1e6 / evp, "us",
           note="OpenSSL ECDSA P-256 alone: %.0f ops/s" % evp)


# ---------------------------------------------------------------- figure 3: end-to-end sign

def sign_request(b, rid):
    """One small `sign` request as a page sends it."""
    data = base64.b64encode(b"benchmark document %d\n" % rid).decode()
    return {"id": rid, "cmd": "sign", "origin": ORIGIN,
            "args": {"certificate": b.certificate(), "data": data, "document": "bench.txt"}}


def timed_sign(b, conn, rid):
    """Signs once; returns (total, before-dialog, dialog, after-dialog) seconds."""
    events = []
    t0 = time.perf_counter()
    reply = conn.request(sign_request(b, rid), events)
    t1 = time.perf_counter()
    ok_result(reply, "sign")
    ev = dict(events)
    if "pin-requested" not in ev or "signing" not in ev:
        raise BenchFailure("sign reply without pin-requested/signing events: %s" % events)
    return t1 - t0, ev["pin-requested"] - t0, ev["signing"] - ev["pin-requested"], t1 - ev["signing"]


def verify_one_signature(b, conn):
    """Functional check: openssl cms -verify accepts a signature made through the chain."""
    reply = conn.request(sign_request(b, 999999))
    cms = base64.b64decode(ok_result(reply, "sign")["cms"])
    with open(b.path("check.p7s"), "wb") as f:
        f.write(cms)
    with open(b.path("check.txt"), "wb") as f:
        f.write(b"benchmark document 999999\n")
    r = subprocess.run(["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
                        "-in", b.path("check.p7s"), "-content", b.path("check.txt"),
                        "-CAfile", b.path("demo", "ca.pem"), "-out", "/dev/null"],
                       env=dict(os.environ, OPENSSL_CONF="/dev/null"), capture_output=True)
    if r.returncode != 0:
        raise BenchFailure("openssl cms -verify rejects the benchmark signature: %s" % r.stderr)


def pinentry_alone(b, runs=30):
    """Seconds for one scripted pinentry process: start, greeting, GETPIN, BYE."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen([b.pinentry], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=b.env)
        out = p.communicate(b"GETPIN\nBYE\n", timeout=30)[0]
        times.append(time.perf_counter() - t0)
        if b"D " + DEMO_PIN.encode() not in out:
            raise BenchFailure("scripted pinentry gave no PIN")
    return statistics.median(times)


def throughput(b, clients, total):
    """Requests per second with `clients` nmhost processes signing in parallel."""
    per = max(1, total // clients)
    conns = [b.nm() for _ in range(clients)]
    for i, c in enumerate(conns):  # the hosts are up before the clock starts
        ok_result(c.request({"id": "h%d" % i, "cmd": "hello", "origin": ORIGIN}), "hello")
    errors = []

    def worker(idx):
        try:
            for k in range(per):
                timed_sign(b, conns[idx], idx * 100000 + k)
        except Exception as e:  # noqa: BLE001 - reported as a functional failure below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for c in conns:
        c.close()
    if errors:
        raise BenchFailure("a concurrent client failed: %s" % errors[0])
    return per * clients / elapsed


def fig3_sign(b):
    """End-to-end `sign` latency and throughput through nmhost -> agent -> token -> CMS."""
    n = SIZES["latency_requests"]
    section("3. end-to-end sign through gostsign-nmhost -> agent -> token -> CMS (%d requests)" % n)
    conn = b.nm()
    verify_one_signature(b, conn)
    for i in range(5):  # warm-up
        timed_sign(b, conn, 900000 + i)
    before = b.shim_counters()
    rows, own = [], []
    sign_each = []
    for i in range(n):  # per request: the token's share from the shim, read between requests
        snap = b.shim_counters()
        row = timed_sign(b, conn, i)
        delta = counters_delta(snap, b.shim_counters())
        token_s = sum(v[1] for v in delta.values())
        sign_each.append(delta["sign"][1])
        rows.append(row)
        own.append(row[0] - row[2] - token_s)
    spent = counters_delta(before, b.shim_counters())
    conn.close()
    total = [r[0] for r in rows]
    dialog = [r[2] for r in rows]
    no_dialog = [r[0] - r[2] for r in rows]
    ms = 1e3
    report(3, "sign latency p50", statistics.median(total) * ms, "ms")
    report(3, "sign latency p99", pct(total, 99) * ms, "ms", target="< 1 ms p99",
           met=pct(total, 99) < 1e-3, note="includes the PIN dialog process and C_Login")
    report(3, "  PIN dialog (pinentry process) p50", statistics.median(dialog) * ms, "ms",
           note="pin-requested -> signing events")
    report(3, "  scripted pinentry alone (spawn+GETPIN)", pinentry_alone(b) * ms, "ms",
           note="no agent involved")
    report(3, "  before the dialog p50", statistics.median([r[1] for r in rows]) * ms, "ms",
           note="relay, origin, certificate, token flags")
    report(3, "  after the dialog p50", statistics.median([r[3] for r in rows]) * ms, "ms",
           note="C_Login + C_Sign + CMS + reply")
    per = {k: v[1] / n for k, v in spent.items()}
    in_token = sum(per.values())
    report(3, "  C_Sign (SignInit+Sign) per request", per["sign"] * ms, "ms",
           note="%d SignInit+Sign pairs" % (spent["sign"][0] // 2))
    if 256 in PLAIN_SIGN_US:  # figure 2 ran in this run: the agent's share against bench-token's
        med = statistics.median(sign_each) * 1e6
        ratio = med / PLAIN_SIGN_US[256]
        report(3, "  agent's C_Sign per request (p50) vs bench-token's", med, "us",
               peer=PLAIN_SIGN_US[256], ratio=ratio, target="<= 3", met=ratio <= 3,
               note="peer: figure 2's logged-in sign 256; the agent logs in per request; "
               "p90 %.0f us" % (pct(sign_each, 90) * 1e6))
    report(3, "  C_Login per request", per["login"] * ms, "ms",
           note="PBKDF2, %s iterations" % KDF_ITERATIONS)
    report(3, "  all token calls per request", in_token * ms, "ms")
    mean_total = statistics.mean(total)
    report(3, "agent overhead = total - C_Sign (mean)", (mean_total - per["sign"]) * ms, "ms",
           note="as the issue defines it: dialog and PIN derivation included")
    report(3, "agent's own work = total - dialog - token, p50", statistics.median(own) * ms,
           "ms", note="nmhost relay, JSON, certificate, CMS, audit, reply")
    report(3, "agent's own work = total - dialog - token, p99", pct(own, 99) * ms, "ms",
           target="< 1 ms p99", met=pct(own, 99) < 1e-3)
    report(3, "latency without the dialog p99", pct(no_dialog, 99) * ms, "ms",
           note="still includes C_Login")
    gpg_pksign_peer(b)
    for clients in (1, 8, 32):
        rps = throughput(b, clients, SIZES["throughput_requests"])
        report(3, "sign throughput, %d client(s)" % clients, rps, "req/s",
               note="%d requests; signing is serialised per token" %
               (max(1, SIZES["throughput_requests"] // clients) * clients))


class Assuan:
    """A minimal Assuan client on gpg-agent's socket (the peer of an agent signature)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b""
        self.command(None)

    def line(self):
        """One response line."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise BenchFailure("gpg-agent closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def command(self, cmd):
        """Sends cmd (None: only the greeting); returns the D lines up to OK, answers INQUIREs."""
        if cmd is not None:
            self.sock.sendall(cmd.encode() + b"\n")
        data = []
        while True:
            line = self.line()
            if line.startswith(b"OK"):
                return b"".join(data)
            if line.startswith(b"D "):
                data.append(line[2:])
            elif line.startswith(b"INQUIRE"):
                self.sock.sendall(b"END\n")  # PINENTRY_LAUNCHED: nothing to add
            elif line.startswith(b"ERR"):
                raise BenchFailure("gpg-agent: %s -> %s" % (cmd, line.decode(errors="replace")))

    def close(self):
        self.sock.close()


def gpg_home_with_key(b):
    """A GnuPG home with a NIST P-256 signing key under DEMO_PIN; the scripted pinentry answers
    every PKSIGN (no passphrase cache); the key's S2K count is gpg-agent's minimum, as the
    benchmark token's PBKDF2 count is a test one. Returns (home, env, keygrip)."""
    home = b.path("gnupg-sign")
    os.makedirs(home, mode=0o700)
    with open(os.path.join(home, "gpg-agent.conf"), "w") as f:
        # the lowest S2K count gpg-agent takes: a test key, as the test token's PBKDF2 count
        f.write("pinentry-program %s\ndefault-cache-ttl 0\nmax-cache-ttl 0\ns2k-count 65536\n"
                % b.pinentry)
    env = dict(b.env, GNUPGHOME=home)
    r = subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", DEMO_PIN,
                        "--quick-gen-key", "bench <bench@example.ru>", "nistp256", "sign", "never"],
                       env=env, capture_output=True, timeout=120)
    out = subprocess.run(["gpg", "--with-keygrip", "--with-colons", "-K"], env=env,
                         capture_output=True, timeout=60).stdout.decode()
    grips = [l.split(":")[9] for l in out.splitlines() if l.startswith("grp:")]
    if r.returncode != 0 or not grips:
        raise BenchFailure("gpg key generation: %s" % r.stderr.decode()[-300:])
    return home, env, grips[0]


def gpg_pksign_peer(b, runs=30):
    """gpg-agent PKSIGN (ECDSA P-256, scripted pinentry each time) beside an agent signature
    (sign request on the agent's socket, PIN dialog each time), interleaved, medians."""
    home, env, grip = gpg_home_with_key(b)
    subprocess.run(["gpg-connect-agent", "/bye"], env=env, capture_output=True, timeout=30)
    gpg = Assuan(os.path.join(home, "S.gpg-agent"))
    conn = b.connect()
    ours, peer = [], []
    try:
        for i in range(runs):
            ours.append(timed_sign(b, conn, 500000 + i)[0])
            t0 = time.perf_counter()
            gpg.command("SIGKEY %s" % grip)
            gpg.command("SETHASH 8 %s" % os.urandom(32).hex())
            sig = gpg.command("PKSIGN")
            peer.append(time.perf_counter() - t0)
            if b"sig-val" not in sig or b"ecdsa" not in sig:
                raise BenchFailure("gpg-agent PKSIGN returned no ECDSA signature")
    finally:
        gpg.close()
        conn.close()
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], env=env,
                       capture_output=True, timeout=30)
    mo, mp = statistics.median(ours), statistics.median(peer)
    report(3, "signature with PIN dialog: agent vs gpg-agent PKSIGN", mo * 1e3, "ms",
           peer=mp * 1e3, ratio=mo / mp,
           note="ratio = gostsign / gpg-agent (time); both spawn the scripted pinentry per "
           "signature; ours builds a CMS too; PIN KDF: %s PBKDF2 iterations vs S2K count 65536; "
           "median of %d interleaved" % (KDF_ITERATIONS, runs))


# ---------------------------------------------------------------- figure 4: certificates

def fig4_certs(b):
    """Certificate listing right after agent start, and warm from the cache."""
    section("4. certificate listing (agent restarted; direct socket)")
    b.stop_agent()
    start = b.start_agent()
    report(4, "agent start until the socket accepts", start * 1e3, "ms")
    c = b.connect()
    req = {"id": 1, "cmd": "certificates", "origin": ORIGIN}
    t0 = time.perf_counter()
    first = ok_result(c.request(req), "certificates")
    cold = time.perf_counter() - t0
    if not first:
        raise BenchFailure("no certificate listed")
    report(4, "certificates, first call after start", cold * 1e3, "ms")
    warm = []
    for i in range(SIZES["cert_warm_calls"]):
        req["id"] = i + 2
        t0 = time.perf_counter()
        ok_result(c.request(req), "certificates")
        warm.append(time.perf_counter() - t0)
    report(4, "certificates, warm p50", statistics.median(warm) * 1e3, "ms",
           target="< 5 ms", met=statistics.median(warm) < 5e-3)
    report(4, "certificates, warm p99", pct(warm, 99) * 1e3, "ms", target="< 5 ms",
           met=pct(warm, 99) < 5e-3, note="%d calls" % len(warm))
    # after a signature the token file is rewritten (PIN counter): is the cache still warm?
    ok_result(c.request(sign_request(b, 777)), "sign")
    t0 = time.perf_counter()
    ok_result(c.request({"id": "after", "cmd": "certificates", "origin": ORIGIN}), "certificates")
    report(4, "certificates, first call after a sign", (time.perf_counter() - t0) * 1e3, "ms")
    c.close()
    certs_vs_pkcs11_tool(b)


def certs_vs_pkcs11_tool(b, runs=15):
    """`gostsign certs` (a process asking the running agent) beside `pkcs11-tool -O` on the same
    software token (a process loading the module), interleaved, median wall time."""
    ours_cmd = [b.gostsign, "certs"]
    peer_cmd = ["pkcs11-tool", "--module", b.module, "-O"]
    run_measured(ours_cmd, b.env)
    run_measured(peer_cmd, b.env)
    ours, peer = [], []
    for _ in range(runs):
        t, out, _, rc = run_measured(ours_cmd, b.env)
        t2, out2, _, rc2 = run_measured(peer_cmd, b.env)
        if rc != 0 or rc2 != 0 or b"Certificate Object" not in out2 or not out.strip():
            raise BenchFailure("gostsign certs / pkcs11-tool -O failed (exit %d / %d)" % (rc, rc2))
        ours.append(t)
        peer.append(t2)
    mo, mp = statistics.median(ours), statistics.median(peer)
    report(4, "certificate listing: gostsign certs vs pkcs11-tool -O", mo * 1e3, "ms",
           peer=mp * 1e3, ratio=mo / mp,
           note="ratio = gostsign / pkcs11-tool (time, lower is better); one process each; "
           "median of %d interleaved" % runs)


# ---------------------------------------------------------------- figure 5: hotplug

def token_count(conn, rid):
    """How many tokens the agent lists now."""
    return len(ok_result(conn.request({"id": rid, "cmd": "tokens", "origin": ORIGIN}), "tokens"))


def wait_for_count(conn, want, t0, limit=10.0):
    """Asks `tokens` back to back until it shows `want`; returns (seconds since t0, calls)."""
    calls = 0
    while True:
        calls += 1
        if token_count(conn, "t%d" % calls) == want:
            return time.perf_counter() - t0, calls
        if time.perf_counter() - t0 > limit:
            raise BenchFailure("the agent did not see the token change within %.0f s" % limit)


def fig5_hotplug(b):
    """From a token file appearing in the token directory until `tokens` shows it."""
    rounds = SIZES["hotplug_rounds"]
    section("5. hotplug: token file renamed into GOSTSIGN_SOFTTOKEN_DIR until `tokens` shows it")
    b.make_token(b.path("staging"), b.path("demo2"))
    name = [f for f in os.listdir(b.path("staging")) if f.endswith(".token")][0]
    outside, inside = b.path("staging", name), b.path("tokens", name)
    c = b.connect()
    base = token_count(c, "base")
    ins, rem, calls = [], [], []
    for _ in range(rounds):
        time.sleep(0.2)
        t0 = time.perf_counter()
        os.rename(outside, inside)
        t, n = wait_for_count(c, base + 1, t0)
        ins.append(t)
        calls.append(n)
        time.sleep(0.2)
        t0 = time.perf_counter()
        os.rename(inside, outside)
        rem.append(wait_for_count(c, base, t0)[0])
    c.close()
    report(5, "token inserted -> listed, p50", statistics.median(ins) * 1e3, "ms",
           target="< 100 ms", met=statistics.median(ins) < 0.1,
           note="%d rounds; max %.1f ms; `tokens` calls until seen: max %d" %
           (rounds, max(ins) * 1e3, max(calls)))
    report(5, "token removed -> gone, p50", statistics.median(rem) * 1e3, "ms",
           target="< 100 ms", met=statistics.median(rem) < 0.1,
           note="max %.1f ms" % (max(rem) * 1e3))


# ---------------------------------------------------------------- figure 6: idle cost

def proc_status(pid):
    """(VmRSS KiB, context switches of all threads, thread count) of a process."""
    rss, switches = 0, 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    tasks = os.listdir("/proc/%d/task" % pid)
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            pass
    return rss, switches, len(tasks)


def private_memory(pid):
    """(Pss, Private_Dirty) in KiB: what the agent costs beyond shared library pages."""
    vals = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                vals[parts[0].rstrip(":")] = int(parts[1])
    return vals.get("Pss", 0), vals.get("Private_Dirty", 0)


def agent_image(pid):
    """The program a process runs now: gostsign-agent, or gostsign-agent-listener once shrunk."""
    return os.path.basename(os.readlink("/proc/%d/exe" % pid))


def wait_shrunk(pid, limit=60.0):
    """Seconds until the agent became gostsign-agent-listener (its idle shrink), else None."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        try:
            if agent_image(pid) == "gostsign-agent-listener":
                return time.perf_counter() - t0
        except OSError:
            return None
        time.sleep(0.05)
    return None


def fig6_idle(b):
    """Resident memory and wakeups of an idle agent; start time of gostsign-nmhost."""
    secs = SIZES["idle_seconds"]
    section("6. idle cost of the agent (%d s idle) and gostsign-nmhost start" % secs)
    pid = b.agent.pid
    c = b.connect()
    ok_result(c.request({"id": 1, "cmd": "certificates", "origin": ORIGIN}), "certificates")
    c.close()
    time.sleep(2)
    whole_pss, _ = private_memory(pid)
    report(6, "agent Pss, whole, 2 s after its last request", whole_pss / 1024.0, "MiB",
           note="modules, engine and caches loaded; until idle_shrink_seconds (default 10 s)")
    shrunk_at = wait_shrunk(pid)
    if shrunk_at is None:
        raise BenchFailure("the agent did not shrink into gostsign-agent-listener when idle")
    report(6, "agent idle shrink, after its last request", shrunk_at + 2, "s",
           note="it became gostsign-agent-listener (same pid, same socket)")
    time.sleep(2)
    rss0, sw0, threads = proc_status(pid)
    time.sleep(secs)
    rss1, sw1, _ = proc_status(pid)
    report(6, "agent resident memory (idle, after serving)", rss1 / 1024.0, "MiB", target="< 8 MiB",
           met=rss1 < 8 * 1024, note="VmRSS, %d threads; shrunk into the listener" % threads)
    pss, dirty = private_memory(pid)
    report(6, "  agent proportional set size (Pss)", pss / 1024.0, "MiB")
    report(6, "  agent private dirty memory", dirty / 1024.0, "MiB",
           note="heap, stacks, data: the agent's own memory")
    per_min = (sw1 - sw0) * 60.0 / secs
    report(6, "agent wakeups per minute, idle", per_min, "/min", target="0", met=sw1 == sw0,
           note="context switches of all threads over %d s" % secs)
    comeback_cost(b, pid)
    starts, hellos = [], []
    for i in range(SIZES["nmhost_starts"]):
        t0 = time.perf_counter()
        h = b.nm()
        ok_result(h.request({"id": i, "cmd": "hello", "origin": ORIGIN}), "hello")
        t1 = time.perf_counter()
        h.close()
        starts.append(t1 - t0)
    report(6, "nmhost start + first hello reply, p50", statistics.median(starts) * 1e3, "ms",
           note="%d starts, agent running" % len(starts))
    h, d = b.nm(), b.connect()
    for i in range(200):
        for conn, out in ((h, hellos), (d, [])):
            t0 = time.perf_counter()
            ok_result(conn.request({"id": i, "cmd": "hello", "origin": ORIGIN}), "hello")
            out.append(time.perf_counter() - t0)
    direct = []
    for i in range(200):
        t0 = time.perf_counter()
        ok_result(d.request({"id": i, "cmd": "hello", "origin": ORIGIN}), "hello")
        direct.append(time.perf_counter() - t0)
    h.close()
    d.close()
    report(6, "hello round trip through nmhost, p50", statistics.median(hellos) * 1e3, "ms",
           peer=statistics.median(direct) * 1e3, note="peer: directly on the agent socket")
    idle_peers(b, pss, whole_pss)
    cold_first_request(b)


def run_daemon(argv, env, ready, measure):
    """Starts a daemon in the foreground, waits for ready(), returns measure(process), stops it."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.perf_counter()
        while not ready() and time.perf_counter() - t0 < 10:
            if p.poll() is not None:
                raise BenchFailure("%s exited at start" % argv[0])
            time.sleep(0.05)
        return measure(p)
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def idle_pss_of(argv, env, ready, settle=2.0):
    """Starts a peer daemon in the foreground, waits for ready(), returns its Pss in KiB."""

    def settled_pss(p):
        time.sleep(settle)
        return private_memory(p.pid)[0]

    return run_daemon(argv, env, ready, settled_pss)


def gpg_agent_idle_pss(home, sock, settle=2.0):
    """gpg-agent started as users start it (it detaches), found by `getinfo pid`, its Pss."""
    env = dict(os.environ, GNUPGHOME=home)
    subprocess.run(["gpg-agent", "--homedir", home, "--daemon"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    out = subprocess.run(["gpg-connect-agent", "--homedir", home, "getinfo pid", "/bye"], env=env,
                         capture_output=True, timeout=30).stdout.decode()
    pids = [l.split()[1] for l in out.splitlines() if l.startswith("D ")]
    if not pids or not os.path.exists(sock):
        raise BenchFailure("gpg-agent did not start")
    pid = int(pids[0])
    try:
        time.sleep(settle)
        return private_memory(pid)[0]
    finally:
        os.kill(pid, signal.SIGTERM)


def comeback_cost(b, pid, warm_calls=20):
    """What the shrink costs: the first `certificates` of a shrunk agent, against warm ones."""
    t0 = time.perf_counter()
    c = b.connect()
    ok_result(c.request({"id": 1, "cmd": "certificates", "origin": ORIGIN}), "certificates")
    first = time.perf_counter() - t0
    warm = []
    for i in range(warm_calls):
        t0 = time.perf_counter()
        ok_result(c.request({"id": 2 + i, "cmd": "certificates", "origin": ORIGIN}), "certificates")
        warm.append(time.perf_counter() - t0)
    c.close()
    if agent_image(pid) != "gostsign-agent":
        raise BenchFailure("the shrunk agent did not come back for a client")
    report(6, "certificates, first after the idle shrink (connect to reply)", first * 1e3, "ms",
           peer=statistics.median(warm) * 1e3, ratio=first / max(statistics.median(warm), 1e-9),
           note="peer: the next %d on the same connection, p50; the price of the shrink" % warm_calls)


def fresh_agent_pss(b):
    """A fresh agent's Pss in KiB: whole, 2 s after its start, and after its idle shrink."""
    sock = b.path("run", "fresh.sock")

    def whole_then_shrunk(p):
        time.sleep(2.0)
        whole = private_memory(p.pid)[0]
        if wait_shrunk(p.pid) is None:
            raise BenchFailure("a fresh agent did not shrink when idle")
        time.sleep(2.0)
        return whole, private_memory(p.pid)[0]

    return run_daemon([b.agent_bin, "--socket", sock], b.env, lambda: os.path.exists(sock),
                      whole_then_shrunk)


def idle_peers(b, agent_pss, whole_pss):
    """The idle agent's Pss beside gpg-agent's and pcscd's, measured now on this machine."""
    home = b.path("gnupg")
    os.makedirs(home, mode=0o700, exist_ok=True)
    sock = os.path.join(home, "S.gpg-agent")
    gpg = gpg_agent_idle_pss(home, sock)
    report(6, "idle Pss: agent vs gpg-agent", agent_pss / 1024.0, "MiB", peer=gpg / 1024.0,
           ratio=agent_pss / max(gpg, 1), target="<= 1.5", met=agent_pss <= 1.5 * gpg,
           note="ratio = gostsign / gpg-agent, both idle; the agent after serving, shrunk")
    report(6, "idle Pss: agent whole (before its shrink) vs gpg-agent", whole_pss / 1024.0, "MiB",
           peer=gpg / 1024.0, ratio=whole_pss / max(gpg, 1),
           note="the first idle_shrink_seconds after a request")
    fresh_whole, fresh = fresh_agent_pss(b)
    report(6, "idle Pss: fresh agent (no request yet) vs gpg-agent", fresh / 1024.0, "MiB",
           peer=gpg / 1024.0, ratio=fresh / max(gpg, 1), target="<= 1.5",
           met=fresh <= 1.5 * gpg, note="shrunk, as it is from idle_shrink_seconds on")
    report(6, "idle Pss: fresh agent whole (before its shrink) vs gpg-agent",
           fresh_whole / 1024.0, "MiB", peer=gpg / 1024.0, ratio=fresh_whole / max(gpg, 1),
           note="no module without its device, no GOST engine before the first request")
    pcsc_sock = b.path("pcscd.comm")
    pcsc = idle_pss_of(["pcscd", "--foreground"],
                       dict(os.environ, PCSCLITE_CSOCK_NAME=pcsc_sock),
                       lambda: os.path.exists(pcsc_sock))
    report(6, "idle Pss: agent vs pcscd", agent_pss / 1024.0, "MiB", peer=pcsc / 1024.0,
           ratio=agent_pss / max(pcsc, 1), note="ratio = gostsign / pcscd, both idle")


def cold_first_request(b, runs=7):
    """A browser's first request with no agent running, against the agent's own start-up time.

    The browser's path (target 2): gostsign-nmhost started as a browser starts it, with no agent
    listening; it starts the agent on demand (readiness pipe) and relays. Timed from the host's
    exec to the first `hello` reply, and to the `certificates` reply after it, as the extension's
    adapters ask. The CLI path: `gostsign tokens`, as a second line. The peer is the agent alone
    from exec to an accepting socket. The three are interleaved, one of each per run; every
    agent started is stopped (and waited for) before the next measurement."""
    alone, hello, certs, cli = [], [], [], []
    env = dict(b.env, GOSTSIGN_AGENT_BIN=b.agent_bin,
               GOSTSIGN_AGENT_SOCKET=b.path("run", "cold.sock"))
    sock = env["GOSTSIGN_AGENT_SOCKET"]
    for _ in range(runs):
        b.stop_agent()
        alone.append(b.start_agent())
        b.stop_agent()
        h, c = cold_nmhost_first_requests(b, env, sock)
        hello.append(h)
        certs.append(c)
        cli.append(cold_cli_first_request(b, env, sock))
    b.start_agent()
    a = statistics.median(alone)
    h, c, t = statistics.median(hello), statistics.median(certs), statistics.median(cli)
    report(6, "agent's own start (exec -> socket accepts)", a * 1e3, "ms",
           note="median of %d; the peer of the lines below" % runs)
    report(6, "first request with no agent running (nmhost hello)", h * 1e3, "ms",
           peer=a * 1e3, ratio=h / a, target="<= 1.5", met=h <= 1.5 * a,
           note="the browser's path: host exec -> first hello reply; median of %d" % runs)
    report(6, "  then certificates (nmhost, cold)", c * 1e3, "ms", peer=a * 1e3, ratio=c / a,
           note="host exec -> certificates reply after hello (engine, token, certificates)")
    report(6, "first request with no agent running (gostsign tokens)", t * 1e3, "ms",
           peer=a * 1e3, ratio=t / a, note="the CLI path: one gostsign process; median of %d" % runs)


def cold_nmhost_first_requests(b, env, sock):
    """One cold start through gostsign-nmhost: seconds to the hello reply, to the certificates."""
    forget_socket(sock)
    t0 = time.perf_counter()
    # stderr to /dev/null: an agent started on demand keeps a caller's log file as its stderr
    h = Conn(nmhost=b.nmhost, env=env, stderr=subprocess.DEVNULL)
    try:
        ok_result(h.request({"id": 1, "cmd": "hello", "origin": ORIGIN}), "cold hello")
        t_hello = time.perf_counter() - t0
        if not ok_result(h.request({"id": 2, "cmd": "certificates", "origin": ORIGIN}),
                         "cold certificates"):
            raise BenchFailure("the agent started by nmhost lists no certificate")
        t_certs = time.perf_counter() - t0
    finally:
        h.close()
        stop_agents_on(sock)
    return t_hello, t_certs


def cold_cli_first_request(b, env, sock):
    """One cold start through `gostsign tokens`: seconds until it exits."""
    forget_socket(sock)
    t0 = time.perf_counter()
    # no pipes: an agent started on demand must not hold the caller's output open
    r = subprocess.run([b.gostsign, "tokens"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    seconds = time.perf_counter() - t0
    stop_agents_on(sock)
    if r.returncode != 0:
        raise BenchFailure("gostsign tokens with no agent: exit %d" % r.returncode)
    return seconds


def forget_socket(sock):
    """Removes a socket file no agent serves any more, so the next client finds nobody."""
    if os.path.exists(sock):
        os.unlink(sock)


def stop_agents_on(sock, limit=10.0):
    """Stops the agents an on-demand start left serving sock (found by their environment) and
    waits until they are gone, so no dying agent shares the CPU with the next measurement."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if ("GOSTSIGN_AGENT_SOCKET=%s" % sock).encode() in f.read().split(b"\0"):
                    with open("/proc/%s/cmdline" % pid, "rb") as g:
                        if b"gostsign-agent" in g.read():
                            os.kill(int(pid), signal.SIGTERM)
                            pids.append(pid)
        except OSError:
            pass
    t0 = time.perf_counter()
    while pids and time.perf_counter() - t0 < limit:
        pids = [p for p in pids if os.path.exists("/proc/%s" % p) and not zombie(p)]
        time.sleep(0.002)
    if pids:
        raise BenchFailure("an agent started on demand did not stop: pid %s" % ", ".join(pids))


def zombie(pid):
    """Whether /proc/PID is a process that has exited (its parent has not reaped it)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# ---------------------------------------------------------------- figure 7: batch

def fig7_batch(b):
    """Signing many small files after one PIN: `gostsign sign --batch`, and the agent's share."""
    n = SIZES["batch_files"]
    section("7. batch: %d small files after one PIN" % n)
    src, out = b.path("batch-in"), b.path("batch-out")
    os.makedirs(src)
    os.makedirs(out)
    files = []
    for i in range(n):
        p = os.path.join(src, "doc%04d.txt" % i)
        with open(p, "w") as f:
            f.write("batch document %d\n" % i)
        files.append(p)
    before = b.shim_counters()
    t0 = time.perf_counter()
    r = subprocess.run([b.gostsign, "sign", "--batch", "--cert", b.certificate()] + files +
                       ["--out-dir", out], env=b.env, capture_output=True)
    wall = time.perf_counter() - t0
    spent = counters_delta(before, b.shim_counters())
    if r.returncode != 0:
        raise BenchFailure("gostsign sign --batch: %s" % r.stderr.decode()[-400:])
    for i in (0, n - 1):
        v = subprocess.run(["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform",
                            "DER", "-in", os.path.join(out, "doc%04d.txt.p7s" % i), "-content",
                            files[i], "-CAfile", b.path("demo", "ca.pem"), "-out", "/dev/null"],
                           env=dict(os.environ, OPENSSL_CONF="/dev/null"), capture_output=True)
        if v.returncode != 0:
            raise BenchFailure("openssl rejects batch signature %d" % i)
    report(7, "gostsign sign --batch, wall time", wall, "s",
           note="%.0f files/s, incl. hashing, PIN dialog and writing .p7s" % (n / wall))
    # the same batch as one protocol request, to split the time with the events and the shim
    digests = [{"digest": os.urandom(32).hex(), "document": "d%d" % i} for i in range(n)]
    c = b.connect()
    events = []
    before = b.shim_counters()
    t0 = time.perf_counter()
    reply = c.request({"id": "batch", "cmd": "sign", "origin": "local:bench",
                       "args": {"certificate": b.certificate(), "batch": digests}}, events)
    t1 = time.perf_counter()
    spent = counters_delta(before, b.shim_counters())
    c.close()
    sigs = ok_result(reply, "batch sign")["signatures"]
    if len(sigs) != n:
        raise BenchFailure("batch returned %d signatures for %d documents" % (len(sigs), n))
    ev = dict(events)
    signing_phase = t1 - ev["signing"]
    in_token = sum(v[1] for v in spent.values())
    overhead = signing_phase - in_token
    report(7, "batch request after the PIN (digests)", signing_phase * 1e3, "ms",
           note="%d signatures, %d C_Login" % (spent["sign"][0] // 2, spent["login"][0]))
    report(7, "  time in the token", in_token * 1e3, "ms",
           note="C_Sign %.1f ms, C_Login %.1f ms" % (spent["sign"][1] * 1e3,
                                                     spent["login"][1] * 1e3))
    report(7, "agent overhead / time in token", 100.0 * overhead / in_token, "%",
           target="< 2 %", met=overhead < 0.02 * in_token,
           note="CMS building, JSON, audit, reply of %.1f MiB" %
           (len(json.dumps(reply)) / 2**20))


# ---------------------------------------------------------------- main

FIGURES = {1: fig1_digest, 2: fig2_token, 3: fig3_sign, 4: fig4_certs, 5: fig5_hotplug,
           6: fig6_idle, 7: fig7_batch}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("BUILD_ROOT", "build-bench"))
    ap.add_argument("--only", default="1,2,3,4,5,6,7")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    only = [int(x) for x in a.only.split(",") if x]
    b = Bench(os.path.abspath(a.build))
    print("gostsign benchmarks: %s sizes (GOSTSIGN_BENCH_FULL=%s), %d CPUs, build %s" %
          ("FULL" if FULL else "default (reduced)", "1" if FULL else "0", os.cpu_count(), b.build))
    print("sizes: " + ", ".join("%s=%s" % kv for kv in SIZES.items()))
    status = 0
    try:
        b.prepare()
        if any(f >= 3 for f in only):
            b.start_agent()
        for f in only:
            t0 = time.perf_counter()
            FIGURES[f](b)
            print("  (figure %d took %.1f s)" % (f, time.perf_counter() - t0), flush=True)
    except BenchFailure as e:
        print("FUNCTIONAL FAILURE: %s" % e, flush=True)
        status = 1
    finally:
        b.cleanup()
    missed = [r for r in RESULTS if r["target"] and not r["met"]]
    print("\nsummary: %d figures, %d with a target, %d targets missed%s" % (
        len(RESULTS), sum(1 for r in RESULTS if r["target"]), len(missed),
        "".join("\n  missed: [%d] %s = %s %s (target %s)" % (r["figure"], r["name"], fmt(r["value"]),
                                                             r["unit"], r["target"])
                for r in missed)))
    if a.markdown:
        write_markdown(a.markdown)
    return status


if __name__ == "__main__":
    sys.exit(main())
