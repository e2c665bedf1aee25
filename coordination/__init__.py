"""The Flask application for cross-agency case coordination (finsam / SamSIP)."""
