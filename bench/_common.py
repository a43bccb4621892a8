"""Shared helpers of the benchmark harness: id digests, dates, result records, child environment."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
TOKEN = "bench-token"
# A fixed end makes every run list exactly the same events (the fake is seeded too).
END = datetime(2025, 1, 1, tzinfo=UTC)
_MASK64 = (1 << 64) - 1


def iso_ms(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` (the format every contender accepts)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def listing_range(days: float) -> tuple[str, str]:
    """``(from, to)`` covering all the fake's events: ``[END - days, END)``."""
    return iso_ms(END - timedelta(days=days)), iso_ms(END)


class IdDigest:
    """An order-independent multiset digest of event ids in constant memory.

    Equal ``count`` and ``total`` with the server's expected digest means the contender saw every
    expected id exactly once (a duplicate plus a missing id changes ``total``), without keeping
    200 000 ids in the contender's memory (which would distort its peak RSS).
    """

    __slots__ = ("count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def add(self, event_id: str) -> None:
        digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
        self.total = (self.total + int.from_bytes(digest, "big")) & _MASK64
        self.count += 1

    def add_all(self, ids: Iterable[str]) -> IdDigest:
        for event_id in ids:
            self.add(event_id)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "digest": f"{self.total:016x}"}


def jsonl_digest(path: Path) -> dict[str, Any]:
    """The ``IdDigest`` of a JSONL export (orjson when installed: a 1M-event file is ~1 GB)."""
    try:
        from orjson import loads  # noqa: PLC0415 - optional
    except ImportError:
        loads = json.loads
    digest = IdDigest()
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                digest.add(loads(line)["id"])
    return digest.as_dict()


def emit(payload: dict[str, Any]) -> None:
    """Write the child's result as the last stdout line (the parent parses it)."""
    sys.stdout.write("\nRESULT " + json.dumps(payload) + "\n")
    sys.stdout.flush()


def parse_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            parsed: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return parsed
    return None


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: the token, no proxies (loopback only), the hash seed fixed, and
    none of glibc's malloc settings (the memory section sets them itself, per variant)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"
    }
    env.update({"WEBEX_ACCESS_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1,localhost", "PYTHONHASHSEED": "0"})
    env.update(extra)
    return env
