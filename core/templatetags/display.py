"""Template filters for values shown to people (see core/display.py)."""

from django import template

from core.display import phone_display, website_label, website_url

register = template.Library()


@register.filter
def phone(number: str) -> str:
    """{{ prospect.phone|phone }}: grouped for reading; keep `tel:{{ prospect.phone }}` for links."""
    return phone_display(number or "")


@register.filter
def site_url(website: str) -> str:
    """{{ prospect.website|site_url }}: an href, with https:// when the spreadsheet left it out."""
    return website_url(website)


@register.filter
def site_label(website: str) -> str:
    """{{ prospect.website|site_label }}: the website without its scheme or "www."."""
    return website_label(website)
