"""webex-events: a typed, exact, resilient client for the Webex Events API.

>>> from webex_events import WebexEvents, EventResource
>>> EventResource("messages")
<EventResourceEnum.MESSAGES: 'messages'>
"""

import importlib
from typing import TYPE_CHECKING, Any

from webex_events_api.models import EventResourceEnum as EventResource
from webex_events_api.models import EventServiceTypeEnum as ServiceType
from webex_events_api.models import EventTypeEnum as EventType

from ._client import EventStream, WebexEvents
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidArgumentError,
    MalformedResponseError,
    NotFoundError,
    PagingLoopError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    UnsafeNextLinkError,
    WebexConnectionError,
    WebexError,
)
from ._event import Event
from ._follow import FollowBatch, FollowCheckpoint
from ._models import ListStats, Window
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from ._async_client import AsyncEventStream, AsyncWebexEvents
    from ._version import __version__

# Imported on first use: a sync program (and the command) never pays for asyncio (about 25 ms of
# every start), nor for importlib.metadata and the lookup of the distribution (about 10 ms).
_LAZY = {
    "AsyncEventStream": "._async_client",
    "AsyncWebexEvents": "._async_client",
    "__version__": "._version",
}


if not TYPE_CHECKING:  # (for a type checker, the imports above; an unknown name stays an error)

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(importlib.import_module(_LAZY[name], __name__), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "APIError",
    "AsyncEventStream",
    "AsyncWebexEvents",
    "AuthenticationError",
    "BadRequestError",
    "Event",
    "EventResource",
    "EventStream",
    "EventType",
    "FollowBatch",
    "FollowCheckpoint",
    "InvalidArgumentError",
    "ListStats",
    "MalformedResponseError",
    "NotFoundError",
    "PagingLoopError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "ServiceType",
    "UnsafeNextLinkError",
    "WebexConnectionError",
    "WebexError",
    "WebexEvents",
    "Window",
    "__version__",
]
