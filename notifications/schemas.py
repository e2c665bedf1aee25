"""Marshmallow schemas for the inbox API."""

from __future__ import annotations

from marshmallow import Schema, fields


class InboxItemSchema(Schema):
    """One inbox item: what to do and where, never who it is about."""

    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    link = fields.String(allow_none=True)
    subject_type = fields.String(allow_none=True)
    subject_id = fields.Integer(allow_none=True)
    unread = fields.Boolean()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    done_at = fields.AwareDateTime(allow_none=True)
