"""axe (axe-core, shipped by axe-playwright-python: no network) on every page a browser journey opens: each
document the journey loads is checked once it has loaded, once per kind of page (its path with ids and tokens
blanked out) in the tab's session, and a journey fails on any serious or critical violation of WCAG 2.1 A/AA.

The check runs in the page itself (a Playwright init script: neither our HTML nor our CSP is touched) and
reports through the console, so it costs the journey no round trip. The browser conftest watches the journey's
own context and every context a journey opens itself (the customer's phone on /pay/ and /card/)."""

import json
from pathlib import Path

import axe_playwright_python

AXE_SOURCE = (Path(axe_playwright_python.__file__).with_name("axe.min.js")).read_text()
MARK = "__axe__"
SERIOUS = ("serious", "critical")

RUNNER = """
(() => {
  if (window.top !== window || !/^https?:$/.test(location.protocol)) return;
  const kind = location.pathname.replace(/[0-9]+/g, "N").replace(/\\/[A-Za-z0-9_:.-]{16,}/g, "/T");
  const key = "axe-checked:" + kind;
  window.__axeDone = new Promise((done) => {
    const run = () => {
      try { if (sessionStorage.getItem(key)) return done(); } catch (e) { /* no storage: check every time */ }
      axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                         resultTypes: ["violations"]}).then((results) => {
        const serious = results.violations.filter((v) => __SERIOUS__.includes(v.impact));
        console.log("__MARK__" + JSON.stringify({page: kind, violations: serious.map((v) => ({
          id: v.id, impact: v.impact,
          nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").slice(0, 300)),
        }))}));
        try { sessionStorage.setItem(key, "1"); } catch (e) { /* ignore */ }
        done();
      }, () => done());
    };
    if (document.readyState === "complete") run(); else window.addEventListener("load", run, {once: true});
  });
})();
""".replace("__SERIOUS__", json.dumps(list(SERIOUS))).replace("__MARK__", MARK)


def watch(context, reports: list[dict]) -> None:
    """Check every document a page of this browser context loads from now on; the reports ({page,
    violations}) go to `reports`."""
    context.add_init_script(AXE_SOURCE + "\n" + RUNNER)
    context.on("console", lambda message: reports.append(json.loads(message.text[len(MARK):]))
               if message.text.startswith(MARK) else None)


def finish(contexts) -> None:
    """Wait for the check of the pages on screen (a journey may end right after one loaded)."""
    for context in contexts:
        try:
            pages = list(context.pages)
        except Exception:  # noqa: BLE001 - the context is closed: its pages were checked as they loaded
            continue
        for page in pages:
            try:
                page.evaluate("() => window.__axeDone || null")
            except Exception:  # noqa: BLE001 - the page was closed or is navigating: nothing left to wait for
                pass


def problems(reports: list[dict]) -> list[str]:
    return [f"{report['page']}: {violation['impact']} {violation['id']} {violation['nodes']}"
            for report in reports for violation in report["violations"]]
