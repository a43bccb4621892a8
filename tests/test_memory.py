"""The CLI's malloc settings, which keep an export's memory bounded (and a user's own settings win)."""

from __future__ import annotations

import pytest

from webex_events.cli import _malloc


class _FakeLibc:
    """``ctypes.CDLL(None)`` with a ``mallopt`` that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.mallopt = self

    def __call__(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> _FakeLibc:
    fake = _FakeLibc()
    for name in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_malloc.sys, "platform", "linux")
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda _name: fake)
    return fake


def test_the_cli_caps_the_arenas(libc: _FakeLibc) -> None:
    assert _malloc.limit_malloc_arenas()
    assert libc.calls == [(_malloc._M_ARENA_MAX, 2)]


def test_a_users_malloc_settings_win(libc: _FakeLibc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert not _malloc.limit_malloc_arenas()
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=8")
    assert not _malloc.limit_malloc_arenas()
    assert libc.calls == []
