"""The one id pattern: `<prefix>_<16 hex digits>` (e.g. `req_4f2a9c...`), valid as an event `Id`."""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"
