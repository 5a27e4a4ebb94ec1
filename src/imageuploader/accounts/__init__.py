"""Users, API tokens, plan tiers and rendition sizes."""
