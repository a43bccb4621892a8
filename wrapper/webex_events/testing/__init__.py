"""A faithful fake of the Webex Events API for tests, demos and benchmarks (moto-style).

>>> import httpx
>>> from webex_events.testing import FakeWebex
>>> fake = FakeWebex(events=10, seed=7)
>>> with httpx.Client(transport=fake.transport()) as http:
...     r = http.get("https://webexapis.com/v1/events", headers={"Authorization": f"Bearer {fake.token}"})
>>> [item["id"] for item in r.json()["items"]] == fake.expected_ids()
True
"""

from ._app import FakeStats
from ._audit import AuditLog
from ._clock import SimClock
from ._damage import Damage
from ._fake import FakeWebex, run_server
from ._faults import Fault
from ._oauth import Integration
from ._transport import FakeAsyncTransport, FakeTransport

__all__ = [
    "AuditLog",
    "Damage",
    "FakeAsyncTransport",
    "FakeStats",
    "FakeTransport",
    "FakeWebex",
    "Fault",
    "Integration",
    "SimClock",
    "run_server",
]
