"""`make bench`: figures about speed, each module measuring one thing (not part of the tests)."""
