"""Service KB search engine: procedures in, ranked answers out. No MkDocs imports here."""
