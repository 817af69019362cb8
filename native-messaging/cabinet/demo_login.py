#!/usr/bin/env python3
"""Logs in to the demo cabinet through gostsign-nmhost, doing what the browser extension does:
asks the cabinet for a challenge, sends `hello`, `certificates` and `authenticate` (with the
cabinet's origin, as the extension takes it from the sender tab) through the native-messaging
host, and posts the CMS back to the cabinet. Then shows that a replayed and a tampered
signature are refused. Prints each step; exits non-zero when the login fails.

Usage: demo_login.py NMHOST CABINET_URL [--out DIR]
"""
import base64
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from nm_client import Host  # noqa: E402


def post(url, body):
    """POSTs JSON to the cabinet; returns (HTTP status, parsed answer)."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def say(text):
    """One line of the demo's narration."""
    print("   " + text, flush=True)


def check_reply(reply, what):
    """The result of an ok reply, or exits with the error the agent sent."""
    if not reply.get("ok"):
        err = reply.get("error", {})
        say("%s: ошибка %s: %s (%s)" % (what, err.get("code"), err.get("message_ru"),
                                         err.get("detail", "")))
        sys.exit(1)
    return reply["result"]


def main(argv):
    """The demo flow described in the module comment."""
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    nmhost, cabinet = argv[1], argv[2].rstrip("/")
    out = argv[argv.index("--out") + 1] if "--out" in argv else None
    origin = cabinet  # the page origin the extension would read from the sender tab
    host = Host(nmhost, timeout=120)
    progress = lambda m: "event" in m and say("событие агента / agent event: " + m["event"])

    hello = check_reply(host.call({"id": 1, "cmd": "hello", "origin": origin}), "hello")
    say("агент / agent: %s %s, протокол %s" % (hello["agent"], hello["version"], hello["protocol"]))
    certs = check_reply(host.call({"id": 2, "cmd": "certificates", "origin": origin}),
                        "certificates")
    for c in certs:
        s = c["subject"]
        say("сертификат / certificate %s: %s, %s (ИНН ЮЛ %s, ОГРН %s), токен %s" % (
            c["id"][:16], s.get("cn"), s.get("o"), s.get("innle"), s.get("ogrn"), c["token"]))

    status, answer = post(cabinet + "/api/challenge", {})
    challenge = answer["challenge"]
    say("кабинет выдал запрос входа / challenge: " + challenge)
    signed = check_reply(host.call({"id": 3, "cmd": "authenticate", "origin": origin,
                                    "args": {"challenge": challenge}}, progress), "authenticate")
    say("подписанный текст / signed text: " + signed["signed_text"].replace("\n", " | "))
    cms = base64.b64decode(signed["cms"])
    say("подпись / signature: CMS %d байт, сертификат %s" % (len(cms), signed["certificate"][:16]))
    if out:
        with open(os.path.join(out, "cabinet-login.p7s"), "wb") as f:
            f.write(cms)
    host.close_stdin()
    host.wait()

    status, answer = post(cabinet + "/api/login", {"challenge": challenge, "cms": signed["cms"]})
    if status != 200 or not answer.get("ok"):
        say("вход отклонён / login refused: %s %s" % (answer.get("code"), answer.get("text")))
        return 1
    print("\n   " + answer["text"], flush=True)

    status, replay = post(cabinet + "/api/login", {"challenge": challenge, "cms": signed["cms"]})
    say("повтор той же подписи / replay: %s (%s)" % (
        "ОТКЛОНЁН / refused" if status == 403 else "ПРИНЯТ / ACCEPTED", replay.get("code")))
    tampered = bytearray(cms)
    tampered[len(tampered) - 10] ^= 0x01  # a bit of the signature value
    status2, bad = post(cabinet + "/api/challenge", {})
    status2, bad = post(cabinet + "/api/login", {"challenge": bad["challenge"],
                                                 "cms": base64.b64encode(bytes(tampered)).decode()})
    say("изменённая подпись / tampered: %s (%s)" % (
        "ОТКЛОНЕНА / refused" if status2 == 403 else "ПРИНЯТА / ACCEPTED", bad.get("code")))
    return 0 if status == 403 and status2 == 403 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
