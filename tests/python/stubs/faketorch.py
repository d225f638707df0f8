"""A stand-in for the few torch.Tensor methods the adapters call, over a numpy array.

torch cannot be installed here. Like torch, `.numpy()` shares memory with the tensor and
assignment through `t[i] = 0` writes into it; every method call is logged in `calls` so tests
can see what an adapter did to its input. Named faketorch, not torch, so it never hides a real
torch on the same path.
"""
import numpy as np

_DTYPES = {np.dtype(np.float32): "torch.float32", np.dtype(np.float16): "torch.float16",
           np.dtype(np.float64): "torch.float64", np.dtype(np.uint8): "torch.uint8"}


class FakeTensor:
    def __init__(self, array, device="cuda:0"):
        self._a = np.asarray(array)
        self.device = device
        self.calls = []

    @property
    def dtype(self):
        return _DTYPES[self._a.dtype]

    @property
    def shape(self):
        return self._a.shape

    @property
    def ndim(self):
        return self._a.ndim

    def dim(self):
        return self._a.ndim

    def detach(self):
        self.calls.append("detach")
        return FakeTensor(self._a, self.device)

    def cpu(self):
        self.calls.append("cpu")
        # torch copies across devices and shares memory when already on the CPU.
        return FakeTensor(self._a.copy() if self.device != "cpu" else self._a, "cpu")

    def float(self):
        self.calls.append("float")
        return FakeTensor(self._a.astype(np.float32), self.device)

    def to(self, *args, **kwargs):
        self.calls.append("to")
        return self

    def clone(self):
        self.calls.append("clone")
        return FakeTensor(self._a.copy(), self.device)

    def numpy(self):
        if self.device != "cpu":
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() first")
        return self._a

    def __getitem__(self, i):
        return FakeTensor(self._a[i], self.device)

    def __setitem__(self, i, value):
        self.calls.append("setitem")
        self._a[i] = value._a if isinstance(value, FakeTensor) else value

    def __len__(self):
        return len(self._a)


def is_tensor(x):
    return isinstance(x, FakeTensor)
