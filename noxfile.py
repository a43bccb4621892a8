"""Every check of webex-events. `nox` runs them all; `nox -s generate` rewrites generated/.

Sessions: lint, typecheck, spec, generated_current, tests (the default set), and
sync_spec, generate, bench, vendor (run on demand).
"""

from __future__ import annotations

import os

import nox

# uv makes each session's environment in seconds (pip: 15-40 s each); plain venv where it is missing.
nox.options.default_venv_backend = "uv|venv"
# uv checks TLS against the system's certificate store, as pip does (a machine whose registry
# sits behind its own certificate authority trusts it there, not in uv's bundled roots).
os.environ.setdefault("UV_NATIVE_TLS", "1")
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "spec", "generated_current", "tests"]
# The tests run on every Python the classifiers claim that is on this machine; the others are
# reported as skipped, also under CI=true (where nox would otherwise fail on them).
nox.options.error_on_missing_interpreters = False

PYPROJECT = nox.project.load_toml("pyproject.toml")
GENERATOR_PINS = "scripts/requirements-generate.txt"
HAND_WRITTEN = ["wrapper", "scripts", "tests", "bench", "noxfile.py"]
PYTHONS = nox.project.python_versions(PYPROJECT)  # from the classifiers: 3.11, 3.12, 3.13


@nox.session(python=PYTHONS, download_python="never")
def tests(session: nox.Session) -> None:
    """The test suite (the generators too: a test proves generated_current catches hand edits).

    In parallel, one pytest-xdist worker per CPU this process may use (PYTEST_XDIST_AUTO_NUM_WORKERS
    sets another count): run serially, the suite kept a newcomer's first `nox` waiting for many
    minutes. Arguments replace `-n auto`: `nox -s tests -- -k follow` runs serially,
    `nox -s tests -- -n 2 -k follow` in parallel.
    """
    session.install("-r", GENERATOR_PINS)
    session.install("-e", ".[cli]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *(session.posargs or ["-n", "auto"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check on hand-written code (generated/ is excluded)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", *HAND_WRITTEN)
    session.run("ruff", "format", "--check", *HAND_WRITTEN)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on wrapper/ and scripts/."""
    session.install("-e", ".[cli]", *nox.project.dependency_groups(PYPROJECT, "typecheck"))
    session.run("mypy", "--strict", "wrapper/webex_events")
    session.run("mypy", "--strict", "scripts")


@nox.session
def spec(session: nox.Session) -> None:
    """Validate spec/openapi.yaml (OpenAPI 3.0) and spec/event.schema.json (JSON Schema 2020-12)."""
    session.install("openapi-spec-validator==0.9.0", "jsonschema==4.26.0", "pyyaml==6.0.3")
    session.run("openapi-spec-validator", "spec/openapi.yaml")
    session.run(
        "python",
        "-c",
        "import json, jsonschema; "
        "jsonschema.Draft202012Validator.check_schema(json.load(open('spec/event.schema.json'))); "
        "print('spec/event.schema.json: valid JSON Schema 2020-12')",
    )


@nox.session
def generate(session: nox.Session) -> None:
    """Rewrite spec/event.schema.json and generated/ from spec/openapi.yaml."""
    session.install("-r", GENERATOR_PINS)
    session.run("python", "scripts/regenerate.py", *session.posargs)


@nox.session
def generated_current(session: nox.Session) -> None:
    """Fail with a unified diff when spec/openapi.yaml is not what spec/upstream + spec/overlay.yaml
    produce (it was edited by hand), or generated/ is not what the scripts make from spec/ today."""
    session.install("-r", GENERATOR_PINS)
    session.run("python", "scripts/sync_spec.py", "--check")
    session.run("python", "scripts/check_generated.py")


@nox.session
def sync_spec(session: nox.Session) -> None:
    """Follow Webex's published spec: `nox -s sync_spec -- [SOURCE]` (default: Webex's document).

    Rewrites spec/upstream/ and spec/openapi.yaml and prints what changed for users. The script
    exits 1 when something changed (what CI keys on); the session succeeds then, and fails on 2.
    """
    session.install("-r", GENERATOR_PINS)
    session.run("python", "scripts/sync_spec.py", *session.posargs, success_codes=[0, 1])


@nox.session
def vendor(session: nox.Session) -> None:
    """Copy the client into another project: `nox -s vendor -- DEST --package NAME`."""
    if not session.posargs:
        session.error("usage: nox -s vendor -- DEST --package myapp._vendor.webex_events")
    session.run("python", "scripts/vendor.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against webexpythonsdk and plain httpx (`nox -s bench -- --quick`: a smoke run)."""
    session.install("-e", ".[cli,fast]", "webexpythonsdk==2.0.6")
    session.run("python", "bench/run.py", *session.posargs)
