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
  libgtest-dev libgmock-dev libbenchmark-dev libre2-dev
  libgoogle-glog-dev libgoogle-perftools-dev libssl-dev libsodium-dev
  iproute2 netcat-openbsd
)
peer_packages=()

for arg in "$@"; do
  case "$arg" in
    --peers) ;;  # No sink with a real back end exists yet; see issue 5.
    *) echo "bootstrap.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for pkg in "${build_packages[@]}" "${peer_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#build_packages[@]} packages already installed"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
