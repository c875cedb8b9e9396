"""The main job: from a table and a ``sluice.yaml`` to a gated, registered model.

Modules: ``config`` (the yaml's model and loader), ``checks`` (what is checked
before anything is written), ``scaffold`` (``sluice init``), ``prepare``
(cleaning and splitting), ``modelling`` (the bridge to models, gates and the
registry), ``steps`` and ``pipeline`` (the cached DAG and ``run_job``),
``summary`` (what ``--json``, the story and the report show) and ``demo``.
Nothing is imported here, so the CLI starts without pandas or scikit-learn.
"""
