"""The workstation in a browser (`refund-review serve`): textual-serve, one workstation process per tab.

Loaded only by the `serve` command, so the terminal workstation's start-up never imports aiohttp.
"""
