"""Webhooks: users register URLs, image events are signed (Standard Webhooks) and delivered
by the queue with retries, to public addresses only."""
