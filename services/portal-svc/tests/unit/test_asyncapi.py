from pathlib import Path

from portal_svc.bootstrap import bootstrap
from portal_svc.config import Settings
from testkit.snapshots import assert_snapshot, snapshot_settings


def test_committed_asyncapi_document_is_current():
    document = bootstrap(snapshot_settings(Settings)).asyncapi()
    assert_snapshot(Path(__file__).parents[2] / "asyncapi.json", document)
