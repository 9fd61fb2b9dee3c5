#!/usr/bin/env bash
# Debian tools the disk reader's tests and benchmark use to build disk images:
# mkfs.ext4 (e2fsprogs), mkfs.xfs and xfs_db (xfsprogs), sfdisk (fdisk),
# sgdisk (gdisk). Installs the missing ones with apt-get (as root).
#
#   source scripts/disk-tools.sh    # scripts/test does this
#
# When sourced, the install runs in a child bash so the caller's shell options
# are untouched; a failed install makes `source` return non-zero.

_rampart_disk_tools() {
    local missing=()
    command -v mkfs.ext4 >/dev/null 2>&1 || [[ -x /usr/sbin/mkfs.ext4 ]] || missing+=(e2fsprogs)
    command -v mkfs.xfs >/dev/null 2>&1 || [[ -x /usr/sbin/mkfs.xfs ]] || missing+=(xfsprogs)
    command -v sfdisk >/dev/null 2>&1 || [[ -x /usr/sbin/sfdisk ]] || missing+=(fdisk)
    command -v sgdisk >/dev/null 2>&1 || [[ -x /usr/sbin/sgdisk ]] || missing+=(gdisk)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "disk-tools: installing ${missing[*]}" >&2
    local sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    if ! bash -c "$(declare -f _rampart_disk_tools); set -euo pipefail; _rampart_disk_tools"; then
        unset -f _rampart_disk_tools
        echo "disk-tools: setup failed" >&2
        return 1
    fi
    unset -f _rampart_disk_tools
    return 0
fi

set -euo pipefail
_rampart_disk_tools
