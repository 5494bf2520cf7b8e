"""The application as a real server process for the browser tests:
``python tests/workbench/serve.py HOME PORT`` (what ``jejak serve`` runs, on one given home)."""

from __future__ import annotations

import sys

import uvicorn

from jejak.web.app import create_app

if __name__ == "__main__":
    uvicorn.run(
        create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning"
    )
