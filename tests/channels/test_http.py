"""The SSRF guard: private, loopback and link-local addresses are refused after DNS and on
every redirect, in any spelling, unless allowed explicitly."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from kefu.channels.http import BlockedAddress, guarded_client, is_public
from tests.channels.fakes import serve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_address() -> None:
    assert is_public(ipaddress.ip_address("8.8.8.8"))


async def _ok(_: Request) -> Response:
    return PlainTextResponse("ok")


async def test_loopback_refused_unless_allowed() -> None:
    async with serve(Starlette(routes=[Route("/", _ok)])) as url:
        port = url.rsplit(":", 1)[1]
        async with guarded_client() as http:
            for target in (
                url,
                f"http://localhost:{port}/",
                f"http://2130706433:{port}/",
                f"http://0177.0.0.1:{port}/",
                f"http://[::ffff:127.0.0.1]:{port}/",
            ):
                # httpx refuses some spellings as invalid URLs; the rest resolve and are refused
                with pytest.raises((BlockedAddress, httpx.InvalidURL)):
                    await http.get(target)
            with pytest.raises(BlockedAddress):
                await http.get("http://169.254.169.254/latest/meta-data/")
        async with guarded_client(["127.0.0.1/32"]) as http:
            assert (await http.get(url)).text == "ok"


async def test_redirect_to_a_private_address_is_refused() -> None:
    async def hop(request: Request) -> Response:
        return RedirectResponse(str(request.query_params["to"]), status_code=302)

    async with serve(Starlette(routes=[Route("/", _ok), Route("/hop", hop)])) as url:
        port = url.rsplit(":", 1)[1]
        async with guarded_client(["127.0.0.1/32"]) as http:
            assert (await http.get(f"{url}/hop", params={"to": f"{url}/"})).text == "ok"
            with pytest.raises(BlockedAddress):
                await http.get(f"{url}/hop", params={"to": f"http://127.0.0.2:{port}/"})
