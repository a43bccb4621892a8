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
from typing import Any

from _common import TOKEN, IdDigest, emit

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


def _listing(args: argparse.Namespace) -> dict[str, Any]:
    """The ``list_events`` arguments: ``--window default``: from_/to only (the library's defaults)."""
    listing: dict[str, Any] = {"from_": args.from_, "to": args.to, "page_size": args.page_size}
    if args.window == "auto":
        listing.update(window="auto", concurrency=args.concurrency)
    elif args.window == "none":  # one query, pages streamed in the server's order
        listing.update(concurrency=1)
    return listing


def run_ours(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """``WebexEvents``: sequential (``--window none``) or windowed with ``--concurrency``."""
    from webex_events import WebexEvents  # noqa: PLC0415

    with WebexEvents(token=TOKEN, base_url=args.base_url) as client:
        for event in client.list_events(**_listing(args)):
            _ = event.resource, event.created
            digest.add(event.id)
    return {}


def run_ours_async(args: argparse.Namespace, digest: IdDigest) -> dict[str, Any]:
    """``AsyncWebexEvents`` windowed with ``--concurrency``."""
    from webex_events import AsyncWebexEvents  # noqa: PLC0415

    async def main() -> dict[str, Any]:
        async with AsyncWebexEvents(token=TOKEN, base_url=args.base_url) as client:
            async for event in client.list_events(**_listing(args)):
                _ = event.resource, event.created
                digest.add(event.id)
        return {}

    return asyncio.run(main())


RUNNERS: dict[str, Runner] = {
    "sdk": run_sdk,
    "httpx": run_httpx,
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
    parser.add_argument(
        "--window",
        choices=("none", "auto", "default"),
        default="none",
        help="none (sequential), auto or default",
    )
    parser.add_argument("--concurrency", type=int, default=1, help="with --window auto")
    args = parser.parse_args()
    digest = IdDigest()
    for module in IMPORTS[args.runner]:
        importlib.import_module(module)
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
