"""Pure rules: portal configuration, the view matrix, the request life cycle, embed code, limits."""

import pytest

from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from portal_svc.domain.embed import embed_code
from portal_svc.domain.errors import Invalid
from portal_svc.domain.portals import check_mode_and_type, check_subdomain, frame_ancestors, normalise_origins
from portal_svc.domain.requests import Status, check_cancellable
from portal_svc.domain.views import AvailableTechnician, View, decide_view
from portal_svc.entrypoints.pages import subdomain_from_host
from servicekit.errors import Conflict

ANA = AvailableTechnician("tec_ana", "Ana")


@pytest.mark.parametrize("label", ["globex", "a", "x1-y2", "a" * 63])
def test_dns_labels_are_accepted(label):
    assert check_subdomain(label) == label


@pytest.mark.parametrize("label", ["", "-a", "a-", "a_b", "a.b", "A", "a" * 64, "www"])
def test_other_subdomains_are_refused(label):
    with pytest.raises(Invalid):
        check_subdomain(label)


def test_only_documented_mode_and_type_pairs_are_allowed():
    allowed = {(m, t) for m in ConnectionMode for t in PortalType if _ok(m, t)}
    assert allowed == {
        (ConnectionMode.WEB, PortalType.SMART_BOX),
        (ConnectionMode.WEB, PortalType.SMART_BUTTON),
        (ConnectionMode.WEB, PortalType.SMART_MATCH),
        (ConnectionMode.PHONE, PortalType.SMART_PIN),
        (ConnectionMode.QUEUE, PortalType.SMART_BOX),
    }


def _ok(mode, kind) -> bool:
    try:
        check_mode_and_type(mode, kind)
    except Invalid:
        return False
    return True


def test_origins_are_normalised_and_nothing_else_reaches_the_csp():
    assert normalise_origins(["https://Shop.Test/", "https://shop.test", "http://localhost:3000"]) == [
        "https://shop.test",
        "http://localhost:3000",
    ]
    for bad in ["shop.test", "https://shop.test/x", "https://a b.test", "ftp://x.test", "https://x.test;script-src *"]:
        with pytest.raises(Invalid):
            normalise_origins([bad])
    assert frame_ancestors(["https://shop.test"]) == "frame-ancestors 'self' https://shop.test"


@pytest.mark.parametrize(
    ("status", "mode", "kind", "available", "expected"),
    [
        (PortalStatus.INACTIVE, ConnectionMode.WEB, PortalType.SMART_BOX, [ANA], View.UNAVAILABLE),
        (PortalStatus.INACTIVE, ConnectionMode.QUEUE, PortalType.SMART_BOX, [], View.UNAVAILABLE),
        (PortalStatus.INACTIVE, ConnectionMode.PHONE, PortalType.SMART_PIN, [], View.UNAVAILABLE),
        (PortalStatus.ACTIVE, ConnectionMode.WEB, PortalType.SMART_BOX, [], View.NO_TECHNICIAN),
        (PortalStatus.ACTIVE, ConnectionMode.WEB, PortalType.SMART_BUTTON, [ANA], View.FORM),
        (PortalStatus.ACTIVE, ConnectionMode.QUEUE, PortalType.SMART_BOX, [], View.FORM),
        (PortalStatus.ACTIVE, ConnectionMode.PHONE, PortalType.SMART_PIN, [], View.CODE_ENTRY),
    ],
)
def test_view_matrix(status, mode, kind, available, expected):
    assert decide_view(status, mode, kind, available).view is expected


def test_only_smart_match_lists_technicians_sorted_by_name():
    ben = AvailableTechnician("tec_ben", "ben")
    assert decide_view(PortalStatus.ACTIVE, ConnectionMode.WEB, PortalType.SMART_MATCH, [ben, ANA]).technicians == [
        ANA,
        ben,
    ]
    assert decide_view(PortalStatus.ACTIVE, ConnectionMode.WEB, PortalType.SMART_BOX, [ANA]).technicians == []


def test_cancel_is_allowed_until_assignment():
    for status in (Status.SUBMITTED, Status.QUEUED, Status.OFFERED):
        check_cancellable(status)
    for status in (Status.ASSIGNED, Status.CHAT_OPEN, Status.ENDED, Status.REJECTED):
        with pytest.raises(Conflict):
            check_cancellable(status)


def test_embed_snippets_escape_what_they_embed():
    code = embed_code("https://support.test/", "globex", 'A "quoted" <Co>')
    assert code.standalone_url == "https://support.test/p/globex"
    assert "&quot;quoted&quot; &lt;Co&gt;" in code.popup_snippet and "<Co>" not in code.popup_snippet
    assert 'src="https://support.test/api/portal/embed.js"' in code.embed_snippet


def test_subdomain_from_host():
    assert subdomain_from_host("globex.localhost:8080", "localhost") == "globex"
    assert subdomain_from_host("GLOBEX.support.test", "support.test") == "globex"
    assert subdomain_from_host("localhost:8080", "localhost") is None
    assert subdomain_from_host("a.b.localhost", "localhost") is None
