"""Run webhook-svc: `python -m webhook_svc` (configured by environment variables)."""

from servicekit.runtime import serve
from webhook_svc.bootstrap import bootstrap
from webhook_svc.config import Settings


def main() -> None:
    settings = Settings()
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()
