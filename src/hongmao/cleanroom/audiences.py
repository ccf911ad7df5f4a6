"""AIPS audiences out of the clean room: counts that reveal no one, exports only the marketplace can read.

* **Counts** (:meth:`Audiences.report`): people at and reaching each stage in a period, and the flows from the
  previous period of the same length into it, every count below k withheld (k: the strictest of this
  deployment's ``privacy_k`` and the parties' ``privacy_k_parties``).
* **Export** (:meth:`Audiences.export`): the people at a stage, as values the marketplace alone can map back.
  With the clean room's identity file (``hongmao match join``) each person is the marketplace's own ref
  (HMAC under a key only the marketplace holds), re-keyed for this export: ``HMAC(salt, ref)`` with a fresh
  salt, so two exports cannot be joined by whoever carries them, and only a holder of the ref key and the
  customer list can redo the HMAC and find its people (:func:`map_back`). People the marketplace did not match
  leave nothing (it could not reach them). In the single-party mode (no identity file) the values re-key the
  lake pseudonyms, which that single party computes with its match key. An export smaller than
  ``audience_min_size`` (default 2,000) is refused, before any value is computed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hongmao.cleanroom import identity
from hongmao.cleanroom.keys import PartyKeys
from hongmao.engine import aips as engine
from hongmao.engine.session import Session
from hongmao.errors import ConfigError, InputError
from hongmao.identity.pseudonym import IdentifierKind
from hongmao.lake import Lake
from hongmao.measure import aips
from hongmao.measure.threshold import party_thresholds
from hongmao.reports import period
from hongmao.reports.scope import LakeView, Scope

FORMAT = "hongmao-audience/1"
DEFAULT_DAYS = "30d"


class AudienceRefused(InputError):
    """An export that may not leave (too small, or no brand named): the message says why."""


def rules_from_settings(privacy_k: int | None = None) -> aips.Rules:
    from hongmao import settings

    own = privacy_k if privacy_k is not None else int(settings.get("privacy_k") or 50)
    try:
        min_size = int(settings.get("audience_min_size") or aips.DEFAULT_MIN_AUDIENCE)
        deep = float(settings.get("deep_read_seconds") or aips.DEFAULT_DEEP_READ_SECONDS)
        return aips.Rules.of_parties(
            own, *party_thresholds(settings.get("privacy_k_parties")), deep_read_seconds=deep, min_audience=min_size
        )
    except (ValueError, aips.AipsError) as exc:
        raise ConfigError(f"audience settings: {exc}") from None


def rekey(salt: bytes, value: str) -> str:
    return hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def map_back(
    keys: PartyKeys, id_kind: IdentifierKind, customers: Iterable[str], export: Mapping[str, Any]
) -> list[str]:
    """The marketplace's side: which of its ``customers`` (raw ids) an export names, sorted."""
    if export.get("format") != FORMAT or export.get("id_space") != "market_refs":
        raise InputError(f"field format/id_space: not a {FORMAT} export of marketplace refs")
    salt, wanted = bytes.fromhex(str(export["salt"])), set(export["ids"])
    pz = keys.pseudonymizer(id_kind)
    return sorted(c for c in customers if rekey(salt, pz(c)) in wanted)


def single_party_map_back(
    match_key: str | bytes, id_kind: IdentifierKind, customers: Iterable[str], export: Mapping[str, Any]
) -> list[str]:
    """The single party's side of a lake-pseudonym export (it holds the match key)."""
    from hongmao.identity.pseudonym import pseudonymize

    if export.get("format") != FORMAT or export.get("id_space") != "lake_pseudonyms":
        raise InputError(f"field format/id_space: not a {FORMAT} export of lake pseudonyms")
    salt, wanted = bytes.fromhex(str(export["salt"])), set(export["ids"])
    return sorted(c for c in customers if rekey(salt, pseudonymize(c, match_key, id_kind)) in wanted)


@dataclass
class Audiences:
    """AIPS counts and exports over a lake, scoped like every report (:class:`~hongmao.reports.scope.Scope`)."""

    lake: Lake
    rules: aips.Rules
    tz: ZoneInfo
    identity_path: Path | None = None
    view: LakeView = field(init=False)

    def __post_init__(self) -> None:
        self.view = LakeView(self.lake)

    @classmethod
    def from_settings(cls, lake: Lake, privacy_k: int | None = None) -> Audiences:
        from hongmao import settings

        ident = settings.get("cleanroom_identity")
        tz = period.business_tz(settings.get("business_tz"))
        return cls(lake, rules_from_settings(privacy_k), tz, Path(ident) if ident else None)

    def newest_day(self) -> date | None:
        paths = self.lake.segment_paths()
        if not paths:
            return None
        with Session(paths) as session:
            newest = session.scalar(session.events.time.max())
        return None if newest is None else newest.astimezone(self.tz).date()

    def period_of(self, params: Mapping[str, str]) -> period.Period:
        """The period asked for (``range``/``from``/``to``); by default the 30 days ending on the newest day."""
        newest = self.newest_day()
        asked = {k: v for k, v in params.items() if k in ("range", "from", "to") and v}
        chosen = period.parse_period(asked or {"range": DEFAULT_DAYS}, newest)
        if chosen is None:
            if newest is None:
                raise AudienceRefused("range: the lake is empty, there is no period to count")
            chosen = period.parse_period({"range": DEFAULT_DAYS}, newest)
            assert chosen is not None
        return chosen

    def report(self, scope: Scope, per: period.Period) -> dict[str, Any]:
        k, deep = self.rules.k, self.rules.deep_read_seconds
        before = per.previous()
        with Session(self.view.segments(scope)) as session:
            at = engine.stage_people(session, per.bounds(self.tz), deep)
            at_before = engine.stage_people(session, before.bounds(self.tz), deep)
            pairs = engine.flows(session, before.bounds(self.tz), per.bounds(self.tz), deep)
        return {
            "brand": scope.brand,
            "period": {"from": per.start.isoformat(), "to": per.end.isoformat(), "days": per.days},
            "previous": {"from": before.start.isoformat(), "to": before.end.isoformat()},
            "rules": self.describe_rules(),
            **aips.tables(at, at_before, pairs, k),
        }

    def describe_rules(self) -> dict[str, Any]:
        return {
            "k": self.rules.k,
            "min_audience": self.rules.min_audience,
            "deep_read_seconds": self.rules.deep_read_seconds,
            "ti": f"a read of {self.rules.deep_read_seconds:g} s or more, a collect or a comment",
        }

    def export(self, scope: Scope, per: period.Period, stage: str, *, reached: bool = False) -> dict[str, Any]:
        """The export of ``stage`` in ``per``, or :class:`AudienceRefused` naming the reason."""
        stage = aips.check_stage(stage)
        if scope.brand is None:
            raise AudienceRefused("brand: an audience belongs to one brand; name it")
        with Session(self.view.segments(scope)) as session:
            members = engine.audience(
                session, per.bounds(self.tz), stage, self.rules.deep_read_seconds, reached=reached
            )
        if self.identity_path is not None:
            tables = identity.load(self.identity_path)
            by_lake = {lake_id: ref for ref, lake_id in tables["market"].items()}
            values, space = [by_lake[m] for m in members if m in by_lake], "market_refs"
        else:
            values, space = members, "lake_pseudonyms"
        why = aips.audience_size_ok(len(values), self.rules)
        if why is not None:
            raise AudienceRefused(f"stage {stage}: {why}; nothing was exported")
        salt = secrets.token_bytes(16)
        return {
            "format": FORMAT,
            "brand": scope.brand,
            "stage": stage,
            "reached": reached,
            "period": {"from": per.start.isoformat(), "to": per.end.isoformat()},
            "id_space": space,
            "size": len(values),
            "salt": salt.hex(),
            "ids": sorted(rekey(salt, v) for v in values),
        }
