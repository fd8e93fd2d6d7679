"""One look for every report: colours, fonts and the CSS of the static HTML view.

Reference and current use the Okabe–Ito colour-blind-safe pair (blue / orange). Severity is
never shown by colour alone: every badge also carries its word. The stylesheet is a refinement:
a notebook opened without trust loses it, and what carries meaning is in the markup or in
inline styles (:mod:`monitorkit.display.html`).
"""

from __future__ import annotations

REFERENCE_COLOR = "#0072B2"  # Okabe–Ito blue
CURRENT_COLOR = "#E69F00"  # Okabe–Ito orange
NEUTRAL_COLOR = "#6e7781"
SEVERITY_COLORS = {"ok": "#1a7f37", "warning": "#9a6700", "critical": "#cf222e"}
SEVERITY_BACKGROUNDS = {"ok": "#dafbe1", "warning": "#fff8c5", "critical": "#ffebe9"}
SEVERITY_LABELS = {"ok": "OK", "warning": "WARNING", "critical": "CRITICAL"}

MATPLOTLIB_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d0d7de",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
}

# Scoped under .mk-report so that it never restyles the notebook around it. A standalone page
# holds it as a <style> block; a notebook output gets each rule inlined into the style attributes
# of the elements it selects (html.fragment), where a rule that cannot sit in an attribute is
# lost: pseudo-classes of state (:hover, :focus), pseudo-elements (::before) and @media or
# other at-rules. So rules here select elements only (:first-child is resolved when inlining).
CSS = """
.mk-report { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  font-size: 13px; color: #1f2328; line-height: 1.45; max-width: 1100px; }
.mk-report h3 { font-size: 15px; margin: 18px 0 6px; }
.mk-report .mk-scroll { overflow-x: auto; max-width: 100%; }
.mk-report .mk-banner { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px;
  padding: 10px 14px;
  border-left: 6px solid; border-radius: 4px; margin: 4px 0 10px; }
.mk-report .mk-banner .mk-label { font-weight: 700; letter-spacing: .04em; }
.mk-report .mk-banner .mk-verdict { font-size: 14px; }
.mk-report .mk-facts { color: #57606a; margin: 0 0 8px; }
.mk-report .mk-facts span { white-space: nowrap; }
.mk-report .mk-sep { color: #8c959f; }
.mk-report table.mk-table { border-collapse: collapse; width: 100%; font-size: 12px;
  table-layout: auto; }
.mk-report .mk-table th { text-align: left; font-weight: 600; color: #57606a;
  border-bottom: 1px solid #d0d7de; padding: 4px 8px; white-space: nowrap; }
.mk-report .mk-table td { padding: 3px 8px; border-bottom: 1px solid #eaeef2;
  vertical-align: middle; text-align: left; }
.mk-report .mk-table th.mk-num { text-align: right; }
.mk-report .mk-table td.mk-num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.mk-report .mk-table tr.mk-drifted td { background: #fffdf5; }
.mk-report .mk-table td:first-child { white-space: nowrap; }
.mk-report code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; font-size: 12px; }
.mk-report .mk-pill { display: inline-block; padding: 0 7px; border-radius: 10px;
  font-size: 11px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.mk-report .mk-role { display: inline-block; margin-left: 6px; padding: 0 5px;
  border-radius: 3px; background: #ddf4ff; color: #0969da; font-size: 10px; }
.mk-report .mk-muted { color: #6e7781; }
.mk-report .mk-legend { font-size: 11px; color: #57606a; margin: 4px 0; }
.mk-report .mk-spark { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 11px; line-height: 1; white-space: pre; letter-spacing: -0.5px; }
.mk-report details { margin: 6px 0; }
.mk-report summary { cursor: pointer; color: #0969da; }
.mk-report .mk-plots { display: flex; flex-wrap: wrap; gap: 10px; }
.mk-report .mk-plots figure { margin: 0; }
.mk-report .mk-plots figcaption { font-size: 11px; color: #57606a; }
.mk-report h2.mk-section { font-size: 17px; margin: 22px 0 2px; padding-top: 8px;
  border-top: 1px solid #d0d7de; }
.mk-report .mk-section-verdict { margin: 2px 0 8px; }
.mk-report .mk-heat td.mk-cell { text-align: right; font-variant-numeric: tabular-nums; }
"""
