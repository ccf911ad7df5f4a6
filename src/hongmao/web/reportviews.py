"""What the API's and the console's report pages share: a request's range and filters (a bad one is a 422
naming the parameter) and the brand-key views of the model comparison and the campaign ROI stories, with the
k-threshold's withholding (:mod:`hongmao.reports.privacy`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError

from hongmao.reports import period, privacy
from hongmao.reports.period import PeriodError, Window


def window_of(
    params: Mapping[str, str], newest: Any, choices: Mapping[str, Sequence[Mapping[str, object]]] | None = None
) -> Window:
    """The range and filters of a request (API or console page); a bad one is a 422 naming the parameter.
    ``choices`` (:meth:`~hongmao.reports.service.Reports.filter_choices`): a filter naming nothing in them is one."""
    try:
        window = period.parse(params, newest)
        if choices is not None:
            period.check_filters(window.filters, choices)
        return window
    except PeriodError as error:
        raise RequestValidationError(
            [{"loc": ("query", error.field), "msg": error.reason, "type": "value_error"}]
        ) from None


def compare_withheld(state: Any, scope: Any, by: str, out: dict[str, Any], k: int, w: Window) -> dict[str, Any]:
    """A comparison as a brand key sees it (:func:`hongmao.reports.privacy.compare`)."""
    reports, models = state.reports, out["models"]
    return privacy.compare(out, {m: reports.buyers(scope, by, m, window=w) for m in models}, k)


def campaign_rois(state: Any, scope: Any, model: str, w: Window, operator: bool) -> list[dict[str, Any]]:
    """Each campaign's ROI story; a brand key's as :func:`hongmao.reports.privacy.campaign_rois` leaves it."""
    rows: list[dict[str, Any]] = state.reports.campaign_rois(scope, model, window=w)
    if operator or not rows:
        return rows
    buyers = state.reports.buyers(scope, "campaign", model, window=w)
    return privacy.campaign_rois(rows, buyers, privacy.threshold(state.reports.privacy_k))
