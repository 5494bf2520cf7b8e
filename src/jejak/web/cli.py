"""``jejak serve``: the API and the staff workbench under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, err, handles_errors

app = commands()


@app.command()
@handles_errors
def serve(
    home: HomeDir = DEFAULT_HOME,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="Worker processes (they share nothing but the database)."
        ),
    ] = 1,
    debug: Debug = False,
) -> None:
    """Serve the staff workbench and the API (OpenAPI at /openapi.json) until stopped."""
    import uvicorn

    from jejak.cases.db import Database

    # migrate once, here, so that the workers do not race to do it
    Database.open(home).dispose()
    os.environ["JEJAK_HOME"] = str(home)
    err.print(f"jejak serving {home} on http://{host}:{port} with {workers} worker(s)")
    uvicorn.run(
        "jejak.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="debug" if debug else "info",
    )
