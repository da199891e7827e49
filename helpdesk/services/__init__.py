"""Domain operations: plain async functions that know nothing of HTTP.

Each takes the acting :class:`~helpdesk.policy.Principal`, ids and Structs,
checks permissions through :mod:`helpdesk.policy`, runs in one transaction
with its events and audit entries, and returns Structs.
"""
