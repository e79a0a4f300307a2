"""Publishing the catalogue to OpenMetadata.

    backend.py          main side: OpenMetadataPublisher (CatalogueBackend.publish) turns entries
                        and lineage into a JSON document and runs publisher.py in .venv-om
    publisher.py        .venv-om side: SDK request models, sent with the SDK client or written
                        to files (--dry-run); imports nothing of bzdata
    contract_server.py  .venv-om side: a strict, stateful stand-in for OpenMetadata's API (tests)

The .venv-om scripts are run by path, so the main package's heavy imports never reach them.
"""
