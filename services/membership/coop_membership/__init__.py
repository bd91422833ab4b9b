"""Membership service: members, their lifecycle and their cooperative shares."""

SERVICE_NAME = "membership"
