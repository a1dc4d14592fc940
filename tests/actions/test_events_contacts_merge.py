"""Identity linking, merge suggestions and merging contacts: events, schemas, reducer."""

from __future__ import annotations

import uuid
from functools import partial

import pytest
from sqlalchemy import func, select

from kefu.actions import contacts, identities, messages, sessions
from kefu.actions.tx import Tx
from kefu.db.tables import AuthSession, ContactIdentity, ContactMerge, Message
from kefu.domain.actors import CustomerActor
from kefu.domain.enums import IdentityKind, Role
from kefu.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.queries.identities import list_merge_suggestions
from kefu.runtime import Kefu
from tests.actions.eventcheck import agent_actor, check, conversation, customer
from tests.support import World, make_world

pytestmark = pytest.mark.storage


async def _say(kefu: Kefu, world: World, who: CustomerActor, conv: uuid.UUID, text: str) -> None:
    await kefu.write(
        world.workspace_id,
        partial(
            messages.send_message,
            actor=who,
            conversation_id=conv,
            content=text,
            client_msg_id="m-1",
        ),
    )


async def test_link_and_unlink_identities(kefu: Kefu) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    who = await customer(kefu, world, "v-link")
    view = await check(
        kefu,
        world,
        partial(
            identities.link_identity,
            actor=agent,
            contact_id=who.contact_id,
            kind=IdentityKind.email,
            value="  Ana@Example.TEST ",
        ),
        expect=["contact.updated"],
    )
    assert {(i.kind, i.value) for i in view.identities} == {
        (IdentityKind.email, "ana@example.test")
    }
    # The same identity again: nothing changes, nothing is recorded.
    await check(
        kefu,
        world,
        partial(
            identities.link_identity,
            actor=agent,
            contact_id=who.contact_id,
            kind=IdentityKind.email,
            value="ana@example.test",
        ),
        expect=[],
    )
    await check(
        kefu,
        world,
        partial(
            identities.link_identity,
            actor=agent,
            contact_id=who.contact_id,
            kind=IdentityKind.wecom_external,
            value="wmABC123",
        ),
        expect=["contact.updated"],
    )
    other = await customer(kefu, world, "v-other")
    with pytest.raises(Conflict) as taken:
        await kefu.write(
            world.workspace_id,
            partial(
                identities.link_identity,
                actor=agent,
                contact_id=other.contact_id,
                kind=IdentityKind.email,
                value="ANA@example.test",
            ),
        )
    assert taken.value.code == "identity_taken"
    assert taken.value.details == {"contact_id": str(who.contact_id)}
    for kind, value in (
        (IdentityKind.visitor, "x"),
        (IdentityKind.email, "no-at"),
        (IdentityKind.phone, "call me"),
        (IdentityKind.telegram, "a\r\nb"),
    ):
        with pytest.raises(InvalidInput):
            await kefu.write(
                world.workspace_id,
                partial(
                    identities.link_identity,
                    actor=agent,
                    contact_id=who.contact_id,
                    kind=kind,
                    value=value,
                ),
            )
    view = await check(
        kefu,
        world,
        partial(
            identities.unlink_identity,
            actor=agent,
            contact_id=who.contact_id,
            kind=IdentityKind.email,
            value="ana@example.test",
        ),
        expect=["contact.updated"],
    )
    assert [i.kind for i in view.identities] == [IdentityKind.wecom_external]
    await check(
        kefu,
        world,
        partial(
            identities.unlink_identity,
            actor=agent,
            contact_id=who.contact_id,
            kind=IdentityKind.email,
            value="ana@example.test",
        ),
        expect=[],
    )


async def test_resolve_contact_matches_canonical_email_and_phone(kefu: Kefu) -> None:
    world = await make_world(kefu)

    async def _resolve(tx: Tx, kind: IdentityKind, value: str) -> uuid.UUID:
        return (await contacts.resolve_contact(tx, [(kind, value)])).id

    first = await kefu.write(
        world.workspace_id, partial(_resolve, kind=IdentityKind.email, value="Bo@Example.test")
    )
    again = await kefu.write(
        world.workspace_id, partial(_resolve, kind=IdentityKind.email, value="bo@example.TEST")
    )
    assert first == again
    p1 = await kefu.write(
        world.workspace_id, partial(_resolve, kind=IdentityKind.phone, value="+86 (138) 0013-8000")
    )
    p2 = await kefu.write(
        world.workspace_id, partial(_resolve, kind=IdentityKind.phone, value="+8613800138000")
    )
    assert p1 == p2


async def test_merge_keeps_every_conversation_identity_attribute_and_message(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    a = await customer(kefu, world, "v-a")
    b = await customer(kefu, world, "v-b")
    conv_a = await conversation(kefu, world, a)
    conv_b1 = await conversation(kefu, world, b)
    conv_b2 = await conversation(kefu, world, b)
    await _say(kefu, world, a, conv_a, "from a")
    await _say(kefu, world, b, conv_b1, "from b")
    await _say(kefu, world, b, conv_b2, "from b again")
    await kefu.write(
        world.workspace_id,
        partial(
            contacts.update_contact,
            actor=admin,
            contact_id=a.contact_id,
            attributes={"plan": "pro", "city": "Osaka"},
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            contacts.update_contact,
            actor=admin,
            contact_id=b.contact_id,
            email="b@example.test",
            phone="+81 90 0000 0000",
            attributes={"plan": "free", "vip": True},
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            identities.link_identity,
            actor=admin,
            contact_id=b.contact_id,
            kind=IdentityKind.telegram,
            value="424242",
        ),
    )

    done = await check(
        kefu,
        world,
        partial(
            identities.merge_contacts, actor=admin, target_id=a.contact_id, source_id=b.contact_id
        ),
        expect=["contact.merged"],
    )
    assert not done.duplicate
    assert done.conversation_ids == sorted([conv_b1, conv_b2])
    c = done.contact
    assert c.id == a.contact_id
    assert c.email == "b@example.test" and c.phone == "+81 90 0000 0000"
    assert c.attributes == {"plan": "pro", "city": "Osaka", "vip": True}
    assert {i.kind for i in c.identities} == {IdentityKind.telegram}
    async with kefu.db.read() as s:
        senders = set(
            (
                await s.execute(
                    select(Message.sender_id).where(
                        Message.workspace_id == world.workspace_id,
                        Message.sender_kind == "customer",
                    )
                )
            ).scalars()
        )
        assert senders == {a.contact_id}
        sessions = await s.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(
                AuthSession.workspace_id == world.workspace_id,
                AuthSession.contact_id == b.contact_id,
            )
        )
        assert sessions == 0
        kept = await s.get(ContactMerge, (world.workspace_id, b.contact_id))
        assert kept is not None and kept.source["attributes"] == {"plan": "free", "vip": True}

    # Repeating the merge: the same answer, nothing recorded.
    again = await check(
        kefu,
        world,
        partial(
            identities.merge_contacts, actor=admin, target_id=a.contact_id, source_id=b.contact_id
        ),
        expect=[],
    )
    assert again.duplicate and again.contact.id == a.contact_id

    # A chain: a into a third contact keeps b's record, which now leads to the third.
    z = await customer(kefu, world, "v-z")
    await check(
        kefu,
        world,
        partial(
            identities.merge_contacts, actor=admin, target_id=z.contact_id, source_id=a.contact_id
        ),
        expect=["contact.merged"],
    )
    async with kefu.db.read() as s:
        kept = await s.get(ContactMerge, (world.workspace_id, b.contact_id))
        assert kept is not None and kept.target_id == z.contact_id


async def test_merge_is_for_supervisors_and_stays_in_its_workspace(kefu: Kefu) -> None:
    world = await make_world(kefu)
    other = await make_world(kefu)
    a = await customer(kefu, world, "v-1")
    b = await customer(kefu, world, "v-2")
    foreign = await customer(kefu, other, "v-3")
    with pytest.raises(Forbidden):
        await kefu.write(
            world.workspace_id,
            partial(
                identities.merge_contacts,
                actor=agent_actor(world, Role.agent),
                target_id=a.contact_id,
                source_id=b.contact_id,
            ),
        )
    admin = agent_actor(world)
    for target, source in (
        (a.contact_id, foreign.contact_id),
        (foreign.contact_id, a.contact_id),
        (a.contact_id, uuid.uuid4()),
    ):
        with pytest.raises(NotFound):
            await kefu.write(
                world.workspace_id,
                partial(identities.merge_contacts, actor=admin, target_id=target, source_id=source),
            )
    with pytest.raises(Conflict):
        await kefu.write(
            world.workspace_id,
            partial(
                identities.merge_contacts,
                actor=admin,
                target_id=a.contact_id,
                source_id=a.contact_id,
            ),
        )


async def test_merge_suggestions_match_email_and_phone_in_any_spelling(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    a = await customer(kefu, world, "s-a")
    b = await customer(kefu, world, "s-b")
    c = await customer(kefu, world, "s-c")
    d = await customer(kefu, world, "s-d")
    await kefu.write(
        world.workspace_id,
        partial(
            contacts.update_contact,
            actor=admin,
            contact_id=a.contact_id,
            email="Sam@Example.test",
            phone="+1 (555) 010-2000",
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            identities.link_identity,
            actor=admin,
            contact_id=b.contact_id,
            kind=IdentityKind.email,
            value="sam@example.test",
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            contacts.update_contact, actor=admin, contact_id=c.contact_id, phone="+15550102000"
        ),
    )
    await kefu.write(
        world.workspace_id,
        partial(
            contacts.update_contact, actor=admin, contact_id=d.contact_id, email="else@example.test"
        ),
    )
    async with kefu.db.read() as s:
        found = await list_merge_suggestions(s, world.workspace_id)
        mine = await list_merge_suggestions(s, world.workspace_id, contact_id=b.contact_id)
        none = await list_merge_suggestions(s, world.workspace_id, contact_id=d.contact_id)
        elsewhere = await list_merge_suggestions(s, (await make_world(kefu)).workspace_id)
    got = {(g.kind, g.value): {x.id for x in g.contacts} for g in found}
    assert got == {
        (IdentityKind.email, "sam@example.test"): {a.contact_id, b.contact_id},
        (IdentityKind.phone, "+15550102000"): {a.contact_id, c.contact_id},
    }
    assert [(g.kind, g.value) for g in mine] == [(IdentityKind.email, "sam@example.test")]
    assert none == [] and elsewhere == []


async def _session(kefu: Kefu, world: World, who: CustomerActor) -> uuid.UUID:
    async def _open(tx: Tx) -> uuid.UUID:
        issued = await sessions.open_session(
            tx, kind=sessions.VISITOR, contact_id=who.contact_id, inbox_id=world.inbox.id
        )
        return issued.session_id

    return await kefu.write(world.workspace_id, _open)


async def test_merging_an_unverified_contact_ends_its_visitor_sessions(kefu: Kefu) -> None:
    world = await make_world(kefu)
    admin = agent_actor(world)
    proven = await customer(kefu, world, "v-proven")
    typed = await customer(kefu, world, "v-typed")

    async def _sign_in(tx: Tx) -> None:  # what a session with a signed identity claim records
        await contacts.resolve_contact(
            tx, [(IdentityKind.external, "u-1"), (IdentityKind.visitor, "v-proven")]
        )

    await kefu.write(world.workspace_id, _sign_in)
    kept, ended = await _session(kefu, world, proven), await _session(kefu, world, typed)
    done = await check(
        kefu,
        world,
        partial(
            identities.merge_contacts,
            actor=admin,
            target_id=proven.contact_id,
            source_id=typed.contact_id,
        ),
        expect=["session.revoked", "contact.merged"],
    )
    assert [(i.kind, i.verified) for i in done.contact.identities] == [
        (IdentityKind.external, True)
    ]
    async with kefu.db.read() as s:
        rows = {
            r.id: r
            for r in (
                await s.execute(
                    select(AuthSession).where(AuthSession.workspace_id == world.workspace_id)
                )
            ).scalars()
        }
        assert rows[kept].revoked_at is None and rows[ended].revoked_at is not None
        visitors = set(
            (
                await s.execute(
                    select(ContactIdentity.value).where(
                        ContactIdentity.workspace_id == world.workspace_id,
                        ContactIdentity.kind == IdentityKind.visitor.value,
                    )
                )
            ).scalars()
        )
        assert visitors == {"v-proven"}  # the typed one's browser no longer finds the contact
        record = await s.get(ContactMerge, (world.workspace_id, typed.contact_id))
        assert record is not None and record.source["revoked_sessions"] == [str(ended)]


async def test_customer_attributes_are_kept_apart_and_a_channel_proves_a_linked_email(
    kefu: Kefu,
) -> None:
    world = await make_world(kefu)
    agent = agent_actor(world, Role.agent)
    who = await customer(kefu, world, "v-attr")
    view = await check(
        kefu,
        world,
        partial(
            contacts.update_contact,
            actor=who,
            contact_id=who.contact_id,
            attributes={"vip": True, "plan": "gold"},
        ),
        expect=["contact.updated"],
    )
    assert view.attributes == {} and view.customer_attributes == {"vip": True, "plan": "gold"}
    view = await check(
        kefu,
        world,
        partial(
            contacts.update_contact,
            actor=agent,
            contact_id=who.contact_id,
            attributes={"plan": "free", "vip": None},
        ),
        expect=["contact.updated"],
    )
    assert view.attributes == {"plan": "free"} and view.customer_attributes == {}

    view = await check(
        kefu,
        world,
        partial(
            identities.link_identity,
            actor=agent,
            contact_id=who.contact_id,
            kind=IdentityKind.email,
            value="kai@example.test",
        ),
        expect=["contact.updated"],
    )
    assert [(i.value, i.verified) for i in view.identities] == [("kai@example.test", False)]

    async def _mail_from(tx: Tx) -> uuid.UUID:  # what the email channel does with a reply
        return (await contacts.resolve_contact(tx, [(IdentityKind.email, "Kai@example.test")])).id

    assert await check(kefu, world, _mail_from, expect=["contact.updated"]) == who.contact_id
    # A stranger types the address: the suggestion shows whose hold on it is proven.
    stranger = await customer(kefu, world, "v-stranger")
    await kefu.write(
        world.workspace_id,
        partial(
            contacts.update_contact,
            actor=stranger,
            contact_id=stranger.contact_id,
            email="kai@example.test",
        ),
    )
    async with kefu.db.read() as s:
        [group] = await list_merge_suggestions(s, world.workspace_id)
    assert {(c.contact_id, c.verified) for c in group.claims} == {
        (who.contact_id, True),
        (stranger.contact_id, False),
    }
    assert [
        (i.value, i.verified) for i in group.contacts[0].identities + group.contacts[1].identities
    ] == [("kai@example.test", True)]
