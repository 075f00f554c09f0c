"""Read-only queries behind the office pages: search, filter, paginate, gather a screen's rows.

Queries never write; scope comes from `server.access` in every one of them.
"""
