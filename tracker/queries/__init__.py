"""Read-side queries: set-based, scope-filtered SQL for pages and the API."""
