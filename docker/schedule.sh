#!/usr/bin/env bash
# Checks a cron schedule the way Debian's cron reads it and prints the longest time, in seconds,
# between two of its runs. The entry point uses it to refuse a bad CRON_SCHEDULE before it writes
# the crontab (cron itself would only complain to a syslog the container does not have), and the
# healthcheck to know how old the last run may be.
#
#   schedule.sh SCHEDULE      prints the longest gap in seconds; exit 0
#                             on a bad schedule: a message on stderr, exit 2
#
# SCHEDULE is five fields (minute hour day-of-month month day-of-week) with *, N, N-M, */S,
# N-M/S, lists with commas and month/day names (jan, mon...), or one of @hourly, @daily,
# @midnight, @weekly, @monthly, @yearly, @annually. As in cron, when both day fields are
# restricted (neither starts with *), a day matching either one runs.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: schedule.sh 'MIN HOUR DOM MON DOW'" >&2
  exit 2
fi

# The gap is found by walking the calendar day by day over 2000-01-01 .. 2008-12-31: nine years
# hold every weekday/date combination and three 29 Februaries, so any schedule that runs at all
# shows its longest gap there. Times are local and DST is ignored (the healthcheck adds a grace).
awk -v expr="$1" '
function fail(msg) { printf "invalid schedule \"%s\": %s\n", expr, msg > "/dev/stderr"; exit 2 }

function num(s, what, lo, hi, names,    n, i) {
  if (s ~ /^[0-9]+$/) {
    n = s + 0
  } else if (names != "" && length(s) == 3 && index(names, " " tolower(s) " ") > 0) {
    n = (index(names, " " tolower(s) " ") - 1) / 4 + lo
  } else {
    fail(what " \"" s "\" is not a number" (names != "" ? " or a name" : ""))
  }
  if (n < lo || n > hi) fail(what " " s " is out of range " lo "-" hi)
  return n
}

# Sets set[lo..hi] to 1 for the values the field selects.
function field(f, what, lo, hi, names, set,    items, n, i, item, step, range, parts, a, b, v) {
  for (v = lo; v <= hi; v++) set[v] = 0
  if (f == "") fail("the " what " field is empty")
  n = split(f, items, ",")
  for (i = 1; i <= n; i++) {
    item = items[i]
    step = 1
    if (index(item, "/") > 0) {
      split(item, parts, "/")
      if (item !~ /^[^\/]+\/[0-9]+$/) fail("bad step in " what " field \"" item "\"")
      step = parts[2] + 0
      if (step < 1) fail("step 0 in " what " field \"" item "\"")
      range = parts[1]
      if (range != "*" && index(range, "-") == 0) fail("a step needs * or a range in " what " field \"" item "\"")
    } else {
      range = item
    }
    if (range == "*") {
      a = lo; b = hi
    } else if (index(range, "-") > 0) {
      if (split(range, parts, "-") != 2) fail("bad range in " what " field \"" item "\"")
      a = num(parts[1], what, lo, hi, names); b = num(parts[2], what, lo, hi, names)
      if (a > b) fail("range " range " runs backwards in the " what " field")
    } else {
      a = num(range, what, lo, hi, names); b = a
    }
    for (v = a; v <= b; v += step) set[v] = 1
  }
}

function leap(y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

BEGIN {
  e = expr
  gsub(/^[ \t]+|[ \t]+$/, "", e)
  if (e ~ /^@/) {
    k = tolower(e)
    if (k == "@hourly") e = "0 * * * *"
    else if (k == "@daily" || k == "@midnight") e = "0 0 * * *"
    else if (k == "@weekly") e = "0 0 * * 0"
    else if (k == "@monthly") e = "0 0 1 * *"
    else if (k == "@yearly" || k == "@annually") e = "0 0 1 1 *"
    else if (k == "@reboot") fail("@reboot is not a schedule here: the container already scans when it starts")
    else fail("unknown keyword " e)
  }
  if (split(e, f, /[ \t]+/) != 5) fail("it needs five fields: minute hour day-of-month month day-of-week")
  field(f[1], "minute", 0, 59, "", mi)
  field(f[2], "hour", 0, 23, "", ho)
  field(f[3], "day-of-month", 1, 31, "", dm)
  field(f[4], "month", 1, 12, " jan feb mar apr may jun jul aug sep oct nov dec ", mo)
  field(f[5], "day-of-week", 0, 7, " sun mon tue wed thu fri sat ", dw)
  if (dw[7]) dw[0] = 1
  either = substr(f[3], 1, 1) != "*" && substr(f[5], 1, 1) != "*"

  # The runs within one day: first, last, and the longest gap between two of them.
  first = -1; prev = -1; inday = 0
  for (h = 0; h < 24; h++) for (m = 0; m < 60; m++) if (ho[h] && mi[m]) {
    t = h * 60 + m
    if (first < 0) first = t
    if (prev >= 0 && t - prev > inday) inday = t - prev
    prev = t
  }
  last = prev
  split("31 28 31 30 31 30 31 31 30 31 30 31", mlen, " ")

  day = 0; wday = 6; lastrun = -1; gap = inday; runs = 0   # 2000-01-01 was a Saturday
  for (y = 2000; y <= 2008; y++) for (mm = 1; mm <= 12; mm++) {
    days = mlen[mm] + (mm == 2 && leap(y))
    for (d = 1; d <= days; d++) {
      ok = either ? (dm[d] || dw[wday]) : (dm[d] && dw[wday])
      if (ok && mo[mm]) {
        if (lastrun >= 0 && day * 1440 + first - lastrun > gap) gap = day * 1440 + first - lastrun
        lastrun = day * 1440 + last
        runs++
      }
      day++; wday = (wday + 1) % 7
    }
  }
  if (runs == 0) fail("it never runs (no such date)")
  if (runs == 1 && inday == 0) fail("it runs only once in nine years")
  print gap * 60
}
'
