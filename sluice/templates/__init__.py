"""Built-in pipelines. ``tabular`` is the main job configured by ``sluice.yaml``."""
