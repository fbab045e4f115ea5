#!/usr/bin/env bash
# Install the Debian packages HARVEST's tests need, idempotently.
#
#   scripts/install-system-deps.sh [PACKAGE ...]
#
# Installs only the packages that are not already installed; runs `apt-get update`
# once, and only if something is missing. No service is started: a policy-rc.d that
# exits 101 is in place while packages are installed (Debian postinst scripts
# would otherwise try to start redis, postgresql, munge, slurmd, ...).
# Quiet when nothing is missing; prints what it installed. Must run as root
# (or with a working passwordless sudo).
set -euo pipefail

# docker-compose only validates docker-compose.yml offline (`config -q`); --no-install-recommends keeps the
# Docker engine out.
DEFAULT_PACKAGES=(redis-server postgresql munge slurmctld slurmd slurm-client chromium chromium-driver docker-compose)

die() { echo "install-system-deps: ERROR: $*" >&2; exit 1; }

if [[ $# -gt 0 ]]; then
    packages=("$@")
else
    packages=("${DEFAULT_PACKAGES[@]}")
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "missing packages (${missing[*]}) and not root (no passwordless sudo) - cannot install"
    fi
fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found; this script supports Debian/Ubuntu only"

# Forbid service start-up while installing; restore any pre-existing policy afterwards.
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
if [[ -e "$POLICY" ]]; then
    POLICY_BACKUP=$(mktemp /tmp/policy-rc.d.XXXXXX)
    "${SUDO[@]}" cp -p "$POLICY" "$POLICY_BACKUP"
fi
restore_policy() {
    if [[ -n "$POLICY_BACKUP" ]]; then
        "${SUDO[@]}" cp -p "$POLICY_BACKUP" "$POLICY" && rm -f "$POLICY_BACKUP"
    else
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# installed by HARVEST scripts/install-system-deps.sh: no service starts during install\nexit 101\n' \
    | "${SUDO[@]}" tee "$POLICY" >/dev/null
"${SUDO[@]}" chmod 0755 "$POLICY"

log=$(mktemp /tmp/install-system-deps.XXXXXX.log)
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "apt-get update failed (full log: $log)"
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "apt-get install ${missing[*]} failed (full log: $log)"
fi

# Verify.
still=()
for pkg in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || still+=("$pkg")
done
[[ ${#still[@]} -eq 0 ]] || die "packages still not installed after apt-get: ${still[*]} (log: $log)"

rm -f "$log"
echo "install-system-deps: installed ${missing[*]}"
