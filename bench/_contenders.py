"""One contender run, in its own process: ``python bench/_contenders.py NAME --base-url URL ...``.

Each contender lists ``[--from, --to)`` with page size ``--page-size``, touches ``id``,
``resource`` and ``created`` of every event (what an exporter reads), feeds the ids to an
order-independent digest and prints ``RESULT {json}`` as its last line: the listing's wall time
and CPU seconds (measured here, imports excluded) and the id digest. The parent adds what only
it can see (the whole process's rusage: peak RSS, CPU with imports).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import TOKEN, IdDigest, emit, iso_ms

Runner = Callable[[argparse.Namespace, IdDigest], dict[str, Any]]


def run_sdk(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """webexpythonsdk: ``api.events.list(max=..., _from=..., to=...)`` (waits on 429 by itself)."""
    from webexpythonsdk import WebexAPI  # noqa: PLC0415 - only in this contender's process

    api = WebexAPI(access_token=TOKEN, base_url=args.base_url + "/", wait_on_rate_limit=True)
    for event in api.events.list(max=args.page_size, _from=args.from_, to=args.to):
        _ = event.resource, event.created  # created: the SDK's WebexDateTime
        digest.add(event.id)
    return {}


def run_httpx(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """The loop users hand-write: GET, ``r.json()``, follow ``Link: rel=next``, honour Retry-After."""
    import httpx  # noqa: PLC0415

    requests = retries = 0
    url: str | None = args.base_url + "/events"
    params: dict[str, Any] | None = {"from": args.from_, "to": args.to, "max": args.page_size}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(headers=headers, timeout=60.0) as client:
        while url is not None:
            response = client.get(url, params=params)
            requests += 1
            if response.status_code == 429:
                retries += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            for item in response.json()["items"]:
                _ = item["resource"], item["created"]
                digest.add(item["id"])
            url = response.links.get("next", {}).get("url")
            params = None
    return {"requests": requests, "retries": retries}


def run_httpx_threads(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """A reference, not a contender for users: the least a windowed client can do on this machine.

    ``--concurrency`` threads on one plain httpx client, fixed windows of ``--window`` hours (sized
    by hand for the bench's data: about one page each), each listed whole via next links,
    ``orjson.loads`` when installed, the same fields touched (``created`` parsed as ours does).
    Windows are consumed in order (``Executor.map``); no retries, no checks, no exact texts.
    """
    import json  # noqa: PLC0415
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    try:
        from orjson import loads  # noqa: PLC0415
    except ImportError:
        loads = json.loads
    lo, hi = (_ms(datetime.fromisoformat(t.replace("Z", "+00:00"))) for t in (args.from_, args.to))
    step = round(float(args.window) * 3_600_000)
    windows = [(a, min(a + step, hi)) for a in range(lo, hi, step)]
    requests = 0
    limits = httpx.Limits(max_connections=args.concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(headers=headers, timeout=60.0, limits=limits) as client:

        def fetch(window: tuple[int, int]) -> tuple[list[Any], int]:
            items: list[Any] = []
            url: str | None = args.base_url + "/events"
            params: dict[str, Any] | None = {
                "from": _iso(window[0]),
                "to": _iso(window[1]),
                "max": args.page_size,
            }
            sent = 0
            while url is not None:
                response = client.get(url, params=params)
                sent += 1
                response.raise_for_status()
                items += loads(response.content)["items"]
                url = response.links.get("next", {}).get("url")
                params = None
            return items, sent

        parse = datetime.fromisoformat
        with ThreadPoolExecutor(args.concurrency) as pool:
            for items, sent in pool.map(fetch, windows):
                requests += sent
                for item in items:
                    _ = item["resource"], parse(item["created"])
                    digest.add(item["id"])
    return {"requests": requests}


def _ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def _iso(ms: int) -> str:
    return iso_ms(datetime.fromtimestamp(ms / 1000, UTC))


def _window(args: argparse.Namespace) -> Any:
    if args.window == "none":
        return None
    if args.window == "auto":
        return "auto"
    return timedelta(hours=float(args.window))


def _arguments(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(client kwargs, list_events kwargs); ``--window default --concurrency 0``: the defaults."""
    client: dict[str, Any] = {} if args.concurrency == 0 else {"concurrency": args.concurrency}
    listing: dict[str, Any] = {"from_": args.from_, "to": args.to, "page_size": args.page_size}
    if args.window != "default":
        window = _window(args)
        listing["window"] = window
        listing["concurrency"] = args.concurrency if window is not None else None
    return client, listing


def _stats(stream: Any) -> dict[str, Any]:
    stats = getattr(stream, "stats", None)
    if stats is None:
        return {}
    return {
        k: getattr(stats, k)
        for k in ("requests", "pages", "events", "retries", "windows_total")
        if hasattr(stats, k)
    }


def run_ours(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """``WebexEvents``: sequential (``--window none``) or windowed with ``--concurrency``."""
    from webex_events import WebexEvents  # noqa: PLC0415

    client_kwargs, listing = _arguments(args)
    with WebexEvents(token=TOKEN, base_url=args.base_url, **client_kwargs) as client:
        stream = client.list_events(**listing)
        for event in stream:
            _ = event.resource, event.created
            digest.add(event.id)
        return _stats(stream)


def run_ours_async(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """``AsyncWebexEvents`` windowed with ``--concurrency``."""
    from webex_events import AsyncWebexEvents  # noqa: PLC0415

    async def main() -> dict[str, Any]:
        client_kwargs, listing = _arguments(args)
        async with AsyncWebexEvents(token=TOKEN, base_url=args.base_url, **client_kwargs) as client:
            stream = client.list_events(**listing)
            async for event in stream:
                _ = event.resource, event.created
                digest.add(event.id)
            return _stats(stream)

    return asyncio.run(main())


RUNNERS: dict[str, Runner] = {
    "sdk": run_sdk,
    "httpx": run_httpx,
    "httpx_threads": run_httpx_threads,
    "ours": run_ours,
    "ours_async": run_ours_async,
}
# Imported before the clock starts, so the listing's wall and CPU exclude every contender's
# imports alike (the runners' own imports then only look the module up). httpx imports
# httpcore only when its first client is made (~15 ms): named here, or it counted in the
# listings of the httpx-based contenders and not in the SDK's (requests imports at once).
IMPORTS = {
    "sdk": ("webexpythonsdk",),
    "httpx": ("httpx", "httpcore"),
    "httpx_threads": ("httpx", "httpcore", "concurrent.futures", "orjson?"),
    "ours": ("webex_events", "httpcore"),
    "ours_async": ("webex_events", "httpcore"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runner", choices=sorted(RUNNERS))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--from", dest="from_", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--window", default="none", help="none, auto, default or a number of hours")
    parser.add_argument("--concurrency", type=int, default=1, help="0: the client's default")
    args = parser.parse_args()
    digest = IdDigest()
    for module in IMPORTS[args.runner]:
        try:
            importlib.import_module(module.rstrip("?"))
        except ImportError:
            if not module.endswith("?"):  # "?": optional
                raise
    cpu0, wall0 = time.process_time(), time.perf_counter()
    error = None
    extra: dict[str, Any] = {}
    try:
        extra = RUNNERS[args.runner](args, digest)
    except Exception as exc:  # reported in the table, not a crash of the harness
        error = f"{type(exc).__name__}: {exc}"[:300]
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    emit({"wall": wall, "cpu": cpu, **digest.as_dict(), "error": error, **extra})


if __name__ == "__main__":
    main()
