"""The public page in a real browser: Debian's Chromium, driven by Playwright, against the real
`undersigned serve` and the fake Slack. The count updates without a reload after a /sign, no
request leaves the origin, nothing is logged as an error, and the page works at 360 px.

A screenshot of each run is kept in `.artifacts/` (git-ignored) to look at.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

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
            # The log's line moves with it: entries, and what makes the count.
            await expect(page.locator('[data-live="log-size"]')).to_have_text("2")
            await expect(page.locator('[data-live="log-count"]')).to_have_text("2")

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

            # Served without a public address, the link to copy is completed from the address
            # bar by our script (never from the request's Host header), and the button copies it.
            context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
            page = await context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            await page.goto(f"{bot.url}/c/walkout", wait_until="load")
            assert await page.locator("#share-link").input_value() == f"{bot.url}/c/walkout"
            await page.locator("#copy-link").click()
            await expect(page.locator("#copy-status")).to_have_text("Link copied.")
            assert await page.evaluate("navigator.clipboard.readText()") == f"{bot.url}/c/walkout"
            await context.close()
            await browser.close()
    finally:
        await bot.stop()
        await fake.stop()
    assert requests and all(u.startswith(bot.url + "/") for u in requests), requests
    assert any(u.endswith("/c/walkout.json") for u in requests)  # the live update
    assert problems == []
    assert waited < 45


PAGES = {  # the showcase (tests/showcase.py): what each page must say at a glance
    "maven": "146",
    "walkout": "Names stay sealed",
    "strike": "It succeeded",
    "cameras": "Signing is closed",
    "kantine": "So unterschreibst du",
    "greve": "Comment signer",
}
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SERIOUS = {"serious", "critical"}


async def _watched(context: Any, origin: str, requests: list[str], problems: list[str]) -> Any:
    page = await context.new_page()
    page.on("request", lambda r: requests.append(r.url))

    def console(m: Any) -> None:
        expected = "no-such-letter" in page.url and "404" in m.text  # the not-found page itself
        if m.type == "error" and not expected:
            problems.append(f"{page.url}: {m.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return page


async def test_axe_finds_what_it_should() -> None:
    """The accessibility check can fail: a page with an unlabelled image and a low-contrast
    line is reported as serious or critical."""
    from playwright.async_api import async_playwright

    assert CHROMIUM, "UNDERSIGNED_REQUIRE_BROWSER is set but chromium is missing"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        await page.set_content(
            '<html lang="en"><title>x</title><main><img src="data:,">'
            '<p style="color:#bbb;background:#fff">faint</p></main></html>'
        )
        with pytest.raises(AssertionError) as failed:
            await _no_serious_violation(page, "bad")
        await browser.close()
    assert "image-alt" in str(failed.value) and "color-contrast" in str(failed.value)


async def _no_serious_violation(page: Any, where: str) -> None:
    from axe_playwright_python.async_playwright import Axe

    found = (await Axe().run(page)).response["violations"]
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in found if v["impact"] in SERIOUS]
    assert serious == [], (where, serious)


async def test_every_page_reads_well_is_accessible_and_stays_on_its_origin(tmp_path: Path) -> None:
    """The six showcase campaigns, the index, a 404 and an embed, at desktop and phone widths:
    screenshots saved (and listed at the end of the run), axe-core finds nothing serious,
    nothing wider than the screen, no request to another origin, no CSP violation, the
    chart's labels at least 12 px on a phone, and the same words with JavaScript off."""
    from datetime import UTC, datetime

    from playwright.async_api import async_playwright

    from adapters.web import charts
    from bot.domain.identity import SignerKey
    from bot.service import Service
    from storage.database import Database
    from tests import showcase
    from tests.conftest import EVERY_SIGNATURE, SCREENSHOTS, Clock
    from tests.web_site import Site

    assert CHROMIUM, "UNDERSIGNED_REQUIRE_BROWSER is set but chromium is missing"
    db = Database(f"sqlite:///{tmp_path / 'pages.db'}")
    await db.migrate()
    clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    service = Service(db, SignerKey(b"pages"), clock=clock, steps=EVERY_SIGNATURE)
    await showcase.build(service, clock)
    site = Site(service)
    await site.start()
    shots = ARTIFACTS / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    problems: list[str] = []
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for label, (width, height) in WIDTHS.items():
                context = await browser.new_context(viewport={"width": width, "height": height})
                page = await _watched(context, site.url, requests, problems)
                for slug, says in PAGES.items():
                    await page.goto(f"{site.url}/c/{slug}", wait_until="load")
                    assert says in (await page.locator("main").inner_text()), slug
                    await _no_serious_violation(page, f"{slug} {label}")
                    assert await page.evaluate("document.documentElement.scrollWidth") <= width
                    assert await page.evaluate("window.__csp") == [], slug
                    loaded = await page.evaluate(
                        "document.querySelector('figure img').naturalWidth"
                    )
                    assert loaded == charts.WIDTH, slug  # the chart came, from our origin
                    path = shots / f"{slug}-{label}.png"
                    await page.screenshot(path=str(path), full_page=True)
                    SCREENSHOTS.append(str(path.relative_to(ARTIFACTS.parent)))
                    if label == "phone":  # the chart's smallest label, as the phone shows it
                        shown = await page.evaluate("document.querySelector('figure img').width")
                        svg = (await site.get(f"/c/{slug}/chart.svg"))[1].decode()
                        smallest = min(int(s) for s in re.findall(r'font-size="(\d+)"', svg))
                        assert smallest * shown / charts.WIDTH >= 12, (slug, shown, smallest)
                for path, name in (("/", "index"), ("/c/no-such-letter", "not-found")):
                    await page.goto(site.url + path, wait_until="load")
                    await _no_serious_violation(page, f"{name} {label}")
                    assert await page.evaluate("document.documentElement.scrollWidth") <= width
                    shot = shots / f"{name}-{label}.png"
                    await page.screenshot(path=str(shot), full_page=True)
                    SCREENSHOTS.append(str(shot.relative_to(ARTIFACTS.parent)))
                await context.close()

            # The embed, as a 300 px wide frame shows it.
            context = await browser.new_context(viewport={"width": 300, "height": 400})
            page = await _watched(context, site.url, requests, problems)
            for slug in ("maven", "strike"):
                await page.goto(f"{site.url}/c/{slug}/embed", wait_until="load")
                await _no_serious_violation(page, f"{slug} embed")
                assert await page.evaluate("document.documentElement.scrollWidth") <= 300
                size = await page.evaluate(
                    "parseFloat(getComputedStyle(document.querySelector('.count')).fontSize)"
                )
                assert size >= 14
                shot = shots / f"{slug}-embed-300.png"
                await page.screenshot(path=str(shot), full_page=True)
                SCREENSHOTS.append(str(shot.relative_to(ARTIFACTS.parent)))
            await context.close()

            # Dark mode, for the look; and the keyboard's focus is visible.
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, color_scheme="dark"
            )
            page = await _watched(context, site.url, requests, problems)
            await page.goto(f"{site.url}/c/maven", wait_until="load")
            await _no_serious_violation(page, "maven dark")
            shot = shots / "maven-phone-dark.png"
            await page.screenshot(path=str(shot), full_page=True)
            SCREENSHOTS.append(str(shot.relative_to(ARTIFACTS.parent)))
            # The chart takes the page's dark colours: no bright white box on a dark page.
            chart = await page.locator("img[src*='chart.svg']").first.screenshot()
            drawn = Image.open(io.BytesIO(chart)).convert("L")
            assert ImageStat.Stat(drawn).mean[0] < 80, ImageStat.Stat(drawn).mean
            seen = []
            for _ in range(3):  # the link field, the copy button, the way home
                await page.keyboard.press("Tab")
                seen.append(
                    await page.evaluate(
                        "(() => { const e = document.activeElement, s = getComputedStyle(e);"
                        " return [e.id || e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)];"
                        " })()"
                    )
                )
            assert [who for who, _, _ in seen] == ["share-link", "copy-link", "A"], seen
            assert all(style != "none" and width >= 2 for _, style, width in seen), seen
            await context.close()

            # JavaScript off: the same letter, count, way to sign and link; no copy button.
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, java_script_enabled=False
            )
            page = await context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            await page.goto(f"{site.url}/c/maven", wait_until="load")
            text = await page.locator("main").inner_text()
            assert "We, the undersigned employees" in text and "146" in text
            assert "/sign maven anonymous" in text
            field = page.locator("#share-link")
            assert await field.input_value() == "https://letters.example.org/c/maven"
            assert not await page.locator("#copy-link").is_visible()
            # Printed (a letter is often handed over on paper): the letter and the count, not
            # the box, the chart or the footer.
            await page.emulate_media(media="print")
            assert await page.locator(".letter").is_visible()
            for hidden in (".how", "figure", "footer", "progress"):
                assert not await page.locator(hidden).is_visible(), hidden
            assert "146" in await page.locator(".count").inner_text()
            await context.close()
            await browser.close()
    finally:
        await site.stop()
        await db.close()
    assert requests and all(u.startswith(site.url + "/") for u in requests), [
        u for u in requests if not u.startswith(site.url + "/")
    ]
    assert problems == []


async def test_a_signer_checks_a_receipt_in_the_browser_and_it_never_leaves(
    tmp_path: Path,
) -> None:
    """The log page: what it proves in plain words, accessible, and a receipt check that finds
    the signer's entry with no request carrying the receipt or anything made from it; saved
    to disk, the same check works offline from the downloaded files."""
    import hashlib
    import json
    from datetime import UTC, datetime

    from playwright.async_api import async_playwright, expect

    from bot.domain.identity import Actor, SignerKey
    from bot.service import Service
    from storage.database import Database
    from tests.conftest import EVERY_SIGNATURE, SCREENSHOTS, Clock, informed
    from tests.web_site import Site

    assert CHROMIUM, "UNDERSIGNED_REQUIRE_BROWSER is set but chromium is missing"
    db = Database(f"sqlite:///{tmp_path / 'log.db'}")
    await db.migrate()
    clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    service = Service(db, SignerKey(b"log"), clock=clock, steps=EVERY_SIGNATURE)
    org = Actor("slack", "TACME", "UORG", "Org")
    await service.handle(org, "/petition", 'new walkout title:"Walk out" goal:50 We refuse.')
    await service.handle(org, "/petition", "publish walkout")
    receipts = []
    for n in range(5):
        who = Actor("slack", "TACME", f"U{n}", f"Worker {n}")
        await informed(service, who)
        reply = await service.handle(who, "/sign", "walkout anonymous" if n % 2 else "walkout")
        receipts.append(re.findall(r"`([0-9a-f]{64})`", reply.text)[0])
    await service.handle(Actor("slack", "TACME", "U1", "Worker 1"), "/unsign", "walkout")
    clock.advance(seconds=2)
    site = Site(service)
    await site.start()
    mine = receipts[3]
    leaf = hashlib.sha256(b"undersigned-receipt\nwalkout\n" + bytes.fromhex(mine)).hexdigest()
    requests: list[str] = []
    problems: list[str] = []
    shots = ARTIFACTS / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for label, (width, height) in WIDTHS.items():
                context = await browser.new_context(viewport={"width": width, "height": height})
                page = await _watched(context, site.url, requests, problems)
                before = len(requests)
                await page.goto(f"{site.url}/c/walkout/log", wait_until="networkidle")
                # Every visitor downloads the (small) log as the page opens: a signer who
                # checks looks like anyone who reads it.
                assert any("/log/entries?start=0" in u for u in requests[before:]), requests
                main = await page.locator("main").inner_text()
                assert "Verifiable: 6 entries" in main and "5 signatures and 1 withdrawal" in main
                assert "What it cannot prove" in main and "real co-worker" in main
                await _no_serious_violation(page, f"log {label}")
                assert await page.evaluate("document.documentElement.scrollWidth") <= width
                status = page.locator("#receipt-status")
                await page.locator("#receipt").fill("not a receipt")
                await page.get_by_role("button", name="Check").click()
                await expect(status).to_contain_text("64 characters")
                await page.locator("#receipt").fill(f"  {mine.upper()} ")
                await page.get_by_role("button", name="Check").click()
                await expect(status).to_contain_text("Your signature is in the log", timeout=20_000)
                assert "of 6" in await status.inner_text()
                await page.locator("#receipt").fill("ab" * 32)
                await page.get_by_role("button", name="Check").click()
                await expect(status).to_contain_text("not in the log", timeout=20_000)
                assert await page.evaluate("window.__csp") == []
                shot = shots / f"log-{label}.png"
                await page.screenshot(path=str(shot), full_page=True)
                SCREENSHOTS.append(str(shot.relative_to(ARTIFACTS.parent)))
                await context.close()

            # Saved with its script beside it and opened from disk: the downloaded files suffice.
            saved = tmp_path / "saved"
            saved.mkdir()
            html = (await site.get("/c/walkout/log"))[1].decode()
            (saved / "log.html").write_text(html.replace("/static/", "./"))
            for name in ("receipt.js", "page.css"):
                (saved / name).write_bytes((await site.get(f"/static/{name}"))[1])
            head = (await site.get("/c/walkout/log.json"))[1]
            (saved / "log.json").write_bytes(head)
            size = json.loads(head)["tree_size"]
            entries = (await site.get(f"/c/walkout/log/entries?start=0&end={size}"))[1]
            (saved / "entries-0.json").write_bytes(entries)
            context = await browser.new_context()
            page = await context.new_page()
            offline: list[str] = []
            page.on("request", lambda r: offline.append(r.url))
            await page.goto((saved / "log.html").as_uri(), wait_until="load")
            await page.locator("#files").set_input_files(
                [str(saved / "log.json"), str(saved / "entries-0.json")]
            )
            await page.locator("#receipt").fill(mine)
            await page.get_by_role("button", name="Check").click()
            await expect(page.locator("#receipt-status")).to_contain_text(
                "Your signature is in the log", timeout=20_000
            )
            assert all(u.startswith("file://") for u in offline), offline
            await context.close()
            await browser.close()
    finally:
        await site.stop()
        await db.close()
    assert requests and all(u.startswith(site.url + "/") for u in requests)
    assert any("/log/entries?start=0" in u for u in requests)  # it downloaded the log
    for url in requests:  # and nothing the server was sent says which entry was looked for
        assert mine not in url.lower() and leaf not in url.lower(), url
    assert problems == []
