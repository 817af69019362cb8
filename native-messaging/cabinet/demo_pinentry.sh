# Sourced by run-demo-login.sh and run-demo-gosuslugi.sh: the PIN dialog the demo's agent uses.
# By default the scripted test pinentry answers with the demo token's PIN; GOSTSIGN_DEMO_PINENTRY
# names a real pinentry to type it yourself. A terminal pinentry (pinentry-tty, pinentry-curses)
# started by the agent has no terminal of its own (its stdin and stdout are the Assuan pipe, and
# the agent names no tty), so it is wrapped to open the demo's terminal.

# demo_pinentry RUN_DIR SCRIPTED_PINENTRY: prints the pinentry path for the agent's config,
# writing the wrapper into RUN_DIR when a terminal pinentry is asked for on a terminal.
demo_pinentry() {
    local run=$1 scripted=$2 chosen=${GOSTSIGN_DEMO_PINENTRY:-}
    if [ -z "$chosen" ]; then
        echo "$scripted"
        return
    fi
    local tty ctype=${LC_ALL:-${LC_CTYPE:-${LANG:-}}}
    tty=$(tty 2>/dev/null) || tty=""
    case $ctype in *[Uu][Tt][Ff]-8 | *[Uu][Tt][Ff]8) ;; *) ctype=C.UTF-8 ;; esac # the dialog is in Russian
    case $(basename "$chosen") in
    pinentry-tty | pinentry-curses)
        [ -n "$tty" ] || { echo "GOSTSIGN_DEMO_PINENTRY=$chosen needs a terminal on stdin" >&2; return 1; }
        printf '#!/bin/sh\nexec %q --ttyname %q --ttytype %q --lc-ctype %q "$@"\n' \
            "$chosen" "$tty" "${TERM:-xterm}" "$ctype" >"$run/pinentry"
        chmod 700 "$run/pinentry"
        echo "$run/pinentry"
        ;;
    *) echo "$chosen" ;;
    esac
}
