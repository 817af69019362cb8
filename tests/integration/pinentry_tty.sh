#!/usr/bin/env bash
# Drives the REAL pinentry-tty through our Assuan client: the probe (tests/pinentry/pinentry_probe.c)
# runs inside a tmux pane with pinentry-tty on that pane's terminal; we type the PIN with
# `tmux send-keys`, then check that the probe got it (it reports only a length and a SHA-256
# match, never the PIN) and that the pane showed the Russian description.
# usage: pinentry_tty.sh PINENTRY_PROBE
PROBE=${1:?usage: pinentry_tty.sh PINENTRY_PROBE}
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
PINENTRY_TTY=$(command -v pinentry-tty || true)
[ -x "$PINENTRY_TTY" ] || { echo "SKIP: pinentry-tty is not installed"; exit 77; }
source "$(dirname "$0")/lib.sh"

# One tmux server per probe run (a fresh socket each), so a server still shutting down never
# meets the next one; all are killed at exit.
RUN=0
SOCKET="$WORK/tmux.0.sock"
tmx() { tmux -S "$SOCKET" "$@"; }
kill_servers() {
    for sock in "$WORK"/tmux.*.sock; do
        [ -S "$sock" ] && tmux -S "$sock" kill-server 2>/dev/null || true
    done
}
trap 'kill_servers; rm -rf "$WORK"' EXIT

# wait_for_pane PATTERN: polls (max 20 s) until the pane shows the pattern.
wait_for_pane() {
    for _ in $(seq 1 200); do
        tmx capture-pane -p -t gs >"$WORK/pane" 2>/dev/null || true
        grep -q -- "$1" "$WORK/pane" && return 0
        sleep 0.1
    done
    cat "$WORK/pane" >&2
    fail "the pane never showed '$1'"
}

# wait_for_file FILE: polls (max 20 s) until the probe wrote its result.
wait_for_file() {
    for _ in $(seq 1 200); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    fail "the probe wrote no result"
}

# run_probe PIN_SHA256 RESULT: starts the probe in a fresh tmux pane bound to its own tty.
run_probe() {
    tmx kill-server 2>/dev/null || true
    RUN=$((RUN + 1))
    SOCKET="$WORK/tmux.$RUN.sock"
    rm -f "$2"
    tmx -f /dev/null new-session -d -s gs -x 120 -y 40 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm sh -c '\"$PROBE\" \"$PINENTRY_TTY\" \"\$(tty)\" $1 \"$2\"; sleep 30'"
}

PIN="4821-тест"
PIN_SHA=$(printf '%s' "$PIN" | sha256sum | cut -d' ' -f1)

# 1. The PIN typed on the terminal reaches the probe intact; the dialog is in Russian.
run_probe "$PIN_SHA" "$WORK/result1"
wait_for_pane "PIN-код:"
grep -q "Сайт https://lk.gosuslugi.ru запрашивает электронную подпись." "$WORK/pane" ||
    { cat "$WORK/pane" >&2; fail "description not shown"; }
ok "pinentry-tty shows the Russian description"
grep -q "ИНН ЮЛ 7701234567, ОГРН 1027700132195" "$WORK/pane" || fail "INN/OGRN not shown"
grep -q "Осталось попыток ввода PIN-кода: 3" "$WORK/pane" || fail "retries not shown"
ok "the description names the organisation's INN/OGRN and the retries left"
tmx send-keys -t gs -l "$PIN"
tmx send-keys -t gs Enter
wait_for_file "$WORK/result1"
grep -q "status=OK length=$(printf '%s' "$PIN" | wc -c) match=yes" "$WORK/result1" ||
    { cat "$WORK/result1" >&2; fail "the probe did not get the typed PIN"; }
ok "the typed PIN reached the agent side intact (length and SHA-256 match)"
tmx capture-pane -p -t gs >"$WORK/pane"
if grep -q -- "$PIN" "$WORK/pane" "$WORK/result1"; then fail "the PIN was echoed or recorded"; fi
ok "the PIN is neither echoed on the terminal nor written by the probe"

# 2. A wrong PIN gives match=no (the test can fail).
run_probe "$PIN_SHA" "$WORK/result2"
wait_for_pane "PIN-код:"
tmx send-keys -t gs -l "0000"
tmx send-keys -t gs Enter
wait_for_file "$WORK/result2"
grep -q "status=OK length=4 match=no" "$WORK/result2" || { cat "$WORK/result2" >&2; fail "wrong PIN"; }
ok "a different PIN is reported as not matching"

# 3. Ctrl-D (end of input) at the prompt is a cancel.
run_probe "$PIN_SHA" "$WORK/result3"
wait_for_pane "PIN-код:"
tmx send-keys -t gs C-d
wait_for_file "$WORK/result3"
grep -q "status=USER_CANCELLED" "$WORK/result3" || { cat "$WORK/result3" >&2; fail "cancel"; }
ok "ending the input at the prompt cancels (USER_CANCELLED)"

echo "$PASSED passed, 0 failed"
