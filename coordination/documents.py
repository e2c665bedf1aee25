"""Rendering documents (HTML templates) to accessible PDF with WeasyPrint."""

from __future__ import annotations

from flask import current_app


def render_pdf(html: str) -> bytes:
    """Render HTML to a tagged PDF (PDF/UA) with embedded fonts."""
    from weasyprint import HTML

    base = current_app.static_folder
    return HTML(string=html, base_url=base).write_pdf(pdf_variant="pdf/ua-1")
