#!/usr/bin/env bash
# Browser test environment: Debian's Chromium and playwright-core from npm
# (no browser download: Playwright drives the system Chromium).
#
#   source scripts/browser-env.sh    # installs if needed, exports RAMPART_* into your shell
#   scripts/browser-env.sh           # installs if needed, prints `export ...` lines
#
# Location: ${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}/browser/node_modules
# playwright-core is (re)installed only when the stamp differs from the pinned
# version below; Chromium is installed with apt-get only when missing.
#
# Exports: RAMPART_CHROMIUM (the browser binary), RAMPART_NODE_PATH (the
# node_modules directory holding playwright-core; set NODE_PATH to it).
#
# When sourced, the install runs in a child bash (under `set -euo pipefail`),
# so the caller's shell options are untouched; a failed install makes
# `source` return non-zero.

_RAMPART_PLAYWRIGHT_VERSION='1.65.1'

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced.
    if ! _rampart_browser_exports="$(bash "${BASH_SOURCE[0]}")"; then
        unset _RAMPART_PLAYWRIGHT_VERSION _rampart_browser_exports
        echo "browser-env: setup failed" >&2
        return 1
    fi
    eval "$_rampart_browser_exports"
    unset _RAMPART_PLAYWRIGHT_VERSION _rampart_browser_exports
    return 0
fi

set -euo pipefail

tools_dir="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}"
dir="$tools_dir/browser"
modules="$dir/node_modules"
stamp="$dir/.rampart-playwright"
want="playwright-core@$_RAMPART_PLAYWRIGHT_VERSION"

find_chromium() {
    local candidate
    for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

print_exports() {
    printf 'export RAMPART_CHROMIUM=%q\n' "$(find_chromium)"
    printf 'export RAMPART_NODE_PATH=%q\n' "$modules"
}

playwright_ok() {
    [[ -f "$stamp" && -f "$modules/playwright-core/package.json" ]] && [[ "$(<"$stamp")" == "$want" ]]
}

# Fast path: nothing to install.
if find_chromium >/dev/null && playwright_ok; then
    print_exports
    exit 0
fi

mkdir -p "$dir"
# Serialise concurrent installers.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir/.install.lock"
    flock 9
fi

if ! find_chromium >/dev/null; then
    echo "browser-env: installing Debian's chromium" >&2
    as_root=()
    if [[ "$(id -u)" != 0 ]]; then
        as_root=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! "${as_root[@]}" apt-get install -y --no-install-recommends chromium >&2; then
        "${as_root[@]}" apt-get update >&2
        "${as_root[@]}" apt-get install -y --no-install-recommends chromium >&2
    fi
    if ! find_chromium >/dev/null; then
        echo "browser-env: chromium missing after apt-get install" >&2
        exit 1
    fi
fi

if ! playwright_ok; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "browser-env: npm not found (on Debian: apt-get install nodejs npm)" >&2
        exit 1
    fi
    echo "browser-env: installing $want into $modules" >&2
    rm -f "$stamp"
    [[ -f "$dir/package.json" ]] || printf '{"private": true}\n' >"$dir/package.json"
    log="$dir/install.log"
    if ! npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$want" >"$log" 2>&1; then
        cat "$log" >&2
        echo "browser-env: npm install failed (log: $log)" >&2
        exit 1
    fi
    printf '%s' "$want" >"$stamp"
fi
print_exports
