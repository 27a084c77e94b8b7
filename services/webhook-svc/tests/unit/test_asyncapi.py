from pathlib import Path

from testkit.snapshots import assert_snapshot, snapshot_settings
from webhook_svc.bootstrap import bootstrap
from webhook_svc.config import Settings


def test_committed_asyncapi_document_is_current():
    document = bootstrap(snapshot_settings(Settings)).asyncapi()
    assert_snapshot(Path(__file__).parents[2] / "asyncapi.json", document)
