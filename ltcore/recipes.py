"""Named training recipes: groups of Config values that reproduce a paper's schedule exactly."""
from __future__ import annotations

from .registry import Registry

RECIPES = Registry("recipe")

RECIPES.add("quick", {}, "the defaults: cosine schedule, lr 0.1, batch 128 (small data, seconds on a CPU)")
RECIPES.add(
    "ldam", {"model": "resnet32", "epochs": 200, "batch_size": 128, "lr": 0.1, "momentum": 0.9,
             "weight_decay": 2e-4, "warmup_epochs": 5, "schedule": "multistep",
             "milestones": (160, 180), "lr_gamma": 0.01},
    "CIFAR-LT standard (Cao et al. 2019 cifar_train.py): ResNet-32, 200 ep, SGD 0.1, wd 2e-4, "
    "5 warm-up, ×0.01 at 160 and 180")
RECIPES.add(
    "etf_dr", {"model": "resnet32", "epochs": 200, "batch_size": 128, "lr": 0.1, "momentum": 0.9,
               "weight_decay": 2e-4, "warmup_epochs": 5, "schedule": "multistep",
               "milestones": (160, 180), "lr_gamma": 0.1},
    "Yang et al. NeurIPS'22 CIFAR configs (NeuralCollapseApplications/ImbalancedLearning "
    "config/cifar10/*_ETF_DR.yaml, train.py adjust_learning_rate): ResNet-32, 200 ep, SGD 0.1, wd 2e-4, "
    "5 warm-up, ×0.1 at 160 and ×0.01 at 180; the etf_dr preset adds their mixup (α = 1)")
RECIPES.add(
    "resnet1d_ldam", {"model": "resnet1d", "epochs": 60, "batch_size": 128, "lr": 0.1, "momentum": 0.9,
                      "weight_decay": 2e-4, "warmup_epochs": 5, "schedule": "multistep",
                      "milestones": (48, 54), "lr_gamma": 0.01, "augment": "crop"},
    "the MNIST-1D-LT benchmark regime (benchmarks/mnist1d_regime.py): 1-D ResNet-14 with BatchNorm, the "
    "LDAM-DRW schedule scaled to 60 epochs (5 warm-up, ×0.01 at 80 % and 90 %), SGD 0.1, wd 2e-4, batch 128, "
    "random shift ±3")
