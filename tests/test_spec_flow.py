"""A spec change reaches the library, the CLI, the fake server and CSV by regeneration alone.

Each test copies spec/ into a temporary directory, makes one change there, regenerates into a
temporary package with the real pinned scripts, and runs the repository's unchanged wrapper
against that package in a subprocess (see tests/_regen.py): no file outside the copied spec/
is edited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _regen import ROOT, copy_spec, load, regenerate, run_python, save

pytestmark = pytest.mark.slow

# Shared by every child: the regenerated package is the one imported; a fake organization over
# three days; the CLI run in process (its exit code and stderr returned).
PRELUDE = """
import contextlib, csv, io, json, os, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import webex_events_api
from webex_events import EventResource, EventType, InvalidArgumentError, WebexEvents
from webex_events.cli import main
from webex_events.testing import FakeWebex

assert webex_events_api.__file__.startswith(os.getcwd()), webex_events_api.__file__
END = datetime(2024, 3, 4, tzinfo=UTC)
START = END - timedelta(days=3)
RANGE = ["--from", "2024-03-01T00:00:00Z", "--to", "2024-03-04T00:00:00Z"]
fake = FakeWebex(events=600, seed=11, start=START, end=END)
os.environ["WEBEX_ACCESS_TOKEN"] = fake.token

def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args), standalone_mode=False)
    return code, out.getvalue(), err.getvalue()

def recording_client():
    seen = []
    http = httpx.Client(transport=fake.transport(), event_hooks={"request": [seen.append]})
    return WebexEvents(token=fake.token, http_client=http), seen

def forbidden(request):
    raise AssertionError(f"no request may be sent, got {request.url}")
"""


API_REFERENCE = {"API_REFERENCE": str(ROOT / "scripts" / "api_reference.py")}


def _changed(tmp_path: Path, change: Any) -> Path:
    spec_dir = copy_spec(tmp_path)
    document = load(spec_dir)
    change(document)
    save(spec_dir, document)
    return regenerate(spec_dir, tmp_path / "out")


def _list_events_parameters(document: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = document["paths"]["/events"]["get"]["parameters"]
    return parameters


def test_a_new_string_filter_naming_an_event_field(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        _list_events_parameters(document).append(
            {
                "name": "orgId",
                "in": "query",
                "description": "List events of this organization only.",
                "schema": {"type": "string"},
            }
        )

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
org = fake.events[0]["orgId"]
client, seen = recording_client()
with client:
    got = [e.id for e in client.list_events(from_=START, to=END, org_id=org)]
    other = [e.id for e in client.list_events(from_=START, to=END, org_id="another-org")]
assert seen[0].url.params["orgId"] == org, seen[0].url  # the library sends it under its wire name
assert got and sorted(got) == sorted(fake.expected_ids(from_=START, to=END, org_id=org))
assert other == [] == fake.expected_ids(from_=START, to=END, org_id="another-org")  # the fake filters

code, help_text, _ = cli("export", "--help")
assert code == 0 and "--org-id" in help_text and "organization only" in help_text, help_text
# the public API snapshot (docs/api.md) shows the change as a diff
import subprocess
snapshot = subprocess.run(
    [sys.executable, os.environ["API_REFERENCE"], "--check"], capture_output=True, text=True, check=False
)
assert snapshot.returncode == 1 and "+| `org_id` |" in snapshot.stdout, snapshot.stdout + snapshot.stderr
with fake.serve() as url:
    for value, expected in ((org, len(got)), ("another-org", 0)):
        out = Path("org.jsonl")
        out.unlink(missing_ok=True)
        code, _, err = cli("export", "--base-url", url, *RANGE, "--org-id", value, "-q", "-o", str(out))
        assert code == 0, err
        assert len(out.read_text().splitlines()) == expected
""",
        env=API_REFERENCE,
    )


def test_new_resource_and_type_values(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["EventResourceEnum"]["enum"].append("whiteboards")
        schemas["EventTypeEnum"]["enum"].append("read")

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
assert EventResource("whiteboards") is EventResource.WHITEBOARDS and EventType("read") is EventType.READ
assert {"whiteboards"} <= {e["resource"] for e in fake.events}  # the fake produces both
assert {"read"} <= {e["type"] for e in fake.events}
with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    boards = list(client.list_events(from_=START, to=END, resource=EventResource.WHITEBOARDS))
    reads = [e.id for e in client.list_events(from_=START, to=END, type=EventType.READ)]
assert boards and all(e.resource is EventResource.WHITEBOARDS for e in boards)  # typed now
assert sorted(e.id for e in boards) == sorted(fake.expected_ids(from_=START, to=END, resource="whiteboards"))
assert reads and sorted(reads) == sorted(fake.expected_ids(from_=START, to=END, type="read"))

code, help_text, _ = cli("export", "--help")
assert "whiteboards" in help_text and "read" in help_text
with fake.serve() as url:
    args = ["--resource", "whiteboards", "-q", "-o", "b.jsonl"]
    code, _, err = cli("export", "--base-url", url, *RANGE, *args)
assert code == 0 and "warning" not in err, err  # a spec value now: no warning
assert len(Path("b.jsonl").read_text().splitlines()) == len(boards)
""",
    )


def test_a_narrower_page_size_range(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        (max_parameter,) = (p for p in _list_events_parameters(document) if p["name"] == "max")
        max_parameter["schema"]["maximum"] = 500

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
with WebexEvents(token=fake.token, transport=httpx.MockTransport(forbidden)) as client:
    try:
        client.list_events(page_size=800)
    except InvalidArgumentError as exc:
        assert "page_size must be between 1 and 500, got 800" in str(exc), exc
    else:
        raise AssertionError("page_size=800 accepted")
client, seen = recording_client()
with client:
    list(client.list_events(from_=START, to=END))
assert seen[0].url.params["max"] == "500"  # the default page is the largest the spec allows

code, _, err = cli("export", "--base-url", "http://127.0.0.1:9/v1", *RANGE, "--page-size", "800")
assert code == 2 and "--page-size" in err and "800" in err, err

auth = {"Authorization": f"Bearer {fake.token}"}
with httpx.Client(transport=fake.transport(), headers=auth) as http:
    assert http.get("https://webexapis.com/v1/events?max=800").status_code == 400
    assert http.get("https://webexapis.com/v1/events?max=500").status_code == 200
""",
    )


def test_a_new_data_field(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["EventData"]["properties"]["sentiment"] = {
            "type": "string",
            "example": "positive",
            "description": "The tone of a message, as Webex's AI classified it.",
        }

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    events = list(client.list_events(from_=START, to=END))
tagged = [e for e in events if "sentiment" in e.raw["data"]]
assert tagged, "the fake emits the new field"
assert all(e.data.sentiment == "positive" for e in tagged)  # typed attribute
assert all('"sentiment":"positive"' in e.raw_json for e in tagged)  # exact raw JSON

with fake.serve() as url:
    code, _, err = cli("export", "--base-url", url, *RANGE, "-q", "-o", "all.csv")
assert code == 0, err
rows = list(csv.DictReader(io.StringIO(Path("all.csv").read_text(encoding="utf-8"), newline="")))
assert len(rows) == len(events)
assert sum(row["data.sentiment"] == "positive" for row in rows) == len(tagged)
""",
    )
