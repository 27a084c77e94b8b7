"""The service's documents, browsable with no asset from the internet.

FastAPI's `/docs` and FastStream's AsyncAPI page load their scripts from a CDN. Instead:

- `{prefix}/docs` is Swagger UI served from the `swagger-ui-bundle-v2` package's own files
  (`{prefix}/docs/assets/...`), with the online validator switched off;
- `{prefix}/asyncapi` sends the browser to the project's own viewer (`ui/docs/asyncapi.html`,
  served by the gateway), which renders `{prefix}/asyncapi.json` as plain HTML.

The gateway's `/docs/` page lists every service's documents.
"""

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # ships no type information


def install_docs(api: FastAPI, *, prefix: str, title: str) -> None:
    assets = f"{prefix}/docs/assets"
    router = APIRouter(include_in_schema=False)

    @router.get(f"{prefix}/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/openapi.json",
            title=f"{title} — API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            # Swagger UI would otherwise send the document to an online validator.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get(f"{prefix}/asyncapi")
    async def asyncapi_viewer() -> RedirectResponse:
        return RedirectResponse(f"/docs/asyncapi.html?service={prefix.rsplit('/', 1)[-1]}", status_code=302)

    api.include_router(router)
    api.mount(assets, StaticFiles(directory=swagger_ui_path), name=f"{prefix}-docs-assets")
