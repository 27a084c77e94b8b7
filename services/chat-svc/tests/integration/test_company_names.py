"""`{company_name}` in canned replies: chat-svc keeps each company's name from portal-svc's
`CompanyUpdated` (newest revision wins) and shows it with the session."""

import uuid

import pytest

from contracts import CompanyUpdated, Envelope
from testkit import eventually

pytestmark = pytest.mark.integration

ACCOUNT = "acc_chat"


def company_updated(company_id: str, name: str, revision: int, *, deleted: bool = False) -> Envelope[CompanyUpdated]:
    data = CompanyUpdated(company_id=company_id, account_id=ACCOUNT, name=name, deleted=deleted, revision=revision)
    return Envelope[CompanyUpdated].of(data, producer="portal-svc", correlation_id=company_id)


async def test_sessions_carry_the_current_company_name(chat):
    company = f"cmp_{uuid.uuid4().hex[:8]}"
    await chat.grant("tec_ana", ["cmp_globex", company])
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_ana", company_id=company)
    headers = chat.auth(chat.technician("tec_ana", companies=["cmp_globex", company]))

    async def shown() -> tuple[str, str]:
        one = (await chat.http.get(f"/sessions/{session_id}", headers=headers)).json()["session"]
        listed = (await chat.http.get(f"/sessions?company_id={company}", headers=headers)).json()["sessions"]
        return one["company_name"], listed[0]["company_name"]

    assert await shown() == ("", "")  # not heard of yet: empty, never a placeholder
    await chat.publish(company_updated(company, "Tyrell", 1))
    await chat.publish(company_updated(company, "Tyrell Corp", 2))
    await eventually(lambda: _is(shown, ("Tyrell Corp", "Tyrell Corp")), timeout=15, what="the renamed company")

    # A stale rename, then the deletion (which keeps the last name for past chats).
    await chat.publish(company_updated(company, "Tyrell", 1))
    await chat.publish(company_updated(company, "Tyrell Corporation", 3, deleted=True))
    await eventually(lambda: _is(shown, ("Tyrell Corporation",) * 2), timeout=15, what="the deletion absorbed")
    stored = await chat.service.runtime.db["companies"].find_one({"_id": company})
    assert (stored["revision"], stored["deleted"]) == (3, True)


async def _is(probe, expected) -> bool:
    return await probe() == expected
