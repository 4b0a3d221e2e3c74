"""Replies filed on their submission: new versions, copyright consent, reminders."""
