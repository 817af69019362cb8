#!/usr/bin/env python3
"""Speaks the gostsign framing (native-endian u32 length + JSON) to the agent socket for tests.

usage: agent_proto.py SOCKET REQUEST_JSON [REQUEST_JSON...]
Sends every request, then prints every frame received (one JSON per line) until each request
has its final reply (a frame with "ok"), or the peer closes.
"""
import json
import socket
import struct
import sys


def main():
    path = sys.argv[1]
    reqs = [json.loads(a) for a in sys.argv[2:]]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    for r in reqs:
        body = json.dumps(r).encode()
        try:
            s.sendall(struct.pack("=I", len(body)) + body)
        except (BrokenPipeError, ConnectionResetError):
            break  # the agent hung up (e.g. PEER_REFUSED): read what it said
    pending = len(reqs)
    while pending > 0:
        head = s.recv(4, socket.MSG_WAITALL)
        if len(head) < 4:
            break
        (n,) = struct.unpack("=I", head)
        msg = json.loads(s.recv(n, socket.MSG_WAITALL))
        print(json.dumps(msg, ensure_ascii=False))
        if "ok" in msg:
            pending -= 1


if __name__ == "__main__":
    main()
