from django import template

from questionnaires.risk import Risk
from reviews.markdown import render_markdown

register = template.Library()


@register.filter
def risk_label(value: str) -> str:
    """A risk level as people read it: {{ answer.risk|risk_label }} gives "High risk"."""
    return Risk(value).label if value in Risk.values else value


@register.filter
def risk_short(value: str) -> str:
    """A risk level where the word risk goes without saying: "High", "No risk"."""
    return Risk(value).short_label if value in Risk.values else value


@register.filter
def markdown(text: str):
    """Render notes written in Markdown, sanitised."""
    return render_markdown(text)


@register.filter
def duration(seconds: int) -> str:
    """Seconds as m:ss or h:mm:ss."""
    seconds = max(0, int(seconds or 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
