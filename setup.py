"""tfgen: a TensorFlow/Keras model zoo of deep generative models."""

from pathlib import Path

from setuptools import find_packages, setup

# export/ and tools/ stay at the top of the checkout (the design card's layout)
# but install inside tfgen, so nothing called `export` lands in site-packages.
PACKAGE_DIR = {"tfgen.export": "export", "tfgen.tools": "tools"}
TOOLS = sorted(p.stem for p in Path(__file__).with_name("tools").glob("*.py") if not p.stem.startswith("_"))

setup(
    name="tfgen",
    version="0.1.0",
    description="Deep generative models in TensorFlow/Keras: train, sample, evaluate, export to TF Serving and TFLite",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tfgen", "tfgen.*"]) + list(PACKAGE_DIR),
    package_dir=PACKAGE_DIR,
    entry_points={
        "console_scripts": [f"tfgen-{name.replace('_', '-')}=tfgen.tools.{name}:run" for name in TOOLS],
    },
    install_requires=[
        # The full `tensorflow` wheel, not tensorflow-cpu: tensorflow-serving-api
        # depends on `tensorflow`, and both installed would overwrite each other.
        "tensorflow>=2.21,<2.22",
        "keras>=3.12,<4",
        "tensorflow-datasets>=4.9.9",
        # tensorflow-datasets 4.9.10 imports it at prepare time without declaring it.
        "importlib_resources",
        # TF 2.21 no longer pulls TensorBoard in; tf.summary needs it.
        "tensorboard",
        "numpy",
        "absl-py",
        "ai-edge-litert>=2.3",
        "tensorflow-serving-api>=2.21,<2.22",
        "scikit-learn",
        "Pillow",
        "matplotlib",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist", "ruff==0.17.5", "playwright"],
    },
)
