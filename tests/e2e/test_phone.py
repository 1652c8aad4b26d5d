"""On a 390-px-wide phone the staff pages (我的任务, the report form) and the dashboard fit the
screen: nothing makes the page scroll sideways (wide tables scroll inside their own box)."""

from __future__ import annotations

import pytest

from .conftest import Server, log_in, shot, watching

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _overflow(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's width beyond the screen, and the elements that stick out (for the failure message)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          const out = [`scrollWidth ${document.documentElement.scrollWidth} > ${width}`];
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.right > width + 1 && !el.closest('.table-scroll, .matrix-scroll')) {
              out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
            }
          }
          return out.slice(0, 12);
        }"""
    )


@pytest.mark.parametrize(
    ("email", "path", "name"),
    [
        ("fgw@demo.local", "/my", "phone-my"),
        ("fgw@demo.local", "/tasks/3.4/report", "phone-report"),
        ("leader@demo.local", "/dashboard", "phone-dashboard"),
        ("coordinator@demo.local", "/dashboard", "phone-dashboard-coordinator"),
        ("leader@demo.local", "/bulletins", "phone-bulletins"),
    ],
)
def test_the_page_fits_a_390_px_phone(browser, server: Server, email: str, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
    with watching(browser) as page:
        page.set_viewport_size(PHONE)
        log_in(page, server, email)
        page.goto(server.url + path)
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.clientWidth") == PHONE["width"]
        sticking_out = _overflow(page)
        assert not sticking_out, "\n".join(sticking_out)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, name)
