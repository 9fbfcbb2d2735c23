"""In-tree plugins. Each is registered through the ``govhall`` entry-point group, exactly as a
vendor's package would be (see ``pyproject.toml`` and ``docs/plugins.md``)."""
