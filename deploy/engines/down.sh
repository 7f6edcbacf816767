#!/usr/bin/env bash
# Stops exactly the engines that up.sh started (by the process groups of their recorded pids).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
engines=${DEFWATCH_ENGINES_DIR:-$(cd "$here/../.." && pwd)/.engines}
for name in elasticsearch kafka; do
    pidfile=$engines/$name.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
        printf 'engines: %s stopped\n' "$name"
    fi
    rm -f "$pidfile"
done
