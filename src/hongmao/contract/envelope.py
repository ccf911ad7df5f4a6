"""The event envelope (CloudEvents attribute names) and the registry of every event type.

An event is ``{"id", "type", "source", "time", "data"}`` plus the optional CloudEvents attributes
``specversion`` and ``subject``. ``type`` selects the model of ``data``; :data:`EVENT_TYPES` maps each type
to that model and to the side (community, links, market, brand) allowed to emit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from hongmao.contract import campaign, community, links, market
from hongmao.contract.fields import Id, Str, Timestamp

Source = Annotated[
    str,
    StringConstraints(pattern=r"^(community|links|brand|hongmao|market:[a-z0-9_.-]+)$"),
    Field(description="Who emitted the event: community, links, brand, hongmao or market:<name> (tmall, jd, ...)."),
]


@dataclass(frozen=True)
class EventType:
    name: str
    data_model: type[BaseModel]
    side: str
    summary: str


_TYPES: list[EventType] = [
    EventType("note.published", community.NotePublished, "community", "A note was published."),
    EventType("note.impression", community.NoteTouch, "community", "A note was shown in someone's feed."),
    EventType("note.read", community.NoteRead, "community", "A note was opened and read."),
    EventType("note.like", community.NoteTouch, "community", "A note was liked."),
    EventType("note.collect", community.NoteTouch, "community", "A note was collected (saved)."),
    EventType("note.comment", community.NoteTouch, "community", "A note was commented on."),
    EventType("note.share", community.NoteTouch, "community", "A note was shared."),
    EventType("community.search", community.CommunitySearch, "community", "A search inside the community."),
    EventType("link.created", links.LinkCreated, "links", "A shoppable link was created."),
    EventType("link.click", links.LinkClick, "links", "A shoppable link was clicked."),
    EventType("item.listed", market.ItemListed, "market", "An item is on sale."),
    EventType("market.visit", market.MarketVisit, "market", "A store or item page was visited."),
    EventType("market.search", market.MarketSearch, "market", "A search on the marketplace."),
    EventType("market.cart", market.MarketCart, "market", "An item was added to the cart."),
    EventType("market.favorite", market.MarketFavorite, "market", "An item was saved to favourites."),
    EventType("market.order", market.MarketOrder, "market", "An order was placed."),
    EventType("market.refund", market.MarketRefund, "market", "Money was refunded for an order."),
    EventType("market.review", market.MarketReview, "market", "An order was reviewed."),
    EventType("campaign.created", campaign.CampaignCreated, "brand", "A brand campaign was set up."),
    EventType("collaboration.created", campaign.CollaborationCreated, "brand", "A brand paid a creator for content."),
    EventType("note.boosted", campaign.NoteBoosted, "brand", "A brand paid to promote a note."),
]

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}
ENGAGEMENT_TYPES = ("note.like", "note.collect", "note.comment", "note.share")


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Id = Field(description="Unique event id; re-sent events with the same id are duplicates.")
    source: Source
    time: Timestamp
    specversion: Literal["1.0"] = "1.0"
    subject: Str | None = None


def _class_name(type_name: str) -> str:
    return "".join(part.capitalize() for part in type_name.replace(".", "_").split("_")) + "Event"


def _event_model(t: EventType) -> type[EventBase]:
    fields: dict[str, Any] = {
        "type": (Literal[t.name], Field(description="The event type.")),
        "data": (t.data_model, ...),
    }
    model: type[EventBase] = create_model(_class_name(t.name), __base__=EventBase, __doc__=t.summary, **fields)
    return model


EVENT_MODELS: dict[str, type[EventBase]] = {t.name: _event_model(t) for t in _TYPES}

#: The union of every event, discriminated by ``type``; built from the registry so the two never drift apart.
Event: Any = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # noqa: UP007


def event_side(event_type: str) -> str:
    return EVENT_TYPES[event_type].side


def example_envelope(event_type: str, data: dict[str, Any], event_id: str = "evt-1") -> dict[str, Any]:
    """A well-formed envelope around ``data`` (used by docs and tests)."""
    side = EVENT_TYPES[event_type].side
    source = {"market": "market:tmall"}.get(side, side)
    return {"id": event_id, "type": event_type, "source": source, "time": "2025-06-01T20:15:00+08:00", "data": data}
