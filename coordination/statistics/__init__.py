"""Follow-up statistics (SUS, ../shared/DOMAIN.md §12): participant records, reports, import,
progression.

Invariants: a participant has at most one registration per occasion and one record per case; an
import is all or nothing; reports are SQL aggregations over these records (imported history and
live cases alike) and never expose a person, only counts per code and gender.
"""
