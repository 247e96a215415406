"""Native webhooks of email services: one module per provider, each with the same three
functions (`configured`, `authenticate`, `parse`), a shared event shape (`events.py`), one service that
stores what they parsed (`services.py`) and one view for the four endpoints (`views.py`)."""
