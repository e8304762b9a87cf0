"""A recommendation shown as plain text or as an HTML card."""

from __future__ import annotations

from html import escape

from brokerlab.course.decide.recommendation import Recommendation

COLOURS = {"Kafka": "#37474f", "RabbitMQ": "#ef6c00", "either": "#2e7d32"}


def render_text(rec: Recommendation) -> str:
    """The recommendation as plain text, one reason per line."""
    lines = [rec.headline]
    for i, r in enumerate(rec.reasons, 1):
        mark = "DECIDES" if r.step == rec.decided_by else ("decisive" if r.decisive else "-")
        lines.append(f"{i}. [{mark}] {r.question}: {r.answer} → {r.favours}. {r.explanation} "
                     f"Evidence ({'measured' if r.measured else 'course'}): {r.evidence}. "
                     f"See {', '.join(r.notebooks)}.")
    if rec.trade_offs:
        lines.append("Trade-offs: " + "; ".join(rec.trade_offs))
    if rec.to_measure:
        lines.append("Run to measure: " + ", ".join(rec.to_measure))
    return "\n".join(lines)


def render_html(rec: Recommendation) -> str:
    """The recommendation as an HTML card: the choice, then each step with its evidence."""
    colour = COLOURS[rec.choice]
    items = []
    for r in rec.reasons:
        weight = "bold" if r.step == rec.decided_by else "normal"
        badge = ("<span style='color:#2e7d32'>your measurement</span>" if r.measured
                 else "<span style='color:#757575'>course</span>")
        items.append(
            f"<li style='font-weight:{weight}'>{escape(r.question)}: <i>{escape(r.answer)}</i> → "
            f"<b style='color:{COLOURS[r.favours]}'>{escape(r.favours)}</b>"
            f"{' (decides)' if r.step == rec.decided_by else ''}"
            f"<div style='font-weight:normal'>{escape(r.explanation)}<br>"
            f"<small>{badge}: {escape(r.evidence)} — see {escape(', '.join(r.notebooks))}</small>"
            "</div></li>")
    extra = ""
    if rec.trade_offs:
        extra += "<p><b>Trade-offs:</b> " + escape("; ".join(rec.trade_offs)) + "</p>"
    if rec.to_measure:
        extra += "<p><b>Measure on your machine:</b> run " + escape(", ".join(rec.to_measure)) + "</p>"
    return (f"<div style='border-left:6px solid {colour};padding:4px 10px'>"
            f"<h4 style='color:{colour};margin:4px 0'>{escape(rec.headline)}</h4>"
            f"<ol>{''.join(items)}</ol>{extra}</div>")
