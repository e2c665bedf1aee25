"""Several förbund on one installation (../shared/DOMAIN.md §14).

The förbund is the tenant. Every row of a tenant table (the `TenantMixin` models: everything but
the accounts, their sign-ins and the förbund themselves) belongs to one förbund, and nothing of one
is ever visible in another. Two layers keep them apart:

- the code: `scoping.install` adds "forbund_id = the current förbund" to every ORM statement in
  one place, and gives every new row the current förbund;
- PostgreSQL: row-level security on every tenant table, keyed on the transaction's
  `app.forbund_id` (set from the same current förbund at the start of each transaction), for a
  role that cannot bypass it (`rls.py`), so a query that forgets its filter still returns nothing.

The current förbund lives in `context`: the request's (chosen by the signed-in user, kept in the
session or named by the API token), a Celery task's (carried in its headers), or a job's, which
runs once per förbund.
"""
