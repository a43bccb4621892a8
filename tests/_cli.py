"""Run the ``webex-events`` command in a subprocess with a clean environment (shared by tests)."""

from __future__ import annotations

import os
import subprocess
import sys


def cli_env(token: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``WEBEX_*`` variable, plus the token if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    if token is not None:
        env["WEBEX_ACCESS_TOKEN"] = token
    env.update(extra or {})
    return env


def run_cli(
    *args: str, token: str | None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m webex_events.cli ARGS`` with :func:`cli_env`."""
    return subprocess.run(
        [sys.executable, "-m", "webex_events.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(token, env),
        timeout=timeout,
        check=False,
    )


def webex_token(secret: str, org_id: str) -> str:
    """A token shaped as Webex's: ``SECRET_<cluster>_<organization uuid>``, naming ``org_id``
    (an organization id, the base64 of ``ciscospark://us/ORGANIZATION/<uuid>``)."""
    import base64  # noqa: PLC0415 - only the tests of org ids need it

    uuid = base64.urlsafe_b64decode(org_id + "=" * (-len(org_id) % 4)).decode("ascii").rpartition("/")[2]
    return f"{secret}_PF84_{uuid}"
