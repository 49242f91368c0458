"""Model families. Importing this package registers every model.

Each family is a sub-package; add its import here (a test fails if a family
folder exists without being imported and registered).
"""

from tfgen.models import (
    pixelrnn,  # noqa: F401
    pixelrnn_paper,  # noqa: F401
)
