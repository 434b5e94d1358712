"""Webhooks: signed completion events out (`delivery`, `guard`), signed job submissions in
(`ingest`), one signature scheme for both (`signing`)."""
