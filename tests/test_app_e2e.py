"""End to end: `entente app` in a real headless Chromium (Debian's), driven by Selenium.

Starts the server on a free port, changes a lever, checks that the chart and the numbers
change, that a bad slider value shows the located error and the server keeps running, saves
a screenshot and inspects it (not blank, the scenario's title in the page), and stops the
server with Ctrl-C (exit 0, no traceback).

Without Chromium, on a user's machine the test is skipped and the summary says what to install
(`apt-get install chromium chromium-driver`); under CI (`CI` set, or `ENTENTE_REQUIRE_BROWSER=1`,
which .ci/run exports after installing Chromium) a missing browser fails it instead, so CI never
passes without having driven the page.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "app_lever.yaml"
TITLE = "Israel's answer as a lever"
INSTALL = "apt-get install chromium chromium-driver"


def browser_required() -> bool:
    """CI must drive the page; a user's test run may skip it (and say so) when no browser is installed."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("ENTENTE_REQUIRE_BROWSER", "").strip() == "1"


def missing_for_browser() -> list[str]:
    """What the end-to-end test lacks on this machine: Debian's chromium, its driver, selenium."""
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (pip install -c constraints.txt -e '.[test]')")
    return missing


def need_browser() -> None:
    """Skip with what to install, or fail under CI (a skipped browser test must not pass CI)."""
    missing = missing_for_browser()
    if not missing:
        return
    what = "Chromium not found" if "chromium" in missing else f"{', '.join(missing)} not found"
    msg = f"{what} (needs {', '.join(missing)}): {INSTALL}"
    if browser_required():
        pytest.fail(f"{msg}; required under CI (CI or ENTENTE_REQUIRE_BROWSER=1 is set)", pytrace=False)
    pytest.skip(msg)


def _driver(profile: Path):  # noqa: ANN202
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
    ):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def _wait(fn, timeout: float = 20.0, what: str = "the page"):  # noqa: ANN001, ANN202
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _new_controls(driver, status, settled, tmp_path: Path) -> None:  # noqa: ANN001
    """The controls analysts expect: variables, replicate lines, the address, resets, CSV, the network, the picker."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _wait(lambda: "stale" not in driver.find_element(By.ID, "results").get_attribute("class"), what="a settled view")
    # the picker shows what is loaded
    assert "Loaded: " + TITLE in driver.find_element(By.ID, "loaded").text
    assert TITLE in Select(driver.find_element(By.ID, "scenario-select")).first_selected_option.text
    # choose a variable to plot: a chart appears for it, and the address remembers it
    before = len(driver.find_elements(By.CSS_SELECTOR, "#charts .chart"))
    box = driver.find_element(By.CSS_SELECTOR, '#plot-list input[value="cohesion"]')
    previous = status()
    box.click()
    _wait(settled(previous), what="the chosen variable's chart")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#charts .chart")) == before + 1
    assert "Russia-Iran cohesion" in driver.find_element(By.ID, "chart-cohesion").get_attribute("innerHTML")
    assert "cohesion" in driver.current_url and "lever.israel_answer=nuclear_sites" in driver.current_url
    # the reference is drawn with its band
    assert "reference: 90% band" in driver.find_element(By.ID, "chart-escalation").get_attribute("innerHTML")
    # a slider moved is marked changed; its reset puts it back and clears the mark
    ctl = driver.find_element(By.ID, "slider-world.brent_base").find_element(By.XPATH, "../..")
    box = ctl.find_element(By.CSS_SELECTOR, "input.numval")
    previous = status()
    box.clear()
    box.send_keys("90\t")
    _wait(settled(previous), what="the slider's ensemble")
    assert "changed" in ctl.get_attribute("class") and "fix.world.brent_base=90" in driver.current_url
    # the address restores the view: reload it and the lever, the slider and the chosen variable come back
    url = driver.current_url
    driver.get(url)
    _wait(settled(), what="the reloaded view")
    assert (
        Select(driver.find_element(By.ID, "lever-israel_answer")).first_selected_option.get_attribute("value")
        == "nuclear_sites"
    )
    ctl = driver.find_element(By.ID, "slider-world.brent_base").find_element(By.XPATH, "../..")
    assert ctl.find_element(By.CSS_SELECTOR, "input.numval").get_attribute("value") == "90"
    assert driver.find_elements(By.ID, "chart-cohesion") and "Reference:" in driver.find_element(By.ID, "pinned").text
    previous = status()
    ctl.find_element(By.CSS_SELECTOR, "button.reset").click()
    _wait(settled(previous), what="the reset slider's ensemble")
    assert "changed" not in ctl.get_attribute("class") and "fix.world.brent_base" not in driver.current_url
    # the data shown, as CSV
    series = driver.execute_script("return seriesCsv()")
    assert series.startswith("variable,label,unit,date,week,series,value\n") and "reference median" in series
    assert "replicate " in series and series.count("\n") > 100
    outcomes = driver.execute_script("return outcomesCsv()")
    assert outcomes.splitlines()[0].startswith("outcome,label,statistic,unit,value,low,high")
    assert "nuclear_sites_struck" in outcomes and "meaningful" in outcomes
    # clicking a replicate's line opens its story
    rep = driver.execute_script(
        'const g = document.querySelector("#chart-escalation g[id^=rep-]");'
        'g.dispatchEvent(new MouseEvent("click", {bubbles: true})); return g.id;'
    )
    number = rep.split("-")[1]
    head = _wait(lambda: (t := driver.find_element(By.ID, "replicate-head").text).startswith("Replicate ") and t,
                 what="the clicked replicate's story")  # fmt: skip
    assert head.startswith(f"Replicate {number},") and "Week 1" in driver.find_element(By.ID, "narrative").text
    # the network of relations, week by week
    edges = driver.find_elements(By.CSS_SELECTOR, "#network line.edge")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#network circle.node")) >= 5 and edges
    last_week = driver.find_element(By.ID, "network-summary").text
    driver.execute_script(
        'const w = document.getElementById("week"); w.value = "0"; w.dispatchEvent(new Event("input"));'
    )
    assert "(2024-10-14)" in driver.find_element(By.ID, "week-label").text
    assert "Aligned" in driver.find_element(By.ID, "network-summary").text and last_week


@pytest.mark.slow
def test_app_in_headless_chromium(tmp_path):
    need_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = subprocess.Popen(
        [sys.executable, "-m", "model", "app", str(FIXTURE), "--port", "0", "--replicates", "300"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    driver = None
    try:
        line = server.stdout.readline()
        assert line.startswith("entente app: http://127.0.0.1:"), line + server.stderr.read()
        url = line.split()[2]
        driver = _driver(tmp_path / "profile")
        driver.get(url)

        def status():
            return driver.find_element(By.ID, "status").text

        def settled(previous=""):
            return lambda: "updated in" in (s := status()) and s != previous and s

        first = _wait(settled(), what="the first ensemble")
        chart = driver.find_element(By.ID, "chart-escalation").get_attribute("innerHTML")
        numbers = driver.find_element(By.ID, "outcomes").text
        assert "<svg" in chart and "Escalation index" in chart
        assert "Peak escalation" in numbers and "%" in numbers and "300 replicates" in first

        driver.find_element(By.ID, "pin").click()
        pinned = _wait(lambda: "Reference:" in driver.find_element(By.ID, "pinned").text, what="the pin")
        assert pinned
        time.sleep(0.3)
        before = _wait(settled(), what="the pinned view")
        Select(driver.find_element(By.ID, "lever-israel_answer")).select_by_value("nuclear_sites")
        _wait(lambda: "Save, then" in status(), what="the lever's ensemble")
        chart2 = driver.find_element(By.ID, "chart-escalation").get_attribute("innerHTML")
        numbers2 = driver.find_element(By.ID, "outcomes").text
        assert chart2 != chart, "the escalation chart did not change with the lever"
        assert numbers2 != numbers, "the outcome numbers did not change with the lever"
        assert "reference: median" in chart2
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-outcome="nuclear_sites_struck"]').text
        assert "100.0%" in row and "meaningful" in row, row  # every replicate strikes; the reference none
        assert before != status()

        # a bad value typed into a slider's box: the located error of `entente validate`, server alive
        box = driver.find_element(By.ID, "slider-world.temperature").find_element(By.XPATH, "../input[@type='number']")
        box.clear()
        box.send_keys("500\t")
        # (clearing the box first shows the page's own "expected a number" line; wait for the server's)
        err = _wait(lambda: "500" in (t := driver.find_element(By.ID, "errors").text) and t, what="the error")
        assert "app setting world.temperature=500: 500 is outside [0.001, 100]" in err, err
        assert "Traceback" not in driver.page_source
        # a failed run leaves the charts marked stale, with a note saying they show the last setting that ran
        assert "stale" in driver.find_element(By.ID, "results").get_attribute("class")
        assert "Not updated" in driver.find_element(By.ID, "stale-note").text
        box.clear()
        box.send_keys("0.05\t")
        _wait(lambda: not driver.find_element(By.ID, "errors").is_displayed(), what="the error to clear")

        _new_controls(driver, status, settled, tmp_path)

        driver.execute_script("window.scrollTo(0, 0)")
        shot = tmp_path / "app.png"
        assert driver.save_screenshot(str(shot))
        from PIL import Image

        pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
        assert pixels.shape[0] > 500 and pixels.std() > 20, "the screenshot is blank"
        assert TITLE in driver.find_element(By.TAG_NAME, "body").text
        assert first
    finally:
        if driver is not None:
            driver.quit()
        server.send_signal(signal.SIGINT)
        try:
            out, err = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err


# ------------------------------------------------------------------ the gate itself, without a browser
def _machine(monkeypatch: pytest.MonkeyPatch, on_path: set[str], env: dict[str, str]) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}" if name in on_path else None)
    for var in ("CI", "ENTENTE_REQUIRE_BROWSER"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)


@pytest.mark.parametrize("env", [{}, {"CI": "false"}, {"CI": "0"}, {"ENTENTE_REQUIRE_BROWSER": "0"}])
def test_without_chromium_a_users_run_skips_and_names_the_package(monkeypatch, env):
    _machine(monkeypatch, {"chromedriver"}, env)
    with pytest.raises(pytest.skip.Exception, match=r"^Chromium not found .*apt-get install chromium chromium-driver"):
        need_browser()


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "1"}, {"ENTENTE_REQUIRE_BROWSER": "1"}])
def test_under_ci_a_missing_browser_fails(monkeypatch, env):
    _machine(monkeypatch, {"chromium"}, env)  # the driver is missing
    with pytest.raises(pytest.fail.Exception, match=r"chromedriver not found .*chromium-driver.*required under CI"):
        need_browser()


def test_with_chromium_and_its_driver_the_test_runs(monkeypatch):
    _machine(monkeypatch, {"chromium", "chromedriver"}, {"CI": "true"})
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    need_browser()  # neither skips nor fails
