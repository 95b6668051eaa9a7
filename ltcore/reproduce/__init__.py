"""Paper tables in one command: `python -m ltcore reproduce cifar10-lt|cifar100-lt|mnist1d-lt`.

A table is a data set × imbalance ratios × method presets under one recipe (CIFAR: ResNet-32 and
the LDAM-DRW schedule of Cao et al. NeurIPS'19, 200 epochs). Every (ratio, method, seed) is one
run of the run store: runs already finished there are reused, the rest are trained (several at
once, see runs.jobs.runs_per_gpu), so an interrupted table resumes where it stopped. The report
puts our mean ± std over seeds beside the published top-1 accuracy (published.csv: one value per
cell with its source) and their difference.

`mnist1d-lt` is the whole-preset table: every registered preset a table can train by itself (all
but those that need a user's file, e.g. `transfer`; presets registered later join by themselves),
`kd`/`bkd` distilling from the table's own `ce` run of the same ratio and seed (trained first). It
reports balanced and many/medium/few accuracy (mean ± std over seeds) beside the published
CIFAR-10-LT value of each preset at the same ratio, for the ordering only (another data set).

The package, one job a module: `tables` (the table specs, published values, a table's configs),
`report` (rows, Markdown, CSV), `runners` (local job queue, Ray); the `reproduce` command is
`ltcore.cli.reproduce`.
None of it changes a run's numbers (a table's configs are in its run ids), so the code version
ignores it (version.IGNORED).
"""
from .report import (CSV_FIELDS, format_markdown, format_preset_table, read_table, saved_tables, spearman,
                     summarise, write_outputs)
from .runners import (RUN_COST, queue_order, run_local, run_ray, stored_outcomes, teacher_of,
                      threads_per_worker, warm_unlabelled)
from .tables import (CIFAR_METHODS, PUBLISHED_FILE, REFERENCE_LABEL, TABLES, TEACHER_METHOD, TEACHER_PARAM,
                     Published, TableSpec, inapplicable, load_published, needs_teacher, table_configs,
                     table_methods, trainable_presets)

__all__ = ["CIFAR_METHODS", "CSV_FIELDS", "PUBLISHED_FILE", "REFERENCE_LABEL", "RUN_COST", "TABLES",
           "TEACHER_METHOD", "TEACHER_PARAM", "Published", "TableSpec", "format_markdown",
           "format_preset_table", "inapplicable", "load_published", "needs_teacher", "queue_order",
           "read_table", "run_local", "run_ray", "saved_tables", "spearman", "stored_outcomes", "summarise",
           "table_configs", "table_methods", "teacher_of", "threads_per_worker", "trainable_presets",
           "warm_unlabelled", "write_outputs"]
