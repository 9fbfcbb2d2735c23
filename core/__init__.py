"""govhall core: tenancy, identity, catalog, workflow, supervision and what they stand on.

Nothing in ``core`` imports ``web``, ``workers`` or ``plugins``; it reaches plugins only
through the hooks in :mod:`core.plugins.hookspecs`.
"""

__version__ = "0.2.0"
