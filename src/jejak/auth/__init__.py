"""Staff accounts and API tokens: who is asking, with which role and scopes, and the record of
every view of a subscriber's data."""
