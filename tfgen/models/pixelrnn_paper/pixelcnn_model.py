"""PixelCNN ([1], section 3.4) with a cached sampler ([2]).

A stack of masked convolutions: all pixels' logits in one parallel pass for
training and likelihood. Sampling is sequential; the plain sampler re-runs
the whole network for every pixel channel (work ~ pixels x network). The
cached sampler ([2]) computes each layer only at the position being
generated: for every k x k convolution it keeps the last k//2 + 1 rows of
that convolution's input (the rows its causal kernel reads), writes the new
position's input into the cache and applies the kernel to the one patch
around it; 1x1 layers need no cache. The first layer reads its patch
straight from the canvas. Same arithmetic up to float summation order, so
the same noise gives the same samples (tested against the plain sampler).

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
[2] Ramachandran et al. 2017, "Fast Generation for Convolutional
    Autoregressive Models", arXiv:1704.06001.
"""

from tfgen import registry
from tfgen.layers import ResidualConvBlock
from tfgen.models.pixelrnn_paper.configs import PIXELCNN_CONFIGS
from tfgen.models.pixelrnn_paper.pixel_network import PixelNetwork, conv_flops


@registry.register("pixelcnn", configs=PIXELCNN_CONFIGS, default_dataset="binarized_mnist")
class PixelCNN(PixelNetwork):
    """PixelCNN: masked 7x7 input convolution, residual blocks of masked k x k convolutions.

    Args: see `PixelNetwork`, plus
        kernel_size: of each block's masked convolution. Defaults to 3, as in [1].

    Example:
        >>> model = PixelCNN(num_classes=2, image_shape=(28, 28, 1), units=32, num_layers=8)
        >>> nats = model.log_prob(tf.zeros([2, 28, 28, 1], tf.int32))  # [2]
        >>> images = model.sample(model.noise(4, seed=0), tf.ones([4]))  # cached sampler
    """

    def __init__(self, num_classes, image_shape, kernel_size=3, **kwargs):
        self.kernel_size = int(kernel_size)
        super().__init__(num_classes, image_shape, **kwargs)

    def make_block(self, index):
        return ResidualConvBlock(self.units, self.kernel_size, self.image_shape[2], name=f"conv_block_{index}")

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}

    def block_flops(self, block):
        h, w, _ = self.image_shape
        return sum(conv_flops(conv, h, w) for conv in (block.reduce, block.conv, block.expand))
