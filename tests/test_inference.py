"""Decision regions come from the run's own model and method on a grid over the test data."""
from ltcore import Config, train
from ltcore.inference import decision_grid


def test_decision_grid_agrees_with_the_models_test_predictions():
    cfg = Config(dataset="gaussians", ratio=10, epochs=5, lr=0.05)
    result = train(cfg)
    grid = decision_grid(cfg, result.model.state_dict(), steps=40)
    assert len(grid["xs"]) == 40 and len(grid["pred"]) == 40 and len(grid["pred"][0]) == 40
    classes = {c for row in grid["pred"] for c in row}
    assert len(classes) >= 3  # a trained 5-class model carves the plane into several regions
    assert min(grid["xs"]) < min(p[0] for p in grid["points"])
