"""The customer portal as server-rendered HTML, at /p/{subdomain} or by Host header.

The server renders the right view at once (first paint, and what a crawler or a browser
without JavaScript shows); the project's customer script (`/ui/customer/portal.js`, served
by the gateway) then takes over the `#assistline-portal` element: form, waiting screen,
chat. Every piece of text is escaped; the page loads only same-origin script and style, and
its Content-Security-Policy lets only the portal's declared sites frame it.
"""

import re
from html import escape
from importlib.resources import files

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from portal_svc.domain.errors import NotFound
from portal_svc.domain.portals import SUBDOMAIN_PATTERN, frame_ancestors
from portal_svc.domain.views import View
from portal_svc.handlers.customers import CustomerPortal

STATIC = files("portal_svc") / "static"
CUSTOMER_SCRIPT = "/ui/customer/portal.js"
ASSETS = {
    "portal.css": "text/css; charset=utf-8",
    "embed.js": "text/javascript; charset=utf-8",
}
FAVICON = "favicon.ico"
HEAD = (
    '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
    '<link rel="icon" href="/favicon.ico" sizes="any"><link rel="stylesheet" href="/api/portal/static/portal.css">'
)
BASE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'"


def subdomain_from_host(host: str, base_domain: str) -> str | None:
    name = host.rsplit(":", 1)[0].lower().rstrip(".") if not host.startswith("[") else ""
    suffix = "." + base_domain.lower()
    if not name.endswith(suffix):
        return None
    label = name.removesuffix(suffix)
    return label if re.fullmatch(SUBDOMAIN_PATTERN, label) else None


def _field(label: str, control: str) -> str:
    return f'<label class="field"><span>{escape(label)}</span>{control}</label>'


def _form(portal: dict, view) -> str:
    kind = portal["portal_type"]
    parts = [_field("Your name", '<input name="customer_name" required maxlength="100" autocomplete="name">')]
    if kind == "smart_pin":
        parts.append(
            _field(
                "Connection code",
                '<input name="connection_code" required inputmode="numeric" pattern="[0-9]{9}" maxlength="9" '
                'autocomplete="one-time-code">',
            )
        )
        button = "Connect"
    else:
        parts.append(_field("E-mail (optional)", '<input name="customer_email" type="email" maxlength="254">'))
        if kind == "smart_match":
            choices = "".join(
                f'<label class="choice"><input type="radio" name="chosen_technician_id" required '
                f'value="{escape(t.technician_id)}"> {escape(t.display_name)}</label>'
                for t in view.technicians
            )
            parts.append(f"<fieldset><legend>Choose a technician</legend>{choices}</fieldset>")
        if kind in {"smart_box", "smart_match"}:
            required = " required" if kind == "smart_box" else ""
            parts.append(
                _field(
                    "Describe your problem",
                    f'<textarea name="description" maxlength="2000" rows="5"{required}></textarea>',
                )
            )
        button = "Contact a technician" if kind == "smart_button" else "Send request"
    if portal["mode"] == "queue":
        parts.append('<p class="hint">Requests are answered in order; you will see your place in the queue.</p>')
    return (
        f'<form id="request-form" data-subdomain="{escape(portal["subdomain"])}" novalidate>'
        + "".join(parts)
        + f'<button type="submit">{escape(button)}</button><p class="error" id="form-error" role="alert"></p></form>'
        + '<section id="status" hidden><h2>Your request</h2><p id="status-text" aria-live="polite"></p>'
        + '<button type="button" id="cancel" hidden>Cancel my request</button></section>'
    )


def render_page(portal_info: dict, portal: dict, view, *, embedded: bool) -> str:
    company = escape(portal_info["company_name"])
    body = _form(portal, view) if view.view in {View.FORM, View.CODE_ENTRY} else ""
    return f"""<!doctype html>
<html lang="en"><head>{HEAD}
<title>{company} support</title>
<script type="module" src="{CUSTOMER_SCRIPT}"></script>
</head><body class="{"embedded" if embedded else "standalone"}" data-view="{escape(view.view.value)}">
<main><div id="assistline-portal" data-subdomain="{escape(portal["subdomain"])}">
<h1>{company} support</h1>
<p class="message">{escape(view.message)}</p>
{body}
</div></main></body></html>"""


def _card_page(title: str, lead: str, body: str, *, status_code: int) -> HTMLResponse:
    """A page of the platform itself (landing, portal not found), in the portal's style."""
    html = (
        f'<!doctype html><html lang="en"><head>{HEAD}<title>{escape(title)} — Assistline</title></head>'
        '<body class="standalone plain"><main><div class="card">'
        '<header class="card-head"><span class="brand">Assistline</span></header>'
        f'<div class="card-body"><h1>{escape(title)}</h1><p class="lead">{escape(lead)}</p>{body}</div>'
        "</div></main></body></html>"
    )
    headers = {"Content-Security-Policy": BASE_CSP, "Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _not_found_page(message: str) -> HTMLResponse:
    return _card_page(
        "Support portal not found",
        message[:1].upper() + message[1:] + ".",
        "<p>Check the address you were given, or ask the company for its support link. "
        'Portal addresses look like <code>/p/yourcompany</code>.</p><p><a href="/">Assistline home</a></p>',
        status_code=404,
    )


def _landing_page() -> HTMLResponse:
    links = (
        ("/help", "Help center", "for technicians: availability, alerts, chats"),
        ("/admin", "Admin console", "companies, technicians, portals, hours and embed code"),
        ("/embed-demo", "Embed demo", "a company website with the support widget"),
    )
    items = "".join(
        f'<li><a href="{href}">{escape(name)}</a> <span>— {escape(what)}</span></li>' for href, name, what in links
    )
    return _card_page(
        "Customer-initiated remote support",
        "Customers open their company's support portal and are connected to a technician who chats with them.",
        f'<ul class="links">{items}</ul><p class="hint">Customers: open the link your company gave you, '
        "e.g. <code>/p/yourcompany</code>.</p>",
        status_code=200,
    )


def pages_router(customers: CustomerPortal, portal_base_domain: str) -> APIRouter:
    router = APIRouter(tags=["pages"], include_in_schema=False)

    async def page(subdomain: str, embedded: bool) -> HTMLResponse:
        try:
            portal = await customers.find_portal(subdomain)
        except NotFound as error:
            return _not_found_page(error.message)
        view = await customers.portal_view(portal)
        info = await customers.public_portal(portal, view)
        csp = f"{BASE_CSP}; {frame_ancestors(portal['allowed_origins'])}"
        return HTMLResponse(
            render_page(info, portal, view, embedded=embedded),
            headers={"Content-Security-Policy": csp, "Cache-Control": "no-store", "Referrer-Policy": "same-origin"},
        )

    @router.get("/p/{subdomain}", response_class=HTMLResponse)
    async def by_path(subdomain: str, embed: bool = Query(default=False)) -> HTMLResponse:
        return await page(subdomain, embed)

    @router.get("/", response_class=HTMLResponse)
    async def by_host(request: Request, embed: bool = Query(default=False)) -> HTMLResponse:
        subdomain = subdomain_from_host(request.headers.get("host", ""), portal_base_domain)
        if subdomain is None:
            return _landing_page()
        return await page(subdomain, embed)

    @router.get("/favicon.ico")
    async def favicon() -> Response:
        # Browsers ask every origin for it, whatever page they show: the gateway sends it here.
        return Response(
            (STATIC / FAVICON).read_bytes(),
            media_type="image/x-icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


def assets_router() -> APIRouter:
    """The portal's own script and stylesheet, and the embed script sites include."""
    router = APIRouter(tags=["assets"], include_in_schema=False)

    def asset(name: str) -> Response:
        return Response(
            (STATIC / name).read_text(encoding="utf-8"),
            media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=300"},
        )

    @router.get("/embed.js")
    async def embed_script() -> Response:
        return asset("embed.js")

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound("no such asset")
        return asset(name)

    return router
