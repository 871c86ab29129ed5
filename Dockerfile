# syntax=docker/dockerfile:1
#
# The custos image: custos on a Java runtime of its own, par2cmdline-turbo, tini and cron.
#
#   docker build -t custos .
#   docker build -t custos --build-arg WITH_ZFS=true .   # with the zfs client, for the zip job
#   docker build -t custos --build-arg PAR2=debian .     # Debian's par2 instead of turbo
#
# How to run it: docs/docker.md. Stages:
#   jar         target/custos.jar (Maven), a jlink'ed Java runtime, SQLite's native library
#   par2-turbo  par2cmdline-turbo built from a pinned commit (the default par2)
#   par2-debian Debian's par2 0.8.1, for builds that cannot reach GitHub
#   (last)      the runtime image

ARG DEBIAN_VERSION=bookworm
# turbo (default) or debian. Both write PAR2 sets that the other reads; turbo creates parity about
# ten times faster (docs/performance.md).
ARG PAR2=turbo

# ----------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_VERSION} AS jar
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pom.xml ./
COPY src ./src
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -DskipTests package

# A runtime with only the modules the jar uses. jdeps finds them in the bytecode; two more are
# reached in ways it cannot see: jdk.unsupported (sun.misc.Signal, taken by reflection, lets a
# SIGTERM stop a run at a safe point) and jdk.crypto.ec (elliptic-curve TLS for https webhooks).
# --generate-cds-archive writes the JDK's class-data archive, which the image's own archive of
# custos's classes (made in the last stage) builds on.
RUN set -eux; \
    mods=$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps target/custos.jar); \
    jlink --add-modules "$mods,jdk.unsupported,jdk.crypto.ec" \
      --strip-debug --no-man-pages --no-header-files --compress=2 --generate-cds-archive \
      --output /opt/custos/jre; \
    rm -f /opt/custos/jre/lib/server/classes_nocoops.jsa; \
    cp target/custos.jar /opt/custos/custos.jar; \
    case "$(uname -m)" in \
      x86_64) arch=x86_64 ;; \
      aarch64) arch=aarch64 ;; \
      *) arch= ;; \
    esac; \
    if [ -n "$arch" ]; then \
      mkdir -p /opt/custos/native; \
      cd /opt/custos/native; \
      jar xf ../custos.jar "org/sqlite/native/Linux/$arch/libsqlitejdbc.so"; \
      mv "org/sqlite/native/Linux/$arch/libsqlitejdbc.so" .; \
      rm -rf org; \
    fi

# ----------------------------------------------------------------------------------------------
# par2cmdline-turbo, pinned by git commit rather than by the SHA-256 of a release archive: when
# this was written no checksum of the v1.4.0 source archive could be checked first-hand (the
# machine it was written on could not reach GitHub), and none is written down here unchecked.
# A git commit id is itself a hash over the whole source tree; the build fetches exactly that
# commit and stops unless `git rev-parse HEAD` equals it. PAR2_TURBO_COMMIT is the commit that
# public builds of release v1.4.0 of animetosho/par2cmdline-turbo pin; its configure.ac declares
# version 1.4.0, and the build stops unless the binary reports that version and can create and
# verify a parity set. To move to another release, set both arguments (docs/docker.md).
FROM debian:${DEBIAN_VERSION} AS par2-turbo
ARG PAR2_TURBO_VERSION=1.4.0
ARG PAR2_TURBO_COMMIT=4db49ca45ab258c230061fb3f0d29273f7c524ea
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates git g++ make autoconf automake libtool \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN set -eux; \
    git init -q .; \
    git fetch -q --depth 1 https://github.com/animetosho/par2cmdline-turbo.git "$PAR2_TURBO_COMMIT"; \
    git checkout -q --detach FETCH_HEAD; \
    test "$(git rev-parse HEAD)" = "$PAR2_TURBO_COMMIT"
RUN set -eux; \
    autoreconf -fi; \
    ./configure; \
    make -j"$(nproc)"; \
    strip par2; \
    ./par2 -V | grep -F "par2cmdline-turbo version $PAR2_TURBO_VERSION"; \
    head -c 3000000 /dev/urandom > /tmp/check.bin; \
    ./par2 create -q -q -r10 -n1 /tmp/check.par2 /tmp/check.bin; \
    ./par2 verify -q -q /tmp/check.par2; \
    mkdir /out; \
    cp par2 /out/par2

FROM debian:${DEBIAN_VERSION}-slim AS par2-debian
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends par2 \
 && mkdir /out \
 && cp /usr/bin/par2 /out/par2

FROM par2-${PAR2} AS par2

# ----------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_VERSION}-slim
# true: add Debian's zfs client (contrib), for the zip job's snapshots of a host pool; the
# container then also needs the host's /dev/zfs (docs/docker.md).
ARG WITH_ZFS=false

# cron's PAM stack asks for pam_loginuid, which fails in a container and keeps every job from
# starting: it is dropped. The jobs Debian packages put into cron (apt, dpkg, e2scrub) are
# removed: the container runs custos and nothing else.
RUN set -eux; \
    if [ "$WITH_ZFS" = true ]; then \
      sed -i 's/^Components: main$/Components: main contrib/' /etc/apt/sources.list.d/debian.sources; \
      grep -q '^Components: main contrib$' /etc/apt/sources.list.d/debian.sources; \
      zfs=zfsutils-linux; \
    else \
      zfs=; \
    fi; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tini cron tzdata libstdc++6 libgomp1 $zfs; \
    rm -rf /var/lib/apt/lists/*; \
    sed -i 's/^\(session[[:space:]]\+required[[:space:]]\+pam_loginuid\.so\)/# \1/' /etc/pam.d/cron; \
    if grep -q '^session[[:space:]]\+required[[:space:]]\+pam_loginuid' /etc/pam.d/cron; then exit 1; fi; \
    find /etc/cron.d /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly \
      -type f ! -name .placeholder -delete; \
    groupadd -g 1000 custos; \
    useradd -u 1000 -g custos -d /nonexistent -M -s /usr/sbin/nologin custos; \
    mkdir -p /data /parity /run/custos /etc/bash_completion.d; \
    chown custos:custos /parity

COPY --from=jar /opt/custos /opt/custos
COPY --from=par2 /out/par2 /usr/local/bin/par2
COPY docker/custos /usr/local/bin/custos
COPY docker/entrypoint.sh docker/healthcheck.sh docker/schedule.sh /usr/local/lib/custos/

# The class-data archive: a small scan records the classes a run loads, and every later run maps
# them instead of loading them again (start-up ~0.9 s -> ~0.65 s). Made here, with the runtime
# and jar at their final paths, because the archive is only valid for exactly these files.
RUN set -eux; \
    chmod 0755 /usr/local/bin/custos /usr/local/lib/custos/*.sh; \
    par2 -V; \
    custos --version; \
    t=$(mktemp -d); \
    mkdir -p "$t/data/a/sub"; \
    echo a > "$t/data/a/x.txt"; \
    echo b > "$t/data/a/sub/y.txt"; \
    printf '{"parity_root": "%s/parity", "data_dir": "%s/data", "process": {"nice": 0, "ionice_idle": false}}\n' \
      "$t" "$t" > "$t/config.json"; \
    /opt/custos/jre/bin/java -XX:ArchiveClassesAtExit=/opt/custos/custos.jsa \
      -Xlog:disable -Xlog:all=error:stderr -Xms256m -Xmx384m -XX:+UseSerialGC -Xss512k \
      -Dorg.sqlite.lib.path=/opt/custos/native -Dorg.sqlite.lib.name=libsqlitejdbc.so \
      --add-opens java.base/sun.nio.fs=ALL-UNNAMED \
      -jar /opt/custos/custos.jar --config "$t/config.json" -q --json scan > /dev/null; \
    rm -rf "$t"; \
    test -s /opt/custos/custos.jsa; \
    chmod 0444 /opt/custos/custos.jsa; \
    custos completion > /etc/bash_completion.d/custos; \
    printf '\n# custos command completion\n. /etc/bash_completion.d/custos\n' >> /etc/bash.bashrc

# Set after the training scan above, which must not see them.
ENV LANG=C.UTF-8 \
    CUSTOS_DATA_DIR=/data \
    CUSTOS_PARITY_ROOT=/parity \
    PUID=1000 \
    PGID=1000

VOLUME ["/data", "/parity"]

# Fails when the last run is older than CRON_SCHEDULE (or HEALTH_MAX_AGE) allows, or did not
# exit 0 or 4. A fresh container counts as healthy until that much time has passed.
HEALTHCHECK --interval=5m --timeout=30s --start-period=2m --retries=2 \
  CMD ["/usr/local/lib/custos/healthcheck.sh"]

# Starts as root: cron needs it; custos itself runs as PUID:PGID (docs/docker.md). tini passes
# docker stop's SIGTERM to the entry point alone, which hands exactly one to each running custos
# (cron's jobs run in sessions of their own) and waits for them to save their work.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/lib/custos/entrypoint.sh"]
