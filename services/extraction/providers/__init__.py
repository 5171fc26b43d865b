"""Extraction providers behind one interface: the offline rules extractor and three LLM vendors.

Each LLM provider speaks its vendor's official SDK and returns the same :class:`ProviderOutput`; nothing it
returns is trusted until the engine has grounded it in the document text.
"""
