"""Web Push: VAPID keys, browsers' subscriptions, the notification outbox, its sender and triggers.

See docs in each module; PRODUCT.md "Push notifications" says what it is for.
"""
