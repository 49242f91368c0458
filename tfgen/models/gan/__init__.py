"""GANs: DCGAN and GRAN, sharing `AdversarialImageModel`'s training and monitoring."""

from tfgen.models.gan.adversarial_model import AdversarialImageModel
from tfgen.models.gan.dcgan_model import DCGAN
from tfgen.models.gan.gran_model import GRAN

__all__ = ["DCGAN", "GRAN", "AdversarialImageModel"]
