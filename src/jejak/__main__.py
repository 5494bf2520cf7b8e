"""``python -m jejak``: the ``jejak`` command."""

from jejak.cli import main

main()
