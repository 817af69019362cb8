# Shared helpers for the doctor tests: an isolated HOME/config, and assertions on the JSON
# (docs/doctor-json.md). Sourced after lib.sh.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_RUNTIME_DIR="$WORK/run"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export GOSTSIGN_AGENT_BIN=/nonexistent/gostsign-agent # never start a real agent by accident

# verdict JSON CHECK_ID STATUS CODE [FIX_SUBSTRING] [KEY=VALUE...]: some check CHECK_ID in JSON has
# this status and code, its English and Russian fix contains FIX_SUBSTRING (when given and not
# empty) and its evidence holds each KEY=VALUE. Prints the matching check on failure.
verdict() {
    python3 - "$@" <<'PY' || fail "verdict $*"
import json, sys
path, cid, status, code = sys.argv[1:5]
fix = sys.argv[5] if len(sys.argv) > 5 else ""
ev = dict(a.split("=", 1) for a in sys.argv[6:])
doc = json.load(open(path))
assert doc["schema"] == 1, "schema"
checks = [c for l in doc["layers"] for c in l["checks"] if c["id"] == cid]
def matches(c):
    if c["status"] != status or c["code"] != code:
        return False
    if fix and (not c["fix"] or fix not in c["fix"]["en"] or not c["fix"]["ru"]):
        return False
    return all(str(c["evidence"].get(k)).lower() == v.lower() for k, v in ev.items())
if not any(matches(c) for c in checks):
    print(json.dumps(checks, ensure_ascii=False, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

# no_verdict JSON CHECK_ID STATUS: no check CHECK_ID has this status.
no_verdict() {
    python3 - "$@" <<'PY' || fail "no_verdict $*"
import json, sys
path, cid, status = sys.argv[1:4]
doc = json.load(open(path))
bad = [c for l in doc["layers"] for c in l["checks"] if c["id"] == cid and c["status"] == status]
if bad:
    print(json.dumps(bad, ensure_ascii=False, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

# doctor OUT ARGS...: runs `gostsign doctor --json ARGS`, JSON into OUT; sets DOCTOR_RC.
doctor() {
    local out=$1; shift
    DOCTOR_RC=0
    "$GOSTSIGN" doctor --json "$@" >"$out" 2>"$WORK/doctor.err" || DOCTOR_RC=$?
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" || { cat "$WORK/doctor.err" >&2; fail "doctor JSON does not parse"; }
}
