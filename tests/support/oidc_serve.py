#!/usr/bin/env python3
"""Runs one test OpenID provider (oidc_providers.py) for a test that is not written in Python, such
as the browser tests, and stops it when that test lets go of it.

    python3 tests/support/oidc_serve.py KIND WORKDIR [--consent]

KIND is node or glewlwyd; --consent makes the login ask for consent (preconsent off). The first
line on stdout is JSON: {"issuer", "kind", "pid", "log"} once discovery answers, {"skip": reason}
when the provider cannot run here, or {"error": message} when it failed to start. Then each line
read on stdin is a JSON command, answered by one JSON line:

    {"redirect_uris": [...]}   -> {"ok": true}      the client's redirect URIs from now on

End of stdin (the test closed it, or died) stops the provider by its PID, as do SIGTERM and SIGINT."""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oidc_providers import KINDS, start_provider, unavailable_reason  # noqa: E402

# Until the hub's port is known, the client accepts a callback nobody listens on.
PLACEHOLDER = "http://127.0.0.1:1/hub/oauth_callback"


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve(provider):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            command = json.loads(line)
            if not isinstance(command, dict) or set(command) != {"redirect_uris"}:
                raise ValueError(f"unknown command {line[:200]!r}: expected {{\"redirect_uris\": [...]}}")
            provider.set_redirect_uris(command["redirect_uris"])
            say({"ok": True})
        except Exception as e:  # one bad command is answered, the provider goes on
            say({"error": str(e)})


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = [a for a in argv if a.startswith("--")]
    if len(args) != 2 or args[0] not in KINDS or any(f != "--consent" for f in flags):
        print(f"usage: oidc_serve.py {{{'|'.join(KINDS)}}} WORKDIR [--consent]", file=sys.stderr)
        return 2
    kind, workdir = args
    reason = unavailable_reason(kind)
    if reason:
        say({"skip": reason})
        return 0

    def leave(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)

    provider = None
    try:
        try:
            provider = start_provider(kind, workdir, [PLACEHOLDER], preconsent="--consent" not in flags)
        except Exception as e:
            say({"error": f"the {kind} provider did not start: {e}"})
            return 1
        say({"issuer": provider.issuer, "kind": kind, "pid": provider.pid, "log": provider.log_path})
        serve(provider)
        return 0
    finally:
        if provider is not None:
            provider.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
