"""Provider webhooks: ``/hooks/{channel}/{inbox key}``."""
