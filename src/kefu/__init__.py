"""kefu — a self-hosted, IM-first customer-service platform."""

__version__ = "0.1.0"
