"""The month is data: one list of stages (`simulation.model.MONTH`), each `run(world)`, and the
README's table of it is made from the list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simulation.mechanisms.world import World
from simulation.model import MONTH, LabourMarketModel

ROOT = Path(__file__).resolve().parents[2]


def test_readme_month_table_is_generated_from_the_list() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "generate.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_stage_says_what_it_does_and_names_are_unique() -> None:
    assert len({st.name for st in MONTH}) == len(MONTH)
    for st in MONTH:
        assert st.run.__doc__ and st.run.__doc__.strip(), f"stage {st.name} has no docstring"
        assert st.run.__code__.co_argcount == 1, f"stage {st.name} is not run(world)"


def test_the_model_provides_everything_a_stage_may_use() -> None:
    """Every attribute the `World` protocol lists exists on a built model, so a stage written
    against the protocol runs on the model."""
    m = LabourMarketModel(place="testville", regime="cooperative", seed=1, months=2, burn_in=1, agent_views=False)
    m.step()
    for name in World.__annotations__:
        assert hasattr(m, name), name
    assert callable(m.post_district)


def test_burn_in_runs_only_the_stages_of_every_month() -> None:
    """The regime's stages run only in policy months, every other stage in every month, in the
    list's order."""
    import dataclasses

    ran: list[tuple[int, str]] = []

    def recorded(st):  # type: ignore[no-untyped-def]
        def run(w):  # type: ignore[no-untyped-def]
            ran.append((w.month, st.name))
            st.run(w)

        return dataclasses.replace(st, run=run)

    stages = tuple(recorded(st) for st in MONTH)
    m = LabourMarketModel(
        place="testville", regime="cooperative", seed=1, months=1, burn_in=1, agent_views=False, stages=stages
    )
    m.step()
    every = [st.name for st in MONTH if not st.policy_only]
    assert [name for month, name in ran if month == -1] == every
    assert [name for month, name in ran if month == 0] == [st.name for st in MONTH]
