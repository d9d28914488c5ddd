def navigation(request) -> dict:
    """Which part of the app the current page is in, for the top bar."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav": ""}
    name = match.url_name or ""
    for section in ("workload", "team", "lens", "session", "dashboard", "action", "cost"):
        if name.startswith(section):
            return {"nav": section}
    return {"nav": match.app_name}
