"""Run chat-svc: `python -m chat_svc` (configured by environment variables)."""

from chat_svc.bootstrap import bootstrap
from chat_svc.config import Settings
from servicekit.runtime import serve


def main() -> None:
    settings = Settings()
    serve(bootstrap(settings).app, settings)


if __name__ == "__main__":
    main()
