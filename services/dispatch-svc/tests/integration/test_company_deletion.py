"""A company deleted in portal-svc: its waiting requests are cancelled with a sentence for the
customer, offers withdrawn, assigned chats left alone, and a later submission refused."""

import pytest

from contracts import CompanyUpdated
from testkit import eventually

from ..support import ACCOUNT, available, envelope, submitted, unique

pytestmark = pytest.mark.integration


def acked(svc) -> float:
    labels = {"event_type": "CompanyUpdated", "outcome": "ack"}
    return svc.service.runtime.metrics.registry.get_sample_value("assistline_events_consumed_total", labels) or 0.0


async def test_deleting_a_company_cancels_what_waits_and_refuses_what_comes(dispatch_service):
    company, other = unique("cmp"), unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company, other], 1, capacity=1))
        await svc.technician_record("tec_ana", available=True)
        offered_id, assigned_id, queued_id, elsewhere_id = (unique("req") for _ in range(4))
        await svc.bus.send(submitted(offered_id, company, mode="web", portal_type="smart_button"))
        await svc.wait("RequestOffered", lambda d: d["request_id"] == offered_id)
        await svc.bus.send(submitted(assigned_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == assigned_id)
        await svc.bus.send(submitted(queued_id, company))  # Ana is busy: it waits in the queue
        await svc.wait("RequestQueued", lambda d: d["request_id"] == queued_id)
        await svc.bus.send(submitted(elsewhere_id, other))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == elsewhere_id)

        deleted = envelope(
            CompanyUpdated(company_id=company, account_id=ACCOUNT, name="Gone", deleted=True, revision=3)
        )
        await svc.bus.send(deleted)
        for request_id in (offered_id, queued_id):
            cancelled = await svc.wait("RequestCancelled", lambda d, r=request_id: d["request_id"] == r)
            assert cancelled["reason"] == "company_deleted"
            assert cancelled["message"] == "This company no longer offers support here. Your request was cancelled."
        withdrawn = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == offered_id)
        assert (withdrawn["technician_ids"], withdrawn["reason"]) == (["tec_ana"], "cancelled")

        late_id = unique("req")
        await svc.bus.send(submitted(late_id, company))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == late_id)
        assert rejected["message"] == "This company no longer offers support here."

        # Delivered again: consumed, and nothing more is cancelled.
        before = acked(svc)
        await svc.bus.send(deleted)
        await eventually(lambda: acked(svc) > before, timeout=15, what="the repeat consumed")
        assert len(svc.events("RequestCancelled")) == 2
        states = {
            doc["_id"]: doc["state"]
            async for doc in svc.db["requests"].find({"_id": {"$in": [assigned_id, elsewhere_id]}})
        }
        assert states == {assigned_id: "assigned", elsewhere_id: "queued"}


async def test_a_rename_cancels_nothing(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == request_id)
        before = acked(svc)
        await svc.bus.send(CompanyUpdated(company_id=company, account_id=ACCOUNT, name="New name", revision=2))
        await eventually(lambda: acked(svc) > before, timeout=15, what="the rename consumed")
        assert (await svc.db["requests"].find_one({"_id": request_id}))["state"] == "queued"
        assert svc.events("RequestCancelled") == []


async def test_a_request_routed_on_a_stale_copy_of_the_deletions_is_cancelled_by_the_sweeper(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(sweep_interval_seconds=0.5) as svc:
        first, late = unique("req"), unique("req")
        await svc.bus.send(submitted(first, company))  # nobody serves it: it waits
        await svc.wait("RequestQueued", lambda d: d["request_id"] == first)
        # Another worker consumed the deletion: this one's copy (read for the first
        # submission) does not have it yet, and routes the next submission.
        await svc.db["deleted_companies"].insert_one({"_id": company, "account_id": ACCOUNT})
        await svc.bus.send(submitted(late, company))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == late)
        assert not svc.events("RequestCancelled")

        svc.handlers.companies.deleted._read_at = float("-inf")  # its copy ages out
        for request_id in (first, late):
            cancelled = await svc.wait("RequestCancelled", lambda d, r=request_id: d["request_id"] == r)
            assert cancelled["reason"] == "company_deleted"
