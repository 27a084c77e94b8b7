"""Accessibility audits in browser tests: axe-core, served from the installed package.

`axe-playwright-python` ships axe.min.js; it is evaluated into the page through the
DevTools protocol (so the gateway's Content-Security-Policy does not have to allow it), and
nothing is fetched from the internet. Only the script file is used: the report is ours, so a
failure reads as a short list of what is wrong and where.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from testkit.backends import REPO_ROOT

# By resource name, not import: the package has no type information and only this file is used.
AXE_JS = files("axe_playwright_python") / "axe.min.js"
# What a test must never ship. "moderate" and "minor" are reported by `audit` but do not fail.
FAILING_IMPACTS = frozenset({"critical", "serious"})
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"


@cache
def _axe_script() -> str:
    return AXE_JS.read_text(encoding="utf-8")


async def audit(page: Page, *, include: str | None = None, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Runs axe-core on the page as it is now; returns its violations (all impacts)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_axe_script())
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    context: Any = include or {"exclude": []}
    result = await page.evaluate("([context, options]) => axe.run(context || document, options)", [context, options])
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and element: impact, rule, help text, CSS target."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node.get("target", []))
            snippet = " ".join(str(node.get("html", "")).split())[:120]
            lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} — {target}: {snippet}")
    return "\n".join(lines)


async def assert_accessible(
    page: Page, *, what: str, include: str | None = None, disable: tuple[str, ...] = ()
) -> None:
    """Fails on any critical or serious axe-core violation on the page (or under `include`).

    `what` names the screen in the failure message ("help center, two chats open").
    `disable` turns off named rules for a reason the caller states in a comment.
    """
    violations = [v for v in await audit(page, include=include, disable=disable) if v["impact"] in FAILING_IMPACTS]
    assert not violations, f"accessibility violations on {what}:\n{describe(violations)}"


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Saves a screenshot as a test artefact: artifacts/screenshots/<name>.png (name slugified)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')}.png"
    await page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path
