"""Event bus (in-process or Redis), per-workspace hubs, and the WebSocket gateway."""
