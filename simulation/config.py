"""Configuration: places, regimes and calibration, read from TOML and validated with pydantic.

Three kinds of file make a scenario:

- `configs/calibration.toml`: every behavioural parameter as an evidence record
  (value, unit, low/high range, source, note, assumption flag);
- `configs/regimes/*.toml`: policy levers only, so a regime is data and the code never asks
  which regime it is running;
- `configs/places/*.toml`: one or more districts with their starting figures and sources.

Any bad input raises `ConfigError` with one line naming the file, the field and what was
expected; the command line turns it into exit status 2.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulation import configfiles
from simulation.configfiles import MAX_PAYMENT, ConfigError, PlaceFile, Strict, _nearest, _validate, read_toml
from simulation.economy import STEADY, EconomyFile, load_economy
from simulation.mechanisms.providers import GROUPS, GroupLevers, GroupTable
from simulation.registry import PARAMETERS, Levers

# The bottom of this layer lives in `configfiles` (so that `england` can build on it without
# importing this module); the rest of the package reads these from here.
ROOT, CONFIGS, MAX_SCALE = configfiles.ROOT, configfiles.CONFIGS, configfiles.MAX_SCALE
District, shipped_configs = configfiles.District, configfiles.shipped_configs
# Levers are declared by the mechanisms that read them (`simulation.registry` builds the model);
# the rest of the package reads these from here.
__all__ = ["GROUPS", "MAX_PAYMENT", "GroupLevers", "GroupTable", "Levers"]


# ----------------------------------------------------------------------------------- calibration
class ParamRecord(Strict):
    """One parameter with its evidence."""

    value: float
    unit: str
    low: float
    high: float
    source: str = Field(min_length=1)
    note: str = ""
    assumption: bool

    @model_validator(mode="after")
    def _check(self) -> ParamRecord:
        if self.low > self.high:
            raise ValueError(f"range has low {self.low} > high {self.high}")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} outside its range [{self.low}, {self.high}]")
        if self.assumption and not self.source.lower().startswith("assumption"):
            raise ValueError("an assumption's source must start with 'Assumption:' and give reasons")
        return self


class CalibrationFile(Strict):
    params: dict[str, ParamRecord]
    # A fitted parameter file (`labourlab calibrate`) says how it was made: spec, targets, fit,
    # commit, time. Kept with the file and copied into each run's manifest via the resolved config.
    provenance: dict[str, Any] | None = None


class Params:
    """Parameter values by attribute (`params.sep_rate_eu`), with the evidence kept beside them."""

    def __init__(
        self,
        records: dict[str, ParamRecord],
        overrides: dict[str, float] | None = None,
        provenance: dict[str, Any] | None = None,
    ):
        self.records = records
        self.provenance = provenance  # how a fitted parameter file was made, if this is one
        self.values: dict[str, float] = {k: r.value for k, r in records.items()}
        for k, v in (overrides or {}).items():
            self.values[k] = float(v)

    def __getattr__(self, name: str) -> float:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def with_overrides(self, overrides: dict[str, float], source: str = "overrides") -> Params:
        check_overrides(overrides, source)
        out = Params(self.records, {**self._overridden(), **overrides}, self.provenance)
        check_consistency(out.values, source)
        return out

    def _overridden(self) -> dict[str, float]:
        return {k: v for k, v in self.values.items() if v != self.records[k].value}

    def as_dict(self) -> dict[str, float]:
        return dict(self.values)


def check_overrides(overrides: dict[str, Any], source: str) -> None:
    """Parameter overrides must name known parameters and lie inside their hard domains."""
    for name, value in overrides.items():
        if name not in PARAMETERS:
            raise ConfigError(source, name, f"unknown parameter{_nearest(name, PARAMETERS)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(source, name, "expected a finite number")
        lo, hi = PARAMETERS[name].domain
        if not lo <= value <= hi:
            raise ConfigError(source, name, f"expected a value in [{lo}, {hi}], got {value}")


def check_consistency(values: dict[str, float], source: str | Path) -> None:
    """Relations between parameters that each one's own range cannot express."""
    s1, s3, s5 = values["survival_1yr"], values["survival_3yr"], values["survival_5yr"]
    if not 1.0 >= s1 >= s3 >= s5 > 0.0:
        raise ConfigError(
            source,
            "survival_1yr, survival_3yr, survival_5yr",
            f"expected 1 >= survival_1yr >= survival_3yr >= survival_5yr > 0, got {s1}, {s3}, {s5}",
        )


# --------------------------------------------------------------------------------------- regimes
class RegimeFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    levers: Levers  # type: ignore[valid-type]  # built from the mechanisms' declarations


# ---------------------------------------------------------------------------------------- places
# ----------------------------------------------------------------------------------- the scenario
class Scenario(BaseModel):
    """Everything a run needs besides its seed: place, regime levers, parameters, horizon."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    place: PlaceFile
    regime: RegimeFile
    params: Params
    months: int = Field(default=60, ge=1, le=1200)
    burn_in: int = Field(default=24, ge=0, le=600)
    # Policy months run after the burn-in and before month 0, so that the measured months start in
    # the regime's own steady state, not in its start-up (the existing stock referred at once).
    lead_in: int = Field(default=0, ge=0, le=600)
    people_per_agent: float = Field(default=1.0, ge=1, le=MAX_SCALE)
    # The macroeconomic scenario: paths of demand and separations (`simulation.economy`).
    economy: EconomyFile = STEADY

    def resolved(self) -> dict[str, Any]:
        """The fully resolved scenario as plain data, for manifests."""
        return (
            {
                "place": self.place.model_dump(),
                "regime": self.regime.model_dump(),
                "params": self.params.as_dict(),
                "months": self.months,
                "burn_in": self.burn_in,
                "lead_in": self.lead_in,
                "people_per_agent": self.people_per_agent,
            }
            | ({"economy": self.economy.model_dump()} if not self.economy.steady else {})
            | ({"calibration_provenance": self.params.provenance} if self.params.provenance else {})
        )


# --------------------------------------------------------------------------------------- loading
def load_calibration(path: Path | None = None) -> Params:
    """Read a calibration file: every declared parameter's record, checked against its domain.

    A fitted file (one with `[provenance]`, written by `labourlab calibrate`) may predate a
    parameter that a newer mechanism declares: that parameter was not part of the fit, so its
    record is the shipped `calibration.toml`'s, and the provenance lists it under `not_in_fit`.
    Any other file must hold every parameter.
    """
    path = path or CONFIGS / "calibration.toml"
    cal = _validate(CalibrationFile, read_toml(path), path)
    for name in cal.params:
        if name not in PARAMETERS:
            raise ConfigError(path, f"params.{name}", f"unknown parameter{_nearest(name, PARAMETERS)}")
    records = dict(cal.params)
    provenance = cal.provenance
    missing = [name for name in PARAMETERS if name not in records]
    if missing and provenance is not None and path != CONFIGS / "calibration.toml":
        base = load_calibration()
        records |= {name: base.records[name] for name in missing}
        provenance = {**provenance, "not_in_fit": missing}
    for name, spec in PARAMETERS.items():
        if name not in records:
            raise ConfigError(path, f"params.{name}", "required parameter is missing")
        rec = records[name]
        lo, hi = spec.domain
        for attr in ("value", "low", "high"):
            v = getattr(rec, attr)
            if not lo <= v <= hi:
                raise ConfigError(path, f"params.{name}.{attr}", f"expected a value in [{lo}, {hi}], got {v}")
    params = Params(records, provenance=provenance)
    check_consistency(params.values, path)
    return params


def _resolve(kind: str, name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return p
    return CONFIGS / kind / f"{name_or_path}.toml"


def set_lever(levers: dict[str, Any], key: str, value: Any) -> None:
    """Set a lever in a dumped lever dict by name; `groups.esa_new.referral_month` reaches a group's,
    and a group lever without a group (`referral_month`) sets it for every group."""
    parts = key.split(".")
    group_fields = GroupLevers.model_fields
    if len(parts) == 1 and parts[0] in group_fields:
        for g in GROUPS:
            levers["groups"][g][parts[0]] = value
        return
    *path, last = parts
    _lever_table(levers, key, path)[last] = value


def get_lever(levers: dict[str, Any], key: str) -> Any:
    """A lever's value in a dumped lever dict, by the dotted name `set_lever` takes for one lever."""
    *path, last = key.split(".")
    return _lever_table(levers, key, path)[last]


def _lever_table(levers: dict[str, Any], key: str, path: list[str]) -> dict[str, Any]:
    """The table holding lever `key` (reached through `path`); an unknown name is a one-line
    ConfigError suggesting the nearest."""
    node: Any = levers
    for depth, part in enumerate([*path, key.split(".")[-1]]):
        if not isinstance(node, dict) or part not in node:
            options = node.keys() if isinstance(node, dict) else []
            if depth == 0:
                options = [*Levers.model_fields, *GroupLevers.model_fields]
            raise ConfigError("lever overrides", key, f"unknown lever{_nearest(part, options)}")
        if depth < len(path):
            node = node[part]
    return node


def flatten_keys(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys: `{groups = {esa_new = {referral_month = 5}}}` ->
    `groups.esa_new.referral_month` (the form `set_lever` and lever overrides take)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_keys(v, key + "."))
        else:
            out[key] = v
    return out


def available(kind: str) -> list[str]:
    names = sorted(p.stem for p in (CONFIGS / kind).glob("*.toml"))
    if kind == "places":  # built from data, not files: `england` and `region:<name>`
        names += _england().PLACE_NAMES
    return names


def _england() -> ModuleType:
    """`simulation.england`, which builds the places `england` and `region:<name>` from
    configs/england/ (district CSV, regional figures). It imports this module, so this module
    imports it here only, when such a place is asked for: no import cycle at load time."""
    from simulation import england

    return england


def load_regime(name_or_path: str) -> RegimeFile:
    path = _resolve("regimes", name_or_path)
    if not path.exists() and path.parent == CONFIGS / "regimes":
        raise ConfigError(
            path,
            "",
            f"no such regime{_nearest(name_or_path, available('regimes'))}; known: {', '.join(available('regimes'))}",
        )
    return _validate(RegimeFile, read_toml(path), path)


def load_place(name_or_path: str) -> PlaceFile:
    if name_or_path == "england" or name_or_path.startswith("region:"):
        return _england().place_by_name(name_or_path)
    path = _resolve("places", name_or_path)
    if not path.exists() and path.parent == CONFIGS / "places":
        raise ConfigError(
            path,
            "",
            f"no such place{_nearest(name_or_path, available('places'))}; known: {', '.join(available('places'))}",
        )
    return _validate(PlaceFile, read_toml(path), path)


def _check_construction(place: str, place_cfg: PlaceFile, params: Params) -> None:
    """No district may build more than the development pipeline can hold in a month's schemes
    (`developers.largest_construction_value_m`, which depends on the scheme sizes)."""
    from simulation.mechanisms.developers import largest_construction_value_m

    most = largest_construction_value_m(params)
    for i, d in enumerate(place_cfg.districts):
        if d.construction_value_m > most:
            where = place if place == "england" or place.startswith("region:") else _resolve("places", place)
            raise ConfigError(
                where,
                f"districts[{i}].construction_value_m",
                f"expected at most {most:.0f} (GBP m a year: the development pipeline's schemes a month), "
                f"got {d.construction_value_m:g}",
            )


def make_scenario(
    place: str,
    regime: str,
    *,
    months: int = 60,
    burn_in: int = 24,
    lead_in: int = 0,
    people_per_agent: float | None = None,
    calibration: Path | None = None,
    overrides: dict[str, float] | None = None,
    lever_overrides: dict[str, Any] | None = None,
    economy: str | None = None,
) -> Scenario:
    """Build a validated scenario from names (or paths) of a place and a regime."""
    for name, value, hi in (("--months", months, 1200), ("--burn-in", burn_in, 600), ("--lead-in", lead_in, 600)):
        low = 1 if name == "--months" else 0
        if not low <= value <= hi:
            raise ConfigError("command line", name, f"expected a whole number in [{low}, {hi}], got {value}")
    if people_per_agent is not None and not 1 <= people_per_agent <= MAX_SCALE:
        raise ConfigError("command line", "--scale", f"expected a number in [1, {MAX_SCALE:g}], got {people_per_agent}")
    place_cfg = load_place(place)
    regime_cfg = load_regime(regime)
    if lever_overrides:
        data = regime_cfg.model_dump()
        for k, v in lever_overrides.items():
            set_lever(data["levers"], k, v)
        regime_cfg = _validate(RegimeFile, data, Path("lever overrides"))
    params = load_calibration(calibration)
    if overrides:
        params = params.with_overrides(overrides)
    _check_construction(place, place_cfg, params)
    return Scenario(
        place=place_cfg,
        regime=regime_cfg,
        params=params,
        months=months,
        burn_in=burn_in,
        lead_in=lead_in,
        people_per_agent=people_per_agent or place_cfg.people_per_agent,
        economy=load_economy(economy),
    )
