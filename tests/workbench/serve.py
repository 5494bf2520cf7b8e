"""The workbench as a real server process for the browser tests: ``python tests/web/serve.py HOME PORT``."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from jejak.cases.service import Cases
from jejak.web.workbench import install


def make(home: str) -> FastAPI:
    return install(FastAPI(), Cases.open(home))


if __name__ == "__main__":
    uvicorn.run(make(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
