"""The annotate job on a Ray cluster (Ray Data reads, an actor pool labels, parquet out)."""

from emolabel.engines.ray.engine import annotate_with_ray
from emolabel.engines.ray.options import RayOptions

__all__ = ["RayOptions", "annotate_with_ray"]
