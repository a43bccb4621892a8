"""One masking function for every string that came from a server or may echo a request.

Errors, log lines and the CLI all pass server text (messages, tracking ids, error bodies, URLs)
through :func:`redact`, so a server or proxy that echoes the Authorization header cannot make
the token appear in output.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

__all__ = ["MASK", "redact"]

MASK = "[REDACTED]"


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` masked in every form a server could echo it (as is, URL-encoded).

    >>> redact("echo: Bearer s3cr3t-t0ken a%2Fb+c", "s3cr3t-t0ken"), redact("a%2Fb+c", "a/b c")
    ('echo: Bearer [REDACTED] a%2Fb+c', '[REDACTED]')
    """
    if not secret or len(secret) < 4:
        return text
    for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret))):
        if form in text:
            text = text.replace(form, MASK)
    return text
