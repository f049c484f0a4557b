"""The bottom of the configuration layer: where the shipped configs are, the one-line
`ConfigError`, reading TOML, validating a pydantic model with errors that name the field, and the
place file's models. `simulation.config` builds scenarios on these; `simulation.england` builds
the England places on them too, so neither of those two imports the other at load time.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import functools
import importlib.resources
import tomllib
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

_CHECKOUT = Path(__file__).resolve().parent.parent  # the repository, when running from a checkout
_RESOURCES = contextlib.ExitStack()  # keeps shipped configs extracted from a zipped install until exit
atexit.register(_RESOURCES.close)


def _is_checkout(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "configs").is_dir()


@functools.cache
def shipped_configs() -> Path:
    """The folder of the configs and data LabourLab ships (places, regimes, calibration, claims,
    targets, validation, England's data, dask settings), as a real folder.

    Installed from a wheel they are package data, `simulation/configs/` (pyproject.toml maps the
    repository's top-level `configs/` there); run from a checkout or an editable install, that
    folder does not exist and the checkout's `configs/` is the one, so edits to it are seen at once.
    Every read of a shipped file goes through here (`CONFIGS` is its value); a user's own files are
    found by their paths."""
    packaged = importlib.resources.files("simulation") / "configs"
    if packaged.is_dir():
        if isinstance(packaged, Path):
            return packaged
        return _RESOURCES.enter_context(importlib.resources.as_file(packaged))  # a zipped install
    return _CHECKOUT / "configs"


def _default_root() -> Path:
    """Where default output folders (`results/...`) go: the checkout when running from one, else the
    folder the command was started in (an installed package has no checkout to write into)."""
    if _is_checkout(_CHECKOUT):
        return _CHECKOUT
    try:
        return Path.cwd()
    except OSError:  # the working folder was removed
        return Path(".")


ROOT = _default_root()
CONFIGS = shipped_configs()


class ConfigError(Exception):
    """A bad input file: the message is one line naming file, field and what was expected."""

    def __init__(self, path: Path | str, field: str, expected: str) -> None:
        self.path, self.field, self.expected = str(path), field, expected
        where = f"{self.path}: {field}: " if field else f"{self.path}: "
        super().__init__(where + expected)


class FieldProblem(ValueError):
    """A validator's complaint about one part of the data: `where` is its path below the model
    validated (such as `districts[1].code`), so the error names that field, not the whole table."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


class Strict(BaseModel):
    """Base for config models: unknown keys are errors; no NaN or infinity; TOML types kept."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


# The most people one row may stand for: far coarser than any useful run (England is 35m people),
# and money is scaled by it, so a typo such as 1e308 would overflow the pence ledger.
MAX_SCALE = 1_000_000.0
# The largest payment a lever may set, in £ (the Work Programme's largest fee was about £14,000):
# money is booked in whole pence as int64, and a typo such as 1e308 would overflow it.
MAX_PAYMENT = 1_000_000.0


class District(Strict):
    name: str = Field(min_length=1)
    code: str = Field(min_length=1)
    market: str = Field(min_length=1)
    # Upper bounds lie far beyond any real district (England's largest, Birmingham, has about 0.7m
    # residents of working age, 38,000 businesses and GBP 600m of construction a year): a value past
    # them is a typo, and would otherwise overflow arrays or ask for petabytes of memory.
    working_age_pop: int = Field(gt=0, le=100_000_000)
    employment_rate: float = Field(gt=0, lt=1)
    unemployment_rate: float = Field(ge=0, lt=1)
    inactivity_rate: float = Field(ge=0, lt=1)
    claimant_rate: float = Field(ge=0, le=1)
    esa_ib_rate: float = Field(ge=0, le=1)
    businesses: int = Field(ge=0, le=10_000_000)
    construction_value_m: float = Field(ge=0, le=1_000_000)
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> District:
        implied = (1 - self.inactivity_rate) * (1 - self.unemployment_rate)
        if abs(implied - self.employment_rate) > 0.015:
            raise ValueError(
                f"employment_rate {self.employment_rate} inconsistent with (1-inactivity_rate)"
                f"*(1-unemployment_rate) = {implied:.3f} (tolerance 0.015)"
            )
        return self


class PlaceFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    people_per_agent: float = Field(ge=1, le=MAX_SCALE)
    sources: list[str] = Field(min_length=1)
    districts: list[District] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> PlaceFile:
        # Results are keyed by district name and code, so two districts sharing either would merge.
        for attr in ("code", "name"):
            first: dict[str, int] = {}
            for i, d in enumerate(self.districts):
                value = getattr(d, attr)
                if value in first:
                    raise FieldProblem(
                        f"districts[{i}].{attr}",
                        f"duplicate district {attr} {value!r} (also districts[{first[value]}].{attr})",
                    )
                first[value] = i
        return self


def _nearest(name: str, options: Any) -> str:
    match = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "expected a TOML file, found a directory") from None
    except OSError as e:
        raise ConfigError(path, "", f"cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(path, "", f"expected UTF-8 text (bad byte at offset {e.start})") from None
    if "\x00" in text:  # valid UTF-8, but binary data (a Parquet file, say), not a TOML file
        at = text.index("\x00")
        raise ConfigError(path, "", f"expected a TOML text file, found binary data (NUL byte at offset {at})")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"TOML syntax error: {e}") from None


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _validate[M: BaseModel](model: type[M], data: dict[str, Any], path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # An unknown key usually explains a "missing" one (a misspelling), so report it first.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(p for p in err["loc"] if p not in ("function-after",))
        field = _field_path(loc)
        kind = err["type"]
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):  # a validator named the part of the table at fault
            field = ".".join(x for x in (field, problem.where) if x).replace(".[", "[")
            return _raise(path, field, str(problem))
        if kind == "extra_forbidden":
            parent: Any = model
            key_next = False  # inside a dict field, the next path part is a key, not a field
            for part in loc[:-1]:
                if key_next or isinstance(part, int):
                    key_next = False
                    continue
                parent, key_next = _submodel(parent, part)
            options = parent.model_fields if parent is not None else []
            return _raise(path, field, f"unknown key{_nearest(loc[-1], options)}")
        if kind == "missing":
            return _raise(path, field, "required key is missing")
        msg = err["msg"].removeprefix("Value error, ")
        if "input" in err and kind not in ("value_error",) and not isinstance(err["input"], dict):
            msg += f" (got {err['input']!r})"
        return _raise(path, field, msg)


def _submodel(model: Any, part: Any) -> tuple[Any, bool]:
    """The config model a field holds, and whether the field is a dict (so a key comes next)."""
    field = getattr(model, "model_fields", {}).get(part) if model is not None else None
    if field is None:
        return None, False
    ann = field.annotation
    for cand in (ann, *getattr(ann, "__args__", ())):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            return cand, get_origin(ann) is dict
    return None, False


def _raise(path: Path, field: str, expected: str) -> Any:
    raise ConfigError(path, field, expected)
