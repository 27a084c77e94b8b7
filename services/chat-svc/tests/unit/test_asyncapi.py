from pathlib import Path

from testkit.snapshots import assert_snapshot

from chat_svc.bootstrap import bootstrap
from chat_svc.config import Settings


def test_committed_asyncapi_document_is_current():
    document = bootstrap(Settings()).asyncapi()
    assert_snapshot(Path(__file__).parents[2] / "asyncapi.json", document)
