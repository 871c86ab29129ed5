#!/usr/bin/env bash
# Tests the container's shell parts without Docker: docker/entrypoint.sh, docker/healthcheck.sh,
# docker/schedule.sh and the docker/custos wrapper. Stub `cron`, `custos`, `id`, `setpriv` and
# `java` executables come first on PATH and record what they were asked to do; the crontab, the
# saved environment and the run summaries live in a temp directory.
#
#   bash src/test/shell/docker_test.sh      prints one line per check; exit 0 when all pass
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
docker="$repo/docker"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stubs="$work/bin"
mkdir -p "$stubs"
passed=0
failed=0

# ---------------------------------------------------------------------------------------------
# Stubs. Each appends one line to $STUB_DIR/log. custos exits with the number in
# $STUB_DIR/exit.<command> (0 when missing); setpriv runs the command after `--` with
# STUB_AS=<uid>:<gid> so that the custos stub can say whom it ran as.

cat >"$stubs/custos" <<'EOF'
#!/usr/bin/env bash
cmd=
for a in "$@"; do
  case "$a" in -*) ;; *) cmd=$a; break ;; esac
done
echo "custos $* | as=${STUB_AS:-self} data=${CUSTOS_DATA_DIR:-}" >>"$STUB_DIR/log"
if [ -n "$cmd" ] && [ -f "$STUB_DIR/block.$cmd" ]; then
  # Runs until SIGTERM, then stays a moment longer so that a second SIGTERM would show.
  trap 'echo "custos $cmd got TERM" >>"$STUB_DIR/log"; stop=1' TERM
  stop=
  : >"$STUB_DIR/running.$cmd"
  while [ -z "$stop" ]; do sleep 0.1; done
  sleep 0.5
  exit 130
fi
code=0
if [ -n "$cmd" ] && [ -f "$STUB_DIR/exit.$cmd" ]; then
  code=$(cat "$STUB_DIR/exit.$cmd")
fi
if [ "$code" = 2 ]; then
  echo "custos: configuration error: unknown key 'partiy_root'" >&2
fi
exit "$code"
EOF
cat >"$stubs/cron" <<'EOF'
#!/usr/bin/env bash
echo "cron $*" >>"$STUB_DIR/log"
if [ -f "$STUB_DIR/block.cron" ]; then
  trap 'echo "cron got TERM" >>"$STUB_DIR/log"; exit 143' TERM
  : >"$STUB_DIR/running.cron"
  while :; do sleep 0.1; done
fi
EOF
cat >"$stubs/id" <<'EOF'
#!/usr/bin/env bash
if [ "${1:-}" = -u ]; then
  echo "${STUB_UID:-0}"
  exit 0
fi
exec /usr/bin/id "$@"
EOF
cat >"$stubs/setpriv" <<'EOF'
#!/usr/bin/env bash
uid= gid=
while [ $# -gt 0 ]; do
  case "$1" in
    --reuid=*) uid=${1#*=} ;;
    --regid=*) gid=${1#*=} ;;
    --) shift; break ;;
  esac
  shift
done
STUB_AS="$uid:$gid" exec "$@"
EOF
cat >"$stubs/java" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$STUB_DIR/java.args"
exit 7
EOF
chmod +x "$stubs"/*

# ---------------------------------------------------------------------------------------------
# Helpers

check() { # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    echo "    stderr: $(tr '\n' '|' <"$t/err" 2>/dev/null)"
    echo "    log:    $(tr '\n' '|' <"$t/log" 2>/dev/null)"
  fi
}

# A fresh case directory: $t with the stub log, state dir and crontab path.
fresh() {
  t="$work/case$((passed + failed))-$RANDOM"
  mkdir -p "$t/state"
  : >"$t/log"
}

# ep [VAR=value...] [-- ARGS...]: runs the entry point in a clean environment; sets $rc.
ep() {
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    vars+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  env -i PATH="$stubs:/usr/local/bin:/usr/bin:/bin" HOME="$t" STUB_DIR="$t" \
    CUSTOS_CRONTAB="$t/crontab" CUSTOS_STATE_DIR="$t/state" CUSTOS_DATA_DIR=/data CUSTOS_PARITY_ROOT=/parity \
    "${vars[@]}" bash "$docker/entrypoint.sh" "$@" >"$t/out" 2>"$t/err"
  rc=$?
}

# ep_bg: starts the entry point in the background; sets $ep_pid.
ep_bg() {
  env -i PATH="$stubs:/usr/local/bin:/usr/bin:/bin" HOME="$t" STUB_DIR="$t" \
    CUSTOS_CRONTAB="$t/crontab" CUSTOS_STATE_DIR="$t/state" CUSTOS_DATA_DIR=/data CUSTOS_PARITY_ROOT=/parity \
    bash "$docker/entrypoint.sh" >"$t/out" 2>"$t/err" &
  ep_pid=$!
}

# wait_for FILE...: until each exists (at most 10 s).
wait_for() {
  local f i
  for f in "$@"; do
    for ((i = 0; i < 100; i++)); do
      [ -e "$f" ] && break
      sleep 0.1
    done
  done
}

# stop_ep: SIGTERM to the entry point, then its exit code in $rc (999 when it had not ended after
# 15 s and was killed).
stop_ep() {
  local i
  kill -TERM "$ep_pid"
  for ((i = 0; i < 150; i++)); do
    kill -0 "$ep_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$ep_pid" 2>/dev/null; then
    kill -KILL "$ep_pid"
    wait "$ep_pid"
    rc=999
  else
    wait "$ep_pid"
    rc=$?
  fi
}

# hc [VAR=value...]: runs the healthcheck against $t/logs; sets $rc and $t/out.
hc() {
  env -i PATH="/usr/local/bin:/usr/bin:/bin" CUSTOS_STATE_DIR="$t/state" HEALTH_LOGS_DIR="$t/logs" \
    "$@" bash "$docker/healthcheck.sh" >"$t/out" 2>"$t/err"
  rc=$?
}

# summary NAME EXIT_CODE FINISHED_SECONDS_AGO [COMMAND]: a run summary as custos writes it.
summary() {
  local at
  mkdir -p "$t/logs"
  at=$(date -u -d "@$(($(date +%s) - $3))" +%Y-%m-%dT%H:%M:%S.123456789Z)
  printf '{"command":"%s","run_id":7,"exit_code":%s,"started_at":"%s","finished_at":"%s","stats":{"files_scanned":3},"problems":[]}\n' \
    "${4:-scan}" "$2" "$at" "$at" >"$t/logs/$1"
}

rc_is() { [ "$rc" = "$1" ]; }
log_has() { grep -qF -- "$1" "$t/log"; }
log_lacks() { ! grep -qF -- "$1" "$t/log"; }
log_count() { [ "$(grep -cxF -- "$1" "$t/log")" = "$2" ]; }
log_line() { [ "$(sed -n "${1}p" "$t/log")" = "$2" ]; }
err_has() { grep -qF -- "$1" "$t/err"; }
out_has() { grep -qF -- "$1" "$t/out"; }
crontab_has() { grep -qxF -- "$1" "$t/crontab"; }
jobs_in_crontab() { [ "$(grep -c ' root ' "$t/crontab")" = "$1" ]; }
no_crontab() { [ ! -e "$t/crontab" ]; }
cron_not_started() { log_lacks "cron -f"; }
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }

job_line() { # the crontab line of the job that runs custos $1
  printf '%s root %s --cron-job %s %s >>/proc/1/fd/1 2>>/proc/1/fd/2' "$2" "$docker/entrypoint.sh" "$t/state/cron.env" "$1"
}

# ---------------------------------------------------------------------------------------------
# Entry point, cron mode

fresh
ep
check "cron mode: exits with cron's exit code (stub: 0)" rc_is 0
check "cron mode: checks the configuration with custos status first, as PUID 1000" log_line 1 "custos -q status | as=1000:1000 data=/data"
check "cron mode: runs one scan at start, as PUID 1000" log_line 2 "custos scan | as=1000:1000 data=/data"
check "cron mode: then runs cron in the foreground" log_line 3 "cron -f"
check "cron mode: crontab has the default scan schedule" crontab_has "$(job_line scan '0 3 * * *')"
check "cron mode: crontab has no zip or verify job by default" jobs_in_crontab 1
check "cron mode: crontab runs jobs with bash and mails nothing" crontab_has 'MAILTO=""'
check "cron mode: crontab is root's and not writable by others (cron.d rule)" mode_is "$t/crontab" 644
check "cron mode: environment saved for the jobs, readable by root only" mode_is "$t/state/cron.env" 600
check "cron mode: saved environment keeps CUSTOS_* settings" grep -qxF 'export CUSTOS_DATA_DIR=/data' "$t/state/cron.env"
check "cron mode: start time recorded for the healthcheck" test -f "$t/state/started"
check "cron mode: says what it scheduled" err_has "scheduled: custos scan at '0 3 * * *'"

# A job as cron runs it: the crontab's command in an empty environment.
: >"$t/log"
echo 1 >"$t/exit.scan"
cmd=$(grep ' root ' "$t/crontab" | sed -e 's/^\([^ ]* \)\{5\}root //' -e "s| >>/proc/1/fd/1 2>>/proc/1/fd/2\$||")
env -i PATH="$stubs:/usr/bin:/bin" bash -c "$cmd" >"$t/out" 2>"$t/err"
rc=$?
check "cron job: runs custos scan with the container's environment, as PUID" log_line 1 "custos scan | as=1000:1000 data=/data"
check "cron job: exits with custos's exit code" rc_is 1
check "cron job: logs its start and exit code" err_has "cron: custos scan exited 1"

fresh
ep CRON_SCHEDULE='*/30 1-5 * * mon-fri' ZIP_SCHEDULE='15 4 * * 0' VERIFY_SCHEDULE='@weekly' PUID=0
check "custom schedules: scan at CRON_SCHEDULE" crontab_has "$(job_line scan '*/30 1-5 * * mon-fri')"
check "custom schedules: zip at ZIP_SCHEDULE" crontab_has "$(job_line zip '15 4 * * 0')"
check "custom schedules: verify at VERIFY_SCHEDULE" crontab_has "$(job_line verify '@weekly')"
check "custom schedules: three jobs" jobs_in_crontab 3
check "PUID=0: custos runs as root, without setpriv" log_line 2 "custos scan | as=self data=/data"

fresh
ep CRON_SCHEDULE='0 3 * *'
check "bad CRON_SCHEDULE: exit 2" rc_is 2
check "bad CRON_SCHEDULE: says which variable and why" err_has 'CRON_SCHEDULE: invalid schedule "0 3 * *": it needs five fields'
check "bad CRON_SCHEDULE: nothing runs" test ! -s "$t/log"
check "bad CRON_SCHEDULE: no crontab" no_crontab

fresh
ep VERIFY_SCHEDULE='0 25 * * *'
check "bad VERIFY_SCHEDULE: exit 2 naming it" rc_is 2
check "bad VERIFY_SCHEDULE: says why" err_has "VERIFY_SCHEDULE: invalid schedule \"0 25 * * *\": hour 25 is out of range 0-23"

fresh
echo 2 >"$t/exit.status"
ep
check "bad configuration: exit 2" rc_is 2
check "bad configuration: custos's own message shows" err_has "custos: configuration error: unknown key 'partiy_root'"
check "bad configuration: says the container stops" err_has "the configuration is not valid"
check "bad configuration: no scan" log_lacks "custos scan"
check "bad configuration: cron not started" cron_not_started
check "bad configuration: no crontab" no_crontab

fresh
echo 5 >"$t/exit.scan"
ep
check "scan at start fails: not fatal, cron starts" log_line 3 "cron -f"
check "scan at start fails: exit code of cron (0)" rc_is 0
check "scan at start fails: logged" err_has "the scan at start exited 5"

fresh
echo 1 >"$t/exit.status"
ep
check "status exits 1 (damaged files): not a configuration error, cron starts" log_line 3 "cron -f"

fresh
ep STUB_UID=1000
check "cron mode started as non-root: exit 2" rc_is 2
check "cron mode started as non-root: says to use PUID instead" err_has "cron mode has to start as root"
check "cron mode started as non-root: nothing runs" test ! -s "$t/log"

fresh
ep PUID=abc
check "PUID not a number: exit 2" rc_is 2
check "PUID not a number: says so" err_has "PUID must be a number"

fresh
echo 3 >"$t/exit.status"
ep -- custos status
check "cron mode with arguments: runs them instead of cron" log_line 1 "custos status | as=1000:1000 data=/data"
check "cron mode with arguments: exit code passed through" rc_is 3
check "cron mode with arguments: no cron" cron_not_started

# ---------------------------------------------------------------------------------------------
# docker stop: SIGTERM to the entry point (tini passes it on)

fresh
touch "$t/block.scan"
ep_bg
wait_for "$t/running.scan"
stop_ep
check "stop during the scan at start: the scan gets exactly one SIGTERM" log_count "custos scan got TERM" 1
check "stop during the scan at start: exits 143 after the scan ended" rc_is 143
check "stop during the scan at start: cron never starts" cron_not_started

fresh
touch "$t/block.cron"
ep_bg
wait_for "$t/running.cron"
touch "$t/block.scan"
cmd=$(grep ' root ' "$t/crontab" | sed -e 's/^\([^ ]* \)\{5\}root //' -e "s| >>/proc/1/fd/1 2>>/proc/1/fd/2\$||")
env -i PATH="$stubs:/usr/bin:/bin" setsid bash -c "$cmd" >"$t/job.out" 2>"$t/job.err" &
job_pid=$!
wait_for "$t/running.scan"
check "cron job: its custos is recorded for a stop" test -n "$(ls "$t/state/running")"
stop_ep
kill -TERM -- "-$job_pid" 2>/dev/null # its session: only left over when a check above failed
wait "$job_pid"
check "stop while a cron job runs: cron gets SIGTERM" log_has "cron got TERM"
check "stop while a cron job runs: the job's custos gets exactly one SIGTERM" log_count "custos scan got TERM" 1
check "stop while a cron job runs: the entry point waited for it (job logged its exit)" grep -qF "cron: custos scan exited 130" "$t/job.err"
check "stop while a cron job runs: exit 143" rc_is 143
check "stop while a cron job runs: the record of the job is gone" test -z "$(ls "$t/state/running")"

# ---------------------------------------------------------------------------------------------
# Entry point, manual mode and unknown modes

fresh
echo 1 >"$t/exit.verify"
ep RUN_MODE=manual -- verify --all --path '*.jpg'
check "manual mode: custos gets the arguments as given, as PUID" log_line 1 "custos verify --all --path *.jpg | as=1000:1000 data=/data"
check "manual mode: exit code passed through" rc_is 1
check "manual mode: no cron, no crontab" no_crontab

fresh
ep RUN_MODE=manual PUID=0 -- custos --version
check "manual mode: a leading 'custos' is dropped" log_line 1 "custos --version | as=self data=/data"
check "manual mode: exit 0 passed through" rc_is 0

fresh
ep RUN_MODE=daily
check "unknown RUN_MODE: exit 2" rc_is 2
check "unknown RUN_MODE: names the accepted modes" err_has "RUN_MODE must be 'cron' (the default: scheduled runs) or 'manual'"
check "unknown RUN_MODE: nothing runs" test ! -s "$t/log"

# ---------------------------------------------------------------------------------------------
# Healthcheck

fresh
summary 20260101T030000Z-7.json 0 3600
hc
check "health: a run that exited 0 an hour ago is healthy" rc_is 0
check "health: says which run" out_has "healthy: custos scan exited 0 1h 0m ago (20260101T030000Z-7.json)"

fresh
summary 20260101T030000Z-7.json 0 $((31 * 3600))
hc
check "health: 31 h since the last daily run (allowed 24 h + 6 h) is unhealthy" rc_is 1
check "health: stale run explained" out_has "the last run finished 1d 7h 0m ago (allowed: 1d 6h 0m, CRON_SCHEDULE '0 3 * * *' + 6h)"

fresh
summary 20260101T030000Z-7.json 0 $((29 * 3600))
hc
check "health: 29 h since the last daily run is still healthy" rc_is 0

fresh
summary 20260101T030000Z-7.json 1 600
hc
check "health: last run exited 1 is unhealthy" rc_is 1
check "health: exit code named" out_has "the last run (custos scan, 20260101T030000Z-7.json) exited 1"

fresh
summary 20260101T030000Z-7.json 4 600
hc
check "health: last run exited 4 (guard) is healthy" rc_is 0

fresh
summary 20260101T030000Z-7.json 5 $((40 * 3600))
hc
check "health: stale and failed: both reasons given" out_has "exited 5;the last run finished"

fresh
summary 20260101T030000Z-7.json 0 600
summary 20260102T030000Z-8.json 130 300 verify
hc
check "health: the newest summary decides (verify interrupted, 130)" out_has "the last run (custos verify, 20260102T030000Z-8.json) exited 130"

fresh
summary 20260101T030000Z-7.json 0 600 "link plan"
hc
check "health: a command with a space (link plan) is read whole" out_has "healthy: custos link plan exited 0 10m ago"

fresh
summary 20260102T030000Z-9.json 1 600
summary 20260102T030000Z-10.json 0 300
hc
check "health: same second, higher run id is newer (10 after 9)" rc_is 0

fresh
summary 20260101T030000Z-7.json 0 $((3 * 86400))
hc CRON_SCHEDULE='0 3 * * sun'
check "health: weekly CRON_SCHEDULE allows 3 days" rc_is 0

fresh
summary 20260101T030000Z-7.json 0 $((3 * 3600))
hc HEALTH_MAX_AGE=2h
check "health: HEALTH_MAX_AGE=2h, 3 h old: unhealthy" rc_is 1
hc HEALTH_MAX_AGE=14400
check "health: HEALTH_MAX_AGE=14400 (seconds), 3 h old: healthy" rc_is 0
hc HEALTH_MAX_AGE=1d
check "health: HEALTH_MAX_AGE=1d, 3 h old: healthy" rc_is 0
hc HEALTH_MAX_AGE=soon
check "health: HEALTH_MAX_AGE not a duration: unhealthy, says so" out_has "HEALTH_MAX_AGE='soon' is not a duration"

fresh
touch "$t/state/started"
hc
check "health: no run yet, just started: healthy" rc_is 0
check "health: no run yet: says so" out_has "no run has finished yet"

fresh
touch -d '2 days ago' "$t/state/started"
hc
check "health: no run in the 2 days since start (allowed 30 h): unhealthy" rc_is 1

fresh
hc
check "health: no run and no start recorded: unhealthy" rc_is 1

fresh
mkdir -p "$t/logs"
echo 'not json' >"$t/logs/20260101T030000Z-7.json"
hc
check "health: unreadable summary: unhealthy" rc_is 1
check "health: unreadable summary: says which file" out_has "cannot read exit_code and finished_at in $t/logs/20260101T030000Z-7.json"

fresh
hc RUN_MODE=manual
check "health: manual mode is always healthy" rc_is 0

fresh
hc CRON_SCHEDULE='bad'
check "health: bad CRON_SCHEDULE: unhealthy" rc_is 1

# ---------------------------------------------------------------------------------------------
# Schedules

gap() { [ "$("$docker/schedule.sh" "$1" 2>/dev/null)" = "$2" ]; }
bad() { ! "$docker/schedule.sh" "$1" >/dev/null 2>&1; }
check "schedule: daily" gap '0 3 * * *' 86400
check "schedule: every 15 minutes" gap '*/15 * * * *' 900
check "schedule: weekdays only: Friday to Monday" gap '30 2 * * 1-5' 259200
check "schedule: day 7 is Sunday, names work" gap '0 3 * * 7' "$("$docker/schedule.sh" '0 3 * * SUN')"
check "schedule: monthly: longest month" gap '0 3 1 * *' 2678400
check "schedule: both day fields restricted: either matches (1st, 15th or Mondays)" gap '0 3 1,15 * mon' 604800
check "schedule: @weekly" gap '@weekly' 604800
check "schedule: 29 February: every 4 years" gap '0 3 29 2 *' 126230400
check "schedule: 31 February never runs: refused" bad '0 3 31 2 *'
check "schedule: six fields refused" bad '0 3 * * * root'
check "schedule: minute 60 refused" bad '60 3 * * *'
check "schedule: backwards range refused" bad '0 5-1 * * *'
check "schedule: step 0 refused" bad '*/0 * * * *'
check "schedule: step without range refused (cron rejects 5/10)" bad '5/10 * * * *'
check "schedule: @reboot refused" bad '@reboot'

# ---------------------------------------------------------------------------------------------
# The custos wrapper

fresh
home="$t/opt"
mkdir -p "$home/native"
touch "$home/custos.jar" "$home/custos.jsa" "$home/native/libsqlitejdbc.so"
env -i PATH=/usr/bin:/bin STUB_DIR="$t" CUSTOS_HOME="$home" CUSTOS_JAVA="$stubs/java" \
  bash "$docker/custos" --json scan photos >"$t/out" 2>"$t/err"
rc=$?
java_args() { [ "$(tr '\n' ' ' <"$t/java.args")" = "$1" ]; }
check "wrapper: java's exit code passed through" rc_is 7
check "wrapper: heap, GC, CDS archive, SQLite library, --add-opens, jar, arguments" java_args \
  "-Xms256m -Xmx384m -XX:+UseSerialGC -Xss512k -XX:-UsePerfData -Xlog:disable -Xlog:all=warning:stderr -XX:SharedArchiveFile=$home/custos.jsa -Dorg.sqlite.lib.path=$home/native -Dorg.sqlite.lib.name=libsqlitejdbc.so --add-opens java.base/sun.nio.fs=ALL-UNNAMED -jar $home/custos.jar --json scan photos "
rm "$home/custos.jsa" "$home/native/libsqlitejdbc.so"
env -i PATH=/usr/bin:/bin STUB_DIR="$t" CUSTOS_HOME="$home" CUSTOS_JAVA="$stubs/java" CUSTOS_JAVA_OPTS='-Xmx1g' \
  bash "$docker/custos" status >"$t/out" 2>"$t/err"
check "wrapper: CUSTOS_JAVA_OPTS replaces heap and GC options; no archive or library when missing" java_args \
  "-Xmx1g -Xlog:disable -Xlog:all=warning:stderr --add-opens java.base/sun.nio.fs=ALL-UNNAMED -jar $home/custos.jar status "

echo "docker_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
