#!/usr/bin/python3
# libadagrad — adagrad-report: how fast and how accurate is each
# implementation on this machine, and how close to the hardware limit?
# SPDX-License-Identifier: MIT
"""adagrad-report: a front end over the one measurement engine.

It runs bench_adagrad (Google Benchmark: bench/bench_adagrad.cc says what
each benchmark and counter is) with repetitions in random interleaved order,
reads its JSON and prints the median of the repetitions with their spread
(min..max). It times nothing itself; --torch runs tools/torch_compare.py.

sections   dense   every implementation, EXACT and FAST, at one size per
                   cache level and one in DRAM (bench's defaults), next to
                   the roofline: the fastest traffic loop at that size (the
                   step's loads and stores on its own buffers, mask 0, only
                   an xor), run for every implementation whatever --impl, so
                   %roof means the same in every run
           threads adagrad_step_mt with dispatch's implementation at the
                   DRAM size, per wall time, bitwise checked against one call
           sparse  the sparse and row-wise EXACT steps on an embedding table,
                   uniform and Zipf indices, next to the same access pattern
                   without math (roofline: the best row's traffic kernel) and
                   a plain C loop

--json schema "adagrad-report/1" (rates are medians over the repetitions,
_min and _max the slowest and fastest; null where not measured):
  schema, machine {cpu, num_cpus, mhz, caches {L1d, L2, L3: bytes}, host,
    date, load_avg, others_busy_cpus (the idle check: CPUs other processes
    kept busy during the run, /proc/stat), run_seconds}
  library {version, dispatch, cpu_features, rows, rows_skipped, max_threads,
    build, table_rows}
  method {engine, repetitions, min_time_s, interleaved, filter}
  dense [{benchmark, impl, mode (exact|fast|roofline; torch: single|foreach|dropin),
    n, level, gelem_s, gelem_s_min, gelem_s_max, gb_s, x_scalar,
    pct_roofline, max_ulp, cpu_ns, real_ns}]
  threads [{benchmark, impl, mode, n, level, threads, parts, gelem_s,
    gelem_s_min, gelem_s_max, gb_s, x_1thread, pct_roofline, identical,
    cpu_ns, real_ns}]
  sparse [{benchmark, kind (sparse|rowwise), impl (a row, roofline, loop),
    dist (uniform|zipf), dim, batch, mrows_s, mrows_s_min, mrows_s_max, gb_s,
    pct_roofline, x_loop}]
  torch {status (off|ok|skipped), note}
  failed [the benchmarks that failed, with Google Benchmark's error]
GB/s counts 20 bytes per element (dense: read theta, sum, grad; write theta,
sum), 20*dim+8 per index (sparse) and 12*dim+16 (row-wise), as bench does.
--csv: one line per row of dense, threads and sparse; the first column is
the section, then every key above. Exit status: 0; 1 when the run fails or
step_mt is not bitwise one call; 2 for bad arguments.
"""
import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

SCHEMA = "adagrad-report/1"
HERE = os.path.dirname(os.path.abspath(__file__))
BENCH_PATHS = [os.path.join(HERE, "..", "bench", "bench_adagrad"), "@LIBEXECDIR@/bench_adagrad"]
TORCH_PATHS = [os.path.join(HERE, "torch_compare.py"), "@SRCDIR@/torch_compare.py", "@DATADIR@/torch_compare.py"]
QUICK = ["--sizes=4096,2^18", "--rows=4096", "--batches=256", "--dims=16,40"]
DENSE_KEYS = ["benchmark", "impl", "mode", "n", "level", "gelem_s", "gelem_s_min", "gelem_s_max", "gb_s",
              "x_scalar", "pct_roofline", "max_ulp", "cpu_ns", "real_ns"]
THREAD_KEYS = ["benchmark", "impl", "mode", "n", "level", "threads", "parts", "gelem_s", "gelem_s_min",
               "gelem_s_max", "gb_s", "x_1thread", "pct_roofline", "identical", "cpu_ns", "real_ns"]
SPARSE_KEYS = ["benchmark", "kind", "impl", "dist", "dim", "batch", "mrows_s", "mrows_s_min", "mrows_s_max",
               "gb_s", "pct_roofline", "x_loop"]


def fail(message, status=1):
    print("adagrad-report: " + message, file=sys.stderr)
    sys.exit(status)


def find(paths, env):
    for p in ([os.environ[env]] if os.environ.get(env) else []) + paths:
        if os.path.isfile(p) and "@" not in p:
            return os.path.normpath(p)
    return None


def size_list(text):
    if not re.fullmatch(r"(\d+|2\^\d+)(,(\d+|2\^\d+))*", text):
        raise argparse.ArgumentTypeError("expected a list such as 4096,65536,2^20")
    return text


def list_or_none(text):
    return text if text == "none" else size_list(text)


def ratio(a, b):
    return a / b if a is not None and b else None


# ---- Running the engine ----

def list_rows(bench):
    out = subprocess.run([bench, "--list-rows"], capture_output=True, text=True, check=True).stdout
    rows, dispatch = [], None
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "dispatch":
            dispatch = f[1]
        else:
            rows.append({"name": f[0], "test_only": f[1] == "test-only", "runnable": f[2] == "runnable",
                         "why_not": None if f[2] == "runnable" else f[2]})
    return rows, dispatch


def bench_command(args, bench):
    rows, dispatch = list_rows(bench)
    known = {r["name"]: r for r in rows}
    library = [r["name"] for r in rows if r["runnable"] and not r["test_only"]]
    impls = args.impl.split(",") if args.impl else library
    for name in impls:
        if name not in known:
            fail("--impl: no implementation '%s' in this build (%s)" % (name, ", ".join(known)), 2)
        if not known[name]["runnable"]:
            fail("--impl: %s cannot run here: %s" % (name, known[name]["why_not"]), 2)
    sel, lib = "|".join(impls), "|".join(library)
    table = sel if args.impl else "|".join(dict.fromkeys(["scalar", dispatch]))
    parts = ["step_f32/(%s)/" % sel, "roofline/(%s)/" % lib]
    if args.threads != "none":
        parts.append("step_mt/")
    if args.dims != "none":
        # the roofline: the traffic kernel of the best row the CPU runs (the
        # rows go worst to best), whatever dispatch picks
        parts += ["sparse/(%s)/exact/" % table, "rowwise/(%s)/" % table, "sparse_roofline/%s/" % library[-1],
                  "rowwise_roofline/%s/" % library[-1], "sparse_naive/", "rowwise_naive/"]
    ours = list(QUICK) if args.quick else []
    for flag, value in (("sizes", args.sizes), ("threads", args.threads), ("dims", args.dims),
                        ("rows", args.sparse_rows), ("batches", args.batch)):
        if value and value != "none":
            ours.append("--%s=%s" % (flag, value))
    filt = "^(%s)" % "|".join(parts)
    return [bench, "--benchmark_filter=" + filt, "--benchmark_repetitions=%d" % args.reps,
            "--benchmark_enable_random_interleaving=true", "--benchmark_min_time=%g" % args.min_time,
            "--benchmark_display_aggregates_only=true", "--benchmark_color=false"] + ours, filt


def run_bench(args, bench):
    cmd, filt = bench_command(args, bench)
    count = len(subprocess.run(cmd + ["--benchmark_list_tests"], capture_output=True, text=True,
                               check=True).stdout.split())
    progress = not args.quiet
    if progress:
        print("adagrad-report: %s: %d benchmarks x %d repetitions, interleaved at random"
              % (os.path.basename(bench), count, args.reps), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        proc = subprocess.Popen(cmd + ["--benchmark_out=" + out, "--benchmark_out_format=json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        errors = []
        reader = threading.Thread(target=lambda: errors.extend(proc.stderr))
        reader.start()
        done, t0, tty = 0, time.time(), sys.stderr.isatty()
        for line in proc.stdout:
            done += "_median " in line
            if progress and tty:
                print("\r  %d of %d benchmarks done, %.0f s" % (done, count, time.time() - t0), end="",
                      file=sys.stderr, flush=True)
        status = proc.wait()
        reader.join()
        if progress:
            print("%s  %d benchmarks in %.1f s" % ("\r" if tty else "", done, time.time() - t0), file=sys.stderr)
        if status not in (0, 1) or not os.path.exists(out):
            fail("%s exited with status %d:\n%s" % (bench, status, "".join(errors)))
        with open(out) as f:
            doc = json.load(f)
    if status == 1:
        sys.stderr.write("".join(e for e in errors if "skipping" not in e))
    return doc, filt, status


def run_torch(args, report):
    script = find(TORCH_PATHS, "ADAGRAD_TORCH_SCRIPT")
    sizes = sorted({r["n"] for r in report["dense"]})
    if not script or not sizes:
        return {"status": "skipped", "note": "tools/torch_compare.py not found (set ADAGRAD_TORCH_SCRIPT)"}, []
    if not args.quiet:
        print("adagrad-report: torch.optim.Adagrad at n = %s" % ",".join(map(str, sizes)), file=sys.stderr)
    # the package's drop-in is timed too: from the build tree (<build>/python,
    # beside this file's folder) or where meson installed it
    env = dict(os.environ)
    build_python = os.path.join(HERE, "..", "python")
    if os.path.isdir(os.path.join(build_python, "libadagrad")):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (build_python, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(["/usr/bin/python3", script, "--sizes", ",".join(map(str, sizes)), "--reps",
                           str(args.reps), "--min-time", str(args.min_time)], capture_output=True, text=True,
                          env=env)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = {"error": "torch_compare.py exited with %d: %s" % (proc.returncode, proc.stderr.strip()[-300:])}
    if "error" in doc:
        return {"status": "skipped", "note": "torch comparison skipped: " + doc["error"]}, []
    note = ("torch %s, 1 thread, CPU time: torch.optim.Adagrad.step() on one float32 tensor, foreach=False "
            "(single) and True (foreach); dropin: libadagrad.torch.Adagrad, the package's drop-in%s"
            % (doc["torch_version"], " (not timed: %s)" % doc["dropin"] if doc.get("dropin") else ""))
    return {"status": "ok", "note": note}, doc["results"]


# ---- From Google Benchmark's JSON to the report ----

def level_of(n, caches):
    for name in ("L1d", "L2", "L3"):
        if caches.get(name) and 12 * n <= caches[name]:
            return "L1" if name == "L1d" else name
    return "DRAM"


def derive(doc, torch=None, torch_rows=(), method=None):
    ctx, run = doc["context"], doc.get("adagrad_run", {})
    caches = {}
    for c in ctx.get("caches", []):
        if c["type"] != "Instruction" and 1 <= c["level"] <= 3:
            caches["L1d" if c["level"] == 1 else "L%d" % c["level"]] = c["size"]
    stats, failed = {}, []
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            failed.append("%s: %s" % (b["name"], b.get("error_message")))
        elif b.get("run_type") == "aggregate":
            stats.setdefault(b["run_name"], {})[b["aggregate_name"]] = b
    dense, threads, sparse = [], [], []
    for name, s in stats.items():
        med, lo, hi = s["median"], s.get("min", s["median"]), s.get("max", s["median"])
        p = [x for x in name.split("/") if x != "real_time"]
        rate = lambda b, scale: b["items_per_second"] * scale
        common = {"benchmark": name, "gb_s": med["bytes_per_second"] * 1e-9}
        if p[0] == "sparse" and p[2] == "fast":
            continue  # the report shows the table steps in EXACT
        if p[0] in ("step_f32", "roofline", "step_mt"):
            row = dict(common, impl=p[1], mode="roofline" if p[0] == "roofline" else p[2],
                       n=int(p[-2] if p[0] == "step_mt" else p[-1]), gelem_s=rate(med, 1e-9),
                       gelem_s_min=rate(lo, 1e-9), gelem_s_max=rate(hi, 1e-9), cpu_ns=med["cpu_time"],
                       real_ns=med["real_time"])
            row["level"] = level_of(row["n"], caches)
            if p[0] == "step_mt":
                row.update(threads=int(p[-1]), parts=int(med["parts"]), identical=med["identical"] == 1)
                threads.append(row)
            else:
                row["max_ulp"] = med.get("max_ulp")
                dense.append(row)
        else:
            kind = "rowwise" if p[0].startswith("rowwise") else "sparse"
            impl = "roofline" if p[0].endswith("roofline") else "loop" if p[0].endswith("naive") else p[1]
            sparse.append(dict(common, kind=kind, impl=impl, dist=p[-3], dim=int(p[-2]), batch=int(p[-1]),
                               mrows_s=rate(med, 1e-6), mrows_s_min=rate(lo, 1e-6), mrows_s_max=rate(hi, 1e-6)))
    for t in torch_rows:
        dense.append({"benchmark": None, "impl": "torch", "mode": t["mode"], "n": t["n"],
                      "level": level_of(t["n"], caches), "gelem_s": t["n"] / t["sec_median"] * 1e-9,
                      "gelem_s_min": t["n"] / t["sec_max"] * 1e-9, "gelem_s_max": t["n"] / t["sec_min"] * 1e-9,
                      "gb_s": 20 * t["n"] / t["sec_median"] * 1e-9, "max_ulp": None,
                      "cpu_ns": t["sec_median"] * 1e9, "real_ns": None})
    order = {"exact": 0, "fast": 1, "roofline": 2, "single": 3, "foreach": 4, "dropin": 5}
    rank = {name: i for i, name in enumerate(ctx.get("adagrad_rows", "").replace("(test-only)", "").split())}
    rank.update(torch=90, loop=91, roofline=92)
    dense.sort(key=lambda r: (r["n"], order[r["mode"]] == 2, rank.get(r["impl"], 99), order[r["mode"]]))
    threads.sort(key=lambda r: (r["n"], r["mode"], r["threads"]))
    sparse.sort(key=lambda r: (r["dim"], r["kind"], r["dist"], r["batch"], rank.get(r["impl"], 99)))
    roof = {}
    for r in dense:
        if r["mode"] == "roofline" and r["gelem_s"] > roof.get(r["n"], (0,))[0]:
            roof[r["n"]] = (r["gelem_s"], r["impl"])
    find_rate = lambda rows, key, **kw: next((r[key] for r in rows if all(r[k] == v for k, v in kw.items())), None)
    for r in dense:
        r["pct_roofline"] = 100 * r["gelem_s"] / roof[r["n"]][0] if r["n"] in roof else None
        scalar = find_rate(dense, "gelem_s", impl="scalar", n=r["n"],
                           mode="exact" if r["impl"] == "torch" else r["mode"])
        r["x_scalar"] = None if r["mode"] == "roofline" else ratio(r["gelem_s"], scalar)
    for r in threads:
        r["x_1thread"] = ratio(r["gelem_s"], find_rate(threads, "gelem_s", n=r["n"], mode=r["mode"], threads=1))
        r["pct_roofline"] = 100 * r["gelem_s"] / roof[r["n"]][0] if r["n"] in roof else None
    for r in sparse:
        same = dict(kind=r["kind"], dist=r["dist"], dim=r["dim"], batch=r["batch"])
        r["pct_roofline"] = 100 * (ratio(r["mrows_s"], find_rate(sparse, "mrows_s", impl="roofline", **same)) or 0)
        r["x_loop"] = None if r["impl"] == "roofline" else ratio(r["mrows_s"],
                                                                   find_rate(sparse, "mrows_s", impl="loop", **same))
    get = ctx.get
    return {
        "schema": SCHEMA,
        "machine": {"cpu": get("cpu_model"), "num_cpus": get("num_cpus"), "mhz": get("mhz_per_cpu"),
                    "caches": caches, "host": get("host_name"), "date": get("date"), "load_avg": get("load_avg"),
                    "others_busy_cpus": run.get("others_busy_cpus"), "run_seconds": run.get("wall_seconds")},
        "library": {"version": get("adagrad_version"), "dispatch": get("adagrad_dispatch"),
                    "cpu_features": get("adagrad_cpu_features"), "rows": get("adagrad_rows"),
                    "rows_skipped": get("adagrad_rows_skipped"), "max_threads": int(get("adagrad_max_threads", 1)),
                    "build": get("adagrad_build"), "table_rows": int(get("adagrad_table_rows", 0))},
        "method": dict(method or {"repetitions": doc["benchmarks"][0]["repetitions"] if doc["benchmarks"] else None},
                       engine="Google Benchmark (%s library)" % get("library_build_type")),
        "dense": dense, "threads": threads, "sparse": sparse, "failed": failed,
        "torch": torch or {"status": "off", "note": ""},
    }


# ---- Output ----

def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def mib(b):
    scale, unit = next((s, u) for s, u in ((30, "GiB"), (20, "MiB"), (10, "KiB"), (0, "B")) if b >= 1 << s or not s)
    return "%s %s" % (format(b / (1 << scale), ".4g"), unit)


def spread(r, key):
    med, lo, hi = r[key], r[key + "_min"], r[key + "_max"]
    return "%+.1f/%+.1f%%" % (100 * (lo / med - 1), 100 * (hi / med - 1)) if med else "-"


def print_table(rep, out):
    m, lib, meth = rep["machine"], rep["library"], rep["method"]
    w = lambda *a: print(*a, file=out)
    w("libadagrad %s report, %s" % (lib["version"], m["date"]))
    w("CPU:        %s, %s CPUs, %s" % (m["cpu"], m["num_cpus"],
                                      ", ".join("%s %s" % (k, mib(v)) for k, v in sorted(m["caches"].items()))))
    w("library:    dispatch %s; CPU features %s; rows %s%s" % (
        lib["dispatch"], lib["cpu_features"], lib["rows"], "; skipped " + lib["rows_skipped"] if lib["rows_skipped"]
        else ""))
    w("method:     %s: median of %s repetitions interleaved at random, each >= %s s;"
      % (meth.get("engine"), meth.get("repetitions"), meth.get("min_time_s")))
    w("            spread: slowest/fastest; rates per CPU time (multi-threaded: wall time); GB/s at 20")
    w("            bytes/element; %roof: of the fastest traffic loop at that size; ulp: worst theta error")
    w("            of one step vs the double oracle; wall/cpu above 1: the core was shared")
    busy = m["others_busy_cpus"]
    w("idle check: %s" % ("unknown" if busy is None else "other processes kept %.2f of %s CPUs busy during the run"
                          "%s" % (busy, m["num_cpus"], " (a busy machine: low figures, wide spread)"
                                  if busy > 0.25 else "")))
    if lib["build"] not in ("optimized", None):
        w("warning:    %s" % lib["build"])
    for n in sorted({r["n"] for r in rep["dense"]}):
        rows = [r for r in rep["dense"] if r["n"] == n]
        roof = max((r for r in rows if r["mode"] == "roofline"), key=lambda r: r["gelem_s"], default=None)
        w("\nn = %d (%s, %s working set)%s" % (n, rows[0]["level"], mib(12 * n), "" if not roof else
          "   roofline %.2f G elem/s = %.1f GB/s (%s traffic loop)" % (roof["gelem_s"], roof["gb_s"], roof["impl"])))
        w("  %-11s %-9s %9s %15s %8s %8s %7s %8s %9s" % ("impl", "mode", "G elem/s", "spread", "GB/s", "xscalar",
                                                         "%roof", "max ulp", "wall/cpu"))
        for r in rows:
            w("  %-11s %-9s %9.3f %15s %8.1f %8s %7s %8s %9s" % (
                r["impl"], r["mode"], r["gelem_s"], spread(r, "gelem_s"), r["gb_s"], fmt(r["x_scalar"], ".2f"),
                fmt(r["pct_roofline"], ".1f"), fmt(r["max_ulp"], ".0f"), fmt(ratio(r["real_ns"], r["cpu_ns"]), ".2f")))
    if rep["torch"]["note"]:
        w("\n" + rep["torch"]["note"])
    if rep["threads"]:
        t = rep["threads"][0]
        w("\nmulti-threaded: adagrad_step_mt, %s (dispatch), adagrad_max_threads() = %d, wall time; x1: over 1"
          % (t["impl"], lib["max_threads"]))
        w("thread, same mode; %roof: of the single-thread roofline at that size")
        w("  %-10s %-6s %7s %5s %9s %15s %8s %6s %7s %9s" % ("n", "mode", "threads", "parts", "G elem/s", "spread",
                                                            "GB/s", "x1", "%roof", "same bits"))
        for r in rep["threads"]:
            w("  %-10d %-6s %7d %5d %9.3f %15s %8.1f %6s %7s %9s" % (
                r["n"], r["mode"], r["threads"], r["parts"], r["gelem_s"], spread(r, "gelem_s"), r["gb_s"],
                fmt(r["x_1thread"], ".2f"), fmt(r["pct_roofline"], ".1f"), "yes" if r["identical"] else "NO"))
        w("bitwise identical to one call: %s" % ("yes" if all(r["identical"] for r in rep["threads"]) else "NO"))
    if rep["sparse"]:
        w("\nsparse: adagrad_sparse_step, EXACT, element-wise (sparse) and ADAGRAD_ROWWISE (rowwise), on a table of")
        w("%d rows x dim floats; M rows/s: indices per second; GB/s at 20*dim+8 (sparse) and 12*dim+16 (rowwise)"
          % lib["table_rows"])
        w("bytes per index; roofline: the same rows, order and prefetch with no math; loop: a plain C loop")
        w("  %-4s %-8s %-8s %-11s %9s %15s %8s %7s %7s" % ("dim", "step", "indices", "impl", "M rows/s", "spread",
                                                        "GB/s", "%roof", "xloop"))
        for r in rep["sparse"]:
            w("  %-4d %-8s %-8s %-11s %9.2f %15s %8.2f %7.1f %7s" % (
                r["dim"], r["kind"], r["dist"], r["impl"], r["mrows_s"], spread(r, "mrows_s"), r["gb_s"],
                r["pct_roofline"], fmt(r["x_loop"], ".2f")))
    for f in rep.get("failed", []):
        w("FAILED: " + f)


def print_csv(rep, out):
    keys = ["section"] + list(dict.fromkeys(DENSE_KEYS + THREAD_KEYS + SPARSE_KEYS))
    writer = csv.DictWriter(out, keys, lineterminator="\n")
    writer.writeheader()
    for section in ("dense", "threads", "sparse"):
        for r in rep[section]:
            writer.writerow(dict({k: "" if v is None else v for k, v in r.items()}, section=section))


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e), 2)
    if doc.get("schema") == SCHEMA:
        return doc
    if "benchmarks" in doc and "context" in doc:
        return derive(doc)
    fail("%s: neither an adagrad-report --json file nor bench_adagrad JSON" % path, 2)


def compare(path_a, path_b, out):
    a, b = load(path_a), load(path_b)
    w = lambda *x: print(*x, file=out)
    for tag, path, r in (("A", path_a, a), ("B", path_b, b)):
        m, lib = r["machine"], r["library"]
        w("%s: %s\n   %s, %s CPUs; libadagrad %s, dispatch %s; %s; idle check %s" % (
            tag, path, m["cpu"], m["num_cpus"], lib["version"], lib["dispatch"], m["date"],
            fmt(m["others_busy_cpus"], ".2f")))
    if a["machine"]["cpu"] != b["machine"]["cpu"]:
        w("note: different CPUs: the ratios compare machines, not only implementations")
    if a["library"]["version"] != b["library"]["version"]:
        w("note: different library versions (%s, %s)" % (a["library"]["version"], b["library"]["version"]))
    # Sizes follow each machine's caches: match them by cache level where each
    # level has one size in both runs, else by n.
    by_level = all(len({r["level"] for r in x["dense"]}) == len({r["n"] for r in x["dense"]}) for x in (a, b))
    size = (lambda r: r["level"]) if by_level else (lambda r: r["n"])
    sections = (("dense", "G elem/s", "gelem_s", lambda r: (size(r), r["impl"], r["mode"]),
                 lambda r: "%s %s" % (r["impl"], r["mode"])),
                ("threads", "G elem/s, wall time", "gelem_s", lambda r: (size(r), r["mode"], r["threads"]),
                 lambda r: "%s %d thread(s)" % (r["mode"], r["threads"])),
                ("sparse", "M rows/s", "mrows_s", lambda r: ((r["dim"], r["kind"], r["dist"]), r["impl"]),
                 lambda r: "%s %s dim %d %s" % (r["kind"], r["dist"], r["dim"], r["impl"])))
    # The fastest implementation of each mode and size, and of each table step:
    # machines (or builds) with different rows side by side.
    for x in (a, b):
        for section, key, shape in (("dense", "gelem_s", ("n", "mode")), ("sparse", "mrows_s", ("kind", "dist", "dim"))):
            best = {}
            for r in x[section]:
                if r["impl"] not in ("torch", "loop", "roofline") and r.get("mode") != "roofline":
                    k = tuple(r[f] for f in shape)
                    best[k] = max(best.get(k, r), r, key=lambda z: z[key])
            x[section] += [dict(r, impl="best", of=r["impl"]) for r in best.values()]
    for section, unit, key, ident, label in sections:
        ra, rb = {ident(r): r for r in a[section]}, {ident(r): r for r in b[section]}
        order = {}
        for k in list(ra) + list(rb):
            order.setdefault(k[0], len(order))  # groups (a size, a table shape) in A's order, then B's
            order.setdefault(k, len(order))
        keys = sorted(set(ra) | set(rb), key=lambda k: (order[k[0]], order[k]))
        if not keys:
            continue
        w("\n%s, %s" % (section, unit))
        w("  %-44s %10s %10s %7s" % ("", "A", "B", "B/A"))
        for k in keys:
            x, y = ra.get(k), rb.get(k)
            r, n = x or y, ""
            if section != "sparse":
                n = "%s n=%s " % (r["level"], "/".join(dict.fromkeys(str(z["n"]) for z in (x, y) if z)))
            best = " (%s)" % "/".join(z["of"] for z in (x, y) if z) if r["impl"] == "best" else ""
            w("  %-44s %10s %10s %7s" % (n + label(r) + best, fmt(x and x[key], ".3f"), fmt(y and y[key], ".3f"),
                                          fmt(ratio(y and y[key], x and x[key]), ".2f")))


def plot(rep, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = 2 if rep["sparse"] else 1
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 5), squeeze=False)
    ax, colors = axes[0][0], {"roofline": "black", "loop": "gray"}
    color = lambda impl: colors.setdefault(impl, "C%d" % (len(colors) - 2))
    for impl in dict.fromkeys(r["impl"] for r in rep["dense"] if r["mode"] != "roofline"):
        for mode, style in (("exact", "-"), ("fast", "--"), ("single", "-"), ("foreach", "--")):
            rows = [r for r in rep["dense"] if r["impl"] == impl and r["mode"] == mode]
            if rows:
                ax.plot([r["n"] for r in rows], [r["gelem_s"] for r in rows], style, marker="o", color=color(impl),
                        label="%s %s" % (impl, mode))
    roof = {}
    for r in rep["dense"]:
        if r["mode"] == "roofline":
            roof[r["n"]] = max(roof.get(r["n"], 0), r["gelem_s"])
    ax.plot(sorted(roof), [roof[n] for n in sorted(roof)], color="black", linewidth=4, alpha=0.3, label="roofline")
    ax.set(xscale="log", yscale="log", xlabel="n (elements; working set 12 bytes each)", ylabel="G elements/s",
           title="dense step, %s" % rep["machine"]["cpu"])
    for name, b in sorted(rep["machine"]["caches"].items()):  # where each level's capacity ends
        ax.axvline(b / 12, color="gray", linestyle=":")
        ax.text(b / 12, 0.98, " " + name, va="top", color="gray", transform=ax.get_xaxis_transform())
    ax.legend(fontsize="small", loc="lower left")
    if rep["sparse"]:
        ax = axes[0][1]
        for kind, style in (("sparse", "-"), ("rowwise", "--")):
            for impl in dict.fromkeys(r["impl"] for r in rep["sparse"]):
                rows = [r for r in rep["sparse"] if r["kind"] == kind and r["impl"] == impl and r["dist"] == "uniform"]
                if rows:
                    ax.plot([r["dim"] for r in rows], [r["mrows_s"] for r in rows], style, marker="o",
                            color=color(impl), label="%s %s" % (kind, impl),
                            linewidth=4 if impl == "roofline" else 1.5, alpha=0.3 if impl == "roofline" else 1)
        dims = sorted({r["dim"] for r in rep["sparse"]})
        ax.set(xscale="log", yscale="log", xlabel="dim (uniform indices)", ylabel="M rows/s (indices/s)",
               title="table steps, %d rows (- sparse, -- row-wise)" % rep["library"]["table_rows"])
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.minorticks_off()
        ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    return fig


def main():
    parser = argparse.ArgumentParser(prog="adagrad-report", description=__doc__.split("\n")[0],
                                     epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawTextHelpFormatter)
    add = parser.add_argument
    add("--sizes", type=size_list, help="dense sizes, e.g. 4096,65536,2^20 (default: one per cache level + DRAM)")
    add("--impl", help="implementations to time, e.g. scalar,avx2 (default: the library's that run here;\n"
        "the table steps: scalar and dispatch's)")
    add("--reps", type=int, default=5, help="repetitions (>= 2; default 5)")
    add("--min-time", type=float, default=0.05, help="minimum seconds of one repetition (default 0.05)")
    add("--threads", type=list_or_none, help="thread counts of the multi-threaded step (default 1, 2, 4, ...\n"
        "up to adagrad_max_threads(), and it), or none")
    add("--dims", type=list_or_none, help="row widths of the table steps (default 16,64,128), or none")
    add("--sparse-rows", type=size_list, help="rows of the table (default 2^20)")
    add("--batch", type=size_list, help="indices per table step (default 16384)")
    add("--quick", action="store_true", help="tiny sizes and tables, a few seconds (the tests)")
    add("--json", action="store_true", help="print JSON (schema below) instead of the table")
    add("--csv", action="store_true", help="print CSV instead of the table")
    add("-o", "--output", help="write the table, JSON or CSV to this file")
    add("--plot", metavar="FILE", help="also draw throughput vs size (.png or .svg; python3-matplotlib)")
    add("--torch", action="store_true", help="also time torch.optim.Adagrad (python3-torch) at the dense sizes")
    add("--compare", nargs=2, metavar=("A", "B"), help="two --json runs side by side, ratios B/A; runs nothing")
    add("--from", dest="source", metavar="FILE", help="present a saved --json run or bench JSON; runs nothing")
    add("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    if args.reps < 2 or args.min_time <= 0 or args.json and args.csv:
        parser.error("--reps must be >= 2, --min-time > 0; --json or --csv, not both")
    if args.quick:
        args.reps, args.min_time = min(args.reps, 3), min(args.min_time, 0.002)
    if args.plot and not args.plot.endswith((".png", ".svg")):
        parser.error("--plot: a .png or .svg file")
    out = open(args.output, "w") if args.output else sys.stdout
    if args.compare:
        compare(args.compare[0], args.compare[1], out)
        return 0
    status = 0
    if args.source:
        rep = load(args.source)
    else:
        bench = find(BENCH_PATHS, "ADAGRAD_BENCH")
        if not bench:
            fail("bench_adagrad not found (build with -Dbenchmarks=true, or set ADAGRAD_BENCH)")
        doc, filt, status = run_bench(args, bench)
        method = {"repetitions": args.reps, "min_time_s": args.min_time, "interleaved": True, "filter": filt}
        rep = derive(doc, method=method)
        if args.torch:
            torch, rows = run_torch(args, rep)
            rep = derive(doc, torch, rows, method)
            if torch["status"] != "ok":
                print("adagrad-report: " + torch["note"], file=sys.stderr)
    if args.plot:
        try:
            plot(rep, args.plot)
        except ImportError as e:
            fail("--plot needs matplotlib (apt-get install python3-matplotlib): %s" % e)
    if args.json:
        json.dump(rep, out, indent=1)
        out.write("\n")
    elif args.csv:
        print_csv(rep, out)
    else:
        print_table(rep, out)
    if not all(r["identical"] for r in rep["threads"]) or rep.get("failed"):
        status = 1
    return status


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `adagrad-report | head` ends quietly
    sys.exit(main())
