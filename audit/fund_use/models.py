"""Tables of this sub-domain."""
