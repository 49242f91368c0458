"""tfgen's command-line tools, installed as the package `tfgen.tools` and as `tfgen-*` console scripts.

Each module is a thin absl (or argparse) CLI over one library function; run it
as `python tools/<name>.py` from a checkout or as `tfgen-<name>` once installed.
"""
