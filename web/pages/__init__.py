"""HTML pages: thin controllers that parse, call a service and render."""
