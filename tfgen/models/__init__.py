"""Model families. Importing this package registers every model.

Each family is a sub-package; add its import here (a test fails if a family
folder exists without being imported and registered).
"""

from tfgen.models import (
    energy,  # noqa: F401
    gan,  # noqa: F401
    pixelrnn,  # noqa: F401
)
