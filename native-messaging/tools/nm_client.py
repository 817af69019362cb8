#!/usr/bin/env python3
"""Drives gostsign-nmhost exactly as a browser does: starts it with the caller's arguments,
writes native-messaging frames (32-bit native-endian length + UTF-8 JSON) to its stdin and reads
the frames it writes to stdout. Used by the demo login script and the nmhost shell tests.

Command line:
  nm_client.py HOST [--firefox] [--extension ID] [--timeout S] [--raw FILE] [REQUEST_JSON ...]
Each REQUEST_JSON is sent in order; after each, messages are printed (one JSON per line) until
the reply with that request's id arrives. --raw FILE sends the file's bytes as they are (for bad
frames) and then prints whatever comes back until the host exits or the timeout.
"""
import json
import os
import select
import struct
import subprocess
import sys
import time

CHROMIUM_ID = "eheonckkicighmijehmciaofenagbejk"
FIREFOX_ID = "gostsign@gostsign.ru"


def frame(obj_or_bytes):
    """One native-messaging frame for a JSON value (or raw body bytes)."""
    body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(
        obj_or_bytes, ensure_ascii=False).encode("utf-8")
    return struct.pack("=I", len(body)) + body


class Host:
    """A running gostsign-nmhost with helpers to talk to it."""

    def __init__(self, host, firefox=False, extension=None, timeout=30.0):
        if firefox:
            args = [host, "/usr/lib/mozilla/native-messaging-hosts/ru.gostsign.nmhost.json",
                    extension or FIREFOX_ID]
        else:
            args = [host, "chrome-extension://%s/" % (extension or CHROMIUM_ID)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.timeout = timeout
        self.buf = b""

    def send(self, obj_or_bytes, raw=False):
        """Writes one request (or raw bytes when raw is set)."""
        data = obj_or_bytes if raw else frame(obj_or_bytes)
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        """Closes the pipe, as a browser does when the port disconnects."""
        self.proc.stdin.close()

    def _fill(self, deadline):
        """Reads more stdout bytes; False at end of stream or timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no message from gostsign-nmhost in time")
        ready, _, _ = select.select([self.proc.stdout], [], [], left)
        if not ready:
            raise TimeoutError("no message from gostsign-nmhost in time")
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def receive(self):
        """The next message from the host, or None when it closed stdout."""
        deadline = time.monotonic() + self.timeout
        while len(self.buf) < 4:
            if not self._fill(deadline):
                return None
        (length,) = struct.unpack("=I", self.buf[:4])
        if length > 1024 * 1024:
            raise ValueError("frame of %d bytes exceeds the browser limit" % length)
        while len(self.buf) < 4 + length:
            if not self._fill(deadline):
                raise ValueError("truncated frame from gostsign-nmhost")
        body, self.buf = self.buf[4:4 + length], self.buf[4 + length:]
        return json.loads(body.decode("utf-8"))

    def call(self, request, on_message=None):
        """Sends a request and returns its final reply; events go to on_message."""
        self.send(request)
        while True:
            msg = self.receive()
            if msg is None:
                raise EOFError("gostsign-nmhost closed its output")
            if on_message:
                on_message(msg)
            if msg.get("id") == request.get("id") and "event" not in msg:
                return msg

    def wait(self, timeout=10):
        """Waits for the host to exit; returns its status."""
        return self.proc.wait(timeout=timeout)


def main(argv):
    """The command-line driver described in the module comment."""
    args = list(argv[1:])
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    host, firefox, extension, timeout, raw = args.pop(0), False, None, 30.0, None
    requests = []
    while args:
        a = args.pop(0)
        if a == "--firefox":
            firefox = True
        elif a == "--extension":
            extension = args.pop(0)
        elif a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--raw":
            raw = args.pop(0)
        else:
            requests.append(json.loads(a))
    h = Host(host, firefox, extension, timeout)
    printer = lambda m: print(json.dumps(m, ensure_ascii=False), flush=True)
    try:
        if raw is not None:
            with open(raw, "rb") as f:
                h.send(f.read(), raw=True)
            h.close_stdin()
            while True:
                m = h.receive()
                if m is None:
                    break
                printer(m)
        else:
            for r in requests:
                h.call(r, printer)
            h.close_stdin()
        status = h.wait(timeout)
    except (TimeoutError, EOFError, ValueError) as e:
        print("nm_client: %s" % e, file=sys.stderr)
        h.proc.kill()
        return 3
    print("exit %d" % status, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
