#!/usr/bin/env python3
"""moto server that answers every AWS call after a set delay (benchmarks only).

Run with the moto venv's Python (scripts/tools-env.sh):

    $RAMPART_PYTHON scripts/moto-latency.py -H 127.0.0.1 -p 5000 --latency-ms 40

moto on loopback answers in about a millisecond, so a scan against it is
bound by CPU (Rampart's, moto's, PostgreSQL's), never by waiting. A scan of
a real AWS account waits: every call crosses a network and AWS's own front
end, tens of milliseconds from outside the region. This wrapper puts that
wait back: each request to moto's app is held for `--latency-ms` before
moto sees it. The hold is a sleep in the request's own thread (the server is
threaded), so it costs no CPU and holds no lock: requests in flight at once
all wait together, as they would on a network.

The delay can be changed while the server runs (seeding is faster without
it): `POST /_latency` with a JSON body `{"ms": N}`; `GET /_latency` answers
the current value. Requests to moto's own API (`/moto-api/…`) and to
`/_latency` are never delayed.
"""

import json
import signal
import sys
import threading
import time

from moto import server as moto_server
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

ROUTE = "/_latency"


class Latency:
    """WSGI middleware: sleeps before passing a request to `app`."""

    def __init__(self, app, ms: float):
        self.app = app
        self.ms = ms
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == ROUTE:
            return self.control(environ, start_response)
        if not path.startswith("/moto-api"):
            with self.lock:
                ms = self.ms
            if ms > 0:
                time.sleep(ms / 1000)
        return self.app(environ, start_response)

    def control(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                ms = float(json.loads(environ["wsgi.input"].read(length) or b"{}")["ms"])
                if ms < 0:
                    raise ValueError("negative")
            except (ValueError, KeyError, TypeError) as e:
                body = json.dumps({"error": f"want {{\"ms\": N}} with N >= 0: {e}"}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [body]
            with self.lock:
                self.ms = ms
        with self.lock:
            body = json.dumps({"ms": self.ms}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


def main(argv=None):
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, moto_server.signal_handler)
    signal.signal(signal.SIGINT, moto_server.signal_handler)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        Latency(app, args.latency_ms),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    sys.exit(main())
