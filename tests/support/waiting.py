"""Wait on a condition instead of sleeping: the one polling loop of the Python tests.

The timeout only guards against hanging forever; a test never asserts on how long a wait took."""
import time

import requests


def wait_until(predicate, timeout=30, what="the condition", interval=0.05):
    """Calls predicate() until it returns something truthy, and returns that.

    A request that fails (the server is not up yet, a connection reset) counts as "not yet". After
    `timeout` seconds it raises AssertionError naming `what` and the last value or error seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)
