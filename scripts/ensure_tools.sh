#!/usr/bin/env bash
# Idempotently install the offline validation tools used by tests/deploy:
#   kubectl  (renders kustomizations: `kubectl kustomize`)
#   promtool (Debian package "prometheus": checks config, rules, rule unit tests)
#   pdftotext (Debian package "poppler-utils": reads billing's statement PDFs back in tests)
#   libsodium (Debian package "libsodium23": the elections' ristretto255 group, via pysodium)
#   libdecaf (Debian package "libdecaf0": the elections' proof checks, sums of multiples)
# `--libraries` ensures only the two native libraries the services load at run time
# (`make run` and `make bench` need them; the validation tools are the tests' alone).
# Runs non-interactively; installing needs root. Prints one line per tool.
# Exit status: 0 when every tool is available afterwards, 1 otherwise.
set -u
export DEBIAN_FRONTEND=noninteractive

missing=0
apt_updated=0

apt_update_once() {
    if [ "$apt_updated" -eq 0 ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt_updated=1
    fi
}

can_apt() {
    command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]
}

# ensure <command> <apt package> <hint when apt cannot provide it>
ensure() {
    local cmd="$1" pkg="$2" hint="$3"
    if command -v "$cmd" >/dev/null 2>&1; then
        echo "$cmd: present ($(command -v "$cmd"))"
        return 0
    fi
    if ! can_apt; then
        echo "$cmd: MISSING (not root or no apt-get; install package '$pkg' yourself: $hint)"
        missing=1
        return 1
    fi
    apt_update_once
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        echo "$cmd: MISSING (apt offers no '$pkg' package; $hint)"
        missing=1
        return 1
    fi
    if apt-get install -y -qq --no-install-recommends "$pkg" >/tmp/ensure_tools.$pkg.log 2>&1 \
        && command -v "$cmd" >/dev/null 2>&1; then
        echo "$cmd: installed via apt package '$pkg' ($(command -v "$cmd"))"
        return 0
    fi
    echo "$cmd: MISSING (apt-get install $pkg failed, see /tmp/ensure_tools.$pkg.log; $hint)"
    missing=1
    return 1
}

libraries_only=0
[ "${1:-}" = "--libraries" ] && libraries_only=1

if [ "$libraries_only" -eq 0 ]; then
ensure kubectl kubectl \
    "add the Kubernetes apt repository (https://pkgs.k8s.io) or install the kubectl binary from https://kubernetes.io/docs/tasks/tools/"
ensure promtool prometheus \
    "download a Prometheus release from https://prometheus.io/download/ and put promtool on PATH"
ensure pdftotext poppler-utils \
    "install poppler-utils (the billing tests read the statement PDFs back with pdftotext)"
fi

# ensure_library <name> <apt package> <why>: a shared library lib<name>.so the linker cache lists
ensure_library() {
    local name="$1" pkg="$2" why="$3"
    if ldconfig -p 2>/dev/null | grep -q "lib$name\.so"; then
        echo "lib$name: present"
    elif can_apt && apt_update_once && apt-get install -y -qq --no-install-recommends "$pkg" \
            >"/tmp/ensure_tools.$pkg.log" 2>&1 && ldconfig -p 2>/dev/null | grep -q "lib$name\.so"; then
        echo "lib$name: installed via apt package '$pkg'"
    else
        echo "lib$name: MISSING (apt-get install $pkg; $why)"
        missing=1
    fi
}

# the elections' ristretto255 group, through pysodium
ensure_library sodium libsodium23 "the elections' encrypted-ballot primitives need it"
# the elections' sums of multiples (group.linear_combination, _decaf.py); without it they come
# from libsodium, right but 1.3-2x slower, and a test says so
ensure_library decaf libdecaf0 "the elections' proof checks are 1.3-2x slower without it"
[ "$libraries_only" -eq 1 ] && exit "$missing"

# buf (protobuf lint and breaking-change checks) from the npm registry, at a pinned version,
# into .tools/ of this checkout: nothing outside the project is touched.
BUF_VERSION=1.75.0
BUF=.tools/node_modules/.bin/buf
if [ -x "$BUF" ] && [ "$("$BUF" --version 2>/dev/null)" = "$BUF_VERSION" ]; then
    echo "buf: present ($BUF $BUF_VERSION)"
elif command -v npm >/dev/null 2>&1 && mkdir -p .tools \
        && npm install --silent --no-audit --no-fund --prefix .tools "@bufbuild/buf@$BUF_VERSION" >/tmp/ensure_tools.buf.log 2>&1 \
        && [ -x "$BUF" ]; then
    echo "buf: installed from npm @bufbuild/buf@$BUF_VERSION ($BUF)"
else
    echo "buf: MISSING (needs npm and the npm registry; see /tmp/ensure_tools.buf.log)"
    missing=1
fi

exit "$missing"
