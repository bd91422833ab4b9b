#!/usr/bin/env bash
# Make a Docker engine usable for the Compose tests (tests/compose, the [compose] variant of
# tests/e2e): installs docker.io, docker-compose (1.29, reads the Compose spec with profiles)
# and debootstrap (the fallback base image, deploy/docker/build_images.sh) when they are
# missing, and starts dockerd in the background when `docker info` fails. Idempotent;
# non-interactive; installing and starting the engine need root. Prints one line per step.
# Exit status: 0 when `docker info` and docker-compose work afterwards; otherwise 1, and the
# last line says why (the Compose tests then skip with that reason: see
# tests/e2e/conftest.py, which reads it back from $COOP_DOCKER_STATUS_FILE).
set -u
export DEBIAN_FRONTEND=noninteractive
STATUS_FILE="${COOP_DOCKER_STATUS_FILE:-/tmp/coop-docker-status}"
DOCKERD_LOG="${COOP_DOCKERD_LOG:-/var/log/coop-dockerd.log}"

fail() {
    echo "docker: UNAVAILABLE ($1)"
    echo "$1" >"$STATUS_FILE" 2>/dev/null || true
    exit 1
}

root() { [ "$(id -u)" -eq 0 ]; }
engine_up() { timeout 20 docker info >/dev/null 2>&1; }

apt_updated=0
# install <command> <apt package>
install() {
    local cmd="$1" pkg="$2"
    if command -v "$cmd" >/dev/null 2>&1; then
        echo "$cmd: present ($(command -v "$cmd"))"
        return 0
    fi
    if ! root || ! command -v apt-get >/dev/null 2>&1; then
        fail "$cmd is missing and cannot be installed here (not root or no apt-get): install package '$pkg'"
    fi
    if [ "$apt_updated" -eq 0 ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt_updated=1
    fi
    if apt-get install -y -qq --no-install-recommends "$pkg" >"/tmp/ensure_docker.$pkg.log" 2>&1 \
        && command -v "$cmd" >/dev/null 2>&1; then
        echo "$cmd: installed via apt package '$pkg'"
    else
        fail "apt-get install $pkg failed, see /tmp/ensure_docker.$pkg.log"
    fi
}

# dockerd first: a client may already exist (e.g. a newer /usr/local/bin/docker without the
# compose plugin) while the engine does not.
install dockerd docker.io
install docker docker.io
install docker-compose docker-compose
install debootstrap debootstrap

if engine_up; then
    echo "dockerd: running ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
else
    root || fail "dockerd is not running and starting it needs root"
    # a stale pid file from a killed engine stops a new one from starting
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        command -v containerd >/dev/null 2>&1 || fail "containerd is missing (package containerd)"
        nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
        echo "dockerd: starting (pid $!, log $DOCKERD_LOG)"
    else
        echo "dockerd: process present, waiting for it to answer"
    fi
    for _ in $(seq 1 60); do engine_up && break; sleep 1; done
    engine_up || fail "dockerd does not answer after 60 s: $(tail -n 3 "$DOCKERD_LOG" 2>/dev/null | tr '\n' ' ')"
    echo "dockerd: running ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
fi

docker-compose version --short >/dev/null 2>&1 || fail "docker-compose does not run"
echo "docker-compose: $(docker-compose version --short 2>/dev/null)"
rm -f "$STATUS_FILE" 2>/dev/null || true
exit 0
