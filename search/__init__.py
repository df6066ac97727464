"""Service KB's engine: procedures in, checks and ranked answers out. Nothing in it imports MkDocs.

One module per concept: procedure (the model), folder (which files), parsing (one file and its
checks), checks (across files), model (loading a folder), frontmatter, vocabulary (tags.yml),
catalog (tags, areas, related), review, scaffold (`kb new`), settings, analysis (text and
thesaurus), index, query, searching, snippets, terminal, export (the browser's search data),
evaluate, and the command line (cli, cli_parser).
"""
