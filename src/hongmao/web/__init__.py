"""The web layer: REST API (FastAPI, OpenAPI at /docs), the brand and operator console, the demo community and
store, and the link redirect mounted in front — thin over :mod:`hongmao.reports`, :mod:`hongmao.ingestion`
and :mod:`hongmao.links`.

Modules: :mod:`~hongmao.web.app` (factories), :mod:`~.auth` (keys, roles, sessions), :mod:`~.deps` (who is
calling and the tenant scope), :mod:`~.api` (routers per area), :mod:`~.console` (server-rendered pages),
:mod:`~.demo_shop` (community feed and item pages), :mod:`~.redirect` (the redirect in-process),
:mod:`~.linkviews` (links as a tenant sees them), :mod:`~.charts` (SVG charts), :mod:`~.i18n` (strings).
"""

from hongmao.web.app import Server, create_app, create_server
from hongmao.web.state import DemoSettings

__all__ = ["DemoSettings", "Server", "create_app", "create_server"]
