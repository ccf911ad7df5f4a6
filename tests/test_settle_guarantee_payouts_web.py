"""Guarantee payouts (对赌) over the API and in the console: an operator pays a period's guarantees (in one
brand's view, that brand's only), a brand key cannot pay and never sees or has paid another brand's contract,
the listing shows what is paid and still owed per contract, and the console shows it in both languages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from hongmao.reports.scope import Scope
from simkit import small_world
from webkit import Site, console_client, copy_lake, running_site

ME, OTHER = "lumiere", "beibei"
#: Ends after any time the server records a settlement at, so its entry is owed at the period's end.
LATER = "2099-12"
PAYOUTS = "/api/v1/settle/guarantees/payouts"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lake = copy_lake(small_world(tmp_path_factory)[1], tmp_path_factory.mktemp("web-guarantee-pay") / "lake")
    with running_site(lake) as s:
        yield s


def settled_contract(site: Site, brand: str, gid: str) -> str:
    """A contract of ``brand`` settled at its due date by the brand's own key; what it owes (yuan)."""
    campaign = sorted(site.state.reports.ownership(Scope(brand)).campaigns)[0]
    url = f"/api/v1/settle/campaigns/{campaign}/guarantees"
    contract = {"guarantee_id": gid, "target_roi": 50, "share": 0.5, "x_days": 0, "measure": "attributed"}
    with site.client(site.keys[brand]) as c:
        made = c.post(url, json={**contract, "spend": 1000})
        assert made.status_code == 201, made.text
        due = next(g["due"] for g in c.get(url).json()["guarantees"] if g["guarantee_id"] == gid)
        done = c.post(f"{url}/settle", json={"guarantee_id": gid, "at": due})
        assert done.status_code == 200, done.text
    owed: str = done.json()["owed"]
    assert Decimal(owed) > 0
    return owed


def money(c: Any) -> dict[tuple[str, str], tuple[str, str | None, list[str]]]:
    rows = c.get("/api/v1/settle/guarantees").json()["guarantees"]
    return {
        (r["brand"], r["guarantee_id"]): (r["paid"], r["outstanding"], [p["batch"] for p in r["payments"]])
        for r in rows
    }


def test_an_operator_pays_a_brands_guarantees_once_and_a_brand_key_pays_nothing(site: Site) -> None:
    mine = settled_contract(site, ME, "g-pay")
    theirs = settled_contract(site, OTHER, "g-pay")  # the same id, the other brand's own contract
    with site.client(site.keys[ME]) as c:
        assert money(c) == {(ME, "g-pay"): ("0.00", mine, [])}
        refused = c.post(PAYOUTS, json={"period": LATER})
        assert refused.status_code == 403, refused.text
        assert c.post(PAYOUTS, json={"period": LATER}, params={"brand": OTHER}).status_code == 403
    with site.client(site.operator) as c:
        assert c.post(PAYOUTS, json={"period": "2099"}).status_code == 422
        # Settled now: a period that ended before pays nothing.
        assert c.post(PAYOUTS, json={"period": "2025-07"}, params={"brand": ME}).json()["rows"] == []
        # The operator in the other brand's view pays that brand's contract only.
        other = c.post(PAYOUTS, json={"period": LATER}, params={"brand": OTHER})
        assert other.status_code == 200, other.text
        assert [(r["brand"], r["guarantee_id"], r["amount"]) for r in other.json()["rows"]] == [
            (OTHER, "g-pay", theirs)
        ]
        assert money(c)[(ME, "g-pay")] == ("0.00", mine, [])
        first = c.post(PAYOUTS, json={"period": LATER}, params={"brand": ME})
        assert first.json()["rows"] == [
            {
                "batch": f"guarantee-payout:{ME}:{LATER}",
                "brand": ME,
                "guarantee_id": "g-pay",
                "amount": mine,
                "paid_at": "2099-12-31T23:59:59+00:00",
            }
        ]
        again = c.post(PAYOUTS, json={"period": LATER}, params={"brand": ME, "format": "csv"})
        assert again.status_code == 200 and again.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(again.content.decode("utf-8-sig"))))
        assert [dict(r) for r in rows] == first.json()["rows"]  # the same file: nothing paid twice
        assert money(c) == {
            (ME, "g-pay"): (mine, "0.00", [f"guarantee-payout:{ME}:{LATER}"]),
            (OTHER, "g-pay"): (theirs, "0.00", [f"guarantee-payout:{OTHER}:{LATER}"]),
        }
    with site.client(site.keys[OTHER]) as c:
        assert money(c) == {(OTHER, "g-pay"): (theirs, "0.00", [f"guarantee-payout:{OTHER}:{LATER}"])}
    # The console: the brand's page shows paid and still owed of its own contract only, in both languages.
    browser = console_client(site, site.keys[ME])
    try:
        page = browser.get("/console/guarantees")
        assert page.status_code == 200 and "已支付（元）" in page.text and "尚欠（元）" in page.text
        paid = page.text.split('id="paid-g-pay"')[1].split("</div>")[0]
        assert f"<b>{mine}</b>" in paid
        assert "<b>0.00</b>" in page.text.split('id="outstanding-g-pay"')[1].split("</div>")[0]
        assert f"guarantee-payout:{ME}:{LATER}" in page.text and OTHER not in page.text.split("<main>")[1]
        english = browser.get("/console/guarantees", params={"lang": "en"})
        assert "Paid (yuan)" in english.text and "Still owed (yuan)" in english.text
    finally:
        browser.close()
