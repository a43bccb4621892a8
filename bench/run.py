"""Benchmarks of webex-events against the peers: throughput, CPU per event, memory, rate limits.

``python bench/run.py`` (full, ~11-12 min on 2 cores) or ``python bench/run.py --quick`` (< 2 min).
Writes ``bench/results/latest.md`` and ``bench/results/latest.json`` and prints the markdown, which
opens with issue 13's must-show: each target, what this run measured, met or **not met**.

Sections (``--sections``, default all):

* ``throughput``: every contender lists the same range of a fake server (own process, fixed end,
  seed 1, warmed, ``--latency`` per request; 100 000 events over 30 days by default) in its OWN
  subprocess; wall time, events/s, CPU seconds and peak RSS of the whole process (``os.wait4``
  rusage), and whether the ids equal the server's (order-independent multiset digest); ratios
  against webexpythonsdk. On the same server, in the same rounds: a sweep of ``WebexEvents`` and
  ``AsyncWebexEvents`` with window="auto" at ``--sweep`` concurrencies, each against its limit
  ``ceil(minimum pages ÷ concurrency) * latency + decode floor`` (the typed path's CPU per event,
  from the cpu section, times the events).
* ``cpu``: CPU per typed event ÷ CPU per ``json.loads`` of the same page bytes, in process, at
  each ``--cpu-events`` count (every row at the first; typed and raw only at the others).
* ``memory``: peak RSS of the CLI export of ``--memory-events`` (latency 0, the CLI's defaults
  unless ``--memory-concurrency``), ``--memory-runs`` runs each, and its growth between counts.
* ``rate``: under a server rate limit R: achieved request rate ÷ R, 429s and early requests.

The machine is shared: read ratios measured side by side in one run, not absolute numbers.
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from _common import BENCH_DIR, END, RESULTS_DIR, IdDigest, child_env, iso_ms, parse_result

PY = sys.executable

# ---- processes ------------------------------------------------------------------------------------


@dataclass
class ChildRun:
    """One finished subprocess: its own rusage (exact, from wait4) and its RESULT line, if any."""

    returncode: int
    wall: float  # measured by the parent: process start to exit (imports included)
    cpu: float  # user + system seconds of that process only
    max_rss_mb: float
    result: dict[str, Any] | None
    stderr_tail: str


def run_child(argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None) -> ChildRun:
    """Run ``argv`` and reap it with ``os.wait4`` so its rusage is its own (not all children's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env or child_env()
        )
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
        stderr = err.read()
        return ChildRun(
            returncode=proc.returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,  # kB on Linux
            result=parse_result(out.read()),
            stderr_tail=stderr[-600:],
        )


class FakeServer:
    """``bench/_server.py`` in a child process; ``command()`` talks to it over stdin/stdout."""

    def __init__(
        self,
        *,
        events: int,
        days: float,
        latency: float,
        rate_limit: float | None = None,
        retry_after: str | None = None,
        warm: bool = True,
    ) -> None:
        argv = [PY, str(BENCH_DIR / "_server.py"), "--events", str(events), "--days", str(days)]
        argv += ["--latency", str(latency)]
        if rate_limit is not None:
            argv += ["--rate-limit", str(rate_limit)]
        if retry_after is not None:
            argv += ["--retry-after", retry_after]
        if warm:
            argv.append("--warm")
        self.events, self.days = events, days
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env(), bufsize=1
        )
        self._stdin: IO[str] = self._proc.stdin  # type: ignore[assignment]
        self._stdout: IO[str] = self._proc.stdout  # type: ignore[assignment]
        line = self._stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError(f"fake server did not start: {line!r}")
        info = json.loads(line[len("READY ") :])
        self.base_url: str = info["base_url"]
        self.build_s: float = info["build_s"]

    def command(self, text: str) -> dict[str, Any]:
        self._stdin.write(text + "\n")
        self._stdin.flush()
        reply: dict[str, Any] = json.loads(self._stdout.readline())
        return reply

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ---- contenders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    runner: str  # a _contenders.py runner, or "cli"
    window: str = "none"  # "default": no window= argument (the library's default)
    concurrency: int = 1  # 0: no concurrency= argument (the default)
    stdout: bool = False  # cli: export to stdout (redirected to the output file)

    def argv(self, base_url: str, from_: str, to: str, page_size: int, output: Path) -> list[str]:
        if self.runner == "cli":
            exe = Path(PY).parent / "webex-events"
            cmd = [str(exe)] if exe.exists() else [PY, "-m", "webex_events.cli"]
            cmd += ["export", "--base-url", base_url, "--from", from_, "--to", to]
            cmd += ["--page-size", str(page_size)]
            if self.concurrency > 1:
                cmd += ["--concurrency", str(self.concurrency)]
            if self.stdout:
                # exec: the shell becomes the CLI, so wait4's rusage is the CLI's own.
                return ["/bin/sh", "-c", 'exec "$@" > "$0"', str(output), *cmd]
            return [*cmd, "--output", str(output)]
        return [
            PY,
            str(BENCH_DIR / "_contenders.py"),
            self.runner,
            "--base-url",
            base_url,
            "--from",
            from_,
            "--to",
            to,
            "--page-size",
            str(page_size),
            "--window",
            self.window,
            "--concurrency",
            str(self.concurrency),
        ]


def contenders(concurrency: int, reference_h: str = "6") -> list[Contender]:
    c = concurrency
    return [
        Contender("sdk", "webexpythonsdk 2.0.6 `api.events.list`", "sdk"),
        Contender("httpx", "plain httpx loop (Link headers)", "httpx"),
        Contender("ours_seq", "`WebexEvents` sequential", "ours"),
        Contender("ours_default", "`WebexEvents` defaults (from_/to only)", "ours", "default", 0),
        Contender(
            "ours_async_default", "`AsyncWebexEvents` defaults (from_/to only)", "ours_async", "default", 0
        ),
        Contender("cli_default", "CLI `webex-events export` JSONL to a file, defaults", "cli", concurrency=0),
        Contender(
            "cli_stdout",
            "CLI `webex-events export` JSONL to stdout, defaults",
            "cli",
            concurrency=0,
            stdout=True,
        ),
        Contender("ours_conc", f"`WebexEvents` window=auto, concurrency={c}", "ours", "auto", c),
        Contender("ours_async", f"`AsyncWebexEvents` window=auto, concurrency={c}", "ours_async", "auto", c),
        Contender("cli", f"CLI `webex-events export` JSONL, concurrency={c}", "cli", "auto", c),
        Contender(
            REFERENCE,
            f"reference: minimal threaded httpx, {c} threads, fixed {reference_h} h windows, orjson",
            "httpx_threads",
            reference_h,
            c,
        ),
    ]


#: Not a contender for users: what a minimal client that does less than ours reaches on this
#: machine in the same run (see ``_contenders.run_httpx_threads``): 10x at 100 ms needs ~1.4 s
#: of wall, and the machine's 2 CPUs are shared with the server.
REFERENCE = "httpx_threads"
#: Its fixed windows are sized by hand for the data to hold this share of a page each (the bench's
#: 100k events over 30 days: 6 h windows of about 830 events, 120 requests).
REFERENCE_FILL = 0.83


def reference_window_h(*, events: int, days: float, page_size: int) -> str:
    """The reference client's window in hours for evenly spread events.

    >>> reference_window_h(events=100_000, days=30, page_size=1000)
    '5.98'
    """
    return f"{days * 24 * page_size * REFERENCE_FILL / max(events, 1):.3g}"


@dataclass(frozen=True)
class SweepPoint:
    """One concurrency of the sweep: its sync and async contenders, and the reference beside them."""

    concurrency: int
    sync: Contender
    async_: Contender
    reference: Contender


def sweep(concurrencies: Sequence[int], concurrency: int, reference_h: str = "6") -> list[SweepPoint]:
    """``WebexEvents`` and ``AsyncWebexEvents`` with window="auto" at each concurrency.

    Beside them, the reference client at the same concurrency (not a target): what a client doing
    less than ours gets from this machine against the same limit. At ``concurrency`` (the main
    table's) the sweep reuses ``ours_conc``/``ours_async``/the reference: none is run twice.
    """
    by_key = {c.key: c for c in contenders(concurrency, reference_h)}
    points = []
    for c in concurrencies:
        if c == concurrency:
            points.append(SweepPoint(c, by_key["ours_conc"], by_key["ours_async"], by_key[REFERENCE]))
            continue
        points.append(
            SweepPoint(
                c,
                Contender(
                    f"ours_conc_c{c}", f"`WebexEvents` window=auto, concurrency={c}", "ours", "auto", c
                ),
                Contender(
                    f"ours_async_c{c}",
                    f"`AsyncWebexEvents` window=auto, concurrency={c}",
                    "ours_async",
                    "auto",
                    c,
                ),
                Contender(
                    f"{REFERENCE}_c{c}",
                    f"reference: minimal threaded httpx, {c} threads, fixed {reference_h} h windows, orjson",
                    "httpx_threads",
                    reference_h,
                    c,
                ),
            )
        )
    return points


def available(contender: Contender) -> str | None:
    """None if the contender can run in this environment, else why not (peers first, then ours)."""
    module = {
        "sdk": "webexpythonsdk",
        "httpx": "httpx",
        "httpx_threads": "httpx",
        "ours": "webex_events._client",
        "ours_async": "webex_events._async_client",
        "cli": "webex_events.cli",
    }[contender.runner]
    probe = subprocess.run(
        [PY, "-c", f"import {module}"], capture_output=True, text=True, env=child_env(), check=False
    )
    return (
        None if probe.returncode == 0 else f"cannot import {module}: {probe.stderr.strip().splitlines()[-1:]}"
    )


def jsonl_digest(path: Path) -> dict[str, Any]:
    digest = IdDigest()
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                digest.add(json.loads(line)["id"])
    return digest.as_dict()


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    events: int
    exact: bool
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def measure(
    contender: Contender,
    server: FakeServer,
    *,
    from_: str,
    to: str,
    page_size: int,
    expected: dict[str, Any],
    timeout: float,
) -> Sample:
    with tempfile.TemporaryDirectory(prefix="webex-bench-") as tmp:
        output = Path(tmp) / "events.jsonl"
        run = run_child(contender.argv(server.base_url, from_, to, page_size, output), timeout=timeout)
        error = None
        extra: dict[str, Any] = {}
        if contender.runner == "cli":
            wall = run.wall  # the CLI's whole life: what a user waits for
            if run.returncode == 0 and output.exists():
                got = jsonl_digest(output)
            else:
                got = {"count": 0, "digest": ""}
                error = f"exit {run.returncode}: {run.stderr_tail.strip()[-300:]}"
        elif run.result is None:
            wall, got = run.wall, {"count": 0, "digest": ""}
            error = f"exit {run.returncode}: {run.stderr_tail.strip()[-300:]}"
        else:
            wall = run.result["wall"]
            got = {"count": run.result["count"], "digest": run.result["digest"]}
            error = run.result.get("error")
            extra = {k: v for k, v in run.result.items() if k not in ("wall", "count", "digest", "error")}
        exact = got == expected and error is None
        return Sample(wall, run.cpu, run.max_rss_mb, got["count"], exact, extra, error)


# ---- sections --------------------------------------------------------------------------------------


def section_throughput(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    days = args.days
    from_, to = iso_ms(END - timedelta(days=days)), iso_ms(END)
    reference_h = reference_window_h(events=args.events, days=days, page_size=args.page_size)
    points = sweep(args.sweep, args.concurrency, reference_h)
    extra = [
        x for p in points for x in (p.sync, p.async_, p.reference) if x.key.endswith(f"_c{p.concurrency}")
    ]
    chosen = [
        c
        for c in contenders(args.concurrency, reference_h) + extra
        if not args.only or c.key in args.only or ("sweep" in args.only and c in extra)
    ]
    skipped = {}
    runnable = []
    for c in chosen:
        why = available(c)
        if why:
            skipped[c.key] = why
            log(f"  skip {c.key}: {why}")
        else:
            runnable.append(c)
    log(
        f"throughput: {args.events} events over {days} days, "
        f"latency {args.latency}s, page size {args.page_size}"
    )
    samples: dict[str, list[Sample]] = {c.key: [] for c in runnable}
    with FakeServer(events=args.events, days=days, latency=args.latency) as server:
        log(f"  fake server up in {server.build_s:.1f}s at {server.base_url}")
        expected = server.command(f"expected {from_} {to}")
        for r in range(args.rounds):
            order = runnable if r % 2 == 0 else list(reversed(runnable))
            for c in order:
                server.command("reset")
                s = measure(
                    c,
                    server,
                    from_=from_,
                    to=to,
                    page_size=args.page_size,
                    expected=expected,
                    timeout=args.timeout,
                )
                s.extra["server_requests"] = server.command("stats")["requests"]
                samples[c.key].append(s)
                log(
                    f"  round {r + 1} {c.key:11s} wall {s.wall:7.2f}s cpu {s.cpu:6.2f}s "
                    f"rss {s.rss_mb:6.1f}MB "
                    f"events {s.events} exact={s.exact} requests {s.extra['server_requests']}"
                    + (f" ERROR {s.error}" if s.error else "")
                )
    rows = []
    for c in runnable:
        runs = samples[c.key]
        rows.append(
            {
                "key": c.key,
                "label": c.label,
                "wall": statistics.median(s.wall for s in runs),
                "cpu": statistics.median(s.cpu for s in runs),
                "rss_mb": statistics.median(s.rss_mb for s in runs),
                "events": runs[0].events,
                "exact": all(s.exact for s in runs),
                "walls": [round(s.wall, 3) for s in runs],
                "extra": runs[-1].extra,
                "requests": statistics.median(s.extra["server_requests"] for s in runs),
                "errors": [s.error for s in runs if s.error],
            }
        )
    return {
        "events": args.events,
        "days": days,
        "latency": args.latency,
        "page_size": args.page_size,
        "concurrency": args.concurrency,
        "reference_window_h": reference_h,
        "rounds": args.rounds,
        "expected": expected,
        "min_pages": max(1, -(-expected["count"] // args.page_size)),
        "rows": rows,
        "sweep_points": [
            {
                "concurrency": p.concurrency,
                "sync": p.sync.key,
                "async": p.async_.key,
                "reference": p.reference.key,
            }
            for p in points
        ],
        "skipped": skipped,
    }


#: Issue 13: typed events ≤ 1.2x ``json.loads``, raw ≤ 1.5x (orjson installed), at 100k and 1M.
CPU_TARGET_COUNTS = (100_000, 1_000_000)
CPU_TYPED_TARGET = 1.2
CPU_RAW_TARGET = 1.5
#: The rows run at the second and further ``--cpu-events`` sizes (``json_loads`` always runs).
CPU_LARGE_ROWS = "ours_typed,ours_typed_gc_off,ours_raw"


def orjson_installed() -> bool:
    probe = [PY, "-c", "import orjson"]
    return subprocess.run(probe, capture_output=True, env=child_env(), check=False).returncode == 0


def run_cpu(
    events: int, reps: int, *, only: str | None, timeout: float, profile: Path | None = None
) -> dict[str, Any]:
    """``bench/_cpu.py`` in its own process: its RESULT, or ``{"error": ...}``."""
    argv = [PY, str(BENCH_DIR / "_cpu.py"), "--events", str(events), "--reps", str(reps)]
    if only:
        argv += ["--only", only]
    if profile is not None:
        argv += ["--profile", str(profile)]
    run = run_child(argv, timeout=timeout)
    if run.result is None:
        return {"events": events, "reps": reps, "error": run.stderr_tail}
    return run.result | {"only": only}


def section_cpu(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    """``bench/_cpu.py`` at each ``--cpu-events`` size: every row at the first, the typed and raw
    rows at the others (``--cpu-reps-large`` repetitions: the slow rows would take minutes at 1M)."""
    sizes = []
    for i, n in enumerate(args.cpu_events):
        first = i == 0
        reps = args.cpu_reps if first else args.cpu_reps_large
        only = None if first else CPU_LARGE_ROWS
        what = "every row" if first else f"rows {only}"
        log(f"cpu: typed events vs json.loads, {n} events, {reps} repetitions, {what}")
        profile = RESULTS_DIR / "typed-path.prof.txt" if args.profile and first else None
        result = run_cpu(n, reps, only=only, timeout=args.timeout, profile=profile)
        if "error" in result:
            log(f"  cpu benchmark failed: {result['error']}")
        for row in result.get("rows", []):
            log(f"  {row['key']:22s} {row['us_per_event']:7.2f} us/event  x{row['ratio']:.2f} of json.loads")
        sizes.append(result)
    return {"orjson": orjson_installed(), "sizes": sizes}


def cpu_row(cpu: dict[str, Any] | None, events: int, key: str) -> dict[str, Any] | None:
    """The row ``key`` of the cpu section's run at ``events`` (None when not measured)."""
    for size in (cpu or {}).get("sizes", []):
        if size.get("events") == events:
            for row in size.get("rows", []):
                if row["key"] == key:
                    return dict(row)
    return None


def decode_floor(args: argparse.Namespace, report: dict[str, Any], log: Log) -> dict[str, Any]:
    """The client's CPU to decode and touch the throughput's events: the typed path's µs/event
    (``ours_typed`` of ``bench/_cpu.py``) times the events. From the cpu section of this run when it ran
    (its size nearest the throughput's count), else measured now with a short ``_cpu.py`` run."""
    events = report["throughput"]["expected"]["count"]
    measured = [
        (size, row)
        for size in (report.get("cpu") or {}).get("sizes", [])
        for row in size.get("rows", [])
        if row["key"] == "ours_typed"
    ]
    if measured:
        size, row = min(measured, key=lambda m: abs(m[0]["events"] - events))
        source = (
            f"the cpu section of this run (`ours_typed` at {size['events']:,} events, best of {size['reps']})"
        )
    else:
        reps = 2 if args.quick else 3
        log(f"decode floor: bench/_cpu.py --events {events} --reps {reps} --only ours_typed")
        size = run_cpu(events, reps, only="ours_typed", timeout=args.timeout)
        row = next((r for r in size.get("rows", []) if r["key"] == "ours_typed"), None)
        if row is None:
            log(f"  decode floor not measured: {size.get('error', 'no ours_typed row')}")
            return {"error": size.get("error", "no ours_typed row")}
        source = f"`bench/_cpu.py --events {events} --reps {reps} --only ours_typed`, run for the floor"
    us = row["us_per_event"]
    log(f"  decode floor {us:.2f} us/event x {events} events = {us * events / 1e6:.2f}s ({source})")
    return {"us_per_event": us, "events": events, "seconds": us * events / 1e6, "source": source}


def sweep_table(tp: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per sweep concurrency and flavour: wall, speedup, requests ÷ minimum, limit."""
    rows = {r["key"]: r for r in tp["rows"]}
    base = rows.get("sdk")
    floor = tp.get("floor", {}).get("seconds")
    out = []
    for point in tp.get("sweep_points", []):
        c = point["concurrency"]
        limit = -(-tp["min_pages"] // c) * tp["latency"] + floor if floor is not None else None
        walls = {}
        for flavour in ("sync", "async", "reference"):
            r = rows.get(point.get(flavour, ""))
            if r is None:
                continue
            walls[flavour] = r["wall"]
            out.append(
                {
                    "concurrency": c,
                    "flavour": flavour,
                    "key": r["key"],
                    "wall": r["wall"],
                    "cpu": r["cpu"],
                    "rss_mb": r["rss_mb"],
                    "exact": r["exact"],
                    "speedup": base["wall"] / r["wall"] if base and r["wall"] > 0 else None,
                    "requests_ratio": r["requests"] / tp["min_pages"],
                    "limit": limit,
                    "wall_limit": r["wall"] / limit if limit else None,
                }
            )
        if "sync" in walls and "async" in walls:
            for entry in out[-len(walls) :]:
                if entry["flavour"] != "reference":
                    entry["async_sync"] = walls["sync"] / walls["async"] if walls["async"] > 0 else None
    return out


#: Issue 13: the CLI's peak RSS at 1M events, and its growth from 100k (the default counts).
MEMORY_TARGET_COUNTS = (100_000, 1_000_000)
MEMORY_TARGET_MB = 120.0
MEMORY_GROWTH_TARGET = 0.20


def section_memory(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    concurrency = args.memory_concurrency
    cli = Contender("cli", "CLI export", "cli", "auto", concurrency)
    why = available(cli)
    if why:
        log(f"memory: skipped ({why})")
        return {"skipped": why}
    setting = f"concurrency {concurrency}" if concurrency > 1 else "the CLI's default concurrency"
    rows = []
    for n in args.memory_events:
        log(f"memory: CLI export of {n} events (latency 0, {setting}), {args.memory_runs} run(s)")
        with FakeServer(events=n, days=args.days, latency=0.0, warm=False) as server:
            from_, to = iso_ms(END - timedelta(days=args.days)), iso_ms(END)
            expected = server.command(f"expected {from_} {to}")
            for run in range(1, args.memory_runs + 1):
                s = measure(
                    cli, server, from_=from_, to=to, page_size=1000, expected=expected, timeout=args.timeout
                )
                log(
                    f"  {n} events, run {run}: peak RSS {s.rss_mb:.1f} MB, wall {s.wall:.1f}s,"
                    f" cpu {s.cpu:.1f}s, exact={s.exact}"
                )
                rows.append(
                    {
                        "events": n,
                        "run": run,
                        "rss_mb": s.rss_mb,
                        "wall": s.wall,
                        "cpu": s.cpu,
                        "exact": s.exact,
                        "error": s.error,
                    }
                )
    summary = memory_summary(rows)
    if summary:
        verdict = ""
        if summary["met"] is not None:
            verdict = f"; targets (<= {MEMORY_TARGET_MB:g} MB, growth <= {MEMORY_GROWTH_TARGET:.0%})"
            verdict += " met" if summary["met"] else " NOT met"
        log(
            f"  growth {summary['small']:,} -> {summary['large']:,} events: {summary['growth']:+.1%}"
            f" (peak of the runs; worst pair {summary['worst_growth']:+.1%}); peak at {summary['large']:,}:"
            f" {summary['large_peak_mb']:.1f} MB{verdict}"
        )
    return {"concurrency": concurrency, "runs": args.memory_runs, "rows": rows, "summary": summary}


def memory_summary(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Growth of the peak RSS from the smallest count to the largest, over every run.

    ``growth``: the highest peak at the largest ÷ the highest at the smallest; ``worst_growth``:
    the highest at the largest ÷ the lowest at the smallest (the run-to-run spread included);
    ``met``: the issue's targets, judged only on its counts (None for others).

    >>> s = memory_summary([{"events": 10, "rss_mb": 88.0}, {"events": 10, "rss_mb": 90.0},
    ...                     {"events": 100, "rss_mb": 99.0}, {"events": 100, "rss_mb": 95.0}])
    >>> round(s["growth"], 3), round(s["worst_growth"], 3), s["met"]
    (0.1, 0.125, None)
    """
    counts = sorted({r["events"] for r in rows})
    if len(counts) < 2:
        return None
    small = [r["rss_mb"] for r in rows if r["events"] == counts[0]]
    large = [r["rss_mb"] for r in rows if r["events"] == counts[-1]]
    growth = max(large) / max(small) - 1
    return {
        "small": counts[0],
        "large": counts[-1],
        "small_peak_mb": max(small),
        "large_peak_mb": max(large),
        "growth": growth,
        "worst_growth": max(large) / min(small) - 1,
        "met": (max(large) <= MEMORY_TARGET_MB and growth <= MEMORY_GROWTH_TARGET)
        if (counts[0], counts[-1]) == MEMORY_TARGET_COUNTS
        else None,
    }


def section_rate(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    r, latency, page = args.rate_limit, args.rate_latency, args.rate_page_size
    events = int(r * args.rate_seconds * page)
    days = args.days
    from_, to = iso_ms(END - timedelta(days=days)), iso_ms(END)
    c = args.concurrency
    chosen = [
        Contender("sdk", "webexpythonsdk (wait_on_rate_limit)", "sdk"),
        Contender("httpx", "plain httpx loop + Retry-After", "httpx"),
        Contender("ours_seq", "`WebexEvents` sequential", "ours"),
        Contender("ours_conc", f"`WebexEvents` window=auto, concurrency={c}", "ours", "auto", c),
        Contender("ours_async", f"`AsyncWebexEvents` window=auto, concurrency={c}", "ours_async", "auto", c),
    ]
    chosen = [x for x in chosen if not args.only or x.key in args.only]
    log(
        f"rate: limit {r}/s, latency {latency}s, {events} events, page size {page} "
        f"(~{args.rate_seconds:.0f}s at R)"
    )
    rows = []
    retry_after = None if args.rate_retry_after == "exact" else args.rate_retry_after
    with FakeServer(
        events=events, days=days, latency=latency, rate_limit=r, retry_after=retry_after
    ) as server:
        expected = server.command(f"expected {from_} {to}")
        for x in chosen:
            why = available(x)
            if why:
                log(f"  skip {x.key}: {why}")
                continue
            time.sleep(1.1)  # a fresh rate window and no pending Retry-After from the previous run
            server.command("reset")
            s = measure(
                x, server, from_=from_, to=to, page_size=page, expected=expected, timeout=args.timeout
            )
            st = server.command("stats")
            ok = st["statuses"].get("200", 0)
            rate = ok / s.wall if s.wall > 0 else 0.0
            row = {
                "key": x.key,
                "label": x.label,
                "wall": s.wall,
                "requests": st["requests"],
                "ok": ok,
                "rate": rate,
                "rate_ratio": rate / r,
                "events_per_s": s.events / s.wall if s.wall > 0 else 0.0,
                "min_requests": -(-expected["count"] // page),
                "rate_limited": st["rate_limited"],
                "early": st["early_requests"],
                "exact": s.exact,
                "error": s.error,
            }
            rows.append(row)
            log(
                f"  {x.key:11s} wall {s.wall:6.2f}s ok {ok} -> {rate:5.1f}/s = {rate / r:4.0%} of R, "
                f"429s {st['rate_limited']}, early {st['early_requests']}, exact={s.exact}"
                + (f" ERROR {s.error}" if s.error else "")
            )
    return {
        "rate_limit": r,
        "latency": latency,
        "events": events,
        "page_size": page,
        "retry_after": args.rate_retry_after,
        "rows": rows,
    }


# ---- must show (issue 13) -----------------------------------------------------------------------------

#: Issue 13's throughput conditions: events, latency (s), days.
ISSUE_CONDITIONS = (100_000, 0.1, 30.0)
#: Issue 13's targets on the throughput server (speedups are vs webexpythonsdk).
DEFAULTS_TARGET = 6.0
BEST_TARGET = 10.0
ASYNC_SYNC_TARGET = 0.9
WALL_LIMIT_TARGET = 1.3
REQUESTS_TARGET = 1.1
#: The keys of our contenders (the library's and the CLI's).
OURS_PREFIXES = ("ours", "cli")


def check(
    target: str, value: float | None, op: str, goal: float, *, shown: str | None = None, unit: str = "x"
) -> dict[str, Any]:
    """One line of the must-show: ``value op goal`` (``>=`` or ``<=``); None: not measured.

    >>> c = check("x", 1.43, "<=", 1.3)
    >>> c["measured"], c["goal"], c["met"], round(c["margin"], 2)
    ('1.43x', '≤ 1.3x', False, 0.1)
    >>> check("y", None, ">=", 6)["met"] is None
    True
    """
    text = f"{'≥' if op == '>=' else '≤'} {goal:g}{unit}"
    if value is None:
        return {"target": target, "measured": None, "goal": text, "met": None, "unmeasured": True}
    met = value >= goal if op == ">=" else value <= goal
    return {
        "target": target,
        "value": value,
        "measured": shown if shown is not None else f"{value:.2f}{unit}",
        "goal": text,
        "met": met,
        # how far from the goal, as a fraction of it (negative: short of a >= goal)
        "margin": value / goal - 1,
    }


def _best(speedups: dict[str, float], tp: dict[str, Any], key: str) -> tuple[str, float] | None:
    """The fastest of ``key`` and its sweep variants (``key_cN``): (label, speedup)."""
    keys = [k for k in speedups if k == key or k.startswith(key + "_c")]
    if not keys:
        return None
    best = max(keys, key=lambda k: speedups[k])
    return next(r["label"] for r in tp["rows"] if r["key"] == best), speedups[best]


def must_show(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 13's must-show: each target, what this run measured, met or not (None: not measured)."""
    out: list[dict[str, Any]] = []
    tp = report.get("throughput") or {"rows": []}
    rows = {r["key"]: r for r in tp["rows"]}
    base = rows.get("sdk")
    speedups = {k: base["wall"] / r["wall"] for k, r in rows.items() if base and r["wall"] > 0}
    for key, target in (
        ("ours_default", "Library defaults, sync (`WebexEvents`, from_/to only)"),
        ("ours_async_default", "Library defaults, async (`AsyncWebexEvents`, from_/to only)"),
        ("cli_default", "CLI export defaults, JSONL to a file"),
        ("cli_stdout", "CLI export defaults, JSONL to stdout"),
    ):
        out.append(check(target, speedups.get(key), ">=", DEFAULTS_TARGET))
    best = {}
    for flavour, key in (("sync", "ours_conc"), ("async", "ours_async")):
        b = _best(speedups, tp, key)
        best[flavour] = b
        out.append(
            check(
                f"Best configuration, {flavour} (highest speedup of its windowed rows)",
                b[1] if b else None,
                ">=",
                BEST_TARGET,
                shown=f"{b[1]:.2f}x: {b[0]}" if b else None,
            )
        )
    ratio = best["async"][1] / best["sync"][1] if best["sync"] and best["async"] else None
    out.append(check("Async ÷ sync, each at its best configuration", ratio, ">=", ASYNC_SYNC_TARGET))
    sweep_rows = tp.get("sweep") or []
    for entry in sweep_rows:
        if entry["flavour"] == "async":
            out.append(
                check(
                    f"Async ÷ sync at concurrency {entry['concurrency']}",
                    entry.get("async_sync"),
                    ">=",
                    ASYNC_SYNC_TARGET,
                )
            )
    # The reference at the same concurrency, beside each (context, not a target).
    reference = {e["concurrency"]: e for e in sweep_rows if e["flavour"] == "reference"}
    for entry in sweep_rows:
        if entry["flavour"] == "reference":
            continue
        shown = None
        if entry["wall_limit"] is not None:
            shown = f"{entry['wall_limit']:.2f}x ({entry['wall']:.2f} s vs limit {entry['limit']:.2f} s"
            ref = reference.get(entry["concurrency"])
            if ref is not None and ref["wall_limit"] is not None:
                shown += f"; reference {ref['wall_limit']:.2f}x"
            shown += ")"
        out.append(
            check(
                f"Wall ÷ limit, {entry['flavour']}, concurrency {entry['concurrency']}",
                entry["wall_limit"],
                "<=",
                WALL_LIMIT_TARGET,
                shown=shown,
            )
        )
    if not sweep_rows:
        out.append(check("Wall ÷ limit at each sweep concurrency", None, "<=", WALL_LIMIT_TARGET))
    min_pages = tp.get("min_pages")
    ours = {
        k: r["requests"] / min_pages for k, r in rows.items() if min_pages and k.startswith(OURS_PREFIXES)
    }
    worst = max(ours, key=lambda k: ours[k]) if ours else None
    item = check(
        "Requests ÷ minimum pages, worst of our contenders (each: below)",
        ours[worst] if worst else None,
        "<=",
        REQUESTS_TARGET,
        shown=f"{ours[worst]:.2f}x: {rows[worst]['label']}" if worst else None,
    )
    out.append(item | {"each": ours})
    cpu = report.get("cpu")
    orjson = (cpu or {}).get("orjson")
    for key, name, goal in (("ours_typed", "typed", CPU_TYPED_TARGET), ("ours_raw", "raw", CPU_RAW_TARGET)):
        for n in CPU_TARGET_COUNTS:
            row = cpu_row(cpu, n, key)
            item = check(
                f"CPU per {name} event ÷ `json.loads`, {n:,} events",
                _cpu_ratio(row) if row else None,
                "<=",
                goal,
                shown=_cpu_shown(row) if row else None,
            )
            ran = [f"{size['events']:,}" for size in (cpu or {}).get("sizes", []) if "rows" in size]
            if row is None and ran:
                item["measured"] = f"not measured at this count (ran {', '.join(ran)})"
            if name == "raw" and orjson is not None:
                item["goal"] += f" (orjson installed: {'yes' if orjson else '**no**'})"
                if not orjson and item["met"]:
                    item["met"] = None  # the target is stated with orjson installed
            out.append(item)
    mem = report.get("memory") or {}
    summary: dict[str, Any] = mem.get("summary") or {}
    counts_ok = bool(summary) and (summary["small"], summary["large"]) == MEMORY_TARGET_COUNTS
    runs = mem.get("runs", 0)
    note = f", max of {runs} runs" if runs else ""
    peak = check(
        f"CLI raw export peak RSS at {MEMORY_TARGET_COUNTS[1]:,} events{note}",
        summary["large_peak_mb"] if counts_ok else None,
        "<=",
        MEMORY_TARGET_MB,
        shown=f"{summary['large_peak_mb']:.1f} MB" if counts_ok else None,
        unit=" MB",
    )
    growth = check(
        f"CLI raw export peak RSS growth {MEMORY_TARGET_COUNTS[0]:,} → {MEMORY_TARGET_COUNTS[1]:,}{note}",
        summary["growth"] * 100 if counts_ok else None,
        "<=",
        MEMORY_GROWTH_TARGET * 100,
        shown=f"{summary['growth']:+.1%} (lowest → highest: {summary['worst_growth']:+.1%})"
        if counts_ok
        else None,
        unit=" %",
    )
    for item in (peak, growth):
        if counts_ok and runs < 2 and item["met"]:
            item["met"] = None  # the target asks for two runs
        out.append(item)
    if not counts_ok and summary:
        peak["measured"] = growth["measured"] = (
            f"not measured at these counts (ran {summary['small']:,} and {summary['large']:,})"
        )
    out.append(
        {
            "target": "Every throughput run exact (the server's ids, each once)",
            "measured": ("yes" if all(r["exact"] for r in tp["rows"]) else "**no**") if tp["rows"] else None,
            "goal": "yes",
            "met": all(r["exact"] for r in tp["rows"]) if tp["rows"] else None,
        }
    )
    return out


# ---- report --------------------------------------------------------------------------------------------


TIMES = "\N{MULTIPLICATION SIGN}"


def _cpu_ratio(row: dict[str, Any]) -> float:
    """A cpu row's ratio to ``json.loads``: interleaved page by page when measured so."""
    return float(row.get("interleaved_ratio", row["ratio"]))


def _cpu_shown(row: dict[str, Any]) -> str:
    """How the must-show states a cpu row: the interleaved ratio, and the paired one beside it.

    >>> _cpu_shown({"ratio": 1.44, "us_per_event": 5.49, "baseline_us": 3.82,
    ...             "interleaved_ratio": 1.17, "interleaved_ratios": [1.16, 1.17, 1.2]}).split("; ")
    ['1.17x interleaved (median of 3 passes: 1.16-1.20x)', \
'separate passes: 1.44x (5.49 µs vs `json.loads` 3.82 µs beside it)']
    """
    paired = f"{row['ratio']:.2f}x ({_beside(row)})"
    if "interleaved_ratio" not in row:
        return paired
    passes = row["interleaved_ratios"]
    return (
        f"{row['interleaved_ratio']:.2f}x interleaved (median of {len(passes)} passes: "
        f"{min(passes):.2f}-{max(passes):.2f}x); separate passes: {paired}"
    )


def _beside(row: dict[str, Any]) -> str:
    """``9.43 µs`` and, if measured so, the ``json.loads`` timed beside it."""
    shown = f"{row['us_per_event']:.2f} µs"
    if "baseline_us" in row:
        shown += f" vs `json.loads` {row['baseline_us']:.2f} µs beside it"
    return shown


def _fmt_ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x"


def _verdict(item: dict[str, Any]) -> str:
    if item.get("unmeasured") or item["measured"] is None:
        return "not measured"
    return {True: "met", False: "**not met**", None: "not judged"}[item["met"]]


def render_must_show(report: dict[str, Any]) -> list[str]:
    items = report.get("must_show") or []
    m = report["machine"]
    tp = report.get("throughput")
    where = (
        f"on the throughput server below ({tp['events']:,} events over {tp['days']:g} days, "
        f"{tp['latency'] * 1000:.0f} ms latency, median of {tp['rounds']} round(s))"
        if tp
        else "(throughput not measured in this run)"
    )
    out = [
        "## Must show (issue 13)",
        "",
        f"**{m['cpus']} CPUs shared with the fake server under test** (and with anything else on the "
        f"machine). Speedups are against webexpythonsdk 2.0.6 = 1x {where}; CPU from the cpu section; "
        "memory from the memory section. Wall: the listing, measured inside the contender's process "
        "(imports excluded); the CLI's: the whole process.",
    ]
    if tp and (tp["events"], tp["latency"], tp["days"]) != ISSUE_CONDITIONS:
        out[-1] += (
            f" **Not the issue's conditions** ({ISSUE_CONDITIONS[0]:,} events over {ISSUE_CONDITIONS[2]:g} "
            f"days at {ISSUE_CONDITIONS[1] * 1000:.0f} ms): the verdicts below only indicate."
        )
    out += ["", "| target | measured | goal | verdict |", "|---|---|---|:-:|"]
    for item in items:
        measured = item["measured"] if item["measured"] is not None else "not measured"
        out.append(f"| {item['target']} | {measured} | {item['goal']} | {_verdict(item)} |")
    each = next((i.get("each") for i in items if "each" in i), None)
    if each:
        listed = ", ".join(f"`{k}` {v:.2f}x" for k, v in sorted(each.items(), key=lambda kv: -kv[1]))
        out += ["", f"Requests ÷ minimum pages, each of ours: {listed}."]
    out += _render_reference(report)
    missed = [i for i in items if i["met"] is False]
    if missed:
        out += ["", "Missed, by how much (the why: see the README's closing note):", ""]
        for i in missed:
            out.append(f"- {i['target']}: {i['measured']}, goal {i['goal']} ({i['margin']:+.0%} of the goal)")
    elif items:
        out += ["", "Every target measured in this run is met."]
    out.append("")
    return out


def _render_reference(report: dict[str, Any]) -> list[str]:
    """The reference client's speedup and wall ÷ limit in this run (context for the best ≥ 10x)."""
    tp = report.get("throughput") or {"rows": []}
    rows = {r["key"]: r for r in tp["rows"]}
    ref, base = rows.get(REFERENCE), rows.get("sdk")
    if ref is None or base is None or ref["wall"] <= 0:
        return []
    c = tp["concurrency"]
    limit = next((e["limit"] for e in tp.get("sweep") or [] if e["concurrency"] == c and e["limit"]), None)
    beside = f"; wall ÷ limit at concurrency {c}: {ref['wall'] / limit:.2f}x" if limit else ""
    ours = rows.get("ours_conc")
    versus = f"; `WebexEvents` at the same concurrency: {base['wall'] / ours['wall']:.2f}x" if ours else ""
    return [
        "",
        f"Reference, same run (not a target): a minimal threaded client on plain httpx "
        f"(`bench/_contenders.py` `run_httpx_threads`: {c} threads, fixed {tp.get('reference_window_h')} h "
        "windows sized by hand for this data, orjson; no order buffer, retries, checks or exact texts) "
        f"reached {base['wall'] / ref['wall']:.2f}x ({ref['wall']:.2f} s, "
        f"{ref['requests'] / tp['min_pages']:.2f}x the minimum requests){beside}{versus}: what a client "
        "doing less than ours gets from this machine in this run.",
    ]


def render_sweep(tp: dict[str, Any]) -> list[str]:
    entries = tp.get("sweep") or []
    if not entries:
        return []
    floor = tp.get("floor") or {}
    if "seconds" in floor:
        floor_text = (
            f"decode floor {floor['seconds']:.2f} s = {floor['us_per_event']:.2f} µs/event (the typed path's "
            f"CPU: `WebexEvents.list_events` + `.id .resource .created`) {TIMES} {floor['events']:,} events, "
            f"from {floor['source']}"
        )
    else:
        floor_text = f"decode floor not measured ({floor.get('error', 'no cpu result')}): no limit"
    c = tp["concurrency"]
    same = (
        f" At concurrency {c} these are the table's `ours_conc` and `ours_async` rows."
        if any(p["concurrency"] == c for p in tp.get("sweep_points", []))
        else ""
    )
    out = [
        '### Concurrency sweep: window="auto", the same server and rounds as above',
        "",
        "Wall: the listing, measured in the contender's process (imports excluded). Limit = "
        f"ceil({tp['min_pages']} minimum pages ÷ concurrency) {TIMES} {tp['latency'] * 1000:.0f} ms "
        f"+ {floor_text}. "
        f"Target: wall ≤ {WALL_LIMIT_TARGET:g}x the limit. Async ÷ sync: sync wall ÷ async wall "
        f"(target ≥ {ASYNC_SYNC_TARGET:g}x).{same} Reference rows (not a target): the minimal threaded "
        "client of the main table at the same concurrency, against the same limit.",
        "",
        "| concurrency | client | wall s | speedup vs SDK | requests ÷ minimum | limit s | wall ÷ limit "
        f"| ≤ {WALL_LIMIT_TARGET:g}x | async ÷ sync | CPU s | peak RSS MB | exact |",
        "|---:|---|---:|---:|---:|---:|---:|:-:|---:|---:|---:|:-:|",
    ]
    for e in entries:
        client = {"sync": "`WebexEvents`", "async": "`AsyncWebexEvents`"}.get(e["flavour"], "reference")
        speedup = _fmt_ratio(e["speedup"]) if e["speedup"] else "n/a"
        limit = f"{e['limit']:.2f}" if e["limit"] is not None else "n/a"
        if e["wall_limit"] is None:
            ratio = verdict = "n/a"
        else:
            ratio = f"{e['wall_limit']:.2f}x"
            verdict = "met" if e["wall_limit"] <= WALL_LIMIT_TARGET else "**not met**"
            if e["flavour"] == "reference":
                verdict = f"({verdict}: not a target)"
        a_s = f"{e['async_sync']:.2f}x" if e.get("async_sync") and e["flavour"] == "async" else ""
        out.append(
            f"| {e['concurrency']} | {client} | {e['wall']:.2f} | {speedup} | {e['requests_ratio']:.2f}x "
            f"| {limit} | {ratio} | {verdict} | {a_s} | {e['cpu']:.2f} | {e['rss_mb']:.0f} "
            f"| {'yes' if e['exact'] else '**NO**'} |"
        )
    out.append("")
    return out


def render_cpu(cpu: dict[str, Any] | None) -> list[str]:
    sizes = [s for s in (cpu or {}).get("sizes", []) if "rows" in s]
    if not cpu or not sizes:
        if cpu:
            return ["## CPU per event", "", f"Failed: {cpu.get('sizes')}", ""]
        return []
    first = sizes[0]
    later = ", ".join(f"{s['events']:,}" for s in sizes[1:])
    counts = " and ".join(f"{s['events']:,} (best of {s['reps']})" for s in sizes)
    orjson = "installed" if cpu.get("orjson") else "**not installed**"
    out = [
        f"## CPU per event (in process, {counts} events in pages of {first['page_size']}, "
        "`time.process_time`)",
        "",
        f"Recorded pages replayed from memory: the client's CPU only. orjson {orjson}. Each row's"
        " ratio is to `json.loads` timed beside it (the two alternate, best of each; its µs in"
        " brackets; the baseline's row: the best of them all): the CPU a shared machine gives"
        " drifts over a run. *Interleaved*: the listing's rows again, each pass taking turns page by"
        " page with `json.loads` of the same pages in a forked twin process (its own heap and clock,"
        " the same CPU), median of the passes' ratios: far steadier on a shared machine (see"
        " `bench/_cpu.py` `interleaved`); the must-show reads it."
        + (f" At {later} events only the baseline, typed (GC on and off) and raw rows run." if later else ""),
        "",
        "| path | "
        + " | ".join(
            f"µs/event {n:,} | ÷ json.loads {n:,} | interleaved {n:,}" for n in (s["events"] for s in sizes)
        )
        + " |",
        "|---|" + "---:|---:|---:|" * len(sizes),
    ]
    for row in first["rows"]:
        cells = []
        for s in sizes:
            r = next((x for x in s["rows"] if x["key"] == row["key"]), None)
            cells += [f"{r['us_per_event']:.2f}", f"{r['ratio']:.2f}x"] if r else ["-", "-"]
            if r and r["key"] != "json_loads" and "baseline_us" in r:
                cells[-1] += f" (of {r['baseline_us']:.2f})"
            cells.append(f"{r['interleaved_ratio']:.2f}x" if r and "interleaved_ratio" in r else "-")
        out.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    out.append("")
    return out


def render(report: dict[str, Any]) -> str:
    out: list[str] = [f"# webex-events benchmarks ({report['mode']})", ""]
    m = report["machine"]
    out.append(
        f"{m['when']} · Python {m['python']} · {m['cpus']} CPUs · "
        "shared machine: compare ratios, not seconds."
    )
    out.append("")
    out += render_must_show(report)
    tp = report.get("throughput")
    if tp:
        out += [
            f"## Throughput: {tp['events']:,} events over {tp['days']:g} days, {tp['latency'] * 1000:.0f} ms "
            f"latency per request, page size {tp['page_size']}",
            "",
            f"Median of {tp['rounds']} round(s), each contender in its own process. Wall: the listing "
            "(the CLI: the whole process). CPU and peak RSS: the whole process (imports included). "
            "Exact: the ids equal the server's set for the range, each once.",
            "",
            "| contender | wall s | events/s | CPU s | peak RSS MB | exact "
            "| speedup vs SDK | CPU vs SDK | RSS vs SDK | requests ÷ minimum |",
            "|---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|",
        ]
        min_requests = max(1, -(-tp["expected"]["count"] // tp["page_size"]))
        base = next((r for r in tp["rows"] if r["key"] == "sdk"), None)
        sweep_only = {
            key
            for point in tp.get("sweep_points", [])
            for key in (point["sync"], point["async"], point.get("reference", ""))
            if key.endswith(f"_c{point['concurrency']}")
        }
        for r in tp["rows"]:
            if r["key"] in sweep_only:
                continue
            eps = r["events"] / r["wall"] if r["wall"] > 0 else 0.0
            if base:
                sp = _fmt_ratio(base["wall"] / r["wall"])
                cpu = _fmt_ratio(r["cpu"] / base["cpu"])
                rss = _fmt_ratio(r["rss_mb"] / base["rss_mb"])
            else:
                sp = cpu = rss = "n/a"
            exact = "yes" if r["exact"] else "**NO**"
            out.append(
                f"| {r['label']} | {r['wall']:.2f} | {eps:,.0f} | {r['cpu']:.2f} "
                f"| {r['rss_mb']:.0f} | {exact} "
                f"| {sp} | {cpu} | {rss} | {r.get('requests', 0) / min_requests:.2f}x |"
            )
        for key, why in tp["skipped"].items():
            out.append(f"| {key} | skipped: {why} | | | | | | | | |")
        out.append("")
        out += render_sweep(tp)
    out += render_cpu(report.get("cpu"))
    mem = report.get("memory")
    if mem and "rows" in mem:
        c = mem.get("concurrency", 0)
        setting = f"concurrency {c}" if c > 1 else "CLI defaults"
        out += [f"## Memory: CLI export ({setting}, latency 0, server in its own process)", ""]
        out += ["| events | run | peak RSS MB | wall s | CPU s | exact |", "|---:|---:|---:|---:|---:|:-:|"]
        out += [
            f"| {r['events']:,} | {r.get('run', 1)} | {r['rss_mb']:.1f} | {r['wall']:.1f} | {r['cpu']:.1f} | "
            f"{'yes' if r['exact'] else '**NO**'} |"
            for r in mem["rows"]
        ]
        summary = mem.get("summary")
        if summary:
            out += [
                "",
                f"Growth {summary['small']:,} → {summary['large']:,} events: {summary['growth']:+.1%} "
                f"(highest peak of the runs at each count; lowest at {summary['small']:,} to highest "
                f"at {summary['large']:,}: {summary['worst_growth']:+.1%}).",
            ]
            if summary["met"] is not None:
                out[-1] += (
                    f" Targets: ≤ {MEMORY_TARGET_MB:g} MB at {summary['large']:,}, growth ≤ "
                    f"{MEMORY_GROWTH_TARGET:.0%}: {'met' if summary['met'] else '**not met**'}."
                )
        out.append("")
    rate = report.get("rate")
    if rate and "rows" in rate:
        out += [
            f"## Rate limit: R = {rate['rate_limit']:g} requests/s, {rate['latency'] * 1000:.0f} ms latency, "
            f"{rate['events']:,} events, page size {rate['page_size']}, "
            f"Retry-After: {rate['retry_after']}",
            "",
            "200s ÷ minimum: pages fetched over the fewest possible (events ÷ page size); "
            "windowing costs extra partial pages, which a rate limit makes expensive.",
            "",
            "| contender | wall s | events/s | 200s | 200s ÷ minimum | 200s/s ÷ R | 429s "
            "| early requests | exact |",
            "|---|---:|---:|---:|---:|---:|---:|---:|:-:|",
        ]
        out += [
            f"| {r['label']} | {r['wall']:.2f} | {r['events_per_s']:,.0f} | {r['ok']} "
            f"| {r['ok'] / r['min_requests']:.2f}x | {r['rate_ratio']:.0%} | {r['rate_limited']} "
            f"| {r['early']} | {'yes' if r['exact'] else '**NO**'} |"
            for r in rate["rows"]
        ]
        out.append("")
    return "\n".join(out)


# ---- main -----------------------------------------------------------------------------------------------


class Log:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {text}", file=sys.stderr, flush=True)


SECTIONS = ("throughput", "cpu", "memory", "rate")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run (< 2 minutes)")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    p.add_argument(
        "--only",
        default="",
        help="comma-separated contender keys (sdk,httpx,ours_seq,...; sweep: the sweep's own)",
    )
    p.add_argument("--events", type=int, help="throughput: events (default 100000; quick 20000)")
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--latency", type=float, default=0.1, help="throughput: seconds per request")
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument(
        "--sweep",
        help="throughput: comma-separated concurrencies of the window=auto sweep, sync and async "
        "(default 4,8,16,32; quick 4,16; empty: none)",
    )
    p.add_argument("--rounds", type=int, help="throughput rounds, median reported (default 3; quick 1)")
    p.add_argument(
        "--cpu-events",
        help="cpu: comma-separated event counts; every row at the first, the typed and raw rows at "
        "the others (default 100000,1000000; quick 20000)",
    )
    p.add_argument("--cpu-reps", type=int, help="cpu: repetitions, best kept (default 5; quick 2)")
    p.add_argument(
        "--cpu-reps-large", type=int, help="cpu: repetitions at the second and later counts (default 3)"
    )
    p.add_argument("--profile", action="store_true", help="cpu: also write a cProfile of the typed path")
    p.add_argument(
        "--memory-events",
        help="memory: comma-separated event counts (default 100000,1000000; quick 10000,100000)",
    )
    p.add_argument("--memory-runs", type=int, default=2, help="memory: runs of each count")
    p.add_argument(
        "--memory-concurrency",
        type=int,
        default=0,
        help="memory: the CLI's --concurrency (default: none given, the CLI's default)",
    )
    p.add_argument("--rate-limit", type=float, default=20.0)
    p.add_argument("--rate-latency", type=float, default=0.02)
    p.add_argument("--rate-page-size", type=int, default=100)
    p.add_argument(
        "--rate-retry-after",
        default="1",
        help="rate: Retry-After text of the fake's 429s; 'exact' sends the fractional wait "
        "(real Webex sends whole seconds; webexpythonsdk reads a fraction as malformed: 15 s)",
    )
    p.add_argument("--rate-seconds", type=float, help="rate: length of a run at R (default 15; quick 4)")
    p.add_argument("--timeout", type=float, default=600.0, help="per subprocess")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory of latest.md / latest.json")
    args = p.parse_args(argv)
    q = args.quick
    args.events = args.events or (20_000 if q else 100_000)
    args.rounds = args.rounds or (1 if q else 3)
    sweep = args.sweep if args.sweep is not None else ("4,16" if q else "4,8,16,32")
    args.sweep = [int(x) for x in sweep.split(",") if x.strip()]
    args.cpu_events = [int(x) for x in (args.cpu_events or ("20000" if q else "100000,1000000")).split(",")]
    args.cpu_reps = args.cpu_reps or (2 if q else 5)
    args.cpu_reps_large = args.cpu_reps_large or (1 if q else 3)
    args.memory_events = [
        int(x) for x in (args.memory_events or ("10000,100000" if q else "100000,1000000")).split(",")
    ]
    args.rate_seconds = args.rate_seconds or (4.0 if q else 15.0)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
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
        "args": {k: v for k, v in vars(args).items() if k != "out"} | {"only": sorted(args.only)},
    }
    runners = {
        "throughput": section_throughput,
        "cpu": section_cpu,
        "memory": section_memory,
        "rate": section_rate,
    }
    for name in SECTIONS:
        if name in args.sections:
            report[name] = runners[name](args, log)
    tp = report.get("throughput")
    if tp and tp["sweep_points"]:
        tp["floor"] = decode_floor(args, report, log)
        tp["sweep"] = sweep_table(tp)
    report["must_show"] = must_show(report)
    report["elapsed_s"] = time.perf_counter() - log.t0
    report["machine"]["load_avg_at_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = render(report)
    (args.out / "latest.md").write_text(markdown + "\n", encoding="utf-8")
    (args.out / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(markdown)
    log(f"done in {report['elapsed_s']:.0f}s; wrote {args.out / 'latest.md'} and latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
