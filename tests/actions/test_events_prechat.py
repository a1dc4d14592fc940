"""The pre-chat form: admins set it on an inbox, customers' answers fill their contact."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from pydantic import ValidationError

from kefu.actions import prechat
from kefu.domain.enums import Role
from kefu.domain.errors import Forbidden, InvalidInput
from kefu.domain.prechat import PrechatForm, check_prechat
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, customer
from tests.support import make_world

pytestmark = pytest.mark.storage

FORM: dict[str, Any] = {
    "fields": [
        {"key": "name", "required": True, "label": {"en": "Name", "zh-CN": "姓名", "ja": "お名前"}},
        {"key": "email", "type": "email", "required": True, "label": {"en": "Email"}},
        {"key": "phone", "type": "phone", "label": {"en": "Phone"}},
        {"key": "order_no", "type": "text", "label": {"en": "Order number"}},
        {"key": "seats", "type": "number", "label": {"en": "Seats"}},
        {
            "key": "topic",
            "type": "select",
            "required": True,
            "label": {"en": "Topic"},
            "options": [
                {"value": "billing", "label": {"en": "Billing"}},
                {"value": "delivery", "label": {"en": "Delivery"}},
            ],
        },
        {"key": "consent", "type": "checkbox", "required": True, "label": {"en": "I agree"}},
        {"key": "details", "type": "textarea", "label": {"en": "Details"}},
    ]
}


async def test_set_and_submit_the_form(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    form = PrechatForm.model_validate(FORM)
    view = await check(
        kefu,
        world,
        partial(prechat.set_prechat_form, actor=admin, inbox_id=world.inbox.id, form=form),
        expect=["inbox.updated"],
    )
    assert [f.key for f in view.prechat.fields][:3] == ["name", "email", "phone"]
    assert view.prechat.fields[0].label["zh-CN"] == "姓名"

    who = await customer(kefu, world)
    values = {
        "name": "  Grace Hopper ",
        "email": "Grace@Example.com",
        "phone": "+81 3-1234-5678",
        "order_no": "A-1001",
        "seats": "12",
        "topic": "billing",
        "consent": True,
        "details": "Two lines\nof text",
    }
    contact = await check(
        kefu,
        world,
        partial(prechat.submit_prechat, actor=who, values=values),
        expect=["contact.updated"],
    )
    assert (contact.name, contact.email, contact.phone) == (
        "Grace Hopper",
        "grace@example.com",
        "+81 3-1234-5678",
    )
    assert contact.attributes == {}  # the customer's answers are claims, kept apart
    assert contact.customer_attributes == {
        "order_no": "A-1001",
        "seats": 12,
        "topic": "billing",
        "consent": True,
        "details": "Two lines\nof text",
    }

    with pytest.raises(InvalidInput) as bad:
        await kefu.write(
            world.workspace_id,
            partial(
                prechat.submit_prechat,
                actor=who,
                values={"email": "nope", "topic": "other", "seats": "many", "evil": "x"},
            ),
        )
    assert bad.value.code == "invalid_prechat"
    assert bad.value.details == {
        "fields": {
            "evil": "unknown",
            "name": "required",
            "email": "invalid",
            "seats": "invalid",
            "topic": "invalid",
            "consent": "required",
        }
    }

    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(
                prechat.set_prechat_form,
                actor=agent_actor(world, Role.agent),
                inbox_id=world.inbox.id,
                form=PrechatForm(),
            ),
        )
    off = await check(
        kefu,
        world,
        partial(prechat.set_prechat_form, actor=admin, inbox_id=world.inbox.id, form=PrechatForm()),
        expect=["inbox.updated"],
    )
    assert off.prechat.fields == []
    with pytest.raises(InvalidInput) as none:
        await kefu.write(
            world.workspace_id,
            partial(prechat.submit_prechat, actor=who, values={"name": "x"}),
        )
    assert none.value.code == "no_prechat_form"


@pytest.mark.parametrize(
    "field",
    [
        {"key": "email", "type": "text", "label": {"en": "Email"}},  # built-in keys keep their type
        {"key": "Bad Key", "label": {"en": "x"}},
        {"key": "x", "label": {}},
        {"key": "x", "label": {"english": "x"}},
        {"key": "x", "label": {"en": "a\nb"}},
        {"key": "x", "type": "select", "label": {"en": "x"}},
        {
            "key": "x",
            "type": "text",
            "label": {"en": "x"},
            "options": [{"value": "a", "label": {"en": "a"}}],
        },
        {"key": "x", "type": "date", "label": {"en": "x"}},
        {"key": "x", "label": {"en": "x"}, "placeholder": "unknown property"},
    ],
)
def test_bad_forms_are_refused(field: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PrechatForm.model_validate({"fields": [field]})


def test_bad_forms_are_refused_as_a_whole() -> None:
    one = {"key": "x", "label": {"en": "x"}}
    with pytest.raises(ValidationError):
        PrechatForm.model_validate({"fields": [one, one]})
    with pytest.raises(ValidationError):
        PrechatForm.model_validate(
            {"fields": [{"key": f"f{i}", "label": {"en": "x"}} for i in range(21)]}
        )


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("phone", "+1 (555) 010-9999", True),
        ("phone", "call me", False),
        ("phone", "+1\u202e555", False),
        ("text", "fine", True),
        ("text", "line\nbreak", False),
        ("text", "x" * 501, False),
        ("number", 3.5, True),
        ("number", True, False),
        ("number", "1e999", False),
        ("checkbox", "yes", False),
        ("textarea", "a\nb", True),
        ("textarea", "a\x00b", False),
        ("textarea", "x" * 1001, False),
    ],
)
def test_values_are_checked_by_type(kind: str, value: Any, ok: bool) -> None:
    form = PrechatForm.model_validate(
        {"fields": [{"key": "f", "type": kind, "label": {"en": "F"}}]}
    )
    if ok:
        assert check_prechat(form, {"f": value}).attributes["f"] is not None
    else:
        with pytest.raises(InvalidInput):
            check_prechat(form, {"f": value})
