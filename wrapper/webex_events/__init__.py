"""webex-events: a typed, exact, resilient client for the Webex Events API.

>>> from webex_events import WebexEvents, EventResource
>>> EventResource("messages")
<EventResourceEnum.MESSAGES: 'messages'>
"""

from webex_events_api.models import EventResourceEnum as EventResource
from webex_events_api.models import EventServiceTypeEnum as ServiceType
from webex_events_api.models import EventTypeEnum as EventType

from ._async_client import AsyncEventStream, AsyncWebexEvents
from ._auth import Auth, FileTokenStore, OAuthRefresh, OAuthTokens, TokenFile, TokenStore
from ._client import EventStream, WebexEvents
from ._errors import (
    APIError,
    AuthenticationError,
    BadEventError,
    BadRequestError,
    InvalidArgumentError,
    MalformedResponseError,
    NotFoundError,
    PagingLoopError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    TokenRefreshError,
    UndecodableResponseError,
    UnsafeNextLinkError,
    WebexConnectionError,
    WebexError,
)
from ._event import AuditEvent, Event, SecurityAuditEvent
from ._follow import FollowBatch, FollowCheckpoint
from ._models import ListStats, Window
from ._retry import RetryPolicy
from ._version import __version__

__all__ = [
    "APIError",
    "AsyncEventStream",
    "AsyncWebexEvents",
    "AuditEvent",
    "Auth",
    "AuthenticationError",
    "BadEventError",
    "BadRequestError",
    "Event",
    "EventResource",
    "EventStream",
    "EventType",
    "FileTokenStore",
    "FollowBatch",
    "FollowCheckpoint",
    "InvalidArgumentError",
    "ListStats",
    "MalformedResponseError",
    "NotFoundError",
    "OAuthRefresh",
    "OAuthTokens",
    "PagingLoopError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "SecurityAuditEvent",
    "ServerError",
    "ServiceType",
    "TokenFile",
    "TokenRefreshError",
    "TokenStore",
    "UndecodableResponseError",
    "UnsafeNextLinkError",
    "WebexConnectionError",
    "WebexError",
    "WebexEvents",
    "Window",
    "__version__",
]
