#!/usr/bin/env bash
# The README's command `GOSTSIGN_DEMO_PINENTRY=/usr/bin/pinentry-tty ./scripts/demo.sh` typed in a
# terminal (a tmux pane): the agent must hand its terminal to pinentry-tty (OPTION ttyname,
# ttytype, lc-ctype, as gpg-agent does), so the PIN dialog appears there, the PIN typed with
# `tmux send-keys` logs in to the demo cabinet, and the PIN is never echoed.
source "$(dirname "$0")/lib.sh"
BUILD=${BUILD_ROOT:?}
SOCKET="$WORK/tmux.sock"
tmx() { tmux -S "$SOCKET" "$@"; }
trap 'tmx kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT

# wait_for_pane PATTERN SECONDS: polls until the pane shows the pattern.
wait_for_pane() {
    for _ in $(seq 1 $(($2 * 10))); do
        tmx capture-pane -p -S -400 -t demo >"$WORK/pane" 2>/dev/null || true
        grep -q -- "$1" "$WORK/pane" && return 0
        sleep 0.1
    done
    cat "$WORK/pane" >&2
    fail "the pane never showed '$1'"
}

tmx -f /dev/null new-session -d -s demo -x 160 -y 50 \
    "cd '$SOURCE_ROOT' && env -u DISPLAY -u WAYLAND_DISPLAY LANG=C.UTF-8 TERM=xterm \
     GOSTSIGN_BUILD_DIR='$BUILD' GOSTSIGN_DEMO_DIR='$WORK/demo' \
     GOSTSIGN_DEMO_PINENTRY=/usr/bin/pinentry-tty ./scripts/demo.sh; echo \"demo-exit=\$?\"; sleep 60"
wait_for_pane "PIN-код:" 120
grep -q "запрашивает электронную подпись" "$WORK/pane" || fail "the dialog has no description"
ok "pinentry-tty shows the PIN dialog on the demo's terminal"
tmx send-keys -t demo -l "12345678"
tmx send-keys -t demo Enter
# the demo's second login (step 6, through the Gosuslugi adapter in a browser) asks again
wait_for_pane "адаптер Госуслуг" 120
for _ in $(seq 1 1800); do
    tmx capture-pane -p -S -400 -t demo >"$WORK/pane" 2>/dev/null || true
    grep -q "demo-exit=" "$WORK/pane" && break
    [ "$(sed -n '/адаптер Госуслуг/,$p' "$WORK/pane" | grep -c 'PIN-код:')" -ge 1 ] && break
    sleep 0.1
done
if ! grep -q "demo-exit=" "$WORK/pane"; then
    tmx send-keys -t demo -l "12345678"
    tmx send-keys -t demo Enter
fi
wait_for_pane "demo-exit=" 180
grep -q "demo-exit=0" "$WORK/pane" || { cat "$WORK/pane" >&2; fail "the demo failed"; }
[ "$(grep -c "вошли как" "$WORK/pane")" -ge 2 ] || fail "the two demo logins did not both finish"
ok "the PIN typed on the terminal logs in to the demo cabinet"
if grep -q "12345678" "$WORK/pane"; then fail "the PIN was echoed"; fi
ok "the PIN is not echoed on the terminal"
