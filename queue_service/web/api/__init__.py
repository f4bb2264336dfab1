"""The JSON blueprints of SPEC §3: public, webhooks, operations, and the OpenAPI document."""
