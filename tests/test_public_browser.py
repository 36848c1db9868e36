"""The public page in a real browser: Debian's Chromium, driven by Playwright, against the real
`undersigned serve` and the fake Slack. The count updates without a reload after a /sign, no
request leaves the origin, nothing is logged as an error, and the page works at 360 px.

A screenshot of each run is kept in `.artifacts/` (git-ignored) to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.fakes.slack import FakeSlack
from tests.slack_harness import EXE, SlackBot, bot_env, create_campaign

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"

if CHROMIUM is None and not os.environ.get("UNDERSIGNED_REQUIRE_BROWSER"):
    pytest.skip("chromium is not installed (.ci/run installs it)", allow_module_level=True)


def contrast(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    def lum(rgb: tuple[float, ...]) -> float:
        c = [v / 255 for v in rgb[:3]]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    a, b = sorted((lum(fg), lum(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


async def test_the_page_updates_live_stays_on_its_origin_and_fits_a_phone(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    assert CHROMIUM, "UNDERSIGNED_REQUIRE_BROWSER is set but chromium is missing"
    fake = FakeSlack()
    await fake.start()
    bot = SlackBot(fake, tmp_path)
    env = bot_env(fake, tmp_path / "bot.db")
    create_campaign(env, tmp_path, "walkout", "Walk out of Project <Maven>", 100)
    subprocess.run([EXE, "petition", "publish", "walkout"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    await bot.start(env=env)
    requests: list[str] = []
    problems: list[str] = []
    try:
        await bot.informed("U1", "U2")
        await bot.command("/sign", "walkout", user="U1")
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = await browser.new_page(viewport={"width": 360, "height": 740})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(f"{bot.url}/c/walkout", wait_until="load")
            count = page.locator('[data-live="signatures"]')
            assert await count.text_content() == "1"
            assert await page.locator("h1").text_content() == "Walk out of Project <Maven>"

            await bot.command("/sign", "walkout", user="U2")  # a signature through Slack
            started = time.monotonic()
            await expect(count).to_have_text("2", timeout=45_000)  # polled by our script
            waited = time.monotonic() - started
            assert await page.locator("progress").get_attribute("value") is not None

            # Works at 360 px: nothing wider than the screen.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, width
            # Accessibility basics: one h1, landmarks, the chart's figures in words, contrast.
            assert await page.locator("h1").count() == 1
            for landmark in ("header", "main", "footer"):
                assert await page.locator(landmark).count() == 1, landmark
            alt = await page.locator("figure img").get_attribute("alt")
            assert alt and "of 100 signatures" in alt
            colours = await page.evaluate(
                "(() => { const s = getComputedStyle(document.body);"
                " const p = x => x.match(/[\\d.]+/g).map(Number);"
                " return [p(s.color), p(s.backgroundColor)]; })()"
            )
            assert contrast(tuple(colours[0]), tuple(colours[1])) >= 4.5
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "public-page-360.png"), full_page=True)
            await browser.close()
    finally:
        await bot.stop()
        await fake.stop()
    assert requests and all(u.startswith(bot.url + "/") for u in requests), requests
    assert any(u.endswith("/c/walkout.json") for u in requests)  # the live update
    assert problems == []
    assert waited < 45
