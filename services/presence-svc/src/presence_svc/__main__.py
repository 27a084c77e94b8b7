"""Run presence-svc: `python -m presence_svc` (configured by environment variables)."""

from presence_svc.bootstrap import bootstrap
from presence_svc.config import Settings
from servicekit.runtime import serve


def main() -> None:
    settings = Settings()
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()
