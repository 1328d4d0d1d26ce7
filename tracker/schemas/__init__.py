"""marshmallow schemas of the API: <Model>Schema dumps, <Model>CreateSchema / <Model>UpdateSchema load.

Every load schema refuses unknown fields and strips strings; dates are ISO (YYYY-MM-DD), instants ISO 8601
with their UTC offset. Messages follow the request's language (see base.py).
"""
