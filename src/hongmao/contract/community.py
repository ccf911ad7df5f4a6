"""Community-side event data: notes, what people do with them, and searches inside the community."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hongmao.contract.fields import STRICT_MODEL, Id, Int, Pseudonym, Text


class NotePublished(BaseModel):
    """A creator published a note (笔记), possibly linking items (挂链) and carrying a disclosure label (报备)."""

    model_config = STRICT_MODEL
    note_id: Id
    creator_id: Id
    brand: Id | None = Field(None, description="The brand the note is about, when it is about one.")
    items: list[Id] = Field(default_factory=list, description="Marketplace items linked under the note.")
    disclosed: bool = Field(False, description="True when the note carries the commercial-collaboration label.")
    collaboration_id: Id | None = Field(None, description="The filed collaboration (报备) id, when sponsored.")
    campaign_id: Id | None = Field(None, description="The brand campaign the note belongs to, when known.")
    creator_tier: Literal["kol", "koc"] | None = None
    title: Text | None = None


class NoteTouch(BaseModel):
    """A person's contact with a note: impression, like, collect, comment or share."""

    model_config = STRICT_MODEL
    note_id: Id
    user: Pseudonym


class NoteRead(BaseModel):
    """A person opened a note and stayed dwell_ms milliseconds."""

    model_config = STRICT_MODEL
    note_id: Id
    user: Pseudonym
    dwell_ms: Int = Field(ge=0, le=86_400_000)


class CommunitySearch(BaseModel):
    """A search typed inside the community app."""

    model_config = STRICT_MODEL
    user: Pseudonym
    query: Text
