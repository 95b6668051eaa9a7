"""Issue 23 in a real browser at a projector's 1280 × 720: every lesson reachable (previous/next
and the picker), the teacher button not truncated, teacher mode only with the server's key and
never in a link, the student link opening the lesson without notes or answers."""


import pytest
import browser

pytestmark = pytest.mark.slow  # a streamlit server and chromium

KEY = "chalk-and-talk"



def heading(page) -> str:
    return page.locator('[data-testid="stMain"] h2').first.inner_text()


def fits(locator) -> bool:
    """Whether every text inside the element is drawn whole (no ellipsis, no cut)."""
    return locator.evaluate("""e => [e, ...e.querySelectorAll('*')].every(x => x.scrollWidth <= x.clientWidth + 1)""")


def unlock(page, teacher, key: str) -> None:
    """Type `key` into the teacher popover's field and press Unlock."""
    field = page.get_by_label("Teacher key", exact=True)
    if not field.is_visible():
        teacher.click()
    field.fill(key)
    page.get_by_role("button", name="Unlock").click()
    browser.settle(page)


def test_a_class_at_1280x720_reaches_every_lesson_and_only_the_key_opens_teacher_mode(chromium, tmp_path):
    with browser.serve(tmp_path, env={"LTLAB_TEACHER_KEY": KEY}) as url, \
            browser.browser(chromium, tmp_path, viewport=(1280, 720)) as page:
        page.goto(f"{url}/learn?lesson=1&teacher=1")          # an old teacher link opens the student view
        browser.settle(page)
        seen = [heading(page)]
        for _ in range(7):
            page.get_by_role("button", name="Next").click()
            browser.settle(page)
            seen.append(heading(page))
        assert [h.split(".")[0] for h in seen] == [str(n) for n in range(1, 9)], seen
        assert page.get_by_role("button", name="Next").is_disabled() and "lesson=8" in page.url
        page.get_by_role("button", name="Previous").click()
        browser.settle(page)
        assert heading(page).startswith("7.")
        page.locator('[data-testid="stSelectbox"]').first.click()      # the picker lists all eight at once
        options = page.locator('[role="option"]')
        options.first.wait_for(state="visible", timeout=10_000)
        assert options.count() == 8 and all(options.nth(i).is_visible() for i in range(8))
        page.keyboard.press("Escape")
        assert "Teacher's notes" not in page.locator('[data-testid="stMain"]').inner_text()

        teacher = page.get_by_role("button", name="Teacher")
        assert teacher.is_visible() and fits(teacher), "the teacher button is cut at 1280 px"
        unlock(page, teacher, "not-the-key")
        assert page.get_by_text("That is not this server's teacher key.").is_visible()
        assert page.get_by_role("button", name="Prepare the class").count() == 0
        unlock(page, teacher, KEY)
        page.keyboard.press("Escape")
        main = page.locator('[data-testid="stMain"]')
        main.get_by_text("Teacher's notes").first.wait_for(state="visible", timeout=30_000)
        assert page.get_by_role("button", name="Prepare the class").is_visible()
        assert "Answer." in main.inner_text()
        assert "teacher" not in page.url and KEY not in page.url         # nothing of teacher mode in the link
        link = page.locator(".st-key-teacher_tools code").first.inner_text().strip()
        assert link.endswith("/learn?lesson=7") and KEY not in link

        student = page.context.browser.new_page(viewport={"width": 1280, "height": 720})   # a student opens the link
        student.goto(link if link.startswith("http") else f"{url}{link}")
        browser.settle(student)
        text = student.locator('[data-testid="stMain"]').inner_text()
        assert heading(student).startswith("7.") and "Try this" in text
        assert "Teacher's notes" not in text and "Answer." not in text and "Prepare the class" not in text
