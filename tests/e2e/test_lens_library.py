"""The lens library in the browser: Check a file, then Import it, without losing the chosen
file; a refused file shows its errors in place (the page's htmx form swaps in the 400)."""

import re

import pytest

from questionnaires.models import Lens
from tests.questionnaires.test_lensfile import lens, raw

pytestmark = pytest.mark.e2e


def test_check_then_import_and_a_refused_file_shows_its_errors(live, cast, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(raw(lens(_version="2.0", _note="x")))
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"][0]["condition"] = "a && ghost"
    bad.write_bytes(raw(document))
    builtin = Lens.objects.count()

    page = live.page(cast.admin)
    page.goto(f"{live.url}/lenses/")
    page.set_input_files("#id_file", str(good))
    page.get_by_role("button", name="Check").click()
    report = page.locator("#lens-report")
    report.get_by_text("The file can be imported.").wait_for()
    assert "extra key '_note' ignored" in report.inner_text()
    assert page.url == f"{live.url}/lenses/"
    assert Lens.objects.count() == builtin
    # the chosen file is still there: Import takes it
    assert page.eval_on_selector("#id_file", "input => input.files.length") == 1
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/lenses/[0-9a-f-]{36}/$"))
    assert "Imported Test lens v1 · 2.0." in page.locator(".messages").inner_text()

    page.goto(f"{live.url}/lenses/")
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Import").click()
    report.get_by_text("The file was not imported; nothing was saved").wait_for()
    assert "names unknown choice 'ghost'" in report.inner_text()
    assert page.locator("#toasts").count() == 0
    assert Lens.objects.count() == builtin + 1
