"""The training engine: `trainer` (Trainer: data, model, method, epochs, evaluation, result),
`loop` (the inner loop every stage shares: batches, LR schedule, optimiser step, divergence), `checkpoints`
(stage-1 and user weights on disk), `compiling` (torch.compile) and `cuda_graph` (CUDA-graph steps).

Nothing is imported here: the methods import `loop` and `checkpoints` while `trainer` imports the
methods, so the package's parts are imported by their own names (`from ltcore.engine.trainer import
Trainer`; `ltcore.Trainer` and `ltcore.train` hand the trainer on)."""
