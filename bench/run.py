"""Benchmarks of webex-events against its peers, and the guards that keep it fast and lean.

``python bench/run.py`` (full, 10-15 minutes on 2 cores) or ``python bench/run.py --quick`` (a
smoke run of a minute or two). Writes ``bench/results/latest.md`` and ``latest.json`` and prints the
markdown. Sections (``--sections``, default all): throughput, cpu, memory, rate; what each
measures, and the guards, are in ``bench/README.md``. A missed guard is reported, not fatal.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, RESULTS_DIR, child_env, jsonl_digest, listing_range, parse_result
from _server import FakeServer

PY = sys.executable

#: The guards (see bench/README.md): speedups are wall-time ratios to webexpythonsdk.
DEFAULTS_SPEEDUP = 6.0
ASYNC_SYNC = 0.9
REQUESTS_RATIO = 1.15
CPU_TYPED = 1.5
CPU_RAW = 2.0
CLI_RSS_MB = 150.0
CLI_RSS_EVENTS = 1_000_000


@dataclass
class ChildRun:
    """One finished subprocess: its own rusage (from wait4) and its RESULT line, if any."""

    returncode: int
    wall: float  # measured by the parent: process start to exit
    cpu: float  # user + system seconds of that process only
    max_rss_mb: float
    result: dict[str, Any] | None
    stderr_tail: str


def run_child(argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None) -> ChildRun:
    """Run ``argv`` and reap it with ``os.wait4``, so its rusage is its own (not all children's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen quiet
        out.seek(0)
        err.seek(0)
        return ChildRun(
            returncode=proc.returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,  # kB on Linux
            result=parse_result(out.read()),
            stderr_tail=err.read()[-600:],
        )


#: The CLI with its malloc tuning off (``webex_events/cli/_malloc.py``: glibc's malloc arenas
#: capped at 2): that module is loaded first with ``limit_malloc_arenas`` made a no-op, so the
#: CLI imports that; then the console script runs as installed. glibc still reads its own
#: environment (MALLOC_ARENA_MAX).
UNTUNED_CLI = """
import importlib.metadata, importlib.util, pathlib, sys
import webex_events
path = pathlib.Path(webex_events.__file__).parent / "cli" / "_malloc.py"
if path.exists():
    spec = importlib.util.spec_from_file_location("webex_events.cli._malloc", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.limit_malloc_arenas = lambda *args, **kwargs: False
    sys.modules[spec.name] = module
(script,) = importlib.metadata.entry_points(group="console_scripts", name="webex-events")
script.load()()
"""


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    runner: str  # a _contenders.py runner, or "cli"
    window: str = "none"  # "none": concurrency=1 (sequential); "default": from_/to only; "auto"
    concurrency: int = 0  # with "auto" (the CLI: --concurrency when > 1)
    stdout: bool = False  # cli: export to stdout (redirected to the output file)
    untuned: bool = False  # cli: without its malloc tuning (UNTUNED_CLI)
    env: tuple[tuple[str, str], ...] = ()

    def argv(self, base_url: str, from_: str, to: str, page_size: int, output: Path) -> list[str]:
        if self.runner != "cli":
            argv = [PY, str(BENCH_DIR / "_contenders.py"), self.runner, "--base-url", base_url]
            argv += ["--from", from_, "--to", to, "--page-size", str(page_size)]
            return [*argv, "--window", self.window, "--concurrency", str(self.concurrency)]
        exe = Path(PY).parent / "webex-events"
        if self.untuned:
            cmd = [PY, "-c", UNTUNED_CLI]
        else:
            cmd = [str(exe)] if exe.exists() else [PY, "-m", "webex_events"]
        cmd += ["export", "--base-url", base_url, "--from", from_, "--to", to, "--page-size", str(page_size)]
        if self.concurrency > 1:
            cmd += ["--concurrency", str(self.concurrency)]
        if self.stdout:  # exec: the shell becomes the CLI, so wait4's rusage is the CLI's own
            return ["/bin/sh", "-c", 'exec "$@" > "$0"', str(output), *cmd]
        return [*cmd, "--output", str(output)]


def contenders(c: int) -> list[Contender]:
    """The throughput table's rows: the peers, then ours at their defaults, then at ``c``."""
    return [
        Contender("sdk", "webexpythonsdk 2.0.6 `api.events.list`", "sdk"),
        Contender("httpx", "plain httpx loop (Link headers)", "httpx"),
        Contender("ours_seq", "`WebexEvents` sequential (`concurrency=1`)", "ours"),
        Contender("ours_default", "`WebexEvents` defaults (from_/to only)", "ours", "default"),
        Contender("ours_async_default", "`AsyncWebexEvents` defaults", "ours_async", "default"),
        Contender("cli_default", "`webex-events export` defaults, JSONL to a file", "cli"),
        Contender("cli_stdout", "`webex-events export` defaults, JSONL to stdout", "cli", stdout=True),
        Contender("ours_conc", f"`WebexEvents` `concurrency={c}`", "ours", "auto", c),
        Contender("ours_async", f"`AsyncWebexEvents` `concurrency={c}`", "ours_async", "auto", c),
        Contender("cli", f"`webex-events export --concurrency {c}`", "cli", "auto", c),
    ]


def available(contender: Contender) -> str | None:
    """None if the contender can run in this environment, else why not."""
    module = {"sdk": "webexpythonsdk", "httpx": "httpx", "cli": "click"}.get(contender.runner, "webex_events")
    return None if importlib.util.find_spec(module) else f"{module} is not installed"


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    events: int
    exact: bool
    error: str | None = None
    requests: int = 0


def measure(
    contender: Contender, server: FakeServer, *, page_size: int, expected: dict[str, Any], args: Any
) -> Sample:
    """One run of ``contender`` against ``server`` (its counters reset first)."""
    server.command("reset")
    from_, to = listing_range(args.days)
    with tempfile.TemporaryDirectory(prefix="webex-bench-") as tmp:
        output = Path(tmp) / "events.jsonl"
        argv = contender.argv(server.base_url, from_, to, page_size, output)
        run = run_child(argv, timeout=args.timeout, env=child_env(**dict(contender.env)))
        error = None
        if contender.runner == "cli":
            wall = run.wall  # the CLI's whole life: what a user waits for
            got = jsonl_digest(output) if run.returncode == 0 and output.exists() else {}
        else:
            wall = run.result["wall"] if run.result else run.wall  # the listing, imports excluded
            got = {k: run.result[k] for k in ("count", "digest")} if run.result else {}
            error = run.result.get("error") if run.result else None
        if not got:
            error = f"exit {run.returncode}: {run.stderr_tail.strip()[-300:]}"
    exact = got == expected and error is None
    requests = server.command("stats")["requests"]
    return Sample(wall, run.cpu, run.max_rss_mb, got.get("count", 0), exact, error, requests)


def section_throughput(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    chosen, skipped = [], {}
    for c in contenders(args.concurrency):
        why = available(c)
        if why:
            skipped[c.key] = why
            log(f"  skip {c.key}: {why}")
        else:
            chosen.append(c)
    log(f"throughput: {args.events} events over {args.days:g} days, latency {args.latency}s")
    samples: dict[str, list[Sample]] = {c.key: [] for c in chosen}
    with FakeServer(events=args.events, days=args.days, latency=args.latency) as server:
        log(f"  fake server up in {server.build_s:.1f}s at {server.base_url}")
        expected = server.command("expected {} {}".format(*listing_range(args.days)))
        for r in range(args.rounds):  # alternate the order: drift in the machine's load hits all alike
            for c in chosen if r % 2 == 0 else reversed(chosen):
                s = measure(c, server, page_size=args.page_size, expected=expected, args=args)
                samples[c.key].append(s)
                log(
                    f"  round {r + 1} {c.key:18s} wall {s.wall:6.2f}s cpu {s.cpu:5.2f}s rss {s.rss_mb:5.1f}MB"
                    f" requests {s.requests} exact={s.exact}" + (f" ERROR {s.error}" if s.error else "")
                )
    rows = []
    for c in chosen:
        runs = samples[c.key]
        rows.append(
            {"key": c.key, "label": c.label, "events": runs[0].events, "exact": all(s.exact for s in runs)}
            | {
                k: statistics.median(getattr(s, k) for s in runs)
                for k in ("wall", "cpu", "rss_mb", "requests")
            }
            | {"walls": [round(s.wall, 3) for s in runs], "errors": [s.error for s in runs if s.error]}
        )
    min_pages = max(1, -(-expected["count"] // args.page_size))
    keys = ("events", "days", "latency", "page_size", "concurrency", "rounds")
    return {k: getattr(args, k) for k in keys} | {"min_pages": min_pages, "rows": rows, "skipped": skipped}


def section_cpu(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    sizes = []
    for n in args.cpu_events:
        log(f"cpu: typed and raw listings vs json.loads, {n} events, {args.cpu_reps} repetitions")
        argv = [PY, str(BENCH_DIR / "_cpu.py"), "--events", str(n), "--reps", str(args.cpu_reps)]
        run = run_child(argv, timeout=args.timeout, env=child_env())
        if run.result is None:
            log(f"  failed: {run.stderr_tail}")
            sizes.append({"events": n, "error": run.stderr_tail})
            continue
        for row in run.result["rows"]:
            log(f"  {row['key']:10s} {row['us_per_event']:6.2f} us/event  {row['ratio']:.2f}x json.loads")
        sizes.append(run.result)
    return {"sizes": sizes}


#: The memory section's CLI variants: (key, label, untuned, environment).
MEMORY_VARIANTS = (
    ("tuned", "as shipped (its malloc tuning on)", False, ()),
    ("untuned", "malloc tuning off (glibc defaults)", True, ()),
    ("arena2", "malloc tuning off, `MALLOC_ARENA_MAX=2`", True, (("MALLOC_ARENA_MAX", "2"),)),
)


def section_memory(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    conc = args.memory_concurrency
    if why := available(Contender("cli", "", "cli")):
        log(f"memory: skipped ({why})")
        return {"skipped": why}
    rows = []
    for n in args.memory_events:
        log(
            f"memory: CLI export of {n} events, latency 0, concurrency {conc or 'default'}, "
            f"{args.memory_runs} runs"
        )
        # Bytes not cached: every export pays the same serving, whichever variant goes first.
        with FakeServer(events=n, days=args.days, latency=0.0, warm=False, cache_json="off") as server:
            expected = server.command("expected {} {}".format(*listing_range(args.days)))
            for run in range(1, args.memory_runs + 1):
                for key, label, untuned, env in MEMORY_VARIANTS[:: 1 if run % 2 else -1]:
                    cli = Contender(key, label, "cli", "auto", conc, untuned=untuned, env=env)
                    s = measure(cli, server, page_size=1000, expected=expected, args=args)
                    log(
                        f"  {n} events, {key:8s} run {run}: peak RSS {s.rss_mb:6.1f} MB, wall {s.wall:5.1f}s,"
                        f" cpu {s.cpu:5.1f}s, exact={s.exact}" + (f" ERROR {s.error}" if s.error else "")
                    )
                    rows.append(
                        {"variant": key, "label": label, "events": n, "run": run, "rss_mb": s.rss_mb}
                        | {"wall": s.wall, "cpu": s.cpu, "exact": s.exact, "error": s.error}
                    )
    return {"concurrency": conc, "runs": args.memory_runs, "rows": rows}


def section_rate(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    r, page = args.rate_limit, args.rate_page_size
    events = int(r * args.rate_seconds * page)
    keys = ("sdk", "httpx", "ours_seq", "ours_default", "ours_async_default")
    chosen = [c for c in contenders(args.concurrency) if c.key in keys]
    log(f"rate: limit {r}/s, latency {args.rate_latency}s, {events} events, page size {page}")
    rows = []
    with FakeServer(
        events=events, days=args.days, latency=args.rate_latency, rate_limit=r, retry_after="1"
    ) as server:
        expected = server.command("expected {} {}".format(*listing_range(args.days)))
        for c in chosen:
            if available(c):
                continue
            time.sleep(1.1)  # a fresh rate window and no pending Retry-After from the previous run
            s = measure(c, server, page_size=page, expected=expected, args=args)
            st = server.command("stats")
            ok = st["statuses"].get("200", 0)
            rate = ok / s.wall if s.wall > 0 else 0.0
            rows.append(
                {"key": c.key, "label": c.label, "wall": s.wall, "ok": ok, "rate_ratio": rate / r}
                | {"min_requests": -(-expected["count"] // page), "rate_limited": st["rate_limited"]}
                | {"early": st["early_requests"], "exact": s.exact, "error": s.error}
            )
            log(
                f"  {c.key:18s} wall {s.wall:6.2f}s ok {ok} = {rate / r:4.0%} of R,"
                f" 429s {st['rate_limited']}, early {st['early_requests']}, exact={s.exact}"
                + (f" ERROR {s.error}" if s.error else "")
            )
    return {"rate_limit": r, "latency": args.rate_latency, "events": events, "page_size": page, "rows": rows}


def guard(
    name: str, value: float | None, op: str, goal: float, shown: str = "", unit: str = "x"
) -> dict[str, Any]:
    """One guard: ``value op goal`` (op ``>=`` or ``<=``); value None: not measured in this run.

    >>> guard("g", 1.43, "<=", 1.3)["met"], guard("g", 7.0, ">=", 6, unit=" MB")["bound"]
    (False, '≥ 6 MB')
    """
    met = None if value is None else value >= goal if op == ">=" else value <= goal
    return {
        "guard": name,
        "value": value,
        "measured": shown or ("not measured" if value is None else f"{value:.2f}{unit}"),
        "bound": f"{'≥' if op == '>=' else '≤'} {goal:g}{unit}",
        "met": met,
    }


def guards(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The guards, each met, missed, or not measured (None) in this run."""
    tp = report.get("throughput") or {"rows": [], "min_pages": 1}
    rows = {r["key"]: r for r in tp["rows"]}
    sdk = rows.get("sdk")

    def speedup(key: str) -> float | None:
        return sdk["wall"] / rows[key]["wall"] if sdk and key in rows and rows[key]["wall"] > 0 else None

    out = [
        guard(f"{what} ≥ {DEFAULTS_SPEEDUP:g}x webexpythonsdk (wall)", speedup(key), ">=", DEFAULTS_SPEEDUP)
        for key, what in (
            ("ours_default", "Library defaults, sync"),
            ("ours_async_default", "Library defaults, async"),
            ("cli_default", "CLI defaults, JSONL to a file"),
            ("cli_stdout", "CLI defaults, JSONL to stdout"),
        )
    ]
    for sync, async_, what in (
        ("ours_default", "ours_async_default", "defaults"),
        ("ours_conc", "ours_async", f"concurrency {tp.get('concurrency')}"),
    ):
        ratio = rows[sync]["wall"] / rows[async_]["wall"] if sync in rows and async_ in rows else None
        out.append(guard(f"Async ÷ sync (sync wall ÷ async wall), {what}", ratio, ">=", ASYNC_SYNC))
    ours = {k: r["requests"] / tp["min_pages"] for k, r in rows.items() if k.startswith(("ours", "cli"))}
    worst = max(ours, key=ours.__getitem__) if ours else None
    shown = f"{ours[worst]:.2f}x (`{worst}`; minimum {tp['min_pages']})" if worst else ""
    out.append(
        guard(
            "Requests ÷ minimum, worst of ours", ours[worst] if worst else None, "<=", REQUESTS_RATIO, shown
        )
    )
    exact = all(r["exact"] for r in rows.values()) if rows else None
    shown = {True: "yes", False: "**no**", None: "not measured"}[exact]
    out.append({"guard": "Every throughput run exact", "measured": shown, "bound": "yes", "met": exact})
    sizes = [s for s in (report.get("cpu") or {}).get("sizes", []) if "rows" in s]
    for key, bound in (("typed", CPU_TYPED), ("raw", CPU_RAW)):
        ratios = {s["events"]: r["ratio"] for s in sizes for r in s["rows"] if r["key"] == key}
        shown = "; ".join(f"{v:.2f}x at {n:,}" for n, v in ratios.items())
        worst_cpu = max(ratios.values()) if ratios else None
        out.append(guard(f"CPU per {key} event ÷ `json.loads`, worst count", worst_cpu, "<=", bound, shown))
    mem = [
        r["rss_mb"]
        for r in (report.get("memory") or {}).get("rows", [])
        if r["variant"] == "tuned" and r["events"] == CLI_RSS_EVENTS
    ]
    name = f"CLI peak RSS at {CLI_RSS_EVENTS:,} events, as shipped (highest run)"
    out.append(
        guard(name, max(mem) if mem else None, "<=", CLI_RSS_MB, f"{max(mem):.1f} MB" if mem else "", " MB")
    )
    return out


def _x(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [
        f"# webex-events benchmarks ({report['mode']})",
        "",
        f"{m['when']} · Python {m['python']} · {m['cpus']} CPUs, shared with the fake server under test: "
        "compare ratios within a run, not seconds. Method: `bench/README.md`.",
        "",
        "## Guards",
        "",
        *(
            ["**Quick run**: too small for the guards (startup weighs); verdicts only indicate.", ""]
            if report["mode"] == "quick"
            else []
        ),
        "| guard | measured | bound | verdict |",
        "|---|---|---|:-:|",
    ]
    for g in report["guards"]:
        verdict = {True: "met", False: "**missed**", None: "not measured"}[g["met"]]
        out.append(f"| {g['guard']} | {g['measured']} | {g['bound']} | {verdict} |")
    tp = report.get("throughput")
    if tp:
        sdk = next((r for r in tp["rows"] if r["key"] == "sdk"), None)
        out += [
            "",
            f"## Throughput: {tp['events']:,} events over {tp['days']:g} days, {tp['latency'] * 1000:.0f} ms "
            f"per request, page size {tp['page_size']}, median of {tp['rounds']} round(s)",
            "",
            "Each contender in its own process. Wall: the listing, imports excluded (the CLI: the whole "
            "process). CPU and peak RSS: the whole process. Exact: the server's ids, each once.",
            "",
            "| contender | wall s | events/s | speedup vs SDK | CPU s | peak RSS MB | requests ÷ min "
            "| exact |",
            "|---|---:|---:|---:|---:|---:|---:|:-:|",
        ]
        for r in tp["rows"]:
            sp = _x(sdk["wall"] / r["wall"]) if sdk and r["wall"] > 0 else "n/a"
            out.append(
                f"| {r['label']} | {r['wall']:.2f} | {r['events'] / max(r['wall'], 1e-9):,.0f} | {sp} "
                f"| {r['cpu']:.2f} | {r['rss_mb']:.0f} | {r['requests'] / tp['min_pages']:.2f}x "
                f"| {'yes' if r['exact'] else '**NO**'} |"
            )
        out += [f"| {key} | skipped: {why} | | | | | | |" for key, why in tp["skipped"].items()]
    sizes = [s for s in (report.get("cpu") or {}).get("sizes", []) if "rows" in s]
    if sizes:
        out += [
            "",
            "## CPU per event (in process, recorded pages replayed, `time.process_time`)",
            "",
            "Ratio: median over repetitions of the row's CPU ÷ `json.loads` of the same pages timed just "
            f"before it; µs: the best repetition. orjson installed: {'yes' if sizes[0]['orjson'] else 'no'}.",
            "",
            "| path | "
            + " | ".join(f"µs/event {s['events']:,} | ÷ json.loads {s['events']:,}" for s in sizes)
            + " |",
            "|---|" + "---:|---:|" * len(sizes),
        ]
        for row in sizes[0]["rows"]:
            cells = [
                f"{r['us_per_event']:.2f} | {r['ratio']:.2f}x"
                for s in sizes
                for r in s["rows"]
                if r["key"] == row["key"]
            ]
            out.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    mem = report.get("memory") or {}
    if mem.get("rows"):
        conc = mem["concurrency"] or "the CLI's default"
        out += [
            "",
            f"## Memory: CLI export, latency 0, concurrency: {conc}, {mem['runs']} run(s) each",
            "",
            "Peak RSS of the CLI process (wait4). Tuning: `webex_events/cli/_malloc.py` (glibc's malloc "
            "arenas capped at 2); off: `limit_malloc_arenas` made a no-op.",
            "",
            "| CLI | events | peak RSS MB (highest) | each run MB | wall s (median) | CPU s (median) "
            "| exact |",
            "|---|---:|---:|---|---:|---:|:-:|",
        ]
        groups: dict[tuple[int, str], list[dict[str, Any]]] = {}  # in the order measured
        for r in mem["rows"]:
            groups.setdefault((r["events"], r["label"]), []).append(r)
        for (n, label), runs in groups.items():
            each = ", ".join(f"{r['rss_mb']:.1f}" for r in runs)
            wall, cpu = (statistics.median(r[k] for r in runs) for k in ("wall", "cpu"))
            out.append(
                f"| {label} | {n:,} | {max(r['rss_mb'] for r in runs):.1f} | {each} | {wall:.1f} | {cpu:.1f} "
                f"| {'yes' if all(r['exact'] for r in runs) else '**NO**'} |"
            )
    rate = report.get("rate") or {}
    if rate.get("rows"):
        out += [
            "",
            f"## Rate limit: {rate['rate_limit']:g} requests/s (fixed 1 s windows, `Retry-After: 1`), "
            f"{rate['latency'] * 1000:.0f} ms latency, {rate['events']:,} events, "
            f"page size {rate['page_size']}",
            "",
            "| contender | wall s | 200s ÷ minimum | 200s/s ÷ limit | 429s | early requests | exact |",
            "|---|---:|---:|---:|---:|---:|:-:|",
        ]
        out += [
            f"| {r['label']} | {r['wall']:.2f} | {r['ok'] / r['min_requests']:.2f}x | {r['rate_ratio']:.0%} "
            f"| {r['rate_limited']} | {r['early']} | {'yes' if r['exact'] else '**NO**'} |"
            for r in rate["rows"]
        ]
    return "\n".join(out) + "\n"


class Log:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {text}", file=sys.stderr, flush=True)


SECTIONS = {
    "throughput": section_throughput,
    "cpu": section_cpu,
    "memory": section_memory,
    "rate": section_rate,
}


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run (a minute or two)")
    p.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {list(SECTIONS)}"
    )
    p.add_argument("--events", type=int, help="throughput: events (default 100000; quick 20000)")
    p.add_argument("--days", type=float, default=30.0, help="the span the fake's events are spread over")
    p.add_argument("--latency", type=float, default=0.1, help="throughput: seconds per request")
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16, help="throughput: the rows beside the defaults")
    p.add_argument("--rounds", type=int, help="throughput rounds, median reported (default 3; quick 1)")
    p.add_argument("--cpu-events", type=_ints, help="cpu: event counts (default 100000; quick 20000)")
    p.add_argument("--cpu-reps", type=int, help="cpu: repetitions (default 5; quick 3)")
    p.add_argument(
        "--memory-events", type=_ints, help="memory: counts (default 100000,1000000; quick 100000)"
    )
    p.add_argument("--memory-runs", type=int, help="memory: runs of each variant (default 2; quick 1)")
    p.add_argument(
        "--memory-concurrency", type=int, default=0, help="memory: the CLI's --concurrency (0: default)"
    )
    p.add_argument("--rate-limit", type=float, default=20.0, help="rate: requests per second")
    p.add_argument("--rate-latency", type=float, default=0.02)
    p.add_argument("--rate-page-size", type=int, default=100)
    p.add_argument(
        "--rate-seconds", type=float, help="rate: a run's length at the limit (default 15; quick 4)"
    )
    p.add_argument("--timeout", type=float, default=600.0, help="per subprocess")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory of latest.md / latest.json")
    args = p.parse_args(argv)
    q = args.quick
    args.events = args.events or (20_000 if q else 100_000)
    args.rounds = args.rounds or (1 if q else 3)
    args.cpu_events = args.cpu_events or ([20_000] if q else [100_000])
    args.cpu_reps = args.cpu_reps or (3 if q else 5)
    args.memory_events = args.memory_events or ([100_000] if q else [100_000, 1_000_000])
    args.memory_runs = args.memory_runs or (1 if q else 2)
    args.rate_seconds = args.rate_seconds or (4.0 if q else 15.0)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if unknown := set(args.sections) - set(SECTIONS):
        p.error(f"unknown sections: {sorted(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    log = Log()
    report: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "machine": {
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
        },
        "args": {k: v for k, v in vars(args).items() if k != "out"},
    }
    for name, section in SECTIONS.items():
        if name in args.sections:
            report[name] = section(args, log)
    report["guards"] = guards(report)
    report["elapsed_s"] = time.perf_counter() - log.t0
    report["machine"]["load_avg_at_end"] = os.getloadavg()
    markdown = render(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(markdown, encoding="utf-8")
    (args.out / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(markdown)
    log(f"done in {report['elapsed_s']:.0f}s; wrote {args.out / 'latest.md'} and latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
