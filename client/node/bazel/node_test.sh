#!/usr/bin/env bash
# Runs the package's node --test suites (test/*.test.js) under Bazel.
set -euo pipefail
source client/node/bazel/node_modules.sh
cd client/node
exec node --test test/*.test.js
