"""Accessibility checks with axe-core, the engine most accessibility audits use.

axe-core comes from ``node_modules`` (a dev dependency pinned in ``package-lock.json``)
and is injected into the page under test only: it is never part of the built site.
``assert_no_serious_violations(page, "logged in")`` fails with one line per violation
(rule, impact, what to fix, the first offending elements) so that the failure says what
to change without re-running anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

_RUN = """async (include) => {
  const results = await axe.run(include ? { include: [include] } : document, {
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


def serious_violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (or under ``include``)."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `npm ci` (build_scripts/setup.sh does)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_RUN, include)
    return [v for v in found if v["impact"] in BLOCKING]


def assert_no_serious_violations(page: Page, state_name: str, include: str | None = None) -> None:
    """Fail, naming the page's state, if axe-core finds a serious or critical violation."""
    violations = serious_violations(page, include)
    lines = [
        f"  {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in violations
    ]
    assert not violations, f"axe-core on {page.url} ({state_name}):\n" + "\n".join(lines)
