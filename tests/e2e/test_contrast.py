"""Colour contrast of the text on every main page, for every role, measured in a real Chromium.

WCAG 2.1 AA (success criterion 1.4.3): text needs a contrast ratio of at least 4.5:1 against its
background, large text (at least 24px, or at least 18.66px and bold) at least 3:1.

For every page the script ``CONTRAST_JS`` runs in the page (and in its frames) and looks at every
rendered element that has a text node of its own (plus the value of ``<input type=submit|button|reset>``):

* the foreground is the computed ``color`` (``fill`` and ``fill-opacity`` for SVG text), its alpha
  multiplied by the ``opacity`` of the element and of its ancestors;
* the effective background comes from walking up the ancestors to the first opaque
  ``background-color``, alpha-blending every translucent one on the way (the canvas is white). For
  SVG text, a filled shape drawn just before the text in the same group and covering the text's
  centre counts as a layer too (the graph's node boxes);
* the ratio is computed from the relative luminances (WCAG's formula) of the foreground blended
  over that background.

Known limits, on purpose: an element whose background, or an ancestor's, is a ``background-image``
(gradients included) has an unknown background and is skipped, with a pytest warning naming it;
backgrounds painted by elements that are not ancestors (absolute overlays) are not seen; hover and
focus states are not measured; a colour the script cannot parse is reported as a failure.
Placeholder text is out of scope. Disabled controls (``:disabled``, inside a disabled fieldset,
``aria-disabled="true"``, or the label of a disabled control) are exempt, as WCAG exempts inactive
user-interface components: e.g. the current language's button in the header.

The pages run on the demo server (``demo_server`` in conftest.py: the demo progress and a reminder
sweep), so the status pills, report states, warning lights, the review queue and the outbox all have
something to show. One role also walks its pages in the English interface.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest

from .conftest import STATUSES, Server, allow_status, log_in, watching

pytestmark = pytest.mark.e2e

ACCOUNTS = {
    "anonymous": None,
    "staff_county": "linzhou@demo.local",
    "staff_lead": "fgw@demo.local",
    "coordinator": "coordinator@demo.local",
    "leader": "leader@demo.local",
    "admin": "admin@demo.local",
}
# The main pages; each role checks those it may open (a 403, 404 or a redirect elsewhere is skipped).
PAGES = [
    "/login",
    "/my",
    "/dashboard",
    "/matrix",
    "/targets",
    "/counties",
    "/assessment",
    "/tasks",
    "/tasks/3.1",
    "/tasks/3.1/report",
    *(f"/tasks/{code}" for code in sorted(STATUSES)),
    "/assignments/pending",
    "/reviews",
    "/admin/outbox",
    "/admin/jobs",
    "/admin/recipients",
    "/admin/workdays",
    "/plans/import",
    "/graph",
    "/graph/departments",
    "/graph/links",
    "/calendar",
    "/profile/tokens",
    "/password",
]
# After checking one of these pages, also check the first page it links to matching the pattern.
DETAILS = {
    "/reviews": r"/reviews/\d+$",
    "/admin/outbox": r"/admin/outbox/\d+$",
    "/dashboard": r"/departments/\d+$",
}
# Every one of these must have been checked by some role (the walk must not silently skip them).
# …and these kinds of text must have been measured somewhere: every status pill and report state,
# the warning lights' labels, role badges, muted text, links, buttons, SVG labels (<tag> is an element).
MUST_MEASURE = {f"status-{s}" for s in ["not_started", "in_progress", "done", "lagging", "blocked"]}
MUST_MEASURE |= {f"state-{s}" for s in ["draft", "submitted", "approved", "returned"]}
MUST_MEASURE |= {
    "light-text",
    "role-lead",
    "role-support",
    "lede",
    "crumbs",
    "note",
    "legend",
    "empty",
    "counts",
    "sub",
}
MUST_MEASURE |= {"track-behind", "track-no_data", "field-error", "linklike", "primary", "<a>", "<button>", "<text>"}
MUST_CHECK = set(PAGES) | {"/reviews/<id>", "/admin/outbox/<id>", "/departments/<id>"}
MUST_CHECK |= {"/login (wrong password)", "404 page"}

CONTRAST_JS = r"""
() => {
  const parse = (s) => {
    if (!s || s === 'none') return null;
    if (s === 'transparent') return [0, 0, 0, 0];
    let m = s.match(/^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)\s*(?:[,/]\s*([\d.]+)(%?))?\s*\)$/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : (m[5] ? m[4] / 100 : +m[4])];
    m = s.match(/^color\(srgb\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*(?:\/\s*([\d.]+)(%?))?\s*\)$/);
    if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : (m[5] ? m[4] / 100 : +m[4])];
    return undefined;  // a colour this script does not understand: reported, never passed
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = typeof el.className === 'string' ? el.className : (el.getAttribute('class') || '');
    for (const c of cls.split(/\s+/).filter(Boolean)) s += '.' + c;
    return s;
  };
  const path = (el) => {
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && n !== document.body && parts.length < 5; n = n.parentElement) {
      parts.unshift(name(n));
    }
    return parts.join(' > ');
  };
  const opacities = new Map();
  const opacityUp = (el) => {
    if (!el || el.nodeType !== 1) return 1;
    if (!opacities.has(el)) opacities.set(el, parseFloat(getComputedStyle(el).opacity) * opacityUp(el.parentElement));
    return opacities.get(el);
  };
  const SHAPES = new Set(['rect', 'circle', 'ellipse', 'polygon', 'path']);
  const centre = (el) => {
    const r = el.getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];
  };
  // The background layers under `el`, top first, down to the first opaque one; or a reason why not known.
  const background = (el) => {
    const layers = [];
    const svgText = el instanceof SVGElement;
    const [cx, cy] = centre(el);
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const cs = getComputedStyle(n);
      if (cs.backgroundImage && cs.backgroundImage !== 'none') return {unknown: 'background-image on ' + name(n)};
      const bg = parse(cs.backgroundColor);
      if (bg === undefined) return {problem: 'background not understood: ' + cs.backgroundColor + ' on ' + name(n)};
      if (bg && bg[3] > 0) {
        const layer = bg.slice(0, 3).concat([bg[3] * opacityUp(n)]);
        layers.push(layer);
        if (layer[3] >= 1) return {layers};
      }
      if (svgText && n.parentElement instanceof SVGElement) {
        // A shape painted just before this node in the same group, under the text's centre.
        for (let s = n.previousElementSibling; s; s = s.previousElementSibling) {
          if (!SHAPES.has(s.tagName.toLowerCase())) continue;
          const r = s.getBoundingClientRect();
          if (cx < r.left || cx > r.right || cy < r.top || cy > r.bottom) continue;
          const ss = getComputedStyle(s);
          const fill = parse(ss.fill);
          if (fill === undefined) return {unknown: 'fill ' + ss.fill + ' on ' + name(s)};  // a pattern, a gradient
          if (!fill || fill[3] === 0) continue;
          const layer = fill.slice(0, 3).concat([fill[3] * parseFloat(ss.fillOpacity) * opacityUp(s)]);
          layers.push(layer);
          if (layer[3] >= 1) return {layers};
          break;
        }
      }
    }
    layers.push([255, 255, 255, 1]);  // the canvas
    return {layers};
  };
  const exempt = (el) => {
    if (el.closest(':disabled, [aria-disabled="true"]')) return true;
    const label = el.closest('label');
    return !!(label && label.control && label.control.disabled);
  };
  const SKIP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'TITLE', 'OPTION', 'OPTGROUP', 'SELECT']);
  const rendered = (el, text) => {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    let rects = [];
    for (const t of text) {
      const range = document.createRange();
      range.selectNodeContents(t);
      rects.push(...range.getClientRects());
    }
    if (!rects.length) rects = [...el.getClientRects()];
    rects = rects.filter((r) => r.width > 0 && r.height > 0);
    // Off the page to the left or above: the skip link until it is focused.
    return rects.some((r) => r.right + window.scrollX > 0 && r.bottom + window.scrollY > 0);
  };
  const failures = [];
  const unknown = [];
  let checked = 0, exempted = 0;
  const classes = new Set();
  for (const el of document.querySelectorAll('body *')) {
    if (SKIP.has(el.tagName)) continue;
    let text = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    let sample = text.map((n) => n.textContent).join(' ');
    if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type) && el.value.trim()) {
      sample = el.value;
      text = [];
    } else if (!text.length) continue;
    if (!rendered(el, text)) continue;
    if (exempt(el)) { exempted++; continue; }
    const cs = getComputedStyle(el);
    const svgText = el instanceof SVGElement;
    const fg = parse(svgText ? cs.fill : cs.color);
    const bg = background(el);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const required = large ? 3 : 4.5;
    const where = {path: path(el), text: sample.replace(/\s+/g, ' ').trim().slice(0, 40), size, bold, required};
    if (fg === undefined || fg === null) {
      failures.push({...where, problem: 'foreground colour not understood: ' + (svgText ? cs.fill : cs.color)});
      continue;
    }
    if (bg.problem) { failures.push({...where, problem: bg.problem}); continue; }
    if (bg.unknown) { unknown.push({...where, why: bg.unknown}); continue; }
    let base = bg.layers[bg.layers.length - 1];
    for (let i = bg.layers.length - 2; i >= 0; i--) base = over(bg.layers[i], base);
    const alpha = fg[3] * (svgText ? parseFloat(cs.fillOpacity) : 1) * opacityUp(el);
    const shown = over(fg.slice(0, 3).concat([alpha]), base);
    const r = ratio(shown, base);
    checked++;
    for (const c of el.classList) classes.add(c);
    classes.add('<' + el.tagName.toLowerCase() + '>');
    if (r < required) {
      failures.push({...where, fg: hex(fg) + (alpha < 1 ? ' @' + alpha.toFixed(2) : ''), bg: hex(base), ratio: r});
    }
  }
  return {failures, checked, unknown, exempted, classes: [...classes]};
}
"""

_SEEN: set[str] = set()  # the pages checked so far in this module
_CLASSES: set[str] = set()  # the classes of the elements measured so far
_COUNTS = {"exempt": 0}
_ROLES: set[str] = set()  # the roles whose walk ran


def _check(page, label: str) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """The contrast failures on the page as it is now, one line each (identical ones counted)."""
    lines: dict[str, int] = {}
    checked = 0
    for frame in page.frames:
        result = frame.evaluate(CONTRAST_JS)
        checked += result["checked"]
        _CLASSES.update(result["classes"])
        for u in result["unknown"]:
            warnings.warn(f"{label}: {u['path']} «{u['text']}» not measured: {u['why']}", stacklevel=2)
        _COUNTS["exempt"] += result["exempted"]
        for f in result["failures"]:
            where = f"{label}{'' if frame == page.main_frame else ' (frame)'}: {f['path']} «{f['text']}»"
            if "problem" in f:
                line = f"{where}: {f['problem']}"
            else:
                size = f"{f['size']:g}px{' bold' if f['bold'] else ''}"
                line = f"{where}: {f['fg']} on {f['bg']} = {f['ratio']:.2f}:1 < {f['required']:g}:1 ({size})"
            lines[line] = lines.get(line, 0) + 1
    return [line if n == 1 else f"{line} ×{n}" for line, n in lines.items()], checked


def _walk(page, server: Server, who: str) -> tuple[list[str], set[str], int]:  # type: ignore[no-untyped-def]
    failures: list[str] = []
    seen: set[str] = set()
    total = 0
    for path in PAGES:
        response = page.goto(server.url + path)
        page.wait_for_load_state()
        if response is None or response.status != 200 or page.url.split("?")[0] != server.url + path:
            continue  # not this role's page
        found, checked = _check(page, f"{who} {path}")
        failures += found
        total += checked
        seen.add(path)
        if path in DETAILS:
            hrefs = page.eval_on_selector_all("main a[href]", "as => as.map(a => a.getAttribute('href'))")
            detail = next((h for h in hrefs if re.search(DETAILS[path], h.split("?")[0].split("#")[0])), None)
            if detail:
                page.goto(server.url + detail)
                page.wait_for_load_state()
                found, checked = _check(page, f"{who} {detail}")
                failures += found
                total += checked
                seen.add(re.sub(r"/\d+$", "/<id>", detail))
    return failures, seen, total


@pytest.fixture
def demo_page(browser, demo_server: Server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A watched page (console errors and failed requests fail the test) that may meet 403 pages."""
    with watching(browser) as page:
        allow_status(page, 403)
        yield page


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_text_on_every_page_has_enough_contrast_for_every_role(demo_page, demo_server: Server, role: str) -> None:  # type: ignore[no-untyped-def]
    page, server = demo_page, demo_server
    failures: list[str] = []
    if ACCOUNTS[role] is None:
        page.goto(server.url + "/login")
        page.get_by_label("电子邮箱").fill("leader@demo.local")
        page.get_by_label("密码").fill("not-the-password")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        assert page.get_by_text("邮箱或密码不正确").is_visible()
        failures += _check(page, "anonymous /login (wrong password)")[0]
        _SEEN.add("/login (wrong password)")
        allow_status(page, 404)
        assert page.goto(server.url + "/no-such-page").status == 404
        failures += _check(page, "anonymous 404 page")[0]
        _SEEN.add("404 page")
    else:
        log_in(page, server, ACCOUNTS[role])
    found, seen, checked = _walk(page, server, role)
    _SEEN.update(seen)
    _ROLES.add(role)
    assert seen and checked >= 5 * len(seen), (seen, checked)  # the script did look at the text
    assert failures + found == [], "text below WCAG 2.1 AA contrast:\n" + "\n".join(failures + found)
    if set(ACCOUNTS) == _ROLES:  # the last role's walk: every main page was checked by some role
        _every_main_page_was_checked()


def _every_main_page_was_checked() -> None:
    assert MUST_CHECK <= _SEEN, sorted(MUST_CHECK - _SEEN)
    assert MUST_MEASURE <= _CLASSES, sorted(MUST_MEASURE - _CLASSES)
    assert _COUNTS["exempt"] > 0, "the current language's (disabled) button was not seen"


def test_the_english_interface_has_the_same_contrast(demo_page, demo_server: Server) -> None:  # type: ignore[no-untyped-def]
    page, server = demo_page, demo_server
    log_in(page, server, ACCOUNTS["coordinator"])
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    found, seen, _ = _walk(page, server, "coordinator (English)")
    assert {"/tasks", "/reviews", "/admin/outbox"} <= seen, seen
    assert found == [], "text below WCAG 2.1 AA contrast in English:\n" + "\n".join(found)
