"""Run dispatch-svc: `python -m dispatch_svc` (configured by environment variables)."""

from servicekit.runtime import serve

from dispatch_svc.bootstrap import bootstrap
from dispatch_svc.config import Settings


def main() -> None:
    settings = Settings()
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()
