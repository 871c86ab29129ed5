#!/usr/bin/env bash
# Entry point of the custos container; tini (PID 1) starts it.
#
#   RUN_MODE=cron (default)  check the configuration, write the crontab, run one scan, then run
#                            Debian's cron in the foreground. Arguments, if any, are run as a
#                            command instead (`docker run IMAGE custos status`, `... bash`).
#   RUN_MODE=manual          run custos with the arguments (`docker run -e RUN_MODE=manual
#                            IMAGE verify --all`) and exit with its exit code.
#
# custos runs as PUID:PGID (default 1000:1000, the image's `custos` user); PUID=0 runs it as root.
# Cron itself has to start as root: it reads /etc/cron.d and starts each job as root, and the job
# then drops to PUID:PGID.
#
# Schedules (five cron fields, in the container's local time, TZ):
#   CRON_SCHEDULE    custos scan    (default "0 3 * * *")
#   ZIP_SCHEDULE     custos zip     (unset or empty: no zip job)
#   VERIFY_SCHEDULE  custos verify  (unset or empty: no verify job)
#
# Cron gives its jobs an almost empty environment, so the container's environment is saved to a
# file that each job reads first (in CUSTOS_STATE_DIR, default /run/custos, readable by root
# only). Job output goes to the container's stdout and stderr through /proc/1/fd/1 and
# /proc/1/fd/2, which cron's shell opens as root before custos drops to PUID. For the tests the
# crontab's path can be changed with CUSTOS_CRONTAB (default /etc/cron.d/custos).
set -euo pipefail

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
here=$(dirname "$self")

say() {
  printf 'custos-entrypoint: %s\n' "$*" >&2
}

die() {
  local code=$1
  shift
  say "$*"
  exit "$code"
}

# A job started by cron: `entrypoint.sh --cron-job ENV_FILE ARGS...`.
cron_job=
if [ "${1:-}" = --cron-job ]; then
  # shellcheck source=/dev/null
  . "$2"
  shift 2
  cron_job=yes
fi
state=${CUSTOS_STATE_DIR:-/run/custos}
crontab=${CUSTOS_CRONTAB:-/etc/cron.d/custos}
# The custos processes of running cron jobs, one empty file per pid: cron starts its jobs in a
# session of their own, out of reach of signals sent to cron, so a stopping container signals them.
running="$state/running"

uid=${PUID:-1000}
gid=${PGID:-1000}
case "$uid" in '' | *[!0-9]*) die 2 "PUID must be a number, not '$uid'" ;; esac
case "$gid" in '' | *[!0-9]*) die 2 "PGID must be a number, not '$gid'" ;; esac

# Runs "$@" as PUID:PGID when this runs as root (in place of this process: use a subshell to go on).
run_as_user() {
  if [ "$(id -u)" = 0 ] && [ "$uid" != 0 ]; then
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
  fi
  exec "$@"
}

if [ -n "$cron_job" ]; then
  say "cron: custos $* started"
  mkdir -p "$running"
  run_as_user custos "$@" &
  pid=$!
  : >"$running/$pid"
  rc=0
  wait "$pid" || rc=$?
  rm -f "$running/$pid"
  say "cron: custos $* exited $rc"
  exit "$rc"
fi

case "${RUN_MODE:-cron}" in
  cron) ;;
  manual)
    if [ "${1:-}" = custos ]; then
      shift
    fi
    run_as_user custos "$@"
    ;;
  *)
    die 2 "RUN_MODE must be 'cron' (the default: scheduled runs) or 'manual' (run custos with the arguments), not '${RUN_MODE}'"
    ;;
esac

# Cron mode with arguments: run them instead (`custos status`, `bash`).
if [ $# -gt 0 ]; then
  run_as_user "$@"
fi

if [ "$(id -u)" != 0 ]; then
  die 2 "cron mode has to start as root (cron switches users itself); drop --user and set PUID/PGID for the user custos runs as, or use RUN_MODE=manual"
fi

# The schedules, checked before anything runs: a typo must not wait for a long first scan.
jobs=()
add_job() {
  local var=$1 command=$2 schedule=$3 err
  if ! err=$("$here/schedule.sh" "$schedule" 2>&1 >/dev/null); then
    die 2 "$var: $err"
  fi
  jobs+=("$schedule|$command")
}
add_job CRON_SCHEDULE scan "${CRON_SCHEDULE:-0 3 * * *}"
if [ -n "${ZIP_SCHEDULE:-}" ]; then
  add_job ZIP_SCHEDULE zip "$ZIP_SCHEDULE"
fi
if [ -n "${VERIFY_SCHEDULE:-}" ]; then
  add_job VERIFY_SCHEDULE verify "$VERIFY_SCHEDULE"
fi

mkdir -p "$state" "$running"
chmod 0755 "$state"
rm -f "$running"/*
# The healthcheck's "no run yet" grace period starts here.
touch "$state/started"

# A configuration error stops the container: every scheduled run would fail the same way.
# `custos status` reads the configuration (exit 2 when it is wrong) and changes nothing.
rc=0
(run_as_user custos -q status) >/dev/null || rc=$?
if [ "$rc" = 2 ]; then
  die 2 "the configuration is not valid (custos said why above); fix it, then start the container again"
elif [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
  say "warning: custos status exited $rc; starting anyway"
fi

# The container's environment, for the jobs.
env_file="$state/cron.env"
(
  umask 077
  for name in $(compgen -e); do
    case "$name" in
      _ | PWD | OLDPWD | SHLVL | *[!A-Za-z0-9_]*) continue ;;
    esac
    printf 'export %s=%q\n' "$name" "${!name}"
  done >"$env_file.tmp"
  mv -f "$env_file.tmp" "$env_file"
)

{
  echo "# Written by $self when the container started; changes are lost at the next start."
  echo "SHELL=/bin/bash"
  echo "MAILTO=\"\""
  for j in "${jobs[@]}"; do
    printf '%s root %q --cron-job %q %s >>/proc/1/fd/1 2>>/proc/1/fd/2\n' "${j%%|*}" "$self" "$env_file" "${j#*|}"
  done
} >"$crontab.tmp"
chmod 0644 "$crontab.tmp"
mv -f "$crontab.tmp" "$crontab"
for j in "${jobs[@]}"; do
  say "scheduled: custos ${j#*|} at '${j%%|*}'"
done

# docker stop: SIGTERM reaches tini, which passes it to this script alone. Each custos that runs
# (the scan at start, a cron job) gets exactly one SIGTERM, saves its work and exits 130; a second
# one would make it stop at once. cron is stopped, and the container ends when they all have.
child=
# shellcheck disable=SC2317 # called by the trap below
on_stop() {
  trap '' TERM INT
  say "stopping: custos saves its work first"
  local f pid
  for f in "$running"/*; do
    [ -e "$f" ] && kill -TERM "${f##*/}" 2>/dev/null
  done
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null
  fi
  for f in "$running"/*; do
    pid=${f##*/}
    while [ -e "$f" ] && kill -0 "$pid" 2>/dev/null; do
      sleep 0.2
    done
  done
  wait
  exit 143
}
trap on_stop TERM INT

say "scan at start"
rc=0
run_as_user custos scan &
child=$!
wait "$child" || rc=$?
if [ "$rc" != 0 ]; then
  say "the scan at start exited $rc; cron starts anyway (exit codes: custos --help)"
fi

say "starting cron"
cron -f &
child=$!
rc=0
wait "$child" || rc=$?
say "cron exited $rc"
exit "$rc"
