from pathlib import Path

from dispatch_svc.bootstrap import bootstrap
from dispatch_svc.config import Settings
from testkit.snapshots import assert_snapshot, snapshot_settings


def test_committed_asyncapi_document_is_current():
    document = bootstrap(snapshot_settings(Settings)).asyncapi()
    assert_snapshot(Path(__file__).parents[2] / "asyncapi.json", document)
