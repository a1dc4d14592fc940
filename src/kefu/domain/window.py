"""Messaging windows: some providers (WeChat) let a business answer only for a while, and
only a few times, after the customer's last action. Pure rules; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from kefu.domain.enums import ChannelKind
from kefu.domain.views import WindowView

# How an inbound item changes the window: a customer message, an event (menu click, follow,
# scan), an unfollow that closes it, or a session that ended with a closing code (WeCom kf):
# closed but for one event window.
WindowTouch = Literal["message", "event", "closed", "ended"]


@dataclass(frozen=True, slots=True)
class WindowRule:
    after_message: tuple[timedelta, int]  # (length, sends) after a customer message
    after_event: tuple[timedelta, int]  # (length, sends) after a click, follow or scan


def window_open(window: WindowView | None, now: datetime) -> bool:
    return window is not None and window.remaining > 0 and now < window.closes_at


def touch_window(
    rule: WindowRule, current: WindowView | None, touch: WindowTouch, now: datetime
) -> WindowView | None:
    """The window after a customer item. An event never cuts short a message's window."""
    if touch == "closed":
        return None
    if touch == "ended":
        length, sends = rule.after_event
        return WindowView(opened_by="event", closes_at=now + length, remaining=sends)
    keep = touch == "event" and current is not None and current.opened_by == "message"
    if keep and window_open(current, now):
        return current
    length, sends = rule.after_message if touch == "message" else rule.after_event
    return WindowView(opened_by=touch, closes_at=now + length, remaining=sends)


def spend(window: WindowView | None, now: datetime) -> tuple[WindowView | None, str | None]:
    """Use one send of ``window``: the window after it, or the reason it is not allowed."""
    if window is None:
        return None, "window_closed: the customer has not written recently (or unfollowed)"
    if now >= window.closes_at:
        return window, "window_closed: the customer's messaging window has expired"
    if window.remaining <= 0:
        return window, "window_exhausted: no more messages allowed until the customer writes"
    return window.model_copy(update={"remaining": window.remaining - 1}), None


# The rules of the providers that have a window (facts from their documentation).
RULES: dict[ChannelKind, WindowRule] = {
    # WeChat Official Account customer-service messages.
    ChannelKind.wechat_oa: WindowRule(
        after_message=(timedelta(hours=48), 5), after_event=(timedelta(minutes=1), 3)
    ),
    # WeChat Customer Service (WeCom kf): 5 messages within 48 hours of the customer's last;
    # entering a session gives a welcome_code: one greeting within 20 seconds.
    ChannelKind.wechat_kf: WindowRule(
        after_message=(timedelta(hours=48), 5), after_event=(timedelta(seconds=20), 1)
    ),
}
