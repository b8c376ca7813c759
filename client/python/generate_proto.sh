#!/usr/bin/env bash
# Generates metlog/metlog_pb2.py from proto/metlog.proto, so the package can
# be used from a checkout without Bazel:
#   client/python/generate_proto.sh
#   PYTHONPATH=$PWD/client/python /usr/bin/python3 -c 'import metlog.client'
# Needs Debian's protobuf-compiler, python3-protobuf and python3-zmq. The
# generated file is not committed (.gitignore); rerun after the .proto changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
protoc -I"$repo/proto" --python_out="$here/metlog" "$repo/proto/metlog.proto"
echo "generated $here/metlog/metlog_pb2.py"
