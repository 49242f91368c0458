"""Model families. Importing this package registers every model.

Each family is a sub-package; add its import here (a test fails if a family
folder exists without being imported and registered).
"""

from tfgen.models import (  # noqa: F401
    autoencoder,
    draw,
    energy,
    gan,
    pixelrnn,
    pixelrnn_paper,
    sentence_vae,
    vae,
    wavenet,
)
