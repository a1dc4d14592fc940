"""A Python client of kefu's client protocol (docs/client-protocol.md): what a customer's
device does, for bots, integrations and tests.

    async with KefuClient("https://chat.example.com", inbox_key="…") as kefu:
        conv = await kefu.start_conversation("Hello", client_msg_id="c-1")
        async with kefu.realtime() as live:
            async for event in live.events():
                ...
"""

from kefu.client.http import KefuClient, KefuError, Session
from kefu.client.realtime import Realtime

__all__ = ["KefuClient", "KefuError", "Realtime", "Session"]
