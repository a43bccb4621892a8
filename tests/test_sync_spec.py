"""scripts/sync_spec.py: Webex's document -> spec/upstream + spec/overlay.yaml -> spec/openapi.yaml.

Sources are the copies in tests/data/upstream/ (its README says where they come from and their
licence) or mutated copies of them written to tmp_path. Every sync writes into a copy of spec/
(``--spec-dir``), so the repository's spec/ is only ever read.

The part we serve of Webex's admin document (PART_JSON: the compliance operations and what they
reach) stands in for the whole document in most tests; the whole document itself
(``webex-admin.json.gz``) is synced where it matters that the rest is left out.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import importlib.util
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from _regen import regenerate, run_python

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "sync_spec.py"
UPSTREAM = Path(__file__).parent / "data" / "upstream"
#: The operations we serve of Webex's admin document (2026-05-04), with what they reach.
PART_JSON = UPSTREAM / "webex-admin-compliance.json"
#: Webex's whole admin document of the same day, compressed.
ADMIN_GZ = UPSTREAM / "webex-admin.json.gz"
#: Webex's whole messaging document: it has /events, but not the audit streams.
MESSAGING_JSON = UPSTREAM / "webex-messaging.json"
PRODUCED = (
    "openapi.yaml",
    "upstream/events.json",
    "upstream/admin-audit.json",
    "upstream/security-audit.json",
    "upstream/authorizations.json",
)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_spec", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync_spec"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sync_spec = _load_script()


def _sync(*args: str | Path) -> tuple[int, str, str]:
    """Run the command in process (fast): exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = sync_spec.main([str(arg) for arg in args])
    return code, out.getvalue(), err.getvalue()


def _spec_copy(tmp_path: Path, name: str = "spec") -> Path:
    """The committed spec/ (what sync_spec reads and writes) copied below tmp_path."""
    target = tmp_path / name
    shutil.copytree(ROOT / "spec", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _files(spec_dir: Path) -> dict[str, bytes]:
    return {name: (spec_dir / name).read_bytes() for name in PRODUCED}


def _parameter(document: dict[str, Any], name: str) -> dict[str, Any]:
    """List Events' parameter *name* (the object itself: changing it changes the document)."""
    (found,) = (p for p in document["paths"]["/events"]["get"]["parameters"] if p["name"] == name)
    assert isinstance(found, dict)
    return found


def _whole_admin_document(tmp_path: Path) -> Path:
    source = tmp_path / "webex-admin.json"
    source.write_bytes(gzip.decompress(ADMIN_GZ.read_bytes()))
    return source


def _mutated(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    document = json.loads(PART_JSON.read_text(encoding="utf-8"))
    change(document)
    source = tmp_path / "webex-admin.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    return source


# --------------------------------------------------------------------------- (a) reproduction


@pytest.mark.parametrize("whole", [False, True], ids=["compliance-part", "whole-document"])
def test_sync_reproduces_the_committed_spec_byte_for_byte(tmp_path: Path, whole: bool) -> None:
    spec_dir = _spec_copy(tmp_path)
    source = _whole_admin_document(tmp_path) if whole else PART_JSON
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(source), "--spec-dir", str(spec_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
    assert _files(spec_dir) == _files(ROOT / "spec")


def test_sync_into_an_empty_spec_dir_writes_the_committed_files(tmp_path: Path) -> None:
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    shutil.copy(ROOT / "spec" / "overlay.yaml", spec_dir)
    code, out, err = _sync(_whole_admin_document(tmp_path), "--spec-dir", spec_dir)
    assert code == 1, err
    assert "+ parameter max (query, integer, 1..1000, default 100)" in out  # all new: listed
    assert "+ parameter max (query, integer, 1..200, default 100)" in out  # admin audit's
    assert _files(spec_dir) == _files(ROOT / "spec")


def test_the_committed_spec_passes_check_and_a_hand_edit_fails_it(tmp_path: Path) -> None:
    code, out, _ = _sync("--check")  # reads the repository's spec/, writes nothing
    assert code == 0, out

    spec_dir = _spec_copy(tmp_path)
    produced = spec_dir / "openapi.yaml"
    produced.write_text(produced.read_text().replace("maximum: 1000", "maximum: 2000"))
    code, out, _ = _sync("--check", "--spec-dir", spec_dir)
    assert code == 1
    assert "-            maximum: 2000" in out
    assert "+            maximum: 1000" in out
    assert "never edit it" in out


def test_produced_spec_says_it_is_produced_and_where_deviations_live() -> None:
    text = (ROOT / "spec" / "openapi.yaml").read_text()
    assert text.startswith("# PRODUCED by scripts/sync_spec.py: do not edit")
    assert "spec/overlay.yaml" in text.split("\nopenapi:")[0]


# --------------------------------------------------------------------------- (b) changes


def _add_query_parameter(document: dict[str, Any]) -> None:
    document["paths"]["/events"]["get"]["parameters"].append(
        {
            "name": "orgId",
            "in": "query",
            "description": "List events of this org.",
            "schema": {"type": "string"},
        }
    )


def _add_enum_value(document: dict[str, Any]) -> None:
    # Webex lists resources twice: the parameter's inline enum and EventResourceEnum
    document["components"]["schemas"]["EventResourceEnum"]["enum"].append("whiteboards")
    _parameter(document, "resource")["schema"]["enum"].append("whiteboards")


def _remove_enum_value(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["EventResourceEnum"]["enum"].remove("tabs")
    _parameter(document, "resource")["schema"]["enum"].remove("tabs")


def _data_fields(document: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = document["components"]["schemas"]["Event"]["properties"]["data"]["properties"]
    return fields


def _add_data_field(document: dict[str, Any]) -> None:
    _data_fields(document)["sentiment"] = {
        "type": "string",
        "example": "positive",
        "description": "The tone.",
    }


def _remove_data_field(document: dict[str, Any]) -> None:
    del _data_fields(document)["callingLineId"]


def _narrow_max(document: dict[str, Any]) -> None:
    _parameter(document, "max")["schema"]["maximum"] = 500


def _change_description(document: dict[str, Any]) -> None:
    _parameter(document, "actorId")["description"] = "List events performed by this person (a person ID)."


def _openapi(spec_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((spec_dir / "openapi.yaml").read_text())
    return loaded


CHANGES = {
    "new query parameter": (
        _add_query_parameter,
        lambda spec: _parameter(spec, "orgId")["schema"] == {"type": "string"},
        ["+ parameter orgId (query, string): List events of this org."],
    ),
    "new enum value": (
        _add_enum_value,
        lambda spec: "whiteboards" in spec["components"]["schemas"]["EventResourceEnum"]["enum"],
        [
            "~ parameter resource: enum value(s) added: whiteboards",
            "~ field resource: enum value(s) added: whiteboards",
        ],
    ),
    "removed enum value": (
        _remove_enum_value,
        lambda spec: "tabs" not in spec["components"]["schemas"]["EventResourceEnum"]["enum"],
        ["~ parameter resource: enum value(s) removed: tabs **BREAKING**"],
    ),
    "new data field": (
        _add_data_field,
        lambda spec: (
            spec["components"]["schemas"]["EventData"]["properties"]["sentiment"]["type"] == "string"
        ),
        ["+ data.sentiment (string): The tone."],
    ),
    "removed data field": (
        _remove_data_field,
        lambda spec: "callingLineId" not in spec["components"]["schemas"]["EventData"]["properties"],
        ["- data.callingLineId removed (or renamed) **BREAKING**"],
    ),
    "narrower max": (
        _narrow_max,
        lambda spec: _parameter(spec, "max")["schema"]["maximum"] == 500,
        [
            "~ parameter max: range 1..1000 -> 1..500 (narrower range **BREAKING**)",
            # the overlay only filled in the bound Webex did not state: now it says so itself
            "no longer apply (Webex now states the value)",
            "(max's upper bound, which Webex states only in prose",
        ],
    ),
    "changed description": (
        _change_description,
        lambda spec: _parameter(spec, "actorId")["description"].endswith("(a person ID)."),
        ["~ parameter actorId: description changed: 'List events performed by this person (a person ID).'"],
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_upstream_reaches_the_spec_and_the_summary(tmp_path: Path, name: str) -> None:
    change, in_spec, told = CHANGES[name]
    spec_dir = _spec_copy(tmp_path)
    code, out, err = _sync(_mutated(tmp_path, change), "--spec-dir", spec_dir)
    assert code == 1, err
    assert in_spec(_openapi(spec_dir)), name
    for line in told:
        assert line in out, f"{line!r} not in:\n{out}"
    breaking = "**BREAKING**" in out
    assert breaking == name.startswith(("removed", "narrower")), out
    assert "Next: `nox -s generate`" in out
    # the stored upstream part is the mutated document's Events part, and a re-run is a no-op
    assert _sync(_mutated(tmp_path, change), "--spec-dir", spec_dir)[0] == 0
    assert _sync("--check", "--spec-dir", spec_dir)[0] == 0


def test_upstream_text_an_overlay_action_replaces_is_flagged_for_review(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        _parameter(document, "to")["description"] = "Webex's new wording."

    spec_dir = _spec_copy(tmp_path)
    code, out, _ = _sync(_mutated(tmp_path, change), "--spec-dir", spec_dir)
    assert code == 1  # spec/upstream changed, spec/openapi.yaml did not: our wording stays
    assert _openapi(spec_dir) == _openapi(ROOT / "spec")
    assert "No change to the API description" in out
    assert "[?@.name=='to']['description']" in out
    assert "Webex's new wording." in out


# --------------------------------------------------------------------------- (c) overlay errors


def test_an_action_matching_nothing_fails_naming_it(tmp_path: Path) -> None:
    spec_dir = _spec_copy(tmp_path)
    before = _files(spec_dir)
    overlay = yaml.safe_load((spec_dir / "overlay.yaml").read_text())
    overlay["actions"].append(
        {
            "description": "Whiteboards are filtered by board (a made-up deviation)",
            "target": "$.paths['/events'].get.parameters[?@.name=='board']",
            "update": {"x-webex-events-event-field": "data.boardId"},
        }
    )
    (spec_dir / "overlay.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    code, out, err = _sync(PART_JSON, "--spec-dir", spec_dir)
    assert code == 2
    number = len(overlay["actions"])
    assert err.count("\n") == 1
    assert f"action {number} (Whiteboards are filtered by board" in err
    assert "matches nothing" in err
    assert out == ""
    assert _files(spec_dir) == before  # nothing written


def test_an_upstream_change_an_action_no_longer_fits_fails_naming_it(tmp_path: Path) -> None:
    def rename(document: dict[str, Any]) -> None:
        _parameter(document, "to")["name"] = "until"  # the `to` deviations have nothing to act on

    spec_dir = _spec_copy(tmp_path)
    code, _, err = _sync(_mutated(tmp_path, rename), "--spec-dir", spec_dir)
    assert code == 2
    assert "(to: an ISO 8601 date-time owned by the wrapper" in err
    assert "matches nothing" in err


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"target": "$.info", "update": {"title": "x"}}, "has no description (say why"),
        ({"description": "Both", "target": "$", "update": {}, "remove": True}, "exactly one of update"),
        ({"description": "Bad path", "target": "$.paths[", "remove": True}, "bad JSONPath '$.paths['"),
    ],
)
def test_an_unusable_overlay_action_fails_naming_it(
    tmp_path: Path, action: dict[str, Any], message: str
) -> None:
    spec_dir = _spec_copy(tmp_path)
    overlay = yaml.safe_load((spec_dir / "overlay.yaml").read_text())
    overlay["actions"].append(action)
    (spec_dir / "overlay.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    code, _, err = _sync("--reapply", "--spec-dir", spec_dir)
    assert code == 2
    assert f"action {len(overlay['actions'])}" in err
    assert message in err


def test_a_bad_source_fails_with_one_line(tmp_path: Path) -> None:
    cases = {
        str(tmp_path / "missing.json"): "cannot read",
        "http://example.invalid/webex-admin.json": "only https URLs",
        str(ROOT / "spec" / "overlay.yaml"): "not an OpenAPI document",
    }
    for source, message in cases.items():
        code, out, err = _sync(source, "--spec-dir", _spec_copy(tmp_path, f"spec-{len(message)}"))
        assert (code, out) == (2, ""), source
        assert err.startswith("sync_spec: error: "), err
        assert message in err, err
        assert err.count("\n") == 1, err


# --------------------------------------------------------------------------- (d) determinism


def test_two_runs_give_byte_identical_files(tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two"):
        spec_dir = tmp_path / name
        spec_dir.mkdir()
        shutil.copy(ROOT / "spec" / "overlay.yaml", spec_dir)
        assert _sync(_mutated(tmp_path, _add_data_field), "--spec-dir", spec_dir)[0] == 1
        runs.append(_files(spec_dir))
        assert _sync("--reapply", "--spec-dir", spec_dir)[0] == 0  # re-applying changes nothing
    assert runs[0] == runs[1]


def test_apply_overlay_never_modifies_its_input() -> None:
    part = sync_spec.stored_document(ROOT / "spec")
    kept = copy.deepcopy(part)
    actions = sync_spec.load_overlay(ROOT / "spec" / "overlay.yaml")
    sync_spec.apply_overlay(part, actions)
    assert part == kept


# --------------------------------------------------------------------------- the library


@pytest.mark.slow
def test_a_synced_filter_and_data_field_work_after_regenerating(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        _add_query_parameter(document)
        _add_data_field(document)

    spec_dir = _spec_copy(tmp_path)
    assert _sync(_mutated(tmp_path, change), "--spec-dir", spec_dir)[0] == 1
    generated = regenerate(spec_dir, tmp_path / "out")
    run_python(
        generated,
        """
        import os
        from datetime import UTC, datetime, timedelta

        import httpx
        import webex_events_api
        from webex_events import WebexEvents
        from webex_events.testing import FakeWebex

        assert webex_events_api.__file__.startswith(os.getcwd()), webex_events_api.__file__
        end = datetime(2024, 3, 4, tzinfo=UTC)
        start = end - timedelta(days=2)
        fake = FakeWebex(events=300, seed=3, start=start, end=end)
        org = fake.events[0]["orgId"]
        seen = []
        http = httpx.Client(transport=fake.transport(), event_hooks={"request": [seen.append]})
        with WebexEvents(token=fake.token, http_client=http) as client:
            mine = list(client.list_events(from_=start, to=end, org_id=org))
            none = list(client.list_events(from_=start, to=end, org_id="another-org"))
        assert seen[0].url.params["orgId"] == org
        assert sorted(e.id for e in mine) == sorted(fake.expected_ids(from_=start, to=end, org_id=org))
        assert mine and none == []
        tagged = [e for e in mine if "sentiment" in e.raw["data"]]
        assert tagged and all(e.data.sentiment == "positive" for e in tagged)
        """,
    )


# --------------------------------------------------------------------------- (e) the parts we serve


def test_the_stored_upstream_is_one_file_per_area_of_the_api() -> None:
    overlay = yaml.safe_load((ROOT / "spec" / "overlay.yaml").read_text())
    listed = overlay["x-webex-events-upstream"]
    stored = sorted(path.name for path in (ROOT / "spec" / "upstream").glob("*.json"))
    assert stored == sorted(listed)
    operations = {}
    for name, wanted in listed.items():
        part = json.loads((ROOT / "spec" / "upstream" / name).read_text())
        assert "info" not in part
        found = [f"{method.upper()} {path}" for path, item in part["paths"].items() for method in item]
        assert sorted(found) == sorted(wanted), name
        operations[name] = set(part.get("components", {}).get("schemas", {}))
    assert operations["events.json"] == {
        "Event",
        "EventCollectionResponse",
        "EventResourceEnum",
        "EventTypeEnum",
        "Recipient",
    }
    assert operations["admin-audit.json"] == {
        "AdminRolesEnum",
        "AuditEvent",
        "AuditEventCategoryCollectionResponse",
        "AuditEventCollectionResponse",
    }
    assert operations["security-audit.json"] == {"SecurityAuditEvent", "SecurityAuditEventCollectionResponse"}
    assert operations["authorizations.json"] == set()  # tokenExpiry's answer is inline


def test_the_produced_spec_has_the_operations_we_serve() -> None:
    spec = _openapi(ROOT / "spec")
    found = {
        f"{method.upper()} {path}": op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert found == {
        "GET /events": "listEvents",
        "GET /events/{eventId}": "getEventDetails",
        "GET /adminAudit/events": "listAdminAuditEvents",
        "GET /adminAudit/eventCategories": "listAdminAuditEventCategories",
        "GET /admin/securityAudit/events": "listSecurityAuditEvents",
        "GET /authorizations/tokenExpiry": "tokenExpiry",
        # Webex documents these two in prose only: they come from the overlay
        "GET /authorize": "authorize",
        "POST /access_token": "accessToken",
    }
    upstream = sync_spec.stored_document(ROOT / "spec")
    assert "/authorize" not in upstream["paths"]
    assert "/access_token" not in upstream["paths"]


def _sync_merged(source: Path, spec_dir: Path) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, stdout and stderr in one stream (the order they see)."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(source), "--spec-dir", str(spec_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_document_before_service_type_tells_what_changed_then_names_the_action(tmp_path: Path) -> None:
    # Webex's admin document of 2026-03-12, the last without List Events' serviceType: its Events
    # part is byte for byte that of Webex's document of 2026-02-20 (tests/data/upstream/README.md).
    # The overlay names serviceType's schema (action 11) and rules (action 21); before, the sync
    # stopped naming action 11 and said nothing of what had changed.
    spec_dir = _spec_copy(tmp_path)
    before = _files(spec_dir)
    result = _sync_merged(UPSTREAM / "webex-admin-2026-03-12-compliance.json", spec_dir)
    out = result.stdout
    assert result.returncode == 2, out
    removed = out.index("  - parameter serviceType removed (or renamed) **BREAKING**")
    assert out.index("GET /events:") < removed
    assert "~ parameter resource: enum value(s) removed: convergedRecordings **BREAKING**" in out
    action = out.index(
        "sync_spec: error: overlay action 11 (The service types get a name, EventServiceTypeEnum"
    )
    assert removed < action  # what changed first, then the action that no longer applies
    assert "sync_spec: error: overlay action 21 (serviceType takes a known EventServiceTypeEnum" in out
    assert out.index("Fix or delete the overlay actions named below") < action
    assert "GET /adminAudit/events" not in out  # the audit streams did not change
    assert _files(spec_dir) == before  # nothing written


def test_a_document_without_the_audit_streams_says_so_before_naming_the_actions(tmp_path: Path) -> None:
    spec_dir = _spec_copy(tmp_path)
    before = _files(spec_dir)
    result = _sync_merged(MESSAGING_JSON, spec_dir)  # /events, but no audit stream
    out = result.stdout
    assert result.returncode == 2, out
    for operation in (
        "GET /adminAudit/events",
        "GET /admin/securityAudit/events",
        "GET /authorizations/tokenExpiry",
    ):
        assert f"{operation}:\n  - operation removed **BREAKING**" in out, operation
    first_error = out.index("sync_spec: error: ")
    assert out.index("- operation removed **BREAKING**") < first_error
    assert "matches nothing: target $.paths['/adminAudit/events'].get\n" in out[first_error:]
    assert "GET /events:" not in out  # List Events is the same in both documents
    assert _files(spec_dir) == before


def test_a_removed_audit_parameter_is_breaking_and_its_action_named(tmp_path: Path) -> None:
    def remove_offset(document: dict[str, Any]) -> None:
        operation = document["paths"]["/adminAudit/events"]["get"]
        operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "offset"]

    spec_dir = _spec_copy(tmp_path)
    code, out, err = _sync(_mutated(tmp_path, remove_offset), "--spec-dir", spec_dir)
    assert code == 2
    assert "GET /adminAudit/events:\n  - parameter offset removed (or renamed) **BREAKING**" in out
    assert err.startswith("sync_spec: error: overlay action ")
    assert "(offset is a count of events, so a non-negative integer" in err
    assert err.count("\n") == 1


def test_a_new_audit_field_and_narrower_audit_page_reach_the_summary(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["SecurityAuditEvent"]["properties"]["data"]["properties"]["signInMethod"] = {
            "type": "string",
            "example": "SSO",
            "description": "How the user signed in.",
        }
        (size,) = (
            p for p in document["paths"]["/adminAudit/events"]["get"]["parameters"] if p["name"] == "max"
        )
        size["schema"]["maximum"] = 100  # Webex now states the bound itself, narrower

    spec_dir = _spec_copy(tmp_path)
    code, out, err = _sync(_mutated(tmp_path, change), "--spec-dir", spec_dir)
    assert code == 1, err
    assert "SecurityAuditEvent fields:\n  + data.signInMethod (string): How the user signed in." in out
    assert (
        "GET /adminAudit/events:\n  ~ parameter max: range 1..200 -> 1..100 (narrower range **BREAKING**)"
        in out
    )
    assert "no longer apply (Webex now states the value)" in out
    assert "(max's upper bound, which Webex states only in prose (\"The maximum val...)" in out
    assert "Other changes" not in out  # every change was told in a user's terms
