"""Link events: a shoppable link (种草直达) was created, and someone clicked it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hongmao.contract.fields import STRICT_MODEL, Id, Pseudonym, Str, Timestamp


class LinkCreated(BaseModel):
    """A signed link binding a note (and its creator, item and campaign) to a marketplace destination."""

    model_config = STRICT_MODEL
    link_id: Id
    note_id: Id
    item_id: Id
    market: Id = Field(description="Marketplace adapter name, e.g. tmall, taobao, jd, generic.")
    url: Str = Field(min_length=1, max_length=4096)
    creator_id: Id | None = None
    campaign_id: Id | None = None
    expires: Timestamp | None = None


class LinkClick(BaseModel):
    """A click on a link, logged by the redirect before it answered."""

    model_config = STRICT_MODEL
    click_id: Id
    link_id: Id
    user: Pseudonym | None = Field(None, description="The visitor's pseudonym when the community knows it.")
    ua_class: Literal["app", "browser", "bot", "preview", "unknown"] = "unknown"
    bot: bool = Field(False, description="Bots and link-preview fetchers are kept but left out of attribution.")
