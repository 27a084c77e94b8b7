"""Run portal-svc: `python -m portal_svc` (configured by environment variables)."""

from servicekit.runtime import serve

from portal_svc.bootstrap import bootstrap
from portal_svc.config import Settings


def main() -> None:
    settings = Settings()
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()
