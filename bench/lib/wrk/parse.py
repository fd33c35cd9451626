"""Prints one harness line, "RPS P50_MS P99_MS [NOTE]", from wrk --latency output.

usage: parse.py TEST OUTFILE — TEST "post" expects every answer to be non-2xx (a 405), "get" none;
violations and socket errors go into the note column. Shared by java-http and kernel-nginx.
"""
import re
import sys

test, path = sys.argv[1], sys.argv[2]
text = open(path).read()


def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(\d+)%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M)}
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
non2xx = int(m.group(1)) if m else 0
notes = []
if test == "post" and non2xx != total:
    notes.append(f"WRONG:{total - non2xx}_2xx_answers")
if test == "get" and non2xx:
    notes.append(f"WRONG:{non2xx}_non2xx")
m = re.search(r"Socket errors: (.*)", text)
if m:
    notes.append("socket_errors:" + m.group(1).replace(" ", ""))
print(f"{rps:.2f} {pct['50']:.3f} {pct['99']:.3f}", ",".join(notes))
