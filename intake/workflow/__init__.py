"""The statuses of submissions and claims and the one table of moves for each."""
