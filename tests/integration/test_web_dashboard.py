"""The dashboard: KPI charts and tables for a period, for the KPI readers only."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from service.store.db import db
from service.store.models import User
from tests.integration.conftest import World
from tests.integration.test_kpi import _issue, _visit
from tests.integration.web import Browser

YEAR = "/dashboard?from=2026-01-01&to=2027-01-01"


OFFLINE_SCRIPT = re.compile(r'<script src="/web-static/offline\.js\?v=[0-9a-f]+" defer>')


def _fixture(world: World) -> None:
    with world.app.app_context():
        acme, globex = world.customers["Acme"], world.customers["Globex"]
        _visit(acme, "2026-03-01T02:00:00", "reported", ["mary"])
        _visit(acme, "2026-04-01T02:00:00", "recorded", ["mary", "tom"])
        _visit(globex, "2026-05-01T02:00:00", "planned", ["tom"])
        _issue(acme, "2026-03-02T02:00:00", "customer_confirmed", None)
        _issue(acme, "2026-03-03T02:00:00", "raised", None)
        db.session.commit()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", ["mary", "mike", "boss", "sara", "admin"])
def test_the_dashboard_renders_for_the_kpi_readers(world: World, user: str, lang: str) -> None:
    _fixture(world)
    b = Browser(world, user, lang=lang)
    r = b.get(YEAR)
    assert r.status_code == 200, r.text
    assert r.text.count('<svg class="chart"') == 6
    assert re.findall(r"<script[^>]*>", r.text) == [
        OFFLINE_SCRIPT.search(r.text)[0]
    ]  # charts need none
    assert 'id="nav-dashboard"' in r.text
    assert 'href="/dashboard/export.csv?from=2026-01-01&amp;to=2027-01-01"' in r.text
    assert ("看板" if lang == "zh" else "Dashboard") in r.text


def test_the_dashboard_shows_the_period_figures(world: World) -> None:
    _fixture(world)
    b = Browser(world, "boss", lang="en")
    r = b.get(YEAR)
    # Acme (core, 12 a year): 2 done of 12 required; issues: 1 of 2 resolved.
    assert r.text.index('id="tier-core"') < r.text.index('id="tier-important"')
    assert r.text.index('id="tier-important"') < r.text.index('id="tier-general"')
    tier = r.text.split('id="tier-core"')[1].split("</tr>")[0]
    assert '<td data-label="Done">2</td>' in tier
    assert "16.7%" in tier
    issues = r.text.split('id="issues-table"')[1].split("</table>")[0]
    assert "50.0%" in issues
    # per person: mary planned 2, both done; tom 1 of 2
    person = r.text.split('id="plan-person-table"')[1].split("</table>")[0]
    assert '<td data-label="Person">mary</td>' in person and "100.0%" in person


def test_the_dashboard_names_people_by_their_display_names(world: World) -> None:
    _fixture(world)
    with world.app.app_context():
        db.session.execute(
            sa.update(User).where(User.username == "mary").values(display_name="王丽 Mary Wang")
        )
        db.session.commit()
    r = Browser(world, "boss", lang="en").get(YEAR)
    person = r.text.split('id="plan-person-table"')[1].split("</table>")[0]
    assert '<td data-label="Person">王丽 Mary Wang</td>' in person
    assert ">mary<" not in person
    chart = r.text.split('id="plan-person"')[1].split("</svg>")[0]
    assert "王丽 Mary Wang" in chart and ">mary<" not in chart


def _row(text: str, tier: str) -> str:
    return text.split(f'id="tier-{tier}"')[1].split("</tr>")[0]


def test_a_month_shows_whole_targets_and_no_rate_where_nothing_is_due(world: World) -> None:
    _fixture(world)
    r = Browser(world, "boss", lang="en").get("/dashboard?from=2026-03-01&to=2026-04-01")
    # March: core's March visit is due at its end (1 of 12 a year), Acme's of 03-01 is done;
    # important (6: February, April...) and general (2: June, December) owe none in March
    assert '<td data-label="Required">1</td>' in _row(r.text, "core")
    assert '<td data-label="Rate">100.0%</td>' in _row(r.text, "core")
    for tier in ("important", "general"):
        row = _row(r.text, tier)
        assert '<td data-label="Required">0</td>' in row and '<td data-label="Rate">—</td>' in row
    assert "visits due in the period by the tier quotas" in r.text
    assert ": 1 of 1 due (100.0%)." in r.text
    zh = Browser(world, "boss").get("/dashboard?from=2026-03-01&to=2026-04-01").text
    assert "应完成 1 次，已完成 1 次（100.0%）" in zh
    # January to April: core 4, important 2 (February, April), general 0; done: Acme's two
    r = Browser(world, "boss", lang="en").get("/dashboard?from=2026-01-01&to=2026-05-01")
    assert ": 2 of 6 due (33.3%)." in r.text
    assert '<td data-label="Required">4</td>' in _row(r.text, "core")
    assert '<td data-label="Rate">50.0%</td>' in _row(r.text, "core")
    assert '<td data-label="Rate">—</td>' in _row(r.text, "general")


def test_the_dashboard_defaults_to_the_half_year(world: World) -> None:
    b = Browser(world, "boss")
    r = b.get("/dashboard")  # the clock: 2026-11-02
    assert r.status_code == 200
    assert 'value="2026-07-01"' in r.text and 'id="period-until" value="2026-12-31"' in r.text


def test_others_may_not_see_the_dashboard(world: World) -> None:
    b = Browser(world, "tom")
    assert b.get("/dashboard").status_code == 403
    assert 'id="nav-dashboard"' not in b.get("/").text


def test_the_figures_download_as_csv_and_excel(world: World) -> None:
    _fixture(world)
    b = Browser(world, "sara")
    r = b.get("/dashboard/export.csv?from=2026-01-01&to=2027-01-01")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["板块", "分组", "指标", "数值"]  # the page's language: Chinese
    assert ["问题解决", "全部", "提出数", "2"] in rows
    r = b.client.get("/dashboard/export.xlsx?from=2026-01-01&to=2027-01-01")
    sheet = load_workbook(io.BytesIO(r.data))["考核指标"]
    assert ("问题解决", "全部", "提出数", 2) in list(sheet.iter_rows(values_only=True))
    tom = Browser(world, "tom")
    assert tom.get("/dashboard/export.csv").status_code == 403
    assert tom.get("/dashboard/export.xlsx").status_code == 403


def test_a_bad_period_is_refused(world: World) -> None:
    b = Browser(world, "boss")
    assert b.get("/dashboard?from=2026-07-01&to=2026-01-01").status_code == 422
    assert b.get("/dashboard?from=yesterday").status_code == 422


def test_a_rating_bar_is_drawn_on_its_five_point_scale() -> None:
    from service.entrypoints.web.evaluation import bar_chart

    svg = str(bar_chart([("Confirmations", 4.5), ("Surveys", None)], percent=False, top=5))
    assert 'width="72.0%" height="16" class="bar"' in svg  # 4.5 of 5 on the 80 % track
    assert 'width="0.0%" height="16" class="bar"' in svg and ">—</text>" in svg


def test_the_period_form_takes_and_shows_the_last_day_itself(world: World) -> None:
    _fixture(world)
    b = Browser(world, "boss", lang="en")
    by_link = b.get(YEAR).text
    form = by_link.split('id="period-form"')[1].split("</form>")[0]
    assert 'name="until" id="period-until" value="2026-12-31"' in form  # not 2027-01-01
    assert "excluded" not in form
    by_form = b.get("/dashboard?from=2026-01-01&until=2026-12-31").text
    assert _row(by_form, "core") == _row(by_link, "core")
    assert 'href="/dashboard/export.csv?from=2026-01-01&amp;to=2027-01-01"' in by_form
    # a one-day period is a period; a last day before the first is none
    assert b.get("/dashboard?from=2026-03-01&until=2026-03-01").status_code == 200
    assert b.get("/dashboard?from=2026-03-02&until=2026-03-01").status_code == 422
    assert b.get("/dashboard?from=2026-03-02&until=9999-12-31").status_code == 422
    compliance = b.get("/compliance?from=2026-01-01&until=2026-06-30").text
    assert 'id="period-until" value="2026-06-30"' in compliance


def test_the_header_names_the_signed_in_person_by_their_display_name(world: World) -> None:
    with world.app.app_context():
        db.session.execute(
            sa.update(User).where(User.username == "boss").values(display_name="刘总 Director Liu")
        )
        db.session.commit()
    page = Browser(world, "boss").get("/").text
    who = page.split('id="who"')[1].split("</span>")[0]
    assert 'data-username="boss"' in who and who.endswith(">刘总 Director Liu")
