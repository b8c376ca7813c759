"""Writes one Prometheus range query as a gnuplot table.

  prometheus_table.py URL START END STEP QUERY OUT

OUT gets a header line ("seconds" and one title per series, from its labels)
and one row per step: seconds since START, then each series' value ("NaN"
where a series has no point). Exits 1 when the query fails or is empty.
"""
import json
import sys
import urllib.parse
import urllib.request


def main(url, start, end, step, query, out):
    params = urllib.parse.urlencode(
        {"query": query, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{params}",
                                timeout=10) as answer:
        result = json.load(answer)["data"]["result"]
    if not result:
        print(f"prometheus_table.py: no data for {query}", file=sys.stderr)
        return 1
    titles = [",".join(s["metric"].values()) or "value" for s in result]
    rows = {}
    for column, series in enumerate(result):
        for time, value in series["values"]:
            rows.setdefault(float(time), ["NaN"] * len(result))[column] = value
    with open(out, "w") as table:
        table.write("seconds\t" + "\t".join(t.replace(" ", "_")
                                             for t in titles) + "\n")
        for time in sorted(rows):
            table.write(f"{time - float(start):.0f}\t" +
                        "\t".join(rows[time]) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
