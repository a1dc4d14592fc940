"""The client API for the widget and app SDKs, ``/api/client/v1``."""
