"""Consent (samtycke) to share information between agencies about one person.

Invariants: a consent names the agencies and kinds of information it covers; withdrawal takes
effect at once; an expired or withdrawn consent covers nothing.
"""
