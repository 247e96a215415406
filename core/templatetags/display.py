"""Template filters for values shown to people (see core/display.py)."""

from django import template

from core.display import phone_display

register = template.Library()


@register.filter
def phone(number: str) -> str:
    """{{ prospect.phone|phone }}: grouped for reading; keep `tel:{{ prospect.phone }}` for links."""
    return phone_display(number or "")
