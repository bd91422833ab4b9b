#!/usr/bin/env bash
# `make images`: the images docker-compose.yml, docker-compose.partner-elections.yml and the
# k8s manifests name, built where they are missing or stale, each at most once per run.
#
#   coopgov-membership:dev, coopgov-billing:dev, coopgov-elections:dev, coopgov-board:dev,
#       coopgov-notifications:dev
#       deploy/docker/Dockerfile on BASE_IMAGE, with Python packages from a wheelhouse built
#       on the host (build/docker/deps: `pip wheel` of pyproject.toml's pinned dependencies;
#       build/docker/app: the project's wheel, gen/ stubs included), so no network for Python.
#   BASE_IMAGE  python:3.11-slim when it is present or can be pulled; otherwise
#       coopgov-base:bookworm-sodium, made here with debootstrap (bookworm minbase, Debian's
#       python3.11, venv support, ca-certificates) and `docker import`, only when missing.
#   PostgreSQL, RabbitMQ, Prometheus: the official images (postgres:16,
#       rabbitmq:3.13-management, prom/prometheus:v2.53.2) when present or pullable; otherwise
#       coopgov-postgres:15, coopgov-rabbitmq:bookworm, coopgov-prometheus:bookworm from
#       Debian's packages on the local base (deploy/docker/{postgres,rabbitmq,prometheus}).
#
# Writes the image names to use, as Compose settings, to build/docker/images.env
# (COOP_<SERVICE>_IMAGE, COOP_POSTGRES_IMAGE, COOP_RABBITMQ_IMAGE, COOP_PROMETHEUS_IMAGE):
# append it to your env file, or pass it with a second --env-file.
#
# Settings (environment): COOP_BASE_IMAGE (force a base image, e.g. coopgov-base:bookworm-sodium),
# COOP_IMAGE_TAG (default dev), COOP_IMAGES_OFFLINE=1 (never try to pull),
# COOP_DEBIAN_MIRROR (default http://deb.debian.org/debian). Prints one line per step, with
# the seconds it took.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
TAG=${COOP_IMAGE_TAG:-dev}
OUT=$ROOT/build/docker
MIRROR=${COOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# the tag names what is in it: a base built before libsodium and libdecaf were added is not reused
LOCAL_BASE=coopgov-base:bookworm-sodium-decaf
SERVICES=(membership billing elections board notifications)
export DOCKER_BUILDKIT=0  # the engine's classic builder: no buildx plugin needed
mkdir -p "$OUT"
# one build per run: a second caller (another pytest session, make) waits for the first
exec 9>"$OUT/.lock"
flock 9

t0=$(date +%s)
step() { echo "images: $* ($(($(date +%s) - t0)) s)"; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
pullable() {
    [ "${COOP_IMAGES_OFFLINE:-0}" = 1 ] && return 1
    timeout 120 docker pull -q "$1" >/dev/null 2>&1
}
# use_or_pull <official image>: 0 when it is here (pulled if need be)
use_or_pull() { have "$1" || pullable "$1"; }

# ---------------------------------------------------------------- base
if [ -n "${COOP_BASE_IMAGE:-}" ]; then
    BASE=$COOP_BASE_IMAGE
elif use_or_pull python:3.11-slim; then
    BASE=python:3.11-slim
else
    BASE=$LOCAL_BASE
fi
local_base() {
    have "$LOCAL_BASE" && return 0
    command -v debootstrap >/dev/null || { echo "images: debootstrap is missing (bash scripts/ensure_docker.sh)" >&2; exit 1; }
    local dir
    dir=$(mktemp -d /tmp/coop-rootfs.XXXXXX)
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,libsodium23,libdecaf0 \
        bookworm "$dir" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 \
        || { echo "images: debootstrap failed, see $OUT/debootstrap.log" >&2; rm -rf "$dir"; exit 1; }
    # no service starts while packages install in a build; no apt caches in the image
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
    tar -C "$dir" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' - "$LOCAL_BASE" >/dev/null
    rm -rf "$dir"
    step "built $LOCAL_BASE with debootstrap"
}
[ "$BASE" = "$LOCAL_BASE" ] && local_base
step "base image $BASE"

# ---------------------------------------------------------------- wheelhouse
# deps: rebuilt only when pyproject.toml changes
deps_key=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$OUT/deps/.key" 2>/dev/null)" != "$deps_key" ]; then
    rm -rf "$OUT/deps" && mkdir -p "$OUT/deps"
    "$PY" - >"$OUT/requirements.txt" <<'PYEOF'
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PYEOF
    "$PY" -m pip wheel -q --disable-pip-version-check -r "$OUT/requirements.txt" -w "$OUT/deps" \
        >"$OUT/pip-wheel.log" 2>&1 || { echo "images: pip wheel failed, see $OUT/pip-wheel.log" >&2; exit 1; }
    echo "$deps_key" >"$OUT/deps/.key"
    step "wheelhouse: $(ls "$OUT/deps"/*.whl | wc -l) dependency wheels"
fi
# app: the project's wheel, rebuilt only when a source file (or a generated stub) changes
[ -f gen/.stamp ] || make --no-print-directory proto >/dev/null
app_key=$(find pyproject.toml services gen -type f -not -path '*/__pycache__/*' -not -name '*.pyc' \
            -not -path '*/tests/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
if [ "$(cat "$OUT/app/.key" 2>/dev/null)" != "$app_key" ]; then
    rm -rf "$OUT/app" "$OUT/wheel-build" && mkdir -p "$OUT/app"
    # a copy without the venv, build/ and .git: setuptools builds in a scratch folder
    "$PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation . -w "$OUT/app" \
        >"$OUT/app-wheel.log" 2>&1 || { echo "images: project wheel failed, see $OUT/app-wheel.log" >&2; exit 1; }
    rm -rf build/lib build/bdist.* 2>/dev/null || true
    echo "$app_key" >"$OUT/app/.key"
    step "wheelhouse: project wheel $(basename "$OUT"/app/*.whl)"
fi
printf '.key\n' >"$OUT/.dockerignore"

# ---------------------------------------------------------------- service images
for svc in "${SERVICES[@]}"; do
    docker build -q --build-arg BASE_IMAGE="$BASE" --build-arg SERVICE="$svc" --target service \
        -f deploy/docker/Dockerfile -t "coopgov-$svc:$TAG" "$OUT" >"$OUT/build-$svc.log" 2>&1 \
        || { echo "images: coopgov-$svc:$TAG failed, see $OUT/build-$svc.log" >&2; cat "$OUT/build-$svc.log" >&2; exit 1; }
    step "coopgov-$svc:$TAG"
done

# ---------------------------------------------------------------- infrastructure
# infra <official image> <local name> <folder under deploy/docker>: prints the image to use
infra() {
    local official=$1 local_name=$2 folder=$3
    if [ -z "${COOP_BASE_IMAGE:-}" ] && use_or_pull "$official"; then
        echo "$official"
        return
    fi
    local_base >&2
    docker build -q --build-arg BASE_IMAGE="$LOCAL_BASE" -t "$local_name" "deploy/docker/$folder" \
        >"$OUT/build-$folder.log" 2>&1 \
        || { echo "images: $local_name failed, see $OUT/build-$folder.log" >&2; cat "$OUT/build-$folder.log" >&2; exit 1; }
    echo "$local_name"
}
postgres_image=$(infra postgres:16 coopgov-postgres:15 postgres)
step "postgres: $postgres_image"
rabbitmq_image=$(infra rabbitmq:3.13-management coopgov-rabbitmq:bookworm rabbitmq)
step "rabbitmq: $rabbitmq_image"
prometheus_image=$(infra prom/prometheus:v2.53.2 coopgov-prometheus:bookworm prometheus)
step "prometheus: $prometheus_image"

cat >"$OUT/images.env" <<EOF
# written by deploy/docker/build_images.sh: the images this machine built or pulled
COOP_MEMBERSHIP_IMAGE=coopgov-membership:$TAG
COOP_BILLING_IMAGE=coopgov-billing:$TAG
COOP_ELECTIONS_IMAGE=coopgov-elections:$TAG
COOP_BOARD_IMAGE=coopgov-board:$TAG
COOP_NOTIFICATIONS_IMAGE=coopgov-notifications:$TAG
COOP_POSTGRES_IMAGE=$postgres_image
COOP_RABBITMQ_IMAGE=$rabbitmq_image
COOP_PROMETHEUS_IMAGE=$prometheus_image
EOF
step "done: $OUT/images.env"
