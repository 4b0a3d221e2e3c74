"""Values that cross every boundary: mail dataclasses, settings, errors, time, logging."""
