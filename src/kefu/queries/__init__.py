"""Read-only queries (``get_*``, ``list_*``) and the access checks shared by HTTP and WebSocket."""
