"""Brand-side records: campaigns with their spend and randomised holdout, paid collaborations and boosting."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from hongmao.contract.fields import STRICT_MODEL, Currency, Float, Id, Money, Str, Timestamp


def _end_after_start(record: Any) -> Any:
    """A period [start, end) must not be empty."""
    if record.end <= record.start:
        raise ValueError("end must be after start")
    return record


class CampaignCreated(BaseModel):
    """A brand campaign: spend over [start, end), with a share of people held out at random."""

    model_config = STRICT_MODEL
    campaign_id: Id
    brand: Id
    spend: Money
    currency: Currency = "CNY"
    start: Timestamp
    end: Timestamp
    holdout_share: Float = Field(0.0, ge=0.0, lt=1.0, allow_inf_nan=False)
    notes: list[Id] = Field(default_factory=list, description="Notes that belong to the campaign.")
    name: Str | None = None

    _period = model_validator(mode="after")(_end_after_start)


class CollaborationCreated(BaseModel):
    """A brand paid (or agreed to pay) a creator for content: a platform order (蒲公英) or a private deal."""

    model_config = STRICT_MODEL
    collaboration_id: Id
    brand: Id
    creator_id: Id
    fee: Money
    currency: Currency = "CNY"
    note_id: Id | None = Field(None, description="The note delivered for it, when the brand knows it.")
    campaign_id: Id | None = Field(None, description="The campaign the collaboration is part of, if any.")
    filed: bool = Field(False, description="True when the collaboration was filed with the community (报备).")
    agency: Id | None = Field(None, description="The agency (MCN) that placed the creator, when the brand knows it.")


class NoteBoosted(BaseModel):
    """A brand paid to promote a note in feeds (加热 / 薯条) over [start, end)."""

    model_config = STRICT_MODEL
    note_id: Id
    brand: Id
    spend: Money
    currency: Currency = "CNY"
    start: Timestamp
    end: Timestamp
    campaign_id: Id | None = None

    _period = model_validator(mode="after")(_end_after_start)
