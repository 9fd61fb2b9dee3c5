#!/usr/bin/env bash
# Run a private moto server (AWS emulator) for Rampart's tests and demo.
#
#   scripts/moto.sh start   # start (or reuse) a server on 127.0.0.1:<free port>; prints its URL
#   scripts/moto.sh url     # prints the URL of the running server (exit 1 if none)
#   scripts/moto.sh stop    # stops the server started by `start` (by its recorded PID only)
#
# The server runs from the venv made by scripts/tools-env.sh, with
#   MOTO_IAM_LOAD_MANAGED_POLICIES=true           (AWS-managed IAM policies exist)
#   MOTO_AMIS_PATH=scripts/moto-amis.json         (3 public Amazon AMIs instead of ~1,300)
# State (pid, url, log) lives in ${RAMPART_MOTO_STATE:-$HOME/.cache/rampart/moto}.
# Use one state dir per concurrent server (e.g. RAMPART_MOTO_STATE=$(mktemp -d)).
# Wipe all AWS state between tests with: curl -X POST "$URL/moto-api/reset"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state_dir="${RAMPART_MOTO_STATE:-$HOME/.cache/rampart/moto}"
pid_file="$state_dir/moto.pid"
url_file="$state_dir/moto.url"
log_file="$state_dir/moto.log"
start_timeout=30

usage() {
    echo "usage: $0 start|stop|url" >&2
    exit 2
}

# True when the recorded PID is alive and is a moto_server (guards against PID reuse).
running_pid() {
    [[ -f "$pid_file" ]] || return 1
    local pid
    pid="$(cat "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q moto_server || return 1
        # A zombie is not a server.
        [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]] || return 1
    fi
    echo "$pid"
}

# wait_ready PID URL TIMEOUT -> 0 ready, 2 process exited, 3 timed out
wait_ready() {
    "$RAMPART_PYTHON" - "$@" <<'PY'
import os, sys, time, urllib.request

pid, url, timeout = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])

def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False

deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    if not alive():
        sys.exit(2)
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(3)
PY
}

cmd_start() {
    # shellcheck source=SCRIPTDIR/tools-env.sh
    source "$here/tools-env.sh"
    mkdir -p "$state_dir"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$state_dir/.lock"
        flock 9
    fi
    local pid
    if pid="$(running_pid)"; then
        echo "moto.sh: reusing running moto_server (pid $pid)" >&2
        cat "$url_file"
        return 0
    fi
    rm -f "$pid_file" "$url_file"

    local attempt port url rc
    for attempt in 1 2 3; do
        port="$("$RAMPART_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"
        url="http://127.0.0.1:$port"
        MOTO_IAM_LOAD_MANAGED_POLICIES=true \
            MOTO_AMIS_PATH="$here/moto-amis.json" \
            nohup "$RAMPART_MOTO_SERVER" -H 127.0.0.1 -p "$port" \
            >"$log_file" 2>&1 </dev/null 9>&- &
        pid=$!
        rc=0
        wait_ready "$pid" "$url" "$start_timeout" || rc=$?
        if [[ $rc -eq 0 ]]; then
            echo "$pid" >"$pid_file.tmp" && mv "$pid_file.tmp" "$pid_file"
            echo "$url" >"$url_file.tmp" && mv "$url_file.tmp" "$url_file"
            echo "$url"
            return 0
        fi
        if [[ $rc -eq 3 ]]; then
            kill "$pid" 2>/dev/null || true
            echo "moto.sh: moto_server did not answer on $url/moto-api/ within ${start_timeout}s; log tail:" >&2
            tail -n 20 "$log_file" >&2 || true
            return 1
        fi
        # Exited early: most likely the port was taken between pick and bind. Retry.
        echo "moto.sh: moto_server exited during start-up (attempt $attempt)" >&2
    done
    echo "moto.sh: giving up; log tail:" >&2
    tail -n 20 "$log_file" >&2 || true
    return 1
}

cmd_stop() {
    local pid i
    if ! pid="$(running_pid)"; then
        echo "moto.sh: no running moto_server recorded in $state_dir" >&2
        rm -f "$pid_file" "$url_file"
        return 0
    fi
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        running_pid >/dev/null || break
        sleep 0.1
    done
    if running_pid >/dev/null; then
        echo "moto.sh: pid $pid ignored SIGTERM for 10s; sending SIGKILL" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file" "$url_file"
    echo "moto.sh: stopped moto_server (pid $pid)" >&2
}

cmd_url() {
    if running_pid >/dev/null && [[ -s "$url_file" ]]; then
        cat "$url_file"
    else
        echo "moto.sh: no running moto_server recorded in $state_dir (run: $0 start)" >&2
        return 1
    fi
}

[[ $# -eq 1 ]] || usage
case "$1" in
start) cmd_start ;;
stop) cmd_stop ;;
url) cmd_url ;;
*) usage ;;
esac
