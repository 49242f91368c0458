"""Sample-quality scores: the per-dataset feature network (`features`) and FID, KID, precision/recall and
Parzen windows on its features (`sample_quality`).

Below training and evaluation: the trainer's sample-quality monitor scores samples during a run with
them, and `tfgen.evaluation` scores a finished run's.
"""
