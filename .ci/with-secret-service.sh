#!/usr/bin/env bash
# Copied from the project brief's recipe: a private D-Bus session with an unlocked gnome-keyring, so the
# keychain tests run against a real Secret Service on a headless CI machine.
# with-secret-service.sh - run a command inside a fresh D-Bus session bus that has an
# unlocked gnome-keyring Secret Service (org.freedesktop.secrets), for headless CI.
#
# Usage:
#   with-secret-service.sh <command> [args...]
#   with-secret-service.sh npm test
#   with-secret-service.sh sh -c 'node login.js && secret-tool search --all service my-cli'
#
# What it does:
#   1. Installs missing tools with apt-get (only if a tool is missing):
#        dbus-run-session, dbus-daemon, dbus-send -> package "dbus"
#        gnome-keyring-daemon                     -> package "gnome-keyring"
#        secret-tool                              -> package "libsecret-tools"
#      (as root, or through "sudo -n" when not root; --no-install-recommends).
#   2. Starts a private session bus with dbus-run-session.
#   3. Starts gnome-keyring-daemon --foreground --unlock --components=secrets, with its
#      keyring files in a temporary directory, and feeds it the password on stdin.
#      The first start creates the "login" keyring (the "default" alias) unlocked.
#   4. Waits until the default collection is on the bus and unlocked, then runs the
#      command with DBUS_SESSION_BUS_ADDRESS pointing at the private bus.
#   5. Kills the keyring daemon (by its PID), ends the bus, deletes the temporary
#      keyring directory, and exits with the command's exit status.
#
# Optional environment:
#   WSS_KEYRING_DIR   keep the keyring files in this directory (not deleted; reused
#                     by the next run if WSS_PASSWORD is the same)
#   WSS_PASSWORD      password that creates/unlocks the login keyring (default: ci-keyring)
#   WSS_TIMEOUT       seconds to wait for the Secret Service to come up (default: 10)
#   WSS_NO_INSTALL=1  never run apt-get; fail if a tool is missing
#   WSS_VERBOSE=1     progress messages and the dbus-daemon log on stderr
#
# Exit status: the command's, or 2 = usage error, 3 = missing tools, 4 = the Secret
# Service did not come up.

set -euo pipefail

wss_log() { if [ "${WSS_VERBOSE:-0}" = 1 ]; then echo "with-secret-service: $*" >&2; fi; }
wss_die() { local code=$1; shift; echo "with-secret-service: $*" >&2; exit "$code"; }

wss_ensure_tools() {
  local -a pkgs=()
  command -v dbus-run-session >/dev/null 2>&1 || pkgs+=(dbus)
  command -v dbus-daemon >/dev/null 2>&1 || pkgs+=(dbus)
  command -v dbus-send >/dev/null 2>&1 || pkgs+=(dbus)
  command -v gnome-keyring-daemon >/dev/null 2>&1 || pkgs+=(gnome-keyring)
  command -v secret-tool >/dev/null 2>&1 || pkgs+=(libsecret-tools)
  [ "${#pkgs[@]}" -eq 0 ] && return 0
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)

  [ "${WSS_NO_INSTALL:-0}" = 1 ] &&
    wss_die 3 "missing packages: ${pkgs[*]} (WSS_NO_INSTALL=1 is set; install them first)"
  command -v apt-get >/dev/null 2>&1 ||
    wss_die 3 "missing packages: ${pkgs[*]} and no apt-get on this system"
  local -a sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      wss_die 3 "missing packages: ${pkgs[*]}; run: sudo apt-get install -y --no-install-recommends ${pkgs[*]}"
    fi
  fi

  local log
  log=$(mktemp "${TMPDIR:-/tmp}/wss-apt.XXXXXX")
  echo "with-secret-service: installing ${pkgs[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Try without "apt-get update" first (fast when package lists are present).
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${pkgs[@]}" >"$log" 2>&1; then
    if ! { "${sudo[@]}" apt-get update && \
           "${sudo[@]}" apt-get install -y --no-install-recommends "${pkgs[@]}"; } >>"$log" 2>&1; then
      tail -n 20 "$log" >&2
      rm -f "$log"
      wss_die 3 "apt-get install ${pkgs[*]} failed"
    fi
  fi
  rm -f "$log"
}

wss_outer() {
  [ "$#" -gt 0 ] || wss_die 2 "usage: $(basename "$0") <command> [args...]"
  wss_ensure_tools

  local state keep=0 self rc=0
  self=$(readlink -f -- "${BASH_SOURCE[0]}")
  if [ -n "${WSS_KEYRING_DIR:-}" ]; then
    state=$WSS_KEYRING_DIR
    keep=1
    mkdir -p -- "$state"
  else
    state=$(mktemp -d "${TMPDIR:-/tmp}/wss.XXXXXX")
  fi
  state=$(readlink -f -- "$state")
  chmod 700 "$state"

  # dbus-daemon writes its log lines (e.g. "Failed to set fd limit", "Activating
  # service ...") to stderr; send them to a file unless WSS_VERBOSE=1.
  local daemon_bin
  daemon_bin=$(command -v dbus-daemon)
  if [ "${WSS_VERBOSE:-0}" != 1 ]; then
    : >"$state/dbus-daemon.log"
    daemon_bin=$state/dbus-daemon-quiet
    printf '#!/bin/sh\nexec %s "$@" 2>>%s\n' \
      "$(printf '%q' "$(command -v dbus-daemon)")" "$(printf '%q' "$state/dbus-daemon.log")" >"$daemon_bin"
    chmod 700 "$daemon_bin"
  fi

  wss_log "state dir $state"
  WSS_INNER=1 WSS_STATE=$state dbus-run-session --dbus-daemon="$daemon_bin" -- \
    bash "$self" "$@" || rc=$?

  if [ "$keep" = 0 ]; then
    rm -rf -- "$state"
  else
    rm -f -- "$state/dbus-daemon-quiet"
  fi
  exit "$rc"
}

# Stop the keyring daemon started by wss_inner (by its PID). Called from traps.
# shellcheck disable=SC2317
wss_stop_daemon() {
  if [ -n "${WSS_GKD_PID:-}" ] && kill -0 "$WSS_GKD_PID" 2>/dev/null; then
    kill "$WSS_GKD_PID" 2>/dev/null || true
    wait "$WSS_GKD_PID" 2>/dev/null || true
  fi
}

wss_inner() {
  local state=$WSS_STATE rc=0 gkd_pid ready=0 deadline
  unset WSS_INNER WSS_STATE
  mkdir -p "$state/data" "$state/run"
  chmod 700 "$state/data" "$state/run"

  # Keyring files go to $state/data/keyrings, the control socket to $state/run/keyring.
  # Only the daemon sees these XDG variables; the command keeps its environment.
  printf '%s' "${WSS_PASSWORD:-ci-keyring}" |
    env XDG_DATA_HOME="$state/data" XDG_RUNTIME_DIR="$state/run" \
      gnome-keyring-daemon --foreground --unlock --components=secrets \
      >"$state/gnome-keyring.log" 2>&1 &
  gkd_pid=$!
  wss_log "gnome-keyring-daemon pid $gkd_pid"

  WSS_GKD_PID=$gkd_pid
  trap wss_stop_daemon EXIT
  trap 'wss_stop_daemon; exit 130' INT
  trap 'wss_stop_daemon; exit 143' TERM
  trap 'wss_stop_daemon; exit 129' HUP

  # Ready = our daemon owns org.freedesktop.secrets (checked with NameHasOwner, which
  # never triggers D-Bus activation of a second daemon) and the "default" collection
  # reports Locked = false.
  deadline=$(( $(date +%s) + ${WSS_TIMEOUT:-10} ))
  while [ "$(date +%s)" -le "$deadline" ]; do
    kill -0 "$gkd_pid" 2>/dev/null || break
    if dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
         org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true &&
       dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets \
         /org/freedesktop/secrets/aliases/default org.freedesktop.DBus.Properties.Get \
         string:org.freedesktop.Secret.Collection string:Locked 2>/dev/null | grep -q 'boolean false'; then
      ready=1
      break
    fi
    sleep 0.05
  done
  if [ "$ready" != 1 ]; then
    echo "with-secret-service: the Secret Service did not come up unlocked within ${WSS_TIMEOUT:-10}s" >&2
    cat "$state/gnome-keyring.log" >&2 2>/dev/null || true
    [ -n "${WSS_KEYRING_DIR:-}" ] &&
      echo "with-secret-service: (a kept keyring in $state needs the same WSS_PASSWORD)" >&2
    exit 4
  fi
  wss_log "Secret Service ready on $DBUS_SESSION_BUS_ADDRESS"

  "$@" || rc=$?
  exit "$rc"
}

if [ "${WSS_INNER:-}" = 1 ]; then
  wss_inner "$@"
else
  wss_outer "$@"
fi
