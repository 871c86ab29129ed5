#!/usr/bin/env bash
# The container's HEALTHCHECK: healthy (exit 0) when the newest run summary in
# <parity root>/_logs/ (one JSON file per run: <UTC start>-<run id>.json) says the run exited 0
# or 4 (a guard held changes back: custos still works, someone has to look) and finished recently
# enough; unhealthy (exit 1) otherwise, with the reason on stdout (`docker inspect` shows it).
#
# "Recently enough": HEALTH_MAX_AGE when set (seconds, or a number with s, m, h or d: "36h"),
# else the longest gap between two runs of CRON_SCHEDULE (default "0 3 * * *": 24 h) plus 6 hours
# for the run itself. A run of any command counts (scan, verify, zip...).
#
# Before the first run has finished (the first scan of a large NAS takes hours), the container
# counts as healthy for the same allowed age after the entry point started, then unhealthy.
#
# In RUN_MODE=manual nothing is scheduled, so there is nothing to check: always healthy.
#
# The run summaries are read from HEALTH_LOGS_DIR, default $CUSTOS_PARITY_ROOT/_logs (/parity/_logs):
# set it when parity_root is set in the configuration file rather than in the environment.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state=${CUSTOS_STATE_DIR:-/run/custos}
logs=${HEALTH_LOGS_DIR:-${CUSTOS_PARITY_ROOT:-/parity}/_logs}
grace=$((6 * 3600))

healthy() {
  echo "healthy: $*"
  exit 0
}

unhealthy() {
  echo "unhealthy: $*"
  exit 1
}

# 93784 -> "1d 2h 3m"
human() {
  local s=$1 out=
  if [ "$s" -ge 86400 ]; then out="$((s / 86400))d "; fi
  if [ "$s" -ge 3600 ]; then out="$out$((s % 86400 / 3600))h "; fi
  echo "$out$((s % 3600 / 60))m"
}

if [ "${RUN_MODE:-cron}" = manual ]; then
  healthy "RUN_MODE=manual runs nothing on a schedule"
fi

if [ -n "${HEALTH_MAX_AGE:-}" ]; then
  case "$HEALTH_MAX_AGE" in
    *[0-9]s | *[0-9]) unit=1 ;;
    *[0-9]m) unit=60 ;;
    *[0-9]h) unit=3600 ;;
    *[0-9]d) unit=86400 ;;
    *) unit= ;;
  esac
  number=${HEALTH_MAX_AGE%[smhd]}
  case "$number" in '' | *[!0-9]*) unit= ;; esac
  if [ -z "$unit" ]; then
    unhealthy "HEALTH_MAX_AGE='$HEALTH_MAX_AGE' is not a duration (seconds, or a number with s, m, h or d)"
  fi
  max=$((10#$number * unit))
  why="HEALTH_MAX_AGE"
else
  schedule=${CRON_SCHEDULE:-0 3 * * *}
  if ! gap=$("$here/schedule.sh" "$schedule" 2>&1); then
    unhealthy "CRON_SCHEDULE: $gap"
  fi
  max=$((gap + grace))
  why="CRON_SCHEDULE '$schedule' + 6h"
fi
now=$(date +%s)

shopt -s nullglob
files=("$logs"/[0-9]*Z-[0-9]*.json)
if [ ${#files[@]} -eq 0 ]; then
  if ! started=$(stat -c %Y "$state/started" 2>/dev/null); then
    unhealthy "no run summary in $logs, and the entry point has not started the schedule"
  fi
  up=$((now - started))
  if [ "$up" -le "$max" ]; then
    healthy "no run has finished yet; started $(human "$up") ago (allowed: $(human "$max"), $why)"
  fi
  unhealthy "no run has finished in the $(human "$up") since the container started (allowed: $(human "$max"), $why); see docker logs"
fi

# Newest by start time, then run id (two runs may start in the same second).
newest=$(printf '%s\n' "${files[@]##*/}" | sort -t- -k1,1 -k2,2n | tail -n 1)
# The summary is one line of JSON whose first fields are fixed: command, run_id, exit_code,
# started_at, finished_at (SPEC §2).
fields=$(head -c 4096 "$logs/$newest" |
  sed -n 's/^{"command":"\([^"]*\)","run_id":[^,]*,"exit_code":\([0-9]*\),"started_at":[^,]*,"finished_at":"\([^"]*\)".*/\1|\2|\3/p')
IFS='|' read -r command code finished <<<"$fields" || true
if [ -z "${finished:-}" ] || ! end=$(date -d "$finished" +%s 2>/dev/null); then
  unhealthy "cannot read exit_code and finished_at in $logs/$newest"
fi
age=$((now - end))

problems=()
if [ "$code" != 0 ] && [ "$code" != 4 ]; then
  problems+=("the last run (custos $command, $newest) exited $code")
fi
if [ "$age" -gt "$max" ]; then
  problems+=("the last run finished $(human "$age") ago (allowed: $(human "$max"), $why)")
fi
if [ ${#problems[@]} -gt 0 ]; then
  unhealthy "$(
    IFS=';'
    echo "${problems[*]}"
  )"
fi
healthy "custos $command exited $code $(human "$age") ago ($newest)"
