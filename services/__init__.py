"""Business rules: async service modules that take an actor's context and return pydantic models.

No module here imports Textual; the workstation and the command line only call these.
"""
