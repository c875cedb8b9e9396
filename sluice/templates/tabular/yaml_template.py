"""The commented ``sluice.yaml`` that ``sluice init`` writes, as a Jinja2 template.

Kept in Python rather than a data file so it ships with the code and needs no
package-data entry. ``q`` quotes a scalar for YAML (a JSON string is valid YAML).
"""

TEMPLATE = r"""# sluice.yaml: the main job for {{ project_name }}.
# Written by `sluice init` from {{ data_label }}.
# Run it with `sluice run` (or `sluice run path/to/sluice.yaml`). Every key is explained
# below; unknown keys are refused, so a typo fails at once with a suggestion.

project:
  name: {{ project_name|q }}
  # What the model is for: it goes into the model card of every version.
  objective: {{ objective|q }}

data:
  # The file to learn from (CSV or Parquet); relative paths start at this file's folder.
  path: {{ data_path|q }}
  # Name of the dataset in the store; each distinct content becomes a new version of it.
  name: {{ dataset_name|q }}
  # The column to predict.
  target: {{ target|q }}
  # classification (labels) or regression (numbers); {{ task_note }}.
  task: {{ task }}
{% if time_column %}
  # Rows are ordered by this column: cross-validation and the holdout never train on the future.
  time_column: {{ time_column|q }}
{% else %}
  # Set a time column to get a time-ordered holdout and forward-chaining cross-validation.
  # time_column: null
{% endif %}
  # Columns no model may see.
{% if drops %}
  drop:
{% for col, why in drops %}
    - {{ col|q }}  # {{ why }}
{% endfor %}
{% else %}
  drop: []
{% endif %}
  # Learn from a random sample of at most this many rows (null: use them all).
  sample: null

split:
  # Share of rows held out for the final evaluation ({{ split_note }}).
  holdout: 0.2

selection:
  # Candidates are ranked by this metric, cross-validated on the training rows.
  # {{ task }} metrics: {{ metric_names|join(', ') }}.
  metric: {{ metric }}
  cv_folds: 5
  # Within this share of the best score, the simpler and faster candidate wins.
  tolerance: 0.01
  # Which candidates to try (null: all of them; the dummy baseline always runs).
  candidates: null
  # Tries per candidate of a random hyperparameter search (null: no search).
  search_budget: null

evaluation:
  # Metrics per value of each low-cardinality categorical column, weakest named.
  slices: true
  max_slice_categories: 12
  # Score against training-set size: would more data help?
  learning_curve: true

# A failed gate registers nothing, keeps the run and its report, and exits 1.
# Kinds: metric (min/max), beats_baseline (margin), no_regression (tolerance, against the
# champion on the same holdout), validation (max_errors), max_model_size (max_mb),
# max_latency (max_ms_per_row).
gates:
  - kind: beats_baseline
    metric: {{ metric }}
    margin: 0.05        # at least 5 % better than the dummy baseline
  - kind: no_regression
    metric: {{ metric }}
    tolerance: 0.02     # at most 2 % worse than the current champion
  - kind: validation
    max_errors: 0
  - kind: max_model_size
    max_mb: 200
  - kind: max_latency
    max_ms_per_row: 5

model:
  # The registered model: a passing run becomes its next version (alias challenger;
  # the first version is also the champion).
  name: {{ model_name|q }}

# Seed of every random choice (splits, samples, models), for reproducible runs.
seed: 0
"""
