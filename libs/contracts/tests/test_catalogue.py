import json
import os

import pytest
from pydantic import ValidationError

from contracts import CATALOGUE, Envelope, RequestSubmitted, new_event, payload_type
from contracts.schemas import SCHEMA_DIR, schema_documents, write_schemas


def example_of(payload: type) -> object:
    """Build a payload from the field examples plus defaults for the rest."""
    from datetime import UTC, datetime

    values: dict[str, object] = {}
    for name, info in payload.model_fields.items():
        if info.examples:
            values[name] = info.examples[0]
        elif not info.is_required():
            continue
        elif info.annotation is datetime:
            values[name] = datetime.now(UTC)
        elif info.annotation is int:
            values[name] = 1
        elif info.annotation is bool:
            values[name] = True
        elif info.annotation is str:
            values[name] = "text"
        elif getattr(info.annotation, "__origin__", None) is list:
            values[name] = ["tec_ana"]
        else:  # an enumeration: its first member
            values[name] = next(iter(info.annotation))
    return payload(**values)


@pytest.mark.parametrize("payload", CATALOGUE, ids=lambda p: p.event_type)
def test_every_event_round_trips_through_json(payload):
    event = new_event(example_of(payload), producer="test", correlation_id="corr-1")
    wire = event.model_dump_json()
    back = Envelope[payload].model_validate_json(wire)
    assert back == event
    assert back.type == payload.event_type
    assert payload_type(back.type) is payload


@pytest.mark.parametrize("payload", CATALOGUE, ids=lambda p: p.event_type)
def test_readers_ignore_unknown_fields(payload):
    body = json.loads(new_event(example_of(payload), producer="t", correlation_id="c").model_dump_json())
    body["added_in_a_later_version"] = {"x": 1}
    body["data"]["new_field"] = "ignored"
    parsed = Envelope[payload].model_validate(body)
    assert not hasattr(parsed.data, "new_field")


def test_routing_keys_are_unique_and_versioned():
    keys = [p.routing_key() for p in CATALOGUE]
    assert len(set(keys)) == len(keys)
    assert RequestSubmitted.routing_key() == "request.submitted.v1"
    assert all(k.count(".") == 2 and k.rsplit(".", 1)[1].startswith("v") for k in keys)


def test_invalid_payloads_are_refused():
    with pytest.raises(ValidationError):
        Envelope[RequestSubmitted].model_validate({"event_id": "not-a-uuid", "data": {}})
    with pytest.raises(ValidationError):
        example_of(RequestSubmitted).model_copy(update={}).model_validate(
            {**example_of(RequestSubmitted).model_dump(), "connection_code": "12ab"}
        )


def test_committed_json_schemas_are_up_to_date():
    if os.environ.get("UPDATE_SNAPSHOTS"):
        write_schemas()
    expected = schema_documents()
    committed = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert committed == expected, "libs/contracts/schemas is stale: run `make snapshots` and commit the result"
