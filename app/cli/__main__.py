"""`python -m app.cli`: the `refund-review` command, as `serve` starts one workstation per browser tab."""

from app.cli import main

main()
