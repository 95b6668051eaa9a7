"""Where a preset knowingly differs from its authors' published code, and why: the one list that
the Fidelity table (`benchmarks/fidelity_table.py`) prints beside the measured comparisons. Each
entry is also said in the docstring of the code it concerns."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    preset: str
    source: str
    differs: str
    why: str


DIFFERENCES = (
    Difference("bcl", "FlamieZhu/Balanced-Contrastive-Learning main.py L151-186",
               "view 0 is the run's crop/flip batch without the authors' RandAugment (n 2, m 10); the two "
               "contrastive views (crop 0.08-1, ColorJitter 0.4/0.4/0.4/0.1 p 0.8, grey p 0.2) are made on top "
               "of the run's crop/flip, the jitter steps in a fixed order",
               "views are batched tensor ops on the device; RandAugment's PIL operations are not"),
    Difference("kcl", "bingykang/BalFeat README, main_lincls.py",
               "the classifier is re-trained by cRT (class-aware sampling) instead of their linear probe "
               "(lr 30, no weight decay, 100 epochs, instance-balanced)",
               "the lab's two-stage presets share one second stage; cRT is the decoupling authors' re-balancing"),
    Difference("kcl", "bingykang/BalFeat moco/kcl_builder.py L80-124",
               "keys are encoded as one batch, not shuffled across GPUs",
               "one device: there is nothing to shuffle across"),
    Difference("paco", "dvlab-research/Parametric-Contrastive-Learning PaCo/LT/paco_cifar.py L312-332",
               "the query lacks AutoAugment (CIFAR10Policy) and Cutout 16; the key view lacks Gaussian blur; "
               "their 400-epoch schedule is the run's choice",
               "no PIL policies on the device; blur is of little use at 32×32; epochs belong to the run"),
    Difference("sade", "Vanint/SADE-AgnosticLT test_training_cifar.py",
               "the preset is the averaged experts (no test-time aggregation) unless stage2=test_time_aggregation; "
               "the test-time views leave out Gaussian blur (p 0.2)",
               "test-time aggregation reads the unlabelled test inputs, which a run does only when asked"),
    Difference("etf_dr", "NeuralCollapseApplications/ImbalancedLearning models/resnet_cifar.py",
               "when the feature size d < K a learned d→K projection comes before the ETF; the authors widen "
               "ResNet-32 to 128-d features for CIFAR-100",
               "every preset of a comparison keeps the run's backbone"),
)
