"""Wait until every service answers /ready through the gateway, then print the URLs.

Runs as the last process of `make run`; it stays alive so the process runner keeps going.
"""

import sys
import time
import urllib.error
import urllib.request

SERVICES = ("portal", "presence", "dispatch", "chat")


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> None:
    base = sys.argv[1].rstrip("/")
    deadline = time.monotonic() + 180
    pending = set(SERVICES)
    while pending and time.monotonic() < deadline:
        pending = {s for s in pending if not ready(f"{base}/api/{s}/ready")}
        time.sleep(1)
    if pending:
        print(f"NOT READY after 180 s: {', '.join(sorted(pending))} (see their logs above)", flush=True)
    else:
        print(
            "\n".join(
                [
                    "",
                    "Assistline is up — every service reports ready through the gateway.",
                    f"  Customer portal (demo):  {base}/p/globex   (Queue mode: {base}/p/initech)",
                    f"  Technician help center:  {base}/help",
                    f"  Admin console:           {base}/admin",
                    f"  Supervisor dashboard:    {base}/dashboard",
                    f"  Embed demo page:         {base}/embed-demo",
                    f"  API and event documents: {base}/docs/",
                    *(f"  {s + '-svc API docs:':<24} {base}/api/{s}/docs" for s in SERVICES),
                    *(f"  {s + '-svc AsyncAPI:':<24} {base}/api/{s}/asyncapi" for s in SERVICES),
                    "  Demo sign-in: admin@acme.test / ana@acme.test / ben@acme.test (password: demo-password)",
                    "  E-mail alerts are printed by the smtp process above.",
                    "",
                ]
            ),
            flush=True,
        )
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
