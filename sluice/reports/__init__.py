"""HTML and Markdown reports rendered from Jinja2 templates."""
