"""A local web server for tests: register pages, redirects or handlers by path while it runs.

aiohttp freezes its router once started, so one catch-all route looks paths up in a dict tests can change.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import socket
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Serving on 127.0.0.2 and allowing only 127.0.0.2/32 lets tests prove that 127.0.0.1 stays refused.
PREFERRED_HOST = "127.0.0.2"
FALLBACK_HOST = "127.0.0.1"
# aiohttp's server adds "application/octet-stream" to any body; this marker asks the server to drop it.
NO_CONTENT_TYPE = "X-Test-No-Content-Type"


def loopback_host() -> str:
    """127.0.0.2 where it can be bound (Linux binds all of 127/8; macOS does not by default)."""
    with socket.socket() as probe:
        try:
            probe.bind((PREFERRED_HOST, 0))
        except OSError:
            return FALLBACK_HOST
    return PREFERRED_HOST


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


@dataclass
class PageServer:
    host: str
    port: int = 0
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def network(self) -> ipaddress.IPv4Network:
        """Exactly this server's address, for FetchSettings.allow_private_networks."""
        return ipaddress.IPv4Network(f"{self.host}/32")

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, handler: Handler) -> str:
        """Serve `path` with `handler`; returns the full URL."""
        self.routes[path] = handler
        return self.url(path)

    def page(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str | None = "text/html; charset=utf-8",
        status: int = 200,
        encoding: str | None = None,  # "gzip" or "deflate": compress the body and say so
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve a fixed body; content_type=None sends no Content-Type header at all."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        extra = dict(headers or {})
        if encoding is not None:
            raw = compress(raw, encoding)
            extra["Content-Encoding"] = encoding

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.Response(body=raw, status=status, headers=extra)
            if content_type is None:
                response.headers[NO_CONTENT_TYPE] = "1"
            else:
                response.headers["Content-Type"] = content_type
            return response

        return self.add(path, handler)

    def redirect(self, path: str, location: str, *, status: int = 302) -> str:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        return self.add(path, handler)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(SeenRequest(request.path, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such test page")
        return await handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        app.on_response_prepare.append(_drop_content_type_if_asked)
        # handler_cancellation: slow test handlers stop when the client gives up instead of lingering.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the port the system chose for port 0

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _drop_content_type_if_asked(request: web.Request, response: web.StreamResponse) -> None:
    # Runs after aiohttp has set its default headers and before they are written.
    if response.headers.popall(NO_CONTENT_TYPE, None):
        response.headers.popall("Content-Type", None)


def compress(raw: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(raw, compresslevel=6, mtime=0)
    if encoding == "deflate":
        return zlib.compress(raw)  # HTTP "deflate" is the zlib format (RFC 9110)
    raise ValueError(f"unknown encoding {encoding!r}")


@contextlib.asynccontextmanager
async def raw_http_server(host: str, response: bytes) -> AsyncIterator[str]:
    """A server on `host` that answers every request with `response` byte for byte, for what aiohttp's own
    server refuses to send (a malformed status line, thousands of headers); yields its base URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up first: that is what some tests expect
        finally:
            writer.close()

    server = await asyncio.start_server(answer, host, 0)
    try:
        yield f"http://{host}:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


class EveryNameIsLocal(AbstractResolver):
    """Answers every name with one loopback address: a host the fetcher wrongly accepts reaches only that."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [ResolveResult(hostname=host, host=self.address, port=port, family=socket.AF_INET, proto=0,
                              flags=0)]  # fmt: skip

    async def close(self) -> None:
        pass
