#!/usr/bin/python3
# libadagrad — smoke tests of adagrad-report (run by meson, see tools/meson.build).
# SPDX-License-Identifier: MIT
"""Usage: check_report.py CHECK PATH/TO/adagrad-report

CHECK is one of: table, json, csv, compare, bad_args, plot, torch, threads, sparse.
Each runs the report on one tiny size with few repetitions and checks what a
script consuming it relies on. Exit status 0 when the check passes.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

# The sparse section on a small table (in cache: shape and bits, not speed),
# with a dim that is not a multiple of any vector width.
SPARSE_DIMS = [16, 40]
SPARSE_QUICK = ["--sparse-rows", "4096", "--sparse-batch", "256", "--sparse-dims", ",".join(map(str, SPARSE_DIMS))]
QUICK = ["--sizes", "4096", "--reps", "3", "--batch-ms", "1", "--quiet"] + SPARSE_QUICK
# The multi-threaded section needs n >= 2 * ADAGRAD_MT_MIN_ELEMENTS (65536)
# for a second thread to get work; 262144 gives up to 4.
MT_N = 262144
MT_QUICK = ["--sizes", str(MT_N), "--reps", "3", "--batch-ms", "2", "--quiet"] + SPARSE_QUICK


def run(report, args, expect=0):
    proc = subprocess.run([report] + args, capture_output=True, text=True, timeout=120)
    if proc.returncode != expect:
        sys.exit("%s %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                 % (report, " ".join(args), proc.returncode, expect, proc.stdout, proc.stderr))
    return proc


def check(condition, message):
    if not condition:
        sys.exit("FAIL: " + message)


def check_run(doc, n=4096):
    """The parts of a --json run the other checks and users rely on."""
    check(doc["schema"] == "adagrad-report/1", "schema")
    check(isinstance(doc["cpu"]["model"], str) and doc["cpu"]["model"], "cpu model")
    names = [impl["name"] for impl in doc["implementations"]]
    check("scalar" in names, "scalar listed among the implementations")
    check(doc["dispatch"] in names, "dispatch names an implementation")
    results = doc["results"]
    available = [i["name"] for i in doc["implementations"] if i["available"]]
    for impl in available:
        for mode in ("exact", "fast", "roofline"):
            rows = [r for r in results if r["impl"] == impl and r["mode"] == mode and r["n"] == n]
            check(len(rows) == 1, "one %s/%s row at n=%d" % (impl, mode, n))
            r = rows[0]
            check(r["gelem_s"] > 0 and r["gb_s"] > 0, "positive throughput for %s/%s" % (impl, mode))
            check(r["sec_min"] <= r["sec_median"] <= r["sec_max"], "min <= median <= max")
            check(r["roofline_pct"] > 0, "roofline percentage")
            if mode != "roofline":
                # docs/design.md's metric: EXACT reaches 4 ulp (where θ
                # crosses a binade), FAST stays within its row's bound (4).
                check(r["ulp_max"] is not None and r["ulp_max"] <= 8, "ulp of %s/%s" % (impl, mode))
    scalar = [r for r in results if r["impl"] == "scalar" and r["mode"] == "exact"][0]
    check(abs(scalar["speedup_vs_scalar"] - 1.0) < 1e-9, "scalar speed-up is 1")
    check(doc["multithread"]["status"] in ("ok", "off"), "multithread status")
    check(doc["sparse"]["status"] in ("ok", "off"), "sparse status")


def check_sparse(doc, rows=4096, batch=256, dims=SPARSE_DIMS):
    """The sparse section of a --json run with SPARSE_QUICK's shape."""
    sp = doc["sparse"]
    check(sp["status"] == "ok" and sp["impl"] == doc["dispatch"] and sp["mode"] == "exact", "sparse header")
    check(sp["rows"] == rows and sp["batch"] == batch, "sparse rows and batch")
    check(sp["loop_bitwise_identical"] is True, "the plain loop gives the library's bits")
    impls = {doc["dispatch"], "scalar", "loop", "roofline"}
    results = sp["results"]
    check(len(results) == len(dims) * 2 * 2 * len(impls), "one sparse row per dim, kind, dist, impl")
    for dim in dims:
        for kind, per_row in (("sparse", 20 * dim), ("rowwise", 12 * dim + 8)):
            for dist in ("uniform", "zipf"):
                rows_here = [r for r in results if r["dim"] == dim and r["kind"] == kind and r["dist"] == dist]
                check({r["impl"] for r in rows_here} == impls, "impls of %s/%s/%d" % (kind, dist, dim))
                for r in rows_here:
                    check(r["sec_min"] <= r["sec_median"] <= r["sec_max"], "sparse min <= median <= max")
                    check(abs(r["rows_s"] - batch / r["sec_median"]) <= 1e-6 * r["rows_s"], "rows/s %r" % r)
                    check(r["bytes_per_row"] == per_row, "bytes per row %r" % r)
                    check(abs(r["gb_s"] - r["rows_s"] * per_row * 1e-9) <= 1e-6 * r["gb_s"], "GB/s %r" % r)
                    check(r["roofline_pct"] > 0, "sparse %% of the roofline %r" % r)
                    if r["impl"] == "roofline":
                        check(abs(r["roofline_pct"] - 100) < 1e-9 and r["speedup_vs_loop"] is None, "roofline row")
                    elif r["impl"] == "loop":
                        check(abs(r["speedup_vs_loop"] - 1) < 1e-9, "loop: speed-up 1")
                    else:
                        check(r["speedup_vs_loop"] > 0, "speed-up over the loop %r" % r)


def check_mt(doc, n, threads):
    """The multithread section of a --json run timed at n on these thread counts."""
    mt = doc["multithread"]
    check(mt["status"] == "ok" and mt["clock"] == "wall", "multithread ok, wall clock")
    check(mt["impl"] == doc["dispatch"], "the dispatched implementation")
    check(mt["bitwise_identical"] is True, "bitwise identical to one call")
    rows = mt["results"]
    check(sorted((r["mode"], r["threads"]) for r in rows)
          == sorted((m, t) for m in ("exact", "fast") for t in threads), "one row per mode and thread count")
    for r in rows:
        check(r["n"] == n and r["gelem_s"] > 0 and r["gb_s"] > 0, "mt row %r" % r)
        check(r["sec_min"] <= r["sec_median"] <= r["sec_max"], "mt min <= median <= max")
        check(r["bitwise_identical"] is True, "mt row bitwise identical")
        check(r["roofline_pct"] > 0, "mt % of the single-thread roofline")
        used = min(r["threads"], n // 65536) if mt["openmp"] else 1
        check(r["threads_used"] == used, "threads_used %r" % r)
        if r["threads"] == 1:
            check(abs(r["speedup_vs_1_thread"] - 1.0) < 1e-9, "1 thread: speed-up 1")
        elif 1 in threads:
            check(r["speedup_vs_1_thread"] > 0, "speed-up over 1 thread")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    what, report = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        if what == "table":
            out = run(report, QUICK).stdout
            for needle in ("CPU:", "dispatch:", "implementations:", "n = 4096", "scalar", "roofline"):
                check(needle in out, "table mentions %r" % needle)
            check("thread-cpu clock" in out, "the default clock is named")
            check("wall clock" in run(report, QUICK + ["--clock", "wall"]).stdout, "--clock wall")
            check("usage" in run(report, ["--help"]).stdout.lower(), "--help prints a usage")
        elif what == "json":
            path = os.path.join(tmp, "run.json")
            run(report, QUICK + ["--json", "-o", path])
            with open(path) as f:
                check_run(json.load(f))
            check_run(json.loads(run(report, QUICK + ["--json"]).stdout))
        elif what == "csv":
            rows = list(csv.DictReader(io.StringIO(run(report, QUICK + ["--csv"]).stdout)))
            rows = [r for r in rows if not r["dim"]]  # the sparse rows: check sparse
            check(len(rows) >= 3, "at least the scalar rows")
            for r in rows:
                check(int(r["n"]) == 4096 and float(r["gelem_s"]) > 0, "csv row %r" % r)
            check({"exact", "fast", "roofline"} <= {r["mode"] for r in rows}, "every mode in the csv")
        elif what == "compare":
            a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
            run(report, QUICK + ["--json", "-o", a])
            run(report, QUICK + ["--json", "--seed", "2", "-o", b])
            out = run(report, ["--compare", a, b]).stdout
            check("B/A" in out and "geometric mean" in out, "comparison table:\n" + out)
            # A file that is not a report is an error at run time, not a crash.
            bad = os.path.join(tmp, "bad.json")
            with open(bad, "w") as f:
                f.write('{"results": [')
            check("invalid JSON" in run(report, ["--compare", a, bad], expect=1).stderr, "bad JSON message")
        elif what == "bad_args":
            for args in (["--reps", "0"], ["--sizes", "12,x"], ["--sizes", "0"], ["--bogus"],
                         ["--json", "--csv"], ["--compare", "only-one.json"], ["--impl", "nosuchisa"],
                         ["--batch-ms", "-1"], ["--reps"], ["stray"], ["--clock", "tsc"],
                         ["--threads", "x"], ["--threads", "0,1"], ["--threads", "2000"], ["--threads", "1,"],
                         ["--threads", ""], ["--threads"], ["--sparse", "maybe"], ["--sparse-dims", "0"],
                         ["--sparse-dims", "16,"], ["--sparse-dims", "70000"], ["--sparse-batch", "x"],
                         ["--sparse-batch", "2^25"], ["--sparse-rows", "0"], ["--sparse-rows"]):
                err = run(report, args, expect=2).stderr
                check(err.startswith("adagrad-report: "), "a message for %r: %r" % (args, err))
        elif what == "plot":
            png = os.path.join(tmp, "plot.png")
            run(report, QUICK + ["--sizes", "4096,65536", "--plot", png])
            with open(png, "rb") as f:
                check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the plot is a PNG")
        elif what == "torch":
            doc = json.loads(run(report, QUICK + ["--torch", "--json"]).stdout)
            status = doc["torch"]["status"]
            check(status in ("ok", "skipped"), "torch status %r" % status)
            torch_rows = [r for r in doc["results"] if r["impl"] == "torch"]
            if status == "ok":
                check({r["mode"] for r in torch_rows} == {"single", "foreach"}, "both torch modes")
                exact = [r for r in doc["results"] if r["impl"] == "scalar" and r["mode"] == "exact"][0]
                check(exact["vs_torch"] > 0 and exact["vs_torch_foreach"] > 0, "ratios against torch")
            else:
                print("torch skipped: " + doc["torch"]["note"])
        elif what == "threads":
            # Table: the section, its clock and the check's verdict.
            out = run(report, MT_QUICK).stdout
            for needle in ("multi-threaded: adagrad_step_f32_mt", "WALL clock", "n = %d" % MT_N,
                           "bitwise identical to one call: yes"):
                check(needle in out, "table mentions %r:\n%s" % (needle, out))
            # JSON, on explicit counts (2 even on a 1-CPU machine: oversubscribed).
            a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
            run(report, MT_QUICK + ["--threads", "2,1", "--json", "-o", a])
            with open(a) as f:
                doc = json.load(f)
            check_run(doc, MT_N)
            check_mt(doc, MT_N, [1, 2])
            check_sparse(doc)
            # The default counts: 1, 2, 4, ... up to max_threads, and it.
            doc = json.loads(run(report, MT_QUICK + ["--json"]).stdout)
            top = doc["multithread"]["max_threads"]
            check_mt(doc, MT_N, sorted({t for t in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512) if t < top} | {top}))
            # The DRAM size(s) of the run, else the largest: never the small one here.
            doc = json.loads(run(report, MT_QUICK + ["--sizes", "4096,%d" % MT_N, "--threads", "1,2",
                                                     "--json"]).stdout)
            check_mt(doc, MT_N, [1, 2])
            # CSV: the old columns first and unchanged, the mt rows last.
            text = run(report, MT_QUICK + ["--threads", "1,2", "--csv"]).stdout
            header = text.splitlines()[0].split(",")
            check(header[:16] == ["n", "level", "impl", "mode", "gelem_s", "gelem_s_min", "gelem_s_max", "gb_s",
                                  "speedup_vs_scalar", "roofline_pct", "ulp_max", "vs_torch",
                                  "vs_torch_foreach", "sec_median", "sec_q1", "sec_q3"], "csv header kept")
            rows = list(csv.DictReader(io.StringIO(text)))
            mt_rows = [r for r in rows if r["mode"].endswith("-mt")]
            check(sorted((r["mode"], r["threads"]) for r in mt_rows)
                  == [("exact-mt", "1"), ("exact-mt", "2"), ("fast-mt", "1"), ("fast-mt", "2")], "csv mt rows")
            for r in mt_rows:
                check(r["clock"] == "wall" and r["bitwise_identical"] == "yes" and float(r["gelem_s"]) > 0,
                      "csv mt row %r" % r)
            check(all(r["threads"] == "1" for r in rows if not r["mode"].endswith("-mt")), "single rows: 1")
            # --compare sets the sections side by side.
            run(report, MT_QUICK + ["--threads", "1", "--json", "-o", b])
            out = run(report, ["--compare", a, b]).stdout
            check("multi-threaded" in out and "geometric mean" in out, "compare with mt rows:\n" + out)
            # --threads 0 / none: no section, nothing checked.
            for skip in ("0", "none"):
                out = run(report, QUICK + ["--threads", skip]).stdout
                check("multi-threaded" not in out and "bitwise identical" not in out, "--threads " + skip)
            doc = json.loads(run(report, QUICK + ["--threads", "0", "--json"]).stdout)
            check(doc["multithread"]["status"] == "off" and doc["multithread"]["results"] == []
                  and doc["multithread"]["bitwise_identical"] is None, "--threads 0 in json")
            check("-mt" not in run(report, QUICK + ["--threads", "none", "--csv"]).stdout, "--threads none csv")
        elif what == "sparse":
            # Table: the section, its definitions and the bit check's verdict.
            out = run(report, QUICK + ["--threads", "0"]).stdout
            for needle in ("sparse: adagrad_sparse_step_f32 / adagrad_rowwise_step_f32", "20*dim", "12*dim+8",
                           "dim = 16", "dim = 40", "roofline", "loop", "zipf",
                           "plain loop gives the library's bits: yes"):
                check(needle in out, "table mentions %r:\n%s" % (needle, out))
            # JSON: the "sparse" key beside the other top-level keys.
            a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
            run(report, QUICK + ["--threads", "0", "--json", "-o", a])
            with open(a) as f:
                doc = json.load(f)
            check_run(doc)
            check_sparse(doc)
            # CSV: the sparse columns after all the others, the sparse results as rows of their own.
            text = run(report, QUICK + ["--threads", "0", "--csv"]).stdout
            header = text.splitlines()[0].split(",")
            check(header == ["n", "level", "impl", "mode", "gelem_s", "gelem_s_min", "gelem_s_max", "gb_s",
                             "speedup_vs_scalar", "roofline_pct", "ulp_max", "vs_torch", "vs_torch_foreach",
                             "sec_median", "sec_q1", "sec_q3", "threads", "threads_used", "clock",
                             "speedup_vs_1_thread", "bitwise_identical", "dim", "dist", "rows_s", "table_rows",
                             "batch", "speedup_vs_loop"], "csv header: %r" % header)
            rows = list(csv.DictReader(io.StringIO(text)))
            check(all(None not in r for r in rows), "every csv line has the header's column count")
            sparse_rows = [r for r in rows if r["dim"]]
            check(len(sparse_rows) == len(doc["sparse"]["results"]), "one csv row per sparse result")
            check({r["mode"] for r in sparse_rows}
                  == {"sparse-exact", "rowwise-exact", "sparse-roofline", "rowwise-roofline"}, "sparse csv modes")
            for r in sparse_rows:
                check(int(r["n"]) == int(r["dim"]) * 256 and float(r["rows_s"]) > 0 and r["table_rows"] == "4096"
                      and r["batch"] == "256" and r["dist"] in ("uniform", "zipf"), "csv sparse row %r" % r)
                check((r["impl"] == "roofline") == r["mode"].endswith("-roofline"), "csv roofline rows %r" % r)
            check(all(r["bitwise_identical"] == "yes" for r in sparse_rows if r["impl"] == "loop"), "csv loop bits")
            check({"exact", "fast", "roofline"} <= {r["mode"] for r in rows if not r["dim"]}, "dense rows kept")
            # --compare: the sparse rows side by side.
            run(report, QUICK + ["--threads", "0", "--seed", "2", "--json", "-o", b])
            out = run(report, ["--compare", a, b]).stdout
            check("sparse (touched rows/s)" in out and "rowwise" in out and "geometric mean" in out,
                  "compare with sparse rows:\n" + out)
            # --sparse none: no section.
            out = run(report, QUICK + ["--threads", "0", "--sparse", "none"]).stdout
            check("sparse:" not in out and "plain loop" not in out, "--sparse none table")
            doc = json.loads(run(report, QUICK + ["--threads", "0", "--sparse", "none", "--json"]).stdout)
            check(doc["sparse"]["status"] == "off" and doc["sparse"]["results"] == []
                  and doc["sparse"]["loop_bitwise_identical"] is None, "--sparse none in json")
            check("-exact,uniform" not in run(report, QUICK + ["--sparse", "none", "--csv"]).stdout,
                  "--sparse none csv")
        else:
            sys.exit("unknown check %r\n%s" % (what, __doc__))
    print("ok: " + what)


if __name__ == "__main__":
    main()
