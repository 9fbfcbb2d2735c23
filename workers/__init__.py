"""Dramatiq workers: the broker, the actors and the scheduler.

The database holds the truth; a message only triggers work. Actors take ids, are
idempotent and set their retries explicitly.
"""
