"""coopgov notifications service: e-mail and in-app messages about the other services' events,
in the member's language, exactly once per event, recipient and channel (docs/notifications.md)."""

SERVICE_NAME = "notifications"
