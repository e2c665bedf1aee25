"""The installation's own pages (DOMAIN.md §14), for accounts with a platform role and no role in
any förbund: the platform administrator lists the förbund and creates one with its first
administrator; the national analyst sees statistics across förbund.

Invariants: these pages show förbund, counts and nothing else: no participant, case or person,
never a name or a personnummer. Every figure of a förbund is computed within that förbund
(`tenancy.context.use`), so its policies apply; the national figure is the sum of the förbund's,
and a small count is never published nor computable from the others (platform.national).
"""
