from django import template

from reviews.markdown import render_markdown

register = template.Library()


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
