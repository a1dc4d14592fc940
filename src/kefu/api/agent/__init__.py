"""The agent API, ``/api/v1``."""
