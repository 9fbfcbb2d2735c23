"""The JSON API under ``/api/v1/t/{slug}/``; bearer tokens only, documented in OpenAPI."""
