"""Rights holders' copyright claims: recognising one and tracking it to a resolution."""
