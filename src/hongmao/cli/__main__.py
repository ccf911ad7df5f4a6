"""``python -m hongmao.cli`` runs the ``hongmao`` command."""

from hongmao.cli.app import main

main()
