"""The three ways a company publishes its portal: URL, pop-up snippet, embedded chat window."""

from dataclasses import dataclass
from html import escape

EMBED_SCRIPT_PATH = "/api/portal/embed.js"


@dataclass(frozen=True)
class EmbedCode:
    standalone_url: str
    popup_snippet: str
    embed_snippet: str
    widget_snippet: str


def embed_code(public_base_url: str, subdomain: str, company_name: str) -> EmbedCode:
    base = public_base_url.rstrip("/")
    url = f"{base}/p/{subdomain}"
    label = escape(f"Contact {company_name} support")
    window = escape(f"assistline-{subdomain}")
    popup = (
        f'<a href="{escape(url)}" target="{window}" '
        f"onclick=\"window.open(this.href, this.target, 'width=420,height=680,resizable=yes,scrollbars=yes'); "
        f'return false;">{label}</a>'
    )
    container = escape(f"assistline-portal-{subdomain}")
    script = escape(base + EMBED_SCRIPT_PATH)
    # No fixed box: the frame's height follows the portal's content (embed.js).
    embed = (
        f'<div id="{container}" style="width:100%;max-width:420px"></div>\n'
        f'<script src="{script}" data-portal="{escape(subdomain)}" data-container="{container}" async></script>'
    )
    widget = f'<script src="{script}" data-portal="{escape(subdomain)}" data-label="{label}" async></script>'
    return EmbedCode(standalone_url=url, popup_snippet=popup, embed_snippet=embed, widget_snippet=widget)
