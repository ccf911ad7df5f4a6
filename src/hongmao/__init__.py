"""Hongmao (红猫): the open bridge from content seeding (种草) to marketplace orders (拔草).

The library is the product; the CLI and web layers are thin over it.
"""

from hongmao.errors import HongmaoError

__version__ = "0.1.0"

__all__ = ["HongmaoError", "__version__"]
