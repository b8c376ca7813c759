#!/bin/sh
echo "bazel coverage is not supported in this offline workspace; use gcov outside Bazel" >&2
exit 1
