"""The JSON blueprints of SPEC §3: public, display, kiosk, counters, admin, webhooks,
operations, and the OpenAPI document."""
