"""The TCP listeners: one shared port for every provider, plus one port per provider.

A provider's own port is what `base_url()` hands out, so an outage in `refuse` mode can
really refuse connections: its listener is closed for the outage and reopened on the same
port afterwards. On the shared port (and on connections already open) an outage resets the
connection instead.
"""

from __future__ import annotations

from aiohttp import web

from tools.provider_sim.config import ListenConfig
from tools.provider_sim.defaults import PROVIDERS


def provider_ports(listen: ListenConfig, port: int) -> dict[str, int]:
    """Requested port per provider (0 = any free one); empty when dedicated ports are off."""
    wanted = listen.provider_ports
    if wanted == "none":
        return {}
    if wanted == "auto":
        return {name: (port + 1 + i if port else 0) for i, name in enumerate(PROVIDERS)}
    assert isinstance(wanted, dict)
    return dict(wanted)


class Listeners:
    def __init__(self, runner: web.AppRunner, host: str) -> None:
        self._runner = runner
        self._host = host
        self._main: web.TCPSite | None = None
        self._sites: dict[str, web.TCPSite] = {}
        self.ports: dict[str, int] = {}  # bound port per provider
        self.main_port = 0

    async def start(self, port: int, per_provider: dict[str, int]) -> None:
        self._main = web.TCPSite(self._runner, self._host, port)
        await self._main.start()
        self.main_port = self._main.port
        for name, wanted in per_provider.items():
            site = web.TCPSite(self._runner, self._host, wanted)
            await site.start()
            self._sites[name] = site
            self.ports[name] = site.port

    def is_listening(self, provider: str) -> bool:
        return provider in self._sites

    async def close(self, provider: str) -> None:
        """Refuse new connections to the provider's own port."""
        site = self._sites.pop(provider, None)
        if site is not None:
            await site.stop()

    async def reopen(self, provider: str) -> None:
        if provider in self.ports and provider not in self._sites:
            site = web.TCPSite(self._runner, self._host, self.ports[provider])
            await site.start()
            self._sites[provider] = site
