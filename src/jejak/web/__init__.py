"""The web app: the JSON API of outputs.md 1.1 (``api.py``) and, beside it, the staff pages
(``templates/``), on one set of dependencies (``deps.py``); :func:`jejak.web.app.create_app`
assembles it."""
