"""The ``webex-events`` command: export, get, follow, auth, fake-server.

Exit codes: 0 done, 1 local I/O failure, 2 bad usage (nothing sent), 3 authentication or
permission refused (401/403), 4 API failure after retries, 5 the OAuth refresh token is dead
(sign in again: ``auth login``), 130 interrupted by Ctrl-C (SIGINT), 143 stopped by SIGTERM.
"""

from __future__ import annotations

from ._auth_command import auth
from ._export_command import export
from ._follow_command import follow
from ._get_command import get
from ._main import main

__all__ = ["main"]

main.add_command(export)
main.add_command(follow)
main.add_command(get)
main.add_command(auth)
# The fake's own command, beside it in webex_events.testing; imported only when used.
main.defer_command("fake-server", "webex_events.testing._command", "fake_server")
