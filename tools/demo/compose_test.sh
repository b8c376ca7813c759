#!/usr/bin/env bash
# Checks docker-compose.yml without a container engine: it parses, and each
# service's config, rendered from the environment the compose file gives it
# (plus the Dockerfile's DATA_DIR), is complete and valid.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME="$TEST_TMPDIR"
fail() { echo "FAIL: $*" >&2; exit 1; }

docker-compose -f docker-compose.yml config -q || fail "docker-compose config -q"
resolved="$TEST_TMPDIR/compose.yml"
docker-compose -f docker-compose.yml config >"$resolved"

# Prints `export NAME=VALUE` lines for one service's environment.
service_env() {
  /usr/bin/python3 -c 'import shlex, sys, yaml
env = yaml.safe_load(open(sys.argv[1]))["services"][sys.argv[2]].get("environment", {})
for name, value in env.items():
    print("export %s=%s" % (name, shlex.quote(str(value))))' "$resolved" "$1"
}
# Renders TEMPLATE as SERVICE would inside the image.
render_as() {
  (eval "$(service_env "$1")"; export DATA_DIR="${DATA_DIR:-/data}"
   tools/demo/render_config.sh "tools/demo/$2" "$3") ||
    fail "service $1 cannot render $2"
}

out="$TEST_TMPDIR/rendered"
mkdir -p "$out"
render_as carbon carbon.conf.in "$out/carbon.conf"
render_as statsd statsd.js.in "$out/statsd.js"
render_as router router.textproto.in "$out/router.textproto"
render_as prometheus prometheus.yml.in "$out/prometheus.yml"

# The archive path lives in the router's volume; --check wants its directory.
sed -i "s|\"/data/|\"$out/|" "$out/router.textproto"
router/router --check --config="$out/router.textproto" ||
  fail "router --check refuses the compose router config"
promtool check config "$out/prometheus.yml" >/dev/null ||
  fail "promtool refuses the compose prometheus.yml"
grep -q 'graphiteHost: "carbon"' "$out/statsd.js" || fail "statsd does not feed carbon"
grep -q 'targets: \["router:9102"\]' "$out/prometheus.yml" || fail "Prometheus does not scrape the router"

# Every service runs something the image's entry point knows.
/usr/bin/python3 - "$resolved" tools/demo/container_start.sh <<'PY' || fail "unknown service command"
import re, sys, yaml
known = set(re.findall(r"^  ([a-z_]+)\)$", open(sys.argv[2]).read(), re.M))
services = yaml.safe_load(open(sys.argv[1]))["services"]
unknown = {name: s["command"][0] for name, s in services.items()
           if s["command"][0] not in known}
print("services whose command container_start.sh does not know:", unknown) if unknown else None
sys.exit(1 if unknown or len(services) < 7 else 0)
PY

# A template with a placeholder nobody sets is refused, not half rendered.
if (unset CARBON_DIR; tools/demo/render_config.sh tools/demo/carbon.conf.in "$out/x" 2>/dev/null); then
  fail "render_config.sh accepted a missing variable"
fi
echo PASS
