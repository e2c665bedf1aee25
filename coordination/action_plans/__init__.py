"""The joint action plan (SamSIP): versions of goals, actions, responsibilities and the exit plan.

Invariants: every version is kept; a version anyone has signed never changes (a change makes a new
version that needs every sign-off again); at most one version per case is being drawn up or
signed at a time; a fully signed version activates an enrolled case.
"""
