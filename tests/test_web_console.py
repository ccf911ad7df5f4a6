"""The console in-process: sign-in, every page in Chinese and English, sorting and CSV, links and keys forms
with their CSRF tokens, and pages that reference nothing but the server's own origin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from webkit import Client, Site, console_client, foreign_references, lake_copy, running_site

PAGES = ["/console/", "/console/funnel", "/console/notes", "/console/creators", "/console/campaigns",
         "/console/models", "/console/links"]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("console")
    lake = lake_copy(root / "lake")
    with running_site(lake) as s:
        yield s


def signed_in(site: Site, key: str) -> Client:
    return console_client(site, key, "/console/notes")


def test_sign_in_is_required_and_a_bad_key_is_refused(site: Site) -> None:
    c = Client(site.server)
    try:
        first = c.get("/console/funnel")
        assert first.status_code == 303 and first.headers["location"].startswith("/console/login?next=")
        login = c.get("/console/login")
        assert "登录控制台" in login.text and foreign_references(login.text) == []
        bad = c.post("/console/login", data={"key": "hm_nope", "next": "https://evil.example.com/"})
        assert bad.status_code == 303 and "error=1" in bad.headers["location"]
        assert "密钥无效" in c.get(bad.headers["location"]).text
        off_site = c.post("/console/login", data={"key": site.keys["lumiere"], "next": "//evil.example.com/"})
        assert off_site.headers["location"] == "/console/"  # never an open redirect
    finally:
        c.close()


def test_every_page_renders_in_chinese_then_english_with_only_own_origin(site: Site) -> None:
    c = signed_in(site, site.keys["lumiere"])
    try:
        for page in PAGES:
            zh = c.get(page)
            assert zh.status_code == 200, page
            assert 'lang="zh-CN"' in zh.text and "概览" in zh.text, page
            assert foreign_references(zh.text) == [], page
            assert '<script src="/static/console.js"' in zh.text and "cdn" not in zh.text.lower()
        overview = c.get("/console/")
        for label in ["投放花费", "归因 GMV", "归因净 GMV", "品牌归因ROI", "成交订单", "新客占比", "每日趋势", "<svg"]:
            assert label in overview.text, label
        funnel = c.get("/console/funnel").text
        for label in ["曝光", "阅读", "点击", "进店", "回搜人数", "加购", "成交", "退款"]:
            assert label in funnel, label
        english = c.get("/console/?lang=en")
        assert 'lang="en"' in english.text and "Attributed net GMV" in english.text
        assert 'lang="en"' in c.get("/console/notes").text  # the choice is remembered
        c.get("/console/?lang=zh")
        for asset in ["/static/console.css", "/static/console.js", "/static/favicon.svg"]:
            assert c.get(asset).status_code == 200
    finally:
        c.close()


def test_tables_sort_and_export_csv(site: Site) -> None:
    c = signed_in(site, site.keys["lumiere"])
    try:
        page = c.get("/console/notes", params={"sort": "reads", "dir": "desc"}).text
        shown = re.findall(r'<td class="mono">(note-\d+)</td>', page)
        ranked = c.get("/console/notes.csv", params={"sort": "reads", "dir": "desc"}).text.lstrip("\ufeff").splitlines()
        assert shown == [line.split(",")[0] for line in ranked[1:]]
        assert 'class="sorted desc"' in page.replace("num sorted", "sorted")
        csv = c.get("/console/notes.csv", params={"sort": "reads", "dir": "asc"})
        assert csv.headers["content-disposition"].startswith("attachment")
        lines = csv.text.lstrip("\ufeff").splitlines()
        assert lines[0].startswith("note_id,title,creator_id,disclosed,impressions,reads")
        values = [int(line.split(",")[5]) for line in lines[1:]]
        assert values == sorted(values) and len(values) >= 5
        creators = c.get("/console/creators.csv").text
        assert creators.lstrip("\ufeff").startswith("creator_id,tier,notes")
        models = c.get("/console/models", params={"by": "creator", "metric": "orders"}).text
        for name in ["首次触点", "末次触点", "线性", "时间衰减", "位置（U 型）", "马尔可夫", "沙普利"]:
            assert name in models
    finally:
        c.close()


def test_links_page_creates_and_revokes_with_a_csrf_token(site: Site) -> None:
    c = signed_in(site, site.keys["lumiere"])
    try:
        page = c.get("/console/links").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        note = re.search(r'<select name="note_id" required><option value="([^"]+)"', page)
        item = re.search(r'<select name="item_id" required><option value="([^"]+)"', page)
        assert csrf and note and item
        form = {"note_id": note.group(1), "item_id": item.group(1), "market": "tmall"}
        assert c.post("/console/links", data={**form, "csrf": "forged"}).status_code == 403
        made = c.post("/console/links", data={**form, "csrf": csrf.group(1)})
        assert made.status_code == 303 and "created=" in made.headers["location"]
        link_id = made.headers["location"].split("created=")[1]
        listed = c.get(made.headers["location"]).text
        assert f'data-link="{link_id}"' in listed and "data-copy=" in listed and "链接已创建" in listed
        gone = c.post(f"/console/links/{link_id}/revoke", data={"csrf": csrf.group(1)})
        assert gone.status_code == 303
        row = re.search(rf'data-link="{link_id}".*?</tr>', c.get("/console/links").text, re.S)
        assert row is not None and "已吊销" in row.group(0)
    finally:
        c.close()


def test_operators_switch_brands_and_manage_keys(site: Site) -> None:
    c = signed_in(site, site.operator)
    try:
        assert "全部品牌" in c.get("/console/").text
        platform = c.get("/console/platform").text
        assert "lumiere" in platform and "beibei" in platform
        one = c.get("/console/", params={"brand": "beibei"}).text
        assert 'value="beibei" selected' in one
        assert 'value="beibei" selected' in c.get("/console/notes").text  # remembered
        keys = c.get("/console/keys").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', keys)
        assert csrf
        made = c.post("/console/keys", data={"csrf": csrf.group(1), "role": "brand", "brand": "beibei", "label": "x"})
        key = re.search(r'id="new-key">([^<]+)<', made.text)
        assert key and key.group(1).startswith("hm_")
    finally:
        c.close()


def test_keys_command_prints_the_key_on_its_last_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hongmao.cli.app import app
    from hongmao.lake import Lake
    from hongmao.web.auth import authenticate

    runner = CliRunner()
    data = str(tmp_path / "lake")
    made = runner.invoke(app, ["keys", "create", "--brand", "acme", "--data", data])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"hm_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", key)
    assert "sign in at http://127.0.0.1:8000/console/login" in made.stderr  # where to use it
    listed = runner.invoke(app, ["keys", "list", "--data", data, "--json"])
    assert '"brand": "acme"' in listed.stdout and key not in listed.stdout
    assert runner.invoke(app, ["keys", "create", "--data", data]).exit_code == 2
    assert runner.invoke(app, ["keys", "revoke", key.split("_")[1], "--data", data]).exit_code == 0
    with Lake.open(data) as lake:
        assert authenticate(lake, key) is None


def test_operators_trust_page_lists_the_flags_with_evidence_and_the_commercial_trend(site: Site) -> None:
    from hongmao.api import trust_report as report

    truth = report(site.lake)
    flagged = [e["note_id"] for e in truth["notes"] if e["flags"]]
    assert flagged, "the test world should hold at least one flagged note"
    c = signed_in(site, site.operator)
    try:
        page = c.get("/console/trust")
        assert page.status_code == 200 and foreign_references(page.text) == []
        html = page.text
        for label in ["社区信任守护", "信息流商业化占比", "被标记的笔记", "被标记的博主", "未报备", "<svg"]:
            assert label in html, label
        table = html.split('id="trust-notes"', 1)[1].split("</table>", 1)[0]
        listed = re.findall(r'<td class="mono">([^<]+)</td>', table)
        assert [n for n in listed if n in set(flagged)][: len(flagged)] == flagged[:200]  # in the report's order
        shown = [e for e in truth["notes"] if "undisclosed" in e["flags"]][:3]
        assert shown
        for e in shown:  # the evidence codes behind a flag are on the page
            for code in e["evidence"]["undisclosed"]["evidence"]:
                assert code["code"] in table
        assert "Trust guard" in c.get("/console/trust?lang=en").text
        c.get("/console/?lang=zh")
    finally:
        c.close()
    with site.client(site.operator) as api:
        data = api.get("/api/v1/reports/trust").json()
        assert data["summary"]["flagged_notes"] == truth["summary"]["flagged_notes"]
        trend = data["trend"]
        assert trend and all(0 <= d["undisclosed_share"] <= d["commercial_share"] <= 1 for d in trend)
        assert sum(d["impressions"] for d in trend) > 0
    with site.client(site.keys["lumiere"]) as api:
        assert api.get("/api/v1/reports/trust").status_code == 403
    brand = signed_in(site, site.keys["lumiere"])
    try:
        assert brand.get("/console/trust").status_code == 403
        assert "/console/trust" not in brand.get("/console/").text
    finally:
        brand.close()


def test_the_model_comparison_answers_before_the_fitted_models_and_names_them(tmp_path: Path) -> None:
    """The comparison page shows the models ready now and names the ones still computing; once they are done
    (here: waited for), the same page shows every model and no notice."""
    from hongmao.engine.attribute import MODELS
    from hongmao.reports.scope import Scope

    with running_site(lake_copy(tmp_path / "lake")) as fresh:
        c = signed_in(fresh, fresh.keys["lumiere"])
        try:
            first = c.get("/console/models", params={"lang": "en"})
            assert first.status_code == 200
            header = re.search(r'<table class="data" id="compare">\s*<thead>(.*?)</thead>', first.text, re.S)
            notice = re.search(r'id="models-pending">(.*?)<a', first.text, re.S)
            columns = header.group(1) if header else ""
            waiting = notice.group(1) if notice else ""
            assert "Last touch" in columns  # the rule models never wait for the fitted ones
            for label in ("Markov", "Shapley", "Hazard (survival)", "Data-driven (Shapley)"):
                assert (label in columns) != (label in waiting), label  # shown or named as pending, never both
            fresh.state.reports.compare(Scope("lumiere"), "note", list(MODELS), 15, "linear", wait=True)
            done = c.get("/console/models", params={"lang": "en"}).text
            assert 'id="models-pending"' not in done
            assert all(label in done for label in ("Hazard (survival)", "Data-driven (Shapley)"))
        finally:
            c.close()
