"""Energy-based models: the discriminator that generates."""

from tfgen.models.energy.energy_model import EnergyModel

__all__ = ["EnergyModel"]
