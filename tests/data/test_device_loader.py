"""Device-resident batching: shapes, flips really flip, crops really shift, order is honoured."""
import torch

from ltcore.data import DeviceBatches
from ltcore.data.device_loader import random_crop, random_flip


def ramp_images(n=64, c=3, h=8, w=8):
    """Images whose pixel value encodes its column (and the image index), so shifts are visible."""
    cols = torch.arange(w, dtype=torch.float32).expand(n, c, h, w)
    return cols + 100 * torch.arange(n, dtype=torch.float32)[:, None, None, None]


def test_flip_reverses_columns_of_about_half_the_batch():
    x = ramp_images(200)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = (out == x.flip(3)).flatten(1).all(1)
    unchanged = (out == x).flatten(1).all(1)
    assert bool((flipped | unchanged).all())
    assert 60 < int(flipped.sum()) < 140


def test_crop_shifts_content_within_padding_and_fills_zeros():
    x = ramp_images(200) + 1  # no zero pixels in the input
    out = random_crop(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    shifts = set()
    for i in range(len(x)):
        row = out[i, 0, 4]
        inside = row[row > 0] - 100 * i - 1
        dx = int(inside[0]) - int(torch.nonzero(row > 0)[0])  # content column - output column
        shifts.add(dx)
        assert torch.equal(inside, torch.arange(int(inside[0]), int(inside[0]) + len(inside), dtype=inside.dtype))
    assert shifts == {-2, -1, 0, 1, 2}
    assert bool((out == 0).any())


def test_batches_follow_the_order_tensor_and_normalise_uint8():
    x = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 4, 4).contiguous()
    y = torch.arange(10)
    data = DeviceBatches(x, y, "cpu", mean=(0.0,), std=(1.0,))
    order = torch.tensor([9, 3, 5, 0, 1])
    batches = list(data.batches(order, 2, train=False))
    assert [b[1].tolist() for b in batches] == [[9, 3], [5, 0], [1]]
    assert batches[0][0].dtype == torch.float32
    assert torch.allclose(batches[0][0][:, 0, 0, 0], torch.tensor([9 / 255, 3 / 255]))


def test_augmented_training_batches_keep_shape_and_labels():
    x = (torch.rand(32, 3, 32, 32) * 255).to(torch.uint8)
    y = torch.arange(32) % 4
    data = DeviceBatches(x, y, "cpu", mean=(0.5,) * 3, std=(0.25,) * 3, augment="crop_flip", seed=1)
    xb, yb = next(data.batches(torch.arange(32), 16))
    assert xb.shape == (16, 3, 32, 32) and torch.equal(yb, y[:16])
    plain = data.prepare(x[:16], train=False)
    assert not torch.equal(xb, plain)
