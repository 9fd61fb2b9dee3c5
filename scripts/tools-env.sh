#!/usr/bin/env bash
# Rampart tooling environment: a private Python venv with moto (server mode) and boto3.
#
#   source scripts/tools-env.sh      # installs if needed, exports RAMPART_* into your shell
#   scripts/tools-env.sh             # installs if needed, prints `export ...` lines
#   eval "$(scripts/tools-env.sh)"   # same as sourcing
#
# Location: ${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}/venv
# The venv is (re)installed only when the stamp file's requirement list differs from
# the one below, so a second run costs a few milliseconds.
#
# Exports: RAMPART_VENV, RAMPART_PYTHON, RAMPART_MOTO_SERVER.
#
# When sourced, the install step runs in a subshell with `set -euo pipefail`, so the
# caller's shell options are left untouched; failures make `source` return non-zero.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

# Bump this list to force a reinstall everywhere (the stamp compares it verbatim).
# moto 5.2.5 is the version the project's moto notes were measured with.
_RAMPART_TOOLS_REQUIREMENTS='moto[server]==5.2.5
boto3'

_rampart_tools_install() (
    set -euo pipefail
    tools_dir="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}"
    venv="$tools_dir/venv"
    stamp="$venv/.rampart-requirements"
    want="$_RAMPART_TOOLS_REQUIREMENTS"

    up_to_date() {
        [[ -x "$venv/bin/python" && -x "$venv/bin/moto_server" && -f "$stamp" ]] &&
            [[ "$(cat "$stamp")" == "$want" ]]
    }

    # Fast path: no lock, no python start-up.
    if up_to_date; then
        exit 0
    fi

    mkdir -p "$tools_dir"
    # Serialise concurrent installers (parallel test jobs sourcing this file).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$tools_dir/.install.lock"
        flock 9
        if up_to_date; then
            exit 0
        fi
    fi

    command -v python3 >/dev/null 2>&1 || {
        echo "tools-env: python3 not found (need Python >= 3.9 with the venv module)" >&2
        exit 1
    }
    echo "tools-env: installing $(echo "$want" | tr '\n' ' ')into $venv" >&2

    log="$tools_dir/install.log"
    rm -f "$stamp"
    if [[ ! -x "$venv/bin/python" ]]; then
        rm -rf "$venv"
        python3 -m venv "$venv" >"$log" 2>&1 || {
            cat "$log" >&2
            echo "tools-env: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    reqfile="$tools_dir/requirements.txt"
    printf '%s\n' "$want" >"$reqfile"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "$reqfile" >>"$log" 2>&1; then
        cat "$log" >&2
        echo "tools-env: pip install failed (log: $log)" >&2
        exit 1
    fi
    [[ -x "$venv/bin/moto_server" ]] || {
        echo "tools-env: moto_server missing from $venv/bin after install" >&2
        exit 1
    }
    printf '%s' "$want" >"$stamp"
)

if _rampart_tools_install; then
    RAMPART_VENV="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}/venv"
    RAMPART_PYTHON="$RAMPART_VENV/bin/python"
    RAMPART_MOTO_SERVER="$RAMPART_VENV/bin/moto_server"
    export RAMPART_VENV RAMPART_PYTHON RAMPART_MOTO_SERVER
    unset -f _rampart_tools_install
    if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
        printf 'export RAMPART_VENV=%q\n' "$RAMPART_VENV"
        printf 'export RAMPART_PYTHON=%q\n' "$RAMPART_PYTHON"
        printf 'export RAMPART_MOTO_SERVER=%q\n' "$RAMPART_MOTO_SERVER"
    fi
else
    _rampart_rc=$?
    unset -f _rampart_tools_install
    if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
        exit "$_rampart_rc"
    fi
    return "$_rampart_rc"
fi
