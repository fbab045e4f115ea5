"""The newcomer's path in a real Chromium against `harvest up`: sign in → create a project → upload a zip of
50 images → label 10 of them with the keyboard only, timing each key press until the next image shows.

Screenshots of each key screen land in tests/e2e/artifacts/ for a reviewer.
"""

from __future__ import annotations

import io
import statistics
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from harvest.client import HarvestClient
from harvest.common.settings import EndpointSettings
from harvest.v1 import labels_pb2
from tests.e2e.conftest import RunningPlatform

pytestmark = pytest.mark.e2e

LABELED = 10
# Resolves with the milliseconds from the next keydown until `target` is shown with every image loaded.
WATCH_NEXT_IMAGE = """target => {
  window.__latency = undefined;
  let pressed = null;
  const images = () => [...document.querySelectorAll('[data-testid="stImage"] img')];
  const before = images().map(img => img.src).join(' ');
  document.addEventListener('keydown', () => { pressed = performance.now(); }, {once: true, capture: true});
  const shown = () => [...document.querySelectorAll('strong')].some(el => el.textContent === target)
    && images().length > 0 && images().map(img => img.src).join(' ') !== before
    && images().every(img => img.complete && img.naturalWidth);
  const poll = () => {
    if (pressed !== null && shown()) { window.__latency = performance.now() - pressed; return; }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}"""


def digits_zip(count: int) -> bytes:
    """`count` distinct 32×32 PNGs (a number drawn on a shade), zipped flat like a user's folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            image = Image.new("RGB", (32, 32), (index * 5 % 256, 255 - index * 3 % 256, index * 11 % 256))
            ImageDraw.Draw(image).text((4, 10), str(index), fill=(0, 0, 0))
            png = io.BytesIO()
            image.save(png, format="PNG")
            archive.writestr(f"digits/img_{index:03d}.png", png.getvalue())
    return buffer.getvalue()


def _client(platform: RunningPlatform) -> HarvestClient:
    ports = {f"{name}_port": port for name, port in platform.ports.items()}
    return HarvestClient(EndpointSettings(**ports), token=platform.admin_token)


def test_sign_in_create_upload_and_label_ten_with_the_keyboard(platform: RunningPlatform, page, artifacts: Path,
                                                                tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_default_timeout(60_000)
    page.goto(platform.ui_url)
    page.get_by_role("textbox", name="Access token").fill(platform.admin_token)
    page.get_by_role("button", name="Sign in with token").click()
    page.get_by_text("Signed in as admin (admin).").wait_for()

    page.get_by_role("textbox", name="Project name").fill("digits")
    page.get_by_role("textbox", name="Classes").fill("low #1f77b4 1\nmid #ff7f0e 2\nhigh #2ca02c 3")
    page.get_by_role("button", name="Create project").click()
    page.get_by_text("Created project digits with 3 classes.").wait_for()
    page.screenshot(path=str(artifacts / "ui-projects.png"), full_page=True)

    page.get_by_role("link", name="Data").click()
    archive = tmp_path / "digits.zip"
    archive.write_bytes(digits_zip(50))
    page.locator("input[type=file]").set_input_files(str(archive))
    page.get_by_text("digits.zip").wait_for()
    page.get_by_role("button", name="Upload", exact=True).click()
    page.get_by_text("50 stored, 0 duplicate, 0 rejected.").wait_for()
    page.screenshot(path=str(artifacts / "ui-upload.png"), full_page=True)

    page.get_by_role("link", name="Labeling").click()
    page.get_by_text("Image 1", exact=True).wait_for()
    page.locator("[data-testid=stImage] img").wait_for()
    page.get_by_role("heading", name="Labeling — digits").click()  # focus the page, not a widget
    page.screenshot(path=str(artifacts / "ui-labeling.png"), full_page=True)
    latencies = []
    for index in range(LABELED):
        page.evaluate(WATCH_NEXT_IMAGE, f"Image {index + 2}")
        page.keyboard.press(str(index % 3 + 1))
        page.wait_for_function("window.__latency !== undefined")
        latencies.append(page.evaluate("window.__latency"))
    page.screenshot(path=str(artifacts / "ui-labeling-after-ten.png"), full_page=True)
    print(f"key press → next image shown: median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms over {LABELED} images ({', '.join(f'{x:.0f}' for x in latencies)})")

    with _client(platform) as client:
        project = next(p for p in client.labels.ListProjects(labels_pb2.ListProjectsRequest()).projects
                       if p.name == "digits")
        stats = client.labels.GetProjectStats(labels_pb2.GetProjectStatsRequest(project_id=project.project_id))
    assert stats.items == 50
    assert stats.labeled == LABELED
    assert {c.class_name: c.labeled for c in stats.classes} == {"low": 4, "mid": 3, "high": 3}
