"""What every request handler shares: the open lake, the reports over it, sessions and the demo settings."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hongmao.cleanroom.audiences import Audiences
from hongmao.lake import Lake
from hongmao.reports.scope import BrandGate, lake_owners
from hongmao.reports.service import Reports
from hongmao.web.auth import Principal, Sessions


@dataclass
class DemoSettings:
    """The demo community and store: whose pseudonyms they make and where the store's pages live."""

    match_key: str
    market: str = "demo"  # source market:demo


@dataclass
class WebState:
    lake: Lake
    reports: Reports
    sessions: Sessions
    data_dir: Path
    public_url: str
    catalog_url: str | None = None
    demo: DemoSettings | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def gate(self, principal: Principal) -> BrandGate | None:
        """The ingest gate of a principal: None for operators (they may send anything)."""
        if principal.brand is None:
            return None
        lake = self.lake
        return BrandGate(principal.brand, lambda wanted: lake_owners(lake, wanted))

    def audiences(self) -> Audiences:
        """The app's one audience service: its rules come from settings once (the deployment's k, the parties',
        the minimum export size); the API's and the console's audience pages share it."""
        found = self.extras.get("audiences")
        if not isinstance(found, Audiences):
            found = Audiences.from_settings(self.lake, privacy_k=self.reports.privacy_k)
            self.extras["audiences"] = found
        return found

    def fold_clicks(self) -> None:
        """Bring the redirect's logged clicks into the lake now (no-op when another fold is running)."""
        from hongmao.errors import HongmaoError
        from hongmao.links.clicklog import fold, log_dir

        with contextlib.suppress(HongmaoError):  # busy: the serving loop folds them within a second
            fold(self.lake, log_dir(self.data_dir))
