"""JSON Schema of every event, as committed under `libs/contracts/schemas/`."""

import json
from pathlib import Path

from contracts.envelope import Envelope
from contracts.events import CATALOGUE

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schema_documents() -> dict[str, str]:
    """File name -> pretty JSON Schema of the full envelope for each event."""
    documents = {}
    for payload in CATALOGUE:
        schema = Envelope[payload].model_json_schema()  # type: ignore[valid-type]
        documents[f"{payload.event_type}.v{payload.version}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return documents


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
