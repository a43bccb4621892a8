"""A spec change reaches the library, the CLI, the fake server and CSV by regeneration alone.

Each test copies spec/ into a temporary directory, makes one change there, regenerates into a
temporary package with the real pinned scripts, and runs the repository's unchanged wrapper
against that package in a subprocess (see tests/_regen.py): no file outside the copied spec/
is edited.
"""

from __future__ import annotations

import json
import subprocess
import sys
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


def _rename_event_field(document: dict[str, Any], old: str, new: str) -> None:
    """Rename a top-level Event field in place (order and ``required`` kept)."""
    event = document["components"]["schemas"]["Event"]
    event["properties"] = {new if k == old else k: v for k, v in event["properties"].items()}
    event["required"] = [new if k == old else k for k in event["required"]]


def test_a_renamed_event_field_key_is_followed(tmp_path: Path) -> None:
    # actorId -> actorID: the Python name stays actor_id (the snake case of both), so the
    # accessor follows the key: the fake serves the new key and Event.actor_id reads it.
    def change(document: dict[str, Any]) -> None:
        _rename_event_field(document, "actorId", "actorID")
        # the actorId filter now selects on the renamed field (its wire name stays)
        (actor,) = (p for p in _list_events_parameters(document) if p["name"] == "actorId")
        actor["x-webex-events-event-field"] = "actorID"

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
assert all("actorID" in e and "actorId" not in e for e in fake.events)  # the fake serves the new key
with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    events = list(client.list_events(from_=START, to=END))
    one = client.get_event(events[0].id)
assert len(events) == len(fake.expected_ids(from_=START, to=END))
assert all(e.actor_id in fake.actor_ids and e.actor_id == e.raw["actorID"] for e in events)
assert one.actor_id == events[0].actor_id == one.model.actor_id  # typed attribute and model agree

actor = fake.actor_ids[0]
with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    mine = [e.id for e in client.list_events(from_=START, to=END, actor_id=actor)]
assert mine and sorted(mine) == sorted(fake.expected_ids(from_=START, to=END, actor_id=actor))
assert len(mine) < len(events)  # the fake filters on the renamed field

with fake.serve() as url:
    code, _, err = cli("export", "--base-url", url, *RANGE, "-q", "-o", "all.csv")
assert code == 0, err
rows = list(csv.DictReader(io.StringIO(Path("all.csv").read_text(encoding="utf-8"), newline="")))
assert len(rows) == len(events) and all(row["actorID"] in fake.actor_ids for row in rows)

from webex_events_api.spec import EVENT_KEYS
assert EVENT_KEYS.actor_id == "actorID"
""",
    )


def test_an_event_field_whose_python_name_changes_fails_at_import(tmp_path: Path) -> None:
    # actorId -> actorUuid: the Python name becomes actor_uuid. Event.actor_id is public API, so
    # it is not renamed by regeneration: the wrapper refuses to import (mypy --strict also says
    # where) until someone decides what the accessor becomes.
    generated = _changed(tmp_path, lambda document: _rename_event_field(document, "actorId", "actorUuid"))
    run_python(
        generated,
        """
try:
    import webex_events
except AttributeError as exc:
    assert "actor_id" in str(exc), exc
else:
    raise AssertionError("the wrapper imported against a spec without Event.actorId")
from webex_events_api.spec import EVENT_KEYS
assert EVENT_KEYS.actor_uuid == "actorUuid" and not hasattr(EVENT_KEYS, "actor_id")
""",
    )


def test_renamed_page_size_and_range_parameters(tmp_path: Path) -> None:
    renamed = {"max": "limit", "from": "since", "to": "until"}

    def change(document: dict[str, Any]) -> None:
        for parameter in _list_events_parameters(document):
            parameter["name"] = renamed.get(parameter["name"], parameter["name"])

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
client, seen = recording_client()
with client:
    got = [e.id for e in client.list_events(from_=START, to=END, page_size=50)]
assert got and sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
for request in seen:  # the library sends the new names, never the old ones
    params = request.url.params
    assert params["limit"] == "50" and "until" in params, request.url
    assert not {"max", "from", "to"} & set(params), request.url
assert any("since" in r.url.params for r in seen)
assert len(seen) >= len(got) // 50  # the fake pages by the renamed page size

auth = {"Authorization": f"Bearer {fake.token}"}
with httpx.Client(transport=fake.transport(), headers=auth) as http:
    assert http.get("https://webexapis.com/v1/events?limit=1001").status_code == 400
    page = http.get("https://webexapis.com/v1/events?limit=7")
    assert len(page.json()["items"]) == 7 and "limit=7" in page.headers["link"], page.headers
    bad = http.get("https://webexapis.com/v1/events?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.json()["message"], bad.text
    window = http.get(f"https://webexapis.com/v1/events?until={START.isoformat()}")
    assert window.json()["items"] == []  # nothing before the organization's first event

with fake.serve() as url:
    code, _, err = cli("export", "--base-url", url, *RANGE, "--page-size", "40", "-q", "-o", "all.jsonl")
assert code == 0, err
assert len(Path("all.jsonl").read_text().splitlines()) == len(got)
""",
    )


def test_a_moved_server_and_path(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        document["servers"] = [{"url": "https://compliance.example.invalid/api/v2"}]
        paths = document["paths"]
        document["paths"] = {"/audit" + path: item for path, item in paths.items()}

    generated = _changed(tmp_path, change)
    run_python(
        generated,
        PRELUDE
        + """
client, seen = recording_client()  # no base_url: the spec's server is the default
with client:
    got = [e.id for e in client.list_events(from_=START, to=END)]
    one = client.get_event(got[0])
assert got and sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
assert str(seen[0].url).startswith("https://compliance.example.invalid/api/v2/audit/events?"), seen[0].url
assert str(seen[-1].url) == f"https://compliance.example.invalid/api/v2/audit/events/{got[0]}"
assert one.id == got[0]

auth = {"Authorization": f"Bearer {fake.token}"}
with httpx.Client(transport=fake.transport(), headers=auth) as http:
    assert http.get("https://webexapis.com/v1/events").status_code == 404  # the old path is gone
with fake.serve() as url:
    assert url.endswith("/api/v2"), url
    code, _, err = cli("export", "--base-url", url, *RANGE, "-q", "-o", "all.jsonl")
assert code == 0, err
assert len(Path("all.jsonl").read_text().splitlines()) == len(got)
""",
    )


def test_a_filter_webex_adds_to_admin_audit_reaches_the_facts_by_sync_and_regeneration(
    tmp_path: Path,
) -> None:
    # Webex adds a filter to List Admin Audit Events: `nox -s sync_spec` brings it from Webex's
    # document into spec/ (no overlay edit), `nox -s generate` into the spec facts: the filter
    # is an admin audit filter (a keyword of ListAdminAuditEventsFilters) and no other stream's.
    document = json.loads((ROOT / "tests" / "data" / "upstream" / "webex-admin-compliance.json").read_text())
    document["paths"]["/adminAudit/events"]["get"]["parameters"].append(
        {
            "name": "targetId",
            "in": "query",
            "description": "List events that changed this resource, by ID.",
            "schema": {"type": "string"},
        }
    )
    source = tmp_path / "webex-admin.json"
    source.write_text(json.dumps(document))
    spec_dir = copy_spec(tmp_path)
    sync = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_spec.py"), str(source), "--spec-dir", str(spec_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert sync.returncode == 1, sync.stdout + sync.stderr
    told = "GET /adminAudit/events:\n  + parameter targetId (query, string): List events that changed"
    assert told in sync.stdout
    assert "targetId" in (spec_dir / "upstream" / "admin-audit.json").read_text()
    generated = regenerate(spec_dir, tmp_path / "out")
    run_python(
        generated,
        """
import os, typing
import webex_events_api
from webex_events_api.spec import (
    LIST_ADMIN_AUDIT_EVENTS, LIST_SECURITY_AUDIT_EVENTS, ListAdminAuditEventsFilters,
    ListSecurityAuditEventsFilters,
)

assert webex_events_api.__file__.startswith(os.getcwd()), webex_events_api.__file__
target = LIST_ADMIN_AUDIT_EVENTS.parameter("targetId")
assert (target.python_name, target.type, target.role) == ("target_id", "string", "filter")
assert target in LIST_ADMIN_AUDIT_EVENTS.filters and not target.required
hints = typing.get_type_hints(ListAdminAuditEventsFilters)
assert hints["target_id"] == str | None, hints
assert list(hints) == ["org_id", "actor_id", "event_categories", "target_id"], hints
assert "target_id" not in typing.get_type_hints(ListSecurityAuditEventsFilters)
assert LIST_ADMIN_AUDIT_EVENTS.paging == "offset" and LIST_ADMIN_AUDIT_EVENTS.role("page-size").maximum == 200

import webex_events  # the wrapper still imports against the regenerated facts
""",
    )
    # ... and from the facts to the library, the command, the fake and CSV, with no edit.
    run_python(
        generated,
        PRELUDE
        + """
audit = fake.admin_audit
org = fake.org_id
client, seen = recording_client()
with client:
    everything = [e.id for e in client.list_admin_audit_events(org_id=org, from_=START, to=END)]
    targeted = list(client.list_admin_audit_events(org_id=org, from_=START, to=END, target_id="T-1"))
assert sorted(everything) == sorted(audit.expected_ids(from_=START, to=END)) and everything
assert seen[-1].url.params["targetId"] == "T-1", seen[-1].url  # sent under its wire name
assert targeted == []  # the fake selects on the field of the filter's name: no event has it

code, help_text, _ = cli("export", "--help")
assert code == 0 and "--target-id" in help_text, help_text
with fake.serve() as url:
    for fmt in ("jsonl", "csv"):
        for target, expected in ((None, len(everything)), ("T-1", 0)):
            out = Path(f"audit-{target}.{fmt}")
            out.unlink(missing_ok=True)
            extra = [] if target is None else ["--target-id", target]
            code, _, err = cli("export", "--base-url", url, "--stream", "admin-audit", "--org-id", org,
                               *RANGE, *extra, "-q", "-o", str(out))
            assert code == 0, err
            rows = out.read_text().splitlines()
            assert len(rows) == expected + (fmt == "csv"), (fmt, target, len(rows))
    code, _, err = cli("export", "--base-url", url, "--stream", "security-audit", "--org-id", org, *RANGE,
                       "--target-id", "T-1", "-q", "-o", "refused.jsonl")
    assert code == 2 and "target" in err, err  # another stream's filter: refused
""",
    )
