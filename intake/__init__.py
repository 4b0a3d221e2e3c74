"""intake: a contribution-intake email processor for a news desk's submissions mailbox."""

__version__ = "0.1.0"
