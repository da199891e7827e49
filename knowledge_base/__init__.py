"""The knowledge base: articles in Vietnamese and English, categories, and search.

``tables`` (Piccolo), ``schemas`` (msgspec Structs), ``services`` and
``categories`` (domain operations), ``search`` (full-text search on SQLite and
PostgreSQL), ``markdown`` (rendering and sanitising) and ``controllers`` (the
REST API, mounted by :mod:`helpdesk.app`). It depends on the core
(``helpdesk``) only.
"""
