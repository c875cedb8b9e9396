"""The prediction log: every prediction and every feedback label, as Parquet segments."""
