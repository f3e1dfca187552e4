from django import template
from django.utils.translation import gettext as _

from consent import explanation_text, wording

register = template.Library()


@register.filter
def explanation_html(body):
    return explanation_text.render(body)


@register.filter
def shown(value):
    """A suppressed figure (None) reads "hidden", whether it is small itself or
    would let a small one be worked out: telling the two apart would leak."""
    if value is None:
        return _("hidden")
    return f"{value:,}"


@register.filter
def count_of(figure, category):
    return shown(figure.counts[category])


@register.filter
def rate_of(figure, category):
    rate = figure.rate(category)
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}%"


@register.filter
def highlight_compulsion(text):
    return wording.highlight(text)


@register.inclusion_tag("consent/_steps.html")
def progress_steps(step):
    """The employee's way through one decision, with ``step`` (1–4) the current one."""
    labels = (_("Explanation"), _("Confirmation"), _("Choice"), _("Receipt"))
    return {"step": step, "steps": list(enumerate(labels, start=1))}
