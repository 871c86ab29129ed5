#!/usr/bin/env bash
# Checks a built custos image with a real Docker engine (CI runs it after `docker build`):
#
#   docker/smoke-test.sh IMAGE [PAR2_VARIANT]     PAR2_VARIANT: turbo (default) or debian
#
# It runs custos --version and --help, a real scan of a read-only /data into a volume, the
# healthcheck, the cron mode with a scan every minute until a scheduled scan has finished and
# Docker reports the container healthy, and the two ways the container refuses to start (a bad
# configuration, a bad schedule). It cleans up the containers and the volume it made.
set -euo pipefail

image=${1:?usage: smoke-test.sh IMAGE [turbo|debian]}
variant=${2:-turbo}
name="custos-smoke-$$"
volume="custos-smoke-parity-$$"
data=$(mktemp -d)
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT

step() {
  printf '\n== %s\n' "$*"
}
fail() {
  echo "smoke test FAILED: $*" >&2
  exit 1
}

# Readable by the image's user (1000), as a NAS share would be.
chmod 0755 "$data"
mkdir -p "$data/photos/2024" "$data/documents"
head -c 300000 /dev/urandom >"$data/photos/2024/beach.jpg"
echo "invoice" >"$data/documents/invoice.txt"
docker volume create "$volume" >/dev/null

step "custos --version"
out=$(docker run --rm "$image" custos --version)
echo "$out"
[[ "$out" == "custos "* ]] || fail "unexpected --version output"

step "RUN_MODE=manual --help"
out=$(docker run --rm -e RUN_MODE=manual "$image" --help)
grep -q '^Usage: custos' <<<"$out" || fail "--help printed no usage"

step "par2 ($variant)"
out=$(docker run --rm --entrypoint par2 "$image" -V 2>&1 || true)
echo "$out"
if [ "$variant" = turbo ]; then
  grep -q 'par2cmdline-turbo' <<<"$out" || fail "par2 is not par2cmdline-turbo"
fi

step "bash completion installed"
docker run --rm --entrypoint bash "$image" -c 'grep -q custos /etc/bash_completion.d/custos' ||
  fail "no completion script"

step "scan of a read-only /data into the parity volume"
out=$(docker run --rm -v "$data:/data:ro" -v "$volume:/parity" "$image" custos --json scan)
echo "$out"
grep -q '"exit_code":0' <<<"$out" || fail "scan did not exit 0"
grep -q '"files_new":2' <<<"$out" || fail "scan did not catalog the two files"
grep -q '"parity_created":1' <<<"$out" || fail "scan made no parity for the photo"

step "healthcheck after that scan"
docker run --rm -v "$volume:/parity" --entrypoint /usr/local/lib/custos/healthcheck.sh "$image" ||
  fail "healthcheck unhealthy after a good scan"

step "a bad configuration stops the container with exit 2"
rc=0
out=$(docker run --rm -e CUSTOS_VERIFY_PERCENT=500 -v "$volume:/parity" "$image" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ] || fail "exit $rc, not 2"
grep -q 'configuration is not valid' <<<"$out" || fail "no message about the configuration"

step "a bad schedule stops the container with exit 2"
rc=0
out=$(docker run --rm -e CRON_SCHEDULE='0 3 * *' -v "$volume:/parity" "$image" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 2 ] || fail "exit $rc, not 2"
grep -q 'CRON_SCHEDULE: invalid schedule' <<<"$out" || fail "no message about the schedule"

step "cron mode: a scan every minute, job output in docker logs, healthy"
docker run -d --name "$name" -e CRON_SCHEDULE='* * * * *' --health-interval=5s --health-start-period=1s \
  -v "$data:/data:ro" -v "$volume:/parity" "$image" >/dev/null
deadline=$((SECONDS + 180))
until docker logs "$name" 2>&1 | grep -q 'cron: custos scan exited 0'; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    docker logs "$name" 2>&1 | tail -n 40
    fail "no scheduled scan finished within 3 minutes"
  fi
  if [ "$(docker inspect -f '{{.State.Running}}' "$name")" != true ]; then
    docker logs "$name" 2>&1 | tail -n 40
    fail "the container stopped"
  fi
  sleep 5
done
docker logs "$name" 2>&1 | tail -n 20
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$name")" = healthy ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    docker inspect -f '{{json .State.Health}}' "$name"
    fail "not healthy"
  fi
  sleep 2
done
docker stop -t 30 "$name" >/dev/null

echo
echo "smoke test passed"
