#!/usr/bin/env bash
# Installs every Debian package the build and tests need. Idempotent and
# non-interactive: packages already present are skipped, so running it twice is
# cheap. Usage: tools/bootstrap.sh [--peers]
#   --peers  also install the real back ends that sink tests start (later issues).
set -euo pipefail

build_packages=(
  bazel-bootstrap g++ clang-format
  libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libre2-dev libcpp-httplib-dev
  rapidjson-dev
  libgoogle-glog-dev libgoogle-perftools-dev libssl-dev libsodium-dev
  iproute2 netcat-openbsd
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  python3-zmq python3-protobuf
)
peer_packages=()
peers_dir="${METLOG_PEERS_DIR:-/opt/metlog-peers}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The Node.js client's tests need node and npm; Debian's serve when neither
# is installed (a NodeSource node brings its own npm).
if ! command -v npm >/dev/null; then build_packages+=(nodejs npm); fi
want_peers=false

for arg in "$@"; do
  case "$arg" in
    --peers)
      want_peers=true
      peer_packages=(graphite-carbon python3-whisper prometheus)
      ;;
    *) echo "bootstrap.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

install_npm_peers() {
  if [ -f "$peers_dir/node_modules/statsd/stats.js" ]; then
    echo "bootstrap: Etsy statsd already in $peers_dir"
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "bootstrap: npm is needed for Etsy statsd (Node.js 18 or later)" >&2
    exit 1
  fi
  echo "bootstrap: npm install statsd into $peers_dir"
  $SUDO mkdir -p "$peers_dir"
  $SUDO npm install --silent --no-audit --no-fund --prefix "$peers_dir" statsd
}

# Installs client/node's pinned dependencies (package-lock.json) with
# `npm ci` into $1/node_modules, unless that lockfile is already installed
# there. --ignore-scripts: every native addon used ships prebuilt, nothing is
# compiled. Bazel never downloads: the tests find $peers_dir/metlog-node.
npm_ci_node_client() {
  local dest="$1" lock="$repo_root/client/node/package-lock.json" as=""
  if cmp -s "$lock" "$dest/node_modules/.metlog-package-lock.json"; then
    echo "bootstrap: client/node dependencies already in $dest"
    return
  fi
  echo "bootstrap: npm ci for client/node into $dest"
  # Only the shared prefix outside the checkout needs root.
  if [ "$dest" != "$repo_root/client/node" ]; then
    as="$SUDO"
    $as mkdir -p "$dest"
    $as cp "$repo_root/client/node/package.json" "$lock" "$dest/"
  fi
  (cd "$dest" && $as npm ci --silent --ignore-scripts --no-audit --no-fund)
  $as cp "$lock" "$dest/node_modules/.metlog-package-lock.json"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for pkg in "${build_packages[@]}" "${peer_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all $((${#build_packages[@]} + ${#peer_packages[@]})) packages already installed"
else
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if $want_peers; then install_npm_peers; fi
npm_ci_node_client "$repo_root/client/node"
npm_ci_node_client "$peers_dir/metlog-node"
echo "bootstrap: done"
