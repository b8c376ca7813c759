#!/usr/bin/env bash
# Renders the demo's dashboard, read back from Prometheus's HTTP API:
# request rate per endpoint, latency percentiles, errors per minute.
#   dashboard.sh PROMETHEUS_URL START_UNIX_SECONDS OUT.png
set -euo pipefail
url="$1" start="$2" out="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
end="$(date +%s)"
step=$(( (end - start) / 200 )); [ "$step" -ge 1 ] || step=1
tables="$(mktemp -d)"
trap 'rm -rf "$tables"' EXIT

table() {
  /usr/bin/python3 "$here/prometheus_table.py" "$url" "$start" "$end" "$step" \
    "$1" "$tables/$2.tsv"
}
table 'sum by (endpoint) (rate(requests_total[30s]))' rate
table 'histogram_quantile(0.5, sum by (le) (rate(request_latency_milliseconds_bucket[30s])))' p50
table 'histogram_quantile(0.9, sum by (le) (rate(request_latency_milliseconds_bucket[30s])))' p90
table 'histogram_quantile(0.99, sum by (le) (rate(request_latency_milliseconds_bucket[30s])))' p99
# No 5xx yet is a flat zero, not a missing panel.
table 'sum(rate(requests_total{status=~"5.."}[1m])) * 60 or vector(0)' errors

gnuplot <<GNUPLOT
set terminal pngcairo size 900,900 font ",10"
set output "$out"
set multiplot layout 3,1 title "Metlog demo (from Prometheus)"
set key autotitle columnheader outside right
set grid
set xlabel "seconds since start"
set xrange [0:*]
set datafile missing "NaN"
set ylabel "requests/s"
set title "Request rate per endpoint"
plot for [i=2:*] "$tables/rate.tsv" using 1:i with lines lw 2
set ylabel "ms"
set title "Latency percentiles (all endpoints)"
set logscale y
plot "$tables/p50.tsv" using 1:2 with lines lw 2 title "p50", \
     "$tables/p90.tsv" using 1:2 with lines lw 2 title "p90", \
     "$tables/p99.tsv" using 1:2 with lines lw 2 title "p99"
unset logscale y
set ylabel "errors/min"
set title "Server errors (5xx) per minute"
plot "$tables/errors.tsv" using 1:2 with lines lw 2 title "5xx"
unset multiplot
GNUPLOT
echo "$out"
