"""Run dispatch-svc: `python -m dispatch_svc` (configured by environment variables)."""

from dispatch_svc.bootstrap import bootstrap
from dispatch_svc.config import Settings
from servicekit.runtime import serve


def main() -> None:
    settings = Settings()
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()
