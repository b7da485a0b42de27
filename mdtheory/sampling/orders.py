"""Fixed reveal orders: their home is :mod:`mdtheory.rules.orders` (torch-free); this path keeps working."""

from ..rules.orders import (  # noqa: F401
    TIE_SCALE,
    halton_order,
    hybrid_select,
    radical_inverse,
    raster_order,
    tie_keys,
    van_der_corput_order,
)

__all__ = ["radical_inverse", "raster_order", "halton_order", "van_der_corput_order", "hybrid_select", "TIE_SCALE",
           "tie_keys"]
