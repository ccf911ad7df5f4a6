"""Brand-side entities: a campaign with its spend and randomised holdout."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from hongmao.contract.fields import STRICT_MODEL, Currency, Id, Money, Timestamp


class CampaignCreated(BaseModel):
    """A brand campaign: spend over [start, end), with a share of people held out at random."""

    model_config = STRICT_MODEL
    campaign_id: Id
    brand: Id
    spend: Money
    currency: Currency = "CNY"
    start: Timestamp
    end: Timestamp
    holdout_share: float = Field(0.0, ge=0.0, lt=1.0, allow_inf_nan=False)
    notes: list[Id] = Field(default_factory=list, description="Notes that belong to the campaign.")
    name: str | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> CampaignCreated:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self
