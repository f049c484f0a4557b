"""The browser app (simulation/app.py): the side-by-side model, then the real page in headless chromium.

The browser test needs Debian's chromium (/usr/bin/chromium) and the `playwright` package (the dev
extra); `make test` and .ci/run install both. It fails, rather than skips, when either is missing,
so CI cannot pass without testing the app. It also needs solara's front-end assets in the offline
cache (`make assets`), or the page stays blank.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from simulation.app import MEASURES, SideBySide
from simulation.config import ROOT

CHROMIUM = Path("/usr/bin/chromium")
APP = ROOT / "simulation" / "app.py"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def test_side_by_side_steps_both_arms_and_rebuilds_from_string_seed():
    m = SideBySide(place="testville", seed=4, caseload="80", brokerage="on")
    assert set(m.arms) == {"centralised", "cooperative"}
    assert m.overrides == {"caseload": 80, "brokerage": True}
    for arm in m.arms.values():
        assert arm.levers.caseload == 80 and arm.levers.brokerage is True
    for _ in range(3):
        m.step()
    assert m.steps == 3 and m.time == 3.0
    assert [arm.month for arm in m.arms.values()] == [3, 3]
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 4  # the starting state and three months
    for measure in MEASURES:
        for regime in ("centralised", "cooperative"):
            assert f"{measure}_{regime}" in df.columns
    assert df["participants_centralised"].iloc[-1] > 0
    # The arms differ only by regime: the same seed gives the same market after the burn-in. Each
    # regime then runs its own lead-in (24 months in the app) before month 0, so compare without one.
    assert all(arm.config.lead_in == 24 for arm in m.arms.values())
    start = SideBySide(place="testville", seed=4, caseload="80", brokerage="on", lead_in=0)
    first = start.datacollector.get_model_vars_dataframe()
    assert first["unemployment_rate_centralised"].iloc[0] == first["unemployment_rate_cooperative"].iloc[0]

    # Reset rebuilds with type(model)(**params); an edited InputText seed arrives as a string.
    params = {"place": "testville", "seed": "4", "caseload": "80", "brokerage": "on"}
    again = type(m)(**params)
    assert again.seed == 4 and again.steps == 0
    for _ in range(3):
        again.step()
    df2 = again.datacollector.get_model_vars_dataframe()
    assert df2.equals(df)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"solara exited with status {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"solara did not serve {url} within {timeout:.0f} s")


def test_app_in_headless_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`make browser` or `apt-get install -y chromium`)"
        )
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("the `playwright` package is missing: install the dev extra (`make env` from requirements.lock)")

    solara = Path(sys.executable).with_name("solara")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "solara.log"
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(solara), "run", str(APP), "--host", "127.0.0.1", "--port", str(port), "--no-open"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_for_server(url, proc, timeout=60)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 2600})
                page.set_default_timeout(30_000)
                expect.set_options(timeout=30_000)  # bounded, but generous for a loaded CI machine
                page.goto(url)
                step = page.get_by_role("button", name="Step")
                try:
                    step.wait_for()
                except Exception:
                    pytest.fail(
                        "the page showed no Step button (blank page: are solara's offline assets in place? "
                        f"run `make assets`); server log:\n{log.read_text()[-3000:]}"
                    )
                expect(page.get_by_text("Time: 0.0")).to_be_visible()
                expect(page.get_by_text("month 0 of 60")).to_be_visible()
                plot = page.locator("img").first  # the paired unemployment-rate plot
                expect(plot).to_be_visible()
                before = hashlib.sha256(plot.screenshot()).hexdigest()

                for _ in range(3):
                    step.click()
                expect(page.get_by_text("Time: 3.0")).to_be_visible()
                expect(page.get_by_text("month 3 of 60")).to_be_visible()
                page.wait_for_timeout(500)  # let the last re-render's images load
                after = hashlib.sha256(plot.screenshot()).hexdigest()
                assert after != before, "the unemployment plot did not change after three steps"

                # Play runs on by itself until Pause (Mesa labels the buttons with symbols).
                page.get_by_role("button", name="▶").click()
                expect(page.get_by_text("Time: 6.0")).to_be_visible()
                page.get_by_role("button", name="❚❚").click()
                expect(page.get_by_role("button", name="▶")).to_be_visible()
                # A step already under way when Pause is clicked may still finish and render (on a
                # loaded machine, seconds later): wait until the month holds still for 5 s, then
                # require that it stays put for 3 s more.
                paused_at, still_since = page.get_by_text("Time: ").first.inner_text(), time.monotonic()
                deadline = time.monotonic() + 60
                while time.monotonic() - still_since < 5.0 and time.monotonic() < deadline:
                    page.wait_for_timeout(250)
                    now = page.get_by_text("Time: ").first.inner_text()
                    if now != paused_at:
                        paused_at, still_since = now, time.monotonic()
                assert time.monotonic() < deadline, f"the model kept running after Pause (at {paused_at})"
                page.wait_for_timeout(3000)
                assert page.get_by_text("Time: ").first.inner_text() == paused_at, "the model ran on after Pause"

                # A lever for both arms, then Reset: the model is rebuilt with it at time 0.
                page.locator(".v-select").filter(has_text="Caseload per adviser").click()
                page.get_by_role("option", name="80", exact=True).click()
                page.get_by_role("button", name="Reset").click()
                expect(page.get_by_text("Time: 0.0")).to_be_visible()
                expect(page.get_by_text("caseload = 80")).to_be_visible()
                step.click()
                expect(page.get_by_text("Time: 1.0")).to_be_visible()
                page.wait_for_timeout(500)
                page.screenshot(path=tmp_path / "app.png", full_page=True)
            finally:
                browser.close()
        assert (tmp_path / "app.png").stat().st_size > 10_000
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
