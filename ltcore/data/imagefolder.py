"""The user's own folder of class sub-folders (torchvision ImageFolder rules)."""
