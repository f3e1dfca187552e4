from django import forms, template
from django.utils.translation import gettext as _

from consent import explanation_text, receipts, wording

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


register.filter("recorded_through", receipts.recorded_through)


@register.filter
def highlight_compulsion(text):
    return wording.highlight(text)


@register.inclusion_tag("consent/_steps.html")
def progress_steps(step):
    """The employee's way through one decision, with ``step`` (1–4) the current one."""
    labels = (_("Explanation"), _("Confirmation"), _("Choice"), _("Receipt"))
    return {"step": step, "steps": list(enumerate(labels, start=1))}


# One error pattern for every form (templates/_error_summary.html and
# templates/_field.html): a summary at the top whose items link to the fields,
# and each field's message between its label and its input, named by the
# input's aria-describedby.


def _is_group(field):
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.filter
def is_group(field):
    """Radio buttons or tick boxes: a fieldset with a legend, not one label."""
    return _is_group(field)


@register.filter
def is_checkbox(field):
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def error_anchor(field):
    """What a summary item links to: the input itself, or a group's first option."""
    if not field:
        return ""
    if _is_group(field):
        return field.subwidgets[0].id_for_label if field.subwidgets else field.auto_id
    return field.id_for_label


@register.simple_tag
def describedby(field, help_text=""):
    """The ids of the field's help and error, as _field.html writes them."""
    ids = [f"{field.auto_id}-help"] if help_text else []
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.simple_tag
def field_widget(field, help_text="", **attrs):
    """The field's own input, pointing at its help and error. No maxlength:
    a browser cuts a pasted text at maxlength without a word, whereas the form
    refuses a text that is too long with a message saying the limit."""
    attrs = {name: value for name, value in attrs.items() if value}
    attrs["maxlength"] = False
    attrs["placeholder"] = False
    ids = describedby(field, help_text)
    attrs["aria-describedby"] = ids or False
    return field.as_widget(attrs=attrs)
