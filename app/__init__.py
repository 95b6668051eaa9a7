"""Long-Tail Lab dashboard: UI building blocks (the pages live in ../pages, one thin file each)."""
