"""Attribution models as pure functions over aggregated journey paths.

Modules, one job each:

* :mod:`~hongmao.attribution.paths` — the :class:`PathRow` record and the journey file format;
* :mod:`~hongmao.attribution.rules` — per-touch weights of the rule-based models;
* :mod:`~hongmao.attribution.absorbing` — exact absorbing-chain probabilities, with states removed;
* :mod:`~hongmao.attribution.markov` — Markov removal-effect attribution, first and higher order;
* :mod:`~hongmao.attribution.shapley` — Shapley values: exact on paths, exact lattice, sampled;
* :mod:`~hongmao.attribution.registry` — models by name and :func:`attribute_paths`;
* :mod:`~hongmao.attribution.hazard_data` — the additive-hazard model's input (one brand's person-days);
* :mod:`~hongmao.attribution.hazard` — the additive-hazard model: fit and each order's shares (run on the lake
  by ``hongmao attribute --model hazard``, not on aggregated paths);
* :mod:`~hongmao.attribution.datadriven` — the data-driven model: a fitted daily purchase probability and each
  order's Shapley shares (``hongmao attribute --model datadriven``).

Only NumPy, SciPy and the standard library are imported here: no web framework, no database driver.
"""

from hongmao.attribution.datadriven import DataDrivenData, DataDrivenFit, fit_datadriven, shapley_shares
from hongmao.attribution.hazard import HazardFit, fit_additive_hazard, hazard_shares
from hongmao.attribution.hazard_data import HazardData, quantile_strata
from hongmao.attribution.markov import MarkovResult, markov_attribution
from hongmao.attribution.paths import PathRow, format_paths, parse_paths, read_paths, write_paths
from hongmao.attribution.registry import LAKE_MODELS, MODEL_SPECS, MODELS, ChannelCredit, ModelSpec, attribute_paths
from hongmao.attribution.rules import (
    first_touch_weights,
    last_touch_weights,
    linear_weights,
    position_weights,
    time_decay_weights,
)
from hongmao.attribution.shapley import (
    PathGame,
    SampledShapley,
    path_game,
    sample_shapley,
    sample_shapley_paths,
    shapley_lattice,
    shapley_paths,
)

__all__ = [
    "LAKE_MODELS",
    "MODELS",
    "MODEL_SPECS",
    "ChannelCredit",
    "DataDrivenData",
    "DataDrivenFit",
    "HazardData",
    "HazardFit",
    "MarkovResult",
    "ModelSpec",
    "PathGame",
    "PathRow",
    "SampledShapley",
    "attribute_paths",
    "first_touch_weights",
    "fit_additive_hazard",
    "fit_datadriven",
    "format_paths",
    "hazard_shares",
    "last_touch_weights",
    "linear_weights",
    "markov_attribution",
    "parse_paths",
    "path_game",
    "position_weights",
    "quantile_strata",
    "read_paths",
    "sample_shapley",
    "sample_shapley_paths",
    "shapley_lattice",
    "shapley_paths",
    "shapley_shares",
    "time_decay_weights",
    "write_paths",
]
