"""Reports for the regulator from the cases and the store.

qos.py  the quarterly complaint figures of the service-quality standard (``jejak report qos``)
cli.py  ``jejak report ...``
"""
