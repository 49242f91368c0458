"""Export layer: SavedModels for TF Serving and TFLite models for devices.

Modules that run on a device (`litert_runtime`, `metadata`, `noise`) import
neither TensorFlow nor anything that does.
"""
