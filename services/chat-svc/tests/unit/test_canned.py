"""Canned replies' rules on plain data: shortcuts, variables, filling them in."""

import pytest

from chat_svc.domain.canned import check_text, normalise_shortcut, render
from chat_svc.domain.errors import InvalidCannedReply


@pytest.mark.parametrize(
    ("raw", "shortcut"), [("/thanks", "/thanks"), ("Thanks", "/thanks"), (" /re-boot_2 ", "/re-boot_2")]
)
def test_shortcuts_are_normalised(raw, shortcut):
    assert normalise_shortcut(raw) == shortcut


@pytest.mark.parametrize("raw", ["/", "/a b", "/-x", "/" + "a" * 33, "/ünï"])
def test_bad_shortcuts_are_refused(raw):
    with pytest.raises(InvalidCannedReply):
        normalise_shortcut(raw)


def test_unknown_variables_are_refused_with_the_known_ones_named():
    with pytest.raises(InvalidCannedReply) as refused:
        check_text("Hi {name}")
    assert "{name}" in refused.value.message and "{customer_name}" in refused.value.message


def test_variables_are_filled_and_other_braces_left_alone():
    text = "Hi {customer_name}, {technician_name} of {company_name} here. {company_name}!"
    values = {"customer_name": "Bob", "technician_name": "Ana", "company_name": "Globex"}
    assert render(text, values) == "Hi Bob, Ana of Globex here. Globex!"
    assert render("{customer_name}", {}) == ""
