"""`make bench-web`: the pages at real size, beside the raw SQL that returns the same rows.

`data` builds a data set of N participants with SQL (COPY and INSERT … SELECT) into a migrated
database, `floor` holds the raw-SQL floor of each page (and a tiny WSGI app serving it), `run`
serves the app with gunicorn as deploy/ runs it and measures; `locustfile` is the 20-user mix.
Nothing here is imported by the application.
"""
