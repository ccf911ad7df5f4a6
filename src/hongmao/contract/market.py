"""Marketplace event data: listings, visits, searches (回搜), carts, orders, refunds and reviews."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hongmao.contract.fields import STRICT_MODEL, Currency, Id, Int, Money, Pseudonym, Text


class ItemListed(BaseModel):
    """An item on sale in a store."""

    model_config = STRICT_MODEL
    item_id: Id
    store_id: Id
    brand: Id
    category: Id
    price: Money
    currency: Currency = "CNY"
    title: Text | None = None


class MarketVisit(BaseModel):
    """A visit to an item or store page (进店), carrying the click id when it came through a link."""

    model_config = STRICT_MODEL
    user: Pseudonym
    item_id: Id | None = None
    store_id: Id | None = None
    click_id: Id | None = None


class MarketSearch(BaseModel):
    """A search on the marketplace; a search for a brand after reading its note is search-back (回搜)."""

    model_config = STRICT_MODEL
    user: Pseudonym
    query: Text


class MarketCart(BaseModel):
    """An item added to the cart (加购)."""

    model_config = STRICT_MODEL
    user: Pseudonym
    item_id: Id
    quantity: Int = Field(1, ge=1, le=100_000)


class MarketFavorite(BaseModel):
    """An item saved to favourites (收藏) on the marketplace."""

    model_config = STRICT_MODEL
    user: Pseudonym
    item_id: Id


class OrderLine(BaseModel):
    model_config = STRICT_MODEL
    item_id: Id
    quantity: Int = Field(1, ge=1, le=100_000)
    price: Money = Field(description="Unit price paid.")


class MarketOrder(BaseModel):
    """An order (成交). amount is what the buyer paid for all lines."""

    model_config = STRICT_MODEL
    order_id: Id
    user: Pseudonym
    lines: list[OrderLine] = Field(min_length=1)
    amount: Money
    currency: Currency = "CNY"
    click_id: Id | None = Field(None, description="The link click that led here, when the marketplace kept it.")

    def main_item(self) -> str:
        """The line with the largest value: the item whose brand and category the order is judged by."""
        best = max(self.lines, key=lambda line: (line.price * line.quantity, line.item_id))
        return best.item_id


RefundReason = Literal["not_as_described", "quality", "damaged", "changed_mind", "late_delivery", "other"]


class MarketRefund(BaseModel):
    """Money returned for an order (退款); several partial refunds may follow one order."""

    model_config = STRICT_MODEL
    order_id: Id
    amount: Money
    reason: RefundReason = "other"
    user: Pseudonym | None = None


class MarketReview(BaseModel):
    """A buyer's rating of an order."""

    model_config = STRICT_MODEL
    order_id: Id
    rating: Int = Field(ge=1, le=5)
    text: Text = ""
    user: Pseudonym | None = None
