#!/usr/bin/python3
# libadagrad — the report's tests (run by meson, see tools/meson.build).
# SPDX-License-Identifier: MIT
"""Usage: check_report.py CHECK PATH/TO/adagrad-report PATH/TO/bench_adagrad

CHECK: table, json, csv, compare, bad_args, plot, torch, threads, agree.
Each runs the report with --quick and checks what a user or a script relies
on; exit status 0 when it holds, 77 (skip) with the reason when it cannot run.
"""
import csv
import importlib.machinery
import io
import json
import os
import re
import subprocess
import sys
import tempfile

CHECK, REPORT, BENCH = sys.argv[1:4]
QUICK = ["--quick", "--quiet"]
DIMS = [16, 40]  # --quick's table steps: one width that is not a multiple of any vector


def run(args, expect=0, env=None, cmd=None):
    proc = subprocess.run(cmd or ["/usr/bin/python3", REPORT] + args, capture_output=True, text=True, timeout=110,
                          env=dict(os.environ, ADAGRAD_BENCH=BENCH, **(env or {})))
    if proc.returncode != expect:
        sys.exit("%s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                 % (" ".join(args), proc.returncode, expect, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def check(condition, message):
    if not condition:
        sys.exit("FAIL: " + message)


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def library_rows():
    out = run([], cmd=[BENCH, "--list-rows"]).stdout
    return [f[0] for f in (line.split("\t") for line in out.splitlines())
            if len(f) == 3 and f[1] == "library" and f[2] == "runnable"]


def table_rows(rep):
    """The table steps run for scalar and dispatch's implementation by default."""
    return {"scalar", rep["library"]["dispatch"]}


def check_json(rep):
    """Every key is documented in --help's schema, and the figures make sense."""
    helptext = run(["--help"]).stdout
    keys = set(rep) | {k for part in ("machine", "library", "method", "torch") for k in rep[part]}
    keys |= {k for part in ("dense", "threads", "sparse") for row in rep[part] for k in row}
    for key in keys:
        check(re.search(r"\b%s\b" % key, helptext), "JSON key %s is documented in --help" % key)
    check(rep["schema"] == "adagrad-report/1" and rep["machine"]["cpu"] and not rep["failed"], "header")
    for n in (4096, 262144):
        for impl in library_rows():
            for mode in ("exact", "fast", "roofline"):
                rows = [r for r in rep["dense"] if (r["impl"], r["mode"], r["n"]) == (impl, mode, n)]
                check(len(rows) == 1, "one %s %s row at n=%d" % (impl, mode, n))
                r = rows[0]
                check(0 < r["gelem_s_min"] <= r["gelem_s"] <= r["gelem_s_max"], "min <= median <= max")
                check(0 < r["pct_roofline"] <= 100.0001 or mode != "roofline", "roofline percentage")
                # EXACT's bound is 8.5 ulp (tests/contract.h), FAST's the row's (4)
                check(mode == "roofline" or r["max_ulp"] <= 8, "ulp of %s %s" % (impl, mode))
        check(max(r["pct_roofline"] for r in rep["dense"] if r["n"] == n) > 99.99, "the roofline is 100 %")
    check(all(abs(r["x_scalar"] - 1) < 1e-12 for r in rep["dense"] if r["impl"] == "scalar" and
              r["mode"] != "roofline"), "scalar is 1x scalar")
    for dim in DIMS:
        for kind in ("sparse", "rowwise"):
            for dist in ("uniform", "zipf"):
                impls = {r["impl"] for r in rep["sparse"] if (r["dim"], r["kind"], r["dist"]) == (dim, kind, dist)}
                check(impls == table_rows(rep) | {"loop", "roofline"}, "sparse rows %s %s %d" % (kind, dist, dim))
    check(rep["threads"] and all(r["identical"] for r in rep["threads"]), "multi-threaded rows, bitwise one call")


def main():
    if CHECK == "table":
        proc = run(["--quick"])
        for text in ["n = 4096 (L1", "n = 262144", "roofline", "idle check: ", "bitwise identical to one call: yes",
                     "sparse: adagrad_sparse_step"] + library_rows():
            check(text in proc.stdout, "the table shows %r" % text)
        check("benchmarks" in proc.stderr, "progress on stderr")
    elif CHECK == "json":
        check_json(json.loads(run(QUICK + ["--json"]).stdout))
    elif CHECK == "csv":
        rows = list(csv.DictReader(io.StringIO(run(QUICK + ["--csv"]).stdout)))
        dispatch = run([], cmd=[BENCH, "--list-rows"]).stdout.split("dispatch\t")[1].strip()
        check({r["section"] for r in rows} == {"dense", "threads", "sparse"}, "the three sections")
        for r in rows:
            float(r["gelem_s"] or r["mrows_s"])
        check(len([r for r in rows if r["section"] == "sparse"]) == len(DIMS) * 2 * 2 * (len({"scalar", dispatch}) + 2),
              "one sparse row per dim, kind, indices, implementation")
    elif CHECK == "compare":
        with tempfile.TemporaryDirectory() as tmp:
            a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
            run(QUICK + ["--json", "-o", a, "--impl", "scalar"])
            rep = json.load(open(a))
            rep["machine"]["cpu"], rep["library"]["version"] = "Another CPU", "9.9.9"
            for r in rep["dense"] + rep["threads"]:
                r["gelem_s"] *= 2
            json.dump(rep, open(b, "w"))
            out = run(["--compare", a, b]).stdout
            check("different CPUs" in out and "different library versions" in out, "the notes:\n" + out)
            best = 2 * len({r["n"] for r in rep["dense"]})  # "best exact", "best fast" at each size
            check(len(re.findall(r"^  \S.* 2\.00$", out, re.M)) == len(rep["dense"]) + best + len(rep["threads"]),
                  "ratios B/A:\n" + out)
            same = run(["--compare", a, a]).stdout
            ratios = re.findall(r"^  \S.* (\S+)$", same, re.M)
            check("note:" not in same and ratios and set(ratios) == {"1.00"}, "a run against itself:\n" + same)
    elif CHECK == "bad_args":
        for args in (["--reps", "0"], ["--reps", "1"], ["--impl", "bogus"], ["--sizes", "12x"], ["--plot", "a.txt"],
                     ["--compare", "/nonexistent.json", "/nonexistent.json"], ["--bogus"], ["--json", "--csv"],
                     ["--threads", "a"], ["--dims", "0x"]):
            run(args, expect=2)
    elif CHECK == "plot":
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            skip("python3-matplotlib is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            png, svg = os.path.join(tmp, "r.png"), os.path.join(tmp, "r.svg")
            rep = json.loads(run(QUICK + ["--json", "--plot", png]).stdout)
            check(open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "a PNG file")
            module = importlib.machinery.SourceFileLoader("adagrad_report", REPORT).load_module()
            fig = module.plot(rep, svg)
            check(open(svg).read(200).lstrip().startswith("<?xml"), "an SVG file")
            labels = {t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()}
            want = ["%s %s" % (impl, mode) for impl in library_rows() for mode in ("exact", "fast")]
            want += ["%s %s" % (kind, impl) for kind in ("sparse", "rowwise") for impl in table_rows(rep)]
            for label in want:
                check(label in labels, "the legend names %r (it has %s)" % (label, sorted(labels)))
            check({"roofline", "sparse roofline", "sparse loop"} <= labels, "roofline and loop in the legend")
    elif CHECK == "torch":
        proc = run(QUICK + ["--json", "--torch"])
        rep = json.loads(proc.stdout)
        if rep["torch"]["status"] != "ok":
            check(rep["torch"]["note"] and rep["torch"]["note"] in proc.stderr, "the reason, on stderr")
            skip(rep["torch"]["note"])
        # the package's drop-in is in the build tree next to the report, so it is
        # timed too, unless it cannot load there (a sanitizer build's library in
        # a plain interpreter), which the note must then say
        dropin = [] if "dropin" in rep["torch"]["note"] and "not timed" in rep["torch"]["note"] else ["dropin"]
        for n in (4096, 262144):
            for mode in ["single", "foreach"] + dropin:
                check([r for r in rep["dense"] if (r["impl"], r["mode"], r["n"]) == ("torch", mode, n)],
                      "torch %s at n=%d" % (mode, n))
    elif CHECK == "threads":
        # 262144 elements: up to 4 parts of ADAGRAD_MT_MIN_ELEMENTS (65536)
        rep = json.loads(run(QUICK + ["--json", "--dims", "none"], env={"OMP_NUM_THREADS": "4"}).stdout)
        check(rep["library"]["max_threads"] == 4, "adagrad_max_threads() follows OMP_NUM_THREADS")
        got = {(r["mode"], r["threads"], r["parts"], r["identical"]) for r in rep["threads"]}
        want = {(m, t, t, True) for m in ("exact", "fast") for t in (1, 2, 4)}
        check(got == want, "1, 2 and 4 threads, as many parts, bitwise one call: %s" % sorted(got))
    elif CHECK == "agree":
        # bench's own console figures and the report's are the same numbers
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "bench.json")
            console = run([], cmd=[BENCH, "--sizes=4096", "--threads=none", "--dims=16", "--rows=4096",
                                   "--batches=256", "--benchmark_repetitions=3", "--benchmark_min_time=0.002",
                                   "--benchmark_filter=^(step_f32|roofline|sparse/[^/]*/exact|sparse_|rowwise)", "--benchmark_out=" + out,
                                   "--benchmark_enable_random_interleaving=true"]).stdout
            rep = json.loads(run(["--from", out, "--json"]).stdout)
        scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}
        figures = {m.group(1): float(m.group(2)) * scale[m.group(3)] for m in
                   re.finditer(r"^(\S+)_median .* items_per_second=([\d.]+)([kMG]?)/s", console, re.M)}
        rows = [(r["benchmark"], r["gelem_s"] * 1e9) for r in rep["dense"]]
        rows += [(r["benchmark"], r["mrows_s"] * 1e6) for r in rep["sparse"]]
        check(len(rows) > 20 and len(figures) == len(rows), "every benchmark in both")
        for name, value in rows:
            check(abs(figures[name] / value - 1) < 1e-5, "%s: console %g, report %g" % (name, figures[name], value))
    else:
        sys.exit("unknown check " + CHECK)


if __name__ == "__main__":
    main()
