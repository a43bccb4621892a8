"""Benchmarks of webex-events against the peers: throughput, CPU per event, memory, rate limits.

``python bench/run.py`` (full, ~10-15 min on 2 cores) or ``python bench/run.py --quick`` (< 2 min).
Writes ``bench/results/latest.md`` and ``bench/results/latest.json`` and prints the markdown.

Sections (``--sections``, default all):

* ``throughput``: every contender lists the same range of a fake server (own process, fixed end,
  seed 1, warmed, ``--latency`` per request) in its OWN subprocess; wall time, events/s, CPU
  seconds and peak RSS of the whole process (``os.wait4`` rusage), and whether the ids equal the
  server's (order-independent multiset digest); ratios against webexpythonsdk.
* ``cpu``: CPU per typed event ÷ CPU per ``json.loads`` of the same page bytes, in process.
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


def contenders(concurrency: int) -> list[Contender]:
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
    ]


def available(contender: Contender) -> str | None:
    """None if the contender can run in this environment, else why not (peers first, then ours)."""
    module = {
        "sdk": "webexpythonsdk",
        "httpx": "httpx",
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
    chosen = [c for c in contenders(args.concurrency) if not args.only or c.key in args.only]
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
        "rounds": args.rounds,
        "expected": expected,
        "rows": rows,
        "skipped": skipped,
    }


def section_cpu(args: argparse.Namespace, log: Log) -> dict[str, Any]:
    log(f"cpu: typed events vs json.loads, {args.cpu_events} events, {args.cpu_reps} repetitions")
    argv = [PY, str(BENCH_DIR / "_cpu.py"), "--events", str(args.cpu_events), "--reps", str(args.cpu_reps)]
    if args.profile:
        argv += ["--profile", str(RESULTS_DIR / "typed-path.prof.txt")]
    run = run_child(argv, timeout=args.timeout)
    if run.result is None:
        log(f"  cpu benchmark failed: {run.stderr_tail}")
        return {"error": run.stderr_tail}
    for row in run.result["rows"]:
        log(f"  {row['key']:22s} {row['us_per_event']:7.2f} us/event  x{row['ratio']:.2f} of json.loads")
    return run.result


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


# ---- report --------------------------------------------------------------------------------------------


def _fmt_ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x"


def render(report: dict[str, Any]) -> str:
    out: list[str] = [f"# webex-events benchmarks ({report['mode']})", ""]
    m = report["machine"]
    out.append(
        f"{m['when']} · Python {m['python']} · {m['cpus']} CPUs · "
        "shared machine: compare ratios, not seconds."
    )
    out.append("")
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
        for r in tp["rows"]:
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
    cpu_section: dict[str, Any] | None = report.get("cpu")
    if cpu_section and "rows" in cpu_section:
        out += [
            f"## CPU per event (in process, {cpu_section['events']:,} events in pages of "
            f"{cpu_section['page_size']}, best of {cpu_section['reps']} repetitions, `time.process_time`)",
            "",
            "| path | µs/event | ÷ json.loads |",
            "|---|---:|---:|",
        ]
        out += [
            f"| {r['label']} | {r['us_per_event']:.2f} | {r['ratio']:.2f}x |" for r in cpu_section["rows"]
        ]
        out.append("")
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
    p.add_argument("--only", default="", help="comma-separated contender keys (sdk,httpx,ours_seq,...)")
    p.add_argument("--events", type=int, help="throughput: events (default 200000; quick 20000)")
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--latency", type=float, default=0.1, help="throughput: seconds per request")
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, help="throughput rounds, median reported (default 3; quick 1)")
    p.add_argument("--cpu-events", type=int, help="cpu: events (default 100000; quick 20000)")
    p.add_argument("--cpu-reps", type=int, help="cpu: repetitions, best kept (default 5; quick 2)")
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
    args.events = args.events or (20_000 if q else 200_000)
    args.rounds = args.rounds or (1 if q else 3)
    args.cpu_events = args.cpu_events or (20_000 if q else 100_000)
    args.cpu_reps = args.cpu_reps or (2 if q else 5)
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
