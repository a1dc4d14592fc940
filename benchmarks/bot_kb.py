"""The bot scenario's knowledge base: a small shop's help articles, and what customers ask.

Each article's answer starts with ``[bench:<category>]`` so the load generator can tell the
bot's answer from its other messages (welcome, "Did this help?", a hand-off notice) and check it
answered the right article. ``ASKS`` are the customers' questions, worded differently from the
articles' example questions; the seed keeps those the bot answers (right article, confidence at
or above its threshold), so a run measures answers, not hand-offs.
"""

from __future__ import annotations

MARK = "[bench:"

ARTICLES: dict[str, tuple[str, list[str]]] = {
    "refund": (
        "Refunds",
        [
            "how long does a refund take",
            "when will I get my money back",
            "I want a refund",
            "my refund has not arrived",
            "can I get my money back for this order",
            "how do I ask for a refund",
        ],
    ),
    "shipping": (
        "Delivery and tracking",
        [
            "where is my parcel",
            "when will my order arrive",
            "my package has not been delivered",
            "how do I track my order",
            "how much is delivery",
            "do you ship abroad",
        ],
    ),
    "password": (
        "Passwords and signing in",
        [
            "I forgot my password",
            "how do I reset my password",
            "I can't log in",
            "my account is locked",
            "the password reset email never came",
            "change my password",
        ],
    ),
    "cancel_order": (
        "Cancelling an order",
        [
            "how do I cancel my order",
            "I ordered the wrong thing and want to cancel",
            "can I still cancel after paying",
            "cancel my last order please",
            "is there a fee to cancel",
            "where is the cancel button",
        ],
    ),
    "opening_hours": (
        "Opening hours",
        [
            "what are your opening hours",
            "are you open on weekends",
            "when can I reach you",
            "are you open on public holidays",
            "what time do you close",
            "can I contact you at night",
        ],
    ),
    "payment": (
        "Paying for an order",
        [
            "which cards do you accept",
            "can I pay with PayPal",
            "do you take Alipay",
            "my payment was declined",
            "can I pay on delivery",
            "is it safe to pay by card",
        ],
    ),
    "returns": (
        "Returning an item",
        [
            "how do I return an item",
            "can I send it back",
            "where do I send a return",
            "how long do I have to return something",
            "is return shipping free",
            "I received the wrong size",
        ],
    ),
    "invoice": (
        "Invoices and receipts",
        [
            "can I get an invoice",
            "where is my receipt",
            "I need a VAT invoice",
            "how do I download my invoice",
            "the invoice has the wrong address",
            "send me a copy of my bill",
        ],
    ),
}

ASKS: list[tuple[str, str]] = [
    ("how many days until my refund comes through", "refund"),
    ("I would like my money back please", "refund"),
    ("still waiting for my refund", "refund"),
    ("where is my package now", "shipping"),
    ("when does my order get delivered", "shipping"),
    ("how can I track my parcel", "shipping"),
    ("I forgot the password of my account", "password"),
    ("I cannot log in to my account", "password"),
    ("how can I reset the password", "password"),
    ("please cancel my order", "cancel_order"),
    ("can I cancel an order I already paid for", "cancel_order"),
    ("how can I cancel the order I just placed", "cancel_order"),
    ("what time do you open", "opening_hours"),
    ("are you open on sunday", "opening_hours"),
    ("what are your hours on public holidays", "opening_hours"),
    ("do you accept credit cards", "payment"),
    ("can I pay by PayPal", "payment"),
    ("why was my payment declined", "payment"),
    ("how can I return this item", "returns"),
    ("I want to send the shoes back", "returns"),
    ("do I pay for return shipping", "returns"),
    ("I need an invoice for my order", "invoice"),
    ("where can I download the receipt", "invoice"),
    ("can you send me a VAT invoice", "invoice"),
]


def answer(category: str, title: str) -> str:
    return f"<p>{MARK}{category}] {title}: here is what to do, step by step.</p>"
