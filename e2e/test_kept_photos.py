"""A 党建指导员 chooses two photos on the visit form and forgets to tick any of the “四个一”: the form comes back
with the message, the two photos shown as thumbnails (kept on the server); one is removed, an item is ticked, and
the visit is saved with the other photo — without choosing it again. The camera input is offered beside the
picker, and the form with its kept photos fits a phone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from dangjian.accounts.roles import Role
from dangjian.supervision.models import Visit
from dangjian.supervision.tests.factories import assign, institution, instructor
from e2e.helpers import describe_problems, layout_problems, login_with_cookie, png_bytes
from tests.scope import build_world


def test_refused_visit_keeps_the_chosen_photos(page, settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    world = build_world()
    today = timezone.localdate()
    covered = institution(world.orgs["B"], name="晨光艺术培训学校")
    user = world.user(Role.INSTRUCTOR)
    appointment = instructor(world.orgs["R"], user=user, start_on=today - dt.timedelta(days=400))
    assign(covered, appointment, today - dt.timedelta(days=300))
    login_with_cookie(page, user)

    page.goto("/supervision/visits/new/")
    expect(page.locator('input[name="photos"][capture="environment"]')).to_have_count(1)
    page.get_by_label("走访机构").select_option(label="晨光艺术培训学校")
    page.locator('input[name="photos"][multiple]').set_input_files(
        [
            {"name": "门口.png", "mimeType": "image/png", "buffer": png_bytes(rgb=(200, 16, 46))},
            {"name": "课堂.png", "mimeType": "image/png", "buffer": png_bytes(rgb=(16, 100, 200))},
        ]
    )
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("请至少勾选一项“四个一”工作")).to_be_visible()
    kept = page.locator("#photos-kept .kept-upload")
    expect(kept).to_have_count(2)
    # The thumbnails are real images, served from the user's own kept files.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#photos-kept img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    problems = layout_problems(page)
    assert not problems, describe_problems(problems)

    kept.filter(has_text="门口.png").get_by_label("移除").check()
    page.get_by_label("上党课").check()
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("已登记晨光艺术培训学校的走访记录。")).to_be_visible()
    visit = Visit.objects.get()
    assert [p.name for p in visit.photos.all()] == ["课堂.png"]
