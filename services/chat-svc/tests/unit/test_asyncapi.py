from pathlib import Path

from chat_svc.bootstrap import bootstrap
from chat_svc.config import Settings
from testkit.snapshots import assert_snapshot, snapshot_settings


def test_committed_asyncapi_document_is_current():
    document = bootstrap(snapshot_settings(Settings)).asyncapi()
    assert_snapshot(Path(__file__).parents[2] / "asyncapi.json", document)
