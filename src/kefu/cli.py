"""The ``kefu`` command: serve, demo, migrate, worker, workspace."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kefu.config import Settings

app = typer.Typer(help="kefu: self-hosted, IM-first customer service.", no_args_is_help=True)
console = Console()


def _settings(**overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


def _keys(settings: Settings) -> list[str]:
    return [settings.secret_key, *settings.previous_secret_keys]


def _uvicorn(settings: Settings) -> None:
    import uvicorn

    from kefu.app import create_app
    from kefu.logs import configure_logging
    from kefu.realtime.handshake import AnsweringWebSocketProtocol

    configure_logging(settings)
    application = create_app(settings)
    # Everything imported and built so far lives as long as the process: keep it out of the
    # collector's full passes, which otherwise walk ~200,000 objects and stall the event loop
    # for 250-400 ms on a loaded two-core machine (docs/performance.md).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if os.name != "nt" else "asyncio",
        http="httptools",
        ws=AnsweringWebSocketProtocol,
        ws_max_size=settings.max_ws_frame_bytes,
        ws_per_message_deflate=settings.ws_compression,
        ws_ping_interval=settings.heartbeat_seconds,
        ws_ping_timeout=settings.heartbeat_seconds,
        log_config=None,
        access_log=False,
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips or "",
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from kefu.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.effective_database_url, secret_keys=_keys(settings))
    console.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Run the server (HTTP, WebSocket and, unless KEFU_RUN_WORKER=false, the job worker)."""
    settings = _settings(host=host, port=port)
    if migrate_first:
        from kefu.db.migrate import upgrade

        upgrade(settings.effective_database_url, secret_keys=_keys(settings))
    _uvicorn(settings)


@app.command()
def worker() -> None:
    """Run only the job worker (scale-out deployments run several)."""
    from kefu.jobs.runner import Worker
    from kefu.logs import configure_logging
    from kefu.runtime import Kefu

    settings = _settings()
    configure_logging(settings)

    async def _main() -> None:
        kefu = Kefu(settings)
        try:
            await Worker(kefu).forever()
        finally:
            await kefu.close()

    asyncio.run(_main())


@app.command()
def mail(
    smtp_host: Annotated[str | None, typer.Option(help="address of the SMTP endpoint")] = None,
    smtp_port: Annotated[
        int | None, typer.Option(help="port of the SMTP endpoint (unset: no endpoint)")
    ] = None,
) -> None:
    """Receive mail for the email inboxes: an SMTP endpoint and IMAP polling (run one)."""
    from kefu.jobs.mail import MailService
    from kefu.logs import configure_logging
    from kefu.runtime import Kefu

    overrides: dict[str, object] = {"mail_smtp_host": smtp_host, "mail_smtp_port": smtp_port}
    settings = _settings(**{k: v for k, v in overrides.items() if v is not None})
    configure_logging(settings)

    async def _main() -> None:
        kefu = Kefu(settings)
        try:
            await MailService(kefu).forever()
        finally:
            await kefu.close()

    asyncio.run(_main())


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="address (default KEFU_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default KEFU_PORT or 8000)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where the SQLite file lives")] = None,
) -> None:
    """Start on a fresh SQLite database with a demo workspace, and print how to sign in.

    With KEFU_DATABASE_URL set, that database is kept: the demo workspace is added once.
    """
    os.environ.setdefault("KEFU_MODE", "demo")
    settings = _settings(mode=os.environ["KEFU_MODE"], host=host, port=port, data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.database_url is None:
        db_file = settings.data_dir / "kefu.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    from kefu.db.migrate import upgrade
    from kefu.demo import DemoAccounts, demo_exists, seed_demo
    from kefu.runtime import Kefu

    upgrade(settings.effective_database_url, secret_keys=_keys(settings))

    async def _seed() -> DemoAccounts | None:
        kefu = Kefu(settings)
        try:
            return None if await demo_exists(kefu) else await seed_demo(kefu)
        finally:
            await kefu.close()

    from kefu.domain.errors import KefuError

    try:
        accounts = asyncio.run(_seed())
    except KefuError as exc:
        console.print(f"KEFU_DEMO_PASSWORD: {exc.code}: {exc.message}", markup=False)
        raise typer.Exit(2) from None
    base = f"http://{settings.host}:{settings.port}"
    table = Table(title="kefu demo", show_header=False)
    table.add_row("API docs", f"{base}/docs")
    table.add_row("health", f"{base}/healthz")
    if accounts is None:
        table.add_row("workspace", "the demo workspace exists already; its passwords are unchanged")
    else:
        table.add_row("admin", accounts.admin_email)
        table.add_row("agents", ", ".join(accounts.agent_emails))
        table.add_row("password", accounts.admin_password)
        table.add_row("inbox key", accounts.inbox_key)
    console.print(table)
    _uvicorn(settings)


workspace_app = typer.Typer(help="Workspaces (companies) on this installation.")
app.add_typer(workspace_app, name="workspace")


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Option(help="the company's name")],
    slug: Annotated[str, typer.Option(help="short unique name, e.g. acme")],
    admin_email: Annotated[str, typer.Option(help="the first admin's email")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="asked when not given"
        ),
    ],
    admin_name: Annotated[str, typer.Option(help="the first admin's name")] = "Admin",
) -> None:
    """Create a workspace with its first admin, a team and a web inbox."""
    from pydantic import ValidationError

    from kefu.bootstrap import NewWorkspace, create_owner_workspace
    from kefu.domain.errors import KefuError
    from kefu.runtime import Kefu

    try:
        spec = NewWorkspace(
            name=name,
            slug=slug,
            admin_email=admin_email,
            admin_name=admin_name,
            password=password,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        console.print(f"invalid input: {first['loc'][0]}: {first['msg']}", markup=False)
        raise typer.Exit(2) from None
    settings = _settings()
    from kefu.db.migrate import upgrade

    upgrade(settings.effective_database_url, secret_keys=_keys(settings))

    async def _create() -> tuple[str, str]:
        kefu = Kefu(settings)
        try:
            return await create_owner_workspace(kefu, spec)
        finally:
            await kefu.close()

    try:
        ws_id, inbox_key = asyncio.run(_create())
    except KefuError as exc:
        console.print(f"{exc.code}: {exc.message}", markup=False)
        raise typer.Exit(1) from None
    console.print(f"workspace {slug} created ({ws_id}); web inbox key: {inbox_key}")


agent_app = typer.Typer(help="Agents' accounts, for the installer.")
app.add_typer(agent_app, name="agent")


@agent_app.command("set-password")
def agent_set_password(
    workspace: Annotated[str, typer.Option(help="the workspace's slug")],
    email: Annotated[str, typer.Option(help="the agent's email")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="asked when not given"
        ),
    ],
    activate: Annotated[
        bool, typer.Option("--activate", help="also turn a deactivated account back on")
    ] = False,
) -> None:
    """Set an agent's password (the first admin of a server without mail, or an agent locked
    out); every session of theirs ends. The password must pass the same strength rule as in
    the app."""
    from functools import partial

    from kefu.actions.agents import set_password_as_installer
    from kefu.domain.errors import KefuError
    from kefu.domain.identities import normalize_email
    from kefu.queries.directory import workspace_id_by_slug
    from kefu.runtime import Kefu
    from kefu.security.passwords import hash_new_password

    settings = _settings()

    async def _set() -> None:
        kefu = Kefu(settings)
        try:
            address = normalize_email(email)
            hashed = hash_new_password(password, [address])
            async with kefu.db.read() as session:
                ws = await workspace_id_by_slug(session, workspace)
            await kefu.write(
                ws,
                partial(
                    set_password_as_installer,
                    email=address,
                    password_hash=hashed,
                    activate=activate,
                ),
            )
        finally:
            await kefu.close()

    try:
        asyncio.run(_set())
    except KefuError as exc:
        console.print(f"{exc.code}: {exc.message}", markup=False)
        raise typer.Exit(1) from None
    console.print(f"password set for {email} in {workspace}; their sessions ended", markup=False)


secrets_app = typer.Typer(help="Secrets stored sealed with KEFU_SECRET_KEY.")
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("reseal")
def secrets_reseal() -> None:
    """After a rotation of KEFU_SECRET_KEY (the old key listed in KEFU_PREVIOUS_SECRET_KEYS):
    seal every stored secret again with the current key, so the old one can be dropped."""
    from functools import partial

    from kefu.actions.channels import reseal_channel_secrets
    from kefu.actions.inboxes import reseal_identity_secrets
    from kefu.actions.twofactor import reseal_second_factors
    from kefu.domain.errors import KefuError
    from kefu.queries.channels import list_channel_rows_to_reseal
    from kefu.queries.directory import list_workspaces_with_identity_secrets_to_reseal
    from kefu.queries.twofactor import list_workspaces_to_reseal
    from kefu.runtime import Kefu

    settings = _settings()
    kinds = {
        "two-factor": reseal_second_factors,
        "channel": reseal_channel_secrets,
        "identity": reseal_identity_secrets,
    }

    async def _reseal() -> tuple[dict[str, int], str]:
        kefu = Kefu(settings)
        box = kefu.secrets
        try:
            async with kefu.db.read() as session:
                stale = {
                    "two-factor": await list_workspaces_to_reseal(session, box.current_prefix),
                    "channel": sorted(
                        {r.workspace_id for r in await list_channel_rows_to_reseal(session, box)}
                    ),
                    "identity": await list_workspaces_with_identity_secrets_to_reseal(
                        session, box.current_prefix
                    ),
                }
            done = dict.fromkeys(kinds, 0)
            for kind, reseal in kinds.items():
                for ws_id in stale[kind]:
                    done[kind] += await kefu.write(ws_id, partial(reseal, box=box))
            return done, box.key_id
        finally:
            await kefu.close()

    try:
        done, key_id = asyncio.run(_reseal())
    except KefuError as exc:
        console.print(f"{exc.code}: {exc.message}", markup=False)
        raise typer.Exit(1) from None
    console.print(
        f"{done['two-factor']} two-factor secret(s), {done['channel']} channel secret(s) and "
        f"{done['identity']} identity secret(s) sealed again with key {key_id}"
    )


bot_app = typer.Typer(help="The knowledge-base bot.")
app.add_typer(bot_app, name="bot")


@bot_app.command("eval")
def bot_eval(
    kb: Annotated[Path, typer.Option(help="knowledge base CSV: text,category")],
    test: Annotated[Path, typer.Option(help="test questions CSV: text,category")],
    backend: Annotated[str, typer.Option(help="tfidf or embeddings")] = "tfidf",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="embeddings backend: mpnet (default) or minilm (the packaged models), or a "
            "sentence-transformers model name or directory, read from disk only"
        ),
    ] = None,
) -> None:
    """Train on a knowledge base and measure answers and hand-offs on test questions."""
    from kefu.bot.cli import run_eval

    raise typer.Exit(run_eval(kb, test, backend, as_json, model))


@bot_app.command("simulate")
def bot_simulate(
    kb: Annotated[Path, typer.Option(help="knowledge base CSV: text,category[,language]")],
    conversations: Annotated[
        Path, typer.Option(help="scripted conversations, JSON lines: {language, turns: [...]}")
    ],
    backend: Annotated[str, typer.Option(help="tfidf or embeddings")] = "tfidf",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    model: Annotated[
        str | None, typer.Option(help="embeddings backend: mpnet (default) or minilm")
    ] = None,
    failures: Annotated[
        bool, typer.Option("--failures", help="list the turns that went wrong")
    ] = False,
) -> None:
    """Play scripted customers through the real conversation engine and count what the bot
    got right: answers, hand-offs, customers left with the bot."""
    from kefu.bot.cli import run_simulate

    raise typer.Exit(run_simulate(kb, conversations, backend, as_json, model, failures))


kb_app = typer.Typer(help="Knowledge-base articles as CSV (text,category[,title,answer,…]).")
app.add_typer(kb_app, name="kb")


@kb_app.command("import")
def kb_import(
    file: Annotated[Path, typer.Argument(help="CSV: one row per example question")],
    workspace: Annotated[str, typer.Option(help="the workspace's slug")],
) -> None:
    """Create or replace articles (matched on category and language); the bot retrains."""
    from kefu.bot.cli import run_import
    from kefu.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.effective_database_url, secret_keys=_keys(settings))
    raise typer.Exit(run_import(file, workspace, settings))


@kb_app.command("export")
def kb_export(
    workspace: Annotated[str, typer.Option(help="the workspace's slug")],
    file: Annotated[Path | None, typer.Argument(help="where to write (default stdout)")] = None,
) -> None:
    """Write every article as CSV, one row per example question."""
    from kefu.bot.cli import run_export

    raise typer.Exit(run_export(file, workspace, _settings()))


if __name__ == "__main__":
    app()
