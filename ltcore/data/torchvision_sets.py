"""torchvision data sets (MNIST, Fashion-MNIST, CIFAR-10/100, SVHN) as DataSplits."""
