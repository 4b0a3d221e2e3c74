"""From the mailbox to rows: poll, parse, classify and record each message once."""
