"""Row LSTM and Diagonal BiLSTM networks ([1], sections 3.1-3.2, table 1).

Both sample with the cached sampler of `PixelNetwork`, one pixel per step
with the recurrent state carried from pixel to pixel (`step_at` of
`tfgen.layers.RowLSTM` and `tfgen.layers.DiagonalBiLSTM`): linear in the
number of pixels where the plain sampler (`sample_naive`) is quadratic. Every
step is builtin TFLite ops, so the exported samplers convert.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

from tfgen import registry
from tfgen.layers import ResidualRecurrentBlock
from tfgen.layers.diagonal_bilstm import DEFAULT_RUN_COLUMNS, check_run_columns
from tfgen.models.pixelrnn_paper.configs import DIAGONAL_BILSTM_CONFIGS, ROW_LSTM_CONFIGS
from tfgen.models.pixelrnn_paper.pixel_network import PixelNetwork, conv_flops


@registry.register("row_lstm", configs=ROW_LSTM_CONFIGS, default_dataset="binarized_mnist")
class RowLSTMNetwork(PixelNetwork):
    """PixelRNN with Row LSTM layers: a triangular context above each pixel.

    Args: see `PixelNetwork` (units = LSTM hidden size h, num_layers = Row
    LSTM layers).

    Example:
        >>> model = RowLSTMNetwork(num_classes=2, image_shape=(28, 28, 1), units=16, num_layers=2)
        >>> nats = model.log_prob(tf.zeros([2, 28, 28, 1], tf.int32))  # [2]
    """

    def make_block(self, index):
        return ResidualRecurrentBlock("row_lstm", self.units, self.image_shape[2], name=f"row_lstm_{index}")

    def block_flops(self, block):
        h, w, _ = self.image_shape
        lstm = block.recurrent
        state = 2 * h * w * lstm.kernel_width * lstm.units * 4 * lstm.units
        return conv_flops(lstm.input_to_state, h, w) + state + conv_flops(block.expand, h, w)


@registry.register("diagonal_bilstm", configs=DIAGONAL_BILSTM_CONFIGS, default_dataset="binarized_mnist")
class DiagonalBiLSTMNetwork(PixelNetwork):
    """PixelRNN with Diagonal BiLSTM layers: every layer sees the whole causal context.

    Args: see `PixelNetwork` (units = LSTM hidden size h per direction,
    num_layers = Diagonal BiLSTM layers), and
        run_columns: columns per compiled loop of the recurrence in training,
            or None for one loop (see `tfgen.layers.DiagonalBiLSTM`; speed
            only, the values are the same). Defaults to DEFAULT_RUN_COLUMNS (7).

    Example:
        >>> model = DiagonalBiLSTMNetwork(num_classes=2, image_shape=(28, 28, 1), units=16, num_layers=7)
        >>> images = model.sample(model.noise(4, seed=0), tf.ones([4]))
    """

    def __init__(self, *args, run_columns=DEFAULT_RUN_COLUMNS, **kwargs):
        # Read by make_block, which the base constructor calls.
        self.run_columns = check_run_columns(run_columns)
        super().__init__(*args, **kwargs)

    def make_block(self, index):
        return ResidualRecurrentBlock(
            "diagonal_bilstm",
            self.units,
            self.image_shape[2],
            layer_options={"run_columns": self.run_columns},
            name=f"diagonal_bilstm_{index}",
        )

    def get_config(self):
        return {**super().get_config(), "run_columns": self.run_columns}

    def block_flops(self, block):
        h, w, _ = self.image_shape
        lstm = block.recurrent
        # Both directions run over the whole skewed map (H x (W + H - 1)).
        state = 2 * 2 * h * (w + h - 1) * 2 * lstm.units * 4 * lstm.units
        return conv_flops(lstm.input_to_state, h, w) + state + conv_flops(block.expand, h, w)
