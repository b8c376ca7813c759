#!/usr/bin/env bash
# Runs the demo topology (the same configs as docker-compose.yml) as local
# processes on 127.0.0.1: carbon-cache, Etsy statsd -> carbon, the router,
# Prometheus scraping the router, and tools:demo_app sending to the router.
# Prints where to look, and on Ctrl-C/SIGTERM (or after --duration) renders
# the dashboard PNG and stops everything it started.
#
#   tools/demo/run_local.sh [--duration SECONDS] [--rate N] [--free-ports]
#                           [--data-dir DIR] [--bin-dir DIR]
#
# --free-ports  pick free ports instead of the usual ones (5565, 8125, 2003 ...)
# --data-dir    where data, logs and the dashboard go (default: a new temp dir,
#               kept after the run so you can look at it)
# --bin-dir     where router/router, tools/demo_app and tools/metlogctl are
#               (default: bazel-bin, built first)
# Needs tools/bootstrap.sh --peers (carbon, Prometheus, Etsy statsd).
# $DATA_DIR/ports.env lists the ports and process ids once all is up.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
peers_dir="${METLOG_PEERS_DIR:-/opt/metlog-peers}"
duration=0 rate=20 free_ports=false data_dir="" bin_dir=""

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --free-ports) free_ports=true; shift ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --bin-dir) bin_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run_local.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$duration" in ''|*[!0-9]*) echo "run_local.sh: --duration wants whole seconds" >&2; exit 2 ;; esac

for tool in carbon-cache prometheus gnuplot ss; do
  command -v "$tool" >/dev/null ||
    { echo "run_local.sh: $tool is missing: run tools/bootstrap.sh --peers" >&2; exit 1; }
done
[ -f "$peers_dir/node_modules/statsd/stats.js" ] ||
  { echo "run_local.sh: Etsy statsd is missing in $peers_dir: run tools/bootstrap.sh --peers" >&2; exit 1; }
if [ -z "$bin_dir" ]; then
  (cd "$repo" && bazel build //router //tools:demo_app //tools:metlogctl)
  bin_dir="$repo/bazel-bin"
fi
data_dir="${data_dir:-$(mktemp -d /tmp/metlog-demo.XXXXXX)}"
mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"

# A port nobody listens on now (kind: tcp or udp). Another process may take
# it before we bind it; good enough for a demo and for parallel tests.
free_port() {
  /usr/bin/python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}
port() { if $free_ports; then free_port "$1"; else echo "$2"; fi; }

export ROUTER_PORT; ROUTER_PORT=$(port tcp 5565)
export ADMIN_PORT; ADMIN_PORT=$(port tcp 5566)
export STATSD_PORT; STATSD_PORT=$(port udp 8125)
export STATSD_MGMT_PORT; STATSD_MGMT_PORT=$(port tcp 8126)
export CARBON_LINE_PORT; CARBON_LINE_PORT=$(port tcp 2003)
export CARBON_PICKLE_PORT; CARBON_PICKLE_PORT=$(port tcp 2004)
export CARBON_QUERY_PORT; CARBON_QUERY_PORT=$(port tcp 7002)
export PROMETHEUS_SINK_PORT; PROMETHEUS_SINK_PORT=$(port tcp 9102)
export PROMETHEUS_PORT; PROMETHEUS_PORT=$(port tcp 9090)
# With the usual ports, someone else's server there would pass for ours.
if ! $free_ports; then
  for p in $ROUTER_PORT $ADMIN_PORT $STATSD_MGMT_PORT $CARBON_LINE_PORT $CARBON_PICKLE_PORT \
      $CARBON_QUERY_PORT $PROMETHEUS_SINK_PORT $PROMETHEUS_PORT; do
    if ss -Hltn "sport = :$p" | grep -q .; then
      echo "run_local.sh: port $p is in use; try --free-ports" >&2
      exit 1
    fi
  done
  if ss -Hlun "sport = :$STATSD_PORT" | grep -q .; then
    echo "run_local.sh: UDP port $STATSD_PORT is in use; try --free-ports" >&2
    exit 1
  fi
fi
export DATA_DIR="$data_dir"
export ROUTER_LISTEN="127.0.0.1:$ROUTER_PORT" ADMIN_LISTEN="127.0.0.1:$ADMIN_PORT"
export STATSD_ADDRESS="127.0.0.1:$STATSD_PORT" STATSD_LISTEN_HOST=127.0.0.1
export CARBON_ADDRESS="127.0.0.1:$CARBON_LINE_PORT" CARBON_HOST=127.0.0.1
export CARBON_LISTEN_HOST=127.0.0.1 CARBON_DIR="$data_dir/carbon"
export PROMETHEUS_SINK_LISTEN="127.0.0.1:$PROMETHEUS_SINK_PORT"
export PROMETHEUS_SINK_TARGET="$PROMETHEUS_SINK_LISTEN"

mkdir -p "$CARBON_DIR/conf" "$CARBON_DIR/storage/whisper" "$CARBON_DIR/storage/log" \
  "$CARBON_DIR/storage/lists" "$data_dir/prometheus" "$data_dir/logs"
rm -f "$CARBON_DIR/storage/carbon-cache-a.pid"  # left by a killed earlier run
render() { "$here/render_config.sh" "$here/$1" "$2"; }
render router.textproto.in "$data_dir/router.textproto"
render statsd.js.in "$data_dir/statsd.js"
render carbon.conf.in "$CARBON_DIR/conf/carbon.conf"
cp "$here/storage-schemas.conf" "$CARBON_DIR/conf/"
render prometheus.yml.in "$data_dir/prometheus.yml"

pids=() names=() start_time="$(date +%s)" stopping=false
# Each process gets its own session, so a Ctrl-C reaches only this script,
# which stops them in order (demo apps first, Prometheus after the
# dashboard is read from it).
launch() {
  local name="$1"; shift
  setsid "$@" >"$data_dir/logs/$name.log" 2>&1 &
  pids+=("$!") names+=("$name")
}

stop_all() {
  set +e
  $stopping && return
  stopping=true
  trap '' INT TERM
  local i
  for i in "${!names[@]}"; do  # the demo apps flush and stop first
    case "${names[$i]}" in demo_*) kill -TERM "${pids[$i]}" 2>/dev/null ;; esac
  done
  sleep 3  # the router's 2 s scrape and statsd/carbon take the last points
  if kill -0 "$prometheus_pid" 2>/dev/null; then
    if "$here/dashboard.sh" "http://127.0.0.1:$PROMETHEUS_PORT" "$start_time" \
        "$data_dir/dashboard.png" >/dev/null 2>"$data_dir/logs/dashboard.log"; then
      echo "run_local.sh: dashboard: $data_dir/dashboard.png"
    else
      echo "run_local.sh: no dashboard (see $data_dir/logs/dashboard.log)" >&2
    fi
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  local deadline=$(( $(date +%s) + 10 ))
  for i in "${!pids[@]}"; do
    while kill -0 "${pids[$i]}" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL "${pids[$i]}" 2>/dev/null
    wait "${pids[$i]}" 2>/dev/null
  done
  rm -f "$CARBON_DIR/storage/carbon-cache-a.pid"
  echo "run_local.sh: stopped; data kept in $data_dir"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

# Waits until `ss` lists a listener for the port (kind tcp or udp), failing
# fast when the process serving it has died.
wait_for_port() {
  local kind="$1" port="$2" pid="$3" name="$4" flag=-Hltn tries=0
  [ "$kind" = udp ] && flag=-Hlun
  until ss $flag "sport = :$port" | grep -q .; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run_local.sh: $name exited; its log:" >&2
      tail -20 "$data_dir/logs/$name.log" >&2
      exit 1
    fi
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
      echo "run_local.sh: $name did not open $kind port $port within 30 s" >&2
      exit 1
    fi
    sleep 0.1
  done
}

launch carbon /usr/bin/python3 /usr/bin/carbon-cache \
  --config="$CARBON_DIR/conf/carbon.conf" --nodaemon start
wait_for_port tcp "$CARBON_LINE_PORT" "${pids[-1]}" carbon
launch statsd /usr/bin/node "$peers_dir/node_modules/statsd/stats.js" "$data_dir/statsd.js"
wait_for_port udp "$STATSD_PORT" "${pids[-1]}" statsd
wait_for_port tcp "$STATSD_MGMT_PORT" "${pids[-1]}" statsd
launch router "$bin_dir/router/router" --config="$data_dir/router.textproto"
router_pid="${pids[-1]}"
wait_for_port tcp "$ADMIN_PORT" "$router_pid" router
wait_for_port tcp "$PROMETHEUS_SINK_PORT" "$router_pid" router
launch prometheus prometheus --config.file="$data_dir/prometheus.yml" \
  --storage.tsdb.path="$data_dir/prometheus" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
prometheus_pid="${pids[-1]}"
wait_for_port tcp "$PROMETHEUS_PORT" "$prometheus_pid" prometheus
launch demo_app "$bin_dir/tools/demo_app" --endpoint="tcp://$ROUTER_LISTEN" \
  --rate="$rate" --duration_s="$duration"
# The Python and Node.js twins join at a quarter of the rate, where their
# clients can run (under Bazel the clients come from the runfiles in bin_dir).
side_rate="$(/usr/bin/python3 -c "print(max(1, $rate / 4))")"
python_client="$repo/client/python"
[ -f "$bin_dir/client/python/metlog/client.py" ] && python_client="$bin_dir/client/python"
if /usr/bin/python3 -c 'import zmq, google.protobuf' 2>/dev/null; then
  [ -f "$python_client/metlog/metlog_pb2.py" ] || "$python_client/generate_proto.sh" >/dev/null
  launch demo_py env PYTHONPATH="$python_client" METLOG_ENDPOINT="tcp://$ROUTER_LISTEN" \
    /usr/bin/python3 "$here/demo_service.py" --rate="$side_rate" --duration="$duration"
else
  echo "run_local.sh: no Python demo service (needs python3-zmq and python3-protobuf)" >&2
fi
node_client="$repo/client/node"
[ -f "$bin_dir/client/node/index.js" ] && node_client="$bin_dir/client/node"
node_modules="$peers_dir/metlog-node/node_modules"
[ -d "$node_client/node_modules/zeromq" ] && node_modules="$node_client/node_modules"
if command -v node >/dev/null && [ -d "$node_modules/zeromq" ]; then
  launch demo_node env NODE_PATH="$node_modules" METLOG_NODE_CLIENT="$node_client" \
    METLOG_ENDPOINT="tcp://$ROUTER_LISTEN" node "$here/demo_service.js" "$side_rate" "$duration"
else
  echo "run_local.sh: no Node.js demo service (run tools/bootstrap.sh for client/node's modules)" >&2
fi

{
  for name in ROUTER_PORT ADMIN_PORT STATSD_PORT STATSD_MGMT_PORT CARBON_LINE_PORT \
      PROMETHEUS_SINK_PORT PROMETHEUS_PORT; do
    echo "$name=${!name}"
  done
  for i in "${!names[@]}"; do echo "PID_${names[$i]}=${pids[$i]}"; done
} >"$data_dir/ports.env.tmp"
mv "$data_dir/ports.env.tmp" "$data_dir/ports.env"

cat <<EOF2
Metlog demo running (data in $data_dir; logs in $data_dir/logs).
  Prometheus:  http://127.0.0.1:$PROMETHEUS_PORT/graph?g0.expr=sum%20by%20(endpoint)%20(rate(requests_total%5B1m%5D))
               curl 'http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query?query=requests_total'
  Graphite:    whisper-fetch $CARBON_DIR/storage/whisper/metlog/demo_app/requests.wsp
               (statsd's aggregates under $CARBON_DIR/storage/whisper/stats/)
  statsd:      echo counters | nc -q1 127.0.0.1 $STATSD_MGMT_PORT
  archive:     tail -f $data_dir/metlog.jsonl
  live view:   $bin_dir/tools/metlogctl --admin=127.0.0.1:$ADMIN_PORT tail 'Severity <= 4'
  dashboard:   $data_dir/dashboard.png (written when the demo stops)
EOF2
if [ "$duration" -gt 0 ]; then
  echo "Stop with Ctrl-C (or it stops after $duration s)."
else
  echo "Stop with Ctrl-C."
fi

if [ "$duration" -gt 0 ]; then
  sleep "$duration" &
  wait $! || true
else
  while kill -0 "$router_pid" 2>/dev/null; do sleep 1 & wait $! || true; done
fi
stop_all
