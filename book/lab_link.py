"""Sphinx extension: an "Open in JupyterLab" button on every page, next to the theme's download buttons."""


def add_lab_button(app, pagename, templatename, context, doctree):
    """Link the page's source file (as it lies in the repository) in a running JupyterLab."""
    source = context.get("sourcename")
    if not source or "header_buttons" not in context:
        return
    source = app.config.lab_renamed_sources.get(source, source)
    context["header_buttons"].insert(0, {
        "type": "link",
        "url": f"{app.config.lab_url.rstrip('/')}/{source}",
        "tooltip": "Open this page's notebook or file in JupyterLab (the server that make lab starts)",
        "icon": "fas fa-flask",
        "label": "open-in-jupyterlab-button",
        "text": "JupyterLab",
    })


def setup(app):
    app.add_config_value("lab_url", "http://localhost:8888/lab/tree", "html")
    app.add_config_value("lab_renamed_sources", {}, "html")
    app.connect("html-page-context", add_lab_button, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
