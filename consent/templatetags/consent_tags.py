from django import template

from consent import explanation_text

register = template.Library()


@register.filter
def explanation_html(body):
    return explanation_text.render(body)
