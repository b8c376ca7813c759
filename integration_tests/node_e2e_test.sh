#!/usr/bin/env bash
# Runs node_e2e_test.js (the Node.js client against the real router) with
# client/node's pinned dependencies.
set -euo pipefail
source client/node/bazel/node_modules.sh
exec node --test integration_tests/node_e2e_test.js
