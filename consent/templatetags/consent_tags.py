import secrets

from django import forms, template
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from consent import explanation_text, receipts, wording

register = template.Library()

# Rendered parts of pages that are the same for everyone who sees them with the
# same inputs (language, roles, page), kept for the life of the process: the
# templates and catalogues they come from do not change while it runs. Bounded
# by languages x role sets x URL names.
_rendered = {}
# Stand-in for the one per-request value inside shared parts (the sign-out
# form's CSRF token), put back on use.
_CSRF_MARK = f"csrf{secrets.token_hex(16)}"


class SharedNode(template.Node):
    # Not a container for get_nodes_by_type: no block lives inside a shared part,
    # and {% extends %} walks the parent's tree on every render.
    child_nodelists = ()

    def __init__(self, name, nodelist, keys=(), unless=None):
        self.name = name
        self.nodelist = nodelist
        self.keys = keys
        self.unless = unless

    def render(self, context):
        if self.unless is not None and self.unless.resolve(context):
            return self.nodelist.render(context)
        user = context.get("user")
        request = context.get("request")
        match = getattr(request, "resolver_match", None)
        # Every value the part reads, so that two visitors with the same key see the same part.
        key = (
            self.name,
            get_language(),
            bool(user and user.is_authenticated),
            frozenset(context.get("roles") or ()),
            match.url_name if match else None,
            *(value.resolve(context) for value in self.keys),
        )
        html = _rendered.get(key)
        if html is None:
            with context.push(csrf_token=_CSRF_MARK):
                html = _rendered[key] = self.nodelist.render(context)
        if _CSRF_MARK in html:
            html = html.replace(_CSRF_MARK, str(context.get("csrf_token") or ""))
        return html


@register.tag
def shared(parser, token):
    """``{% shared "name" [value ...] [unless condition] %}…{% endshared %}``: rendered
    once per language, sign-in state, role set, URL name and the values given, then
    reused; its CSRF token is the request's own. Only for parts that read nothing
    else. While the condition holds (a bound form), the part is rendered afresh."""
    bits = token.split_contents()
    unless = None
    if len(bits) > 2 and bits[-2] == "unless":
        unless = parser.compile_filter(bits[-1])
        bits = bits[:-2]
    if len(bits) < 2:
        raise template.TemplateSyntaxError("shared takes a name")
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    return SharedNode(bits[1], nodelist, [parser.compile_filter(bit) for bit in bits[2:]], unless)


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
    # None only when its count or the total is hidden: the rate reads "hidden" too, as in the CSV export.
    rate = figure.rate(category)
    if rate is None:
        return shown(None)
    return f"{rate * 100:.1f}%"


register.filter("recorded_through", receipts.recorded_through)


@register.filter
def highlight_compulsion(text):
    return wording.highlight(text)


@register.simple_tag
def progress_steps(step):
    """The employee's way through one decision, with ``step`` (1–4) the current one."""
    key = ("steps", step, get_language())
    if key not in _rendered:
        labels = (_("Explanation"), _("Confirmation"), _("Choice"), _("Receipt"))
        context = {"step": step, "steps": list(enumerate(labels, start=1))}
        _rendered[key] = render_to_string("consent/_steps.html", context)
    return _rendered[key]


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


# What each of the verifier's reasons (chain.py's "What the verifier prints", and
# verification.py's) means, for the union's pages; the verifier's own words are English.
_CHANGED = gettext_lazy("An event or a text differs from what was recorded: it may have been rewritten.")
_MISSING = gettext_lazy("Events are missing, out of order or no longer follow on from one another.")
_CHECKPOINT = gettext_lazy("The chain no longer matches a signed or saved checkpoint, or a signature fails.")
_PROBLEMS = {
    **dict.fromkeys(
        ["edited", "rewritten", "forged", "head", "indexed", "tree", "receipt", "opening", "opening-mismatch"]
        + ["text", "text-mismatch", "text-unlogged"],
        _CHANGED,
    ),
    **dict.fromkeys(["gap", "reordered", "broken-link", "truncated", "text-missing"], _MISSING),
    **dict.fromkeys(
        ["checkpoint-mismatch", "checkpoint", "bad-signature", "proof-failed", "cosigned", "cosignature"],
        _CHECKPOINT,
    ),
}


@register.filter
def verification_problem(reason):
    """The verifier's reason ("code: detail", English) as a sentence in the page's language."""
    return _PROBLEMS.get(reason.split(":", 1)[0].strip(), gettext_lazy("The chain did not verify."))
