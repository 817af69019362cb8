#!/usr/bin/env bash
# gostsign-nmhost against bad input from the "browser": every kind of bad frame gets an error
# reply (id null) or a clean exit, never a hang or a crash; bad JSON keeps the stream open;
# callers outside the allow-list and unknown argv shapes are refused without contacting the agent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
export GOSTSIGN_AGENT_BIN=/bin/false # no agent must ever be needed here

# raw_case NAME BYTES(printf format) WANT_CODE WANT_EXIT
raw_case() {
    printf "$2" >"$WORK/$1.bin"
    nm --timeout 10 --raw "$WORK/$1.bin" || fail "$1: the host hung or the driver failed: $(cat "$WORK/nm.err")"
    if [ -n "$3" ]; then
        [ "$(reply_field 1 'm["error"]["code"]')" = "$3" ] || fail "$1: $(cat "$WORK/nm.out")"
        [ "$(reply_field 1 'm["id"]')" = "None" ] || fail "$1: id must be null"
    else
        [ ! -s "$WORK/nm.out" ] || fail "$1: unexpected output $(cat "$WORK/nm.out")"
    fi
    grep -q "exit $4" "$WORK/nm.err" || fail "$1: exit status $(cat "$WORK/nm.err"), expected $4"
    ok "$1 -> ${3:-no reply}, exit $4"
}
raw_case empty-stream '' '' 0
raw_case truncated-header '\x05\x00' BAD_FRAME 1
raw_case truncated-body '\x20\x00\x00\x00{"id":1}' BAD_FRAME 1
raw_case zero-length '\x00\x00\x00\x00' BAD_FRAME 1
raw_case over-4MiB '\x01\x00\x40\x00{}' FRAME_TOO_LARGE 1
raw_case length-2GiB '\xff\xff\xff\x7f' FRAME_TOO_LARGE 1
raw_case invalid-utf8 '\x0a\x00\x00\x00{"a":"\xc3\x28"}' BAD_JSON 0
raw_case overlong-utf8 '\x0a\x00\x00\x00{"a":"\xc0\xaf"}' BAD_JSON 0
raw_case not-json '\x05\x00\x00\x00hello' BAD_JSON 0
raw_case json-array '\x05\x00\x00\x00[1,2]' BAD_JSON 0
raw_case trailing-bytes '\x0a\x00\x00\x00{"a":1} xx' BAD_JSON 0

# Bad JSON does not desynchronise: the next frame is still read (here: a bad envelope).
printf '\x03\x00\x00\x00{{{\x02\x00\x00\x00{}' >"$WORK/two.bin"
nm --raw "$WORK/two.bin" || fail "two frames"
[ "$(reply_field 1 'm["error"]["code"]')" = BAD_JSON ] && [ "$(reply_field 2 'm["error"]["code"]')" = BAD_REQUEST ] ||
    fail "stream out of step: $(cat "$WORK/nm.out")"
ok "after BAD_JSON the next frame is read in step"

# A body split across many small writes, slowly, is still one frame (no assumption of one read).
python3 - "$NMHOST" <<'PY' || fail "slow writer"
import json, struct, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "chrome-extension://eheonckkicighmijehmciaofenagbejk/"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
body = json.dumps({"id": 5, "cmd": "x", "origin": "local:evil"}).encode()
data = struct.pack("=I", len(body)) + body
for i in range(len(data)):
    p.stdin.write(data[i:i + 1]); p.stdin.flush(); time.sleep(0.002)
p.stdin.close()
out = p.stdout.read(); p.wait(timeout=10)
n = struct.unpack("=I", out[:4])[0]
m = json.loads(out[4:4 + n])
assert m["id"] == 5 and m["error"]["code"] == "ORIGIN_NOT_ALLOWED", m
PY
ok "a frame trickling in byte by byte is read whole"

# Envelope problems are answered with the request id and never reach the agent.
nm '{"id":1,"cmd":"sign","origin":"local:gostsign"}' '{"id":2,"cmd":"sign","origin":"http://example.ru"}' \
    '{"id":3,"cmd":"sign","origin":"https://a.ru/path"}' '{"id":4,"cmd":"sign"}' \
    '{"id":5,"cmd":"sign","origin":"https://a.ru","args":[1]}' '{"id":"x","origin":"https://a.ru"}' ||
    fail "envelope requests: $(cat "$WORK/nm.err")"
for i in 1 2 3 4; do [ "$(reply_field $i 'm["error"]["code"]')" = ORIGIN_NOT_ALLOWED ] || fail "origin case $i"; done
[ "$(reply_field 5 'm["error"]["code"]')" = BAD_REQUEST ] && [ "$(reply_field 6 'm["id"]')" = x ] ||
    fail "envelope cases: $(cat "$WORK/nm.out")"
ok "local:, http, path and missing origins refused; bad args refused; ids echoed"

# Callers: an extension outside the allow-list is refused; a config file can add one.
nm --extension aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa '{"id":1,"cmd":"hello","origin":"https://a.ru"}' || fail "refused ext"
[ "$(reply_field 1 'm["error"]["code"]')" = ORIGIN_NOT_ALLOWED ] || fail "unknown extension served"
grep -q "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa is not allowed" "$WORK/nm.out" || fail "no reason given"
ok "an extension outside the allow-list is refused"
echo '{"allowed_extensions": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}' >"$GOSTSIGN_NMHOST_CONFIG"
nm --extension aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa '{"id":1,"cmd":"hello","origin":"https://a.ru"}' || fail "listed ext"
[ "$(reply_field 1 'm["error"]["code"]')" = AGENT_UNAVAILABLE ] || fail "configured extension: $(cat "$WORK/nm.out")"
ok "an extension added in the nmhost config is served (here: no agent -> AGENT_UNAVAILABLE)"
rm -f "$GOSTSIGN_NMHOST_CONFIG"
nm --firefox '{"id":1,"cmd":"hello","origin":"https://a.ru"}' || fail "firefox"
[ "$(reply_field 1 'm["error"]["code"]')" = AGENT_UNAVAILABLE ] || fail "firefox caller refused"
nm --firefox --extension evil@example.com '{"id":1,"cmd":"hello","origin":"https://a.ru"}' || fail "firefox evil"
[ "$(reply_field 1 'm["error"]["code"]')" = ORIGIN_NOT_ALLOWED ] || fail "unknown firefox extension served"
ok "Firefox argv (manifest path + extension ID): own ID served, another refused"
printf '\x02\x00\x00\x00{}' | timeout 10 "$NMHOST" >"$WORK/noargs.out" 2>"$WORK/noargs.err" || true
grep -q "started by a browser" "$WORK/noargs.err" || fail "started by hand: $(cat "$WORK/noargs.err")"
ok "started by hand (no browser arguments): refused with an explanation"
echo "$PASSED passed, 0 failed"
