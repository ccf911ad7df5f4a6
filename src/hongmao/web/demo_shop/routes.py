"""The demo community and store, wired through the real link redirect and the real ingest path.

The community (``/community``) shows the lake's notes as a feed, with their disclosure labels and, under
linked notes, 种草直达 cards whose ``href`` is the link's own ``/l/{token}`` URL. The store (``/shop``) is a
small marketplace: item pages (the links' destination, carrying the click id in ``hm_click``), search,
cart, buy and refund. Every action is a contract event sent through :func:`hongmao.ingestion.batch.ingest_batch`,
exactly what ``POST /api/v1/events`` does.

The visitor is a random account id kept in a cookie; both sides pseudonymise it with the same match key
(as two platforms hashing the same phone number would), and the community hands the pseudonym to the
redirect in the ``hm_u`` cookie so the click knows its reader.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hongmao.identity import pseudonymize
from hongmao.ingestion.batch import ingest_batch
from hongmao.links import registry
from hongmao.links.manage import link_url
from hongmao.reports.scope import Scope
from hongmao.web import csrf, i18n
from hongmao.web.console.view import TEMPLATES, money
from hongmao.web.deps import State
from hongmao.web.state import WebState

router = APIRouter(include_in_schema=False)

VISITOR = "hm_visitor"
READER = "hm_u"  # read by the link redirect (hongmao.links.redirect.visitor)
CLICK_PARAM = "hm_click"  # the generic adapter's click-id parameter
FEED_SIZE = 24
DEMO_DWELL_MS = 30_000  # a page view counts as a 30-second read: the demo cannot time a real one


class Visitor:
    def __init__(self, request: Request, state: WebState) -> None:
        assert state.demo is not None
        raw = request.cookies.get(VISITOR, "")
        self.new = not (raw.startswith("visitor-") and len(raw) == 24)
        self.raw = raw if not self.new else f"visitor-{secrets.token_hex(8)}"
        self.user = pseudonymize(self.raw, state.demo.match_key, "account")
        self.secure = csrf.secure(request)

    def keep(self, response: Response) -> Response:
        options: dict[str, Any] = {"max_age": 30 * 86400, "httponly": True, "samesite": "lax", "secure": self.secure}
        if self.new:
            response.set_cookie(VISITOR, self.raw, **options)
        response.set_cookie(READER, self.user, **options)
        return response


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _event(kind: str, source: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"demo-{secrets.token_hex(10)}",
        "type": kind,
        "source": source,
        "time": _now(),
        "data": data,
    }


def _send(state: WebState, events: list[dict[str, Any]]) -> None:
    report = ingest_batch(state.lake, events, name="demo")
    problems = [r for r in report.records if r.status == "rejected"]
    if problems:  # the demo builds its own events: a reject is a bug here, say so loudly
        raise HTTPException(500, f"the demo sent an invalid event: {problems[0].to_dict()}")


def _market_source(state: WebState) -> str:
    assert state.demo is not None
    return f"market:{state.demo.market}"


def _render(request: Request, template: str, visitor: Visitor, **context: Any) -> Response:
    lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"t": i18n.translate(lang), "lang": lang, "money": money, "request": request, **context},
    )
    if "lang" in request.query_params and request.query_params["lang"] in i18n.LANGS:
        response.set_cookie(
            i18n.COOKIE, request.query_params["lang"], max_age=365 * 86400, samesite="lax", secure=csrf.secure(request)
        )
    return visitor.keep(response)


def _require_demo(state: WebState) -> None:
    if state.demo is None:
        raise HTTPException(404)


def _active_links(state: WebState, note_ids: list[str]) -> dict[str, list[registry.LinkRecord]]:
    out: dict[str, list[registry.LinkRecord]] = {}
    now = datetime.now(UTC)
    with state.lake.connect("listing a note's links") as conn:
        for record in registry.list_links(conn, limit=100_000):
            if (
                record.note_id in note_ids
                and record.revoked_at is None
                and (record.expires is None or record.expires > now)
            ):
                out.setdefault(record.note_id, []).append(record)
    return out


def _catalogue(state: WebState) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    notes: list[dict[str, Any]] = []
    for row in state.reports.note_activity(Scope(None)):
        published = row["published"]
        counts = {k: int(row[k] or 0) for k in ("impressions", "reads", "engagements", "clicks")}
        notes.append({**row, **counts, "published": published.isoformat() if published is not None else None})
    items = {i["item_id"]: i for i in state.reports.items(Scope(None), unsuppressed=True)}
    return notes, items


# --- community -----------------------------------------------------------------------------------------------


@router.get("/community", response_class=HTMLResponse)
async def feed(request: Request, state: State) -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    notes, items = await run_in_threadpool(_catalogue, state)
    shown = sorted(notes, key=lambda n: (n["published"] or "", n["note_id"]), reverse=True)[:FEED_SIZE]
    links = await run_in_threadpool(_active_links, state, [n["note_id"] for n in shown])
    day = datetime.now(UTC).date().isoformat()
    impressions = [
        _event(
            "note.impression",
            "community",
            {"note_id": n["note_id"], "user": visitor.user},
            f"demo-imp-{visitor.user[:12]}-{n['note_id']}-{day}",
        )
        for n in shown
    ]
    await run_in_threadpool(_send, state, impressions)  # one impression per person, note and day (de-duplicated)
    return _render(request, "shop/feed.html", visitor, notes=shown, links=links, items=items)


@router.get("/community/notes/{note_id}", response_class=HTMLResponse)
async def note_page(request: Request, state: State, note_id: str) -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    notes, items = await run_in_threadpool(_catalogue, state)
    note = next((n for n in notes if n["note_id"] == note_id), None)
    if note is None:
        raise HTTPException(404, f"no note {note_id!r}")
    read = _event("note.read", "community", {"note_id": note_id, "user": visitor.user, "dwell_ms": DEMO_DWELL_MS})
    await run_in_threadpool(_send, state, [read])
    links = (await run_in_threadpool(_active_links, state, [note_id])).get(note_id, [])
    cards = [(r, link_url(r.token, state.public_url), items.get(r.item_id, {})) for r in links]
    return _render(request, "shop/note.html", visitor, note=note, cards=cards, done=request.query_params.get("done"))


@router.post("/community/notes/{note_id}/{action}")
async def engage(request: Request, state: State, note_id: str, action: str) -> Response:
    _require_demo(state)
    if action not in ("like", "collect", "share"):
        raise HTTPException(404)
    visitor = Visitor(request, state)
    await run_in_threadpool(
        _send, state, [_event(f"note.{action}", "community", {"note_id": note_id, "user": visitor.user})]
    )
    return visitor.keep(RedirectResponse(f"/community/notes/{note_id}?done={action}", status_code=303))


# --- store ---------------------------------------------------------------------------------------------------


@router.get("/shop", response_class=HTMLResponse)
async def shop(request: Request, state: State, q: str = "") -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    _, items = await run_in_threadpool(_catalogue, state)
    found = list(items.values())
    if q.strip():
        await run_in_threadpool(
            _send, state, [_event("market.search", _market_source(state), {"user": visitor.user, "query": q.strip()})]
        )
        words = q.lower().split()
        found = [i for i in found if all(w in f"{i['brand']} {i['title']} {i['category']}".lower() for w in words)]
    return _render(request, "shop/shop.html", visitor, items=found[:60], q=q)


@router.get("/shop/item/{item_id}", response_class=HTMLResponse)
async def item_page(request: Request, state: State, item_id: str) -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    _, items = await run_in_threadpool(_catalogue, state)
    item = items.get(item_id)
    if item is None:
        raise HTTPException(404, f"no item {item_id!r}")
    click_id = request.query_params.get(CLICK_PARAM) or None
    data: dict[str, Any] = {"user": visitor.user, "item_id": item_id, "store_id": item["store_id"]}
    if click_id:
        data["click_id"] = click_id[:256]
        await run_in_threadpool(state.fold_clicks)  # the click the redirect just logged, into the lake now
    await run_in_threadpool(_send, state, [_event("market.visit", _market_source(state), data)])
    return _render(
        request, "shop/item.html", visitor, item=item, click_id=click_id, done=request.query_params.get("done")
    )


@router.post("/shop/item/{item_id}/cart")
async def cart(request: Request, state: State, item_id: str, click_id: Annotated[str, Form()] = "") -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    await run_in_threadpool(
        _send, state, [_event("market.cart", _market_source(state), {"user": visitor.user, "item_id": item_id})]
    )
    back = f"/shop/item/{item_id}?done=cart" + (f"&{CLICK_PARAM}={click_id}" if click_id else "")
    return visitor.keep(RedirectResponse(back, status_code=303))


@router.post("/shop/item/{item_id}/buy")
async def buy(request: Request, state: State, item_id: str, click_id: Annotated[str, Form()] = "") -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    _, items = await run_in_threadpool(_catalogue, state)
    item = items.get(item_id)
    if item is None:
        raise HTTPException(404, f"no item {item_id!r}")
    order_id = f"demo-ord-{secrets.token_hex(5)}"
    price = float(item["price"] or 0.0)
    data: dict[str, Any] = {
        "order_id": order_id,
        "user": visitor.user,
        "lines": [{"item_id": item_id, "quantity": 1, "price": price}],
        "amount": price,
    }
    if click_id:
        data["click_id"] = click_id[:256]
    await run_in_threadpool(_send, state, [_event("market.order", _market_source(state), data)])
    state.extras.setdefault("demo_orders", {})[order_id] = {
        "order_id": order_id,
        "item": item,
        "amount": price,
        "user": visitor.user,
        "refunded": False,
        "click_id": click_id,
    }
    return visitor.keep(RedirectResponse(f"/shop/orders/{order_id}", status_code=303))


def _order(state: WebState, order_id: str, visitor: Visitor) -> dict[str, Any]:
    order: dict[str, Any] | None = state.extras.get("demo_orders", {}).get(order_id)
    if order is None or order["user"] != visitor.user:
        raise HTTPException(404, f"no order {order_id!r}")
    return order


@router.get("/shop/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, state: State, order_id: str) -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    return _render(request, "shop/order.html", visitor, order=_order(state, order_id, visitor))


@router.post("/shop/orders/{order_id}/refund")
async def refund(request: Request, state: State, order_id: str) -> Response:
    _require_demo(state)
    visitor = Visitor(request, state)
    order = _order(state, order_id, visitor)
    if not order["refunded"]:
        data = {"order_id": order_id, "amount": order["amount"], "reason": "changed_mind", "user": visitor.user}
        await run_in_threadpool(_send, state, [_event("market.refund", _market_source(state), data)])
        order["refunded"] = True
    return visitor.keep(RedirectResponse(f"/shop/orders/{order_id}", status_code=303))
