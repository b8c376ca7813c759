#!/usr/bin/env bash
# Starts one service of docker-compose.yml inside the demo image, from the
# config templates run_local.sh uses; addresses come from the environment
# the compose file sets. Usage: container_start.sh carbon|statsd|router|
# prometheus|demo_app|demo_py|demo_node [extra arguments].
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
service="${1:?usage: container_start.sh SERVICE}"
shift
mkdir -p "$DATA_DIR"
render() { "$here/render_config.sh" "$here/$1" "$2"; }
case "$service" in
  carbon)
    mkdir -p "$CARBON_DIR/conf" "$CARBON_DIR/storage/whisper" \
      "$CARBON_DIR/storage/log" "$CARBON_DIR/storage/lists"
    rm -f "$CARBON_DIR/storage/carbon-cache-a.pid"
    render carbon.conf.in "$CARBON_DIR/conf/carbon.conf"
    cp "$here/storage-schemas.conf" "$CARBON_DIR/conf/"
    exec carbon-cache --config="$CARBON_DIR/conf/carbon.conf" --nodaemon start ;;
  statsd)
    render statsd.js.in "$DATA_DIR/statsd.js"
    exec node "$METLOG_PEERS_DIR/node_modules/statsd/stats.js" "$DATA_DIR/statsd.js" ;;
  router)
    render router.textproto.in "$DATA_DIR/router.textproto"
    exec router --config="$DATA_DIR/router.textproto" "$@" ;;
  prometheus)
    render prometheus.yml.in "$DATA_DIR/prometheus.yml"
    exec prometheus --config.file="$DATA_DIR/prometheus.yml" \
      --storage.tsdb.path="$DATA_DIR/prometheus" "$@" ;;
  demo_app)
    exec demo_app "$@" ;;
  demo_py)
    PYTHONPATH=/opt/metlog/client/python exec python3 "$here/demo_service.py" "$@" ;;
  demo_node)
    NODE_PATH="$METLOG_PEERS_DIR/metlog-node/node_modules" \
      METLOG_NODE_CLIENT=/opt/metlog/client/node exec node "$here/demo_service.js" "$@" ;;
  *)
    echo "container_start.sh: unknown service $service" >&2
    exit 2 ;;
esac
