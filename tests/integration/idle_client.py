#!/usr/bin/env python3
"""Clients for the idle-exit test (agent_idle_exit.sh) that a CLI command cannot play.

usage: idle_client.py SOCKET hold SECONDS
         connects, says nothing for SECONDS, then closes
       idle_client.py SOCKET upload CERT PAUSE OUT
         a chunked detached `sign`: one chunk, PAUSE seconds of silence, the last chunk; writes
         the signed content to OUT.bin and the CMS (DER) to OUT.p7s; prints the result
       idle_client.py SOCKET halfclose CERT OUT
         sends a one-frame `sign`, shuts its sending side at once (the agent's reader ends, the
         request goes on), then waits for the reply; writes OUT.bin and OUT.p7s
"""
import base64
import json
import os
import socket
import struct
import sys
import time

ORIGIN = "local:idle-test"


def send(s, msg):
    body = json.dumps(msg).encode()
    s.sendall(struct.pack("=I", len(body)) + body)


def final_reply(s):
    while True:
        head = s.recv(4, socket.MSG_WAITALL)
        if len(head) < 4:
            sys.exit("the agent closed the connection before the reply")
        (n,) = struct.unpack("=I", head)
        msg = json.loads(s.recv(n, socket.MSG_WAITALL))
        if "ok" in msg:
            return msg


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120)
    s.connect(path)
    return s


def save(out, data, reply):
    if not reply.get("ok"):
        sys.exit("sign failed: %r" % (reply,))
    with open(out + ".bin", "wb") as f:
        f.write(data)
    with open(out + ".p7s", "wb") as f:
        f.write(base64.b64decode(reply["result"]["cms"]))
    print(json.dumps(reply["result"]["certificate"]))


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "hold":
        s = connect(path)
        time.sleep(float(sys.argv[3]))
        s.close()
    elif mode == "upload":
        cert, pause, out = sys.argv[3], float(sys.argv[4]), sys.argv[5]
        first, last = os.urandom(3000), os.urandom(5000)
        s = connect(path)
        b64 = lambda b: base64.b64encode(b).decode()
        send(s, {"id": 1, "cmd": "sign", "origin": ORIGIN,
                 "args": {"certificate": cert, "chunk": b64(first), "more": True}})
        time.sleep(pause)
        send(s, {"id": 1, "cmd": "sign", "origin": ORIGIN,
                 "args": {"chunk": b64(last), "more": False}})
        save(out, first + last, final_reply(s))
    elif mode == "halfclose":
        cert, out = sys.argv[3], sys.argv[4]
        data = os.urandom(4000)
        s = connect(path)
        send(s, {"id": 1, "cmd": "sign", "origin": ORIGIN,
                 "args": {"certificate": cert, "data": base64.b64encode(data).decode()}})
        s.shutdown(socket.SHUT_WR)
        save(out, data, final_reply(s))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
