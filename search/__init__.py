"""Service KB's engine: procedures in, checks and ranked answers out. Nothing in it imports MkDocs.

One module per concept: procedure (the model), folder (which files), parsing (one file and its
checks), checks (across files), model (loading a folder), frontmatter, vocabulary (tags.yml),
catalog (tags, areas, related procedures), review, scaffold (`kb new`), settings, analysis (text
and thesaurus), related (WordNet's related words), ranking (every weight and limit, for both
engines), storage (which folders may be written), the index (index, index_fields,
index_document, index_writer, index_reader, index_state), query, searching, snippets, terminal,
export (the browser's search data), evaluate, and the command line (cli, cli_parser).
"""
